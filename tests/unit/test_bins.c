/* test_bins.c: the bins feed (FIWARE WasteContainer): its records, NGSI v2 and NGSI-LD bodies
 * (live/ngsi.h), an untyped body's format told by its shape (live/feed_sniff.h, as for MQTT), the
 * overflow rule with its hysteresis as records are applied (live/bins.h), the overflow state kept
 * by a snapshot, and stale bins (live/live_timers.h). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "live/bins.h"
#include "live/feed_sniff.h"
#include "live/ingest.h"
#include "live/live.h"
#include "live/live_timers.h"
#include "live/snapshot.h"

#define NOW 1779782400000LL /* 2026-05-26T08:00:00Z */

/* Parse a body for the bins feed; recs gets the good records. */
static void parse(const char *body, bool json, msh_buf *recs, msh_ingest_result *res)
{
    msh_buf_init(recs, (size_t)1 << 24);
    msh_ingest_result_init(res);
    msh_err err;
    CHECK(msh_feed_parse_body(MSH_FEED_BINS, body, strlen(body), json, NOW, recs, res, &err) == MSH_OK);
}

static const msh_feed_rec *rec(const msh_buf *b, size_t i)
{
    return (const msh_feed_rec *)(const void *)b->data + i;
}

static void test_records(void)
{
    msh_buf recs;
    msh_ingest_result res;
    parse("{\"id\":\"B-1\",\"fillingLevel\":0.85,\"temperature\":41.5,\"time\":\"2026-05-26T07:59:00Z\","
          "\"location\":{\"type\":\"Point\",\"coordinates\":[39.8925,21.4131]}}\n"
          "{\"id\":\"B-2\",\"fill_level\":0.2,\"lon\":39.89,\"lat\":21.41,\"time\":1779782340000}\n"
          "{\"id\":\"B-3\",\"lon\":39.89,\"lat\":21.41,\"time\":1779782340000}\n"
          "{\"id\":\"B-4\",\"fillingLevel\":1.2,\"lon\":39.89,\"lat\":21.41,\"time\":1779782340000}\n",
          false, &recs, &res);
    CHECK(res.accepted == 2 && res.rejected == 2);
    CHECK(!strcmp(rec(&recs, 0)->id, "B-1") && (rec(&recs, 0)->has & MSH_FR_FILL) && (rec(&recs, 0)->has & MSH_FR_TEMP));
    CHECK_NEAR(rec(&recs, 0)->fill, 0.85, 1e-6);
    CHECK_NEAR(rec(&recs, 0)->temperature, 41.5, 1e-6);
    CHECK_NEAR(rec(&recs, 0)->lon, 39.8925, 1e-9);
    CHECK_NEAR(rec(&recs, 1)->fill, 0.2, 1e-6);
    CHECK(!(rec(&recs, 1)->has & MSH_FR_TEMP));
    CHECK(strstr((const char *)res.rejections.data, "\"line\":3,\"reason\":\"missing 'fillingLevel' (0..1)\""));
    CHECK(strstr((const char *)res.rejections.data, "\"line\":4,\"reason\":\"'fillingLevel' = 1.2 is outside 0..1\""));
    /* the compact form round-trips the fill level */
    msh_buf enc;
    msh_buf_init(&enc, 1 << 20);
    CHECK(msh_feed_encode(rec(&recs, 0), 2, &enc) == MSH_OK);
    const uint8_t *p = enc.data, *end = enc.data + enc.len;
    msh_feed_rec a, b;
    CHECK(msh_feed_decode(&p, end, &a) && msh_feed_decode(&p, end, &b) && p == end);
    CHECK(a.fill == rec(&recs, 0)->fill && a.temperature == rec(&recs, 0)->temperature && b.fill == rec(&recs, 1)->fill);
    msh_buf_free(&enc);
    msh_buf_free(&recs);
    msh_ingest_result_free(&res);
}

static void test_ngsi(void)
{
    msh_buf recs;
    msh_ingest_result res;
    /* NGSI v2, normalized: attributes wrapped, the time from TimeInstant metadata */
    parse("{\"id\":\"urn:ngsi:WasteContainer:B-10\",\"type\":\"WasteContainer\","
          "\"fillingLevel\":{\"type\":\"Number\",\"value\":0.91,\"metadata\":{\"TimeInstant\":{\"type\":\"DateTime\","
          "\"value\":\"2026-05-26T07:58:00Z\"}}},"
          "\"temperature\":{\"type\":\"Number\",\"value\":38},"
          "\"location\":{\"type\":\"geo:json\",\"value\":{\"type\":\"Point\",\"coordinates\":[39.87,21.42]}}}",
          true, &recs, &res);
    CHECK(res.accepted == 1 && res.rejected == 0);
    CHECK(res.accepted == 1 && !strcmp(rec(&recs, 0)->id, "urn:ngsi:WasteContainer:B-10"));
    CHECK(res.accepted == 1 && rec(&recs, 0)->t_ms == NOW - 120000);
    CHECK(res.accepted == 1 && fabs(rec(&recs, 0)->fill - 0.91) < 1e-6 && rec(&recs, 0)->temperature == 38);
    CHECK(res.accepted == 1 && fabs(rec(&recs, 0)->lat - 21.42) < 1e-9);
    msh_buf_free(&recs);
    msh_ingest_result_free(&res);
    /* NGSI-LD batch upsert: an array; Property, GeoProperty, observedAt, a typed DateTime literal,
     * a Relationship dropped; the second entity's fill is not a number; the third is no object */
    parse("[{\"id\":\"urn:ngsi-ld:WasteContainer:B-11\",\"type\":\"WasteContainer\",\"@context\":\"x\","
          "\"fillingLevel\":{\"type\":\"Property\",\"value\":0.5,\"observedAt\":\"2026-05-26T07:57:00Z\"},"
          "\"refDevice\":{\"type\":\"Relationship\",\"object\":\"urn:ngsi-ld:Device:1\"},"
          "\"location\":{\"type\":\"GeoProperty\",\"value\":{\"type\":\"Point\",\"coordinates\":[39.88,21.41]}}},"
          "{\"id\":\"urn:ngsi-ld:WasteContainer:B-12\",\"type\":\"WasteContainer\","
          "\"fillingLevel\":{\"type\":\"Property\",\"value\":\"full\"},"
          "\"dateObserved\":{\"type\":\"Property\",\"value\":{\"@type\":\"DateTime\",\"@value\":\"2026-05-26T07:57:00Z\"}},"
          "\"location\":{\"type\":\"GeoProperty\",\"value\":{\"type\":\"Point\",\"coordinates\":[39.88,21.41]}}},"
          "7]",
          true, &recs, &res);
    CHECK(res.accepted == 1 && res.rejected == 2);
    CHECK(res.accepted == 1 && rec(&recs, 0)->t_ms == NOW - 180000 && fabs(rec(&recs, 0)->fill - 0.5) < 1e-6);
    CHECK(strstr((const char *)res.rejections.data, "\"line\":2,\"reason\":\"'fillingLevel' must be a number\""));
    CHECK(strstr((const char *)res.rejections.data, "\"line\":3,\"reason\":\"an NGSI entity must be a JSON object\""));
    msh_buf_free(&recs);
    msh_ingest_result_free(&res);
    /* NGSI v2 batch update (keyValues) and a subscription's notification */
    parse("{\"actionType\":\"append\",\"entities\":[{\"id\":\"B-13\",\"type\":\"WasteContainer\",\"fillingLevel\":0.3,"
          "\"dateObserved\":\"2026-05-26T07:59:00Z\",\"location\":{\"type\":\"Point\",\"coordinates\":[39.88,21.41]}},"
          "{\"id\":\"B-14\",\"type\":\"WasteContainer\",\"fillingLevel\":0.4,\"dateObserved\":\"2026-05-26T07:59:00Z\","
          "\"location\":{\"type\":\"Point\",\"coordinates\":[39.88,21.41]}}]}",
          true, &recs, &res);
    CHECK(res.accepted == 2 && res.rejected == 0);
    CHECK(res.accepted == 2 && !strcmp(rec(&recs, 1)->id, "B-14") && fabs(rec(&recs, 1)->fill - 0.4) < 1e-6);
    msh_buf_free(&recs);
    msh_ingest_result_free(&res);
    parse("{\"subscriptionId\":\"s1\",\"data\":[{\"id\":\"B-15\",\"type\":\"WasteContainer\",\"fillingLevel\":"
          "{\"value\":0.6,\"type\":\"Number\"},\"dateObserved\":{\"value\":\"2026-05-26T07:59:00Z\"},"
          "\"location\":{\"value\":{\"type\":\"Point\",\"coordinates\":[39.88,21.41]},\"type\":\"geo:json\"}}]}",
          true, &recs, &res);
    CHECK(res.accepted == 1 && res.rejected == 0);
    msh_buf_free(&recs);
    msh_ingest_result_free(&res);
    /* a JSON document that is neither a FeatureCollection nor NGSI is refused whole */
    msh_buf_init(&recs, 1 << 20);
    msh_ingest_result_init(&res);
    msh_err err;
    static const char *const bad[] = {"{\"hello\":1}", "[]", "{\"id\":\"B-1\"}"}; /* not an entity without type */
    for (int i = 0; i < 3; i++) {
        CHECK(msh_feed_parse_body(MSH_FEED_BINS, bad[i], strlen(bad[i]), true, NOW, &recs, &res, &err) == MSH_EFORMAT);
        CHECK(strstr(err.msg, "nor NGSI entities") != NULL);
    }
    msh_buf_free(&recs);
    msh_ingest_result_free(&res);
}

static int find_item(void *ud, const msh_live_item *it)
{
    msh_live_item *out = ud;
    if (!strcmp(it->rec.id, out->rec.id))
        *out = *it;
    return 0;
}

static msh_live_item item(msh_live *l, const char *id)
{
    msh_live_item it;
    memset(&it, 0, sizeof it);
    snprintf(it.rec.id, sizeof it.rec.id, "%s", id);
    msh_live_rdlock(l);
    msh_live_items(l, MSH_FEED_BINS, find_item, &it);
    msh_live_unlock(l);
    return it;
}

static int changes[3];
static void observe(void *ud, msh_feed feed, const msh_live_item *it, const msh_feed_rec *prev)
{
    (void)ud;
    (void)prev;
    if (feed == MSH_FEED_BINS)
        changes[it->overflow_change + 1]++;
}

/* Apply one reading of bin `id` at second `s`. */
static void reading(msh_live *l, const char *id, double fill, int s)
{
    msh_feed_rec r;
    memset(&r, 0, sizeof r);
    snprintf(r.id, sizeof r.id, "%s", id);
    r.id_len = (uint8_t)strlen(id);
    r.has = MSH_FR_LOC | MSH_FR_FILL;
    r.lon = 39.88;
    r.lat = 21.41;
    r.fill = (float)fill;
    r.t_ms = NOW + s * 1000LL;
    msh_live_wrlock(l);
    msh_live_apply(l, MSH_FEED_BINS, &r, 1, r.t_ms);
    msh_live_unlock(l);
}

static void test_overflow(void)
{
    CHECK(!msh_bin_overflowing(false, 0.79, 0.8) && msh_bin_overflowing(false, 0.8, 0.8));
    CHECK(msh_bin_overflowing(true, 0.65, 0.8) && !msh_bin_overflowing(true, 0.63, 0.8)); /* clears below 0.64 */
    msh_live_config c;
    msh_live_config_init(&c);
    CHECK(c.bin_overflow == MSH_BIN_OVERFLOW_DEFAULT);
    c.bin_overflow = 0.8;
    msh_live *l;
    msh_err err;
    CHECK(msh_live_new(&c, &l, &err) == MSH_OK);
    msh_live_set_observer(l, observe, NULL);
    /* a noisy sensor around the line raises once; only a bin emptied below 0.64 clears */
    static const double fills[] = {0.5, 0.79, 0.81, 0.79, 0.82, 0.7, 0.65, 0.3, 0.79, 0.8};
    static const int over[] = {0, 0, 1, 1, 1, 1, 1, 0, 0, 1};
    static const int change[] = {0, 0, 1, 0, 0, 0, 0, -1, 0, 1};
    for (int i = 0; i < 10; i++) {
        reading(l, "B-1", fills[i], i);
        msh_live_item it = item(l, "B-1");
        CHECK(((it.ops_flags & MSH_ITEM_OVERFLOW) != 0) == over[i]);
        CHECK(it.overflow_change == change[i]);
    }
    CHECK(changes[2] == 2 && changes[0] == 1 && changes[1] == 7);
    /* an older reading changes nothing */
    reading(l, "B-1", 0.1, 5);
    CHECK(item(l, "B-1").ops_flags & MSH_ITEM_OVERFLOW);
    reading(l, "B-2", 0.2, 0);
    /* the snapshot keeps the bins and their state; a state without bins is written as before */
    msh_buf s;
    msh_buf_init(&s, (size_t)1 << 24);
    CHECK(msh_live_snapshot(l, 42, &s, &err) == MSH_OK);
    CHECK(s.len > 60 && s.data[56] == 2); /* the bins' count, in the field that was reserved */
    msh_live *back;
    CHECK(msh_live_new(&c, &back, &err) == MSH_OK);
    uint64_t lsn = 0;
    CHECK(msh_live_restore(back, s.data, s.len, &lsn, &err) == MSH_OK && lsn == 42);
    msh_live_item b1 = item(back, "B-1"), b2 = item(back, "B-2");
    CHECK((b1.ops_flags & MSH_ITEM_OVERFLOW) && fabs(b1.rec.fill - 0.8) < 1e-6 && b1.updates == 10);
    CHECK(!(b2.ops_flags & MSH_ITEM_OVERFLOW) && b2.rec.id_len == 3);
    msh_live_stats st;
    msh_live_get_stats(back, &st);
    CHECK(st.items[MSH_FEED_BINS] == 2);
    msh_buf_free(&s);
    msh_live_free(back);
    msh_live_free(l);
}

/* An untyped body (MQTT): NDJSON or one document, by its shape. */
static void test_sniff(void)
{
    static const struct {
        const char *body;
        bool doc;
    } cases[] = {
        {"", false},
        {"  \n", false},
        {"{\"id\":\"B-1\",\"fillingLevel\":0.5}\n{\"id\":\"B-2\",\"fillingLevel\":0.6}\n", false}, /* NDJSON */
        {"{\"id\":\"B-1\",\"fillingLevel\":0.5}", false},              /* one record without a type */
        {"{\"id\":\"B-1\",\"type\":\"WasteContainer\",\"fillingLevel\":0.5}", true}, /* flat: reads the same */
        {"\n{\n  \"subscriptionId\": \"s\",\n  \"data\": [\n    {\"id\": \"B-1\", \"type\": \"W\"}\n  ]\n}\n", true},
        {"{\"actionType\":\"append\",\"entities\":[]}", true},         /* NGSI v2 batch */
        {"[{\"id\":\"B-1\",\"type\":\"W\"}]", true},                      /* NGSI-LD batch */
        {" [{\"id\":\"B-1\",\"ty", true},                                /* cut short: a document, refused whole */
        {"{\n  \"subscriptionId\": \"s\",\n  \"data\": [\n", true},      /* pretty-printed, cut short: refused whole */
        {"{\"id\":\"B-1\",\"fi\n{\"id\":\"B-2\"}\n", true},                 /* first record broken: refused whole */
        {"{\"id\":\"B-1\",\"fi", false},                                 /* one line: one bad record */
        {"{\"id\":\"B-1\",\"fi\n  \n", false},
        {"{\"type\":\"FeatureCollection\",\"features\":7}", true},
        {"{\"type\":\"FeatureCollection\",\"features\":[", true},       /* named early: a document */
        {"\"FeatureCollection\"", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(msh_feed_body_is_document(cases[i].body, strlen(cases[i].body)) == cases[i].doc);
    /* a pretty-printed notification read as the document it is: both entities */
    const char *note = "{\n \"subscriptionId\": \"s\",\n \"data\": [\n"
                       "  {\"id\": \"B-1\", \"type\": \"WasteContainer\", \"dateObserved\": \"2026-05-26T07:59:00Z\",\n"
                       "   \"fillingLevel\": {\"type\": \"Number\", \"value\": 0.9},\n"
                       "   \"location\": {\"type\": \"geo:json\", \"value\": {\"type\": \"Point\", \"coordinates\": [39.88, 21.41]}}},\n"
                       "  {\"id\": \"B-2\", \"type\": \"WasteContainer\", \"dateObserved\": \"2026-05-26T07:59:00Z\",\n"
                       "   \"fillingLevel\": {\"type\": \"Number\", \"value\": 0.1},\n"
                       "   \"location\": {\"type\": \"geo:json\", \"value\": {\"type\": \"Point\", \"coordinates\": [39.89, 21.41]}}}\n"
                       " ]\n}\n";
    msh_buf recs;
    msh_ingest_result res;
    parse(note, msh_feed_body_is_document(note, strlen(note)), &recs, &res);
    CHECK(res.accepted == 2 && res.rejected == 0 && fabsf(rec(&recs, 0)->fill - 0.9f) < 1e-6f);
    msh_buf_free(&recs);
    msh_ingest_result_free(&res);
}

/* A bin silent for bin_stale_s is stale: its overflow state is left as it was; its next reading ends it. */
static void test_stale(void)
{
    msh_live_config c;
    msh_live_config_init(&c);
    msh_live *l;
    msh_err err;
    CHECK(msh_live_new(&c, &l, &err) == MSH_OK);
    msh_live_set_observer(l, observe, NULL);
    msh_timers_cfg tc;
    msh_timers_cfg_init(&tc);
    CHECK(tc.bin_stale_s == 1800); /* --bin-stale-min 30 */
    reading(l, "B-1", 0.2, 0);
    reading(l, "B-2", 0.9, 60); /* overflowing */
    msh_timers_result res;
    msh_timers_tick(l, &tc, NOW + 1800000 - 1, NULL, NULL, &res);
    CHECK(res.stale == 0 && !(item(l, "B-1").ops_flags & MSH_ITEM_STALE));
    msh_timers_tick(l, &tc, NOW + 1800000, NULL, NULL, &res);
    CHECK(res.stale == 1 && (item(l, "B-1").ops_flags & MSH_ITEM_STALE) && !(item(l, "B-2").ops_flags & MSH_ITEM_STALE));
    memset(changes, 0, sizeof changes);
    msh_timers_tick(l, &tc, NOW + 1860000, NULL, NULL, &res);
    msh_live_item b2 = item(l, "B-2");
    CHECK(res.stale == 1 && (b2.ops_flags & MSH_ITEM_STALE) && (b2.ops_flags & MSH_ITEM_OVERFLOW)); /* left as it was */
    CHECK(changes[0] == 0 && changes[2] == 0); /* going stale raises and clears nothing */
    msh_timers_tick(l, &tc, NOW + 1900000, NULL, NULL, &res);
    CHECK(res.stale == 0); /* once */
    reading(l, "B-2", 0.1, 1900); /* emptied: heard from again, and cleared */
    b2 = item(l, "B-2");
    CHECK(!(b2.ops_flags & MSH_ITEM_STALE) && !(b2.ops_flags & MSH_ITEM_OVERFLOW) && b2.overflow_change == -1);
    CHECK(item(l, "B-1").ops_flags & MSH_ITEM_STALE);
    /* the snapshot keeps the flag */
    msh_buf s;
    msh_buf_init(&s, (size_t)1 << 24);
    CHECK(msh_live_snapshot(l, 7, &s, &err) == MSH_OK);
    msh_live *back;
    CHECK(msh_live_new(&c, &back, &err) == MSH_OK);
    uint64_t lsn = 0;
    CHECK(msh_live_restore(back, s.data, s.len, &lsn, &err) == MSH_OK);
    CHECK((item(back, "B-1").ops_flags & MSH_ITEM_STALE) && !(item(back, "B-2").ops_flags & MSH_ITEM_STALE));
    msh_buf_free(&s);
    msh_live_free(back);
    msh_live_free(l);
}

int main(void)
{
    test_records();
    test_ngsi();
    test_sniff();
    test_overflow();
    test_stale();
    CHECK_DONE();
}
