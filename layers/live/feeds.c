/* feeds.c: feed record validation (FIWARE and short names), times, binary codec. */
#include "feeds.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/msh_time.h"

#include "core/msh_le.h"

static const char *FEED_NAMES[MSH_FEED_COUNT] = {"positions", "crews", "incidents", "gates", "sensors", "bins"};
static const char *INC_STATUS[] = {"reported", "dispatched", "on_scene", "resolved"};
static const char *SEVERITY[] = {"informational", "low", "medium", "high", "critical"};

const char *msh_feed_name(msh_feed f)
{
    return f < MSH_FEED_COUNT ? FEED_NAMES[f] : "?";
}

bool msh_feed_lookup(const char *s, size_t n, msh_feed *out)
{
    for (int i = 0; i < MSH_FEED_COUNT; i++)
        if (strlen(FEED_NAMES[i]) == n && !memcmp(FEED_NAMES[i], s, n)) {
            *out = (msh_feed)i;
            return true;
        }
    return false;
}

const char *msh_inc_status_name(int s)
{
    return s >= 0 && s < 4 ? INC_STATUS[s] : "reported";
}

const char *msh_severity_name(int s)
{
    return s >= 0 && s < 5 ? SEVERITY[s] : "informational";
}

static int why_set(char *why, size_t cap, const char *fmt, const char *a)
{
    snprintf(why, cap, fmt, a);
    return -1;
}

/* The first of several names a field may go by. */
static const msh_jfield *field(const msh_jrec *j, const char *a, const char *b, const char *c)
{
    const msh_jfield *f = msh_jrec_get(j, a);
    if (!f && b)
        f = msh_jrec_get(j, b);
    if (!f && c)
        f = msh_jrec_get(j, c);
    if (f && f->type == MSH_JV_NULL)
        return NULL;
    return f;
}

static int opt_num(const msh_jrec *j, const char *a, const char *b, double lo, double hi, float *out, uint32_t bit,
                   uint32_t *has, char *why, size_t cap)
{
    const msh_jfield *f = field(j, a, b, NULL);
    if (!f)
        return 0;
    double v;
    if (!msh_jrec_num(f, &v))
        return why_set(why, cap, "'%s' must be a number", a);
    if (v < lo || v > hi) {
        snprintf(why, cap, "'%s' = %g is outside %g..%g", a, v, lo, hi);
        return -1;
    }
    *out = (float)v;
    *has |= bit;
    return 0;
}

static int opt_int(const msh_jrec *j, const char *a, const char *b, int32_t *out, uint32_t bit, uint32_t *has,
                   char *why, size_t cap)
{
    const msh_jfield *f = field(j, a, b, NULL);
    if (!f)
        return 0;
    double v;
    if (!msh_jrec_num(f, &v) || v != floor(v) || v < 0 || v > 2e9)
        return why_set(why, cap, "'%s' must be a whole number >= 0", a);
    *out = (int32_t)v;
    *has |= bit;
    return 0;
}

static int opt_str(const msh_jrec *j, const char *a, const char *b, char *out, size_t outcap, uint32_t bit,
                   uint32_t *has, char *why, size_t cap)
{
    const msh_jfield *f = field(j, a, b, NULL);
    if (!f)
        return 0;
    size_t n;
    if (!msh_jrec_str(f, out, outcap, &n))
        return why_set(why, cap, "'%s' must be a string of reasonable length", a);
    *has |= bit;
    return 0;
}

static int lookup_word(const char *s, const char *const *words, int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(s, words[i]))
            return i;
    return -1;
}

int msh_feed_rec_from_json(msh_feed feed, const msh_jrec *j, int64_t now_ms, msh_feed_rec *r, char *why, size_t cap)
{
    memset(r, 0, sizeof *r);
    /* id */
    const msh_jfield *f = field(j, "id", feed == MSH_FEED_GATES ? "gate" : NULL, NULL);
    size_t n = 0;
    if (!f)
        return why_set(why, cap, "missing '%s'", "id");
    if (f->type == MSH_JV_NUMBER) {
        if (f->val_len > MSH_FEED_ID_MAX)
            return why_set(why, cap, "'%s' too long", "id");
        memcpy(r->id, f->val, f->val_len);
        n = f->val_len;
        r->id[n] = 0;
    } else if (!msh_jrec_str(f, r->id, sizeof r->id, &n)) {
        return why_set(why, cap, "'%s' must be a string of at most 64 bytes", "id");
    }
    if (n == 0)
        return why_set(why, cap, "empty '%s'", "id");
    r->id_len = (uint8_t)n;
    /* time */
    f = field(j, "time", "dateObserved", "timestamp");
    if (!f)
        return why_set(why, cap, "missing '%s' (ISO 8601 or epoch milliseconds)", "time");
    if (f->type == MSH_JV_NUMBER) {
        double v;
        if (!msh_jrec_num(f, &v) || v < 0 || v > 1e15 || v != floor(v))
            return why_set(why, cap, "'%s' must be epoch milliseconds", "time");
        r->t_ms = (int64_t)v;
    } else if (f->type != MSH_JV_STRING) {
        return why_set(why, cap, "'%s' must be an ISO 8601 time or epoch milliseconds", "time");
    } else {
        msh_err e;
        if (msh_time_parse_iso(f->val, f->val_len, &r->t_ms, &e)) {
            snprintf(why, cap, "'time' is not an ISO 8601 time (2026-05-26T08:00:00Z): %s", e.msg);
            return -1;
        }
    }
    if (r->t_ms > now_ms + 5 * 60 * 1000)
        return why_set(why, cap, "'%s' is more than 5 minutes in the future", "time");
    /* location */
    double lon = NAN, lat = NAN;
    const msh_jfield *lf = field(j, "location", NULL, NULL);
    if (lf) {
        if (!msh_jrec_point(lf, &lon, &lat))
            return why_set(why, cap, "'%s' must be a GeoJSON Point", "location");
    } else {
        const msh_jfield *fx = field(j, "lon", "longitude", "lng"), *fy = field(j, "lat", "latitude", NULL);
        if ((fx || fy) && (!msh_jrec_num(fx, &lon) || !msh_jrec_num(fy, &lat)))
            return why_set(why, cap, "'%s' and 'lat' must both be numbers", "lon");
    }
    if (!isnan(lon)) {
        if (lon < -180 || lon > 180 || lat < -90 || lat > 90)
            return why_set(why, cap, "%s is outside the world (lon -180..180, lat -90..90)", "location");
        r->lon = lon;
        r->lat = lat;
        r->has |= MSH_FR_LOC;
    } else if (feed != MSH_FEED_GATES) {
        return why_set(why, cap, "missing location ('%s'/'lat' or 'location')", "lon");
    }
    char word[40];
    switch (feed) {
    case MSH_FEED_POSITIONS:
        if (opt_str(j, "group", NULL, r->group, sizeof r->group, MSH_FR_GROUP, &r->has, why, cap) ||
            opt_num(j, "speed", NULL, 0, 15, &r->speed, MSH_FR_SPEED, &r->has, why, cap) ||
            opt_num(j, "heading", "bearing", 0, 360, &r->heading, MSH_FR_HEADING, &r->has, why, cap) ||
            opt_num(j, "accuracy", NULL, 0, 10000, &r->accuracy, MSH_FR_ACCURACY, &r->has, why, cap))
            return -1;
        break;
    case MSH_FEED_CREWS:
        if (opt_str(j, "kind", "category", r->kind, sizeof r->kind, MSH_FR_KIND, &r->has, why, cap) ||
            opt_str(j, "status", NULL, r->group, sizeof r->group, MSH_FR_STATUS, &r->has, why, cap) ||
            opt_str(j, "name", NULL, r->text, sizeof r->text, MSH_FR_TEXT, &r->has, why, cap) ||
            opt_num(j, "speed", NULL, 0, 60, &r->speed, MSH_FR_SPEED, &r->has, why, cap))
            return -1;
        break;
    case MSH_FEED_INCIDENTS:
        if (opt_str(j, "kind", "category", r->kind, sizeof r->kind, MSH_FR_KIND, &r->has, why, cap) ||
            opt_str(j, "description", NULL, r->text, sizeof r->text, MSH_FR_TEXT, &r->has, why, cap))
            return -1;
        if (!(r->has & MSH_FR_KIND))
            return why_set(why, cap, "missing '%s'", "kind");
        {
            uint32_t h = 0;
            if (opt_str(j, "severity", NULL, word, sizeof word, 1, &h, why, cap))
                return -1;
            int s = h ? lookup_word(word, SEVERITY, 5) : -1;
            if (s < 0)
                return why_set(why, cap, "'%s' must be informational, low, medium, high or critical", "severity");
            r->severity = (uint8_t)s;
            r->has |= MSH_FR_SEVERITY;
            h = 0;
            if (opt_str(j, "status", NULL, word, sizeof word, 1, &h, why, cap))
                return -1;
            if (h) {
                int st = lookup_word(word, INC_STATUS, 4);
                if (st < 0)
                    return why_set(why, cap, "'%s' must be reported, dispatched, on_scene or resolved", "status");
                r->status = (uint8_t)st;
                r->has |= MSH_FR_STATUS;
            }
        }
        break;
    case MSH_FEED_GATES:
        if (opt_int(j, "in", "peopleCountTowards", &r->in, MSH_FR_IN, &r->has, why, cap) ||
            opt_int(j, "out", "peopleCountAway", &r->out, MSH_FR_OUT, &r->has, why, cap) ||
            opt_int(j, "capacity", NULL, &r->capacity, MSH_FR_CAPACITY, &r->has, why, cap))
            return -1;
        {
            /* permit scans: counts of this report, like in and out; both or neither */
            uint32_t sv = 0, sd = 0;
            if (opt_int(j, "scans_valid", NULL, &r->scans_valid, 1, &sv, why, cap) ||
                opt_int(j, "scans_denied", NULL, &r->scans_denied, 1, &sd, why, cap))
                return -1;
            if (sv != sd)
                return why_set(why, cap, "'%s' and 'scans_denied' go together", "scans_valid");
            if (sv && (int64_t)r->scans_valid + r->scans_denied > 1000000)
                return why_set(why, cap, "'%s' + 'scans_denied' over 1,000,000 in one report", "scans_valid");
            if (sv)
                r->has |= MSH_FR_SCANS;
        }
        if (!(r->has & (MSH_FR_IN | MSH_FR_OUT | MSH_FR_SCANS)))
            return why_set(why, cap, "a gate record needs '%s' and/or 'out' (or permit scans)", "in");
        break;
    case MSH_FEED_SENSORS:
        if (opt_num(j, "temperature", NULL, -60, 70, &r->temperature, MSH_FR_TEMP, &r->has, why, cap) ||
            opt_num(j, "relativeHumidity", "humidity", 0, 1, &r->humidity, MSH_FR_HUMIDITY, &r->has, why, cap) ||
            opt_num(j, "airQualityIndex", "aqi", 0, 1000, &r->aqi, MSH_FR_AQI, &r->has, why, cap) ||
            opt_num(j, "pm25", NULL, 0, 2000, &r->pm25, MSH_FR_PM25, &r->has, why, cap) ||
            opt_num(j, "LAeq", "noise", 0, 200, &r->noise, MSH_FR_NOISE, &r->has, why, cap))
            return -1;
        break;
    case MSH_FEED_BINS:
        /* FIWARE WasteContainer: fillingLevel is required (a reading without it says nothing) */
        if (opt_num(j, "fillingLevel", "fill_level", 0, 1, &r->fill, MSH_FR_FILL, &r->has, why, cap) ||
            opt_num(j, "temperature", NULL, -60, 100, &r->temperature, MSH_FR_TEMP, &r->has, why, cap))
            return -1;
        if (!(r->has & MSH_FR_FILL))
            return why_set(why, cap, "missing '%s' (0..1)", "fillingLevel");
        break;
    default:
        return why_set(why, cap, "unknown feed%s", "");
    }
    return 0;
}

/* ---- compact binary form (layout in feeds.h): id, has, t, [lon lat], then the present fields in bit order ---- */

static void put_str(msh_buf *b, const char *s)
{
    size_t n = strlen(s);
    msh_buf_putc(b, (uint8_t)n);
    msh_buf_append(b, s, n);
}

msh_rc msh_feed_encode(const msh_feed_rec *recs, size_t n, msh_buf *out)
{
    for (size_t i = 0; i < n; i++) {
        const msh_feed_rec *r = &recs[i];
        msh_rc rc = msh_buf_reserve(out, 64 + 3 * MSH_FEED_ID_MAX + MSH_FEED_TEXT_MAX + 64);
        if (rc)
            return rc;
        msh_buf_putc(out, r->id_len);
        msh_buf_append(out, r->id, r->id_len);
        msh_buf_le32(out, r->has);
        msh_buf_le64(out, (uint64_t)r->t_ms);
        if (r->has & MSH_FR_LOC) {
            msh_buf_le64(out, msh_f64_bits(r->lon));
            msh_buf_le64(out, msh_f64_bits(r->lat));
        }
        if (r->has & MSH_FR_GROUP) put_str(out, r->group);
        if (r->has & MSH_FR_SPEED) msh_buf_le32(out, msh_f32_bits(r->speed));
        if (r->has & MSH_FR_HEADING) msh_buf_le32(out, msh_f32_bits(r->heading));
        if (r->has & MSH_FR_ACCURACY) msh_buf_le32(out, msh_f32_bits(r->accuracy));
        if (r->has & MSH_FR_KIND) put_str(out, r->kind);
        if (r->has & MSH_FR_STATUS) {
            msh_buf_putc(out, r->status);
            put_str(out, r->group);
        }
        if (r->has & MSH_FR_SEVERITY) msh_buf_putc(out, r->severity);
        if (r->has & MSH_FR_TEXT) put_str(out, r->text);
        if (r->has & MSH_FR_IN) msh_buf_le32(out, (uint32_t)r->in);
        if (r->has & MSH_FR_OUT) msh_buf_le32(out, (uint32_t)r->out);
        if (r->has & MSH_FR_CAPACITY) msh_buf_le32(out, (uint32_t)r->capacity);
        if (r->has & MSH_FR_TEMP) msh_buf_le32(out, msh_f32_bits(r->temperature));
        if (r->has & MSH_FR_HUMIDITY) msh_buf_le32(out, msh_f32_bits(r->humidity));
        if (r->has & MSH_FR_AQI) msh_buf_le32(out, msh_f32_bits(r->aqi));
        if (r->has & MSH_FR_PM25) msh_buf_le32(out, msh_f32_bits(r->pm25));
        if (r->has & MSH_FR_NOISE) msh_buf_le32(out, msh_f32_bits(r->noise));
        if (r->has & MSH_FR_SCANS) {
            msh_buf_le32(out, (uint32_t)r->scans_valid);
            msh_buf_le32(out, (uint32_t)r->scans_denied);
        }
        if (r->has & MSH_FR_FILL) msh_buf_le32(out, msh_f32_bits(r->fill));
    }
    return MSH_OK;
}

static bool get(const uint8_t **p, const uint8_t *end, void *out, size_t n)
{
    if ((size_t)(end - *p) < n)
        return false;
    memcpy(out, *p, n);
    *p += n;
    return true;
}

static bool take_i32(const uint8_t **p, const uint8_t *end, int32_t *v)
{
    uint32_t u;
    if (!msh_le32_take(p, end, &u))
        return false;
    *v = (int32_t)u;
    return true;
}

static bool get_str(const uint8_t **p, const uint8_t *end, char *out, size_t cap)
{
    uint8_t n;
    if (!get(p, end, &n, 1) || n >= cap || !get(p, end, out, n))
        return false;
    out[n] = 0;
    return true;
}

bool msh_feed_decode(const uint8_t **p, const uint8_t *end, msh_feed_rec *r)
{
    memset(r, 0, sizeof *r);
    if (!get_str(p, end, r->id, sizeof r->id) || !r->id[0])
        return false; /* no record is made without an id (feeds.c checks 1..64 bytes) */
    r->id_len = (uint8_t)strlen(r->id);
    uint64_t t;
    if (!msh_le32_take(p, end, &r->has) || !msh_le64_take(p, end, &t))
        return false;
    r->t_ms = (int64_t)t;
    bool ok = true;
    if (r->has & MSH_FR_LOC) ok = ok && msh_f64_take(p, end, &r->lon) && msh_f64_take(p, end, &r->lat);
    if (r->has & MSH_FR_LOC) /* as feeds.c checks a record in: a stream message is read, never trusted */
        ok = ok && isfinite(r->lon) && isfinite(r->lat) && fabs(r->lon) <= 180 && fabs(r->lat) <= 90;
    if (r->has & MSH_FR_GROUP) ok = ok && get_str(p, end, r->group, sizeof r->group);
    if (r->has & MSH_FR_SPEED) ok = ok && msh_f32_take(p, end, &r->speed);
    if (r->has & MSH_FR_HEADING) ok = ok && msh_f32_take(p, end, &r->heading);
    if (r->has & MSH_FR_ACCURACY) ok = ok && msh_f32_take(p, end, &r->accuracy);
    if (r->has & MSH_FR_KIND) ok = ok && get_str(p, end, r->kind, sizeof r->kind);
    if (r->has & MSH_FR_STATUS) ok = ok && get(p, end, &r->status, 1) && get_str(p, end, r->group, sizeof r->group);
    if (r->has & MSH_FR_SEVERITY) ok = ok && get(p, end, &r->severity, 1);
    if (r->has & MSH_FR_TEXT) ok = ok && get_str(p, end, r->text, sizeof r->text);
    if (r->has & MSH_FR_IN) ok = ok && take_i32(p, end, &r->in);
    if (r->has & MSH_FR_OUT) ok = ok && take_i32(p, end, &r->out);
    if (r->has & MSH_FR_CAPACITY) ok = ok && take_i32(p, end, &r->capacity);
    if (r->has & MSH_FR_TEMP) ok = ok && msh_f32_take(p, end, &r->temperature);
    if (r->has & MSH_FR_HUMIDITY) ok = ok && msh_f32_take(p, end, &r->humidity);
    if (r->has & MSH_FR_AQI) ok = ok && msh_f32_take(p, end, &r->aqi);
    if (r->has & MSH_FR_PM25) ok = ok && msh_f32_take(p, end, &r->pm25);
    if (r->has & MSH_FR_NOISE) ok = ok && msh_f32_take(p, end, &r->noise);
    if (r->has & MSH_FR_SCANS)
        ok = ok && take_i32(p, end, &r->scans_valid) && take_i32(p, end, &r->scans_denied) && r->scans_valid >= 0 &&
             r->scans_denied >= 0;
    if (r->has & MSH_FR_FILL) ok = ok && msh_f32_take(p, end, &r->fill);
    return ok && r->status < 4 && r->severity < 5;
}
