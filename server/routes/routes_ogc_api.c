/* routes_ogc_api.c: GET /ogc/api, the OpenAPI 3.0 definition of the /ogc endpoints.
 *
 * Parameters are written inline (no $ref), so a client reading `limit`'s maximum or the
 * collection ids needs no reference resolver. The collectionId enum lists what the caller sees.
 */
#include <stdio.h>
#include <string.h>

#include "routes/ogc.h"
#include "query/qs.h"

/* Part 4 (routes_ogc_write.c): the writes on the items path and on the one-feature path. */
static const char CREATE_OP[] =
    ",\"post\":{\"operationId\":\"createFeature\",\"summary\":\"Add a feature (a bearer token the collection's "
    "access rules allow; the server assigns the id)\",\"requestBody\":{\"required\":true,\"content\":{"
    "\"application/geo+json\":{\"schema\":{\"type\":\"object\"}}}},\"responses\":{\"201\":{\"description\":"
    "\"created: Location and ETag name it\"},\"400\":{\"description\":\"the feature does not fit the collection\"},"
    "\"401\":{\"description\":\"no token\"},\"403\":{\"description\":\"not for this token\"}}}";
static const char ITEM_OPS[] =
    ",\"put\":{\"operationId\":\"replaceFeature\",\"summary\":\"Replace a feature (If-Match: its ETag)\","
    "\"requestBody\":{\"required\":true,\"content\":{\"application/geo+json\":{\"schema\":{\"type\":\"object\"}}}},"
    "\"responses\":{\"200\":{\"description\":\"replaced; the new ETag\"},\"412\":{\"description\":\"If-Match is "
    "stale: the body holds the current feature\"},\"428\":{\"description\":\"If-Match is required here\"}}},"
    "\"patch\":{\"operationId\":\"updateFeature\",\"summary\":\"Update a feature with a JSON merge patch (RFC 7396)\","
    "\"requestBody\":{\"required\":true,\"content\":{\"application/merge-patch+json\":{\"schema\":{\"type\":"
    "\"object\"}}}},\"responses\":{\"200\":{\"description\":\"updated; the new ETag\"},\"412\":{\"description\":"
    "\"If-Match is stale\"}}},"
    "\"delete\":{\"operationId\":\"deleteFeature\",\"summary\":\"Delete a feature (If-Match: its ETag)\","
    "\"responses\":{\"204\":{\"description\":\"deleted\"},\"412\":{\"description\":\"If-Match is stale\"}}}";

static void op_with(msh_buf *b, const char *path, const char *id, const char *summary, const char *params,
                    const char *ctype, bool first, const char *more)
{
    msh_buf_printf(b,
                   "%s\"%s\":{\"get\":{\"operationId\":\"%s\",\"summary\":\"%s\",\"parameters\":[%s],"
                   "\"responses\":{\"200\":{\"description\":\"%s\",\"content\":{\"%s\":{\"schema\":{\"type\":"
                   "\"object\"}},\"text/html\":{\"schema\":{\"type\":\"string\"}}}},"
                   "\"400\":{\"description\":\"a bad parameter; the message says which and why\"},"
                   "\"404\":{\"description\":\"no such collection or feature\"}}}%s}",
                   first ? "" : ",", path, id, summary, params, summary, ctype, more);
}

static void op(msh_buf *b, const char *path, const char *id, const char *summary, const char *params,
               const char *ctype, bool first)
{
    op_with(b, path, id, summary, params, ctype, first, "");
}

void ogc_route_api(const ogc_ctx *c)
{
    msh_buf b, coll, items;
    msh_buf_init(&b, MSH_MAX_BODY);
    msh_buf_init(&coll, 1 << 20);
    msh_buf_init(&items, 1 << 20);
    const char *fparam = "{\"name\":\"f\",\"in\":\"query\",\"required\":false,\"schema\":{\"type\":\"string\","
                         "\"enum\":[\"json\",\"html\"]}}";
    /* the collectionId parameter, with the visible collections */
    msh_buf_printf(&coll, "{\"name\":\"collectionId\",\"in\":\"path\",\"required\":true,\"schema\":{\"type\":"
                          "\"string\",\"enum\":[");
    bool first = true;
    for (size_t i = 0; i < msh_catalog_count(c->cat); i++) {
        const msh_layer *l = msh_catalog_at(c->cat, i);
        if (!ogc_visible(c, l))
            continue;
        msh_buf_printf(&coll, "%s\"%s\"", first ? "" : ",", l->info.name);
        first = false;
    }
    msh_buf_printf(&coll, "]}},%s", fparam);
    msh_buf_putc(&coll, 0);
    /* Part 2: crs (items and an item) and bbox-crs, each naming one of the CRSs served */
    char crs_enum[600];
    size_t ce = 0;
    for (int i = 0; i < MSH_CRS_COUNT; i++)
        ce += (size_t)snprintf(crs_enum + ce, sizeof crs_enum - ce, "%s\"%s\"", i ? "," : "", msh_crs_uri((msh_crs)i));
    msh_buf crsp;
    msh_buf_init(&crsp, 1 << 16);
    msh_buf_printf(&crsp, "{\"name\":\"crs\",\"in\":\"query\",\"required\":false,\"schema\":{\"type\":\"string\","
                          "\"format\":\"uri\",\"enum\":[%s],\"default\":\"%s\"}}",
                   crs_enum, msh_crs_uri(MSH_CRS_CRS84));
    msh_buf_putc(&crsp, 0);
    msh_buf common;
    msh_buf_init(&common, 1 << 20);
    msh_buf_printf(&common,
                   "{\"name\":\"limit\",\"in\":\"query\",\"required\":false,\"style\":\"form\",\"explode\":false,"
                   "\"schema\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":%d,\"default\":%d}},"
                   "{\"name\":\"bbox\",\"in\":\"query\",\"required\":false,\"style\":\"form\",\"explode\":false,"
                   "\"schema\":{\"type\":\"array\",\"minItems\":4,\"maxItems\":6,\"items\":{\"type\":\"number\"}}},"
                   "{\"name\":\"datetime\",\"in\":\"query\",\"required\":false,\"style\":\"form\",\"explode\":false,"
                   "\"schema\":{\"type\":\"string\"}},"
                   "{\"name\":\"filter\",\"in\":\"query\",\"required\":false,\"schema\":{\"type\":\"string\"}},"
                   "{\"name\":\"filter-lang\",\"in\":\"query\",\"required\":false,\"schema\":{\"type\":\"string\","
                   "\"enum\":[\"cql2-text\"],\"default\":\"cql2-text\"}},"
                   "{\"name\":\"cursor\",\"in\":\"query\",\"required\":false,\"schema\":{\"type\":\"string\"}},"
                   "{\"name\":\"bbox-crs\",\"in\":\"query\",\"required\":false,\"schema\":{\"type\":\"string\","
                   "\"format\":\"uri\",\"enum\":[%s],\"default\":\"%s\"}},%s",
                   MSH_QS_LIMIT_MAX, MSH_QS_LIMIT_DEFAULT, crs_enum, msh_crs_uri(MSH_CRS_CRS84),
                   (const char *)crsp.data);
    msh_buf_putc(&common, 0);
    msh_buf_printf(&items, "%s,%s", (const char *)coll.data, (const char *)common.data);
    msh_buf_putc(&items, 0);
    msh_buf_printf(&b,
                   "{\"openapi\":\"3.0.3\",\"info\":{\"title\":\"Mashaer OGC API - Features\",\"version\":\"1.0.0\","
                   "\"description\":\"Site layers and live operations of the holy sites\"},"
                   "\"servers\":[{\"url\":\"%s\"}],\"paths\":{",
                   c->base);
    op(&b, "/", "getLandingPage", "Landing page", fparam, "application/json", true);
    op(&b, "/conformance", "getConformanceDeclaration", "Conformance classes", fparam, "application/json", false);
    op(&b, "/api", "getAPI", "This API definition", fparam, "application/vnd.oai.openapi+json;version=3.0", false);
    op(&b, "/collections", "getCollections", "The collections", fparam, "application/json", false);
    op(&b, "/collections/{collectionId}", "describeCollection", "One collection", (const char *)coll.data,
       "application/json", false);
    op(&b, "/collections/{collectionId}/queryables", "getQueryables", "Properties a filter may use",
       (const char *)coll.data, "application/schema+json", false);
    op_with(&b, "/collections/{collectionId}/items", "getFeatures", "Features of a collection", (const char *)items.data,
            "application/geo+json", false, CREATE_OP);
    msh_buf_reset(&items); /* the one-feature path: collectionId, f and featureId */
    msh_buf_printf(&items, "%s,{\"name\":\"featureId\",\"in\":\"path\",\"required\":true,\"schema\":{\"type\":"
                           "\"integer\",\"minimum\":0}},%s",
                   (const char *)coll.data, (const char *)crsp.data);
    msh_buf_putc(&items, 0);
    op_with(&b, "/collections/{collectionId}/items/{featureId}", "getFeature", "One feature", (const char *)items.data,
            "application/geo+json", false, ITEM_OPS);
    /* one items path per collection, listing its properties as query parameters (equality filters) */
    for (size_t i = 0; i < msh_catalog_count(c->cat); i++) {
        const msh_layer *l = msh_catalog_at(c->cat, i);
        if (!ogc_visible(c, l))
            continue;
        static const char *const jtype[] = {"string", "integer", "number", "string", "boolean"};
        msh_buf_reset(&items);
        msh_buf_printf(&items, "%s,%s", fparam, (const char *)common.data);
        for (uint32_t k = 0; k < l->info.nfields; k++) {
            msh_buf_printf(&items, ",{\"name\":\"");
            ogc_json_str(&items, l->info.fields[k].name, strlen(l->info.fields[k].name));
            msh_buf_printf(&items, "\",\"in\":\"query\",\"required\":false,\"schema\":{\"type\":\"%s\"}}",
                           jtype[l->info.fields[k].type <= MSH_FT_BOOL ? l->info.fields[k].type : 0]);
        }
        msh_buf_putc(&items, 0);
        char path[128], opid[128];
        snprintf(path, sizeof path, "/collections/%s/items", l->info.name);
        snprintf(opid, sizeof opid, "getFeatures_%s", l->info.name);
        op(&b, path, opid, "Features of one collection", (const char *)items.data, "application/geo+json", false);
    }
    msh_buf_printf(&b, "}}\n");
    c->r->resp.cache_control = "no-cache";
    msh_resp_buf(c->r, 200, "application/vnd.oai.openapi+json;version=3.0", &b);
    msh_buf_free(&b);
    msh_buf_free(&coll);
    msh_buf_free(&items);
    msh_buf_free(&common);
    msh_buf_free(&crsp);
}
