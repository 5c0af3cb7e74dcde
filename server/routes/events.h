/* events.h: the live event stream (GET /events, Server-Sent Events).
 *
 * Design: producers publish events (incident created or updated, density alert raised
 * or cleared, gate over capacity, a feature edited through OGC API Part 4: `change`, a broadcast
 * created or withdrawn: `broadcast`, carrying its area) into a ring of the last 4,096 events, each formatted
 * once as an SSE frame. A subscriber is an HTTP response whose content reader copies
 * the frames after its cursor that pass its filters (types, bbox; for broadcasts the place
 * lon/lat inside the area, the zone among those it touches); when there is nothing
 * to send it suspends its connection (libmicrohttpd keeps it out of the event loop, so a
 * thousand idle subscribers cost nothing) and a publish resumes it. A subscriber that
 * falls more than the ring behind gets a `dropped` event and continues from the oldest.
 * A comment line every 15 s keeps proxies from closing idle streams and finds dead
 * clients. `Last-Event-ID` resumes a reconnecting client where it left off.
 */
#ifndef MSH_EVENTS_H
#define MSH_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "live/broadcast.h"
#include "live/live.h"

typedef struct msh_events msh_events;
struct msh_app;

typedef enum { MSH_EV_INCIDENT = 0, MSH_EV_DENSITY, MSH_EV_GATE, MSH_EV_GEOFENCE, MSH_EV_CHANGE, MSH_EV_ESCALATION,
               MSH_EV_ENVIRONMENT, MSH_EV_ZONE, MSH_EV_FORECAST, MSH_EV_BROADCAST, MSH_EV_REPORT,
               MSH_EV_CLEANING_OVERDUE, MSH_EV_PERMIT, MSH_EV_GROUP, MSH_EV_OVERFLOW, MSH_EV_COUNT } msh_event_type;
/* geofence and group (live/dispersion.h) events carry people's ids, cleaning_overdue and overflow (a bin's
 * nearest crew: services/bin_service.h) events crews' ids: only
 * ops tokens may subscribe to them; report events belong to their reporter: a reporter token gets its own
 * reports' only, an ops token all (never a default) */
#define MSH_EV_PUBLIC_MASK ((1u << MSH_EV_INCIDENT) | (1u << MSH_EV_DENSITY) | (1u << MSH_EV_GATE) | (1u << MSH_EV_CHANGE) | \
                            (1u << MSH_EV_ESCALATION) | (1u << MSH_EV_ENVIRONMENT) | (1u << MSH_EV_ZONE) |      \
                            (1u << MSH_EV_FORECAST) | (1u << MSH_EV_BROADCAST) | (1u << MSH_EV_PERMIT))

msh_events *msh_events_new(void);

/** Called, under the events' lock, with every event published (type, collection, the data's JSON):
 * another transport sends the same events (serve/mqtt.h: changes on MQTT). It must not block
 * nor publish events. NULL removes it; set and removed while the server runs. */
typedef void (*msh_events_tap_fn)(void *ud, msh_event_type type, const char *collection, const char *json);
void msh_events_set_tap(msh_events *ev, msh_events_tap_fn fn, void *ud);
/** Wake every subscriber so that each ends its stream; call before stopping the HTTP daemon. */
void msh_events_shutdown(msh_events *ev);
void msh_events_free(msh_events *ev);

/** Publish one event; `json` is the data object; lon/lat place it (NaN: no place). Thread-safe. */
void msh_events_publish(msh_events *ev, msh_event_type type, double lon, double lat, const char *json);
/** The same for an event about one collection (`change`), which `collections=` filters on. */
void msh_events_publish_in(msh_events *ev, msh_event_type type, const char *collection, double lon, double lat,
                           const char *json);
/** The same for an event about an area (`broadcast`): a stream asking for a place (lon, lat) gets
 * it when the area contains the place, one asking for a zone when `zones` ("A,B": the zones the
 * area targets or touches) names it; `area` is copied. MQTT sees `zones` as the collection. */
void msh_events_publish_area(msh_events *ev, msh_event_type type, const char *zones, const msh_bc_area *area,
                             const char *json);
/** The same for an event that belongs to one person (`report`: `owner` its reporter's token name):
 * a stream of a reporter token gets it only when the names are equal; a stream of ops, always. */
void msh_events_publish_owned(msh_events *ev, msh_event_type type, const char *owner, const char *json);
/** Alerts (density, gate, zone, environment, permit, forecast): a change of the state of one subject.
 * `key` names the subject ("density/21/x/y", "gate/G1"), `state` what it is now ("raised", "7",
 * "over"), `active` whether that state is an alert (false: cleared, back to normal). Without an
 * alert gate this is msh_events_publish; with one (a cluster: services/alert_ledger.h) the gate
 * takes it and the event reaches the ring through the cluster's ledger instead. Thread-safe. */
void msh_events_alert(msh_events *ev, msh_event_type type, const char *key, const char *state, bool active, double lon,
                      double lat, const char *json);
typedef void (*msh_events_alert_fn)(void *ud, msh_event_type type, const char *key, const char *state, bool active,
                                    double lon, double lat, const char *json);
/** Route every msh_events_alert to `fn` (NULL: publish directly); set before producers run, or
 * removed after they stop. `fn` must not block (it runs under the live write lock) nor publish. */
void msh_events_set_alert_gate(msh_events *ev, msh_events_alert_fn fn, void *ud);
/** Check the token of every stream that needed one again (call when the tokens changed): a
 *  stream whose token was revoked or lowered gets an `error` event and ends. Lock order: the
 *  ring's lock, then app->tok_lock. */
void msh_events_revalidate(msh_events *ev, struct msh_app *app);
/** Wake idle subscribers for their heartbeat, and end those whose client has gone; call about once a second. */
void msh_events_tick(msh_events *ev);
uint64_t msh_events_subscribers(msh_events *ev);
uint64_t msh_events_published(msh_events *ev);

/** Parse "incident,density" into a type mask; -1 on an unknown type. */
int msh_events_parse_types(const char *s, unsigned *mask);

/**
 * Density alerts: scan the live cells (level 21, about 18 m at Makkah) and publish
 * raised/cleared events when a cell crosses the thresholds, with hysteresis (a raised alert
 * clears only below 80% of its threshold). Call about once a second from one thread.
 */
void msh_events_scan_density(msh_events *ev, struct msh_app *app);

/** The live store's observer (msh_live_set_observer): incident and gate events. `ud` is the msh_events. */
void msh_events_on_item(void *ud, msh_feed feed, const struct msh_live_item *it, const msh_feed_rec *prev);

struct msh_kpi_result;
/** `zone` events: each service zone whose occupancy went over its population capacity or came back
 * under 90% of it (alerts.h), from a KPI result (the recording tick). */
void msh_events_zones(msh_events *ev, const struct msh_kpi_result *r);

#endif
