/* kpi_tasks.c: the cleaning tasks as the sweep matching reads them: which pieces each covers, who
 * may sweep them and when, and how far each task has come. */
/*
 * Design: a crew's move credits a piece only for a task that names that crew, is open or in
 * progress, covers the piece (its route's pieces, or the pieces whose middle is in its area) and
 * whose shift (when it has one) holds the move's time. A move of a crew no active task names is
 * dropped at once: the cost of matching is the tasks of the crew and their pieces, not every piece.
 * The tasks are read from the served `cleaning_tasks` layer when its version changes, and their
 * pieces found again when the pieces are cut again (a re-import of the routes, new zones).
 * A task's progress is the length of its pieces swept for it within its shift over their length:
 * a piece swept last for another task (two tasks over one street) counts for that one only.
 * Lock contract: every function here runs under k->lock.
 */
#include "kpi_int.h"

#include <stdio.h>
#include <string.h>

#include "core/msh_pip.h"

int32_t kpi_crew_find(const msh_kpi *k, const char *id, size_t n)
{
    for (size_t i = 0; i < k->ncrews; i++)
        if (strlen(k->crews[i]) == n && !memcmp(k->crews[i], id, n))
            return (int32_t)i;
    return -1;
}

int32_t kpi_crew_intern(msh_kpi *k, const char *id, size_t n)
{
    int32_t c = kpi_crew_find(k, id, n);
    if (c >= 0)
        return c;
    if (n > 64 || msh_grow_from((void **)&k->crews, &k->capcrews, k->ncrews + 1, sizeof *k->crews, 16))
        return -1;
    memcpy(k->crews[k->ncrews], id, n);
    k->crews[k->ncrews][n] = 0;
    return (int32_t)k->ncrews++;
}

void kpi_tasks_clear(msh_kpi *k)
{
    for (size_t i = 0; i < k->ntasks; i++) {
        free(k->tasks[i].ring);
        free(k->tasks[i].ring_parts);
        free(k->tasks[i].pieces);
    }
    free(k->tasks);
    k->tasks = NULL;
    k->ntasks = 0;
}

typedef struct {
    msh_kpi *k;
    size_t cap;
    int fail;
} task_job;

static int add_task(void *ud, const msh_feature *f)
{
    task_job *j = ud;
    msh_kpi *k = j->k;
    msh_ct_task ct;
    msh_ct_read(&k->tasks_layer->info, f->values, &ct);
    if (msh_grow_from((void **)&k->tasks, &j->cap, k->ntasks + 1, sizeof *k->tasks, 16))
        return j->fail = 1;
    task_t *t = &k->tasks[k->ntasks];
    memset(t, 0, sizeof *t);
    t->fid = f->id;
    t->crew = ct.crew ? kpi_crew_intern(k, ct.crew, ct.crew_len) : -1;
    t->shift_start = ct.shift_start;
    t->shift_end = ct.shift_end;
    t->due = ct.due;
    t->status = ct.status;
    t->stored = ct.progress;
    t->route = ct.route > 0 ? (uint64_t)ct.route : 0;
    if (!t->route && f->geom.type == MSH_GT_POLYGON) {
        size_t n = 0;
        for (uint32_t i = 0; i < f->geom.nparts; i++)
            n += MSH_PART_LEN(f->geom.parts[i]);
        t->ring = malloc(2 * n * sizeof *t->ring);
        t->ring_parts = malloc(f->geom.nparts * sizeof *t->ring_parts);
        if (!t->ring || !t->ring_parts) {
            free(t->ring);
            free(t->ring_parts);
            return j->fail = 1;
        }
        memcpy(t->ring, f->geom.xy, 2 * n * sizeof *t->ring);
        t->bb[0] = t->bb[1] = INFINITY;
        t->bb[2] = t->bb[3] = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            t->bb[0] = fmin(t->bb[0], t->ring[2 * i]);
            t->bb[1] = fmin(t->bb[1], t->ring[2 * i + 1]);
            t->bb[2] = fmax(t->bb[2], t->ring[2 * i]);
            t->bb[3] = fmax(t->bb[3], t->ring[2 * i + 1]);
        }
        for (uint32_t i = 0; i < f->geom.nparts; i++)
            t->ring_parts[i] = MSH_PART_LEN(f->geom.parts[i]);
        t->nring_parts = f->geom.nparts;
    }
    k->ntasks++;
    return 0;
}

static bool in_area(const task_t *t, double x, double y)
{
    if (!t->ring || x < t->bb[0] || x > t->bb[2] || y < t->bb[1] || y > t->bb[3])
        return false;
    bool in = false;
    const double *p = t->ring;
    for (uint32_t i = 0; i < t->nring_parts; i++) {
        in ^= msh_ring_odd(p, t->ring_parts[i], x, y);
        p += 2 * t->ring_parts[i];
    }
    return in;
}

/* The pieces each task covers. */
static int find_pieces(msh_kpi *k)
{
    for (size_t i = 0; i < k->ntasks; i++) {
        task_t *t = &k->tasks[i];
        size_t cap = 0;
        free(t->pieces);
        t->pieces = NULL;
        t->npieces = 0;
        t->len_m = 0;
        for (size_t p = 0; p < k->npieces; p++) {
            const piece_t *pc = &k->pieces[p];
            if (t->route ? pc->fid != t->route : !in_area(t, pc->wx, pc->wy))
                continue;
            if (msh_grow_from((void **)&t->pieces, &cap, t->npieces + 1, sizeof *t->pieces, 64))
                return -1;
            t->pieces[t->npieces++] = (uint32_t)p;
            t->len_m += pc->len_m;
        }
    }
    return 0;
}

msh_rc kpi_prepare_tasks(msh_kpi *k, const msh_layer *tl, msh_err *err)
{
    bool same = tl == k->tasks_layer && (!tl || tl->info.version == k->tasks_ver);
    if (same && !k->tasks_stale)
        return MSH_OK;
    if (!same) {
        kpi_tasks_clear(k);
        k->tasks_layer = tl;
        k->tasks_ver = tl ? tl->info.version : 0;
        task_job j = {k, 0, 0};
        double world[4] = {0, 0, 1, 1};
        msh_rc rc = tl ? tl->vt->query((msh_layer *)tl, world, tl->info.maxzoom, add_task, &j) : MSH_OK;
        if (!rc && j.fail)
            rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
        if (rc) {
            kpi_tasks_clear(k);
            k->tasks_layer = NULL;
            return rc;
        }
    }
    if (find_pieces(k)) {
        kpi_tasks_clear(k);
        k->tasks_layer = NULL;
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    }
    k->tasks_stale = false;
    return MSH_OK;
}

/* Does task t take a sweep by crew c at t_ms? */
static bool takes(const task_t *t, int32_t c, int64_t t_ms)
{
    return t->crew == c && msh_ct_active_status(t->status) && (!t->shift_start || t_ms >= t->shift_start) &&
           (!t->shift_end || t_ms <= t->shift_end);
}

void kpi_credit_move(msh_kpi *k, const crew_move *c)
{
    int32_t crew = kpi_crew_find(k, c->crew, strlen(c->crew));
    if (crew < 0)
        return; /* no task names this crew */
    double s = kpi_scale_at((c->ay + c->by) / 2);
    double buf = k->cfg.cleaning_buffer_m / s; /* world units */
    double x0 = fmin(c->ax, c->bx) - buf, x1 = fmax(c->ax, c->bx) + buf;
    double y0 = fmin(c->ay, c->by) - buf, y1 = fmax(c->ay, c->by) + buf;
    double dx = c->bx - c->ax, dy = c->by - c->ay, l2 = dx * dx + dy * dy;
    for (size_t i = 0; i < k->ntasks; i++) {
        const task_t *t = &k->tasks[i];
        if (!takes(t, crew, c->t_ms))
            continue;
        for (size_t q = 0; q < t->npieces; q++) {
            piece_t *p = &k->pieces[t->pieces[q]];
            if (p->wx < x0 || p->wx > x1 || p->wy < y0 || p->wy > y1)
                continue;
            double u = l2 > 0 ? ((p->wx - c->ax) * dx + (p->wy - c->ay) * dy) / l2 : 0;
            u = u < 0 ? 0 : u > 1 ? 1 : u;
            double d = hypot(c->ax + u * dx - p->wx, c->ay + u * dy - p->wy);
            if (d <= buf && c->t_ms > p->last_ms) {
                p->last_ms = c->t_ms;
                p->crew = crew;
                p->task = t->fid;
                p->dirty = true;
                k->sweep_ver++;
            }
        }
    }
}

double kpi_task_swept_m(const msh_kpi *k, const task_t *t)
{
    double m = 0;
    for (size_t q = 0; q < t->npieces; q++) {
        const piece_t *p = &k->pieces[t->pieces[q]];
        if (p->task == t->fid && p->last_ms && (!t->shift_start || p->last_ms >= t->shift_start))
            m += p->len_m;
    }
    return m;
}

int kpi_tasks_out(const msh_kpi *k, msh_kpi_task **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!k->ntasks)
        return 0;
    msh_kpi_task *v = calloc(k->ntasks, sizeof *v);
    if (!v)
        return -1;
    for (size_t i = 0; i < k->ntasks; i++) { /* the layer answers in id order */
        const task_t *t = &k->tasks[i];
        msh_kpi_task *o = &v[i];
        o->fid = t->fid;
        snprintf(o->crew, sizeof o->crew, "%s", t->crew >= 0 ? k->crews[t->crew] : "");
        o->status = t->status;
        o->due = t->due;
        o->stored = t->stored;
        o->len_m = t->len_m;
        o->swept_m = kpi_task_swept_m(k, t);
        o->progress = t->len_m > 0 ? (int)floor(100.0 * o->swept_m / t->len_m + 1e-9) : 0;
        if (o->progress > 100)
            o->progress = 100;
    }
    *out = v;
    *n = k->ntasks;
    return 0;
}

msh_rc msh_kpi_tasks(msh_kpi *k, const msh_catalog *cat, msh_kpi_task **out, size_t *n, msh_err *err)
{
    pthread_mutex_lock(&k->lock);
    msh_rc rc = kpi_prepare(k, cat, err);
    if (!rc) {
        kpi_apply_marks(k);
        kpi_apply_moves(k);
        if (kpi_tasks_out(k, out, n))
            rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
    }
    pthread_mutex_unlock(&k->lock);
    return rc;
}

int msh_kpi_pieces(msh_kpi *k, const double box[4], msh_kpi_piece_fn fn, void *ud, uint64_t *version)
{
    int stop = 0;
    pthread_mutex_lock(&k->lock);
    *version = k->sweep_ver;
    for (size_t i = 0; i < k->npieces && !stop; i++) {
        const piece_t *p = &k->pieces[i];
        if (fmax(p->ax, p->bx) < box[0] || fmin(p->ax, p->bx) > box[2] || fmax(p->ay, p->by) < box[1] ||
            fmin(p->ay, p->by) > box[3])
            continue;
        msh_kpi_piece o = {p->ax, p->ay, p->bx, p->by, p->last_ms, p->crew >= 0 ? k->crews[p->crew] : "",
                           p->task, p->fid, i + 1};
        stop = fn(ud, &o);
    }
    pthread_mutex_unlock(&k->lock);
    return stop;
}

uint64_t msh_kpi_sweep_version(msh_kpi *k)
{
    pthread_mutex_lock(&k->lock);
    uint64_t v = k->sweep_ver;
    pthread_mutex_unlock(&k->lock);
    return v;
}
