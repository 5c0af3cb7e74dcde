/* feed_log.h: NATS JetStream as the replicated live-feed log (`serve --feed-log nats://h1:4222,...`).
 *
 * At start the node connects to the servers given, finds (or creates) the stream `--feed-stream`
 * (default MASHAER_FEED; subjects mashaer.feed.<NAME>.<feed>, file storage, replicas =
 * min(3, servers given)) and becomes the `append` of the ingest path (layers/live/ingest.h): every
 * accepted batch, MQTT message and operator write is one stream message (or one part of a group
 * of those that queued while earlier messages were in flight: group commit), acknowledged to
 * the client only once JetStream stored it on a quorum. An ordered consumer, started at the sequence
 * after the newest snapshot, hands every message to msh_ingest_apply_msg in stream order: the
 * only way the live state changes on any node, the publisher included.
 *
 * Until the consumer has applied the stream's last sequence as it was at start, the node is
 * catching up: /health answers 503 "catching_up" (a load balancer keeps traffic away).
 *
 * Retention: the stream keeps --feed-retain-hours (48) and at most --feed-retain-mb (no limit);
 * older messages are dropped. A node whose next sequence is no longer on the stream (its
 * snapshot is older than the stream's first message) has a hole: it applies nothing more,
 * refuses writes, logs what the operator does, and /health answers 503 "stream_gap" for good.
 */
#ifndef MSH_FEED_LOG_H
#define MSH_FEED_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/msh_buf.h"
#include "core/msh_err.h"

struct msh_app;
typedef struct msh_feed_log msh_feed_log;

/** Connect, find or create the stream, hook the ingest path and start consuming (app->feed_log).
 * Fails when no server answers, the stream cannot be made, or the snapshot is ahead of the stream. */
msh_rc msh_feed_log_open(struct msh_app *app, msh_err *err);
/** Stop consuming and disconnect (idempotent; writers must be stopped first). */
void msh_feed_log_close(struct msh_app *app);

typedef struct msh_feed_log_state {
    uint64_t applied_seq; /* the last stream sequence applied here */
    uint64_t start_seq;   /* the stream's last sequence when this node started */
    bool caught_up;       /* applied_seq reached start_seq */
    bool gap;             /* the stream dropped sequences this node has not applied */
    uint64_t gap_from;    /* with gap: the first sequence missing */
    uint64_t gap_first;   /* with gap: the stream's first sequence when it was seen */
    bool connected;
} msh_feed_log_state;
/** False when there is no feed log. */
bool msh_feed_log_state_get(struct msh_app *app, msh_feed_log_state *st);
/** The feed log's lines of /metrics (nothing without a feed log). */
void msh_feed_log_metrics(struct msh_app *app, msh_buf *b);

#endif
