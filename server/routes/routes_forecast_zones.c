/* routes_forecast_zones.c: GET /forecast/zones?minutes=M: per service zone (the `service_zones`
 * layer, by zone_id, as the geofences rasterise it), the predicted peak over the horizons from now
 * to M minutes: the highest cell density (persons/m2), its level of service, the horizon it is
 * reached at (the first, if it is reached at several) and that time; and the people forecast in
 * the zone at that horizon. Only cells of at least --k-anon people count, as everywhere people
 * are shown.
 *   {"issued_at":"..","minutes":20,"zones":[{"zone":"Z-04","peak_density":2.41,"los":"F",
 *     "peak_minutes":10,"peak_at":"..","people":4210.5}, ...]}
 * Locks: the live read lock while cells are placed in zones (the geofences are swapped under the
 * live write lock). */
#include <stdlib.h>
#include <string.h>

#include "core/msh_constants.h"
#include "core/msh_time.h"
#include "live/geofence.h"
#include "live/live.h"
#include "routes/routes.h"
#include "routes/routes_forecast.h"

typedef struct zrow {
    const char *name; /* the fences' own string: used under the read lock only */
    double peak, people[MSH_FC_NH];
    int peak_h;
} zrow;

static zrow *row_of(zrow **rows, size_t *n, size_t *cap, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if ((*rows)[i].name == name || !strcmp((*rows)[i].name, name))
            return &(*rows)[i];
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 32;
        zrow *nr = realloc(*rows, c * sizeof *nr);
        if (!nr)
            return NULL;
        *rows = nr;
        *cap = c;
    }
    zrow *z = &(*rows)[(*n)++];
    memset(z, 0, sizeof *z);
    z->name = name;
    z->peak_h = -1;
    return z;
}

void msh_route_forecast_zones(msh_req *r, const char *rest)
{
    (void)rest;
    int h = msh_forecast_arg_minutes(r);
    if (h < 0)
        return;
    msh_forecast_result *fr = msh_forecast_arg_result(r);
    if (!fr)
        return;
    float k = (float)r->app->cfg.k_anon;
    zrow *rows = NULL;
    size_t n = 0, cap = 0;
    bool oom = false;
    char issued[MSH_TIME_ISO_CAP];
    msh_time_format_iso(fr->issued_ms, issued, sizeof issued, 0);
    msh_buf b;
    msh_buf_init(&b, (size_t)64 << 20);
    msh_buf_printf(&b, "{\"issued_at\":\"%s\",\"minutes\":%d,\"zones\":[", issued, msh_fc_minutes[h]);
    msh_live_rdlock(r->app->live);
    for (int hh = 0; hh <= h && !oom; hh++) {
        const msh_fc_grid *g = msh_forecast_grid(fr, MSH_FC_MODEL_CTM, hh);
        for (size_t i = 0; i < g->n && !oom; i++) {
            const msh_fc_out *c = &g->cells[i];
            if (c->count < k || !(c->count > 0))
                continue;
            double lon, lat;
            msh_fc_cell_centre(c->cx, c->cy, &lon, &lat);
            const char *zone = msh_fences_at(r->app->fences, 0, lon, lat);
            if (!zone)
                continue;
            zrow *z = row_of(&rows, &n, &cap, zone);
            if (!z) {
                oom = true;
                break;
            }
            double side = msh_fc_cell_side_m(c->cy), d = c->count / (side * side);
            z->people[hh] += c->count;
            if (d > z->peak)
                z->peak = d, z->peak_h = hh;
        }
    }
    for (size_t i = 0; i < n && !oom; i++) {
        zrow *z = &rows[i];
        char at[MSH_TIME_ISO_CAP];
        int pm = msh_fc_minutes[z->peak_h];
        msh_time_format_iso(fr->issued_ms + (int64_t)pm * 60000, at, sizeof at, 0);
        msh_buf_printf(&b, "%s{\"zone\":\"", i ? "," : "");
        msh_buf_json_str(&b, z->name);
        msh_buf_printf(&b, "\",\"peak_density\":%.4f,\"los\":\"%c\",\"peak_minutes\":%d,\"peak_at\":\"%s\",\"people\":%.1f}",
                       z->peak, msh_fruin_los(z->peak), pm, at, z->people[z->peak_h]);
    }
    msh_live_unlock(r->app->live);
    msh_buf_printf(&b, "]}\n");
    free(rows);
    msh_forecast_result_release(fr);
    msh_forecast_send(r, &b, oom, "application/json", "forecast zones");
}
