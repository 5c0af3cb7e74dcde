/* routes_feeds.c: POST /feeds/{feed} (live updates in) and GET /entities/{id} (one person, ops only). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/msh_time.h"
#include "http/auth.h"
#include "live/feed_sniff.h"
#include "live/ingest.h"
#include "routes/routes.h"

static bool is_geojson(msh_req *r)
{
    const char *ct = msh_req_header(r, "Content-Type");
    /* a JSON document: a GeoJSON FeatureCollection, or FIWARE NGSI entities (NGSI-LD: ld+json) */
    if (ct && (!strncasecmp(ct, "application/geo+json", 20) || !strncasecmp(ct, "application/json", 16) ||
               !strncasecmp(ct, "application/ld+json", 19)))
        return true;
    /* no type: the body's shape says (a FeatureCollection, NGSI entities, else NDJSON), as over MQTT */
    return !ct && r->body && msh_feed_body_is_document(r->body, r->body_len);
}

void msh_route_feeds(msh_req *r, const char *rest)
{
    msh_feed feed;
    if (!msh_feed_lookup(rest, strlen(rest), &feed)) {
        msh_resp_error(r, 404, "unknown feed '%.64s': use positions, crews, incidents, gates, sensors or bins", rest);
        return;
    }
    if (!r->app->ingest) {
        msh_resp_error(r, 503, "live feeds are not enabled on this server");
        return;
    }
    if (r->body_too_large) {
        msh_resp_error(r, 413, "body larger than %zu bytes: send smaller batches", r->app->cfg.max_body_bytes);
        return;
    }
    msh_ingest_result res;
    msh_ingest_result_init(&res);
    msh_err err = {0};
    msh_rc rc = msh_ingest_batch(r->app->ingest, feed, r->body ? r->body : "", r->body_len, is_geojson(r),
                                 msh_now_ms(), &res, &err);
    /* the feed log cannot store it now (ingest.h): send it again shortly, even when the outcome is
     * unknown (a batch stored twice is the same state) */
    if (rc && err.retry_after_s)
        msh_resp_unavailable(r, (unsigned)err.retry_after_s, "%s", err.msg);
    else if (rc)
        msh_resp_error(r, rc == MSH_EFORMAT ? 400 : rc == MSH_ETOOBIG ? 413 : 503, "%s", err.msg);
    if (rc) {
        msh_ingest_result_free(&res);
        return;
    }
    msh_metrics_feed(r->app->metrics, feed, res.accepted, res.rejected);
    msh_buf b;
    msh_buf_init(&b, (size_t)2 << 20);
    msh_ingest_result_json(&res, &b);
    r->resp.cache_control = "no-store";
    /* 200 even when some records were refused: the good ones are in; the body lists the others */
    msh_resp_buf(r, 200, "application/json", &b);
    msh_buf_free(&b);
    msh_ingest_result_free(&res);
}

void msh_route_entity(msh_req *r, const char *id)
{
    if (!r->app->ingest) {
        msh_resp_error(r, 503, "live feeds are not enabled on this server");
        return;
    }
    size_t n = strlen(id);
    if (n == 0 || n > MSH_FEED_ID_MAX) {
        msh_resp_error(r, 400, "entity ids are 1 to 64 bytes");
        return;
    }
    msh_live *live = msh_ingest_live(r->app->ingest);
    msh_live_person p;
    msh_live_rdlock(live);
    bool found = msh_live_person_get(live, id, n, &p);
    msh_live_unlock(live);
    if (!found) {
        msh_resp_error(r, 404, "no tracked entity '%.64s'", id);
        return;
    }
    char t[MSH_TIME_ISO_CAP];
    msh_time_format_iso(p.t_ms, t, sizeof t, 0);
    msh_buf b;
    msh_buf_init(&b, 4096);
    msh_buf_printf(&b, "{\"type\":\"Feature\",\"id\":\"");
    msh_buf_json_str(&b, id);
    msh_buf_printf(&b, "\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[%.7f,%.7f]},\"properties\":{\"id\":\"",
                   p.lon, p.lat);
    msh_buf_json_str(&b, id);
    msh_buf_printf(&b, "\",\"group\":");
    if (p.group[0]) {
        msh_buf_putc(&b, '"');
        msh_buf_json_str(&b, p.group);
        msh_buf_putc(&b, '"');
    } else {
        msh_buf_printf(&b, "null");
    }
    msh_buf_printf(&b, ",\"time\":\"%s\",\"speed\":%.2f,\"heading\":%.0f,\"active\":%s}}\n", t, p.speed, p.heading,
                   p.active ? "true" : "false");
    r->resp.cache_control = "no-store";
    msh_resp_buf(r, 200, "application/geo+json", &b);
    msh_buf_free(&b);
}
