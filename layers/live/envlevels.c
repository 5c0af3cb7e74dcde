/* envlevels.c: heat index, WBGT estimate and the levels of heat, air and noise (envlevels.h). */
#include "envlevels.h"

#include <math.h>

double msh_heat_index_c(double t_c, double rh)
{
    double t = t_c * 9.0 / 5.0 + 32.0, h = rh * 100.0;
    double hi = 0.5 * (t + 61.0 + (t - 68.0) * 1.2 + h * 0.094);
    if ((hi + t) / 2.0 < 80.0) {
        hi = (hi + t) / 2.0;
    } else {
        hi = -42.379 + 2.04901523 * t + 10.14333127 * h - 0.22475541 * t * h - 0.00683783 * t * t -
             0.05481717 * h * h + 0.00122874 * t * t * h + 0.00085282 * t * h * h - 0.00000199 * t * t * h * h;
        if (h < 13.0 && t >= 80.0 && t <= 112.0)
            hi -= (13.0 - h) / 4.0 * sqrt((17.0 - fabs(t - 95.0)) / 17.0);
        else if (h > 85.0 && t >= 80.0 && t <= 87.0)
            hi += (h - 85.0) / 10.0 * ((87.0 - t) / 5.0);
    }
    return (hi - 32.0) * 5.0 / 9.0;
}

double msh_wbgt_estimate_c(double t_c, double rh)
{
    double e = rh * 6.105 * exp(17.27 * t_c / (237.7 + t_c)); /* water-vapour pressure, hPa */
    return 0.567 * t_c + 0.393 * e + 3.94;
}

/* Thresholds of levels 1..n, and the margin a value must fall below one to leave it. */
typedef struct {
    const char *kind;
    int n;
    double at[5];
    double margin;    /* absolute; or a share of the threshold when `relative` */
    int relative;
    const char *names[6];
} scale_t;

static const scale_t SCALES[MSH_ENV_KINDS] = {
    [MSH_ENV_HEAT] = {"heat", 4, {26.7, 32.2, 39.4, 51.7}, 1.0, 0,
                      {"none", "caution", "extreme_caution", "danger", "extreme_danger"}},
    [MSH_ENV_WBGT] = {"wbgt", 4, {27.8, 29.4, 31.1, 32.2}, 1.0, 0, {"none", "green", "yellow", "red", "black"}},
    [MSH_ENV_PM25] = {"pm25", 5, {15.0, 25.0, 37.5, 50.0, 75.0}, 0.1, 1,
                      {"guideline", "it4", "it3", "it2", "it1", "above_it1"}},
    [MSH_ENV_NOISE] = {"noise", 2, {70.0, 85.0}, 2.0, 0, {"quiet", "loud", "harmful"}},
};

int msh_env_levels(msh_env_kind kind)
{
    return (unsigned)kind < MSH_ENV_KINDS ? SCALES[kind].n : 0;
}

int msh_env_level(msh_env_kind kind, double value, int prev)
{
    if ((unsigned)kind >= MSH_ENV_KINDS || !isfinite(value))
        return prev > 0 ? prev : 0;
    const scale_t *s = &SCALES[kind];
    int up = 0;
    while (up < s->n && value >= s->at[up])
        up++;
    if (prev <= up)
        return up;
    /* going down: stay at each level until the value is a margin below its threshold */
    int lvl = prev > s->n ? s->n : prev;
    while (lvl > up) {
        double t = s->at[lvl - 1];
        if (value > t - (s->relative ? t * s->margin : s->margin))
            break;
        lvl--;
    }
    return lvl;
}

const char *msh_env_level_name(msh_env_kind kind, int level)
{
    if ((unsigned)kind >= MSH_ENV_KINDS || level < 0 || level > SCALES[kind].n)
        return "unknown";
    return SCALES[kind].names[level];
}

const char *msh_env_kind_name(msh_env_kind kind)
{
    return (unsigned)kind < MSH_ENV_KINDS ? SCALES[kind].kind : "unknown";
}
