/* routes_ogc_tiles.c: OGC API - Tiles 1.0 under /ogc (core, tileset, tilesets-list, geodata and
 * dataset tilesets, MVT and PNG), with the OGC 2D TMS 2.0 documents it points to.
 *
 * Design: a tileset is a `source`: a set of catalog layers and how they are drawn. Three kinds:
 *   /ogc/collections/{id}/tiles          one collection as vector tiles (geodata tilesets)
 *   /ogc/tiles                           every collection the caller may see in one vector tile
 *                                        (the dataset tileset: the composite of /tiles/{l1},{l2},...)
 *   /ogc/styles/{style}/map/tiles        a raster style as PNG map tiles
 * Under each: "" the tilesets list, /WebMercatorQuad the tileset (limits, links with the templated
 * {tileMatrix}/{tileRow}/{tileCol}) and /WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol} a tile.
 * A tile is the same answer as the plain path: msh_tiles_answer_mvt (routes_tiles.c) and
 * msh_route_raster_style (routes_raster.c) write it, with their ETag and tile cache entry; this
 * file only checks the path (http/ogc_tilepath.h) and the tileset's limits (routes/tms_wmq.h:
 * the tiles over the layers' extent within their zoom range; 404 outside, as the documents say).
 * Errors are OGC exceptions ({"code","error","status"}: ogc_error_code). Documents answer f=json
 * or f=html like the other /ogc pages; tiles take no f. Nothing here is kept between requests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_tilemath.h"
#include "http/auth.h"
#include "http/ogc_tilepath.h"
#include "routes/ogc.h"
#include "routes/routes.h"
#include "routes/routes_raster.h"
#include "routes/tms_wmq.h"
#include "services/raster_service.h"
#include "vector_layers.h"

#define CT_JSON "application/json"
#define CT_HTML "text/html; charset=utf-8"
#define CT_MVT "application/vnd.mapbox-vector-tile"
#define CRS84 "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
#define REL "http://www.opengis.net/def/rel/ogc/1.0/"
#define MAX_DATASET 64 /* layers of the dataset tileset: the first so many collections */

typedef struct {
    bool map;                 /* PNG map tiles of a style, else vector tiles */
    const char *id;           /* collection id, "dataset" or the style's name */
    const char *title;
    char path[200];           /* the tilesets list, after the /ogc base */
    msh_layer *layers[MSH_RASTER_STYLE_MAX_LAYERS];
    int n;
    char style[64];           /* map: the style's name */
    double bb[4];
    int minz, maxz;
} tsrc;

static void json_cstr(msh_buf *b, const char *s)
{
    ogc_json_str(b, s, strlen(s));
}

static void not_found(msh_req *r, const char *msg)
{
    ogc_error_code(r, 404, "NotFound", msg);
}

/* ---- documents ------------------------------------------------------------------------------- */

/* The 2D TMS 2.0 JSON of WebMercatorQuad. Each member the 2019 draft named differently is there under
 * both names (identifier, supportedCRS, boundingBox lowerCorner/upperCorner, topLeftCorner): GDAL 3.6's OGCAPI
 * driver reads only those, and TMS 2.0 allows members it does not define. */
static void tms_json(const ogc_ctx *c, msh_buf *b)
{
    char h[400];
    const double e = MSH_WMQ_EDGE;
    msh_buf_printf(b, "{\"id\":\"" MSH_WMQ_ID "\",\"identifier\":\"" MSH_WMQ_ID "\",\"title\":\"Google Maps Compatible for "
                      "the World\",\"uri\":\"" MSH_WMQ_URI "\",\"crs\":\"" MSH_WMQ_CRS "\",\"supportedCRS\":\"" MSH_WMQ_CRS "\",\"orderedAxes\":[\"X\",\"Y\"],"
                      "\"wellKnownScaleSet\":\"http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible\","
                      "\"boundingBox\":{\"crs\":\"" MSH_WMQ_CRS "\",\"lowerLeft\":[%.7f,%.7f],\"upperRight\":[%.7f,%.7f],"
                      "\"lowerCorner\":[%.7f,%.7f],\"upperCorner\":[%.7f,%.7f]},\"tileMatrices\":[",
                   -e, -e, e, e, -e, -e, e, e);
    for (int z = 0; z <= MSH_MAX_ZOOM; z++) {
        unsigned long long n = 1ull << z;
        msh_buf_printf(b, "%s{\"id\":\"%d\",\"identifier\":\"%d\",\"scaleDenominator\":%.10g,\"cellSize\":%.12g,"
                          "\"cornerOfOrigin\":\"topLeft\",\"pointOfOrigin\":[%.7f,%.7f],\"topLeftCorner\":[%.7f,%.7f],"
                          "\"tileWidth\":256,\"tileHeight\":256,\"matrixWidth\":%llu,\"matrixHeight\":%llu}",
                       z ? "," : "", z, z, msh_wmq_scale(z), msh_wmq_cell(z), -e, e, -e, e, n, n);
    }
    msh_buf_printf(b, "],\"links\":[");
    snprintf(h, sizeof h, "%s/tileMatrixSets/" MSH_WMQ_ID "?f=json", c->base);
    ogc_link(b, true, h, "self", CT_JSON, "This tile matrix set");
    msh_buf_printf(b, "]}\n");
}

static void tms_list_json(const ogc_ctx *c, msh_buf *b)
{
    char h[400];
    msh_buf_printf(b, "{\"tileMatrixSets\":[{\"id\":\"" MSH_WMQ_ID "\",\"title\":\"Google Maps Compatible for the World\","
                      "\"uri\":\"" MSH_WMQ_URI "\",\"crs\":\"" MSH_WMQ_CRS "\",\"links\":[");
    snprintf(h, sizeof h, "%s/tileMatrixSets/" MSH_WMQ_ID "?f=json", c->base);
    ogc_link(b, true, h, "self", CT_JSON, MSH_WMQ_ID);
    msh_buf_printf(b, "]}],\"links\":[");
    snprintf(h, sizeof h, "%s/tileMatrixSets?f=json", c->base);
    ogc_link(b, true, h, "self", CT_JSON, "The tile matrix sets");
    msh_buf_printf(b, "]}\n");
}

static const char *data_type(const tsrc *s)
{
    return s->map ? "map" : "vector";
}

/* The tileset's own links: self, the tiling scheme and the templated tile URL. */
static void tileset_links(const ogc_ctx *c, const tsrc *s, msh_buf *b)
{
    char h[600];
    snprintf(h, sizeof h, "%s%s/" MSH_WMQ_ID "?f=json", c->base, s->path);
    ogc_link(b, true, h, "self", CT_JSON, "This tileset");
    snprintf(h, sizeof h, "%s%s/" MSH_WMQ_ID "?f=html", c->base, s->path);
    ogc_link(b, false, h, "alternate", "text/html", "This tileset as HTML");
    snprintf(h, sizeof h, "%s/tileMatrixSets/" MSH_WMQ_ID "?f=json", c->base);
    ogc_link(b, false, h, REL "tiling-scheme", CT_JSON, MSH_WMQ_ID);
    snprintf(h, sizeof h, "%s%s/" MSH_WMQ_ID "/{tileMatrix}/{tileRow}/{tileCol}", c->base, s->path);
    ogc_link(b, false, h, "item", s->map ? "image/png" : CT_MVT, s->map ? "PNG tiles" : "Mapbox vector tiles");
    b->len--; /* reopen the link to say that it is a template */
    msh_buf_printf(b, ",\"templated\":true}");
    if (!s->map && strcmp(s->id, "dataset")) {
        snprintf(h, sizeof h, "%s/collections/%s?f=json", c->base, s->id);
        ogc_link(b, false, h, REL "geodata", CT_JSON, "The collection");
    }
}

static void tileset_item(const ogc_ctx *c, const tsrc *s, msh_buf *b)
{
    msh_buf_printf(b, "{\"title\":\"");
    json_cstr(b, s->title);
    msh_buf_printf(b, "\",\"dataType\":\"%s\",\"crs\":\"" MSH_WMQ_CRS "\",\"tileMatrixSetURI\":\"" MSH_WMQ_URI "\",\"links\":[",
                   data_type(s));
    tileset_links(c, s, b);
    msh_buf_printf(b, "]}");
}

static void tilesets_json(const ogc_ctx *c, const tsrc *s, msh_buf *b)
{
    char h[600];
    msh_buf_printf(b, "{\"tilesets\":[");
    tileset_item(c, s, b);
    msh_buf_printf(b, "],\"links\":[");
    snprintf(h, sizeof h, "%s%s?f=json", c->base, s->path);
    ogc_link(b, true, h, "self", CT_JSON, "The tilesets");
    snprintf(h, sizeof h, "%s%s?f=html", c->base, s->path);
    ogc_link(b, false, h, "alternate", "text/html", "The tilesets as HTML");
    msh_buf_printf(b, "]}\n");
}

static int dimension(const char *geometry_type)
{
    if (!strcmp(geometry_type, "Point"))
        return 0;
    if (!strcmp(geometry_type, "LineString"))
        return 1;
    return !strcmp(geometry_type, "Polygon") ? 2 : -1;
}

static void tileset_json(const ogc_ctx *c, const tsrc *s, msh_buf *b)
{
    msh_buf_printf(b, "{\"title\":\"");
    json_cstr(b, s->title);
    msh_buf_printf(b, "\",\"dataType\":\"%s\",\"crs\":\"" MSH_WMQ_CRS "\",\"tileMatrixSetURI\":\"" MSH_WMQ_URI "\",",
                   data_type(s));
    msh_buf_printf(b, "\"boundingBox\":{\"lowerLeft\":[%.9g,%.9g],\"upperRight\":[%.9g,%.9g],\"crs\":\"" CRS84 "\"},",
                   s->bb[0], s->bb[1], s->bb[2], s->bb[3]);
    msh_buf_printf(b, "\"tileMatrixSetLimits\":[");
    for (int z = s->minz; z <= s->maxz; z++) {
        uint32_t c0, c1, r0, r1;
        msh_wmq_limits(s->bb, z, &c0, &c1, &r0, &r1);
        msh_buf_printf(b, "%s{\"tileMatrix\":\"%d\",\"minTileRow\":%u,\"maxTileRow\":%u,\"minTileCol\":%u,\"maxTileCol\":%u}",
                       z > s->minz ? "," : "", z, r0, r1, c0, c1);
    }
    msh_buf_printf(b, "],");
    if (!s->map) {
        msh_buf_printf(b, "\"layers\":[");
        for (int i = 0; i < s->n; i++) {
            const msh_layer_info *li = &s->layers[i]->info;
            msh_buf_printf(b, "%s{\"id\":\"%s\",\"title\":\"", i ? "," : "", li->name);
            json_cstr(b, li->title ? li->title : li->name);
            msh_buf_printf(b, "\",\"dataType\":\"vector\"");
            int d = dimension(li->geometry_type);
            if (d >= 0)
                msh_buf_printf(b, ",\"geometryDimension\":%d", d);
            msh_buf_printf(b, ",\"minTileMatrix\":\"%d\",\"maxTileMatrix\":\"%d\"}", li->minzoom, li->maxzoom);
        }
        msh_buf_printf(b, "],");
    }
    msh_buf_printf(b, "\"links\":[");
    tileset_links(c, s, b);
    msh_buf_printf(b, "]}\n");
}

/* A style as a collection-like document: its extent and its map tilesets (GDAL's OGCAPI driver opens it). */
static void style_json(const ogc_ctx *c, const tsrc *s, msh_buf *b, bool item)
{
    char h[600];
    msh_buf_printf(b, "{\"id\":\"%s\",\"title\":\"%s\",", s->style, s->style);
    msh_buf_printf(b, "\"extent\":{\"spatial\":{\"bbox\":[[%.9g,%.9g,%.9g,%.9g]],\"crs\":\"" CRS84 "\"}},\"links\":[",
                   s->bb[0], s->bb[1], s->bb[2], s->bb[3]);
    snprintf(h, sizeof h, "%s/styles/%s?f=json", c->base, s->style);
    ogc_link(b, true, h, "self", CT_JSON, s->style);
    snprintf(h, sizeof h, "%s%s?f=json", c->base, s->path);
    ogc_link(b, false, h, REL "tilesets-map", CT_JSON, "Map tiles of this style");
    msh_buf_printf(b, "]}%s", item ? "" : "\n");
}

/* ---- HTML ------------------------------------------------------------------------------------ */

static void html_link(msh_buf *b, const char *href, const char *text)
{
    msh_buf_printf(b, "<li><a href=\"");
    ogc_html_str(b, href, strlen(href));
    msh_buf_printf(b, "\">");
    ogc_html_str(b, text, strlen(text));
    msh_buf_printf(b, "</a></li>");
}

static void html_head(msh_buf *b, const char *title, const char *json_href)
{
    ogc_html_open(b, title, json_href);
    msh_buf_printf(b, "<h1>");
    ogc_html_str(b, title, strlen(title));
    msh_buf_printf(b, "</h1>");
}

static void tileset_html(const ogc_ctx *c, const tsrc *s, msh_buf *b, bool list)
{
    char h[600], t[600];
    snprintf(h, sizeof h, "%s%s%s?f=json", c->base, s->path, list ? "" : "/" MSH_WMQ_ID);
    html_head(b, s->title, h);
    msh_buf_printf(b, "<p>%s tiles in " MSH_WMQ_ID ", zooms %d to %d, over [%.6f, %.6f, %.6f, %.6f]</p><ul>",
                   s->map ? "PNG map" : "Vector (MVT)", s->minz, s->maxz, s->bb[0], s->bb[1], s->bb[2], s->bb[3]);
    snprintf(h, sizeof h, "%s%s/" MSH_WMQ_ID "?f=html", c->base, s->path);
    html_link(b, h, "The " MSH_WMQ_ID " tileset");
    snprintf(h, sizeof h, "%s/tileMatrixSets/" MSH_WMQ_ID "?f=html", c->base);
    html_link(b, h, "The tile matrix set");
    snprintf(t, sizeof t, "Tiles: %s%s/" MSH_WMQ_ID "/{tileMatrix}/{tileRow}/{tileCol}", c->base, s->path);
    msh_buf_printf(b, "<li>");
    ogc_html_str(b, t, strlen(t));
    msh_buf_printf(b, "</li></ul>");
    if (!list) {
        msh_buf_printf(b, "<table><tr><th>tileMatrix</th><th>rows</th><th>columns</th></tr>");
        for (int z = s->minz; z <= s->maxz; z++) {
            uint32_t c0, c1, r0, r1;
            msh_wmq_limits(s->bb, z, &c0, &c1, &r0, &r1);
            msh_buf_printf(b, "<tr><td>%d</td><td>%u to %u</td><td>%u to %u</td></tr>", z, r0, r1, c0, c1);
        }
        msh_buf_printf(b, "</table>");
    }
    ogc_html_close(b);
}

static void tms_html(const ogc_ctx *c, msh_buf *b, bool list)
{
    char h[400];
    snprintf(h, sizeof h, "%s/tileMatrixSets%s?f=json", c->base, list ? "" : "/" MSH_WMQ_ID);
    html_head(b, list ? "Tile matrix sets" : MSH_WMQ_ID, h);
    msh_buf_printf(b, "<p>" MSH_WMQ_ID ": EPSG:3857, 256 px tiles, 2^z by 2^z tiles at tileMatrix z, row 0 at the "
                      "north (<code>" MSH_WMQ_URI "</code>)</p>");
    if (list) {
        snprintf(h, sizeof h, "%s/tileMatrixSets/" MSH_WMQ_ID "?f=html", c->base);
        msh_buf_printf(b, "<ul>");
        html_link(b, h, MSH_WMQ_ID);
        msh_buf_printf(b, "</ul>");
    } else {
        msh_buf_printf(b, "<table><tr><th>id</th><th>scale denominator</th><th>cell size (m)</th><th>matrix</th></tr>");
        for (int z = 0; z <= MSH_MAX_ZOOM; z++)
            msh_buf_printf(b, "<tr><td>%d</td><td>%.10g</td><td>%.12g</td><td>%llu</td></tr>", z, msh_wmq_scale(z),
                           msh_wmq_cell(z), 1ull << z);
        msh_buf_printf(b, "</table>");
    }
    ogc_html_close(b);
}

/* ---- sources --------------------------------------------------------------------------------- */

static void extent(tsrc *s)
{
    msh_layers_extent(s->layers, (size_t)s->n, s->bb, &s->minz, &s->maxz);
    int first = msh_wmq_first_zoom(s->bb);
    if (s->minz < first)
        s->minz = first;
    if (s->minz > s->maxz)
        s->minz = s->maxz;
}

static void collection_source(tsrc *s, msh_layer *l)
{
    s->id = l->info.name;
    s->title = l->info.title ? l->info.title : l->info.name;
    snprintf(s->path, sizeof s->path, "/collections/%s/tiles", l->info.name);
    s->layers[0] = l;
    s->n = 1;
    extent(s);
}

static void dataset_source(const ogc_ctx *c, tsrc *s)
{
    s->id = "dataset";
    s->title = "Mashaer: the site's data";
    snprintf(s->path, sizeof s->path, "/tiles");
    /* the stored collections: the base data a desktop adds once, the same tiles as the composite
     * /tiles of them, cacheable; the live and derived ones change by the second and have their own
     * tilesets (an ops token's personal layer among them); a stored layer of personal data (reports) is
     * left out for every token, so that the dataset is the same public, cacheable set for all */
    for (size_t i = 0; i < msh_catalog_count(c->cat) && s->n < MAX_DATASET; i++) {
        msh_layer *l = msh_catalog_at(c->cat, i);
        if (l->info.access < MSH_ACCESS_OPS && l->info.kind && !strcmp(l->info.kind, "static"))
            s->layers[s->n++] = l;
    }
    extent(s);
}

/* The style name[0..n) as a map source: MSH_ENOTFOUND, or MSH_EINTERNAL for a style that did not compile. */
static msh_rc style_load(const ogc_ctx *c, const char *name, size_t n, tsrc *s, msh_err *err)
{
    const msh_rstyle *st = NULL;
    if (!msh_raster_style_name_ok(name, n))
        return msh_err_set(err, MSH_ENOTFOUND, "no style named '%.*s'", (int)(n > 64 ? 64 : n), name);
    msh_rc rc = msh_raster_service_style(c->r->app->raster, name, n, &st, err);
    if (rc)
        return rc;
    s->map = true;
    snprintf(s->style, sizeof s->style, "%.*s", (int)n, name);
    s->id = s->style;
    s->title = s->style;
    snprintf(s->path, sizeof s->path, "/styles/%s/map/tiles", s->style);
    s->n = msh_raster_style_layers(c->cat, st, s->layers);
    extent(s);
    return MSH_OK;
}

/* style_load, answering its error; false then. */
static bool style_source(const ogc_ctx *c, const char *name, size_t n, tsrc *s)
{
    msh_err err;
    msh_rc rc = style_load(c, name, n, s, &err);
    if (rc)
        ogc_error_code(c->r, msh_err_http_status(rc), rc == MSH_ENOTFOUND ? "NotFound" : "ServerError", err.msg);
    return !rc;
}

/* The documents' links are absolute: made from the base URL (which marks the answer as varying with
 * Host where no --public-url is set). Tiles carry no links, so their ETags stay the plain path's. */
static void set_base(ogc_ctx *c)
{
    char host[300];
    msh_req_base_url(c->r, host, sizeof host);
    snprintf(c->base, sizeof c->base, "%s/ogc", host);
}

/* ---- answers --------------------------------------------------------------------------------- */

static void doc(ogc_ctx *c, ogc_fmt fmt, const tsrc *s, int what)
{
    set_base(c);
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    bool html = fmt == FMT_HTML;
    switch (what) {
    case MSH_OTP_LIST:
        html ? tileset_html(c, s, &b, true) : tilesets_json(c, s, &b);
        break;
    case MSH_OTP_TILESET:
        html ? tileset_html(c, s, &b, false) : tileset_json(c, s, &b);
        break;
    default:
        if (html) {
            char h[600];
            snprintf(h, sizeof h, "%s/styles/%s?f=json", c->base, s->style);
            html_head(&b, s->style, h);
            msh_buf_printf(&b, "<ul>");
            snprintf(h, sizeof h, "%s%s?f=html", c->base, s->path);
            html_link(&b, h, "Map tiles of this style");
            msh_buf_printf(&b, "</ul>");
            ogc_html_close(&b);
        } else {
            style_json(c, s, &b, false);
        }
    }
    ogc_answer(c->r, html ? CT_HTML : CT_JSON, &b);
    msh_buf_free(&b);
}

/* `tail` follows the source's ".../tiles". */
static void tiles(ogc_ctx *c, const tsrc *s, const char *tail)
{
    msh_req *r = c->r;
    msh_ogc_tilepath tp;
    msh_err err;
    msh_rc rc = msh_ogc_tilepath_parse(tail, &tp, &err);
    if (rc) {
        ogc_error_code(r, rc == MSH_EINVAL ? 400 : 404, rc == MSH_EINVAL ? "InvalidParameterValue" : "NotFound", err.msg);
        return;
    }
    if (tp.kind != MSH_OTP_TILE) {
        ogc_fmt fmt;
        if (!ogc_negotiate(r, &fmt))
            doc(c, fmt, s, tp.kind);
        return;
    }
    if (!msh_wmq_in_limits(s->bb, s->minz, s->maxz, tp.z, tp.row, tp.col)) {
        char msg[400];
        snprintf(msg, sizeof msg, "tile %d/%u/%u is outside the tileset's limits (tileMatrixSetLimits of /ogc%s/" MSH_WMQ_ID ")",
                 tp.z, tp.row, tp.col, s->path);
        not_found(r, msg);
        return;
    }
    if (s->map) {
        char rest[120];
        snprintf(rest, sizeof rest, "%s/%d/%u/%u.png", s->style, tp.z, tp.col, tp.row);
        msh_route_raster_style(r, rest); /* the same PNG, ETag and cache entry as /styles/{name}/... */
    } else {
        msh_tiles_answer_mvt(r, c->cat, (msh_layer **)s->layers, s->n, tp.z, tp.col, tp.row);
    }
}

/* Every style that compiled (a style that did not draws no tiles), as map sources. */
static void styles_list(ogc_ctx *c, ogc_fmt fmt, tsrc *s)
{
    set_base(c);
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    char h[400];
    snprintf(h, sizeof h, "%s/styles?f=json", c->base);
    if (fmt == FMT_HTML) {
        html_head(&b, "Styles", h);
        msh_buf_printf(&b, "<ul>");
    } else {
        msh_buf_printf(&b, "{\"styles\":[");
    }
    bool first = true;
    const char *name;
    msh_err err;
    for (size_t i = 0; (name = msh_raster_service_name(c->r->app->raster, i)); i++) {
        memset(s, 0, sizeof *s);
        if (style_load(c, name, strlen(name), s, &err))
            continue;
        if (fmt == FMT_HTML) {
            char t[600];
            snprintf(t, sizeof t, "%s%s?f=html", c->base, s->path);
            html_link(&b, t, name);
        } else {
            msh_buf_printf(&b, "%s", first ? "" : ",");
            style_json(c, s, &b, true);
        }
        first = false;
    }
    if (fmt == FMT_HTML) {
        msh_buf_printf(&b, "</ul>");
        ogc_html_close(&b);
    } else {
        msh_buf_printf(&b, "],\"links\":[");
        ogc_link(&b, true, h, "self", CT_JSON, "The styles");
        msh_buf_printf(&b, "]}\n");
    }
    ogc_answer(c->r, fmt == FMT_HTML ? CT_HTML : CT_JSON, &b);
    msh_buf_free(&b);
}

static void tms(ogc_ctx *c, const char *tail)
{
    set_base(c);
    ogc_fmt fmt;
    if (*tail && strcmp(tail, "/") && strcmp(tail, "/" MSH_WMQ_ID)) {
        not_found(c->r, "unknown tile matrix set: this server tiles in " MSH_WMQ_ID " (see /ogc/tileMatrixSets)");
        return;
    }
    if (ogc_negotiate(c->r, &fmt))
        return;
    bool list = !*tail || !strcmp(tail, "/");
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    if (fmt == FMT_HTML)
        tms_html(c, &b, list);
    else
        list ? tms_list_json(c, &b) : tms_json(c, &b);
    ogc_answer(c->r, fmt == FMT_HTML ? CT_HTML : CT_JSON, &b);
    msh_buf_free(&b);
}

/* ---- links from the other /ogc documents ----------------------------------------------------- */

void ogc_tiles_landing_links(const ogc_ctx *c, msh_buf *b)
{
    char h[400];
    snprintf(h, sizeof h, "%s/tileMatrixSets", c->base);
    ogc_link(b, false, h, REL "tiling-schemes", CT_JSON, "The tile matrix sets");
    snprintf(h, sizeof h, "%s/tiles", c->base);
    ogc_link(b, false, h, REL "tilesets-vector", CT_JSON, "Every collection as vector tiles");
    snprintf(h, sizeof h, "%s/styles", c->base);
    ogc_link(b, false, h, REL "styles", CT_JSON, "Styles drawn as map tiles");
}

void ogc_tiles_collection_links(const ogc_ctx *c, const msh_layer *l, msh_buf *b)
{
    char h[400];
    snprintf(h, sizeof h, "%s/collections/%s/tiles", c->base, l->info.name);
    ogc_link(b, false, h, REL "tilesets-vector", CT_JSON, "Vector tiles");
}

/* ---- dispatch -------------------------------------------------------------------------------- */

void msh_route_ogc_tiles(msh_req *r, const char *unused)
{
    (void)unused;
    const char *rest = r->path + 4; /* after "/ogc" */
    ogc_ctx c;
    memset(&c, 0, sizeof c);
    c.r = r;
    c.ops = msh_auth_role(r) >= MSH_ROLE_OPS;
    c.cat = msh_app_catalog(r->app);
    tsrc *s = calloc(1, sizeof *s); /* 2 KiB of layer pointers: off the worker's stack */
    ogc_fmt fmt;
    if (!s) {
        msh_resp_error(r, 500, "out of memory");
    } else if (!strncmp(rest, "/tileMatrixSets", 15)) {
        tms(&c, rest + 15);
    } else if (!strncmp(rest, "/tiles", 6)) {
        dataset_source(&c, s);
        tiles(&c, s, rest + 6);
    } else if (!strncmp(rest, "/collections/", 13)) {
        const char *id = rest + 13, *slash = strchr(id, '/');
        msh_layer *l = slash ? msh_catalog_find(c.cat, id, (size_t)(slash - id)) : NULL;
        if (!l || !ogc_visible(&c, l)) {
            not_found(r, "unknown collection (see /ogc/collections)");
        } else {
            collection_source(s, l);
            tiles(&c, s, slash + 6); /* after "/tiles" (the route table's pattern) */
        }
    } else if (!strcmp(rest, "/styles") || !strcmp(rest, "/styles/")) {
        if (!ogc_negotiate(r, &fmt))
            styles_list(&c, fmt, s);
    } else if (!strncmp(rest, "/styles/", 8)) {
        const char *name = rest + 8;
        size_t n = strcspn(name, "/");
        const char *tail = name + n;
        if (!*tail || !strcmp(tail, "/")) {
            if (!ogc_negotiate(r, &fmt) && style_source(&c, name, n, s))
                doc(&c, fmt, s, 0);
        } else if (strncmp(tail, "/map/tiles", 10) || (tail[10] && tail[10] != '/')) {
            not_found(r, "a style's tiles are at /ogc/styles/{style}/map/tiles");
        } else if (style_source(&c, name, n, s)) {
            tiles(&c, s, tail + 10);
        }
    } else {
        not_found(r, "no such OGC API - Tiles resource");
    }
    if (c.ops && r->resp.status == 200 && r->resp.cache_control && !strcmp(r->resp.cache_control, "no-cache"))
        r->resp.cache_control = "private, no-cache";
    r->resp.vary_encoding = true;
    if (!msh_req_arg(r, "f"))
        r->resp.vary_accept = r->resp.ctype && strncmp(r->resp.ctype, "image/", 6) && strcmp(r->resp.ctype, CT_MVT);
    free(s);
    msh_catalog_release(c.cat);
}
