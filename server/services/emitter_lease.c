/* emitter_lease.c: the emitter lease of a cluster node (emitter_lease.h), a PostgreSQL
 * session-level advisory lock on a connection of its own.
 *
 * Design note. The lease is the database's view of one session: while the session lives the lock
 * is ours, and PostgreSQL drops it the moment the session ends (the node's process died and the
 * kernel closed its socket, or the backend was terminated). So:
 *   - taking it: `SELECT pg_try_advisory_lock(key)` every MSH_EMITTER_CHECK_S while not held; it
 *     never waits, so a node that does not hold the lease keeps serving and computing;
 *   - keeping it: `SELECT 1` every MSH_EMITTER_CHECK_S; an error or a bad connection means the
 *     session may be gone, so the node stops emitting at once (holds = false) and closes the
 *     connection, which also releases the lock if the session was in fact alive;
 *   - a lost network: TCP keepalives (5 s idle, 2 s apart, 3 probes) and a 2 s TCP user timeout
 *     on the connection bound how long a write can hang; PostgreSQL's own keepalives end the
 *     session on its side. In that case two nodes can both believe they hold it for at most the
 *     time the old holder needs to notice (its next check, or the user timeout): emission is
 *     at-least-once there, and exactly-once when the holder dies (kill -9: the socket closes
 *     with the process, the next node's check takes over within MSH_EMITTER_CHECK_S).
 * No lease on a SpatiaLite store: one machine, one emitter, held for ever.
 *
 * Lock contract: `conn` and the timers belong to the reload thread (msh_emitter_tick); `holds`
 * and the counters are atomics read by any thread.
 */
#include "services/emitter_lease.h"

#include <libpq-fe.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg.h"

struct msh_emitter {
    bool clustered; /* a PostgreSQL store: a real lease */
    char *url;
    char node[64];
    PGconn *conn;   /* reload thread only */
    double next_check;
    atomic_bool holds;
    atomic_ullong gained, lost, checks;
    bool said_down; /* "cannot reach the store" logged once per outage */
};

msh_rc msh_emitter_open(const char *db, const char *node, msh_emitter **out, msh_err *err)
{
    msh_rc rc = MSH_OK;
    msh_emitter *e = calloc(1, sizeof *e);
    if (!e) {
        rc = msh_err_set(err, MSH_ENOMEM, "emitter lease: out of memory");
        goto out;
    }
    snprintf(e->node, sizeof e->node, "%s", node ? node : "");
    e->clustered = msh_pg_is_url(db);
    atomic_init(&e->holds, !e->clustered);
    atomic_init(&e->gained, 0);
    atomic_init(&e->lost, 0);
    atomic_init(&e->checks, 0);
    if (e->clustered && !(e->url = strdup(db))) {
        rc = msh_err_set(err, MSH_ENOMEM, "emitter lease: out of memory");
        goto out;
    }
    *out = e;
    e = NULL;
out:
    msh_emitter_close(e);
    return rc;
}

void msh_emitter_close(msh_emitter *e)
{
    if (!e)
        return;
    if (e->conn)
        PQfinish(e->conn); /* the session ends: PostgreSQL hands the lease to the next node that asks */
    free(e->url);
    free(e);
}

static void drop(msh_emitter *e, const char *why)
{
    if (atomic_exchange(&e->holds, false)) {
        atomic_fetch_add(&e->lost, 1);
        fprintf(stderr, "mashaer: %s%semitter lease lost (%s): alerts and KPI records stop here\n", e->node,
                *e->node ? ": " : "", why);
    }
    if (e->conn) {
        PQfinish(e->conn);
        e->conn = NULL;
    }
}

static bool connect_lease(msh_emitter *e)
{
    /* the URL expands first; the keywords after it add what a URL does not usually carry */
    const char *kw[] = {"dbname", "connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
                        "keepalives_count", "tcp_user_timeout", "application_name", NULL};
    const char *val[] = {e->url, "2", "1", "5", "2", "3", "2000", "mashaer-emitter-lease", NULL};
    e->conn = PQconnectdbParams(kw, val, 1);
    if (PQstatus(e->conn) == CONNECTION_OK) {
        e->said_down = false;
        return true;
    }
    if (!e->said_down)
        fprintf(stderr, "mashaer: emitter lease: cannot reach the store: %s", PQerrorMessage(e->conn));
    e->said_down = true;
    PQfinish(e->conn);
    e->conn = NULL;
    return false;
}

/* One statement returning one boolean-ish cell; false on any error. */
static bool ask(msh_emitter *e, const char *sql, bool *value)
{
    PGresult *r = PQexec(e->conn, sql);
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    if (ok)
        *value = !strcmp(PQgetvalue(r, 0, 0), "t") || !strcmp(PQgetvalue(r, 0, 0), "1");
    PQclear(r);
    return ok;
}

void msh_emitter_tick(msh_emitter *e, double now_s)
{
    if (!e || !e->clustered || now_s < e->next_check)
        return;
    e->next_check = now_s + MSH_EMITTER_CHECK_S;
    bool v = false;
    if (atomic_load(&e->holds)) {
        if (PQstatus(e->conn) != CONNECTION_OK || !ask(e, "SELECT 1", &v))
            drop(e, "the store's session ended");
        atomic_fetch_add(&e->checks, 1);
        return;
    }
    if (!e->conn && !connect_lease(e))
        return;
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT pg_try_advisory_lock(%lld)", (long long)MSH_EMITTER_LOCK_KEY);
    if (!ask(e, sql, &v)) {
        drop(e, "the store's session ended");
        atomic_fetch_add(&e->checks, 1);
        return;
    }
    if (v) {
        atomic_store(&e->holds, true);
        atomic_fetch_add(&e->gained, 1);
        fprintf(stderr, "mashaer: %s%semitter lease taken: this node sends alerts and records KPIs\n", e->node,
                *e->node ? ": " : "");
    }
    atomic_fetch_add(&e->checks, 1); /* last: whoever reads the count then reads the outcome */
}

struct pg_conn *msh_emitter_session(msh_emitter *e)
{
    return e ? e->conn : NULL;
}

unsigned long long msh_emitter_epoch(const msh_emitter *e)
{
    return e ? atomic_load(&e->gained) : 0;
}

bool msh_emitter_holds(const msh_emitter *e)
{
    return !e || atomic_load(&e->holds);
}

void msh_emitter_metrics(const msh_emitter *e, msh_buf *b)
{
    unsigned long long gained = e ? atomic_load(&e->gained) : 0, lost = e ? atomic_load(&e->lost) : 0,
                       checks = e ? atomic_load(&e->checks) : 0;
    msh_buf_printf(b,
                   "# HELP mashaer_emitter_lease 1 when this node sends alerts and records KPIs (the cluster's one "
                   "emitter; always 1 on a single machine).\n"
                   "# TYPE mashaer_emitter_lease gauge\nmashaer_emitter_lease %d\n"
                   "# HELP mashaer_emitter_lease_changes_total Times this node took and lost the emitter lease.\n"
                   "# TYPE mashaer_emitter_lease_changes_total counter\n"
                   "mashaer_emitter_lease_changes_total{change=\"taken\"} %llu\n"
                   "mashaer_emitter_lease_changes_total{change=\"lost\"} %llu\n"
                   "# HELP mashaer_emitter_lease_checks_total Answers from the store about the lease (taken, "
                   "refused, still held); 0 on a single machine.\n"
                   "# TYPE mashaer_emitter_lease_checks_total counter\nmashaer_emitter_lease_checks_total %llu\n",
                   msh_emitter_holds(e) ? 1 : 0, gained, lost, checks);
}
