/* fc_alerts.h: the forecast warnings: "level E or F expected here in N minutes".
 *
 * The rule: warnings are placed on cells of MSH_FC_ALERT_LEVEL (level 21, 17.8 m at Makkah, the
 * cells the live density alerts use), each read as its fullest forecast base cell (8.9 m): a
 * narrow street jammed from wall to wall fills a base cell, never a whole 17.8 m cell. A cell's
 * warning is the worst level of service (E or F) that density reaches at any horizon from 5 to
 * 30 minutes, and `minutes` the
 * first horizon at which it reaches that level. A warning is raised when the level first reaches
 * E, updated when its level or its minutes change, and cleared only when the predicted density
 * stays below MSH_ALERT_CLEAR_RATIO of the E line at every horizon (the live alerts' hysteresis:
 * a forecast hovering at the line does not flap). A cell that leaves the forecast clears too.
 *
 * The standing warnings can be listed (msh_fc_alerts_list): each with the time it was raised and
 * last changed (the issue times of those refreshes, given by the caller), and, as of the latest
 * refresh, the predicted density of its fullest base cell at its horizon and the chance of its
 * level there (p_e or p_f of that cell, grid.h). A warning held up by the hysteresis alone keeps
 * the level and minutes it was last raised or updated with: the list says what the events said.
 *
 * No clock and no I/O: a step is one forecast refresh; the caller publishes the changes.
 * Not thread-safe: one refresh thread owns it.
 */
#ifndef MSH_FC_ALERTS_H
#define MSH_FC_ALERTS_H

#include "forecast/ctm.h"

#define MSH_FC_ALERT_LEVEL 21

typedef struct msh_fc_alerts msh_fc_alerts;

typedef struct msh_fc_alert_change {
    uint32_t cx, cy;       /* at MSH_FC_ALERT_LEVEL */
    double lon, lat;       /* its centre */
    char before, after;    /* 0 (none), 'E' or 'F' */
    int minutes;           /* first horizon at the level `after` (0 when cleared) */
    double density;        /* persons/m2 of the fullest base cell at that horizon (cleared: the highest predicted) */
} msh_fc_alert_change;

/** A standing warning (msh_fc_alerts_list). */
typedef struct msh_fc_warning {
    uint32_t cx, cy;            /* at MSH_FC_ALERT_LEVEL */
    double lon, lat;            /* its centre */
    char level;                 /* 'E' or 'F' */
    int minutes;                /* the first horizon at that level, when raised or last updated */
    double density;             /* latest refresh: persons/m2 of the fullest base cell at `minutes` */
    double probability;         /* latest refresh: that cell's chance of `level` at `minutes` */
    int64_t raised_ms, updated_ms; /* issue times of the refreshes that raised it and last changed it */
} msh_fc_warning;

typedef void (*msh_fc_alert_fn)(void *ud, const msh_fc_alert_change *c);

msh_fc_alerts *msh_fc_alerts_new(void);
void msh_fc_alerts_free(msh_fc_alerts *a);
/** One refresh issued at `issued_ms`: `grids` are a model's horizons (grids[0], the observed state, is
 * not looked at). `fn` may be NULL. */
msh_rc msh_fc_alerts_step(msh_fc_alerts *a, const msh_fc_grid grids[MSH_FC_NH], int64_t issued_ms, msh_fc_alert_fn fn,
                          void *ud);
/** Warnings standing now. */
size_t msh_fc_alerts_active(const msh_fc_alerts *a);
/** The standing warnings, a new array (free() it; NULL when none), F before E, then the soonest first,
 * then by row and column. */
msh_rc msh_fc_alerts_list(const msh_fc_alerts *a, msh_fc_warning **out, size_t *n);

#endif
