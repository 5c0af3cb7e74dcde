/* baseline.c: the two forecasts the model is measured against (ctm.h): persistence, where every
 * horizon is the observed state, and straight-line advection, where each cell's people travel at
 * its mean velocity for the horizon's minutes, through walls if that is where the line goes.
 * Both are the evaluation's yardsticks (bench/forecast.py); neither is meant to be good. */
#include "forecast/ctm.h"

#include <math.h>
#include <string.h>

static msh_rc observed(const msh_fc_input *in, msh_fc_grid *out)
{
    msh_fc_acc acc;
    msh_fc_acc_init(&acc);
    msh_rc rc = MSH_OK;
    for (size_t i = 0; i < in->ncells && !rc; i++)
        if (in->cells[i].count > 0)
            rc = msh_fc_acc_add(&acc, in->cells[i].cx, in->cells[i].cy, in->cells[i].count);
    if (!rc)
        rc = msh_fc_acc_finish(&acc, 0, out);
    msh_fc_acc_free(&acc);
    return rc;
}

static void free_all(msh_fc_grid out[MSH_FC_NH])
{
    for (int i = 0; i < MSH_FC_NH; i++)
        msh_fc_grid_free(&out[i]);
}

msh_rc msh_fc_persistence(const msh_fc_input *in, msh_fc_grid out[MSH_FC_NH], msh_err *err)
{
    memset(out, 0, MSH_FC_NH * sizeof *out);
    msh_rc rc = MSH_OK;
    for (int i = 0; i < MSH_FC_NH && !rc; i++)
        rc = observed(in, &out[i]);
    if (rc) {
        free_all(out);
        return msh_err_set(err, rc, "persistence forecast: %s", msh_rc_str(rc));
    }
    return MSH_OK;
}

msh_rc msh_fc_advection(const msh_fc_input *in, const msh_fc_params *p, msh_fc_grid out[MSH_FC_NH], msh_err *err)
{
    memset(out, 0, MSH_FC_NH * sizeof *out);
    msh_rc rc = observed(in, &out[0]);
    for (int h = 1; h < MSH_FC_NH && !rc; h++) {
        msh_fc_acc acc;
        msh_fc_acc_init(&acc);
        double secs = msh_fc_minutes[h] * 60.0;
        for (size_t i = 0; i < in->ncells && !rc; i++) {
            const msh_fc_cell *c = &in->cells[i];
            if (!(c->count > 0))
                continue;
            double lon, lat, vx = c->vx, vy = c->vy, v = hypot(vx, vy);
            if (v > p->max_speed)
                vx *= p->max_speed / v, vy *= p->max_speed / v;
            msh_fc_cell_centre(c->cx, c->cy, &lon, &lat);
            lon += vx * secs / (111320.0 * cos(lat * M_PI / 180));
            lat += vy * secs / 110574.0;
            uint32_t cx, cy;
            msh_fc_cell_at(lon, lat, &cx, &cy);
            rc = msh_fc_acc_add(&acc, cx, cy, c->count);
        }
        if (!rc)
            rc = msh_fc_acc_finish(&acc, 0, &out[h]);
        msh_fc_acc_free(&acc);
    }
    if (rc) {
        free_all(out);
        return msh_err_set(err, rc, "advection forecast: %s", msh_rc_str(rc));
    }
    return MSH_OK;
}
