/* mqtt.h: the live feeds over MQTT (`mashaer serve --mqtt HOST:PORT`).
 *
 * Design: one libmosquitto client subscribes to `mashaer/feeds/+`. Each message is one batch
 * for the feed named by the last topic level, NDJSON, a GeoJSON FeatureCollection or FIWARE NGSI
 * entities, a batch or a broker's notification (told apart by shape: live/feed_sniff.h), and goes
 * through the same write path as POST /feeds/{feed}: msh_ingest_batch (check, log,
 * apply, fsync). The answer HTTP would give is published to `mashaer/feeds/{feed}/result`
 * (QoS 0), so a device can see its rejections. One network thread runs libmosquitto's loop;
 * every callback, and so every batch, runs on it, which keeps the per-connection state free of
 * locks. The client reconnects by itself, with a backoff, for as long as the server runs: a
 * broker that is down at start or restarts later costs nothing but the messages published
 * while nobody was subscribed (see mqtt.c on threads, sessions and acknowledgements).
 */
#ifndef MSH_MQTT_H
#define MSH_MQTT_H

#include <stdbool.h>
#include <stdint.h>

#include "routes/events.h"
#include "serve/app.h"

typedef struct msh_mqtt msh_mqtt;

/**
 * Start the client described by app->cfg.mqtt_* (address, user, password file, client id,
 * QoS) and return at once: connecting, and reconnecting, happen in the background. Needs the
 * live feeds (app->ingest) and app->metrics; both are borrowed and must outlive the client.
 * Fails only on a bad configuration: an address that is not HOST:PORT, a password file that
 * cannot be read, live feeds off (MSH_EINVAL, MSH_EIO), or no memory.
 */
msh_rc msh_mqtt_start(msh_app *app, msh_mqtt **out, msh_err *err);

/**
 * An events tap (routes/events.h, msh_events_set_tap) that publishes every `change` event on
 * `mashaer/changes/{collection}` with the JSON of the SSE event (QoS as --mqtt-qos, not retained;
 * dropped while the broker is away: the audit keeps every change). `ud` is the msh_mqtt.
 * It also publishes every `broadcast` event on `mashaer/broadcasts/{zone}`, once per zone the
 * broadcast targets or touches (`mashaer/broadcasts/none` when it touches no zone), same QoS.
 */
void msh_mqtt_change_tap(void *ud, msh_event_type type, const char *collection, const char *json);

/** Disconnect, wait for the network thread (and a batch in progress) to finish, free. NULL is a no-op. */
void msh_mqtt_stop(msh_mqtt *m);

typedef struct msh_mqtt_stats {
    uint64_t messages;     /* every message received on mashaer/feeds/+ */
    uint64_t batches;      /* handed to the ingest path (records are counted by msh_metrics_feed) */
    uint64_t unknown_feed; /* dropped: the last topic level names no feed */
    uint64_t oversize;     /* dropped: payload over cfg.max_body_bytes */
    uint64_t retained;     /* dropped: retained messages (old data replayed by the broker) */
    uint64_t failed;       /* the batch could not be read or logged (nothing of it was kept) */
    uint64_t connects;     /* successful connections, the first one included */
    bool connected;
} msh_mqtt_stats;

/** A consistent-enough copy of the counters (each one is read atomically). */
void msh_mqtt_get_stats(const msh_mqtt *m, msh_mqtt_stats *out);

#endif
