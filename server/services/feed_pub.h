/* feed_pub.h: the feed log's publisher (feed_log.h): writers' messages stored on the JetStream
 * stream with asynchronous publishes and group commit. Only feed_log.c uses it; it is the one
 * other file that includes nats.h.
 */
#ifndef MSH_FEED_PUB_H
#define MSH_FEED_PUB_H

#include <nats/nats.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msh_err.h"

typedef struct msh_feed_pub msh_feed_pub;

/** A publisher for `stream` (subjects <subject_base>.<feed>); `gap` is the feed log's flag for a
 * hole in the stream (writes are refused while it is set). NULL when out of memory. */
msh_feed_pub *msh_feed_pub_new(const char *stream, const char *subject_base, const atomic_bool *gap);
/** Point the JetStream context's asynchronous publishes at this publisher (before it is made). */
void msh_feed_pub_js_options(msh_feed_pub *p, jsOptions *jo);
/** Start on a connection and its JetStream context; max_payload is the servers' limit on one message. */
void msh_feed_pub_start(msh_feed_pub *p, natsConnection *nc, jsCtx *js, int64_t max_payload);
/** Free (the JetStream context is destroyed first: no answer comes after). NULL is fine. */
void msh_feed_pub_free(msh_feed_pub *p);

/** The ingest path's `append` (ingest.h, msh_ingest_log) with ud = the publisher: queue the
 * message, send it alone or in a group, and return once the stream stored it (MSH_OK, *seq its
 * sequence) or that failed (MSH_EIO: a 503 for the client). */
msh_rc msh_feed_pub_append(void *ud, const void *msg, size_t len, uint64_t *seq, msh_err *err);

typedef struct msh_feed_pub_counts {
    uint64_t published;        /* writers' messages the stream acknowledged */
    uint64_t published_msgs;   /* stream messages that carried them */
    uint64_t publish_failures; /* writers' messages that failed */
    int in_flight, in_flight_max;
} msh_feed_pub_counts;
void msh_feed_pub_counts_get(msh_feed_pub *p, msh_feed_pub_counts *c);

#endif
