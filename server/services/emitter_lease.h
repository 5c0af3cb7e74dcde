/* emitter_lease.h: which node of a cluster emits alerts and records KPIs (one at a time).
 *
 * Every node of a cluster holds the same live state and computes the same alerts and KPIs; only
 * one of them, the lease holder, records the KPI history in the shared store and sends what
 * leaves the cluster (alerts to MQTT, recorded KPI rows). The lease is a PostgreSQL session-level
 * advisory lock (`pg_try_advisory_lock`) held on a connection of its own: PostgreSQL releases it
 * when that session ends, so a node that dies (kill -9, power) or loses its connection loses the
 * lease, and the next node that asks gets it. No clock and no renewal protocol: the database's
 * view of the session is the lease.
 *
 * A node on a SpatiaLite store (one machine) holds the lease always, with no connection: nothing
 * changes there.
 *
 * Threads: msh_emitter_tick runs on the reload thread only (it owns the connection);
 * msh_emitter_holds and msh_emitter_metrics read an atomic and may run on any thread.
 */
#ifndef MSH_EMITTER_LEASE_H
#define MSH_EMITTER_LEASE_H

#include <stdbool.h>

#include "core/msh_buf.h"
#include "core/msh_err.h"

typedef struct msh_emitter msh_emitter;

/** The advisory lock key every node of one store asks for (any fixed 64-bit number will do). */
#define MSH_EMITTER_LOCK_KEY 0x4d53484c45415345LL /* "MSHLEASE" */

/** How often a tick asks for a free lease, and checks a held one, in seconds. */
#define MSH_EMITTER_CHECK_S 0.25

/**
 * A lease for the store named `db` (the --db argument): a `postgresql://` URL gives a real lease,
 * anything else (a SpatiaLite file) a lease held for ever. `node` names this node in logs.
 * Does not connect yet: the first tick does.
 */
msh_rc msh_emitter_open(const char *db, const char *node, msh_emitter **out, msh_err *err);
void msh_emitter_close(msh_emitter *e);

/** Reload thread: at most every MSH_EMITTER_CHECK_S (by `now_s`, a monotonic clock), take the
 * lease when free, or check that the session holding it is alive (a lost session = a lost lease). */
void msh_emitter_tick(msh_emitter *e, double now_s);

/** True when this node emits now (always true for NULL or a single machine). Any thread. */
bool msh_emitter_holds(const msh_emitter *e);

/** The lease's session (libpq's PGconn), for the reload thread only; NULL when not connected or on
 * a single machine. A statement run on it while msh_emitter_holds is fenced by the lease: it can
 * only succeed while the session, and so the lock, lives (services/alert_ledger.c writes so). */
struct pg_conn *msh_emitter_session(msh_emitter *e);

/** How many times this node took the lease: a change means "the lease is new to us". Any thread. */
unsigned long long msh_emitter_epoch(const msh_emitter *e);

/** `mashaer_emitter_lease 0|1` and the count of times the lease was gained and lost. Any thread. */
void msh_emitter_metrics(const msh_emitter *e, msh_buf *b);

#endif
