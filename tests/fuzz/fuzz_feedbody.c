/* fuzz_feedbody.c: whole feed bodies, NDJSON and GeoJSON FeatureCollections, through the parser
 * the ingest path uses. The first byte picks the feed and the format; with the format bit clear
 * the body's shape decides, as for MQTT messages (live/feed_sniff.h). Every record it accepts must
 * carry an id and a time, and the counts must add up to the records it saw. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "live/feed_sniff.h"
#include "live/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    msh_feed feed = (msh_feed)((data[0] & 0x7f) % MSH_FEED_COUNT);
    bool geojson = (data[0] & 0x80) != 0 || msh_feed_body_is_document((const char *)data + 1, size - 1);
    msh_buf recs;
    msh_buf_init(&recs, (size_t)1 << 28);
    msh_ingest_result res;
    msh_ingest_result_init(&res);
    msh_err err;
    msh_rc rc = msh_feed_parse_body(feed, (const char *)data + 1, size - 1, geojson, 1779782400000LL, &recs, &res, &err);
    size_t n = recs.len / sizeof(msh_feed_rec);
    if (rc == MSH_OK && n != res.accepted)
        abort();
    const msh_feed_rec *r = (const msh_feed_rec *)(const void *)recs.data;
    for (size_t i = 0; i < n; i++)
        if (r[i].id_len == 0 || r[i].id_len > MSH_FEED_ID_MAX || r[i].t_ms > 1779782400000LL + 5 * 60 * 1000)
            abort();
    msh_buf b;
    msh_buf_init(&b, (size_t)4 << 20);
    msh_ingest_result_json(&res, &b); /* the answer document is always built */
    msh_buf_free(&b);
    msh_ingest_result_free(&res);
    msh_buf_free(&recs);
    return 0;
}
