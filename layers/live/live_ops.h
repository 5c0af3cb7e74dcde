/* live_ops.h: operator writes on live items: incidents created and moved along their lifecycle,
 * gates opened and closed.
 *
 * Design: the feeds say where things are; operators decide. An operator's write is one record
 * in the same write-ahead log as the feeds (ingest.h: msh_ingest_op), durable before it is
 * applied and answered, applied in log order under the live write lock and replayed the same
 * way after a restart. Every write is an msh_ops_rec (older logs hold creates as plain incidents
 * feed records, id INC-OPS-<n>, which replay as they did), which names the item, the number of
 * updates the writer saw (msh_live_item.updates: the same after a replay, so a write that lost
 * a race with a feed record is refused alike live and in replay) and the members it sets.
 *
 * The rules live here, one function for the check (msh_ops_check, pure) and one for the
 * change (msh_ops_apply, which checks again): the HTTP handler checks before logging, so a
 * refused write is never logged, and the apply's check makes the log's outcome the same on
 * every replay.
 *
 * Incident lifecycle: reported -> dispatched (needs assigned_crew) -> on_scene -> resolved;
 * any of the first three -> cancelled (needs a reason). resolved and cancelled are final. The
 * feed record keeps its 0..3 status; cancelled is the MSH_ITEM_CANCELLED flag beside it, so the
 * feed and snapshot record forms did not change.
 *
 * Triage: an open incident's severity (low..critical) and description may be changed too (the
 * feed record's severity and text, so the tiles, escalation and the store follow them).
 *
 * Gates: state open or closed, the reason, and for a closed gate when it is planned to reopen
 * (reopens_at, an ISO 8601 time; null clears it). The reopening time is the operator's plan,
 * not an order: the gate stays closed until an operator opens it; the forecast (layers/forecast/
 * ctm.h) lets the queue through from then on. Opening a gate clears it; a reopening time on a
 * gate that stays open is refused (400); one not in the future is refused by the HTTP handler
 * (the check needs the time of the write, which the log record carries).
 *
 * The compact form of an msh_ops_rec (WAL record type MSH_WAL_OPS, after the 8-byte received
 * time as every log record), little endian, a string [u8 length][bytes]:
 *   u8 feed, string id (1..64), u64 expect (updates seen), u32 set (MSH_OPS_SET_* bits),
 *   u8 status (0..4), string crew (0..64), string reason (0..200), u8 closed (0/1)
 *   and, only when set has MSH_OPS_SET_SEVERITY or MSH_OPS_SET_DESC (so a log written before
 *   triage existed replays unchanged): u8 severity (1..4), string description (0..200)
 *   and, only when set has MSH_OPS_SET_REOPENS (gates; older logs never have the bit): i64 reopens_ms
 * and then, in records written since operators are named, when the record names one or creates
 * (an older record, or one naming no one, ends before this):
 *   string by (the token's name, 0..100), string by_role (0..15), and with MSH_OPS_SET_CREATE
 *   the new incident in the feed record form (feeds.h: msh_feed_encode).
 * The author goes with the change to the live store's observer (msh_live_item.by), so the
 * incident log's history rows name it, alike live and on replay.
 */
#ifndef MSH_LIVE_OPS_H
#define MSH_LIVE_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msh_buf.h"
#include "feeds.h"
#include "live.h"

/** The write-ahead log record type of an operator write (feeds use 0..MSH_FEED_COUNT-1). */
#define MSH_WAL_OPS 64
/** The status past msh_inc_status: cancelled. */
#define MSH_OPS_CANCELLED 4
#define MSH_OPS_NSTATUS 5

enum {
    MSH_OPS_SET_STATUS = 1,
    MSH_OPS_SET_CREW = 2,
    MSH_OPS_SET_REASON = 4,
    MSH_OPS_SET_CLOSED = 8,
    MSH_OPS_SET_SEVERITY = 16,
    MSH_OPS_SET_DESC = 32,
    MSH_OPS_SET_CREATE = 64, /* a new incident: `create` holds it (id = the record's id, expect 0) */
    MSH_OPS_SET_REOPENS = 128 /* gates: reopens_ms, when a closed gate is planned to reopen (0 clears it) */
};

typedef struct msh_ops_rec {
    uint8_t feed; /* MSH_FEED_INCIDENTS or MSH_FEED_GATES */
    uint8_t id_len;
    char id[MSH_FEED_ID_MAX + 1];
    uint64_t expect; /* the item's update count the writer checked against */
    uint32_t set;    /* MSH_OPS_SET_* */
    uint8_t status;  /* 0..4 */
    char crew[MSH_FEED_ID_MAX + 1];
    char reason[MSH_FEED_TEXT_MAX + 1];
    uint8_t closed;
    uint8_t severity; /* 1 low .. 4 critical (MSH_OPS_SET_SEVERITY) */
    char desc[MSH_FEED_TEXT_MAX + 1]; /* the description ("" clears it; MSH_OPS_SET_DESC) */
    int64_t reopens_ms;               /* gates: the planned reopening, Unix ms (0 clears it; MSH_OPS_SET_REOPENS) */
    char by[MSH_LIVE_BY_MAX + 1]; /* who: the token's name ("" in older records) */
    char by_role[16];             /* and its role */
    msh_feed_rec create;          /* MSH_OPS_SET_CREATE: the new incident */
} msh_ops_rec;

/** Where an incident's lifecycle stands: msh_inc_status, or MSH_OPS_CANCELLED. */
int msh_ops_status(const msh_live_item *it);
/** "reported", "dispatched", "on_scene", "resolved", "cancelled". */
const char *msh_ops_status_name(int s);
/** The status named s[0..n), or -1. */
int msh_ops_status_lookup(const char *s, size_t n);

typedef enum {
    MSH_OPS_OK = 0,
    MSH_OPS_NOTFOUND,   /* no such item */
    MSH_OPS_STALE,      /* the item changed since the writer read it */
    MSH_OPS_TRANSITION, /* not a transition the lifecycle allows */
    MSH_OPS_INVALID     /* a needed member is missing (why says which) */
} msh_ops_verdict;

/** What a refused transition says: from, to, and the statuses allowed from `from`. */
typedef struct msh_ops_why {
    int from, to;
    int allowed[MSH_OPS_NSTATUS];
    int nallowed;
    char text[200];
} msh_ops_why;

/** Check `op` against the item as it is (it may be NULL): no change made. */
msh_ops_verdict msh_ops_check(const msh_live_item *it, const msh_ops_rec *op, msh_ops_why *why);
/** Check and apply `op` (received at t_ms) to the live state, calling the observer (write lock held). */
msh_ops_verdict msh_ops_apply(msh_live *l, const msh_ops_rec *op, int64_t t_ms, msh_ops_why *why);

/** A copy of item `id` of `feed` into *out; false if none (read lock held). */
bool msh_ops_item(msh_live *l, msh_feed feed, const char *id, size_t n, msh_live_item *out);
/** The highest n of an INC-OPS-<n> incident ever applied: the next one takes n + 1 (read lock held). */
uint64_t msh_ops_seq(msh_live *l);

/** A string of the compact forms: [u8 length][bytes] (at most 255). */
msh_rc msh_ops_put_str(msh_buf *b, const char *s);
/** Read one into out[cap] (NUL-terminated), advancing *p; false when it runs past end, does not fit
 * or holds a NUL. */
bool msh_ops_get_str(const uint8_t **p, const uint8_t *end, char *out, size_t cap);

msh_rc msh_ops_encode(const msh_ops_rec *op, msh_buf *out);
/** Decode one record from data[0..len); false when malformed. */
bool msh_ops_decode(const uint8_t *data, size_t len, msh_ops_rec *out);
/** Replay one MSH_WAL_OPS log record (its payload after the received time; write lock held). */
void msh_ops_replay(msh_live *l, int64_t t_ms, const uint8_t *data, size_t len);

/**
 * Read a merge-patch body (RFC 7396) for an item of `feed`: its members at the top or under
 * "properties". Incidents: status, assigned_crew (text or null), reason, severity (low, medium,
 * high, critical), description (text or null); gates: state
 * ("open"/"closed"), reason, reopens_at (an ISO 8601 time with its zone, or null). Fills op (not id or expect). Returns 0, or -1 with why naming the
 * member at fault.
 */
int msh_ops_parse_patch(msh_feed feed, const char *body, size_t len, msh_ops_rec *op, char *why, size_t cap);

/**
 * Read a new incident, a GeoJSON Feature with a Point and properties kind (medical,
 * lost_person, fire, crowding, security, other), severity (low, medium, high, critical) and
 * description, into a feed record (no id; status reported, time t_ms). Returns 0, or -1 with
 * why naming what is wrong.
 */
int msh_ops_parse_incident(const char *body, size_t len, int64_t t_ms, msh_feed_rec *out, char *why, size_t cap);

#endif
