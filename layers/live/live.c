/* live.c: tracked people with incremental density cells, and the small live tables. */
#include "live.h"
#include "live_int.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/msh_buf.h"
#include "core/msh_grow.h"
#include "core/msh_index.h"
#include "core/msh_tilemath.h"
#include "core/msh_hash.h"
#include "bins.h"
#include "track.h"

#define BASE_LEVEL 22
#define CHUNK_BITS 6
#define CHUNK_SIDE (1 << CHUNK_BITS)
#define CHUNK_LEVEL (BASE_LEVEL - CHUNK_BITS) /* 16 */
#define MAX_SPEED 15.0                        /* m/s; faster derived speeds are GPS jumps */

typedef struct {
    uint32_t count;
    int32_t vx, vy; /* sums, cm/s */
    uint64_t v2;    /* sum of squared speeds, (cm/s)^2 */
} cell_t;

typedef struct {
    uint32_t key; /* chx << 16 | chy */
    uint32_t version;
    uint32_t population;
    cell_t cells[CHUNK_SIDE * CHUNK_SIDE];
} chunk_t;

typedef struct {
    uint64_t idh;
    int64_t t_ms;
    uint32_t wx, wy;   /* world units x 2^32 */
    uint32_t id_off;   /* into ids: [len][bytes] */
    uint32_t group;    /* index into groups + 1, 0 = none */
    int16_t vx, vy;    /* cm/s */
    uint8_t active;
} person_t;

typedef struct {
    msh_live_item *items;
    uint32_t n;
    size_t cap;
    msh_refindex ix; /* items by id */
} item_tab;

struct msh_live {
    msh_live_config cfg;
    pthread_rwlock_t lock;
    person_t *people;
    uint32_t npeople, cap_people;
    msh_refindex pix; /* people by id (hash: idh) */
    msh_buf ids;
    msh_buf groups;     /* [len][bytes] each */
    uint32_t ngroups;
    uint32_t *group_off; /* group index -> offset in groups */
    size_t cap_group_off;
    msh_refindex gix;    /* groups by name */
    chunk_t **chunks;
    uint32_t nchunks;
    size_t cap_chunks;
    msh_refindex cix; /* chunks by key */
    item_tab items[MSH_FEED_COUNT];
    uint64_t active, updates;
    uint64_t ops_seq; /* highest n of an INC-OPS-<n> incident applied */
    const char *author, *author_role; /* msh_live_raw_set_author: who writes what msh_live_apply applies */
    msh_live_observer observer;
    void *observer_ud;
    msh_live_move_fn move_observer;
    void *move_ud;
    msh_track *track; /* trails (track.h), NULL when --track-hours is 0 */
};

void msh_live_set_move_observer(msh_live *l, msh_live_move_fn fn, void *ud)
{
    l->move_observer = fn;
    l->move_ud = ud;
}

void msh_live_set_observer(msh_live *l, msh_live_observer fn, void *ud)
{
    l->observer = fn;
    l->observer_ud = ud;
}

static uint64_t hash_bytes(const void *p, size_t n)
{
    uint64_t h = msh_mix64(msh_fnv1a(p, n, MSH_FNV1A_INIT));
    return h ? h : 1;
}

void msh_live_config_init(msh_live_config *c)
{
    c->max_age_s = 600;
    c->max_entities = 5000000;
    c->track_hours = 0;
    c->bin_overflow = MSH_BIN_OVERFLOW_DEFAULT;
}

msh_rc msh_live_new(const msh_live_config *c, msh_live **out, msh_err *err)
{
    msh_live *l = calloc(1, sizeof *l);
    if (!l)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    l->cfg = *c;
    if (c->track_hours > 0 && !(l->track = msh_track_new(c->track_hours))) {
        free(l);
        return msh_err_set(err, MSH_EINVAL, "track hours: 0 (off) to %d", MSH_TRACK_MAX_HOURS);
    }
    pthread_rwlock_init(&l->lock, NULL);
    msh_buf_init(&l->ids, (size_t)UINT32_MAX);
    msh_buf_init(&l->groups, (size_t)UINT32_MAX);
    /* the small tables are looked up on every update: short probe runs; people keep 4 bytes a slot */
    l->gix.sparse = l->cix.sparse = true;
    for (int f = 0; f < MSH_FEED_COUNT; f++)
        l->items[f].ix.sparse = true;
    *out = l;
    return MSH_OK;
}

void msh_live_free(msh_live *l)
{
    if (!l)
        return;
    free(l->people);
    msh_track_free(l->track);
    msh_refindex_free(&l->pix);
    msh_buf_free(&l->ids);
    msh_buf_free(&l->groups);
    msh_refindex_free(&l->gix);
    free(l->group_off);
    for (uint32_t i = 0; i < l->nchunks; i++)
        free(l->chunks[i]);
    free(l->chunks);
    msh_refindex_free(&l->cix);
    for (int f = 0; f < MSH_FEED_COUNT; f++) {
        free(l->items[f].items);
        msh_refindex_free(&l->items[f].ix);
    }
    pthread_rwlock_destroy(&l->lock);
    free(l);
}

void msh_live_rdlock(msh_live *l) { pthread_rwlock_rdlock(&l->lock); }
void msh_live_wrlock(msh_live *l) { pthread_rwlock_wrlock(&l->lock); }
void msh_live_unlock(msh_live *l) { pthread_rwlock_unlock(&l->lock); }

/* ---- chunks ---- */

static uint64_t chunk_hash(const void *ud, uint32_t ref)
{
    const msh_live *l = ud;
    return msh_mix64(l->chunks[ref]->key);
}

static bool chunk_is(const void *ud, uint32_t ref, const void *key)
{
    const msh_live *l = ud;
    return l->chunks[ref]->key == *(const uint32_t *)key;
}

static chunk_t *chunk_find(msh_live *l, uint32_t key)
{
    uint32_t i = msh_refindex_find(&l->cix, msh_mix64(key), chunk_is, l, &key);
    return i == MSH_REFINDEX_NONE ? NULL : l->chunks[i];
}

static chunk_t *chunk_get(msh_live *l, uint32_t key)
{
    chunk_t *c = chunk_find(l, key);
    if (c)
        return c;
    if (msh_refindex_reserve(&l->cix, l->nchunks + 1, chunk_hash, l) ||
        msh_grow_from((void **)&l->chunks, &l->cap_chunks, l->nchunks + 1, sizeof *l->chunks, 64))
        return NULL;
    c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->key = key;
    l->chunks[l->nchunks] = c;
    msh_refindex_add(&l->cix, msh_mix64(key), l->nchunks++, chunk_hash, l); /* reserved: cannot fail */
    return c;
}

/* Add (sign 1) or remove (sign -1) a person's contribution to their base cell. */
static void cell_touch(msh_live *l, const person_t *p, int sign)
{
    uint32_t bx = p->wx >> (32 - BASE_LEVEL), by = p->wy >> (32 - BASE_LEVEL);
    uint32_t key = (bx >> CHUNK_BITS) << 16 | (by >> CHUNK_BITS);
    chunk_t *c = sign > 0 ? chunk_get(l, key) : chunk_find(l, key);
    if (!c)
        return;
    cell_t *cell = &c->cells[(by & (CHUNK_SIDE - 1)) * CHUNK_SIDE + (bx & (CHUNK_SIDE - 1))];
    uint64_t v2 = (uint64_t)((int64_t)p->vx * p->vx + (int64_t)p->vy * p->vy);
    if (sign > 0) {
        cell->count++;
        cell->vx += p->vx;
        cell->vy += p->vy;
        cell->v2 += v2;
        c->population++;
    } else if (cell->count) {
        cell->count--;
        cell->vx -= p->vx;
        cell->vy -= p->vy;
        cell->v2 -= v2 <= cell->v2 ? v2 : cell->v2;
        if (!cell->count)
            cell->vx = cell->vy = 0, cell->v2 = 0;
        c->population--;
    }
    c->version++;
}

/* ---- people ---- */

static const char *person_id(const msh_live *l, const person_t *p, size_t *n)
{
    *n = l->ids.data[p->id_off];
    return (const char *)l->ids.data + p->id_off + 1;
}

static uint64_t person_hash(const void *ud, uint32_t ref)
{
    const msh_live *l = ud;
    return l->people[ref].idh;
}

/* What a lookup by id compares: the hash first, then the bytes. */
typedef struct {
    uint64_t h;
    const char *id;
    size_t n;
} id_key;

static bool person_is(const void *ud, uint32_t ref, const void *key)
{
    const msh_live *l = ud;
    const id_key *k = key;
    const person_t *p = &l->people[ref];
    size_t pn;
    const char *pid;
    return p->idh == k->h && (pid = person_id(l, p, &pn), pn == k->n) && !memcmp(pid, k->id, k->n);
}

static person_t *person_find(msh_live *l, uint64_t h, const char *id, size_t n)
{
    id_key k = {h, id, n};
    uint32_t i = msh_refindex_find(&l->pix, h, person_is, l, &k);
    return i == MSH_REFINDEX_NONE ? NULL : &l->people[i];
}

static person_t *person_add(msh_live *l, uint64_t h, const char *id, size_t n)
{
    if (l->npeople >= l->cfg.max_entities)
        return NULL;
    if (msh_refindex_reserve(&l->pix, (size_t)l->npeople + 1, person_hash, l))
        return NULL;
    if (l->npeople == l->cap_people) {
        /* grow by half, and by at least 1,024: a state restored with one person has room for one */
        uint32_t nc = l->cap_people + (l->cap_people / 2 > 1024 ? l->cap_people / 2 : 1024);
        person_t *np = realloc(l->people, (size_t)nc * sizeof *np);
        if (!np)
            return NULL;
        l->people = np;
        l->cap_people = nc;
    }
    if (l->ids.len > UINT32_MAX - 300)
        return NULL;
    uint32_t off = (uint32_t)l->ids.len;
    uint8_t len8 = (uint8_t)n;
    if (msh_buf_append(&l->ids, &len8, 1) || msh_buf_append(&l->ids, id, n))
        return NULL;
    person_t *p = &l->people[l->npeople];
    memset(p, 0, sizeof *p);
    p->idh = h;
    p->id_off = off;
    p->t_ms = INT64_MIN;
    msh_refindex_add(&l->pix, h, l->npeople++, person_hash, l); /* reserved: cannot fail */
    return p;
}

static const char *group_name(const msh_live *l, uint32_t i, size_t *n)
{
    uint32_t off = l->group_off[i];
    *n = l->groups.data[off];
    return (const char *)l->groups.data + off + 1;
}

static uint64_t group_hash(const void *ud, uint32_t ref)
{
    size_t n;
    const char *g = group_name(ud, ref, &n);
    return hash_bytes(g, n);
}

static bool group_is(const void *ud, uint32_t ref, const void *key)
{
    const id_key *k = key;
    size_t n;
    const char *g = group_name(ud, ref, &n);
    return n == k->n && !memcmp(g, k->id, n);
}

/* The index + 1 of group name g[0..n), added if new; 0 for no name (or no memory). */
static uint32_t group_intern(msh_live *l, const char *g, size_t n)
{
    if (!n)
        return 0;
    id_key k = {hash_bytes(g, n), g, n};
    uint32_t i = msh_refindex_find(&l->gix, k.h, group_is, l, &k);
    if (i != MSH_REFINDEX_NONE)
        return i + 1;
    if (msh_refindex_reserve(&l->gix, (size_t)l->ngroups + 1, group_hash, l) ||
        msh_grow_from((void **)&l->group_off, &l->cap_group_off, (size_t)l->ngroups + 1, sizeof *l->group_off, 128))
        return 0;
    uint32_t off = (uint32_t)l->groups.len;
    uint8_t len8 = (uint8_t)n;
    if (msh_buf_append(&l->groups, &len8, 1) || msh_buf_append(&l->groups, g, n))
        return 0;
    l->group_off[l->ngroups] = off;
    msh_refindex_add(&l->gix, k.h, l->ngroups, group_hash, l); /* reserved: cannot fail */
    return ++l->ngroups;
}

static uint32_t to_u32(double w)
{
    double v = w * 4294967296.0;
    if (v < 0)
        return 0;
    if (v > 4294967295.0)
        return UINT32_MAX;
    return (uint32_t)v;
}

static int16_t clamp_cm(double v)
{
    double cm = v * 100.0;
    if (cm > 1500) cm = 1500;
    if (cm < -1500) cm = -1500;
    return (int16_t)lrint(cm);
}

static void apply_position(msh_live *l, const msh_feed_rec *r)
{
    uint64_t h = hash_bytes(r->id, r->id_len);
    person_t *p = person_find(l, h, r->id, r->id_len);
    if (!p && !(p = person_add(l, h, r->id, r->id_len)))
        return;
    if (r->t_ms < p->t_ms)
        return; /* older than what we know */
    double wx, wy;
    msh_lonlat_to_world(r->lon, r->lat, &wx, &wy);
    uint32_t nx = to_u32(wx), ny = to_u32(wy);
    double vx = 0, vy = 0;
    if ((r->has & MSH_FR_SPEED) && (r->has & MSH_FR_HEADING)) {
        double a = r->heading * M_PI / 180.0;
        vx = r->speed * sin(a);
        vy = r->speed * cos(a);
    } else if (p->active && r->t_ms > p->t_ms) {
        double dt = (double)(r->t_ms - p->t_ms) / 1000.0;
        double scale = MSH_EARTH_CIRCUMFERENCE * cos(r->lat * M_PI / 180.0) / 4294967296.0;
        vx = ((double)nx - (double)p->wx) * scale / dt;
        vy = -((double)ny - (double)p->wy) * scale / dt;
        double s = hypot(vx, vy);
        if (s > MAX_SPEED)
            vx = vy = 0;
    }
    bool had_old = p->active;
    uint32_t owx = p->wx, owy = p->wy;
    if (p->active)
        cell_touch(l, p, -1);
    else
        l->active++;
    p->wx = nx;
    p->wy = ny;
    p->vx = clamp_cm(vx);
    p->vy = clamp_cm(vy);
    p->t_ms = r->t_ms;
    if (r->has & MSH_FR_GROUP)
        p->group = group_intern(l, r->group, strlen(r->group));
    p->active = 1;
    cell_touch(l, p, 1);
    if (l->track)
        msh_track_add(l->track, (uint32_t)(p - l->people), nx, ny, r->t_ms);
    if (l->move_observer)
        l->move_observer(l->move_ud, r->id, r->id_len, had_old, owx, owy, nx, ny, r->t_ms);
}

/* ---- small tables ---- */

static uint64_t item_hash(const void *ud, uint32_t ref)
{
    const item_tab *t = ud;
    return hash_bytes(t->items[ref].rec.id, t->items[ref].rec.id_len);
}

static bool item_is(const void *ud, uint32_t ref, const void *key)
{
    const item_tab *t = ud;
    const id_key *k = key;
    const msh_live_item *it = &t->items[ref];
    return it->rec.id_len == k->n && !memcmp(it->rec.id, k->id, k->n);
}

static msh_live_item *item_find(item_tab *t, const char *id, size_t n)
{
    id_key k = {hash_bytes(id, n), id, n};
    uint32_t i = msh_refindex_find(&t->ix, k.h, item_is, t, &k);
    return i == MSH_REFINDEX_NONE ? NULL : &t->items[i];
}

static msh_live_item *item_add(item_tab *t, const char *id, size_t n)
{
    if (t->n >= MSH_LIVE_MAX_ITEMS)
        return NULL;
    if (msh_refindex_reserve(&t->ix, (size_t)t->n + 1, item_hash, t) ||
        msh_grow_from((void **)&t->items, &t->cap, (size_t)t->n + 1, sizeof *t->items, 64))
        return NULL;
    msh_live_item *it = &t->items[t->n];
    memset(it, 0, sizeof *it);
    msh_refindex_add(&t->ix, hash_bytes(id, n), t->n++, item_hash, t); /* reserved: cannot fail */
    return it;
}

static void apply_item(msh_live *l, msh_feed feed, const msh_feed_rec *r)
{
    item_tab *t = &l->items[feed];
    msh_live_item *it = item_find(t, r->id, r->id_len);
    int is_new = !it;
    if (!it && !(it = item_add(t, r->id, r->id_len)))
        return;
    if (!is_new && r->t_ms < it->rec.t_ms)
        return;
    msh_feed_rec prev = it->rec;
    it->rec = *r;
    it->ops_flags &= (uint8_t)~MSH_ITEM_STALE; /* heard from again */
    snprintf(it->by, sizeof it->by, "%s", l->author ? l->author : ""); /* a feed record names no author */
    snprintf(it->by_role, sizeof it->by_role, "%s", l->author_role ? l->author_role : "");
    if (!(r->has & MSH_FR_LOC) && (prev.has & MSH_FR_LOC)) { /* a gate count without a location keeps the old one */
        it->rec.lon = prev.lon;
        it->rec.lat = prev.lat;
        it->rec.has |= MSH_FR_LOC;
    }
    /* an update that leaves out a description, name or kind keeps the one it had */
    if (!is_new) {
        if (!(r->has & MSH_FR_TEXT) && (prev.has & MSH_FR_TEXT)) {
            memcpy(it->rec.text, prev.text, sizeof prev.text);
            it->rec.has |= MSH_FR_TEXT;
        }
        if (!(r->has & MSH_FR_KIND) && (prev.has & MSH_FR_KIND)) {
            memcpy(it->rec.kind, prev.kind, sizeof prev.kind);
            it->rec.has |= MSH_FR_KIND;
        }
    }
    if (feed == MSH_FEED_INCIDENTS) {
        if (!(r->has & MSH_FR_STATUS) && !is_new) /* an update without a status keeps the lifecycle */
            it->rec.status = prev.status;
        int s = it->rec.status;
        if (is_new && s > MSH_INC_REPORTED)
            it->status_ms[MSH_INC_REPORTED] = r->t_ms; /* first heard of already dispatched: reported then */
        if (!it->status_ms[s])
            it->status_ms[s] = r->t_ms;
        if (!is_new && s < (int)prev.status) /* a lifecycle never goes back */
            it->rec.status = prev.status;
    } else if (feed == MSH_FEED_GATES) {
        if (!(r->has & MSH_FR_CAPACITY) && (prev.has & MSH_FR_CAPACITY)) {
            it->rec.capacity = prev.capacity;
            it->rec.has |= MSH_FR_CAPACITY;
        }
        it->in_total += r->in;
        it->out_total += r->out;
        double dt = is_new ? 0 : (double)(r->t_ms - prev.t_ms) / 3600000.0;
        if (dt > 0)
            it->flow_per_hour = (double)(r->in + r->out) / dt;
    } else if (feed == MSH_FEED_BINS) {
        bool was = (it->ops_flags & MSH_ITEM_OVERFLOW) != 0;
        bool now = msh_bin_overflowing(was, it->rec.fill, l->cfg.bin_overflow);
        it->overflow_change = (int8_t)(now - was);
        it->ops_flags = (uint8_t)(now ? it->ops_flags | MSH_ITEM_OVERFLOW : it->ops_flags & ~MSH_ITEM_OVERFLOW);
    }
    if (is_new && feed == MSH_FEED_INCIDENTS && r->id_len > 8 && !memcmp(r->id, "INC-OPS-", 8)) {
        uint64_t n = strtoull(r->id + 8, NULL, 10); /* ids of operator-created incidents are never reused */
        if (n > l->ops_seq)
            l->ops_seq = n;
    }
    it->updates++;
    if (l->observer)
        l->observer(l->observer_ud, feed, it, is_new ? NULL : &prev);
}

size_t msh_live_apply(msh_live *l, msh_feed feed, const msh_feed_rec *recs, size_t n, int64_t now_ms)
{
    (void)now_ms;
    for (size_t i = 0; i < n; i++) {
        if (feed == MSH_FEED_POSITIONS)
            apply_position(l, &recs[i]);
        else
            apply_item(l, feed, &recs[i]);
    }
    l->updates += n;
    return n;
}

size_t msh_live_expire(msh_live *l, int64_t now_ms)
{
    int64_t cutoff = now_ms - (int64_t)l->cfg.max_age_s * 1000;
    size_t n = 0;
    msh_live_wrlock(l);
    for (uint32_t i = 0; i < l->npeople; i++) {
        person_t *p = &l->people[i];
        if (p->active && p->t_ms < cutoff) {
            cell_touch(l, p, -1);
            p->active = 0;
            l->active--;
            n++;
        }
    }
    msh_live_unlock(l);
    return n;
}

/* ---- reading ---- */

typedef struct {
    uint64_t count;
    int64_t vx, vy;
    uint64_t v2;
    uint32_t peak; /* the fullest base cell inside */
} acc_t;

/* Chunks meeting box: every existing chunk when that is cheaper than looking each one up. */
static void for_chunks(msh_live *l, const double box[4], void (*fn)(void *, chunk_t *), void *ud)
{
    double n = (double)(1u << CHUNK_LEVEL);
    double x0 = floor(box[0] * n), y0 = floor(box[1] * n), x1 = floor(box[2] * n), y1 = floor(box[3] * n);
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > n - 1) x1 = n - 1;
    if (y1 > n - 1) y1 = n - 1;
    if (x1 < x0 || y1 < y0)
        return;
    double span = (x1 - x0 + 1) * (y1 - y0 + 1);
    if (span > (double)l->nchunks) {
        for (uint32_t i = 0; i < l->nchunks; i++) {
            chunk_t *c = l->chunks[i];
            double cx = c->key >> 16, cy = c->key & 0xffff;
            if (cx >= x0 && cx <= x1 && cy >= y0 && cy <= y1)
                fn(ud, c);
        }
        return;
    }
    for (uint32_t cx = (uint32_t)x0; cx <= (uint32_t)x1; cx++)
        for (uint32_t cy = (uint32_t)y0; cy <= (uint32_t)y1; cy++) {
            chunk_t *c = chunk_find(l, cx << 16 | cy);
            if (c)
                fn(ud, c);
        }
}

typedef struct {
    int shift;
    uint32_t ox0, oy0, nx, ny;
    acc_t *acc;
} cells_job;

static void cells_chunk(void *ud, chunk_t *c)
{
    cells_job *j = ud;
    if (!c->population)
        return;
    uint32_t bx0 = (c->key >> 16) << CHUNK_BITS, by0 = (c->key & 0xffff) << CHUNK_BITS;
    for (uint32_t k = 0; k < CHUNK_SIDE * CHUNK_SIDE; k++) {
        const cell_t *cell = &c->cells[k];
        if (!cell->count)
            continue;
        uint32_t ox = ((bx0 + (k & (CHUNK_SIDE - 1))) >> j->shift), oy = ((by0 + (k >> CHUNK_BITS)) >> j->shift);
        if (ox < j->ox0 || oy < j->oy0 || ox - j->ox0 >= j->nx || oy - j->oy0 >= j->ny)
            continue;
        acc_t *a = &j->acc[(size_t)(oy - j->oy0) * j->nx + (ox - j->ox0)];
        if (cell->count > a->peak)
            a->peak = cell->count;
        a->count += cell->count;
        a->vx += cell->vx;
        a->vy += cell->vy;
        a->v2 += cell->v2;
    }
}

void msh_live_cells(msh_live *l, int level, const double box[4], msh_live_cell_fn fn, void *ud)
{
    if (level > BASE_LEVEL)
        level = BASE_LEVEL;
    if (level < 0)
        level = 0;
    double n = (double)(1u << level);
    double x0 = fmax(0, floor(box[0] * n)), y0 = fmax(0, floor(box[1] * n));
    double x1 = fmin(n - 1, floor(box[2] * n)), y1 = fmin(n - 1, floor(box[3] * n));
    if (x1 < x0 || y1 < y0 || (x1 - x0 + 1) * (y1 - y0 + 1) > 4.0e6)
        return;
    cells_job j = {BASE_LEVEL - level, (uint32_t)x0, (uint32_t)y0, (uint32_t)(x1 - x0 + 1), (uint32_t)(y1 - y0 + 1), NULL};
    j.acc = calloc((size_t)j.nx * j.ny, sizeof *j.acc);
    if (!j.acc)
        return;
    for_chunks(l, box, cells_chunk, &j);
    for (uint32_t y = 0; y < j.ny; y++)
        for (uint32_t x = 0; x < j.nx; x++) {
            const acc_t *a = &j.acc[(size_t)y * j.nx + x];
            if (!a->count)
                continue;
            msh_live_cell c;
            c.level = (uint32_t)level;
            c.cx = j.ox0 + x;
            c.cy = j.oy0 + y;
            c.count = (uint32_t)a->count;
            c.peak_count = a->peak;
            c.mean_vx = (double)a->vx / a->count / 100.0;
            c.mean_vy = (double)a->vy / a->count / 100.0;
            double e2 = (double)a->v2 / a->count / 10000.0;
            c.var_v = fmax(0, e2 - (c.mean_vx * c.mean_vx + c.mean_vy * c.mean_vy));
            if (fn(ud, &c)) {
                free(j.acc);
                return;
            }
        }
    free(j.acc);
}

typedef struct {
    const double *box;
    msh_live_cell_fn fn;
    void *ud;
    int stop;
} base_job;

static void base_chunk(void *ud, chunk_t *c)
{
    base_job *j = ud;
    if (j->stop || !c->population)
        return;
    const double n = (double)(1u << BASE_LEVEL);
    uint32_t x0 = (uint32_t)fmax(0, floor(j->box[0] * n)), y0 = (uint32_t)fmax(0, floor(j->box[1] * n));
    uint32_t x1 = (uint32_t)fmin(n - 1, floor(j->box[2] * n)), y1 = (uint32_t)fmin(n - 1, floor(j->box[3] * n));
    uint32_t bx0 = (c->key >> 16) << CHUNK_BITS, by0 = (c->key & 0xffff) << CHUNK_BITS;
    for (uint32_t k = 0; k < CHUNK_SIDE * CHUNK_SIDE && !j->stop; k++) {
        const cell_t *cell = &c->cells[k];
        uint32_t cx = bx0 + (k & (CHUNK_SIDE - 1)), cy = by0 + (k >> CHUNK_BITS);
        if (!cell->count || cx < x0 || cx > x1 || cy < y0 || cy > y1)
            continue;
        msh_live_cell o;
        msh_live_cell_from_sums(cx, cy, cell->count, cell->vx, cell->vy, cell->v2, &o);
        j->stop = j->fn(j->ud, &o);
    }
}

void msh_live_base_cells(msh_live *l, const double box[4], msh_live_cell_fn fn, void *ud)
{
    base_job j = {box, fn, ud, 0};
    for_chunks(l, box, base_chunk, &j);
}

void msh_live_raw_cells(const msh_live *l, msh_live_raw_cell_fn fn, void *ud)
{
    for (uint32_t i = 0; i < l->nchunks; i++) {
        const chunk_t *c = l->chunks[i];
        if (!c->population)
            continue;
        uint32_t bx0 = (c->key >> 16) << CHUNK_BITS, by0 = (c->key & 0xffff) << CHUNK_BITS;
        for (uint32_t k = 0; k < CHUNK_SIDE * CHUNK_SIDE; k++) {
            const cell_t *cell = &c->cells[k];
            if (cell->count && fn(ud, bx0 + (k & (CHUNK_SIDE - 1)), by0 + (k >> CHUNK_BITS), cell->count, cell->vx,
                                  cell->vy, cell->v2))
                return;
        }
    }
}

void msh_live_scan(msh_live *l, int level, msh_live_cell_fn fn, void *ud)
{
    if (level > BASE_LEVEL)
        level = BASE_LEVEL;
    if (level < CHUNK_LEVEL)
        level = CHUNK_LEVEL;
    int shift = BASE_LEVEL - level;
    uint32_t side = CHUNK_SIDE >> shift;
    acc_t *acc = malloc((size_t)side * side * sizeof *acc);
    if (!acc)
        return;
    for (uint32_t i = 0; i < l->nchunks; i++) {
        const chunk_t *c = l->chunks[i];
        if (!c->population)
            continue;
        memset(acc, 0, (size_t)side * side * sizeof *acc);
        for (uint32_t k = 0; k < CHUNK_SIDE * CHUNK_SIDE; k++) {
            const cell_t *cell = &c->cells[k];
            if (!cell->count)
                continue;
            acc_t *a = &acc[((k >> CHUNK_BITS) >> shift) * side + ((k & (CHUNK_SIDE - 1)) >> shift)];
            a->count += cell->count;
            a->vx += cell->vx;
            a->vy += cell->vy;
            a->v2 += cell->v2;
        }
        for (uint32_t j = 0; j < side * side; j++) {
            const acc_t *a = &acc[j];
            if (!a->count)
                continue;
            msh_live_cell o;
            o.level = (uint32_t)level;
            o.cx = (((c->key >> 16) << CHUNK_BITS) >> shift) + j % side;
            o.cy = (((c->key & 0xffff) << CHUNK_BITS) >> shift) + j / side;
            o.count = (uint32_t)a->count;
            o.peak_count = 0;
            o.mean_vx = (double)a->vx / a->count / 100.0;
            o.mean_vy = (double)a->vy / a->count / 100.0;
            double e2 = (double)a->v2 / a->count / 10000.0;
            o.var_v = fmax(0, e2 - (o.mean_vx * o.mean_vx + o.mean_vy * o.mean_vy));
            if (fn(ud, &o)) {
                free(acc);
                return;
            }
        }
    }
    free(acc);
}

static void version_chunk(void *ud, chunk_t *c)
{
    uint64_t *h = ud;
    uint64_t v = (uint64_t)c->key << 32 | c->version;
    *h = msh_fnv1a(&v, sizeof v, *h);
    *h ^= *h >> 29;
}

uint64_t msh_live_region_version(msh_live *l, const double box[4])
{
    uint64_t h = MSH_FNV1A_INIT;
    for_chunks(l, box, version_chunk, &h);
    return h;
}

static void person_state(const msh_live *l, const person_t *p, msh_live_person *o)
{
    msh_world_to_lonlat(p->wx / 4294967296.0, p->wy / 4294967296.0, &o->lon, &o->lat);
    o->t_ms = p->t_ms;
    o->speed = (float)(hypot(p->vx, p->vy) / 100.0);
    double hd = atan2(p->vx, p->vy) * 180.0 / M_PI;
    o->heading = (float)(hd < 0 ? hd + 360 : hd);
    o->group[0] = 0;
    if (p->group) {
        uint32_t off = l->group_off[p->group - 1];
        memcpy(o->group, l->groups.data + off + 1, l->groups.data[off]);
        o->group[l->groups.data[off]] = 0;
    }
    o->active = p->active;
}

bool msh_live_person_get(msh_live *l, const char *id, size_t n, msh_live_person *out)
{
    person_t *p = person_find(l, hash_bytes(id, n), id, n);
    if (!p)
        return false;
    person_state(l, p, out);
    return true;
}

/* Call fn with p's id (NUL-terminated) and state; its answer. */
static int tell_person(const msh_live *l, const person_t *p, msh_live_person_fn fn, void *ud)
{
    char id[MSH_FEED_ID_MAX + 1];
    size_t n;
    const char *pid = person_id(l, p, &n);
    memcpy(id, pid, n);
    id[n] = 0;
    msh_live_person st;
    person_state(l, p, &st);
    return fn(ud, id, &st);
}

int msh_live_track(msh_live *l, const char *id, size_t n, int64_t since_ms, int64_t now_ms, msh_track_pt *out)
{
    person_t *p = person_find(l, hash_bytes(id, n), id, n);
    if (!p)
        return -1;
    return msh_track_get(l->track, (uint32_t)(p - l->people), since_ms, now_ms, out);
}

bool msh_live_tracking(const msh_live *l) { return l->track != NULL; }

bool msh_live_group_people(msh_live *l, const char *group, size_t n, msh_live_person_fn fn, void *ud)
{
    id_key k = {hash_bytes(group, n), group, n};
    uint32_t gi = n ? msh_refindex_find(&l->gix, k.h, group_is, l, &k) : MSH_REFINDEX_NONE;
    if (gi == MSH_REFINDEX_NONE)
        return false;
    for (uint32_t i = 0; i < l->npeople; i++)
        if (l->people[i].group == gi + 1 && tell_person(l, &l->people[i], fn, ud))
            break;
    return true;
}

void msh_live_people(msh_live *l, const double box[4], msh_live_person_fn fn, void *ud)
{
    uint32_t x0 = to_u32(box[0]), y0 = to_u32(box[1]), x1 = to_u32(box[2]), y1 = to_u32(box[3]);
    for (uint32_t i = 0; i < l->npeople; i++) {
        const person_t *p = &l->people[i];
        if (!p->active || p->wx < x0 || p->wx > x1 || p->wy < y0 || p->wy > y1)
            continue;
        if (tell_person(l, p, fn, ud))
            return;
    }
}

void msh_live_items(msh_live *l, msh_feed feed, msh_live_item_fn fn, void *ud)
{
    item_tab *t = &l->items[feed];
    for (uint32_t i = 0; i < t->n; i++)
        if (fn(ud, &t->items[i]))
            return;
}

void msh_live_get_stats(msh_live *l, msh_live_stats *st)
{
    memset(st, 0, sizeof *st);
    msh_live_rdlock(l);
    st->people = l->npeople;
    st->active = l->active;
    st->chunks = l->nchunks;
    st->updates = l->updates;
    for (uint32_t i = 0; i < l->nchunks; i++)
        for (uint32_t k = 0; k < CHUNK_SIDE * CHUNK_SIDE; k++)
            st->cells += l->chunks[i]->cells[k].count != 0;
    for (int f = 0; f < MSH_FEED_COUNT; f++)
        st->items[f] = l->items[f].n;
    st->bytes = (uint64_t)l->cap_people * sizeof(person_t) + (uint64_t)l->pix.cap * 4 + l->ids.cap + l->groups.cap +
                (uint64_t)l->nchunks * sizeof(chunk_t) + (uint64_t)l->cix.cap * 4;
    st->track_bytes = msh_track_bytes(l->track);
    msh_live_unlock(l);
}

double msh_live_cell_metres(int level, double lat)
{
    return MSH_EARTH_CIRCUMFERENCE * cos(lat * M_PI / 180.0) / (double)(1u << level);
}

/* ---- raw state, for snapshots (live_int.h) ---- */

uint32_t msh_live_raw_ngroups(const msh_live *l)
{
    return l->ngroups;
}

const char *msh_live_raw_group(const msh_live *l, uint32_t i, size_t *n)
{
    return group_name(l, i, n);
}

uint32_t msh_live_raw_npeople(const msh_live *l)
{
    return l->npeople;
}

uint32_t msh_live_raw_max_people(const msh_live *l)
{
    return l->cfg.max_entities;
}

/* The fields a person_t and an msh_live_raw_person share, copied the same way in both directions. */
#define RAW_PERSON_FIELDS(X) X(t_ms) X(wx) X(wy) X(vx) X(vy) X(group) X(active)
#define COPY_FIELD(f) dst->f = src->f;

void msh_live_raw_person_get(const msh_live *l, uint32_t i, msh_live_raw_person *dst)
{
    const person_t *src = &l->people[i];
    dst->id = person_id(l, src, &dst->id_len);
    RAW_PERSON_FIELDS(COPY_FIELD)
}

uint32_t msh_live_raw_grouped(const msh_live *l, uint32_t from, uint32_t n, msh_live_grouped *out)
{
    uint32_t end = from < l->npeople ? (l->npeople - from < n ? l->npeople : from + n) : from, k = 0;
    for (uint32_t i = from; i < end; i++) {
        const person_t *p = &l->people[i];
        if (p->active && p->group)
            out[k++] = (msh_live_grouped){p->group, p->wx, p->wy};
    }
    return k;
}

msh_rc msh_live_raw_reserve(msh_live *l, uint32_t npeople, msh_err *err)
{
    if (msh_refindex_reserve(&l->pix, npeople, person_hash, l))
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    if (npeople > l->cap_people) {
        person_t *np = realloc(l->people, (size_t)npeople * sizeof *np);
        if (!np)
            return msh_err_set(err, MSH_ENOMEM, "out of memory");
        l->people = np;
        l->cap_people = npeople;
    }
    return MSH_OK;
}

msh_rc msh_live_raw_add_group(msh_live *l, const char *g, size_t n, uint32_t *index, msh_err *err)
{
    if (!n || n > MSH_FEED_ID_MAX || memchr(g, 0, n))
        return msh_err_set(err, MSH_EFORMAT, "group name of %zu bytes (1..%d, no NUL)", n, MSH_FEED_ID_MAX);
    if (!(*index = group_intern(l, g, n)))
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    return MSH_OK;
}

msh_rc msh_live_raw_add_person(msh_live *l, const msh_live_raw_person *src, msh_err *err)
{
    if (!src->id_len || src->id_len > MSH_FEED_ID_MAX)
        return msh_err_set(err, MSH_EFORMAT, "person id of %zu bytes (1..%d)", src->id_len, MSH_FEED_ID_MAX);
    if (src->group > l->ngroups)
        return msh_err_set(err, MSH_EFORMAT, "group %u of %u", src->group, l->ngroups);
    uint64_t h = hash_bytes(src->id, src->id_len);
    if (person_find(l, h, src->id, src->id_len))
        return msh_err_set(err, MSH_EFORMAT, "person '%.*s' twice", (int)src->id_len, src->id);
    if (l->npeople >= l->cfg.max_entities)
        return msh_err_set(err, MSH_ETOOBIG, "more people than the cap of %u", l->cfg.max_entities);
    person_t *dst = person_add(l, h, src->id, src->id_len);
    if (!dst)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    RAW_PERSON_FIELDS(COPY_FIELD)
    if (dst->active) {
        cell_touch(l, dst, 1);
        l->active++;
    }
    return MSH_OK;
}

msh_rc msh_live_raw_add_item(msh_live *l, msh_feed feed, const msh_live_item *it, msh_err *err)
{
    if (feed <= MSH_FEED_POSITIONS || feed >= MSH_FEED_COUNT)
        return msh_err_set(err, MSH_EINVAL, "no small table for feed %d", (int)feed);
    item_tab *t = &l->items[feed];
    if (!it->rec.id_len || it->rec.id_len > MSH_FEED_ID_MAX)
        return msh_err_set(err, MSH_EFORMAT, "%s id of %u bytes (1..%d)", msh_feed_name(feed), it->rec.id_len,
                           MSH_FEED_ID_MAX);
    if (item_find(t, it->rec.id, it->rec.id_len))
        return msh_err_set(err, MSH_EFORMAT, "%s '%s' twice", msh_feed_name(feed), it->rec.id);
    if (t->n >= MSH_LIVE_MAX_ITEMS)
        return msh_err_set(err, MSH_ETOOBIG, "more %s than the cap of %u", msh_feed_name(feed), MSH_LIVE_MAX_ITEMS);
    msh_live_item *dst = item_add(t, it->rec.id, it->rec.id_len);
    if (!dst)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    *dst = *it;
    return MSH_OK;
}

/* ---- operator writes and time rules (live_int.h) ---- */

msh_live_item *msh_live_raw_item(msh_live *l, msh_feed feed, const char *id, size_t n)
{
    if (feed <= MSH_FEED_POSITIONS || feed >= MSH_FEED_COUNT)
        return NULL;
    return item_find(&l->items[feed], id, n);
}

void msh_live_raw_changed(msh_live *l, msh_feed feed, const msh_live_item *it, const msh_feed_rec *prev)
{
    l->updates++; /* an operator's write is an update: walking costs and KPIs that watch the count see it */
    if (l->observer)
        l->observer(l->observer_ud, feed, it, prev);
}

size_t msh_live_raw_remove(msh_live *l, msh_feed feed, msh_live_drop_fn drop, void *ud)
{
    if (feed <= MSH_FEED_POSITIONS || feed >= MSH_FEED_COUNT)
        return 0;
    item_tab *t = &l->items[feed];
    uint32_t k = 0;
    for (uint32_t i = 0; i < t->n; i++)
        if (!drop(ud, &t->items[i]))
            t->items[k++] = t->items[i];
    size_t removed = t->n - k;
    if (!removed)
        return 0;
    /* the index holds positions in the array: build it again over what stays (the tables are small) */
    t->n = k;
    msh_refindex_free(&t->ix);
    memset(&t->ix, 0, sizeof t->ix);
    t->ix.sparse = true;
    if (msh_refindex_reserve(&t->ix, k ? k : 1, item_hash, t) == MSH_OK)
        for (uint32_t i = 0; i < k; i++)
            msh_refindex_add(&t->ix, hash_bytes(t->items[i].rec.id, t->items[i].rec.id_len), i, item_hash, t);
    return removed;
}

void msh_live_raw_touch(msh_live *l)
{
    l->updates++;
}

uint64_t msh_live_raw_ops_seq(const msh_live *l)
{
    return l->ops_seq;
}

void msh_live_raw_set_author(msh_live *l, const char *by, const char *role)
{
    l->author = by;
    l->author_role = role;
}

void msh_live_raw_set_ops_seq(msh_live *l, uint64_t seq)
{
    if (seq > l->ops_seq)
        l->ops_seq = seq;
}
