/* alerts.h: the crowd-alert rules, apart from the stream that carries them (server/routes/events.c).
 *
 * Density: every occupied cell of level MSH_ALERT_LEVEL (2^21 cells around the world: 17.8 m at
 * Makkah, 316 m2, a street crossing or a camp gate) is looked at in one pass. Three alerts each
 * go up when the cell passes its threshold and come down only below MSH_ALERT_CLEAR_RATIO of it
 * (core/msh_constants.h), so a crowd hovering at a line does not flap:
 *   - level of service: density past Fruin's D/E boundary,
 *   - density: past the configured persons/m2 (default: Still's critical density),
 *   - pressure: density x velocity variance past the configured level (default: Helbing's alarm).
 * A cell that empties clears what it had raised.
 * Gates: over capacity when the hourly flow passes the gate's capacity; back under below 90%.
 * Zones: over capacity when the people counted in a service zone pass its population capacity;
 * back under below 90% (the KPI recording tick looks, once per `interval_s`).
 * Sensors: the level of heat index, WBGT, PM2.5 and noise each reading reaches (envlevels.h).
 *
 * No clock: a pass is a step, and the caller decides when one runs (the server's reload thread,
 * once a second); tests step it by hand. Thread-safe: one mutex inside.
 */
#ifndef MSH_ALERTS_H
#define MSH_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "live/envlevels.h"
#include "live/live.h"

#define MSH_ALERT_LEVEL 21

enum { MSH_ALERT_LOS = 1, MSH_ALERT_DENSITY = 2, MSH_ALERT_PRESSURE = 4 };

typedef struct msh_alerts msh_alerts;

/** Thresholds of the density pass. */
typedef struct msh_alert_limits {
    double density;  /* persons/m2 */
    double pressure; /* 1/s2 */
} msh_alert_limits;

/** A cell whose alerts changed: `before` and `after` are sets of MSH_ALERT_*. */
typedef struct msh_density_change {
    msh_live_cell cell;  /* count, and the rest, are zero for a cell that emptied */
    double lon, lat;     /* the cell's centre */
    double density;      /* persons/m2 */
    double pressure;
    uint8_t before, after;
} msh_density_change;

typedef void (*msh_density_fn)(void *ud, const msh_density_change *c);

msh_alerts *msh_alerts_new(void);
void msh_alerts_free(msh_alerts *a);

/**
 * One pass over the live cells: `fn` is called for each cell whose set of alerts changed (under
 * the live read lock, which this takes, and the alerts' mutex). Cells seen in the previous pass
 * and empty now are cleared through `fn` too.
 */
void msh_alerts_scan_density(msh_alerts *a, msh_live *live, const msh_alert_limits *lim, msh_density_fn fn,
                             void *ud);

/**
 * A gate's new utilisation (hourly flow / capacity): +1 when it went over capacity (past 1.0),
 * -1 when it came back under (below 0.9), 0 when nothing changed.
 */
int msh_alerts_gate(msh_alerts *a, const char *id, size_t n, double utilisation);

/** A service zone's occupancy (people / population capacity), with the gates' rule: +1 over 1.0,
 * -1 back below 0.9, 0 when nothing changed. */
int msh_alerts_zone(msh_alerts *a, const char *id, size_t n, double occupancy);

/**
 * A sensor's new reading of `kind` (envlevels.h): returns its level now, with the hysteresis of
 * envlevels.h against the level it had, and sets *prev to that level (0 for a sensor not seen).
 */
int msh_alerts_env(msh_alerts *a, msh_env_kind kind, const char *id, size_t n, double value, int *prev);

/** Alerts held now (cells with any alert raised, gates over capacity, sensors above level 0). */
size_t msh_alerts_active(msh_alerts *a);

#endif
