/* test_live.c: feed records, the live store's incremental cells, expiry, and log replay, on cases worked by hand. */
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "check.h"
#include "core/msh_tilemath.h"
#include "core/msh_time.h"
#include "live/ingest.h"
#include "live/kanon.h"
#include "live/live_layers.h"

/* A batch of n people "<prefix>-<i>" as NDJSON (caller frees). */
static char *people_body(const char *prefix, int n)
{
    size_t cap = (size_t)n * 96 + 1, len = 0;
    char *b = malloc(cap);
    for (int i = 0; b && i < n; i++)
        len += (size_t)snprintf(b + len, cap - len, "{\"id\":\"%s-%d\",\"lon\":39.89,\"lat\":21.41,\"time\":1779782400000}\n",
                                prefix, i);
    return b;
}

/* A write fault (RLIMIT_FSIZE: write() fails with EFBIG) while ingesting: the batch that could not
 * be logged is answered with an error and not applied, health says why, snapshots fail and say
 * so, and once the fault ends the log and snapshots recover without a restart. */
static void ingest_write_fault(const char *dir, const msh_live_config *cfg, int64_t t0)
{
    rm_rf(dir);
    msh_err err;
    msh_live *live;
    msh_ingest *in;
    uint64_t replayed;
    CHECK(msh_live_new(cfg, &live, &err) == MSH_OK);
    CHECK(msh_ingest_open(dir, live, &in, &replayed, &err) == MSH_OK);
    msh_wal_set_retry_ms(msh_ingest_wal(in), 0);
    char *ok = people_body("OK", 10), *big = people_body("F", 1200); /* 3 log records */
    msh_ingest_result res;
    msh_ingest_result_init(&res);
    CHECK(msh_ingest_batch(in, MSH_FEED_POSITIONS, ok, strlen(ok), false, t0, &res, &err) == MSH_OK);
    msh_ingest_result_free(&res);
    CHECK(msh_ingest_health(in, NULL, 0));
    CHECK(msh_ingest_snapshot(in, NULL, &err) == MSH_OK); /* and a fresh, empty log segment */

    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 128; /* the big batch gets in part-way, a snapshot does not fit */
    CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    msh_ingest_result_init(&res);
    CHECK(msh_ingest_batch(in, MSH_FEED_POSITIONS, big, strlen(big), false, t0, &res, &err) == MSH_EIO);
    CHECK(res.accepted == 0 && res.rejected == 1200);
    msh_ingest_result_free(&res);
    msh_live_stats ls;
    msh_live_get_stats(live, &ls);
    CHECK(ls.people == 10); /* nothing of the refused batch was applied */
    msh_live_person pp;
    msh_live_rdlock(live);
    CHECK(!msh_live_person_get(live, "F-0", 3, &pp) && msh_live_person_get(live, "OK-9", 4, &pp));
    msh_live_unlock(live);
    char why[256];
    CHECK(!msh_ingest_health(in, why, sizeof why) && strstr(why, "write-ahead log") != NULL);
    CHECK(msh_ingest_snapshot(in, NULL, &err) != MSH_OK);
    msh_ingest_storage st;
    msh_ingest_storage_stats(in, &st);
    CHECK(st.degraded && st.log_failures == 1 && st.snapshot_failures == 1);
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s/snapshot.tmp", dir);
    CHECK(access(tmp, F_OK) != 0); /* a failed snapshot leaves no part-written file */

    /* the fault ends: the log recovers; health waits for a good snapshot too */
    CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
    CHECK(msh_ingest_retry(in));
    CHECK(!msh_ingest_health(in, why, sizeof why) && strstr(why, "snapshot") != NULL);
    msh_ingest_result_init(&res);
    CHECK(msh_ingest_batch(in, MSH_FEED_POSITIONS, big, strlen(big), false, t0, &res, &err) == MSH_OK);
    CHECK(res.accepted == 1200);
    msh_ingest_result_free(&res);
    CHECK(msh_ingest_snapshot(in, NULL, &err) == MSH_OK && msh_ingest_health(in, NULL, 0));
    msh_ingest_storage_stats(in, &st);
    CHECK(!st.degraded && st.log_recoveries == 1);
    msh_ingest_close(in);
    msh_live_free(live);
    /* a restart holds exactly the acknowledged batches */
    CHECK(msh_live_new(cfg, &live, &err) == MSH_OK);
    CHECK(msh_ingest_open(dir, live, &in, &replayed, &err) == MSH_OK);
    msh_live_get_stats(live, &ls);
    CHECK(ls.people == 1210);
    msh_ingest_close(in);
    msh_live_free(live);
    free(ok);
    free(big);
    rm_rf(dir);
}

static int rec_ok(msh_feed feed, const char *json, msh_feed_rec *r, char *why)
{
    msh_jrec j;
    const char *w;
    if (msh_jrec_parse(json, strlen(json), &j, &w)) {
        snprintf(why, 200, "%s", w);
        return -1;
    }
    return msh_feed_rec_from_json(feed, &j, 1779782400000LL /* 2026-05-26T08:00:00Z */, r, why, 200);
}

typedef struct {
    int n;
    uint32_t total;
    double max_density;
    msh_live_cell last;
} cell_acc;

static int on_cell(void *ud, const msh_live_cell *c)
{
    cell_acc *a = ud;
    a->n++;
    a->total += c->count;
    a->last = *c;
    return 0;
}


static int count_features(void *ud, const msh_feature *f)
{
    (void)f;
    ++*(size_t *)ud;
    return 0;
}

int main(int argc, char **argv)
{
    char why[200];
    msh_feed_rec r;
    int64_t t0;
    CHECK(msh_time_parse_iso("2026-05-26T08:00:00Z", 20, &t0, NULL) == MSH_OK && t0 == 1779782400000LL);
    int64_t t1;
    CHECK(msh_time_parse_iso("2026-05-26T11:00:00.250+03:00", 29, &t1, NULL) == MSH_OK && t1 == 1779782400250LL);
    CHECK(msh_time_parse_iso("2026-02-30T00:00:00Z", 20, &t1, NULL) == MSH_EINVAL);
    CHECK(msh_time_parse_iso("2026-05-26 08:00:00", 19, &t1, NULL) == MSH_EINVAL);
    /* a record with a day that does not exist is refused with the field named, not moved to 1 March */
    CHECK(rec_ok(MSH_FEED_POSITIONS, "{\"id\":\"P-29\",\"lon\":39.8925,\"lat\":21.4131,\"time\":\"2026-02-29T08:00:00Z\"}", &r,
                 why) == -1);
    CHECK(strstr(why, "'time'") && strstr(why, "day: 2026 is not a leap year"));
    CHECK(rec_ok(MSH_FEED_POSITIONS, "{\"id\":\"P-31\",\"lon\":39.8925,\"lat\":21.4131,\"time\":\"2026-04-31T08:00:00Z\"}", &r,
                 why) == -1);
    CHECK(strstr(why, "day: 2026-04 has 30 days, not 31"));
    CHECK(rec_ok(MSH_FEED_POSITIONS, "{\"id\":\"P-24\",\"lon\":39.8925,\"lat\":21.4131,\"time\":\"2024-02-29T08:00:00Z\"}", &r,
                 why) == 0);

    /* positions: short names, FIWARE names, GeoJSON location, epoch ms */
    CHECK(rec_ok(MSH_FEED_POSITIONS, "{\"id\":\"P-1\",\"lon\":39.8925,\"lat\":21.4131,\"time\":\"2026-05-26T08:00:00Z\",\"group\":\"G-\\u0645\",\"speed\":1.2,\"heading\":90}", &r, why) == 0);
    CHECK(!strcmp(r.id, "P-1") && r.t_ms == t0 && fabs(r.lon - 39.8925) < 1e-12 && !strcmp(r.group, "G-\xd9\x85"));
    CHECK((r.has & MSH_FR_SPEED) && r.speed > 1.19f && (r.has & MSH_FR_HEADING));
    CHECK(rec_ok(MSH_FEED_POSITIONS, "{\"id\":7,\"location\":{\"type\":\"Point\",\"coordinates\":[39.9, 21.4]},\"dateObserved\":1779782400000}", &r, why) == 0);
    CHECK(!strcmp(r.id, "7") && fabs(r.lat - 21.4) < 1e-12);
    /* refusals, each with a reason */
    const char *bad[] = {
        "{\"id\":\"P\",\"lon\":200,\"lat\":21,\"time\":1779782400000}",            /* off the world */
        "{\"id\":\"P\",\"lon\":39,\"lat\":21,\"time\":1779792400000}",             /* 2.8 h in the future */
        "{\"id\":\"P\",\"lon\":39,\"lat\":21}",                                    /* no time */
        "{\"lon\":39,\"lat\":21,\"time\":1779782400000}",                          /* no id */
        "{\"id\":\"P\",\"lon\":\"39\",\"lat\":21,\"time\":1779782400000}",         /* lon as text */
        "{\"id\":\"P\",\"lon\":39,\"lat\":21,\"time\":1779782400000,\"speed\":-1}", /* negative speed */
        "{\"id\":\"P\",\"id\":\"Q\",\"lon\":39,\"lat\":21,\"time\":1}",            /* duplicate key */
        "[1,2]", "{\"id\":\"P\"", "{\"id\":\"P\"} x", "{\"id\":\"\\x\"}", "{\"id\":\"\xff\"}", NULL};
    for (int i = 0; bad[i]; i++) {
        why[0] = 0;
        int refused = rec_ok(MSH_FEED_POSITIONS, bad[i], &r, why) != 0;
        CHECK(refused && why[0]);
        if (!refused)
            fprintf(stderr, "  accepted: %s\n", bad[i]);
    }
    CHECK(rec_ok(MSH_FEED_INCIDENTS, "{\"id\":\"I\",\"kind\":\"medical\",\"severity\":\"high\",\"status\":\"on_scene\",\"lon\":39.87,\"lat\":21.42,\"time\":1779782400000}", &r, why) == 0);
    CHECK(r.severity == 3 && r.status == MSH_INC_ON_SCENE);
    CHECK(rec_ok(MSH_FEED_INCIDENTS, "{\"id\":\"I\",\"kind\":\"medical\",\"severity\":\"huge\",\"lon\":39.87,\"lat\":21.42,\"time\":1779782400000}", &r, why) != 0);
    CHECK(rec_ok(MSH_FEED_GATES, "{\"gate\":\"G1\",\"peopleCountTowards\":120,\"peopleCountAway\":30,\"time\":1779782400000}", &r, why) == 0);
    CHECK(r.in == 120 && r.out == 30 && !(r.has & MSH_FR_LOC));

    /* binary form round trip */
    msh_buf enc;
    msh_buf_init(&enc, 1 << 20);
    msh_feed_encode(&r, 1, &enc);
    const uint8_t *p = enc.data;
    msh_feed_rec back;
    CHECK(msh_feed_decode(&p, enc.data + enc.len, &back) && p == enc.data + enc.len);
    CHECK(!strcmp(back.id, "G1") && back.in == 120 && back.out == 30 && back.t_ms == r.t_ms);
    msh_buf_free(&enc);

    /* the live store: 10 people in one 8.9 m cell, then 5 move 100 m east */
    msh_live_config cfg;
    msh_live_config_init(&cfg);
    cfg.max_age_s = 60;
    msh_live *live;
    msh_err err;
    CHECK(msh_live_new(&cfg, &live, &err) == MSH_OK);
    msh_feed_rec people[10];
    for (int i = 0; i < 10; i++) {
        memset(&people[i], 0, sizeof people[i]);
        people[i].id_len = (uint8_t)snprintf(people[i].id, sizeof people[i].id, "P-%d", i);
        people[i].lon = 39.892500 + i * 1e-6; /* within a few cm */
        people[i].lat = 21.413100;
        people[i].t_ms = t0;
        people[i].speed = 1.0f;
        people[i].heading = 90.0f; /* east */
        people[i].has = MSH_FR_LOC | MSH_FR_SPEED | MSH_FR_HEADING;
    }
    msh_live_wrlock(live);
    msh_live_apply(live, MSH_FEED_POSITIONS, people, 10, t0);
    msh_live_unlock(live);
    double box[4];
    double wx, wy;
    msh_lonlat_to_world(39.8925, 21.4131, &wx, &wy);
    box[0] = wx - 2e-7; /* about 8 m each way */
    box[1] = wy - 2e-7;
    box[2] = wx + 2e-7;
    box[3] = wy + 2e-7;
    cell_acc a = {0, 0, 0, {0}};
    msh_live_rdlock(live);
    msh_live_cells(live, 22, box, on_cell, &a);
    uint64_t v1 = msh_live_region_version(live, box);
    msh_live_unlock(live);
    CHECK(a.total == 10);
    CHECK(a.n <= 2); /* the cell boundary may split them */
    CHECK(fabs(a.last.mean_vx - 1.0) < 0.02 && fabs(a.last.mean_vy) < 0.02);
    CHECK(a.last.var_v < 1e-3); /* everyone walks the same way: no turbulence */
    /* 5 move east by ~100 m, reported an hour later without speed: velocity derived from the move */
    for (int i = 0; i < 5; i++) {
        people[i].lon += 0.000965;
        people[i].t_ms = t0 + 100000; /* 100 s later: 1 m/s */
        people[i].has = MSH_FR_LOC;
    }
    msh_live_wrlock(live);
    msh_live_apply(live, MSH_FEED_POSITIONS, people, 5, t0);
    /* an older record for P-0 is ignored */
    msh_feed_rec old = people[0];
    old.t_ms = t0 - 1000;
    old.lon = 10;
    msh_live_apply(live, MSH_FEED_POSITIONS, &old, 1, t0);
    msh_live_unlock(live);
    a = (cell_acc){0, 0, 0, {0}};
    msh_live_rdlock(live);
    msh_live_cells(live, 22, box, on_cell, &a);
    uint64_t v2 = msh_live_region_version(live, box);
    msh_live_person pp;
    CHECK(msh_live_person_get(live, "P-0", 3, &pp) && fabs(pp.lon - 39.893465) < 1e-5 && fabs(pp.speed - 1.0) < 0.05);
    msh_live_unlock(live);
    CHECK(a.total == 5);
    CHECK(v1 != v2);
    /* whole-area count at a coarse level equals the people */
    double world[4] = {0, 0, 1, 1};
    a = (cell_acc){0, 0, 0, {0}};
    msh_live_rdlock(live);
    msh_live_cells(live, 10, world, on_cell, &a);
    msh_live_unlock(live);
    CHECK(a.total == 10 && a.n == 1);
    /* expiry: the 5 that did not move are older than 60 s at t0+100 s */
    CHECK(msh_live_expire(live, t0 + 100000) == 5);
    a = (cell_acc){0, 0, 0, {0}};
    msh_live_rdlock(live);
    msh_live_cells(live, 10, world, on_cell, &a);
    msh_live_unlock(live);
    CHECK(a.total == 5);
    CHECK(msh_fruin_los(0.2) == 'A' && msh_fruin_los(0.5) == 'C' && msh_fruin_los(2.0) == 'E' && msh_fruin_los(3) == 'F');
    CHECK(fabs(msh_live_cell_metres(22, 21.41) - 8.895) < 0.01);

    /* the movement layer hides cells under k = 5 people */
    msh_layer **layers;
    size_t nl;
    CHECK(msh_live_layers_new(live, NULL, 6, &layers, &nl, &err) == MSH_OK && nl == 8);
    CHECK(!strcmp(layers[nl - 1]->info.name, "bins"));
    {
        /* a movement tile's ETag and its content come from one build of the k-anonymous cells */
        msh_layer *mv = layers[0];
        CHECK(strcmp(mv->info.name, "movement") == 0);
        double wbox[4] = {0, 0, 1, 1}, half[4] = {0, 0, 0.5, 1};
        unsigned long long b0 = msh_kanon_pyramids();
        uint64_t v = mv->vt->region_version(mv, 0, wbox);
        CHECK(msh_kanon_pyramids() == b0 + 1);
        size_t nf = 0;
        CHECK(mv->vt->query(mv, wbox, 0, count_features, &nf) == MSH_OK);
        CHECK(msh_kanon_pyramids() == b0 + 1); /* the cells built for the ETag */
        CHECK(mv->vt->region_version(mv, 0, wbox) == v && msh_kanon_pyramids() == b0 + 1); /* memo */
        size_t nf2 = 0;
        CHECK(mv->vt->query(mv, half, 0, count_features, &nf2) == MSH_OK);
        CHECK(msh_kanon_pyramids() == b0 + 2); /* another box: built afresh */
        CHECK(nf2 <= nf);
    }
    msh_live_free(live);
    for (size_t i = 0; i < nl; i++)
        msh_layer_release(layers[i]);
    free(layers);

    /* ingest + log + replay: a batch with one bad line, then a fresh store replays the good ones */
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/live_wal", argc > 1 ? argv[1] : ".");
    rm_rf(dir);
    CHECK(msh_live_new(&cfg, &live, &err) == MSH_OK);
    msh_ingest *in;
    uint64_t replayed = 99;
    CHECK(msh_ingest_open(dir, live, &in, &replayed, &err) == MSH_OK && replayed == 0);
    const char *body = "{\"id\":\"A\",\"lon\":39.89,\"lat\":21.41,\"time\":1779782400000}\n"
                       "\n"
                       "{\"id\":\"B\",\"lon\":399,\"lat\":21.41,\"time\":1779782400000}\r\n"
                       "{\"id\":\"C\",\"lon\":39.89,\"lat\":21.41,\"time\":1779782400000}";
    msh_ingest_result res;
    msh_ingest_result_init(&res);
    CHECK(msh_ingest_batch(in, MSH_FEED_POSITIONS, body, strlen(body), false, t0, &res, &err) == MSH_OK);
    CHECK(res.accepted == 2 && res.rejected == 1);
    msh_buf_putc(&res.rejections, 0);
    CHECK(strstr((const char *)res.rejections.data, "\"line\":3") != NULL);
    msh_ingest_result_free(&res);
    msh_ingest_close(in);
    msh_live_free(live);
    CHECK(msh_live_new(&cfg, &live, &err) == MSH_OK);
    CHECK(msh_ingest_open(dir, live, &in, &replayed, &err) == MSH_OK);
    CHECK(replayed == 2);
    msh_live_rdlock(live);
    CHECK(msh_live_person_get(live, "C", 1, &pp) && !msh_live_person_get(live, "B", 1, &pp));
    msh_live_unlock(live);
    /* snapshot, then more updates, then a restart: snapshot + the log after it */
    uint64_t snap_bytes = 0;
    CHECK(msh_ingest_snapshot(in, &snap_bytes, &err) == MSH_OK && snap_bytes > 0);
    CHECK(msh_ingest_unsnapshotted(in) == 0);
    const char *more = "{\"id\":\"D\",\"lon\":39.9,\"lat\":21.4,\"time\":1779782401000}\n"
                       "{\"id\":\"INC-1\",\"kind\":\"fire\",\"severity\":\"critical\",\"lon\":39.9,\"lat\":21.4,\"time\":1779782401000}";
    msh_ingest_result_init(&res);
    CHECK(msh_ingest_batch(in, MSH_FEED_POSITIONS, more, strlen(more), false, t0, &res, &err) == MSH_OK);
    CHECK(res.accepted == 2); /* an incident-shaped record is a fine position too */
    msh_ingest_result_free(&res);
    msh_ingest_result_init(&res);
    CHECK(msh_ingest_batch(in, MSH_FEED_INCIDENTS, strchr(more, '\n') + 1, strlen(strchr(more, '\n') + 1), false, t0, &res, &err) == MSH_OK);
    CHECK(res.accepted == 1);
    msh_ingest_result_free(&res);
    msh_ingest_close(in);
    msh_live_free(live);
    CHECK(msh_live_new(&cfg, &live, &err) == MSH_OK);
    CHECK(msh_ingest_open(dir, live, &in, &replayed, &err) == MSH_OK);
    msh_live_stats ls;
    msh_live_get_stats(live, &ls);
    CHECK(ls.people == 4 && ls.items[MSH_FEED_INCIDENTS] == 1);
    msh_live_rdlock(live);
    CHECK(msh_live_person_get(live, "A", 1, &pp) && msh_live_person_get(live, "D", 1, &pp));
    msh_live_unlock(live);
    msh_ingest_close(in);
    msh_live_free(live);
    ingest_write_fault(dir, &cfg, t0);
    rm_rf(dir);
    CHECK_DONE();
}
