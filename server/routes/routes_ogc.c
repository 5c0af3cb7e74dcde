/* routes_ogc.c: OGC API - Features (Part 1 core, GeoJSON, HTML, OpenAPI 3.0; Part 3 filters) under /ogc.
 *
 * Every static layer, and every live layer the caller may see, is a collection. Items come in
 * the layer's id order (static layers: store fid order; live layers are sorted by id), paged by
 * a keyset cursor (the last id of the page), so a page link stays valid while features are
 * added or removed elsewhere. Live layers are read at their most detailed zoom (maxzoom: the
 * 8.9 m movement cells). Geometry goes out in CRS84 with 9 decimals (0.1 mm), or in one of the
 * CRSs of Part 2 (`crs=`, exporters/features/crs_ref.h) with a `Content-Crs` header; `bbox-crs`
 * says which CRS a bbox is in. `f=gpkg|shp|csv|kml` on items writes the same page as a file
 * (routes_ogc_download.c).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/auth.h"
#include "core/msh_hash.h"
#include "core/msh_grow.h"
#include "core/msh_tilemath.h"
#include "routes/ogc.h"
#include "query/cql2.h"
#include "query/qgeom.h"
#include "query/qs.h"
#include "routes/reports_hooks.h"
#include "routes/routes.h"
#include "download.h"

#define CT_JSON "application/json"
#define CT_GEOJSON "application/geo+json"
#define CT_HTML "text/html; charset=utf-8"

#define CRS84 "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
#define MAX_PROP_FILTERS 16

static void json_cstr(msh_buf *b, const char *s)
{
    ogc_json_str(b, s, strlen(s));
}

/* ---- the request ------------------------------------------------------------------------------ */

bool ogc_visible(const ogc_ctx *c, const msh_layer *l)
{
    return l->info.access < MSH_ACCESS_OPS || c->ops;
}

int ogc_time_field(const msh_layer *l)
{
    return msh_qs_time_field(&l->info);
}

/* f=json|html wins (or a download format: *dl); else the Accept header: HTML only when asked for
 * before any JSON. */
static int negotiate(msh_req *r, ogc_fmt *out, msh_dl_fmt *dl)
{
    const char *f = msh_req_arg(r, "f");
    if (f) {
        if (msh_dl_format(f, dl)) {
            *out = FMT_DOWNLOAD;
            return 0;
        }
        if (!strcmp(f, "json") || !strcmp(f, "geojson")) {
            *out = FMT_JSON;
            return 0;
        }
        if (!strcmp(f, "html")) {
            *out = FMT_HTML;
            return 0;
        }
        msh_resp_error(r, 400, "f: unknown format '%.40s' (this server answers f=json or f=html, and items also "
                               "f=gpkg, f=shp, f=csv or f=kml)", f);
        return -1;
    }
    const char *acc = msh_req_header(r, "Accept");
    *out = FMT_JSON;
    if (acc) {
        const char *html = strstr(acc, "text/html");
        const char *json = strstr(acc, "json");
        if (html && (!json || html < json))
            *out = FMT_HTML;
    }
    return 0;
}

static void answer(msh_req *r, const char *ctype, msh_buf *b)
{
    r->resp.cache_control = "no-cache";
    /* fast deflate, as for tiles: pages are compressed on the request path, level 1 costs a
     * fraction of level 6 for a little more bytes */
    if (b->len > 1024 && !msh_buf_error(b) && msh_req_accepts_gzip(r)) {
        r->resp.status = 200;
        r->resp.ctype = ctype;
        r->resp.vary_encoding = true;
        if (msh_gzip(b->data, b->len, &r->resp.body, 1) == MSH_OK) {
            r->resp.gzip = true;
            return;
        }
        msh_buf_reset(&r->resp.body);
    }
    msh_resp_buf(r, 200, ctype, b);
}

static void link(msh_buf *b, bool first, const char *href, const char *rel, const char *type, const char *title)
{
    msh_buf_printf(b, "%s{\"href\":\"", first ? "" : ",");
    json_cstr(b, href);
    msh_buf_printf(b, "\",\"rel\":\"%s\",\"type\":\"%s\"", rel, type);
    if (title) {
        msh_buf_printf(b, ",\"title\":\"");
        json_cstr(b, title);
        msh_buf_putc(b, '"');
    }
    msh_buf_putc(b, '}');
}

int ogc_negotiate(msh_req *r, ogc_fmt *out)
{
    msh_dl_fmt dl;
    if (negotiate(r, out, &dl))
        return -1;
    if (*out == FMT_DOWNLOAD) { /* files are for items only */
        msh_resp_error(r, 400, "f: '%.40s' is a download format, for items only (this answers f=json or f=html)",
                       msh_req_arg(r, "f"));
        return -1;
    }
    return 0;
}

void ogc_answer(msh_req *r, const char *ctype, msh_buf *b)
{
    answer(r, ctype, b);
}

void ogc_link(msh_buf *b, bool first, const char *href, const char *rel, const char *type, const char *title)
{
    link(b, first, href, rel, type, title);
}

static void landing(ogc_ctx *c, ogc_fmt fmt)
{
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    if (fmt == FMT_HTML) {
        ogc_html_landing(c, &b);
        answer(c->r, CT_HTML, &b);
        msh_buf_free(&b);
        return;
    }
    char h[400];
    msh_buf_printf(&b, "{\"title\":\"Mashaer\",\"description\":\"Site layers and live operations of the holy sites "
                       "(OGC API - Features)\",\"links\":[");
    snprintf(h, sizeof h, "%s?f=json", c->base);
    link(&b, true, h, "self", CT_JSON, "This document");
    snprintf(h, sizeof h, "%s?f=html", c->base);
    link(&b, false, h, "alternate", "text/html", "This document as HTML");
    snprintf(h, sizeof h, "%s/api", c->base);
    link(&b, false, h, "service-desc", "application/vnd.oai.openapi+json;version=3.0", "The API definition");
    snprintf(h, sizeof h, "%s/api?f=html", c->base);
    link(&b, false, h, "service-doc", "text/html", "The API documentation");
    snprintf(h, sizeof h, "%s/conformance", c->base);
    link(&b, false, h, "conformance", CT_JSON, "Conformance classes implemented by this server");
    link(&b, false, h, "http://www.opengis.net/def/rel/ogc/1.0/conformance", CT_JSON, NULL);
    snprintf(h, sizeof h, "%s/collections", c->base);
    link(&b, false, h, "data", CT_JSON, "The collections");
    link(&b, false, h, "http://www.opengis.net/def/rel/ogc/1.0/data", CT_JSON, NULL);
    ogc_tiles_landing_links(c, &b); /* OGC API - Tiles (routes_ogc_tiles.c) */
    msh_buf_printf(&b, "]}\n");
    answer(c->r, CT_JSON, &b);
    msh_buf_free(&b);
}

/* Only what is implemented: each class here is exercised by tests/integration/test_ogc.py. */
static const char *const CONFORMS[] = {
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    /* Part 4 (routes_ogc_write.c) on the static collections */
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
    /* OGC API - Tiles 1.0 and the 2D TMS 2.0 documents it serves (routes_ogc_tiles.c) */
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/dataset-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/png",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/html",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/tilesetmetadata",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilesetmetadata",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixsetlimits",
    /* Part 2: crs, bbox-crs, Content-Crs (crs_ref.h) */
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    NULL};

static void conformance(ogc_ctx *c, ogc_fmt fmt)
{
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    if (fmt == FMT_HTML) {
        char h[400];
        snprintf(h, sizeof h, "%s/conformance?f=json", c->base);
        ogc_html_open(&b, "Conformance", h);
        msh_buf_printf(&b, "<h1>Conformance classes</h1><ul>");
        for (int i = 0; CONFORMS[i]; i++)
            msh_buf_printf(&b, "<li><code>%s</code></li>", CONFORMS[i]);
        msh_buf_printf(&b, "</ul>");
        ogc_html_close(&b);
        answer(c->r, CT_HTML, &b);
    } else {
        msh_buf_printf(&b, "{\"conformsTo\":[");
        for (int i = 0; CONFORMS[i]; i++)
            msh_buf_printf(&b, "%s\"%s\"", i ? "," : "", CONFORMS[i]);
        msh_buf_printf(&b, "]}\n");
        answer(c->r, CT_JSON, &b);
    }
    msh_buf_free(&b);
}

/* "crs":[...]: every CRS items can be answered in (Part 2), the storage CRS first */
static void crs_list(msh_buf *b)
{
    msh_buf_printf(b, "\"crs\":[");
    for (int i = 0; i < MSH_CRS_COUNT; i++)
        msh_buf_printf(b, "%s\"%s\"", i ? "," : "", msh_crs_uri((msh_crs)i));
    msh_buf_putc(b, ']');
}

static void collection_json(ogc_ctx *c, const msh_layer *l, msh_buf *b)
{
    const msh_layer_info *li = &l->info;
    char h[600];
    msh_buf_printf(b, "{\"id\":\"%s\",\"title\":\"", li->name);
    json_cstr(b, li->title ? li->title : li->name); /* the source's own name when it had to be transliterated */
    msh_buf_printf(b, "\",\"description\":\"");
    int tf = ogc_time_field(l);
    msh_buf_printf(b, "%s layer, %s geometry, %llu features", li->kind, li->geometry_type,
                   (unsigned long long)li->feature_count);
    if (tf >= 0)
        msh_buf_printf(b, "; datetime filters on '%s'", li->fields[tf].name);
    if (li->access >= MSH_ACCESS_OPS)
        msh_buf_printf(b, "; personal data, ops role only");
    msh_buf_printf(b, "\",\"itemType\":\"feature\",");
    crs_list(b);
    msh_buf_printf(b, ",\"storageCrs\":\"" CRS84 "\",");
    double w = li->bounds[0], s = li->bounds[1], e = li->bounds[2], n = li->bounds[3];
    if (!li->feature_count && !strcmp(li->kind, "static"))
        w = -180, s = -90, e = 180, n = 90;
    msh_buf_printf(b, "\"extent\":{\"spatial\":{\"bbox\":[[%.9g,%.9g,%.9g,%.9g]],\"crs\":\"" CRS84 "\"}", w, s, e, n);
    if (tf >= 0)
        msh_buf_printf(b, ",\"temporal\":{\"interval\":[[null,null]],\"trs\":"
                          "\"http://www.opengis.net/def/uom/ISO-8601/0/Gregorian\"}");
    msh_buf_printf(b, "},\"links\":[");
    snprintf(h, sizeof h, "%s/collections/%s?f=json", c->base, li->name);
    link(b, true, h, "self", CT_JSON, li->name);
    snprintf(h, sizeof h, "%s/collections/%s?f=html", c->base, li->name);
    link(b, false, h, "alternate", "text/html", li->name);
    snprintf(h, sizeof h, "%s/collections/%s/items?f=json", c->base, li->name);
    link(b, false, h, "items", CT_GEOJSON, "Features as GeoJSON");
    snprintf(h, sizeof h, "%s/collections/%s/items?f=html", c->base, li->name);
    link(b, false, h, "items", "text/html", "Features as HTML");
    snprintf(h, sizeof h, "%s/collections/%s/queryables", c->base, li->name);
    link(b, false, h, "http://www.opengis.net/def/rel/ogc/1.0/queryables", "application/schema+json",
         "Properties a filter may use");
    ogc_tiles_collection_links(c, l, b); /* OGC API - Tiles (routes_ogc_tiles.c) */
    msh_buf_printf(b, "]}");
}

static void collections(ogc_ctx *c, ogc_fmt fmt)
{
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    if (fmt == FMT_HTML) {
        ogc_html_collections(c, &b);
        answer(c->r, CT_HTML, &b);
        msh_buf_free(&b);
        return;
    }
    char h[400];
    msh_buf_printf(&b, "{\"links\":[");
    snprintf(h, sizeof h, "%s/collections?f=json", c->base);
    link(&b, true, h, "self", CT_JSON, "The collections");
    snprintf(h, sizeof h, "%s/collections?f=html", c->base);
    link(&b, false, h, "alternate", "text/html", "The collections as HTML");
    msh_buf_printf(&b, "],");
    crs_list(&b); /* Part 2: the global list, which each collection repeats */
    msh_buf_printf(&b, ",\"collections\":[");
    bool first = true;
    for (size_t i = 0; i < msh_catalog_count(c->cat); i++) {
        msh_layer *l = msh_catalog_at(c->cat, i);
        if (!ogc_visible(c, l))
            continue;
        if (!first)
            msh_buf_putc(&b, ',');
        first = false;
        collection_json(c, l, &b);
    }
    msh_buf_printf(&b, "]}\n");
    answer(c->r, CT_JSON, &b);
    msh_buf_free(&b);
}

/* An HTML page from one of routes_ogc_html.c's writers. */
static void html_page(ogc_ctx *c, const msh_layer *l, void (*page)(const ogc_ctx *, const msh_layer *, msh_buf *))
{
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    page(c, l, &b);
    answer(c->r, CT_HTML, &b);
    msh_buf_free(&b);
}

static void api_html(const ogc_ctx *c, const msh_layer *l, msh_buf *b)
{
    (void)l;
    ogc_html_api(c, b);
}

static void queryables(ogc_ctx *c, const msh_layer *l, ogc_fmt fmt)
{
    const msh_layer_info *li = &l->info;
    if (fmt == FMT_HTML) {
        html_page(c, l, ogc_html_queryables);
        return;
    }
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    msh_buf_printf(&b,
                   "{\"$schema\":\"https://json-schema.org/draft/2019-09/schema\",\"$id\":\"%s/collections/%s/"
                   "queryables\",\"type\":\"object\",\"title\":\"%s\",\"properties\":{\"" MSH_CQL2_GEOMETRY
                   "\":{\"format\":\"geometry-any\",\"title\":\"the feature's geometry (S_INTERSECTS)\"}",
                   c->base, li->name, li->name);
    for (uint32_t i = 0; i < li->nfields; i++) {
        static const char *const jtype[] = {"", "integer", "number", "string", "boolean"};
        msh_buf_printf(&b, ",\"");
        json_cstr(&b, li->fields[i].name);
        msh_buf_printf(&b, "\":{\"type\":\"%s\",\"title\":\"", jtype[li->fields[i].type]);
        json_cstr(&b, li->fields[i].name);
        msh_buf_printf(&b, "\"%s}", (int)i == ogc_time_field(l) ? ",\"format\":\"date-time\"" : "");
    }
    msh_buf_printf(&b, "},\"additionalProperties\":false}\n");
    answer(c->r, "application/schema+json", &b);
    msh_buf_free(&b);
}

/* ---- items ------------------------------------------------------------------------------------ */

typedef struct {
    const msh_layer *l;
    uint32_t limit, limit_max; /* limit_max: a page's, or a download's (download.h) */
    uint64_t after;
    bool has_after;
    bool has_bbox;
    double bbox[4];
    msh_qgeom bbox_g;
    int time_field;
    int64_t tlo, thi;
    bool has_time;
    msh_cql2 *filter;
    int nprops;
    int prop_field[MAX_PROP_FILTERS];
    msh_value prop_value[MAX_PROP_FILTERS];
    msh_qgeom scratch;
    const char *bbox_text; /* read once bbox-crs is known */
    msh_crs crs, bbox_crs;
    bool has_ring;         /* a bbox in a projected CRS: its lon/lat ring (crs_ref.h) */
    double ring[2 * (4 * MSH_CRS_BBOX_SIDE + 1)];
    /* the request's own parameters, re-encoded for self/next links (without f and cursor) */
    msh_buf keep;
    const char *filter_lang, *filter_text;
    msh_err err;
    bool failed;
} items_q;

static void pct_encode(msh_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~' || *p == ',' || *p == ':') {
            msh_buf_putc(b, *p);
        } else {
            uint8_t e[3] = {'%', (uint8_t)hex[*p >> 4], (uint8_t)hex[*p & 15]};
            msh_buf_append(b, e, 3);
        }
    }
}

static bool crs84(const char *v)
{
    return !strcmp(v, CRS84) || !strcmp(v, "[OGC:CRS84]") || !strcmp(v, "OGC:CRS84");
}

/* bbox in bbox-crs (CRS84 unless named) to a lon/lat box, and a lon/lat ring when its sides are curves there */
static msh_rc read_bbox(items_q *q)
{
    if (q->bbox_crs == MSH_CRS_CRS84)
        return msh_qs_bbox(q->bbox_text, q->bbox, &q->err);
    double v[4];
    if (msh_qs_bbox_any(q->bbox_text, v, &q->err))
        return MSH_EINVAL;
    return msh_crs_bbox(q->bbox_crs, v, q->bbox, q->ring, &q->has_ring, &q->err);
}

/* One query argument of an items request. */
static int on_item_arg(void *ud, const char *k, const char *v)
{
    items_q *q = ud;
    const msh_layer_info *li = &q->l->info;
    msh_err *err = &q->err;
    if (!v)
        v = "";
    if (strlen(v) > MSH_QS_VALUE_MAX) {
        msh_err_set(err, MSH_EINVAL, "%.40s: value longer than %d bytes", k, MSH_QS_VALUE_MAX);
        goto bad;
    }
    if (strcmp(k, "f") && strcmp(k, "cursor")) {
        if (q->keep.len)
            msh_buf_putc(&q->keep, '&');
        pct_encode(&q->keep, k);
        msh_buf_putc(&q->keep, '=');
        pct_encode(&q->keep, v);
    }
    if (!strcmp(k, "f"))
        return 0; /* negotiated already */
    if (!strcmp(k, "limit")) {
        if (msh_qs_limit(v, q->limit_max, &q->limit, err))
            goto bad;
    } else if (!strcmp(k, "cursor")) {
        if (msh_qs_cursor(v, &q->after, err))
            goto bad;
        q->has_after = true;
    } else if (!strcmp(k, "bbox")) {
        q->bbox_text = v; /* read after all arguments, in bbox-crs */
        q->has_bbox = true;
    } else if (!strcmp(k, "crs") || !strcmp(k, "bbox-crs")) {
        if (msh_crs_parse(k, v, k[1] == 'r' ? &q->crs : &q->bbox_crs, err))
            goto bad;
    } else if (!strcmp(k, "filter-crs")) {
        if (!crs84(v)) {
            msh_err_set(err, MSH_EINVAL, "%s: only %s (lon/lat) is served, not '%.80s'", k, CRS84, v);
            goto bad;
        }
    } else if (!strcmp(k, "datetime")) {
        if (msh_qs_datetime(v, &q->tlo, &q->thi, err))
            goto bad;
        if (q->time_field < 0) {
            msh_err_set(err, MSH_EINVAL,
                        "datetime: collection '%s' has no time property, so it cannot be filtered by time "
                        "(timed collections name their time property in their description)",
                        li->name);
            goto bad;
        }
        q->has_time = true;
    } else if (!strcmp(k, "filter-lang")) {
        if (strcmp(v, "cql2-text")) {
            msh_err_set(err, MSH_EINVAL, "filter-lang: only cql2-text is supported, not '%.40s'", v);
            goto bad;
        }
    } else if (!strcmp(k, "filter")) {
        q->filter_text = v; /* parsed after all arguments, so filter-lang is known */
    } else if (!strcmp(k, "asof")) {
        /* read by items(): the collection as it was then (routes_ogc_asof.c) */
    } else {
        int fi = -1;
        for (uint32_t i = 0; i < li->nfields; i++)
            if (!strcmp(li->fields[i].name, k))
                fi = (int)i;
        if (fi < 0) {
            msh_err_set(err, MSH_EINVAL,
                        "unknown query parameter '%.60s': items take f, bbox, bbox-crs, crs, limit, cursor, datetime, "
                        "filter, filter-lang, asof, or a property of %s (see its queryables)",
                        k, li->name);
            goto bad;
        }
        if (q->nprops == MAX_PROP_FILTERS) {
            msh_err_set(err, MSH_EINVAL, "more than %d property filters", MAX_PROP_FILTERS);
            goto bad;
        }
        if (msh_qs_value(k, v, li->fields[fi].type, &q->prop_value[q->nprops], err))
            goto bad;
        q->prop_field[q->nprops++] = fi;
    }
    return 0;
bad:
    q->failed = true;
    return 1;
}

static bool matches(items_q *q, const msh_feature *f)
{
    for (int i = 0; i < q->nprops; i++)
        if (!f->values || !msh_value_equals(&f->values[q->prop_field[i]], &q->prop_value[i]))
            return false;
    if (q->has_time) {
        const msh_value *v = f->values ? &f->values[q->time_field] : NULL;
        int64_t lo, hi;
        if (!v || v->type != MSH_FT_STRING || msh_qs_time(v->u.s, v->len, &lo, &hi, NULL) || hi < q->tlo || lo > q->thi)
            return false;
    }
    if (q->has_bbox) {
        if (msh_qgeom_from_feature(&q->scratch, &f->geom) || !msh_qgeom_intersects(&q->scratch, &q->bbox_g))
            return false;
    }
    if (q->filter && !msh_cql2_match(q->filter, f))
        return false;
    return true;
}

/* Narrow a world-unit box to a lon/lat box (a hair wider: the exact test in lon/lat decides). */
static void narrow(double box[4], const double ll[4])
{
    double x0, y0, x1, y1;
    msh_lonlat_to_world(ll[0], ll[3], &x0, &y0);
    msh_lonlat_to_world(ll[2], ll[1], &x1, &y1);
    box[0] = fmax(box[0], x0 - 1e-12), box[1] = fmax(box[1], y0 - 1e-12);
    box[2] = fmin(box[2], x1 + 1e-12), box[3] = fmin(box[3], y1 + 1e-12);
}

/* The layer query's box in world units: the whole world, narrowed by the bbox parameter and by
 * a filter's S_INTERSECTS literal. An empty box means nothing can match. */
static bool query_box(const items_q *q, double box[4])
{
    box[0] = 0, box[1] = 0, box[2] = 1, box[3] = 1;
    if (q->has_bbox && q->bbox[0] <= q->bbox[2])
        narrow(box, q->bbox);
    double fb[4];
    if (q->filter && msh_cql2_bbox(q->filter, fb)) {
        if (fb[0] > fb[2] || fb[1] > fb[3])
            return false;
        narrow(box, fb);
    }
    return box[0] <= box[2] && box[1] <= box[3];
}

typedef struct {
    items_q *q;
    uint64_t *ids;
    size_t n, cap;
    bool sorted;
    bool oom;
    bool seen;
    uint64_t last; /* the last id seen, matched or not */
} pass1;

static int collect(void *ud, const msh_feature *f)
{
    pass1 *p = ud;
    /* in order only if every feature the layer hands out comes by increasing id, matched or not:
     * pass 2 stops at the first id past the page */
    if (p->seen && f->id <= p->last)
        p->sorted = false;
    p->seen = true;
    p->last = f->id;
    if (!matches(p->q, f))
        return 0;
    if (msh_grow_from((void **)&p->ids, &p->cap, p->n + 1, sizeof *p->ids, 1024)) {
        p->oom = true;
        return 1;
    }
    p->ids[p->n++] = f->id;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

typedef struct {
    uint64_t id;
    size_t off, len;
} chunk;

typedef struct {
    items_q *q;
    const ogc_ctx *c;
    bool html;
    uint64_t lo, hi; /* ids in (lo, hi] when has_lo, else [0, hi] */
    bool has_lo;
    bool in_order; /* the layer hands features out by increasing id: stop after hi */
    msh_buf out;
    chunk *chunks;
    size_t n, cap;
    bool oom;
    msh_dl *dl; /* a download: features go to the file instead (routes_ogc_download.c) */
    msh_err dl_err;
    bool dl_failed;
} pass2;

static int emit(void *ud, const msh_feature *f)
{
    pass2 *p = ud;
    if (f->id > p->hi)
        return p->in_order;
    if ((p->has_lo && f->id <= p->lo) || !matches(p->q, f))
        return 0;
    if (p->dl) { /* in id order for a layer that hands features out so; else as it hands them out */
        if (p->n == p->q->limit)
            return 1; /* live data changed between the passes */
        if (msh_dl_add(p->dl, f, &p->dl_err)) {
            p->dl_failed = true;
            return 1;
        }
        p->n++;
        return 0;
    }
    if (msh_grow_from((void **)&p->chunks, &p->cap, p->n + 1, sizeof *p->chunks, 256)) {
        p->oom = true;
        return 1;
    }
    size_t off = p->out.len;
    if (p->html)
        ogc_html_feature_row(p->c, p->q->l, f, &p->out);
    else
        ogc_feature_json_crs(&p->out, &p->q->l->info, f, p->q->crs);
    p->chunks[p->n++] = (chunk){f->id, off, p->out.len - off};
    return 0;
}

static int cmp_chunk(const void *a, const void *b)
{
    uint64_t x = ((const chunk *)a)->id, y = ((const chunk *)b)->id;
    return (x > y) - (x < y);
}

static int live_zoom(const msh_layer *l)
{
    return l->info.maxzoom; /* live layers answer per zoom: the finest cells, everything else is zoom-free */
}

static void items(ogc_ctx *c, msh_layer *l, ogc_fmt fmt, msh_dl_fmt dlfmt)
{
    msh_req *r = c->r;
    items_q q;
    memset(&q, 0, sizeof q);
    q.l = l;
    q.limit = MSH_QS_LIMIT_DEFAULT;
    q.limit_max = fmt == FMT_DOWNLOAD ? MSH_DL_LIMIT_MAX : MSH_QS_LIMIT_MAX;
    q.time_field = ogc_time_field(l);
    msh_qgeom_init(&q.bbox_g);
    msh_qgeom_init(&q.scratch);
    msh_buf_init(&q.keep, MSH_MAX_BODY); /* percent-encoded parameters: up to 3x the request line */
    pass1 p1 = {&q, NULL, 0, 0, true, false, false, 0};
    pass2 p2;
    memset(&p2, 0, sizeof p2);
    msh_buf_init(&p2.out, MSH_MAX_BODY);
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    msh_layer *past = NULL;

    msh_req_args(r, on_item_arg, &q);
    if (!q.failed && q.has_bbox && read_bbox(&q))
        q.failed = true;
    if (!q.failed && q.filter_text &&
        msh_cql2_parse(q.filter_text, strlen(q.filter_text), &l->info, &q.filter, &q.err))
        q.failed = true;
    if (q.failed) {
        msh_resp_error(r, q.err.code == MSH_ENOMEM ? 500 : 400, "%s", q.err.msg);
        goto out;
    }
    const char *asof = msh_req_arg(r, "asof");
    r->resp.past = asof != NULL; /* no Mashaer-Time: the list as it was then (http.c) */
    if (asof && ogc_items_asof(r, l, asof, &past))
        goto out;
    if (past)
        q.l = l = past; /* the same page, bbox and filters, over the collection as it was */
    if (fmt == FMT_DOWNLOAD && ogc_download_open(r, &l->info, dlfmt, q.crs, &p2.dl))
        goto out;
    if (q.has_ring) { /* a projected bbox: the exact test runs against its lon/lat ring */
        if (ogc_ring_qgeom(q.ring, 4 * MSH_CRS_BBOX_SIDE + 1, &q.bbox_g)) {
            msh_resp_error(r, 500, "out of memory");
            goto out;
        }
    } else if (q.has_bbox) {
        msh_rc rc = q.bbox[0] <= q.bbox[2]
                        ? msh_qgeom_add_box(&q.bbox_g, q.bbox[0], q.bbox[1], q.bbox[2], q.bbox[3])
                        : (msh_qgeom_add_box(&q.bbox_g, q.bbox[0], q.bbox[1], 180, q.bbox[3]) ||
                           msh_qgeom_add_box(&q.bbox_g, -180, q.bbox[1], q.bbox[2], q.bbox[3]))
                              ? MSH_ENOMEM
                              : MSH_OK;
        if (rc) {
            msh_resp_error(r, 500, "out of memory");
            goto out;
        }
    }
    double box[4];
    bool any = query_box(&q, box);
    int z = live_zoom(l);
    /* pass 1: every match's id, for numberMatched and the page's id range */
    if ((any && l->vt->query(l, box, z, collect, &p1)) || p1.oom) {
        msh_resp_error(r, 500, "reading collection '%s' failed", l->info.name);
        goto out;
    }
    if (!p1.sorted && p1.n)
        qsort(p1.ids, p1.n, sizeof *p1.ids, cmp_u64);
    size_t k = 0;
    if (q.has_after) {
        size_t lo = 0, hi = p1.n; /* first id > after */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (p1.ids[mid] <= q.after)
                lo = mid + 1;
            else
                hi = mid;
        }
        k = lo;
    }
    size_t end = k + q.limit < p1.n ? k + q.limit : p1.n;
    bool more = end < p1.n;
    /* pass 2: write the page's features, then put them in id order */
    if (end > k) {
        p2.q = &q;
        p2.c = c;
        p2.html = fmt == FMT_HTML;
        p2.lo = q.after;
        p2.has_lo = q.has_after;
        p2.hi = p1.ids[end - 1];
        p2.in_order = p1.sorted;
        if (l->vt->query(l, box, z, emit, &p2) || p2.oom || p2.dl_failed) { /* a callback's stop is not an error */
            if (p2.dl_failed)
                msh_resp_error(r, msh_err_http_status(p2.dl_err.code), "%s", p2.dl_err.msg);
            else
                msh_resp_error(r, 500, "reading collection '%s' failed", l->info.name);
            goto out;
        }
        if (!p1.sorted && p2.n)
            qsort(p2.chunks, p2.n, sizeof *p2.chunks, cmp_chunk);
        if (p2.n > q.limit) { /* live data changed between the passes */
            p2.n = q.limit;
            more = true;
        }
    }
    if (p2.dl) {
        ogc_download_answer(r, &l->info, p2.dl, dlfmt, q.crs);
        goto out;
    }
    /* self and next links: the request's own parameters, the cursor, then f=json or f=html */
    msh_buf self, nextb;
    msh_buf_init(&self, MSH_MAX_BODY);
    msh_buf_init(&nextb, MSH_MAX_BODY);
    msh_buf_printf(&self, "%s/collections/%s/items?", c->base, l->info.name);
    msh_buf_append(&self, q.keep.data, q.keep.len);
    msh_buf_printf(&self, "%s", q.keep.len ? "&" : "");
    bool has_next = more && p2.n;
    char cursor[32];
    if (has_next) {
        msh_buf_append(&nextb, self.data, self.len);
        msh_qs_cursor_fmt(p2.chunks[p2.n - 1].id, cursor, sizeof cursor);
        msh_buf_printf(&nextb, "cursor=%s&", cursor);
    }
    if (q.has_after) {
        msh_qs_cursor_fmt(q.after, cursor, sizeof cursor);
        msh_buf_printf(&self, "cursor=%s&", cursor);
    }
    if (msh_buf_error(&p2.out)) {
        /* the page's features did not fit their buffer: say so rather than send part of them */
        msh_resp_error(r, 413, "a page of %u features of '%s' is too large (over %zu MiB): ask for a smaller limit",
                       q.limit, l->info.name, (size_t)MSH_MAX_BODY >> 20);
    } else if (fmt == FMT_HTML) {
        ogc_html_items_head(c, l, &b);
        for (size_t i = 0; i < p2.n; i++)
            msh_buf_append(&b, p2.out.data + p2.chunks[i].off, p2.chunks[i].len);
        if (has_next) {
            msh_buf_printf(&nextb, "f=html");
            msh_buf_putc(&nextb, 0);
        }
        ogc_html_items_foot(c, l, p1.n, (uint32_t)p2.n, has_next ? (const char *)nextb.data : NULL, &b);
        answer(r, CT_HTML, &b);
    } else {
        msh_buf_printf(&b, "{\"type\":\"FeatureCollection\",\"numberMatched\":%zu,\"numberReturned\":%zu,\"features\":[",
                       p1.n, p2.n);
        for (size_t i = 0; i < p2.n; i++) {
            if (i)
                msh_buf_putc(&b, ',');
            msh_buf_append(&b, p2.out.data + p2.chunks[i].off, p2.chunks[i].len);
        }
        char h[600];
        msh_buf_printf(&b, "],\"links\":[{\"href\":\"");
        ogc_json_str(&b, (const char *)self.data, self.len);
        msh_buf_printf(&b, "f=json\",\"rel\":\"self\",\"type\":\"" CT_GEOJSON "\",\"title\":\"This page\"},{\"href\":\"");
        ogc_json_str(&b, (const char *)self.data, self.len);
        msh_buf_printf(&b, "f=html\",\"rel\":\"alternate\",\"type\":\"text/html\",\"title\":\"This page as HTML\"}");
        ogc_download_links(&b, (const char *)self.data, self.len, q.crs);
        if (has_next) {
            msh_buf_printf(&b, ",{\"href\":\"");
            ogc_json_str(&b, (const char *)nextb.data, nextb.len);
            msh_buf_printf(&b, "f=json\",\"rel\":\"next\",\"type\":\"" CT_GEOJSON "\",\"title\":\"Next page\"}");
        }
        snprintf(h, sizeof h, "%s/collections/%s?f=json", c->base, l->info.name);
        link(&b, false, h, "collection", CT_JSON, l->info.name);
        msh_buf_printf(&b, "]}\n");
        answer(r, CT_GEOJSON, &b);
        ogc_content_crs(r, q.crs);
    }
    msh_buf_free(&self);
    msh_buf_free(&nextb);
out:
    msh_cql2_free(q.filter);
    msh_qgeom_free(&q.bbox_g);
    msh_qgeom_free(&q.scratch);
    msh_buf_free(&q.keep);
    free(p1.ids);
    free(p2.chunks);
    msh_buf_free(&p2.out);
    msh_buf_free(&b);
    msh_dl_free(p2.dl);
    msh_layer_release(past);
}

/* ---- one item --------------------------------------------------------------------------------- */

typedef struct {
    uint64_t id;
    const ogc_ctx *c;
    const msh_layer *l;
    msh_crs crs;
    bool html;
    msh_buf *b;
    bool found;
    char etag[40];
} one_q;

static int find_one(void *ud, const msh_feature *f)
{
    one_q *o = ud;
    if (f->id != o->id)
        return 0;
    o->found = true;
    if (o->html) {
        ogc_html_feature_row(o->c, o->l, f, o->b);
    } else {
        ogc_feature_json_crs(o->b, &o->l->info, f, o->crs);
        ogc_item_etag(&o->l->info, f, o->etag, sizeof o->etag); /* what If-Match compares (Part 4) */
        if (o->crs != MSH_CRS_CRS84) { /* another representation: another strong tag */
            size_t n = strlen(o->etag);
            if (n > 1 && n + 12 < sizeof o->etag)
                snprintf(o->etag + n - 1, sizeof o->etag - n + 1, "-%d\"", msh_crs_epsg(o->crs));
        }
    }
    return 1;
}

static void item(ogc_ctx *c, msh_layer *l, const char *fid, ogc_fmt fmt)
{
    msh_req *r = c->r;
    uint64_t id = 0;
    bool ok = *fid && strlen(fid) <= 20;
    for (const char *p = fid; ok && *p; p++) {
        if (!isdigit((unsigned char)*p) || id > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
            ok = false;
        else
            id = id * 10 + (uint64_t)(*p - '0');
    }
    if (!ok && *fid && strlen(fid) <= 64 && l->info.kind && !strcmp(l->info.kind, "live")) {
        id = msh_fnv1a(fid, strlen(fid), MSH_FNV1A_INIT) >> 11; /* a live item by its text id (live_layers.c) */
        ok = true;
    }
    if (!ok) {
        msh_resp_error(r, 404, "no feature '%.40s' in collection '%s' (feature ids are integers)", fid, l->info.name);
        return;
    }
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    msh_buf feat;
    msh_buf_init(&feat, MSH_MAX_BODY);
    one_q o = {id, c, l, MSH_CRS_CRS84, fmt == FMT_HTML, &feat, false, ""};
    const char *crs = msh_req_arg(r, "crs");
    msh_err err;
    if (crs && msh_crs_parse("crs", crs, &o.crs, &err)) {
        msh_resp_error(r, 400, "%s", err.msg);
        msh_buf_free(&feat);
        msh_buf_free(&b);
        return;
    }
    const char *asof = msh_req_arg(r, "asof");
    r->resp.past = asof != NULL;
    if (asof && ogc_item_asof(r, l, id, asof)) {
        msh_buf_free(&feat);
        msh_buf_free(&b);
        return;
    }
    double world[4] = {0, 0, 1, 1};
    if (l->vt->query(l, world, live_zoom(l), find_one, &o)) {
        msh_resp_error(r, 500, "reading collection '%s' failed", l->info.name);
    } else if (!o.found) {
        msh_resp_error(r, 404, "no feature %llu in collection '%s'", (unsigned long long)id, l->info.name);
    } else if (fmt == FMT_HTML) {
        ogc_html_items_head(c, l, &b);
        msh_buf_append(&b, feat.data, feat.len);
        ogc_html_items_foot(c, l, 1, 1, NULL, &b);
        answer(r, CT_HTML, &b);
    } else {
        /* the feature with its links spliced in before the closing brace */
        msh_buf_append(&b, feat.data, feat.len - 1);
        char h[600];
        msh_buf_printf(&b, ",\"links\":[");
        snprintf(h, sizeof h, "%s/collections/%s/items/%llu?f=json", c->base, l->info.name, (unsigned long long)id);
        link(&b, true, h, "self", CT_GEOJSON, NULL);
        snprintf(h, sizeof h, "%s/collections/%s/items/%llu?f=html", c->base, l->info.name, (unsigned long long)id);
        link(&b, false, h, "alternate", "text/html", NULL);
        snprintf(h, sizeof h, "%s/collections/%s?f=json", c->base, l->info.name);
        link(&b, false, h, "collection", CT_JSON, l->info.name);
        msh_buf_printf(&b, "]}\n");
        answer(r, CT_GEOJSON, &b);
        ogc_content_crs(r, o.crs);
        snprintf(r->resp.etag, sizeof r->resp.etag, "%s", o.etag);
    }
    msh_buf_free(&feat);
    msh_buf_free(&b);
}

/* ---- dispatch --------------------------------------------------------------------------------- */

void msh_route_ogc(msh_req *r, const char *tail)
{
    const char *rest = r->path + 4; /* after "/ogc": "" or "/..." (both rows of the table lead here) */
    (void)tail;
    ogc_ctx c;
    memset(&c, 0, sizeof c);
    c.r = r;
    ogc_fmt fmt;
    msh_dl_fmt dlfmt = MSH_DL_GPKG;
    if (negotiate(r, &fmt, &dlfmt))
        return;
    char host[300];
    msh_req_base_url(r, host, sizeof host);
    snprintf(c.base, sizeof c.base, "%s/ogc", host);
    c.ops = msh_auth_role(r) >= MSH_ROLE_OPS;
    c.cat = msh_app_catalog(r->app);
    msh_layer *own = NULL;
    if (fmt == FMT_DOWNLOAD && (strncmp(rest, "/collections/", 13) || !strchr(rest + 13, '/') ||
                                strcmp(strchr(rest + 13, '/'), "/items"))) {
        msh_resp_error(r, 400, "f=%s: files are written of items only (/ogc/collections/{id}/items?f=%s); this "
                               "resource answers f=json or f=html", msh_dl_name(dlfmt), msh_dl_name(dlfmt));
    } else if (!*rest || !strcmp(rest, "/")) {
        landing(&c, fmt);
    } else if (!strcmp(rest, "/conformance")) {
        conformance(&c, fmt);
    } else if (!strcmp(rest, "/api")) {
        if (fmt == FMT_HTML)
            html_page(&c, NULL, api_html);
        else
            ogc_route_api(&c);
    } else if (!strcmp(rest, "/collections") || !strcmp(rest, "/collections/")) {
        collections(&c, fmt);
    } else if (!strncmp(rest, "/collections/", 13)) {
        const char *id = rest + 13;
        const char *slash = strchr(id, '/');
        size_t idlen = slash ? (size_t)(slash - id) : strlen(id);
        msh_layer *l = msh_catalog_find(c.cat, id, idlen);
        if (l && !ogc_visible(&c, l) && slash && !strncmp(slash, "/items", 6) && (own = msh_reports_own_view(r, l)))
            l = own; /* a reporter's own reports (routes_reports.c) */
        if (!l || !ogc_visible(&c, l)) {
            msh_resp_error(r, 404, "unknown collection '%.*s' (see /ogc/collections)", (int)(idlen > 80 ? 80 : idlen),
                           id);
        } else if (!slash) {
            if (fmt == FMT_HTML) {
                html_page(&c, l, ogc_html_collection);
            } else {
                msh_buf b;
                msh_buf_init(&b, MSH_MAX_BODY);
                collection_json(&c, l, &b);
                msh_buf_putc(&b, '\n');
                answer(r, CT_JSON, &b);
                msh_buf_free(&b);
            }
        } else if (!strcmp(slash, "/items")) {
            items(&c, l, fmt, dlfmt);
        } else if (!strncmp(slash, "/items/", 7)) {
            item(&c, l, slash + 7, fmt);
        } else if (!strcmp(slash, "/queryables")) {
            queryables(&c, l, fmt);
        } else {
            msh_resp_error(r, 404, "no such resource under collection '%s': try /items, /items/{id} or /queryables",
                           l->info.name);
        }
    } else {
        msh_resp_error(r, 404, "no such OGC API resource '%.80s' (see /ogc)", rest);
    }
    if (c.ops && r->resp.status == 200)
        r->resp.cache_control = "private, no-cache"; /* what an ops token sees is not for shared caches */
    r->resp.vary_encoding = true;
    r->resp.vary_accept = !msh_req_arg(r, "f"); /* negotiated from Accept unless f= chose */
    if (own && r->resp.status == 200)
        r->resp.cache_control = "private, no-cache";
    msh_layer_release(own);
    msh_catalog_release(c.cat);
}
