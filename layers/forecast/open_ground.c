/* open_ground.c: people walking where no walkway is mapped (open_ground.h). */
#include "forecast/open_ground.h"

#include <math.h>
#include <stdlib.h>

#include "core/msh_grow.h"

void msh_fc_open_init(msh_fc_open *o, double dt_s)
{
    o->w = NULL;
    o->n = o->cap = 0;
    o->dt_s = dt_s;
}

void msh_fc_open_free(msh_fc_open *o)
{
    free(o->w);
    msh_fc_open_init(o, o->dt_s);
}

msh_rc msh_fc_open_add(msh_fc_open *o, uint32_t cx, uint32_t cy, float vx, float vy, float n, double max_speed)
{
    double sp = hypot(vx, vy);
    if (!(n > 0) || !(sp > 0))
        return MSH_OK;
    msh_rc rc = msh_grow((void **)&o->w, &o->cap, o->n + 1, sizeof *o->w);
    if (rc)
        return rc;
    double lon, lat, f = fmin(1.0, max_speed / sp);
    msh_fc_cell_centre(cx, cy, &lon, &lat);
    double kx = 111320.0 * cos(lat * M_PI / 180), ky = 110574.0; /* metres per degree */
    o->w[o->n++] = (msh_fc_walker){lon, lat, vx * f * o->dt_s / kx, vy * f * o->dt_s / ky,
                                   (float)(vx * f), (float)(vy * f), n, cx, cy};
    return MSH_OK;
}

void msh_fc_open_step(msh_fc_open *o, msh_fc_join_fn join, void *ctx)
{
    size_t k = 0;
    for (size_t i = 0; i < o->n; i++) {
        msh_fc_walker w = o->w[i];
        w.lon += w.dlon, w.lat += w.dlat;
        uint32_t cx, cy;
        msh_fc_cell_at(w.lon, w.lat, &cx, &cy);
        if (cx != w.cx || cy != w.cy) {
            w.cx = cx, w.cy = cy;
            if (join(ctx, cx, cy, w.vx, w.vy, w.n))
                continue;
        }
        o->w[k++] = w;
    }
    o->n = k;
}

msh_rc msh_fc_open_draw(const msh_fc_open *o, msh_fc_acc *acc)
{
    msh_rc rc = MSH_OK;
    for (size_t i = 0; i < o->n && !rc; i++)
        rc = msh_fc_acc_add(acc, o->w[i].cx, o->w[i].cy, o->w[i].n);
    return rc;
}

double msh_fc_open_people(const msh_fc_open *o)
{
    double t = 0;
    for (size_t i = 0; i < o->n; i++)
        t += o->w[i].n;
    return t;
}
