/* ogc.h: private to the OGC API - Features routes (routes_ogc*.c).
 *
 * Design: routes_ogc.c owns the request: format negotiation, which collections the caller may
 * see, the query parameters (parsed by layers/query/) and the item selection, which runs the
 * layer query twice (ids of every match first, for numberMatched and the keyset page; then
 * only the page's features are written). The writers are small: JSON and GeoJSON in
 * routes_ogc_json.c, HTML in routes_ogc_html.c, the OpenAPI document in routes_ogc_api.c.
 * Everything written from data goes through ogc_json_str / ogc_html_str (explicit lengths).
 */
#ifndef MSH_OGC_H
#define MSH_OGC_H

#include <jansson.h>
#include <stdbool.h>

#include "crs_ref.h"
#include "download.h"
#include "http/http.h"
#include "query/qgeom.h"

typedef struct {
    msh_req *r;
    msh_catalog *cat;  /* retained for the request */
    char base[320];    /* "http://host:port/ogc" */
    bool ops;          /* the caller holds an ops (or admin) token */
} ogc_ctx;

typedef enum { FMT_JSON, FMT_HTML, FMT_DOWNLOAD } ogc_fmt; /* FMT_DOWNLOAD: items as a file (f=gpkg, ...) */

/** f=json|html, else the Accept header; -1 with the 400 answered for an unknown f or a download one. */
int ogc_negotiate(msh_req *r, ogc_fmt *out);
/** Answer 200 with b as ctype (deflated when it pays), no-cache. */
void ogc_answer(msh_req *r, const char *ctype, msh_buf *b);
/** One member of a links array: {"href","rel","type"[,"title"]}, a comma first unless `first`. */
void ogc_link(msh_buf *b, bool first, const char *href, const char *rel, const char *type, const char *title);

/** OGC API - Tiles links of the landing page and of a collection (routes_ogc_tiles.c), each after a comma. */
void ogc_tiles_landing_links(const ogc_ctx *c, msh_buf *b);
void ogc_tiles_collection_links(const ogc_ctx *c, const msh_layer *l, msh_buf *b);

/** Collections the caller may see: public ones, and ops-only ones for an ops token. */
bool ogc_visible(const ogc_ctx *c, const msh_layer *l);

/** JSON string content (no quotes) of s[0..len). */
void ogc_json_str(msh_buf *b, const char *s, size_t len);
/** HTML text or attribute content of s[0..len): & < > " ' escaped. */
void ogc_html_str(msh_buf *b, const char *s, size_t len);
/** A value as JSON (null, integer, shortest round-trip number, boolean, string). */
void ogc_json_value(msh_buf *b, const msh_value *v);

/** One GeoJSON Feature: id, geometry in CRS84 (9 decimals), every field of `li` as a property. */
void ogc_feature_json(msh_buf *b, const msh_layer_info *li, const msh_feature *f);
/** The same with its geometry in `crs`, in that CRS's axis order (EPSG:4326: lat, lon). */
void ogc_feature_json_crs(msh_buf *b, const msh_layer_info *li, const msh_feature *f, msh_crs crs);

/** The time field of a layer for `datetime` (layers/query/qs.h), -1 when none. */
int ogc_time_field(const msh_layer *l);

/* HTML pages (routes_ogc_html.c): the head and foot around a page body. */
void ogc_html_open(msh_buf *b, const char *title, const char *json_href);
void ogc_html_close(msh_buf *b);
void ogc_html_landing(const ogc_ctx *c, msh_buf *b);
void ogc_html_collections(const ogc_ctx *c, msh_buf *b);
void ogc_html_collection(const ogc_ctx *c, const msh_layer *l, msh_buf *b);
/** The table head of an items page; rows come from ogc_html_feature_row. */
void ogc_html_items_head(const ogc_ctx *c, const msh_layer *l, msh_buf *b);
void ogc_html_feature_row(const ogc_ctx *c, const msh_layer *l, const msh_feature *f, msh_buf *b);
void ogc_html_items_foot(const ogc_ctx *c, const msh_layer *l, uint64_t matched, uint32_t returned,
                         const char *next_href, msh_buf *b);

void ogc_html_queryables(const ogc_ctx *c, const msh_layer *l, msh_buf *b);
/** The API definition for people: the paths and the items parameters. */
void ogc_html_api(const ogc_ctx *c, msh_buf *b);

/** The ETag of one item: a hash of its GeoJSON as ogc_feature_json writes it (routes_ogc_write.c). */
void ogc_item_etag(const msh_layer_info *li, const msh_feature *f, char *out, size_t cap);
/**
 * GET .../items/{fid}?asof=ISO: answer the item as it was then from the audit (true), or
 * return false when it has not changed since (the current item answers).
 */
bool ogc_item_asof(msh_req *r, msh_layer *l, uint64_t fid, const char *asof);

/** An error a client can branch on: {"code":CODE,"error":MSG,"status":STATUS} (409 duplicate_id,
 * 422 geometry_too_complex). */
void ogc_error_code(msh_req *r, int status, const char *code, const char *msg);

/** A history's page: `limit` (1..1000, default 100) and `cursor` (the last seq of the previous page,
 * default 0); false with the 400 answered. */
bool ogc_history_page(msh_req *r, long *limit, int64_t *after);

/**
 * Under the edit lock, before a create, replace or update of `l` (routes_ogc_ids.c): the id the
 * body gives where the collection's id field says so (http/access.h "ids"). True to go on, with
 * *fid the id a create asks for (0: the next one); false with the error answered (400, 409).
 */
bool ogc_ids_check(msh_req *r, msh_layer *l, bool create, uint64_t self, const json_t *doc, const msh_value *values,
                   int64_t *fid);

/**
 * GET .../items?asof=ISO (routes_ogc_asof.c): *past is the collection as it was then (a layer
 * reference to release; layers/asof_layer.h), or true is returned with the error answered
 * (a bad time: 400; a live collection, which keeps no past: 400).
 */
bool ogc_items_asof(msh_req *r, msh_layer *l, const char *asof, msh_layer **past);

/* Part 2 (routes_ogc_crs.c) */
/** Content-Crs: <uri> on a 200 answer whose coordinates are in `crs`. */
void ogc_content_crs(msh_req *r, msh_crs crs);
/** A closed lon/lat ring of n vertices (a projected bbox, crs_ref.h) appended to `g` as a polygon. */
msh_rc ogc_ring_qgeom(const double *ring, size_t n, msh_qgeom *g);

/* Downloads (routes_ogc_download.c) */
/** The writer of an items page in `fmt`; true with the error answered (400: the format cannot hold them). */
bool ogc_download_open(msh_req *r, const msh_layer_info *li, msh_dl_fmt fmt, msh_crs crs, msh_dl **out);
/** Finish `dl` and answer the file (or the error); `dl` is still the caller's to free. */
void ogc_download_answer(msh_req *r, const msh_layer_info *li, msh_dl *dl, msh_dl_fmt fmt, msh_crs crs);
/** ,{alternate link} for each format of the page `self` (ends in '?' or '&'). */
void ogc_download_links(msh_buf *b, const char *self, size_t self_len, msh_crs crs);

/** GET /ogc/api: the OpenAPI 3.0 document (routes_ogc_api.c). */
void ogc_route_api(const ogc_ctx *c);

#endif
