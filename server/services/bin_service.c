/* bin_service.c: overflow events with the nearest available cleaning crew (bin_service.h). */
#include "bin_service.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_grow.h"
#include "core/msh_time.h"
#include "route/responders.h"
#include "route/walknet.h"
#include "routes/events.h"
#include "workflow/cleaning_tasks.h"

/* How far a bin or a crew may be from the walking network (the routes' default max_snap). */
#define BIN_SNAP_M 300.0

typedef struct {
    msh_feed_rec rec;
    int8_t change; /* +1 raised, -1 cleared */
} bin_change;

struct msh_bin_service {
    pthread_mutex_t mu; /* guards q, head, n, dropped */
    bin_change q[MSH_BIN_QUEUE_MAX]; /* a ring: n changes from q[head] on */
    size_t head, n;
    uint64_t dropped;
};

msh_bin_service *msh_bin_service_new(void)
{
    msh_bin_service *s = calloc(1, sizeof *s);
    if (s)
        pthread_mutex_init(&s->mu, NULL);
    return s;
}

void msh_bin_service_free(msh_bin_service *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->mu);
    free(s);
}

void msh_bin_service_push(msh_bin_service *s, const msh_live_item *it)
{
    if (!s || !it->overflow_change)
        return;
    pthread_mutex_lock(&s->mu);
    if (s->n == MSH_BIN_QUEUE_MAX) { /* the oldest goes: the newest state of a bin matters most */
        s->head = (s->head + 1) % MSH_BIN_QUEUE_MAX;
        s->n--;
        s->dropped++;
    }
    s->q[(s->head + s->n++) % MSH_BIN_QUEUE_MAX] = (bin_change){it->rec, it->overflow_change};
    pthread_mutex_unlock(&s->mu);
}

/* The crews of the cleaning tasks in progress, from the served layer. */
typedef struct {
    const msh_layer_info *li;
    char (*crew)[MSH_FEED_ID_MAX + 1];
    size_t n, cap;
} busy_list;

static int busy_task(void *ud, const msh_feature *f)
{
    busy_list *b = ud;
    msh_ct_task ct;
    msh_ct_read(b->li, f->values, &ct);
    if (!ct.crew || ct.status < 0 || strcmp(msh_ct_statuses[ct.status], "in_progress") ||
        ct.crew_len > MSH_FEED_ID_MAX)
        return 0;
    if (msh_grow_from((void **)&b->crew, &b->cap, b->n + 1, sizeof *b->crew, 16))
        return 1;
    memcpy(b->crew[b->n], ct.crew, ct.crew_len);
    b->crew[b->n++][ct.crew_len] = 0;
    return 0;
}

static void busy_crews(msh_app *app, busy_list *b)
{
    msh_catalog *cat = msh_app_catalog(app);
    msh_layer *tl = cat ? msh_catalog_find(cat, "cleaning_tasks", 14) : NULL;
    if (tl) {
        static const double world[4] = {0, 0, 1, 1};
        b->li = &tl->info;
        (void)tl->vt->query(tl, world, tl->info.maxzoom, busy_task, b);
    }
    msh_catalog_release(cat);
}

static void put_event(msh_app *app, const bin_change *c, const msh_responder *crew, const char *why)
{
    const msh_feed_rec *r = &c->rec;
    char t[MSH_TIME_ISO_CAP];
    msh_time_format_iso(r->t_ms, t, sizeof t, 0);
    msh_buf b;
    msh_buf_init(&b, 4096);
    msh_buf_printf(&b, "{\"state\":\"%s\",\"bin\":\"", c->change > 0 ? "raised" : "cleared");
    msh_buf_json_str(&b, r->id);
    msh_buf_printf(&b, "\",\"fill_level\":%.3f,\"level\":%.3f,\"lon\":%.7f,\"lat\":%.7f,\"time\":\"%s\"",
                   round(r->fill * 1000) / 1000, app->cfg.bin_overflow, r->lon, r->lat, t);
    if (r->has & MSH_FR_TEMP)
        msh_buf_printf(&b, ",\"temperature\":%.1f", r->temperature);
    if (c->change > 0) {
        msh_buf_printf(&b, ",\"crew\":");
        if (crew) {
            msh_buf_printf(&b, "{\"id\":\"");
            msh_buf_json_str(&b, crew->crew);
            msh_buf_printf(&b, "\",\"name\":");
            msh_buf_json_str_or_null(&b, crew->name);
            msh_buf_printf(&b, ",\"eta_s\":%.0f,\"distance_m\":%.1f,\"lon\":%.7f,\"lat\":%.7f}", ceil(crew->eta_s),
                           crew->distance_m, crew->lon, crew->lat);
        } else {
            msh_buf_printf(&b, "null,\"crew_reason\":\"");
            msh_buf_json_str(&b, why);
            msh_buf_putc(&b, '"');
        }
    }
    msh_buf_printf(&b, "}");
    msh_buf_putc(&b, 0);
    msh_events_publish(app->events, MSH_EV_OVERFLOW, r->lon, r->lat, (const char *)b.data);
    msh_buf_free(&b);
}

/* The nearest available cleaning crew of a bin just overflowing; NULL with a reason when none. */
static const msh_responder *nearest(msh_app *app, msh_netview *v, const busy_list *busy, const msh_feed_rec *r,
                                    msh_responder *out, char *why, size_t cap)
{
    if (!v) {
        snprintf(why, cap, "no walking network");
        return NULL;
    }
    const char *ids[MSH_BIN_QUEUE_MAX];
    size_t nids = busy->n < MSH_BIN_QUEUE_MAX ? busy->n : MSH_BIN_QUEUE_MAX;
    for (size_t i = 0; i < nids; i++)
        ids[i] = busy->crew[i];
    msh_responders_q q = {r->lon, r->lat, "cleaning", 1, BIN_SNAP_M, msh_now_ms(), &app->cfg.timers, true,
                          ids, nids};
    size_t got = 0;
    msh_err err;
    if (msh_responders_rank(v, msh_walknet_cfg(app->walknet), app->live, &q, out, &got, &err)) {
        snprintf(why, cap, "%s", err.code == MSH_ENOTFOUND ? "the bin is not near the walking network" : err.msg);
        return NULL;
    }
    if (!got) {
        snprintf(why, cap, "no available cleaning crew can reach it");
        return NULL;
    }
    return out;
}

void msh_bin_service_tick(msh_app *app)
{
    msh_bin_service *s = app->bins;
    if (!s || !app->events)
        return;
    pthread_mutex_lock(&s->mu);
    size_t n = s->n < MSH_BIN_PER_PASS ? s->n : MSH_BIN_PER_PASS;
    bin_change *q = n ? malloc(n * sizeof *q) : NULL;
    for (size_t i = 0; q && i < n; i++)
        q[i] = s->q[(s->head + i) % MSH_BIN_QUEUE_MAX];
    if (q) {
        s->head = (s->head + n) % MSH_BIN_QUEUE_MAX;
        s->n -= n;
    }
    uint64_t dropped = s->dropped;
    s->dropped = 0;
    pthread_mutex_unlock(&s->mu);
    if (dropped)
        fprintf(stderr, "mashaer: bins: %llu overflow changes dropped (more than %d between two passes)\n",
                (unsigned long long)dropped, MSH_BIN_QUEUE_MAX);
    if (!q)
        return;
    busy_list busy = {NULL, NULL, 0, 0};
    msh_netview *v = NULL;
    bool raised = false;
    for (size_t i = 0; i < n; i++)
        raised = raised || q[i].change > 0;
    if (raised) {
        busy_crews(app, &busy);
        v = app->walknet ? msh_walknet_view(app->walknet) : NULL;
    }
    for (size_t i = 0; i < n; i++) {
        msh_responder crew[1];
        char why[512] = ""; /* an msh_err message */
        const msh_responder *c = q[i].change > 0 ? nearest(app, v, &busy, &q[i].rec, crew, why, sizeof why) : NULL;
        put_event(app, &q[i], c, why);
    }
    if (v)
        msh_netview_release(v);
    free(busy.crew);
    free(q);
}
