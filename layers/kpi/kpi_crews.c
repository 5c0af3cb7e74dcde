/* kpi_crews.c: cleaning crews sweeping the route pieces, and the swept times kept across restarts. */
/*
 * Crew moves are queued (cheap, from the live observer, under a small lock of their own) and
 * applied at the next compute: a piece within cleaning_buffer_m of the straight line a crew
 * walked counts as swept at the move's time.
 */
#include "kpi_int.h"

#include <string.h>

#define MAX_CREW_QUEUE (1u << 20)

void msh_kpi_crew_path(msh_kpi *k, double lon0, double lat0, double lon1, double lat1, int64_t t_ms)
{
    crew_move m;
    msh_lonlat_to_world(lon0, lat0, &m.ax, &m.ay);
    msh_lonlat_to_world(lon1, lat1, &m.bx, &m.by);
    m.t_ms = t_ms;
    pthread_mutex_lock(&k->q_lock);
    /* a full queue drops the move: at worst a piece counts as not swept */
    if (k->nq < MAX_CREW_QUEUE && !msh_grow_from((void **)&k->queue, &k->capq, k->nq + 1, sizeof *k->queue, 256))
        k->queue[k->nq++] = m;
    pthread_mutex_unlock(&k->q_lock);
}

void msh_kpi_crew_moved(msh_kpi *k, const msh_live_item *it, const msh_feed_rec *prev)
{
    const msh_feed_rec *r = &it->rec;
    if (!k || !(r->has & MSH_FR_LOC) || !(r->has & MSH_FR_KIND) || strcmp(r->kind, "cleaning"))
        return;
    /* a crew heard from again within 10 minutes swept the straight line between; else only where it is */
    if (prev && (prev->has & MSH_FR_LOC) && r->t_ms - prev->t_ms <= 600000 && r->t_ms >= prev->t_ms)
        msh_kpi_crew_path(k, prev->lon, prev->lat, r->lon, r->lat, r->t_ms);
    else
        msh_kpi_crew_path(k, r->lon, r->lat, r->lon, r->lat, r->t_ms);
}

void kpi_apply_moves(msh_kpi *k)
{
    pthread_mutex_lock(&k->q_lock);
    crew_move *q = k->queue;
    size_t n = k->nq;
    k->queue = NULL;
    k->nq = k->capq = 0;
    pthread_mutex_unlock(&k->q_lock);
    for (size_t m = 0; m < n; m++) {
        const crew_move *c = &q[m];
        double s = kpi_scale_at((c->ay + c->by) / 2);
        double buf = k->cfg.cleaning_buffer_m / s; /* world units */
        double x0 = fmin(c->ax, c->bx) - buf, x1 = fmax(c->ax, c->bx) + buf;
        double y0 = fmin(c->ay, c->by) - buf, y1 = fmax(c->ay, c->by) + buf;
        double dx = c->bx - c->ax, dy = c->by - c->ay, l2 = dx * dx + dy * dy;
        for (size_t i = 0; i < k->npieces; i++) {
            piece_t *p = &k->pieces[i];
            if (p->wx < x0 || p->wx > x1 || p->wy < y0 || p->wy > y1)
                continue;
            double t = l2 > 0 ? ((p->wx - c->ax) * dx + (p->wy - c->ay) * dy) / l2 : 0;
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            double d = hypot(c->ax + t * dx - p->wx, c->ay + t * dy - p->wy);
            if (d <= buf && c->t_ms > p->last_ms) {
                p->last_ms = c->t_ms;
                p->dirty = true;
            }
        }
    }
    free(q);
}

/* ---- swept times across restarts ---- */

static int cmp_mark(const void *a, const void *b)
{
    const piece_mark *x = a, *y = b;
    if (x->fid != y->fid)
        return x->fid < y->fid ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

void kpi_push_mark(msh_kpi *k, uint64_t ver, uint64_t fid, uint32_t idx, int64_t last_ms)
{
    if (k->npend && k->pend_ver != ver)
        k->npend = 0; /* marks of other routes: the layer was replaced */
    k->pend_ver = ver;
    if (!msh_grow_from((void **)&k->pend, &k->cappend, k->npend + 1, sizeof *k->pend, 256))
        k->pend[k->npend++] = (piece_mark){fid, idx, last_ms};
}

/* Give the pieces of the routes now prepared the swept times kept for them (after a restart, or
 * when the pieces were cut again because the zones changed). */
void kpi_apply_marks(msh_kpi *k)
{
    if (!k->npend || !k->routes_layer)
        return;
    if (k->pend_ver == k->routes_ver) {
        qsort(k->pend, k->npend, sizeof *k->pend, cmp_mark);
        for (size_t i = 0; i < k->npieces; i++) {
            piece_t *p = &k->pieces[i];
            piece_mark key = {p->fid, p->idx, 0};
            const piece_mark *m = bsearch(&key, k->pend, k->npend, sizeof *k->pend, cmp_mark);
            if (m && m->last_ms > p->last_ms)
                p->last_ms = m->last_ms;
        }
    }
    k->npend = 0;
}

void msh_kpi_restore_swept(msh_kpi *k, uint64_t routes_version, uint64_t fid, uint32_t idx, int64_t last_ms)
{
    pthread_mutex_lock(&k->lock);
    kpi_push_mark(k, routes_version, fid, idx, last_ms);
    pthread_mutex_unlock(&k->lock);
}

size_t msh_kpi_swept_changes(msh_kpi *k, msh_kpi_swept_fn fn, void *ud)
{
    size_t n = 0;
    pthread_mutex_lock(&k->lock);
    for (size_t i = 0; i < k->npieces; i++) {
        piece_t *p = &k->pieces[i];
        if (!p->dirty)
            continue;
        if (fn(ud, k->routes_ver, p->fid, p->idx, p->last_ms))
            break;
        p->dirty = false;
        n++;
    }
    pthread_mutex_unlock(&k->lock);
    return n;
}
