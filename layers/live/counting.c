/* counting.c: counting lines (counting.h). The lines' geometry is read by the move observer under
 * the live write lock only (set under it too); the counts take this object's lock, and only when a
 * move crosses a line. The lines' segments are in a grid (seg_grid.h), so a position costs a look
 * into one cell and the segment test of only the segments whose box its move meets, however many
 * lines are drawn. Each line's minutes are one array in time order (positions arrive about in time
 * order: a late one is inserted where it belongs). */
#include "counting.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_grow.h"
#include "core/msh_tilemath.h"
#include "geom.h"
#include "live/seg_grid.h"
#include "store_sql.h"

#define MINUTE_MS 60000LL
#define NAME_MAX_BYTES 64

typedef struct {
    uint64_t fid;
    double *xy;        /* world units, every part */
    uint32_t *parts;   /* part lengths */
    uint32_t nparts;
    double bb[4];
    size_t rec;        /* its counts: recs[rec] */
} line_geom;

typedef struct {
    uint64_t fid;
    char name[NAME_MAX_BYTES + 1];
    bool has_pt;
    double lon, lat;
    msh_line_minute *m;
    size_t first, n, cap;   /* held minutes are m[first .. n) */
    int64_t dirty_from;     /* minutes from here on changed since the last stage (INT64_MAX: none) */
} line_rec;

/* One segment of a counted line, in the order of the lines, their parts and vertices. */
typedef struct {
    double ax, ay, bx, by;
    uint32_t line;  /* lines[line] */
    bool last;      /* the last of its part: a crossing at its end counts */
} line_seg;

typedef struct {
    size_t rec;
    msh_line_minute m;
} staged_row;

struct msh_counting {
    pthread_rwlock_t lk;        /* recs, their minutes, version */
    pthread_mutex_t store_mu;
    msh_store *store;
    line_geom *lines;           /* the lines counted now (live write lock) */
    size_t nlines;
    line_seg *segs;             /* their segments and the grid over them (live write lock) */
    uint32_t nsegs;
    msh_seg_grid grid;
    line_rec *recs;             /* every line with counts or drawn, by first sight */
    size_t nrecs, caprecs;
    size_t held;
    int64_t keep_ms, newest;
    uint64_t version;
    staged_row *st;
    size_t nst, capst;
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS msh_line_counts (line INTEGER NOT NULL, minute_ms INTEGER NOT NULL,"
    " ab INTEGER NOT NULL, ba INTEGER NOT NULL, name TEXT, lon REAL, lat REAL, PRIMARY KEY (line, minute_ms));"
    "CREATE INDEX IF NOT EXISTS msh_line_counts_minute ON msh_line_counts (minute_ms)";

/* The record of line fid (made when missing); SIZE_MAX when out of memory. */
static size_t rec_of(msh_counting *c, uint64_t fid)
{
    for (size_t i = 0; i < c->nrecs; i++)
        if (c->recs[i].fid == fid)
            return i;
    if (msh_grow_from((void **)&c->recs, &c->caprecs, c->nrecs + 1, sizeof *c->recs, 16))
        return SIZE_MAX;
    line_rec *r = &c->recs[c->nrecs];
    memset(r, 0, sizeof *r);
    r->fid = fid;
    r->dirty_from = INT64_MAX;
    return c->nrecs++;
}

static void drop_old(msh_counting *c, line_rec *r)
{
    while (r->first < r->n && r->m[r->first].minute_ms < c->newest - c->keep_ms) {
        r->first++;
        c->held--;
    }
    while (c->held > MSH_COUNTING_MAX_ENTRIES) {
        line_rec *full = r;
        for (size_t i = 0; i < c->nrecs; i++)
            if (c->recs[i].n - c->recs[i].first > full->n - full->first)
                full = &c->recs[i];
        full->first++;
        c->held--;
    }
    if (r->first > 0 && r->first >= r->n / 8) {
        memmove(r->m, r->m + r->first, (r->n - r->first) * sizeof *r->m);
        r->n -= r->first;
        r->first = 0;
    }
}

/* The minute of t in r (inserted in order when new); NULL when out of memory. */
static msh_line_minute *minute_at(msh_counting *c, line_rec *r, int64_t t_ms)
{
    int64_t m = t_ms - ((t_ms % MINUTE_MS) + MINUTE_MS) % MINUTE_MS;
    size_t lo = r->first, hi = r->n;
    if (hi > lo && r->m[hi - 1].minute_ms < m)
        lo = hi; /* the usual case: a new minute at the end */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->m[mid].minute_ms < m)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (m < r->dirty_from)
        r->dirty_from = m;
    if (lo < r->n && r->m[lo].minute_ms == m)
        return &r->m[lo];
    if (msh_grow_from((void **)&r->m, &r->cap, r->n + 1, sizeof *r->m, 64))
        return NULL;
    memmove(r->m + lo + 1, r->m + lo, (r->n - lo) * sizeof *r->m);
    r->m[lo] = (msh_line_minute){m, 0, 0};
    r->n++;
    c->held++;
    if (m > c->newest)
        c->newest = m;
    return &r->m[lo];
}

static void count(msh_counting *c, size_t rec, int64_t t_ms, bool ab)
{
    pthread_rwlock_wrlock(&c->lk);
    line_rec *r = &c->recs[rec];
    msh_line_minute *m = minute_at(c, r, t_ms);
    if (m) { /* out of memory: this crossing is not counted */
        if (ab)
            m->ab++;
        else
            m->ba++;
        drop_old(c, r);
        c->version++;
    }
    pthread_rwlock_unlock(&c->lk);
}

static double cross2(double ax, double ay, double bx, double by)
{
    return ax * by - ay * bx;
}

int msh_counting_seg_cross(double ax, double ay, double bx, double by, bool last, double px, double py, double qx,
                           double qy)
{
    /* world y grows southwards: a negative cross product is the left of A->B */
    bool p_left = cross2(bx - ax, by - ay, px - ax, py - ay) < 0;
    bool q_left = cross2(bx - ax, by - ay, qx - ax, qy - ay) < 0;
    if (p_left == q_left)
        return 0;
    /* where the move meets A->B, as a share t of it: [0, 1), the last segment [0, 1] */
    double e1 = cross2(qx - px, qy - py, ax - px, ay - py);
    double e2 = cross2(qx - px, qy - py, bx - px, by - py);
    if (e1 == e2)
        return 0;
    double t = e1 / (e1 - e2);
    /* and where A->B meets the move: within it */
    double f1 = cross2(bx - ax, by - ay, px - ax, py - ay);
    double f2 = cross2(bx - ax, by - ay, qx - ax, qy - ay);
    double u = f1 / (f1 - f2);
    if (t < 0 || t > 1 || (t == 1 && !last) || u < 0 || u > 1)
        return 0;
    return p_left ? 1 : -1;
}

void msh_counting_cross(msh_counting *c, uint32_t ox, uint32_t oy, uint32_t nx, uint32_t ny, int64_t t_ms)
{
    if (!c || !c->nsegs)
        return;
    const double s = 1.0 / 4294967296.0;
    double px = ox * s, py = oy * s, qx = nx * s, qy = ny * s;
    double mb[4] = {fmin(px, qx), fmin(py, qy), fmax(px, qx), fmax(py, qy)};
    uint32_t nhit;
    const uint32_t *hit = msh_seg_grid_query(&c->grid, mb, &nhit);
    for (uint32_t h = 0; h < nhit; h++) {
        const line_seg *sg = &c->segs[hit[h]];
        const line_geom *g = &c->lines[sg->line];
        if (mb[2] < g->bb[0] || mb[0] > g->bb[2] || mb[3] < g->bb[1] || mb[1] > g->bb[3])
            continue;
        int side = msh_counting_seg_cross(sg->ax, sg->ay, sg->bx, sg->by, sg->last, px, py, qx, qy);
        if (side)
            count(c, g->rec, t_ms, side > 0);
    }
}

/* The segments of lines[0..n) in order and the grid over their boxes; 0 or -1 when out of memory. */
static int index_segments(const line_geom *lines, size_t n, line_seg **segs_out, uint32_t *nsegs_out,
                          msh_seg_grid *grid)
{
    size_t ns = 0;
    for (size_t li = 0; li < n; li++)
        for (uint32_t pi = 0; pi < lines[li].nparts; pi++)
            ns += lines[li].parts[pi] > 1 ? lines[li].parts[pi] - 1 : 0;
    line_seg *segs = malloc((ns ? ns : 1) * sizeof *segs);
    double (*box)[4] = malloc((ns ? ns : 1) * sizeof *box);
    msh_err err;
    int rc = -1;
    if (!segs || !box)
        goto out;
    size_t k = 0;
    for (size_t li = 0; li < n; li++) {
        const double *xy = lines[li].xy;
        for (uint32_t pi = 0; pi < lines[li].nparts; xy += 2 * lines[li].parts[pi], pi++)
            for (uint32_t v = 0; v + 1 < lines[li].parts[pi]; v++, k++) {
                segs[k] = (line_seg){xy[2 * v], xy[2 * v + 1], xy[2 * v + 2], xy[2 * v + 3], (uint32_t)li,
                                     v + 2 == lines[li].parts[pi]};
                box[k][0] = fmin(segs[k].ax, segs[k].bx);
                box[k][1] = fmin(segs[k].ay, segs[k].by);
                box[k][2] = fmax(segs[k].ax, segs[k].bx);
                box[k][3] = fmax(segs[k].ay, segs[k].by);
            }
    }
    if (msh_seg_grid_build(grid, (const double (*)[4])box, (uint32_t)ns, &err))
        goto out;
    *segs_out = segs;
    *nsegs_out = (uint32_t)ns;
    segs = NULL;
    rc = 0;
out:
    free(segs);
    free(box);
    return rc;
}

static void free_lines(line_geom *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].xy);
        free(v[i].parts);
    }
    free(v);
}

typedef struct {
    msh_counting *c;
    line_geom *v;
    size_t n, cap;
    int f_name;
    int fail;
} lines_job;

static int add_line(void *ud, const msh_feature *f)
{
    lines_job *j = ud;
    if (f->geom.type != MSH_GT_LINE || !f->geom.npts || j->n >= MSH_COUNTING_MAX_LINES)
        return 0;
    if (msh_grow_from((void **)&j->v, &j->cap, j->n + 1, sizeof *j->v, 16))
        return j->fail = 1;
    line_geom *g = &j->v[j->n];
    memset(g, 0, sizeof *g);
    g->fid = f->id;
    g->xy = malloc(2 * f->geom.npts * sizeof *g->xy);
    g->parts = malloc((f->geom.nparts ? f->geom.nparts : 1) * sizeof *g->parts);
    if (!g->xy || !g->parts) {
        free(g->xy);
        free(g->parts);
        return j->fail = 1;
    }
    j->n++;
    memcpy(g->xy, f->geom.xy, 2 * f->geom.npts * sizeof *g->xy);
    g->nparts = f->geom.nparts ? f->geom.nparts : 1;
    for (uint32_t i = 0; i < g->nparts; i++)
        g->parts[i] = f->geom.nparts ? MSH_PART_LEN(f->geom.parts[i]) : f->geom.npts;
    g->bb[0] = g->bb[1] = INFINITY;
    g->bb[2] = g->bb[3] = -INFINITY;
    for (uint32_t i = 0; i < f->geom.npts; i++) {
        g->bb[0] = fmin(g->bb[0], g->xy[2 * i]);
        g->bb[1] = fmin(g->bb[1], g->xy[2 * i + 1]);
        g->bb[2] = fmax(g->bb[2], g->xy[2 * i]);
        g->bb[3] = fmax(g->bb[3], g->xy[2 * i + 1]);
    }
    /* its record: the name and a point of it (the first vertex) for the counts' items */
    pthread_rwlock_wrlock(&j->c->lk);
    size_t ri = rec_of(j->c, f->id);
    if (ri != SIZE_MAX) {
        line_rec *r = &j->c->recs[ri];
        const msh_value *v = j->f_name >= 0 ? &f->values[j->f_name] : NULL;
        snprintf(r->name, sizeof r->name, "%.*s", v && v->type == MSH_FT_STRING ? (int)(v->len < NAME_MAX_BYTES ? v->len : NAME_MAX_BYTES) : 0,
                 v && v->type == MSH_FT_STRING ? v->u.s : "");
        msh_world_to_lonlat(g->xy[0], g->xy[1], &r->lon, &r->lat);
        r->has_pt = true;
        g->rec = ri;
        j->c->version++;
    }
    pthread_rwlock_unlock(&j->c->lk);
    if (ri == SIZE_MAX)
        return j->fail = 1;
    return 0;
}

msh_rc msh_counting_set_lines(msh_counting *c, msh_layer *lines, msh_err *err)
{
    lines_job j = {c, NULL, 0, 0, -1, 0};
    if (lines) {
        for (uint32_t i = 0; i < lines->info.nfields; i++)
            if (!strcmp(lines->info.fields[i].name, "name"))
                j.f_name = (int)i;
        static const double WORLD[4] = {0, 0, 1, 1};
        msh_rc rc = lines->vt->query(lines, WORLD, lines->info.maxzoom, add_line, &j);
        if (rc || j.fail) {
            free_lines(j.v, j.n);
            return msh_err_set(err, MSH_ENOMEM, "counting lines: out of memory");
        }
    }
    line_seg *segs = NULL;
    uint32_t nsegs = 0;
    msh_seg_grid grid;
    if (index_segments(j.v, j.n, &segs, &nsegs, &grid)) {
        free_lines(j.v, j.n);
        return msh_err_set(err, MSH_ENOMEM, "counting lines: out of memory");
    }
    free_lines(c->lines, c->nlines);
    free(c->segs);
    msh_seg_grid_free(&c->grid);
    c->lines = j.v;
    c->nlines = j.n;
    c->segs = segs;
    c->nsegs = nsegs;
    c->grid = grid;
    return MSH_OK;
}

msh_rc msh_counting_stage(msh_counting *c, msh_err *err)
{
    msh_rc rc = MSH_OK;
    pthread_rwlock_wrlock(&c->lk);
    c->nst = 0;
    for (size_t i = 0; i < c->nrecs && !rc; i++) {
        line_rec *r = &c->recs[i];
        for (size_t k = r->first; k < r->n && !rc; k++) {
            if (r->m[k].minute_ms < r->dirty_from)
                continue;
            if (msh_grow_from((void **)&c->st, &c->capst, c->nst + 1, sizeof *c->st, 256))
                rc = msh_err_set(err, MSH_ENOMEM, "counting lines: out of memory");
            else
                c->st[c->nst++] = (staged_row){i, r->m[k]};
        }
    }
    if (!rc)
        for (size_t i = 0; i < c->nrecs; i++)
            c->recs[i].dirty_from = INT64_MAX;
    pthread_rwlock_unlock(&c->lk);
    return rc;
}

msh_rc msh_counting_commit(msh_counting *c, msh_err *err)
{
    pthread_mutex_lock(&c->store_mu);
    msh_store *db = c->store;
    msh_sql *ins = NULL, *del = NULL;
    msh_rc rc = MSH_OK;
    if (msh_store_begin(db) ||
        /* a minute's counts only grow: a cluster node behind another (both write the same stream's counts
         * at their own snapshots) never lowers them */
        msh_sql_prepare(db, "INSERT INTO msh_line_counts (line, minute_ms, ab, ba, name, lon, lat)"
                            " VALUES (?,?,?,?,?,?,?) ON CONFLICT (line, minute_ms) DO UPDATE SET"
                            " ab = CASE WHEN excluded.ab > msh_line_counts.ab THEN excluded.ab ELSE msh_line_counts.ab END,"
                            " ba = CASE WHEN excluded.ba > msh_line_counts.ba THEN excluded.ba ELSE msh_line_counts.ba END,"
                            " name = excluded.name, lon = excluded.lon, lat = excluded.lat", &ins) ||
        msh_sql_prepare(db, "DELETE FROM msh_line_counts WHERE minute_ms < ?", &del)) {
        rc = msh_err_set(err, MSH_EIO, "counting lines: %s", msh_store_errmsg(db));
        goto out;
    }
    for (size_t i = 0; i < c->nst && !rc; i++) {
        const staged_row *s = &c->st[i];
        const line_rec *r = &c->recs[s->rec]; /* records are never removed */
        msh_sql_reset(ins);
        msh_sql_bind_int(ins, 1, (int64_t)r->fid);
        msh_sql_bind_int(ins, 2, s->m.minute_ms);
        msh_sql_bind_int(ins, 3, s->m.ab);
        msh_sql_bind_int(ins, 4, s->m.ba);
        msh_sql_bind_text(ins, 5, r->name, -1);
        msh_sql_bind_num(ins, 6, r->has_pt ? r->lon : NAN);
        msh_sql_bind_num(ins, 7, r->has_pt ? r->lat : NAN);
        if (msh_sql_step(ins) != MSH_SQL_DONE)
            rc = msh_err_set(err, MSH_EIO, "counting lines: %s", msh_store_errmsg(db));
    }
    if (!rc) {
        msh_sql_bind_int(del, 1, c->newest - c->keep_ms);
        if (msh_sql_step(del) != MSH_SQL_DONE || msh_store_commit(db))
            rc = msh_err_set(err, MSH_EIO, "counting lines: %s", msh_store_errmsg(db));
    }
out:
    if (rc) {
        msh_store_rollback(db);
        pthread_rwlock_wrlock(&c->lk);
        for (size_t i = 0; i < c->nst; i++) /* staged again next time */
            if (c->st[i].m.minute_ms < c->recs[c->st[i].rec].dirty_from)
                c->recs[c->st[i].rec].dirty_from = c->st[i].m.minute_ms;
        pthread_rwlock_unlock(&c->lk);
    }
    msh_sql_finalize(ins);
    msh_sql_finalize(del);
    pthread_mutex_unlock(&c->store_mu);
    return rc;
}

static msh_rc load_rows(msh_counting *c, msh_err *err)
{
    msh_sql *q;
    if (msh_sql_prepare(c->store,
                        "SELECT line, minute_ms, ab, ba, name, lon, lat FROM msh_line_counts"
                        " WHERE minute_ms >= (SELECT max(minute_ms) FROM msh_line_counts) - ? ORDER BY line, minute_ms",
                        &q))
        return msh_err_set(err, MSH_EIO, "counting lines: %s", msh_store_errmsg(c->store));
    msh_sql_bind_int(q, 1, c->keep_ms);
    msh_rc rc = MSH_OK;
    int s;
    while (!rc && (s = msh_sql_step(q)) == MSH_SQL_ROW) {
        size_t ri = rec_of(c, (uint64_t)msh_sql_int(q, 0));
        msh_line_minute *m = ri == SIZE_MAX ? NULL : minute_at(c, &c->recs[ri], msh_sql_int(q, 1));
        if (!m) {
            rc = msh_err_set(err, MSH_ENOMEM, "counting lines: out of memory");
            break;
        }
        m->ab = (uint32_t)msh_sql_int(q, 2);
        m->ba = (uint32_t)msh_sql_int(q, 3);
        line_rec *r = &c->recs[ri];
        const char *name = msh_sql_text(q, 4, NULL);
        snprintf(r->name, sizeof r->name, "%s", name ? name : "");
        double lon = msh_sql_num(q, 5), lat = msh_sql_num(q, 6);
        if (!isnan(lon) && !isnan(lat)) {
            r->has_pt = true;
            r->lon = lon;
            r->lat = lat;
        }
    }
    if (!rc && s != MSH_SQL_DONE)
        rc = msh_err_set(err, MSH_EIO, "counting lines: %s", msh_store_errmsg(c->store));
    msh_sql_finalize(q);
    for (size_t i = 0; i < c->nrecs; i++)
        c->recs[i].dirty_from = INT64_MAX; /* as the store holds them */
    return rc;
}

msh_rc msh_counting_open(const char *db_path, int64_t keep_ms, msh_counting **out, msh_err *err)
{
    *out = NULL;
    msh_counting *c = calloc(1, sizeof *c);
    if (!c)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    pthread_rwlock_init(&c->lk, NULL);
    pthread_mutex_init(&c->store_mu, NULL);
    c->keep_ms = keep_ms;
    msh_rc rc = msh_store_open_own(db_path, "counting lines table", SCHEMA, 5000, &c->store, err);
    if (!rc)
        rc = load_rows(c, err);
    if (rc) {
        msh_counting_close(c);
        return rc;
    }
    *out = c;
    return MSH_OK;
}

void msh_counting_close(msh_counting *c)
{
    if (!c)
        return;
    if (c->store)
        msh_store_close(c->store);
    free_lines(c->lines, c->nlines);
    free(c->segs);
    msh_seg_grid_free(&c->grid);
    for (size_t i = 0; i < c->nrecs; i++)
        free(c->recs[i].m);
    free(c->recs);
    free(c->st);
    pthread_mutex_destroy(&c->store_mu);
    pthread_rwlock_destroy(&c->lk);
    free(c);
}

msh_rc msh_counting_ensure_layer(msh_store *s, bool *created, msh_err *err)
{
    *created = false;
    msh_layer_info *infos = NULL;
    size_t n = 0;
    msh_rc rc = msh_store_list(s, &infos, &n, err);
    if (rc)
        return rc;
    bool have = false, sites = false;
    for (size_t i = 0; i < n; i++) {
        have |= !strcmp(infos[i].name, MSH_COUNTING_LAYER);
        sites |= !strcmp(infos[i].name, "sites");
    }
    msh_store_infos_free(infos, n);
    if (have || !sites) /* lines are drawn on the holy sites: a store of other data gets none */
        return MSH_OK;
    static const msh_field fields[] = {{(char *)"name", MSH_FT_STRING}};
    msh_layer_spec spec = {.name = MSH_COUNTING_LAYER, .fields = fields, .nfields = 1, .minzoom = 0, .maxzoom = 22,
                           .source = "mashaer serve (counting lines)", .title = "Counting lines"};
    msh_store_writer *w;
    if ((rc = msh_store_batch_begin(s, err)))
        return rc;
    if (!(rc = msh_store_writer_begin(s, &spec, &w, err)) && !(rc = msh_store_writer_commit(w, NULL, err)) &&
        msh_store_exec(s, "UPDATE msh_layers SET geometry_type = 'LineString' WHERE name = '" MSH_COUNTING_LAYER "'"))
        rc = msh_err_set(err, MSH_EIO, "creating %s: %s", MSH_COUNTING_LAYER, msh_store_errmsg(s));
    msh_rc end = msh_store_batch_end(s, rc == MSH_OK, err);
    if (rc || (rc = end))
        return rc;
    *created = true;
    return MSH_OK;
}

void msh_counting_rdlock(msh_counting *c)
{
    pthread_rwlock_rdlock(&c->lk);
}

void msh_counting_unlock(msh_counting *c)
{
    pthread_rwlock_unlock(&c->lk);
}

void msh_counting_each(msh_counting *c, msh_counting_line_fn fn, void *ud)
{
    for (size_t i = 0; i < c->nrecs; i++) {
        const line_rec *r = &c->recs[i];
        uint64_t ab = 0, ba = 0;
        for (size_t k = r->first; k < r->n; k++) {
            ab += r->m[k].ab;
            ba += r->m[k].ba;
        }
        const msh_line_minute *held = r->n > r->first ? r->m + r->first : NULL; /* none yet: m may be NULL */
        if (fn(ud, r->fid, r->name, r->has_pt, r->lon, r->lat, held, r->n - r->first, ab, ba))
            return;
    }
}

uint64_t msh_counting_version(msh_counting *c)
{
    pthread_rwlock_rdlock(&c->lk);
    uint64_t v = c->version;
    pthread_rwlock_unlock(&c->lk);
    return v;
}

long msh_counting_wkb_vertices(const uint8_t *wkb, size_t len, long max)
{
    msh_geom_buf g;
    msh_geom_buf_init(&g, (size_t)max);
    msh_err err;
    long n = msh_wkb_read(wkb, len, &g, &err) ? -1 : (long)msh_geom_buf_view(&g).npts;
    msh_geom_buf_free(&g);
    return n;
}
