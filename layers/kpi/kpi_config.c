/* kpi_config.c: the KPI configuration: defaults (with their sources) and the JSON reader. */
#include <math.h>
#include <string.h>

#include <jansson.h>

#include "kpi.h"

const char *const msh_kpi_weight_names[MSH_KPI_NW] = {"crowd",       "coverage", "response", "gates",
                                                      "environment", "assets",   "cleaning"};

void msh_kpi_config_default(msh_kpi_config *c)
{
    memset(c, 0, sizeof *c);
    c->window_h = 24;          /* one Hajj day */
    c->interval_s = 60;        /* a record a minute */
    c->max_gap_s = 0;          /* 3 x interval_s */
    /* walking distances along the network: operating choices, not norms (docs/KPIS.md gives the
     * reference points: Sphere 2018 puts a water point within 500 m of every household and a
     * toilet within 50 m of a dwelling; UN SDG 11.2.1 uses 500 m for a frequent service) */
    c->toilet_m = 300;
    c->water_m = 300;
    c->clinic_m = 500;
    c->snap_m = 150;
    c->heat_c = 40;
    c->cleaning_h = 6;         /* twice in a twelve-hour shift */
    c->cleaning_buffer_m = 15; /* a crew sweeps the width of a walkway around it */
    c->response_target_s = 480; /* 8 minutes: an operating target for reaching the scene */
    c->k_anon = 5;             /* the server passes its --k-anon */
    c->history_days = 60;      /* a season; about 58 MB a day at the default interval */
    for (int i = 0; i < MSH_KPI_NW; i++)
        c->weight[i] = 1;
    c->weight[MSH_KPI_W_CROWD] = 3; /* crowd safety first */
    c->weight[MSH_KPI_W_RESPONSE] = 2;
}

static msh_rc number(json_t *v, const char *key, double lo, double hi, double *out, msh_err *err)
{
    if (!json_is_number(v))
        return msh_err_set(err, MSH_EINVAL, "kpi config: '%s' must be a number", key);
    double d = json_number_value(v);
    if (!(d >= lo && d <= hi))
        return msh_err_set(err, MSH_EINVAL, "kpi config: '%s' must be from %g to %g, not %g", key, lo, hi, d);
    *out = d;
    return MSH_OK;
}

typedef struct {
    const char *key;
    size_t off;
    double lo, hi;
} num_key;

#define K(name, lo, hi) {#name, offsetof(msh_kpi_config, name), lo, hi}
static const num_key KEYS[] = {
    K(window_h, 0.1, 24 * 31),   K(max_gap_s, 0, 86400),       K(toilet_m, 1, 20000),
    K(water_m, 1, 20000),        K(clinic_m, 1, 20000),        K(snap_m, 0, 5000),
    K(heat_c, -50, 80),          K(cleaning_h, 0.01, 24 * 31), K(cleaning_buffer_m, 0.1, 1000),
    K(response_target_s, 1, 86400), K(history_days, 0, 36500),
};
#undef K

static msh_rc weights(json_t *w, msh_kpi_config *c, msh_err *err)
{
    if (!json_is_object(w))
        return msh_err_set(err, MSH_EINVAL, "kpi config: 'weights' must be an object of numbers");
    const char *key;
    json_t *v;
    json_object_foreach(w, key, v) {
        int i = 0;
        while (i < MSH_KPI_NW && strcmp(key, msh_kpi_weight_names[i]))
            i++;
        if (i == MSH_KPI_NW)
            return msh_err_set(err, MSH_EINVAL,
                               "kpi config: unknown weight '%.64s' (crowd, coverage, response, gates, environment, "
                               "assets, cleaning)", key);
        msh_rc rc = number(v, key, 0, 1000, &c->weight[i], err);
        if (rc)
            return rc;
    }
    double sum = 0;
    for (int i = 0; i < MSH_KPI_NW; i++)
        sum += c->weight[i];
    if (!(sum > 0))
        return msh_err_set(err, MSH_EINVAL, "kpi config: the weights must not all be 0");
    return MSH_OK;
}

msh_rc msh_kpi_config_parse(const char *text, size_t len, msh_kpi_config *c, msh_err *err)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return msh_err_set(err, MSH_EINVAL, "kpi config: not JSON (line %d: %.200s)", je.line, je.text);
    msh_kpi_config next = *c;
    msh_rc rc = MSH_OK;
    if (!json_is_object(root)) {
        rc = msh_err_set(err, MSH_EINVAL, "kpi config: the document must be a JSON object");
        goto out;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (key[0] == '_') /* "_comment" and the like */
            continue;
        if (!strcmp(key, "weights")) {
            if ((rc = weights(v, &next, err)))
                goto out;
            continue;
        }
        if (!strcmp(key, "interval_s")) {
            double d;
            if ((rc = number(v, key, 1, 86400, &d, err)))
                goto out;
            if (d != floor(d)) {
                rc = msh_err_set(err, MSH_EINVAL, "kpi config: 'interval_s' must be a whole number of seconds");
                goto out;
            }
            next.interval_s = (int)d;
            continue;
        }
        size_t i = 0;
        while (i < sizeof KEYS / sizeof KEYS[0] && strcmp(key, KEYS[i].key))
            i++;
        if (i == sizeof KEYS / sizeof KEYS[0]) {
            rc = msh_err_set(err, MSH_EINVAL, "kpi config: unknown key '%.64s' (see docs/KPIS.md)", key);
            goto out;
        }
        if ((rc = number(v, key, KEYS[i].lo, KEYS[i].hi, (double *)((char *)&next + KEYS[i].off), err)))
            goto out;
    }
    *c = next;
out:
    json_decref(root);
    return rc;
}
