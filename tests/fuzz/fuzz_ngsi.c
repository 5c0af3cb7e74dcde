/* fuzz_ngsi.c: FIWARE NGSI v2 and NGSI-LD bodies (live/ngsi.h) as the bins feed reads them. Any bytes
 * parsed as JSON; when they are an NGSI body, every entity is flattened once, in order, into one
 * flat JSON object without `type` or `@context`, and the ingest parser accounts for each entity
 * exactly once (accepted or rejected), every accepted record a bin with a fill level in 0..1. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "live/ingest.h"
#include "live/ngsi.h"

#define NOW 1779782400000LL

typedef struct {
    uint64_t n;
} count;

static void on_entity(void *ud, uint64_t index, const char *obj, const char *why)
{
    count *c = ud;
    if (index != ++c->n || (!obj && !why))
        abort();
    if (!obj)
        return;
    json_error_t je;
    json_t *o = json_loads(obj, 0, &je);
    if (!json_is_object(o) || json_object_get(o, "type") || json_object_get(o, "@context"))
        abort();
    json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
    if (!doc)
        return 0;
    bool ngsi = msh_ngsi_is_body(doc);
    count c = {0};
    msh_ngsi_each(doc, on_entity, &c);
    json_decref(doc);
    if (!ngsi && c.n)
        abort();
    msh_buf recs;
    msh_buf_init(&recs, (size_t)1 << 28);
    msh_ingest_result res;
    msh_ingest_result_init(&res);
    msh_err err;
    msh_rc rc = msh_feed_parse_body(MSH_FEED_BINS, (const char *)data, size, true, NOW, &recs, &res, &err);
    if (ngsi && (rc != MSH_OK || res.accepted + res.rejected != c.n))
        abort();
    const msh_feed_rec *r = (const msh_feed_rec *)(const void *)recs.data;
    for (size_t i = 0; i < recs.len / sizeof *r; i++)
        if (!(r[i].has & MSH_FR_FILL) || !(r[i].fill >= 0 && r[i].fill <= 1) || !r[i].id_len)
            abort();
    msh_ingest_result_free(&res);
    msh_buf_free(&recs);
    return 0;
}
