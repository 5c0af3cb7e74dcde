/* serve.h: the parts of `mashaer serve` (server/cmd_serve.c runs them in order):
 *   serve_args.c    options, defaults and --help into msh_config;
 *   serve_live.c    the live feeds: state, write-ahead log, observers, geofences, snapshots;
 *   serve_reload.c  the background thread: new data in the store, tokens, live expiry, KPIs.
 * The request handlers never call these; they see the result through msh_app (app.h).
 */
#ifndef MSH_SERVE_H
#define MSH_SERVE_H

#include "live/feeds.h"
#include "serve/app.h"

/** Seconds on the monotonic clock. */
double msh_serve_now_s(void);

/**
 * Fill `cfg` with the defaults and the command line (`live_dir_buf`, `cap` bytes, holds the default
 * write-ahead log folder). Returns -1 to go on, or the exit code (0 after --help, 2 on a usage error).
 */
int msh_serve_args(int argc, char **argv, msh_config *cfg, char *live_dir_buf, size_t cap);

/** A node of a cluster (serve_cluster.c): the emitter lease (always held on SpatiaLite) and, on
 * PostgreSQL, the alert ledger (with an event ring of its own when there are no live feeds);
 * open after the live feeds, tick on the reload thread (every 50 ms step), close after it stopped. */
msh_rc msh_serve_open_cluster(msh_app *app, msh_err *err);
void msh_serve_cluster_tick(msh_app *app, double now_s);
void msh_serve_close_cluster(msh_app *app);

/** Open the live state and replay its log (cfg.live_dir), with its observers and layers. */
msh_rc msh_serve_open_live(msh_app *app, msh_err *err);
/** Close what msh_serve_open_live opened (safe on a partly opened or never opened state). */
void msh_serve_close_live(msh_app *app);
/** Gates' 5-minute counts (serve_gates.c): open before the log replays; start (snapshot hook, the
 * `gate_counts` layer) once the live layers exist; fold each gate item (the live observer); close. */
msh_rc msh_serve_open_gates(msh_app *app, msh_err *err);
msh_rc msh_serve_gates_start(msh_app *app, msh_err *err);
void msh_serve_gates_on_item(msh_app *app, msh_feed feed, const struct msh_live_item *it);
void msh_serve_close_gates(msh_app *app);
/** Add a derived live layer (taking its reference) to those every catalog holds; before the first. */
msh_rc msh_serve_add_live_layer(msh_app *app, msh_layer *l, msh_err *err);
/** Counting lines (serve_counting.c): open before the log replays (lines from the store); start
 * (the `counting_line_counts` layer); the lines of a new catalog (live write lock held); close. */
msh_rc msh_serve_open_counting(msh_app *app, msh_err *err);
msh_rc msh_serve_counting_start(msh_app *app, msh_err *err);
void msh_serve_counting_lines(msh_app *app, const msh_catalog *cat);
void msh_serve_close_counting(msh_app *app);
/** Rebuild the geofence rasters from `cat` and swap them in (no-op without live feeds). */
void msh_serve_swap_fences(msh_app *app, const msh_catalog *cat);
/** Snapshot the live state when something was logged since the last snapshot. */
void msh_serve_take_snapshot(msh_app *app);
/** Seconds until the next snapshot is due: --snapshot-s, or at most 5 after a failed one. */
double msh_serve_snapshot_period(const msh_app *app);
/** Reload-thread step: retry a broken write-ahead log, log the start and end of write faults. */
void msh_serve_storage_tick(msh_app *app);
/** One pass of the live time rules at msh_now_ms() (serve_timers.c): escalation events, retention,
 * stale and dropped crews. Called by the reload thread once a second, and by POST /test/clock. */
void msh_serve_timers_tick(msh_app *app, msh_timers_result *res);
/** One group dispersion pass at now_ms (serve_groups.c; `group` events), from the timers' pass. */
void msh_serve_groups_tick(msh_app *app, int64_t now_ms);
/** For POST /test/clock: move the clock `ms` forward, expire the positions older than --position-max-age
 * at the new time, and run one pass, with no other pass between. Returns how many people expired. */
size_t msh_serve_timers_advance(msh_app *app, int64_t ms, msh_timers_result *res);

/**
 * Publish a new catalog snapshot built through the connection `via` now, when the store changed
 * (an edit calls it right after its commit, so the next request sees the edit). Geofences and the
 * walking graph follow on the reload thread, which this wakes. The caller owns `via` (no other
 * thread uses it meanwhile).
 */
msh_rc msh_serve_publish(msh_app *app, msh_store *via, msh_err *err);
/**
 * Publish the served catalog with `layers` in the place of the layers of their names (catalog.h
 * msh_catalog_with: never over a newer version), without reading the store: the edit committer's
 * overlay layers. Wakes the reload thread as msh_serve_publish does.
 */
msh_rc msh_serve_publish_layers(msh_app *app, msh_layer *const *layers, size_t n, msh_err *err);

/** The reload thread's body (arg: the msh_app); returns when app->stop is set. */
void *msh_serve_reload_main(void *arg);

#endif
