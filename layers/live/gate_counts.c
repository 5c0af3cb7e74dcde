/* gate_counts.c: gates' 5-minute counts and permit alerts (gate_counts.h). Each gate holds its
 * buckets in one array in time order (a gate's records arrive in time order: the live state drops
 * older ones before the observer sees them), so a fold touches the last bucket or appends one.
 * Gates are found by an index of their ids' hashes (a collision probes on). Dropping the oldest
 * moves a gate's array down once an eighth of it has expired. */
#include "gate_counts.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_constants.h"
#include "core/msh_grow.h"
#include "core/msh_hash.h"
#include "core/msh_index.h"
#include "store.h"
#include "store_sql.h"

#define SLOTS 5 /* one-minute slots of the permit window */

typedef struct {
    char id[MSH_FEED_ID_MAX + 1];
    uint32_t num;          /* its number in the store (feature ids), kept across restarts */
    bool has_loc;
    double lon, lat;
    uint64_t seq;          /* update count of the last record folded in */
    msh_gate_bucket *b;
    size_t first, n, cap;  /* live buckets are b[first .. n) */
    size_t dirty;          /* buckets from here on changed since the last stage (n: none) */
    int64_t slot_min[SLOTS], slot_valid[SLOTS], slot_denied[SLOTS];
    bool permit_on;
} gate_rec;

typedef struct {
    uint32_t gate;
    msh_gate_bucket b;
    uint64_t seq;
    bool has_loc;
    double lon, lat;
} staged_row;

typedef struct {
    char site[MSH_SITE_NAME_MAX + 1];
    msh_site_reset r;
} site_reset;

struct msh_gate_counts {
    pthread_rwlock_t lk;
    pthread_mutex_t store_mu; /* the connection: commit (snapshot thread) and resets (a request) */
    msh_store *store;      /* own connection */
    site_reset *resets;    /* lk */
    size_t nresets, capresets;
    gate_rec *g;
    size_t ng, capg;
    msh_index ix;          /* FNV-1a of an id -> its index */
    uint32_t next_num;
    int64_t keep_ms, newest;
    size_t held;           /* buckets held, all gates */
    double threshold;
    int min_scans;
    uint64_t version;
    staged_row *st;        /* what the last stage copied, for commit */
    size_t nst, capst;
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS msh_gate_counts (gate TEXT NOT NULL, gate_n INTEGER NOT NULL,"
    " start_ms INTEGER NOT NULL, in_n INTEGER NOT NULL, out_n INTEGER NOT NULL, peak_util REAL,"
    " scans_valid INTEGER NOT NULL, scans_denied INTEGER NOT NULL, seq INTEGER NOT NULL, lon REAL, lat REAL,"
    " PRIMARY KEY (gate, start_ms));"
    "CREATE INDEX IF NOT EXISTS msh_gate_counts_start ON msh_gate_counts (start_ms);"
    "CREATE TABLE IF NOT EXISTS msh_site_resets (site TEXT PRIMARY KEY, reset_ms INTEGER NOT NULL,"
    " base_in INTEGER NOT NULL, base_out INTEGER NOT NULL)";

static msh_rc commit_locked(msh_gate_counts *gc, msh_err *err);

/* The gate named id[0..n): its index, made when `make` (with number `num`, or the next); -1 when
 * unknown and not made, or out of memory. */
static int64_t find_gate(msh_gate_counts *gc, const char *id, size_t n, bool make, int64_t num)
{
    uint64_t key = msh_fnv1a(id, n, MSH_FNV1A_INIT);
    for (;; key++) {
        uint32_t *i = msh_index_get(&gc->ix, key);
        if (!i)
            break;
        if (strlen(gc->g[*i].id) == n && !memcmp(gc->g[*i].id, id, n))
            return *i;
    }
    if (!make || n > MSH_FEED_ID_MAX ||
        msh_grow_from((void **)&gc->g, &gc->capg, gc->ng + 1, sizeof *gc->g, 64) ||
        msh_index_put(&gc->ix, key, (uint32_t)gc->ng))
        return -1;
    gate_rec *g = &gc->g[gc->ng];
    memset(g, 0, sizeof *g);
    memcpy(g->id, id, n);
    g->num = num >= 0 ? (uint32_t)num : gc->next_num;
    if (g->num >= gc->next_num)
        gc->next_num = g->num + 1;
    return (int64_t)gc->ng++;
}

/* Drop buckets past the horizon, and the oldest of the fullest gate past the cap. */
static void drop_old(msh_gate_counts *gc, gate_rec *g)
{
    while (g->first < g->n && g->b[g->first].start_ms < gc->newest - gc->keep_ms) {
        g->first++;
        gc->held--;
    }
    while (gc->held > MSH_GATE_COUNTS_MAX) {
        gate_rec *full = g;
        for (size_t i = 0; i < gc->ng; i++)
            if (gc->g[i].n - gc->g[i].first > full->n - full->first)
                full = &gc->g[i];
        full->first++;
        gc->held--;
    }
    if (g->first > 0 && g->first >= g->n / 8) {
        memmove(g->b, g->b + g->first, (g->n - g->first) * sizeof *g->b);
        g->n -= g->first;
        g->dirty = g->dirty > g->first ? g->dirty - g->first : 0;
        g->first = 0;
    }
}

/* The bucket of t_ms in gate g (the last one or a new one after it); NULL when out of memory. */
static msh_gate_bucket *bucket_at(msh_gate_counts *gc, gate_rec *g, int64_t t_ms)
{
    int64_t start = t_ms - ((t_ms % MSH_GATE_BUCKET_MS) + MSH_GATE_BUCKET_MS) % MSH_GATE_BUCKET_MS;
    if (g->n > g->first && g->b[g->n - 1].start_ms >= start) {
        if (g->dirty > g->n - 1)
            g->dirty = g->n - 1;
        return &g->b[g->n - 1]; /* the gate's latest bucket (a record is never older than it) */
    }
    if (msh_grow_from((void **)&g->b, &g->cap, g->n + 1, sizeof *g->b, 64))
        return NULL;
    msh_gate_bucket *b = &g->b[g->n];
    *b = (msh_gate_bucket){start, 0, 0, 0, 0, NAN};
    if (g->dirty > g->n)
        g->dirty = g->n;
    g->n++;
    gc->held++;
    if (start > gc->newest)
        gc->newest = start;
    return b;
}

/* The permit window after a report of `valid` and `denied` scans at t_ms. */
static void permit_step(msh_gate_counts *gc, gate_rec *g, int64_t t_ms, int64_t valid, int64_t denied,
                        msh_permit_change *pc)
{
    int64_t m = t_ms / 60000;
    int s = (int)(m % SLOTS);
    if (g->slot_min[s] != m) {
        g->slot_min[s] = m;
        g->slot_valid[s] = g->slot_denied[s] = 0;
    }
    g->slot_valid[s] += valid;
    g->slot_denied[s] += denied;
    int64_t v = 0, d = 0;
    for (int i = 0; i < SLOTS; i++)
        if (g->slot_min[i] > m - SLOTS && g->slot_min[i] <= m) {
            v += g->slot_valid[i];
            d += g->slot_denied[i];
        }
    if (v + d < gc->min_scans || v + d == 0)
        return; /* too few scans to judge: the alert stays as it is */
    double share = (double)d / (double)(v + d);
    if (!g->permit_on && share > gc->threshold)
        pc->change = 1;
    else if (g->permit_on && share < gc->threshold * MSH_ALERT_CLEAR_RATIO)
        pc->change = -1;
    if (pc->change)
        g->permit_on = pc->change > 0;
    pc->share = share;
    pc->valid = v;
    pc->denied = d;
}

void msh_gate_counts_fold(msh_gate_counts *gc, const msh_live_item *it, msh_permit_change *pc)
{
    memset(pc, 0, sizeof *pc);
    const msh_feed_rec *r = &it->rec;
    if (it->by[0])
        return; /* an operator's open or close: no counts */
    pthread_rwlock_wrlock(&gc->lk);
    int64_t gi = find_gate(gc, r->id, r->id_len, true, -1);
    if (gi < 0)
        goto out;
    gate_rec *g = &gc->g[gi];
    if (it->updates <= g->seq)
        goto out; /* replayed, and counted in the store already */
    msh_gate_bucket *b = bucket_at(gc, g, r->t_ms);
    if (!b)
        goto out;
    g->seq = it->updates;
    if (r->has & MSH_FR_LOC) {
        g->has_loc = true;
        g->lon = r->lon;
        g->lat = r->lat;
    }
    if (r->has & MSH_FR_IN)
        b->in += r->in;
    if (r->has & MSH_FR_OUT)
        b->out += r->out;
    if ((r->has & MSH_FR_CAPACITY) && r->capacity > 0) {
        double u = it->flow_per_hour / r->capacity;
        if (isnan(b->peak_util) || u > b->peak_util)
            b->peak_util = u;
    }
    if (r->has & MSH_FR_SCANS) {
        b->scans_valid += r->scans_valid;
        b->scans_denied += r->scans_denied;
        permit_step(gc, g, r->t_ms, r->scans_valid, r->scans_denied, pc);
    }
    drop_old(gc, g);
    gc->version++;
out:
    pthread_rwlock_unlock(&gc->lk);
}

msh_rc msh_gate_counts_stage(msh_gate_counts *gc, msh_err *err)
{
    msh_rc rc = MSH_OK;
    pthread_rwlock_wrlock(&gc->lk);
    gc->nst = 0;
    for (size_t i = 0; i < gc->ng; i++) {
        gate_rec *g = &gc->g[i];
        for (size_t k = g->dirty > g->first ? g->dirty : g->first; k < g->n; k++) {
            if (msh_grow_from((void **)&gc->st, &gc->capst, gc->nst + 1, sizeof *gc->st, 256)) {
                rc = msh_err_set(err, MSH_ENOMEM, "gate counts: out of memory");
                goto out;
            }
            gc->st[gc->nst++] = (staged_row){(uint32_t)i, g->b[k], g->seq, g->has_loc, g->lon, g->lat};
        }
    }
    for (size_t i = 0; i < gc->ng; i++) /* staged: clean until the next fold (a failed commit stages again) */
        gc->g[i].dirty = gc->g[i].n;
out:
    pthread_rwlock_unlock(&gc->lk);
    return rc;
}

msh_rc msh_gate_counts_commit(msh_gate_counts *gc, msh_err *err)
{
    pthread_mutex_lock(&gc->store_mu);
    msh_rc rc = commit_locked(gc, err);
    pthread_mutex_unlock(&gc->store_mu);
    return rc;
}

/* Remember a reset in memory (write lock held); out of memory: -1. */
static int put_reset(msh_gate_counts *gc, const char *site, const msh_site_reset *rs)
{
    for (size_t i = 0; i < gc->nresets; i++)
        if (!strcmp(gc->resets[i].site, site)) {
            gc->resets[i].r = *rs;
            return 0;
        }
    if (msh_grow_from((void **)&gc->resets, &gc->capresets, gc->nresets + 1, sizeof *gc->resets, 16))
        return -1;
    site_reset *r = &gc->resets[gc->nresets++];
    snprintf(r->site, sizeof r->site, "%s", site);
    r->r = *rs;
    return 0;
}

msh_rc msh_gate_counts_reset_site(msh_gate_counts *gc, const char *site, const msh_site_reset *rs, msh_err *err)
{
    size_t n = strlen(site);
    if (!n || n > MSH_SITE_NAME_MAX)
        return msh_err_set(err, MSH_EINVAL, "a site name is 1 to %d bytes", MSH_SITE_NAME_MAX);
    msh_rc rc = MSH_OK;
    msh_sql *q = NULL;
    pthread_mutex_lock(&gc->store_mu);
    if (msh_sql_prepare(gc->store, "INSERT INTO msh_site_resets (site, reset_ms, base_in, base_out)"
                                       " VALUES (?, ?, ?, ?) ON CONFLICT (site) DO UPDATE SET"
                                       " reset_ms = excluded.reset_ms, base_in = excluded.base_in,"
                                       " base_out = excluded.base_out", &q)) {
        rc = msh_err_set(err, MSH_EIO, "site reset: %s", msh_store_errmsg(gc->store));
        goto out;
    }
    msh_sql_bind_text(q, 1, site, (int)n);
    msh_sql_bind_int(q, 2, rs->t_ms);
    msh_sql_bind_int(q, 3, rs->base_in);
    msh_sql_bind_int(q, 4, rs->base_out);
    if (msh_sql_step(q) != MSH_SQL_DONE) {
        rc = msh_err_set(err, MSH_EIO, "site reset: %s", msh_store_errmsg(gc->store));
        goto out;
    }
    pthread_rwlock_wrlock(&gc->lk);
    if (put_reset(gc, site, rs))
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory"); /* in the store: back after a restart */
    pthread_rwlock_unlock(&gc->lk);
out:
    msh_sql_finalize(q);
    pthread_mutex_unlock(&gc->store_mu);
    return rc;
}

msh_site_reset msh_gate_counts_site_reset(msh_gate_counts *gc, const char *site)
{
    for (size_t i = 0; i < gc->nresets; i++)
        if (!strcmp(gc->resets[i].site, site))
            return gc->resets[i].r;
    return (msh_site_reset){0, 0, 0};
}

static msh_rc commit_locked(msh_gate_counts *gc, msh_err *err)
{
    msh_store *db = gc->store;
    msh_sql *ins = NULL, *del = NULL;
    msh_rc rc = MSH_OK;
    if (msh_store_begin(db) ||
        /* every node of a cluster folds the same stream and writes its buckets at its own snapshots: a
         * bucket only moves forward (by the gate's update count), so a node behind never undoes one ahead */
        msh_sql_prepare(db, "INSERT INTO msh_gate_counts (gate, gate_n, start_ms, in_n, out_n, peak_util,"
                            " scans_valid, scans_denied, seq, lon, lat) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
                            " ON CONFLICT (gate, start_ms) DO UPDATE SET gate_n = excluded.gate_n,"
                            " in_n = excluded.in_n, out_n = excluded.out_n, peak_util = excluded.peak_util,"
                            " scans_valid = excluded.scans_valid, scans_denied = excluded.scans_denied,"
                            " seq = excluded.seq, lon = excluded.lon, lat = excluded.lat"
                            " WHERE excluded.seq >= msh_gate_counts.seq", &ins) ||
        msh_sql_prepare(db, "DELETE FROM msh_gate_counts WHERE start_ms < ?", &del)) {
        rc = msh_err_set(err, MSH_EIO, "gate counts: %s", msh_store_errmsg(db));
        goto out;
    }
    for (size_t i = 0; i < gc->nst; i++) {
        const staged_row *s = &gc->st[i];
        const gate_rec *g = &gc->g[s->gate]; /* gates are never removed: the index stays good */
        msh_sql_reset(ins);
        msh_sql_bind_text(ins, 1, g->id, -1);
        msh_sql_bind_int(ins, 2, g->num);
        msh_sql_bind_int(ins, 3, s->b.start_ms);
        msh_sql_bind_int(ins, 4, s->b.in);
        msh_sql_bind_int(ins, 5, s->b.out);
        msh_sql_bind_num(ins, 6, s->b.peak_util);
        msh_sql_bind_int(ins, 7, s->b.scans_valid);
        msh_sql_bind_int(ins, 8, s->b.scans_denied);
        msh_sql_bind_int(ins, 9, (int64_t)s->seq);
        msh_sql_bind_num(ins, 10, s->has_loc ? s->lon : NAN);
        msh_sql_bind_num(ins, 11, s->has_loc ? s->lat : NAN);
        if (msh_sql_step(ins) != MSH_SQL_DONE) {
            rc = msh_err_set(err, MSH_EIO, "gate counts: %s", msh_store_errmsg(db));
            goto out;
        }
    }
    msh_sql_bind_int(del, 1, gc->newest - gc->keep_ms);
    if (msh_sql_step(del) != MSH_SQL_DONE || msh_store_commit(db))
        rc = msh_err_set(err, MSH_EIO, "gate counts: %s", msh_store_errmsg(db));
out:
    if (rc) {
        msh_store_rollback(db);
        pthread_rwlock_wrlock(&gc->lk);
        for (size_t i = 0; i < gc->nst; i++) { /* written next time */
            gate_rec *g = &gc->g[gc->st[i].gate];
            g->dirty = g->first;
        }
        pthread_rwlock_unlock(&gc->lk);
    }
    msh_sql_finalize(ins);
    msh_sql_finalize(del);
    return rc;
}

/* The store's rows within the horizon of the newest, gate by gate in time order. */
static msh_rc load_rows(msh_gate_counts *gc, msh_err *err)
{
    msh_sql *q;
    if (msh_sql_prepare(gc->store,
                        "SELECT gate, gate_n, start_ms, in_n, out_n, peak_util, scans_valid, scans_denied, seq, lon, lat"
                        " FROM msh_gate_counts WHERE start_ms >= (SELECT max(start_ms) FROM msh_gate_counts) - ?"
                        " ORDER BY gate_n, start_ms", &q))
        return msh_err_set(err, MSH_EIO, "gate counts: %s", msh_store_errmsg(gc->store));
    msh_sql_bind_int(q, 1, gc->keep_ms);
    msh_rc rc = MSH_OK;
    int s;
    while ((s = msh_sql_step(q)) == MSH_SQL_ROW) {
        size_t n;
        const char *id = msh_sql_text(q, 0, &n);
        int64_t gi = id ? find_gate(gc, id, n, true, msh_sql_int(q, 1)) : -1;
        if (gi < 0) {
            rc = msh_err_set(err, MSH_ENOMEM, "gate counts: out of memory (or a gate id over 64 bytes)");
            break;
        }
        gate_rec *g = &gc->g[gi];
        msh_gate_bucket *b = bucket_at(gc, g, msh_sql_int(q, 2));
        if (!b) {
            rc = msh_err_set(err, MSH_ENOMEM, "gate counts: out of memory");
            break;
        }
        *b = (msh_gate_bucket){msh_sql_int(q, 2), msh_sql_int(q, 3), msh_sql_int(q, 4), msh_sql_int(q, 6),
                               msh_sql_int(q, 7), msh_sql_num(q, 5)};
        uint64_t seq = (uint64_t)msh_sql_int(q, 8);
        if (seq > g->seq)
            g->seq = seq;
        double lon = msh_sql_num(q, 9), lat = msh_sql_num(q, 10);
        if (!isnan(lon) && !isnan(lat)) {
            g->has_loc = true;
            g->lon = lon;
            g->lat = lat;
        }
    }
    if (!rc && s != MSH_SQL_DONE)
        rc = msh_err_set(err, MSH_EIO, "gate counts: %s", msh_store_errmsg(gc->store));
    msh_sql_finalize(q);
    for (size_t i = 0; i < gc->ng; i++) {
        gc->g[i].dirty = gc->g[i].n; /* as the store holds them */
        drop_old(gc, &gc->g[i]);
    }
    if (!rc && msh_sql_prepare(gc->store, "SELECT site, reset_ms, base_in, base_out FROM msh_site_resets", &q))
        rc = msh_err_set(err, MSH_EIO, "site resets: %s", msh_store_errmsg(gc->store));
    else if (!rc) {
        while (!rc && msh_sql_step(q) == MSH_SQL_ROW) {
            const char *site = msh_sql_text(q, 0, NULL);
            msh_site_reset rs = {msh_sql_int(q, 1), msh_sql_int(q, 2), msh_sql_int(q, 3)};
            if (site && strlen(site) <= MSH_SITE_NAME_MAX && put_reset(gc, site, &rs))
                rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
        }
        msh_sql_finalize(q);
    }
    return rc;
}

msh_rc msh_gate_counts_open(const char *db_path, int64_t keep_ms, double threshold, int min_scans,
                            msh_gate_counts **out, msh_err *err)
{
    *out = NULL;
    msh_gate_counts *gc = calloc(1, sizeof *gc);
    if (!gc)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    pthread_rwlock_init(&gc->lk, NULL);
    pthread_mutex_init(&gc->store_mu, NULL);
    msh_index_init(&gc->ix);
    gc->keep_ms = keep_ms;
    gc->threshold = threshold;
    gc->min_scans = min_scans;
    msh_rc rc = msh_store_open_own(db_path, "gate counts table", SCHEMA, 5000, &gc->store, err);
    if (!rc)
        rc = load_rows(gc, err);
    if (rc) {
        msh_gate_counts_close(gc);
        return rc;
    }
    *out = gc;
    return MSH_OK;
}

void msh_gate_counts_close(msh_gate_counts *gc)
{
    if (!gc)
        return;
    if (gc->store)
        msh_store_close(gc->store);
    for (size_t i = 0; i < gc->ng; i++)
        free(gc->g[i].b);
    free(gc->g);
    free(gc->st);
    free(gc->resets);
    msh_index_free(&gc->ix);
    pthread_mutex_destroy(&gc->store_mu);
    pthread_rwlock_destroy(&gc->lk);
    free(gc);
}

void msh_gate_counts_rdlock(msh_gate_counts *gc)
{
    pthread_rwlock_rdlock(&gc->lk);
}

void msh_gate_counts_unlock(msh_gate_counts *gc)
{
    pthread_rwlock_unlock(&gc->lk);
}

void msh_gate_counts_each(msh_gate_counts *gc, msh_gate_bucket_fn fn, void *ud)
{
    for (size_t i = 0; i < gc->ng; i++) {
        const gate_rec *g = &gc->g[i];
        for (size_t k = g->first; k < g->n; k++) {
            uint64_t fid = ((uint64_t)(g->b[k].start_ms / MSH_GATE_BUCKET_MS) << 20) | (g->num & 0xFFFFFu);
            if (fn(ud, g->id, g->has_loc, g->lon, g->lat, &g->b[k], fid))
                return;
        }
    }
}

const msh_gate_bucket *msh_gate_counts_gate(msh_gate_counts *gc, const char *id, int64_t since_ms, size_t *n)
{
    *n = 0;
    int64_t gi = find_gate(gc, id, strlen(id), false, -1);
    if (gi < 0)
        return NULL;
    const gate_rec *g = &gc->g[gi];
    size_t k = g->first;
    while (k < g->n && g->b[k].start_ms < since_ms)
        k++;
    *n = g->n - k;
    return *n ? &g->b[k] : NULL;
}

uint64_t msh_gate_counts_version(msh_gate_counts *gc)
{
    pthread_rwlock_rdlock(&gc->lk);
    uint64_t v = gc->version;
    pthread_rwlock_unlock(&gc->lk);
    return v;
}
