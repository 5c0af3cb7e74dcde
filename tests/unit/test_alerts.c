/* test_alerts.c: the crowd-alert rules (layers/live/alerts.c) and geofence crossings
 * (layers/live/geofence.c), stepped by hand: no clock, no server, no sleeps.
 *   - density: a crowd packed into one alert cell raises the level-of-service alert past Fruin's
 *     D/E line, holds it between 80% and 100% of the line, clears it below 80%; past the
 *     configured density the density alert joins; a cell that empties clears what it raised;
 *   - pressure: the same crowd walking in opposite directions raises the pressure alert;
 *   - gates: over capacity past 1.0, held down to 0.9, back under below it;
 *   - geofences: a walk from one zone into the next, and into a camp, crosses out then in. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "store_build.h"
#include "catalog.h"
#include "core/msh_constants.h"
#include "core/msh_tilemath.h"
#include "live/alerts.h"
#include "live/geofence.h"
#include "live/live.h"

#define T0 1779782400000LL /* 2026-05-26T08:00:00Z */

typedef struct {
    msh_density_change v[16];
    int n;
} changes;

static void record(void *ud, const msh_density_change *c)
{
    changes *ch = ud;
    if (ch->n < 16)
        ch->v[ch->n] = *c;
    ch->n++;
}

static double cell_lon, cell_lat, cell_side; /* the alert cell the crowd stands in */

/* n people around the cell's centre (within 3 m), all at speed 1 m/s; half face east and half
 * west when `opposed`, else all east. Older records with the same ids are moved. */
static void crowd(msh_live *live, int n, bool opposed, int64_t t, double dlon)
{
    static msh_feed_rec people[2000];
    for (int i = 0; i < n; i++) {
        msh_feed_rec *p = &people[i];
        memset(p, 0, sizeof *p);
        p->id_len = (uint8_t)snprintf(p->id, sizeof p->id, "P-%d", i);
        p->lon = cell_lon + dlon + ((i % 20) - 10) * 1.4e-6 * 2;
        p->lat = cell_lat + ((i / 20 % 20) - 10) * 1.3e-6 * 2;
        p->t_ms = t;
        p->speed = 1.0f;
        p->heading = opposed && (i & 1) ? 270.0f : 90.0f;
        p->has = MSH_FR_LOC | MSH_FR_SPEED | MSH_FR_HEADING;
    }
    msh_live_wrlock(live);
    msh_live_apply(live, MSH_FEED_POSITIONS, people, (size_t)n, t);
    msh_live_unlock(live);
}

static int people_for(double density) { return (int)ceil(density * cell_side * cell_side); }

static void test_density(void)
{
    msh_live_config cfg;
    msh_live_config_init(&cfg);
    cfg.max_age_s = 3600;
    msh_live *live;
    msh_err err;
    CHECK(msh_live_new(&cfg, &live, &err) == MSH_OK);
    msh_alerts *a = msh_alerts_new();
    msh_alert_limits lim = {4.0, 1e9}; /* pressure out of the way for now */
    /* the centre of the alert cell over Mina */
    double wx, wy, n = (double)(1u << MSH_ALERT_LEVEL);
    msh_lonlat_to_world(39.8925, 21.4131, &wx, &wy);
    msh_world_to_lonlat((floor(wx * n) + 0.5) / n, (floor(wy * n) + 0.5) / n, &cell_lon, &cell_lat);
    cell_side = msh_live_cell_metres(MSH_ALERT_LEVEL, cell_lat);
    CHECK(cell_side > 17 && cell_side < 19);

    changes ch = {0};
    int64_t t = T0;
    /* 90% of the D/E line: nothing */
    crowd(live, people_for(0.9 * MSH_FRUIN_D_MAX), false, t += 1000, 0);
    msh_alerts_scan_density(a, live, &lim, record, &ch);
    CHECK(ch.n == 0);
    /* past the line: raised, once */
    crowd(live, people_for(1.1 * MSH_FRUIN_D_MAX), false, t += 1000, 0);
    msh_alerts_scan_density(a, live, &lim, record, &ch);
    CHECK(ch.n == 1 && ch.v[0].before == 0 && ch.v[0].after == MSH_ALERT_LOS);
    CHECK(ch.n == 1 && ch.v[0].density > MSH_FRUIN_D_MAX && ch.v[0].cell.count == (uint32_t)people_for(1.1 * MSH_FRUIN_D_MAX));
    CHECK(ch.n == 1 && fabs(ch.v[0].lon - cell_lon) < 1e-9 && fabs(ch.v[0].lat - cell_lat) < 1e-9);
    msh_alerts_scan_density(a, live, &lim, record, &ch);
    CHECK(ch.n == 1);
    CHECK(msh_alerts_active(a) == 1);
    /* down to 85% of the line: held (hysteresis) */
    msh_live_free(live);
    CHECK(msh_live_new(&cfg, &live, &err) == MSH_OK);
    crowd(live, people_for(0.85 * MSH_FRUIN_D_MAX), false, t += 1000, 0);
    msh_alerts_scan_density(a, live, &lim, record, &ch);
    CHECK(ch.n == 1);
    /* below 80%: cleared */
    msh_live_free(live);
    CHECK(msh_live_new(&cfg, &live, &err) == MSH_OK);
    crowd(live, people_for(0.75 * MSH_FRUIN_D_MAX), false, t += 1000, 0);
    msh_alerts_scan_density(a, live, &lim, record, &ch);
    CHECK(ch.n == 2 && ch.v[1].before == MSH_ALERT_LOS && ch.v[1].after == 0);
    CHECK(msh_alerts_active(a) == 0);
    /* past the configured density: both alerts at once */
    crowd(live, people_for(4.2), false, t += 1000, 0);
    msh_alerts_scan_density(a, live, &lim, record, &ch);
    CHECK(ch.n == 3 && ch.v[2].after == (MSH_ALERT_LOS | MSH_ALERT_DENSITY) && ch.v[2].density > 4.0);
    /* everyone walks 200 m east: the cell empties and what it raised is cleared, with no people */
    crowd(live, people_for(4.2), false, t += 1000, 0.002);
    msh_alerts_scan_density(a, live, &lim, record, &ch);
    bool cleared = false, raised_east = false;
    for (int i = 3; i < ch.n && i < 16; i++) {
        if (ch.v[i].after == 0 && ch.v[i].cell.count == 0 && fabs(ch.v[i].lon - cell_lon) < 1e-9)
            cleared = true;
        if (ch.v[i].after && ch.v[i].lon > cell_lon + 0.0015)
            raised_east = true;
    }
    CHECK(cleared && raised_east);
    msh_alerts_free(a);

    /* pressure: the same crowd in two opposing streams (velocity variance about 1 m2/s2) */
    a = msh_alerts_new();
    msh_live_free(live);
    CHECK(msh_live_new(&cfg, &live, &err) == MSH_OK);
    msh_alert_limits plim = {100.0, 0.5};
    changes pc = {0};
    crowd(live, people_for(0.6), true, t += 1000, 0); /* density 0.6, pressure about 0.6 */
    msh_alerts_scan_density(a, live, &plim, record, &pc);
    CHECK(pc.n == 1 && pc.v[0].after == MSH_ALERT_PRESSURE && pc.v[0].pressure > 0.5);
    msh_live_free(live);
    CHECK(msh_live_new(&cfg, &live, &err) == MSH_OK);
    crowd(live, people_for(0.6), false, t += 1000, 0); /* one stream: no variance, no pressure */
    msh_alerts_scan_density(a, live, &plim, record, &pc);
    CHECK(pc.n == 2 && pc.v[1].after == 0 && pc.v[1].pressure < 0.01);
    msh_alerts_free(a);
    msh_live_free(live);
}

static void test_gates(void)
{
    msh_alerts *a = msh_alerts_new();
    const double util[] = {0.8, 1.1, 1.2, 0.95, 0.85, 0.95, 1.0, 1.01, 0.5};
    const int want[] = {0, 1, 0, 0, -1, 0, 0, 1, -1};
    for (int i = 0; i < 9; i++) {
        int got = msh_alerts_gate(a, "GATE-7", 6, util[i]);
        CHECK(got == want[i]);
        if (got != want[i])
            fprintf(stderr, "  utilisation %.2f: %d, want %d\n", util[i], got, want[i]);
    }
    /* gates are independent of each other */
    CHECK(msh_alerts_gate(a, "GATE-8", 6, 1.5) == 1);
    CHECK(msh_alerts_gate(a, "GATE-7", 6, 1.5) == 1);
    CHECK(msh_alerts_active(a) == 2);
    msh_alerts_free(a);
}

typedef struct {
    char log[512];
} crossing_log;

static void on_cross(void *ud, int kind, const char *name, bool enter)
{
    crossing_log *l = ud;
    size_t n = strlen(l->log);
    snprintf(l->log + n, sizeof l->log - n, "%s %s %s;", enter ? "enter" : "exit", kind ? "camp" : "zone", name);
}

static void move(const msh_fences *f, double lon0, double lat0, bool had_old, double lon1, double lat1, crossing_log *l)
{
    double ax, ay, bx, by;
    msh_lonlat_to_world(lon0, lat0, &ax, &ay);
    msh_lonlat_to_world(lon1, lat1, &bx, &by);
    l->log[0] = 0;
    msh_fences_crossings(f, had_old, (uint32_t)(ax * 4294967296.0), (uint32_t)(ay * 4294967296.0),
                         (uint32_t)(bx * 4294967296.0), (uint32_t)(by * 4294967296.0), on_cross, l);
}

static void test_geofences(const char *tmp)
{
    char db[1024];
    snprintf(db, sizeof db, "%s/test_alerts.sqlite", tmp);
    unlink(db);
    msh_store *s;
    msh_err err;
    CHECK(msh_store_open(db, true, &s, &err) == MSH_OK);
    wkb g;
    msh_field zf[1] = {{(char *)"zone_id", MSH_FT_STRING}};
    msh_store_writer *w = begin(s, "service_zones", zf, 1);
    wkb_box(&g, 39.880, 21.400, 39.890, 21.410);
    add(w, &g, (msh_value[]){S("Z1")});
    wkb_box(&g, 39.890, 21.400, 39.900, 21.410);
    add(w, &g, (msh_value[]){S("Z2")});
    commit(w);
    msh_field cf[1] = {{(char *)"camp_id", MSH_FT_STRING}};
    w = begin(s, "camps", cf, 1);
    wkb_box(&g, 39.8950, 21.4040, 39.8960, 21.4050);
    add(w, &g, (msh_value[]){S("C-1")});
    commit(w);
    msh_catalog *cat = NULL;
    CHECK(msh_catalog_load(s, NULL, &cat, &err) == MSH_OK);
    msh_fences *f = msh_fences_build(cat);
    CHECK(f != NULL);
    CHECK(f && !strcmp(msh_fences_at(f, 0, 39.885, 21.405), "Z1"));
    CHECK(f && msh_fences_at(f, 1, 39.885, 21.405) == NULL);
    CHECK(f && !strcmp(msh_fences_at(f, 1, 39.8955, 21.4045), "C-1"));
    crossing_log l;
    move(f, 39.885, 21.405, false, 39.885, 21.405, &l); /* first sighting inside Z1 */
    CHECK(!strcmp(l.log, "enter zone Z1;"));
    move(f, 39.885, 21.405, true, 39.886, 21.405, &l); /* inside Z1 still */
    CHECK(!strcmp(l.log, ""));
    move(f, 39.889, 21.405, true, 39.891, 21.405, &l); /* across the boundary */
    CHECK(!strcmp(l.log, "exit zone Z1;enter zone Z2;"));
    move(f, 39.891, 21.405, true, 39.8955, 21.4045, &l); /* into the camp, Z2 still */
    CHECK(!strcmp(l.log, "enter camp C-1;"));
    move(f, 39.8955, 21.4045, true, 39.950, 21.405, &l); /* out of everything */
    CHECK(!strcmp(l.log, "exit zone Z2;exit camp C-1;"));
    msh_fences_crossings(NULL, true, 1, 2, 3, 4, on_cross, &l); /* no fences yet: nothing */
    msh_fences_free(f);
    msh_catalog_release(cat);
    msh_store_close(s);
    unlink(db);
}

int main(int argc, char **argv)
{
    test_density();
    test_gates();
    test_geofences(argc > 1 ? argv[1] : "/tmp");
    printf("%d checks, %d failed\n", g_checks, g_failed);
    return g_failed != 0;
}
