/* alert_ledger.c: alerts sent exactly once by a cluster (alert_ledger.h).
 *
 * Design note. The per-node memory is a chained hash of alert subjects: the latest state, its
 * event, a version and a `dirty` mark (not yet written by this node as the holder). The reload
 * thread copies the dirty ones out under the mutex, writes them with no lock held, and clears a
 * mark only if the subject did not change meanwhile (same version). Taking the lease (a new epoch
 * of emitter_lease.h) marks every subject dirty: that is the take-over, the same code as the
 * steady state. The table:
 *   msh_alert_ledger(key text primary key, type int, state text, active bool, lon, lat float8,
 *                    body text, seq bigint, at timestamptz) + sequence msh_alert_ledger_seq
 * An active state is an upsert whose update happens only when the state differs; an inactive one
 * only updates an existing row (a clear of something never raised is no event). Rows inactive for
 * a day are deleted by the holder. Every node publishes rows in `seq` order past the last it saw
 * (starting from the table's end when it starts: a node joining later does not replay old alerts).
 *
 * Lock contract: `mu` guards the hash and its counters; the session, `last_seq`, `epoch` and the
 * timers belong to the reload thread; the statistics are atomics.
 */
#include "services/alert_ledger.h"

#include <libpq-fe.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 16384
#define WRITE_BATCH 1024 /* subjects written per tick at most */
#define READ_BATCH "1000"

typedef struct ent {
    struct ent *next;
    uint64_t hash, ver;
    uint8_t type;
    bool active, dirty;
    double lon, lat;
    char *state, *json;
    char key[];
} ent;

typedef struct copy {
    uint64_t hash, ver;
    uint8_t type;
    bool active;
    double lon, lat;
    char *key, *state, *json;
} copy;

struct msh_alert_ledger {
    pthread_mutex_t mu;
    ent *buckets[NBUCKETS];
    size_t n, ndirty;
    msh_emitter *lease;
    msh_events *events;
    /* reload thread */
    unsigned long long epoch;
    long long last_seq;
    bool seq_known, schema_ok;
    double next_tick, next_prune;
    atomic_ullong written, relayed, dropped;
};

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

static void ent_free(ent *e)
{
    free(e->state);
    free(e->json);
    free(e);
}

/* Under mu: forget every quiet subject already written (inactive, not dirty). */
static void purge_quiet(msh_alert_ledger *l)
{
    for (size_t b = 0; b < NBUCKETS; b++)
        for (ent **pp = &l->buckets[b]; *pp;) {
            ent *e = *pp;
            if (!e->active && !e->dirty) {
                *pp = e->next;
                ent_free(e);
                l->n--;
            } else {
                pp = &e->next;
            }
        }
}

/* The alert gate (events.h): any thread, takes mu only. */
static void gate(void *ud, msh_event_type type, const char *key, const char *state, bool active, double lon, double lat,
                 const char *json)
{
    msh_alert_ledger *l = ud;
    uint64_t h = fnv(key);
    char *st = strdup(state), *js = strdup(json);
    if (!st || !js)
        goto fail;
    pthread_mutex_lock(&l->mu);
    ent *e = l->buckets[h % NBUCKETS];
    while (e && (e->hash != h || strcmp(e->key, key)))
        e = e->next;
    if (!e) {
        if (l->n >= MSH_LEDGER_MAX_KEYS)
            purge_quiet(l);
        size_t kl = strlen(key);
        if (l->n >= MSH_LEDGER_MAX_KEYS || !(e = calloc(1, sizeof *e + kl + 1))) {
            pthread_mutex_unlock(&l->mu);
            goto fail;
        }
        memcpy(e->key, key, kl + 1);
        e->hash = h;
        e->next = l->buckets[h % NBUCKETS];
        l->buckets[h % NBUCKETS] = e;
        l->n++;
    }
    free(e->state);
    free(e->json);
    e->state = st;
    e->json = js;
    e->type = (uint8_t)type;
    e->active = active;
    e->lon = lon;
    e->lat = lat;
    e->ver++;
    if (!e->dirty) {
        e->dirty = true;
        l->ndirty++;
    }
    pthread_mutex_unlock(&l->mu);
    return;
fail:
    free(st);
    free(js);
    atomic_fetch_add(&l->dropped, 1);
}

msh_rc msh_alert_ledger_open(msh_emitter *lease, msh_events *events, msh_alert_ledger **out, msh_err *err)
{
    msh_alert_ledger *l = calloc(1, sizeof *l);
    if (!l)
        return msh_err_set(err, MSH_ENOMEM, "alert ledger: out of memory");
    pthread_mutex_init(&l->mu, NULL);
    l->lease = lease;
    l->events = events;
    atomic_init(&l->written, 0);
    atomic_init(&l->relayed, 0);
    atomic_init(&l->dropped, 0);
    msh_events_set_alert_gate(events, gate, l);
    *out = l;
    return MSH_OK;
}

void msh_alert_ledger_close(msh_alert_ledger *l)
{
    if (!l)
        return;
    msh_events_set_alert_gate(l->events, NULL, NULL);
    for (size_t b = 0; b < NBUCKETS; b++)
        for (ent *e = l->buckets[b], *nx; e; e = nx) {
            nx = e->next;
            ent_free(e);
        }
    pthread_mutex_destroy(&l->mu);
    free(l);
}

/* A statement with no rows expected; false on an error. */
static bool exec_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "mashaer: alert ledger: %s", PQresultErrorMessage(r));
    PQclear(r);
    return ok;
}

/* Made once per session by any node; concurrent makers are ordered by a transaction lock. */
static bool ensure_schema(PGconn *c)
{
    bool ok = exec_ok(c, "BEGIN") &&
              exec_ok(c, "SELECT pg_advisory_xact_lock(5522843142405735525)") && /* "MSHALERT"-ish, distinct from the lease */
              exec_ok(c, "CREATE SEQUENCE IF NOT EXISTS msh_alert_ledger_seq") &&
              exec_ok(c, "CREATE TABLE IF NOT EXISTS msh_alert_ledger (key text PRIMARY KEY, type int NOT NULL, "
                         "state text NOT NULL, active boolean NOT NULL, lon double precision, lat double precision, "
                         "body text NOT NULL, seq bigint NOT NULL, at timestamptz NOT NULL)") &&
              exec_ok(c, "CREATE INDEX IF NOT EXISTS msh_alert_ledger_seq_i ON msh_alert_ledger (seq)") &&
              exec_ok(c, "COMMIT");
    if (!ok)
        exec_ok(c, "ROLLBACK");
    return ok;
}

/* Compare-and-set of one subject on the lease's session; false on an error (the session is in doubt). */
static bool write_one(PGconn *c, const copy *k, bool *changed)
{
    char type[8], lon[32], lat[32];
    snprintf(type, sizeof type, "%u", k->type);
    snprintf(lon, sizeof lon, "%.9g", k->lon);
    snprintf(lat, sizeof lat, "%.9g", k->lat);
    const char *p[] = {k->key, type, k->state, k->active ? "t" : "f", lon, lat, k->json};
    const char *sql =
        k->active
            ? "INSERT INTO msh_alert_ledger AS l (key, type, state, active, lon, lat, body, seq, at) "
              "VALUES ($1, $2::int, $3, $4::boolean, $5::float8, $6::float8, $7, nextval('msh_alert_ledger_seq'), now()) "
              "ON CONFLICT (key) DO UPDATE SET type = excluded.type, state = excluded.state, active = excluded.active, "
              "lon = excluded.lon, lat = excluded.lat, body = excluded.body, seq = excluded.seq, at = excluded.at "
              "WHERE l.state IS DISTINCT FROM excluded.state"
            : "UPDATE msh_alert_ledger SET type = $2::int, state = $3, active = $4::boolean, lon = $5::float8, "
              "lat = $6::float8, body = $7, seq = nextval('msh_alert_ledger_seq'), at = now() "
              "WHERE key = $1 AND state IS DISTINCT FROM $3";
    PGresult *r = PQexecParams(c, sql, 7, NULL, p, NULL, NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    *changed = ok && strtol(PQcmdTuples(r), NULL, 10) > 0;
    if (!ok)
        fprintf(stderr, "mashaer: alert ledger: %s", PQresultErrorMessage(r));
    PQclear(r);
    return ok;
}

/* Holder: write the dirty subjects (a new epoch: all of them). */
static void write_dirty(msh_alert_ledger *l, PGconn *c)
{
    unsigned long long epoch = msh_emitter_epoch(l->lease);
    copy *batch = NULL;
    size_t n = 0;
    pthread_mutex_lock(&l->mu);
    if (epoch != l->epoch) { /* the lease is new to us: everything we hold is to be compared again */
        l->epoch = epoch;
        for (size_t b = 0; b < NBUCKETS; b++)
            for (ent *e = l->buckets[b]; e; e = e->next)
                if (!e->dirty) {
                    e->dirty = true;
                    l->ndirty++;
                }
    }
    if (l->ndirty && (batch = calloc(l->ndirty < WRITE_BATCH ? l->ndirty : WRITE_BATCH, sizeof *batch))) {
        size_t cap = l->ndirty < WRITE_BATCH ? l->ndirty : WRITE_BATCH;
        for (size_t b = 0; b < NBUCKETS && n < cap; b++)
            for (ent *e = l->buckets[b]; e && n < cap; e = e->next) {
                if (!e->dirty)
                    continue;
                copy *k = &batch[n];
                *k = (copy){e->hash, e->ver, e->type, e->active, e->lon, e->lat, strdup(e->key), strdup(e->state),
                            strdup(e->json)};
                if (!k->key || !k->state || !k->json) {
                    free(k->key), free(k->state), free(k->json);
                    continue;
                }
                n++;
            }
    }
    pthread_mutex_unlock(&l->mu);
    size_t done = 0;
    for (; done < n; done++) {
        bool changed = false;
        if (!write_one(c, &batch[done], &changed))
            break; /* the lease's next check decides whether the session is gone */
        if (changed)
            atomic_fetch_add(&l->written, 1);
    }
    pthread_mutex_lock(&l->mu);
    for (size_t i = 0; i < done; i++) {
        ent *e = l->buckets[batch[i].hash % NBUCKETS];
        while (e && (e->hash != batch[i].hash || strcmp(e->key, batch[i].key)))
            e = e->next;
        if (e && e->dirty && e->ver == batch[i].ver) {
            e->dirty = false;
            l->ndirty--;
        }
    }
    pthread_mutex_unlock(&l->mu);
    for (size_t i = 0; i < n; i++)
        free(batch[i].key), free(batch[i].state), free(batch[i].json);
    free(batch);
}

/* Every node: publish the rows past the last one seen, in order. */
static void relay(msh_alert_ledger *l, PGconn *c)
{
    char last[32];
    snprintf(last, sizeof last, "%lld", l->last_seq);
    const char *p[] = {last};
    PGresult *r = PQexecParams(c,
                               "SELECT seq, type, lon, lat, body FROM msh_alert_ledger WHERE seq > $1::bigint "
                               "ORDER BY seq LIMIT " READ_BATCH,
                               1, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        for (int i = 0; i < PQntuples(r); i++) {
            long type = strtol(PQgetvalue(r, i, 1), NULL, 10);
            double lon = PQgetisnull(r, i, 2) ? NAN : strtod(PQgetvalue(r, i, 2), NULL);
            double lat = PQgetisnull(r, i, 3) ? NAN : strtod(PQgetvalue(r, i, 3), NULL);
            if (type >= 0 && type < MSH_EV_COUNT)
                msh_events_publish(l->events, (msh_event_type)type, lon, lat, PQgetvalue(r, i, 4));
            l->last_seq = strtoll(PQgetvalue(r, i, 0), NULL, 10);
            atomic_fetch_add(&l->relayed, 1);
        }
    }
    PQclear(r);
}

void msh_alert_ledger_tick(msh_alert_ledger *l, double now_s)
{
    if (!l || now_s < l->next_tick)
        return;
    l->next_tick = now_s + MSH_LEDGER_TICK_S;
    PGconn *c = msh_emitter_session(l->lease);
    if (!c || PQstatus(c) != CONNECTION_OK)
        return;
    if (!l->schema_ok && !(l->schema_ok = ensure_schema(c)))
        return;
    if (!l->seq_known) { /* start at the table's end: a joining node does not replay old alerts */
        PGresult *r = PQexec(c, "SELECT coalesce(max(seq), 0) FROM msh_alert_ledger");
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
            l->last_seq = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
            l->seq_known = true;
        }
        PQclear(r);
        if (!l->seq_known)
            return;
    }
    if (msh_emitter_holds(l->lease)) {
        write_dirty(l, c);
        if (now_s >= l->next_prune) {
            l->next_prune = now_s + 60;
            exec_ok(c, "DELETE FROM msh_alert_ledger WHERE NOT active AND at < now() - interval '1 day'");
        }
    }
    relay(l, c);
}

void msh_alert_ledger_metrics(msh_alert_ledger *l, msh_buf *b)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    unsigned long long pending = l->ndirty, kept = l->n;
    pthread_mutex_unlock(&l->mu);
    msh_buf_printf(b,
                   "# HELP mashaer_alert_ledger_total Alert events this node wrote to the cluster's ledger (as the "
                   "lease holder), and ledger rows it published to its own event stream.\n"
                   "# TYPE mashaer_alert_ledger_total counter\n"
                   "mashaer_alert_ledger_total{op=\"written\"} %llu\nmashaer_alert_ledger_total{op=\"relayed\"} %llu\n"
                   "mashaer_alert_ledger_total{op=\"dropped\"} %llu\n"
                   "# HELP mashaer_alert_ledger_subjects Alert subjects this node keeps, and those it has not written "
                   "(all of them while another node holds the lease).\n"
                   "# TYPE mashaer_alert_ledger_subjects gauge\n"
                   "mashaer_alert_ledger_subjects{state=\"kept\"} %llu\nmashaer_alert_ledger_subjects{state=\"unwritten\"} %llu\n",
                   (unsigned long long)atomic_load(&l->written),
                   (unsigned long long)atomic_load(&l->relayed), (unsigned long long)atomic_load(&l->dropped), kept,
                   pending);
}
