/* sim_emit.c: the simulator's NDJSON records (docs/FEEDS.md): positions on a hand-made fast path,
 * crews, gates, sensors, bins and incidents with msh_buf. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_int.h"

#define POS_MAX 200 /* longest position record: ids of 10+ digits, six-decimal degrees, heading */

static const char k_pairs[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                 "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                 "8081828384858687888990919293949596979899";

#define LIT(p, s) (memcpy((p), (s), sizeof(s) - 1), (p) + sizeof(s) - 1)

/* Unsigned decimal, at least `width` digits (zero padded), two digits per step. */
static inline char *put_uw(char *p, uint64_t v, int width)
{
    char t[24];
    int n = 0;
    while (v >= 100) {
        uint64_t q = v / 100;
        const char *d = &k_pairs[(v - q * 100) * 2];
        t[n++] = d[1];
        t[n++] = d[0];
        v = q;
    }
    if (v >= 10) {
        t[n++] = k_pairs[v * 2 + 1];
        t[n++] = k_pairs[v * 2];
    } else {
        t[n++] = (char)('0' + v);
    }
    while (n < width)
        t[n++] = '0';
    while (n)
        *p++ = t[--n];
    return p;
}

/* A fixed-point number with `dec` decimals (at most 6), no "-0". */
static inline char *put_fixed(char *p, double v, int dec)
{
    static const double k_scale[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6};
    static const uint64_t k_div[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    if (!isfinite(v))
        v = 0;
    int neg = v < 0;
    double a = neg ? -v : v;
    uint64_t x = (uint64_t)(a * k_scale[dec] + 0.5);
    if (neg && x)
        *p++ = '-';
    uint64_t ip = x / k_div[dec];
    p = put_uw(p, ip, 1);
    if (dec) {
        *p++ = '.';
        p = put_uw(p, x - ip * k_div[dec], dec);
    }
    return p;
}

void msh_sim_set_stamp(msh_sim *s, int64_t unix_ms)
{
    s->stamp_len = msh_time_format_iso(unix_ms, s->stamp, sizeof s->stamp, 0);
}

static msh_rc room(msh_buf *b, size_t need, msh_err *err)
{
    if (b->len + need > b->limit)
        return msh_err_set(err, MSH_ETOOBIG, "a batch of records would pass the buffer's limit (%zu bytes)", b->limit);
    if (msh_buf_reserve(b, need))
        return msh_err_set(err, MSH_ENOMEM, "out of memory for a batch of records");
    return MSH_OK;
}

msh_rc msh_sim_emit_positions(msh_sim *s, uint32_t max, msh_buf *b, uint32_t *written, msh_err *err)
{
    *written = 0;
    if (!max || !s->np)
        return MSH_OK;
    msh_rc rc = room(b, (size_t)max * POS_MAX, err);
    if (rc)
        return rc;
    char *p = (char *)b->data + b->len;
    uint32_t i = s->cur_p, gi = s->cur_g;
    const sim_group *g = &s->g[gi];
    const double jlon = 0.75 / s->kx, jlat = 0.75 / s->ky; /* fresh jitter, up to 0.75 m */
    const double k16 = 1.0 / 32767.5;
    for (uint32_t n = 0; n < max; n++) {
        while (i >= g->first + g->size) {
            if (++gi == s->ng)
                gi = 0, i = 0;
            g = &s->g[gi];
        }
        uint64_t r = sim_rand(&s->erng);
        double jx = ((double)(r & 0xffff) - 32767.5) * k16, jy = ((double)((r >> 16) & 0xffff) - 32767.5) * k16;
        double lon = g->clon + s->ox[i] * g->rlon + jx * jlon;
        double lat = g->clat + s->oy[i] * g->rlat + jy * jlat;
        p = LIT(p, "{\"id\":\"P-");
        p = put_uw(p, (uint64_t)i + 1, s->id_digits);
        p = LIT(p, "\",\"group\":\"G-");
        p = put_uw(p, (uint64_t)gi + 1, s->gid_digits);
        p = LIT(p, "\",\"lon\":");
        p = put_fixed(p, lon, 6);
        p = LIT(p, ",\"lat\":");
        p = put_fixed(p, lat, 6);
        p = LIT(p, ",\"time\":\"");
        memcpy(p, s->stamp, s->stamp_len);
        p += s->stamp_len;
        if (g->walking) { /* each walker within 10 % of the group's speed, 8 degrees of its heading */
            double v = g->speed * (0.9 + (double)((r >> 32) & 0xff) * (0.2 / 255));
            double h = g->heading + ((double)((r >> 40) & 0xff) * (16.0 / 255) - 8);
            h = h < 0 ? h + 360 : h >= 360 ? h - 360 : h;
            p = LIT(p, "\",\"speed\":");
            p = put_fixed(p, v, 2);
            p = LIT(p, ",\"heading\":");
            p = put_uw(p, (uint64_t)(h + 0.5) % 360, 1);
            p = LIT(p, "}\n");
        } else {
            p = LIT(p, "\",\"speed\":0}\n");
        }
        i++;
    }
    s->cur_p = i;
    s->cur_g = gi;
    b->len = (size_t)(p - (char *)b->data);
    *written = max;
    return MSH_OK;
}

/* ---------------------------------------------------------------- the small feeds */

/* `"lon":..,"lat":..,"time":".."` */
static msh_rc put_where(msh_sim *s, msh_buf *b, sim_pt p)
{
    char tmp[96], *q = tmp;
    q = LIT(q, "\"lon\":");
    q = put_fixed(q, sim_lon(s, p.x), 6);
    q = LIT(q, ",\"lat\":");
    q = put_fixed(q, sim_lat(s, p.y), 6);
    q = LIT(q, ",\"time\":\"");
    memcpy(q, s->stamp, s->stamp_len);
    q += s->stamp_len;
    *q++ = '"';
    return msh_buf_append(b, tmp, (size_t)(q - tmp));
}

static msh_rc put_kv_str(msh_buf *b, const char *key, const char *val)
{
    msh_rc rc = msh_buf_printf(b, "\"%s\":\"", key);
    if (!rc)
        rc = msh_buf_json_str(b, val);
    if (!rc)
        rc = msh_buf_append(b, "\",", 2);
    return rc;
}

static msh_rc full(msh_buf *b, size_t mark, msh_err *err)
{
    b->len = mark;
    return msh_err_set(err, MSH_ETOOBIG, "a batch of records would pass the buffer's limit (%zu bytes)", b->limit);
}

msh_rc msh_sim_emit_crews(msh_sim *s, msh_buf *b, uint32_t *written, msh_err *err)
{
    static const char *const k_status[] = {"cleaning", "standby", "en_route", "on_scene", "returning"};
    size_t mark = b->len;
    *written = 0;
    for (uint32_t i = 0; i < s->ncrews; i++) {
        const sim_crew *c = &s->crews[i];
        if (msh_buf_printf(b, "{\"id\":\"CREW-%02u\",\"kind\":\"%s\",\"status\":\"%s\",", i + 1,
                           c->kind ? "emergency" : "cleaning", k_status[c->status]) ||
            put_kv_str(b, "name", c->name) || put_where(s, b, c->p) || msh_buf_append(b, "}\n", 2))
            return full(b, mark, err);
    }
    *written = s->ncrews;
    return MSH_OK;
}

msh_rc msh_sim_emit_gates(msh_sim *s, msh_buf *b, uint32_t *written, msh_err *err)
{
    size_t mark = b->len;
    *written = 0;
    for (uint32_t i = 0; i < s->ngates; i++) {
        const sim_gate *g = &s->gates[i];
        if (msh_buf_append(b, "{", 1) || put_kv_str(b, "id", g->id) ||
            msh_buf_printf(b, "\"in\":%llu,\"out\":%llu,", (unsigned long long)g->in, (unsigned long long)g->out) ||
            (g->capacity >= 0 && msh_buf_printf(b, "\"capacity\":%lld,", (long long)g->capacity)) ||
            put_where(s, b, g->p) || msh_buf_append(b, "}\n", 2))
            return full(b, mark, err);
    }
    for (uint32_t i = 0; i < s->ngates; i++)
        s->gates[i].in = s->gates[i].out = 0;
    *written = s->ngates;
    return MSH_OK;
}

/* US EPA AQI from PM2.5 (ug/m3, 2012 breakpoints). */
static int aqi_pm25(double c)
{
    static const double k_c[][2] = {{0, 12.0}, {12.1, 35.4}, {35.5, 55.4}, {55.5, 150.4}, {150.5, 250.4},
                                    {250.5, 500.4}};
    static const int k_i[][2] = {{0, 50}, {51, 100}, {101, 150}, {151, 200}, {201, 300}, {301, 500}};
    c = floor(c * 10) / 10;
    for (int k = 0; k < 6; k++)
        if (c <= k_c[k][1])
            return (int)lround(k_i[k][0] + (k_i[k][1] - k_i[k][0]) * (c - k_c[k][0]) / (k_c[k][1] - k_c[k][0]));
    return 500;
}

/* Air temperature (deg C) at a local hour: 30 at 05:00 rising to 45 at 15:00, falling overnight. */
static double temperature_at(double h)
{
    if (h >= 5 && h < 15)
        return 30 + 15 * (1 - cos(M_PI * (h - 5) / 10)) / 2;
    double x = h >= 15 ? h - 15 : h + 9;
    return 45 - 15 * (1 - cos(M_PI * x / 14)) / 2;
}

msh_rc msh_sim_emit_sensors(msh_sim *s, msh_buf *b, uint32_t *written, msh_err *err)
{
    *written = 0;
    if (s->t < s->next_sensor_t)
        return MSH_OK;
    s->next_sensor_t = (floor(s->t / 300) + 1) * 300; /* every 5 simulated minutes */
    size_t mark = b->len;
    uint32_t per_site[SITE_N] = {0};
    for (uint32_t i = 0; i < s->nsensors; i++)
        if (s->sensors[i].site >= 0)
            per_site[s->sensors[i].site]++;
    double h = fmod(s->t / 3600, 24); /* the clock runs from local midnight */
    double base_t = temperature_at(h);
    for (uint32_t i = 0; i < s->nsensors; i++) {
        sim_sensor *z = &s->sensors[i];
        sim_rng *r = &s->rng;
        /* slow random drifts (AR(1)) on top of the daily curve and the crowd */
        z->drift_t = 0.9 * z->drift_t + sim_uniform(r, -0.15, 0.15);
        z->drift_pm = 0.9 * z->drift_pm + sim_uniform(r, -2, 2);
        z->drift_db = 0.8 * z->drift_db + sim_uniform(r, -0.8, 0.8);
        double crowd = z->site >= 0 && per_site[z->site] ? s->site_pop[z->site] / per_site[z->site] : 0;
        double temp = fmin(46, fmax(29, base_t + z->t_off + z->drift_t));
        double rh = fmin(0.4, fmax(0.08, 0.12 + 0.23 * (45 - temp) / 15 + z->drift_t * 0.01));
        double pm = fmax(5, 22 + 40 * fmin(1, crowd / 20000) + z->drift_pm);
        double db = fmin(95, 50 + 10 * log10(1 + crowd / 100) + z->drift_db);
        if (msh_buf_append(b, "{", 1) || put_kv_str(b, "id", z->id) ||
            msh_buf_printf(b, "\"temperature\":%.1f,\"relativeHumidity\":%.2f,\"pm25\":%.1f,\"airQualityIndex\":%d,"
                              "\"LAeq\":%.1f,",
                           temp, rh, pm, aqi_pm25(pm), db) ||
            put_where(s, b, z->p) || msh_buf_append(b, "}\n", 2))
            return full(b, mark, err);
    }
    *written = s->nsensors;
    return MSH_OK;
}

msh_rc msh_sim_emit_bins(msh_sim *s, msh_buf *b, uint32_t *written, msh_err *err)
{
    *written = 0;
    if (s->t < s->next_bin_t || !s->nbins)
        return MSH_OK;
    s->next_bin_t = (floor(s->t / 300) + 1) * 300; /* every 5 simulated minutes, as the sensors */
    size_t mark = b->len;
    for (uint32_t i = 0; i < s->nbins; i++) {
        const sim_bin *bn = &s->bins[i];
        if (msh_buf_append(b, "{", 1) || put_kv_str(b, "id", bn->id) ||
            msh_buf_printf(b, "\"fillingLevel\":%.3f,", bn->fill) || put_where(s, b, bn->p) ||
            msh_buf_append(b, "}\n", 2))
            return full(b, mark, err);
    }
    *written = s->nbins;
    return MSH_OK;
}

msh_rc msh_sim_emit_incidents(msh_sim *s, msh_buf *b, uint32_t *written, msh_err *err)
{
    static const char *const k_kind[] = {"medical", "lost_person", "fire", "crowding"};
    static const char *const k_sev[] = {"informational", "low", "medium", "high", "critical"};
    static const char *const k_status[] = {"reported", "dispatched", "on_scene", "resolved"};
    size_t mark = b->len;
    *written = 0;
    for (uint32_t i = 0; i < s->nev; i++) {
        const sim_event *e = &s->ev[i];
        if (msh_buf_printf(b, "{\"id\":\"INC-%s-%06llu\",\"kind\":\"%s\",\"severity\":\"%s\",\"status\":\"%s\",",
                           s->run_id, (unsigned long long)e->num, k_kind[e->kind], k_sev[e->severity],
                           k_status[e->status]) ||
            put_kv_str(b, "description", e->desc) || put_where(s, b, e->p) || msh_buf_append(b, "}\n", 2))
            return full(b, mark, err);
    }
    *written = s->nev;
    s->nev = 0;
    return MSH_OK;
}
