/* kpi_crews.c: cleaning crews sweeping the route pieces, and the swept times kept across restarts
 * and re-imports. */
/*
 * Crew moves are queued (cheap, from the live observer, under a small lock of their own) and
 * applied at the next compute: a piece within cleaning_buffer_m of the straight line a crew
 * walked counts as swept at the move's time, when an active task assigned to that crew covers it
 * (kpi_tasks.c). A piece is named by its two ends (kpi_piece_key), not by its route's feature id:
 * a re-import that leaves a stretch of route where it was keeps that stretch's sweeps, and a piece
 * that moved starts unswept.
 */
#include "kpi_int.h"

#include <stdio.h>
#include <string.h>

#include "core/msh_hash.h"

#define MAX_CREW_QUEUE (1u << 18)

void msh_kpi_crew_path(msh_kpi *k, const char *crew, double lon0, double lat0, double lon1, double lat1,
                       int64_t t_ms)
{
    crew_move m;
    msh_lonlat_to_world(lon0, lat0, &m.ax, &m.ay);
    msh_lonlat_to_world(lon1, lat1, &m.bx, &m.by);
    m.t_ms = t_ms;
    snprintf(m.crew, sizeof m.crew, "%s", crew);
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
        msh_kpi_crew_path(k, r->id, prev->lon, prev->lat, r->lon, r->lat, r->t_ms);
    else
        msh_kpi_crew_path(k, r->id, r->lon, r->lat, r->lon, r->lat, r->t_ms);
}

void kpi_apply_moves(msh_kpi *k)
{
    pthread_mutex_lock(&k->q_lock);
    crew_move *q = k->queue;
    size_t n = k->nq;
    k->queue = NULL;
    k->nq = k->capq = 0;
    pthread_mutex_unlock(&k->q_lock);
    for (size_t m = 0; m < n; m++)
        kpi_credit_move(k, &q[m]);
    free(q);
}

/* ---- swept times across restarts and re-imports ---- */

uint64_t kpi_piece_key(double ax, double ay, double bx, double by)
{
    const double q = 4294967296.0; /* 2^32: about 9 mm on the ground at the equator */
    int64_t v[4] = {llround(ax * q), llround(ay * q), llround(bx * q), llround(by * q)};
    if (v[2] < v[0] || (v[2] == v[0] && v[3] < v[1])) { /* the same piece drawn the other way */
        int64_t t0 = v[0], t1 = v[1];
        v[0] = v[2];
        v[1] = v[3];
        v[2] = t0;
        v[3] = t1;
    }
    return msh_mix64(msh_fnv1a(v, sizeof v, MSH_FNV1A_INIT));
}

static int cmp_mark(const void *a, const void *b)
{
    const piece_mark *x = a, *y = b;
    return x->gkey < y->gkey ? -1 : x->gkey > y->gkey;
}

void kpi_push_mark(msh_kpi *k, uint64_t gkey, int64_t last_ms, int32_t crew, uint64_t task)
{
    if (!msh_grow_from((void **)&k->pend, &k->cappend, k->npend + 1, sizeof *k->pend, 256))
        k->pend[k->npend++] = (piece_mark){gkey, last_ms, crew, task};
}

/* Give the pieces now cut the swept times kept for them (after a restart, a re-import, or new zones). */
void kpi_apply_marks(msh_kpi *k)
{
    if (!k->npend || !k->routes_layer)
        return;
    qsort(k->pend, k->npend, sizeof *k->pend, cmp_mark);
    for (size_t i = 0; i < k->npieces; i++) {
        piece_t *p = &k->pieces[i];
        piece_mark key = {p->gkey, 0, -1, 0};
        const piece_mark *m = bsearch(&key, k->pend, k->npend, sizeof *k->pend, cmp_mark);
        if (m && m->last_ms > p->last_ms) {
            p->last_ms = m->last_ms;
            p->crew = m->crew;
            p->task = m->task;
        }
    }
    k->npend = 0;
    k->sweep_ver++;
}

void msh_kpi_restore_swept(msh_kpi *k, uint64_t gkey, int64_t last_ms, const char *crew, uint64_t task)
{
    pthread_mutex_lock(&k->lock);
    int32_t c = crew && *crew ? kpi_crew_intern(k, crew, strlen(crew)) : -1;
    kpi_push_mark(k, gkey, last_ms, c, task);
    pthread_mutex_unlock(&k->lock);
}

size_t msh_kpi_swept_changes(msh_kpi *k, msh_kpi_swept_fn fn, void *ud, bool *all)
{
    size_t n = 0;
    pthread_mutex_lock(&k->lock);
    *all = k->resave;
    for (size_t i = 0; i < k->npieces; i++) {
        piece_t *p = &k->pieces[i];
        if (!p->dirty && !(k->resave && p->last_ms))
            continue;
        if (fn(ud, p->gkey, p->last_ms, p->crew >= 0 ? k->crews[p->crew] : "", p->task)) {
            *all = false; /* the rest next time: the table is not rewritten from a part */
            pthread_mutex_unlock(&k->lock);
            return n;
        }
        p->dirty = false;
        n++;
    }
    k->resave = false;
    pthread_mutex_unlock(&k->lock);
    return n;
}
