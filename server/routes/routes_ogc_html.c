/* routes_ogc_html.c: the HTML view of /ogc: landing page, collections, items as a table.
 *
 * Everything from data is escaped (ogc_html_str); every cell and heading carries dir="auto" so
 * Arabic names read right to left next to Latin ones.
 */
#include <stdio.h>
#include <string.h>

#include "core/msh_tilemath.h"
#include "routes/ogc.h"

void ogc_html_str(msh_buf *b, const char *s, size_t len)
{
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        const char *e = NULL;
        switch (s[i]) {
        case '&': e = "&amp;"; break;
        case '<': e = "&lt;"; break;
        case '>': e = "&gt;"; break;
        case '"': e = "&quot;"; break;
        case '\'': e = "&#39;"; break;
        default: continue;
        }
        msh_buf_append(b, s + run, i - run);
        msh_buf_append(b, e, strlen(e));
        run = i + 1;
    }
    msh_buf_append(b, s + run, len - run);
}

static void text(msh_buf *b, const char *s)
{
    ogc_html_str(b, s, strlen(s));
}

/* before, s escaped, after: the shape of every cell, heading and link that shows a value. */
static void wrapped(msh_buf *b, const char *before, const char *s, const char *after)
{
    msh_buf_append(b, before, strlen(before));
    text(b, s);
    msh_buf_append(b, after, strlen(after));
}

/* The start of a link to one collection, `<a href="BASE/collections/NAME`; the caller ends it. */
static void collection_href(msh_buf *b, const ogc_ctx *c, const char *name)
{
    wrapped(b, "<a href=\"", c->base, "/collections/");
    text(b, name);
}

void ogc_html_open(msh_buf *b, const char *title, const char *json_href)
{
    msh_buf_printf(b, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>");
    text(b, title);
    msh_buf_printf(b, " - Mashaer OGC API</title>"
                      "<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
                      "td,th{border:1px solid #ccc;padding:2px 6px;text-align:start;vertical-align:top}"
                      "code{font-size:90%%}</style>");
    if (json_href)
        wrapped(b, "<link rel=\"alternate\" type=\"application/json\" href=\"", json_href, "\">");
    msh_buf_printf(b, "</head><body>");
    if (json_href)
        wrapped(b, "<p><a href=\"", json_href, "\">JSON</a></p>");
}

void ogc_html_close(msh_buf *b)
{
    msh_buf_printf(b, "</body></html>\n");
}

void ogc_html_landing(const ogc_ctx *c, msh_buf *b)
{
    char h[400];
    snprintf(h, sizeof h, "%s?f=json", c->base);
    ogc_html_open(b, "Mashaer", h);
    msh_buf_printf(b, "<h1>Mashaer</h1><p>Site layers and live operations of the holy sites "
                      "(OGC API - Features).</p><ul>");
    wrapped(b, "<li><a href=\"", c->base, "/collections?f=html\">Collections</a></li>");
    wrapped(b, "<li><a href=\"", c->base, "/conformance?f=html\">Conformance</a></li>");
    wrapped(b, "<li><a href=\"", c->base, "/api\">API definition (OpenAPI 3.0)</a></li></ul>");
    ogc_html_close(b);
}

static void collection_row(const ogc_ctx *c, const msh_layer *l, msh_buf *b)
{
    const msh_layer_info *li = &l->info;
    msh_buf_printf(b, "<tr><td dir=\"auto\">");
    collection_href(b, c, li->name);
    wrapped(b, "?f=html\">", li->name, "</a>");
    if (li->title) /* the source's own name (any script) */
        wrapped(b, " <span dir=\"auto\">", li->title, "</span>");
    msh_buf_printf(b, "</td>");
    wrapped(b, "<td>", li->kind, "</td>");
    wrapped(b, "<td>", li->geometry_type, "</td>");
    msh_buf_printf(b, "<td>%llu</td><td>", (unsigned long long)li->feature_count);
    collection_href(b, c, li->name);
    msh_buf_printf(b, "/items?f=html\">items</a></td></tr>");
}

void ogc_html_collections(const ogc_ctx *c, msh_buf *b)
{
    char h[400];
    snprintf(h, sizeof h, "%s/collections?f=json", c->base);
    ogc_html_open(b, "Collections", h);
    msh_buf_printf(b, "<h1>Collections</h1><table><tr><th>id</th><th>kind</th><th>geometry</th><th>features</th>"
                      "<th></th></tr>");
    for (size_t i = 0; i < msh_catalog_count(c->cat); i++) {
        const msh_layer *l = msh_catalog_at(c->cat, i);
        if (ogc_visible(c, l))
            collection_row(c, l, b);
    }
    msh_buf_printf(b, "</table>");
    ogc_html_close(b);
}

/* The layer's properties and their types; the geometry first for queryables. */
static void properties_table(msh_buf *b, const msh_layer_info *li, bool geometry)
{
    msh_buf_printf(b, "<table><tr><th>property</th><th>type</th></tr>");
    if (geometry)
        msh_buf_printf(b, "<tr><td>geometry</td><td>geometry (S_INTERSECTS)</td></tr>");
    for (uint32_t i = 0; i < li->nfields; i++) {
        wrapped(b, "<tr><td dir=\"auto\">", li->fields[i].name, "</td>");
        msh_buf_printf(b, "<td>%s</td></tr>", msh_ftype_name(li->fields[i].type));
    }
    msh_buf_printf(b, "</table>");
}

void ogc_html_collection(const ogc_ctx *c, const msh_layer *l, msh_buf *b)
{
    const msh_layer_info *li = &l->info;
    char h[600];
    snprintf(h, sizeof h, "%s/collections/%s?f=json", c->base, li->name);
    ogc_html_open(b, li->name, h);
    wrapped(b, "<h1 dir=\"auto\">", li->title ? li->title : li->name, "</h1>");
    msh_buf_printf(b, "<table><tr><th>id</th><th>kind</th><th>geometry</th><th>features</th><th></th></tr>");
    collection_row(c, l, b);
    msh_buf_printf(b, "</table><p>Bounds (lon/lat): %.7f, %.7f, %.7f, %.7f</p><h2>Properties</h2>",
                   li->bounds[0], li->bounds[1], li->bounds[2], li->bounds[3]);
    properties_table(b, li, false);
    int tf = ogc_time_field(l);
    if (tf >= 0)
        wrapped(b, "<p>datetime filters on <code>", li->fields[tf].name, "</code>.</p>");
    ogc_html_close(b);
}

void ogc_html_items_head(const ogc_ctx *c, const msh_layer *l, msh_buf *b)
{
    const msh_layer_info *li = &l->info;
    char h[600];
    snprintf(h, sizeof h, "%s/collections/%s/items?f=json", c->base, li->name);
    ogc_html_open(b, li->name, h);
    msh_buf_printf(b, "<h1 dir=\"auto\">");
    collection_href(b, c, li->name);
    wrapped(b, "?f=html\">", li->name, "</a></h1>");
    msh_buf_printf(b, "<table><tr><th>id</th><th>geometry</th><th>lon, lat</th>");
    for (uint32_t i = 0; i < li->nfields; i++)
        wrapped(b, "<th dir=\"auto\">", li->fields[i].name, "</th>");
    msh_buf_printf(b, "</tr>\n");
}

void ogc_html_feature_row(const ogc_ctx *c, const msh_layer *l, const msh_feature *f, msh_buf *b)
{
    const msh_layer_info *li = &l->info;
    double lon = 0, lat = 0;
    if (f->geom.npts)
        msh_world_to_lonlat(f->geom.xy[0], f->geom.xy[1], &lon, &lat);
    msh_buf_printf(b, "<tr><td>");
    collection_href(b, c, li->name);
    msh_buf_printf(b, "/items/%llu?f=html\">%llu</a></td><td>%s</td><td>%.7f, %.7f</td>", (unsigned long long)f->id,
                   (unsigned long long)f->id, msh_gtype_name(f->geom.type), lon, lat);
    for (uint32_t i = 0; i < li->nfields; i++) {
        const msh_value *v = f->values ? &f->values[i] : NULL;
        msh_buf_printf(b, "<td dir=\"auto\">");
        if (!v || !v->type) {
            /* null: an empty cell */
        } else if (v->type == MSH_FT_STRING) {
            ogc_html_str(b, v->u.s, v->len);
        } else {
            /* numbers and booleans: their JSON text has nothing to escape */
            ogc_json_value(b, v);
        }
        msh_buf_printf(b, "</td>");
    }
    msh_buf_printf(b, "</tr>\n");
}

void ogc_html_items_foot(const ogc_ctx *c, const msh_layer *l, uint64_t matched, uint32_t returned,
                         const char *next_href, msh_buf *b)
{
    (void)c;
    (void)l;
    msh_buf_printf(b, "</table><p>%u of %llu features.", returned, (unsigned long long)matched);
    if (next_href)
        wrapped(b, " <a rel=\"next\" href=\"", next_href, "\">Next page</a>");
    msh_buf_printf(b, "</p>");
    ogc_html_close(b);
}

void ogc_html_queryables(const ogc_ctx *c, const msh_layer *l, msh_buf *b)
{
    const msh_layer_info *li = &l->info;
    char h[600];
    snprintf(h, sizeof h, "%s/collections/%s/queryables?f=json", c->base, li->name);
    ogc_html_open(b, li->name, h);
    wrapped(b, "<h1 dir=\"auto\">", li->name, ": queryables</h1>");
    properties_table(b, li, true);
    ogc_html_close(b);
}

void ogc_html_api(const ogc_ctx *c, msh_buf *b)
{
    char h[400];
    snprintf(h, sizeof h, "%s/api?f=json", c->base);
    ogc_html_open(b, "API", h);
    msh_buf_printf(b, "<h1>Mashaer OGC API - Features</h1><p>The OpenAPI 3.0 definition is the JSON link above. "
                      "Every path answers <code>f=json</code> or <code>f=html</code>.</p><table>"
                      "<tr><th>path</th><th>answers</th></tr>"
                      "<tr><td><code>/</code></td><td>landing page</td></tr>"
                      "<tr><td><code>/conformance</code></td><td>conformance classes</td></tr>"
                      "<tr><td><code>/collections</code></td><td>the collections</td></tr>"
                      "<tr><td><code>/collections/{id}</code></td><td>one collection</td></tr>"
                      "<tr><td><code>/collections/{id}/queryables</code></td><td>properties a filter may use"
                      "</td></tr><tr><td><code>/collections/{id}/items</code></td><td>features: "
                      "<code>limit</code> (1 to 10000, default 10), <code>bbox</code>, <code>datetime</code>, "
                      "<code>filter</code> (CQL2 text), <code>PROPERTY=value</code>, <code>cursor</code> (from "
                      "<code>next</code> links)</td></tr>"
                      "<tr><td><code>/collections/{id}/items/{featureId}</code></td><td>one feature</td></tr>"
                      "</table>");
    ogc_html_close(b);
}
