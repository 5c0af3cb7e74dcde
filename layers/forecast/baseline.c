/* baseline.c: the two forecasts the model is measured against (ctm.h): persistence, where every
 * horizon is the observed state, and straight-line advection, where each cell's people travel at
 * its mean velocity for the horizon's minutes, through walls if that is where the line goes.
 * Both are the evaluation's yardsticks (bench/forecast.py); neither is meant to be good. */
#include "forecast/ctm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

msh_rc msh_fc_observed(const msh_fc_input *in, msh_fc_grid *out, msh_err *err)
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
    return rc ? msh_err_set(err, rc, "forecast: the observed cells: %s", msh_rc_str(rc)) : MSH_OK;
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
        rc = msh_fc_observed(in, &out[i], err);
    if (rc)
        free_all(out);
    return rc;
}

msh_rc msh_fc_advection(const msh_fc_input *in, const msh_fc_params *p, msh_fc_grid out[MSH_FC_NH], msh_err *err)
{
    memset(out, 0, MSH_FC_NH * sizeof *out);
    msh_rc rc = msh_fc_observed(in, &out[0], err);
    double *sides = rc ? NULL : malloc((in->ncells + 1) * sizeof *sides);
    if (!rc && !sides)
        rc = MSH_ENOMEM;
    for (size_t i = 0; sides && i < in->ncells; i++)
        sides[i] = i && in->cells[i].cy == in->cells[i - 1].cy ? sides[i - 1] : msh_fc_cell_side_m(in->cells[i].cy);
    for (int h = 1; h < MSH_FC_NH && !rc; h++) {
        msh_fc_acc acc;
        msh_fc_acc_init(&acc);
        double secs = msh_fc_minutes[h] * 60.0;
        for (size_t i = 0; i < in->ncells && !rc; i++) {
            const msh_fc_cell *c = &in->cells[i];
            if (!(c->count > 0))
                continue;
            double vx = c->vx, vy = c->vy, v = hypot(vx, vy);
            if (v > p->max_speed)
                vx *= p->max_speed / v, vy *= p->max_speed / v;
            /* Web Mercator keeps shapes: near a cell, a metre is 1 / side cells east and south alike */
            double side = sides[i], x = c->cx + 0.5 + vx * secs / side, y = c->cy + 0.5 - vy * secs / side;
            if (!(x >= 0 && y >= 0 && x < 4194304.0 && y < 4194304.0))
                continue; /* off the world */
            rc = msh_fc_acc_add(&acc, (uint32_t)x, (uint32_t)y, c->count);
        }
        if (!rc)
            rc = msh_fc_acc_finish(&acc, 0, &out[h]);
        msh_fc_acc_free(&acc);
    }
    free(sides);
    if (rc) {
        free_all(out);
        return msh_err_set(err, rc, "advection forecast: %s", msh_rc_str(rc));
    }
    return MSH_OK;
}
