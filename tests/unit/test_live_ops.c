/* test_live_ops.c: operators' writes on live items and the time rules, stepped by hand: the
 * lifecycle (every allowed step, every refused jump with what is allowed), a stale update count,
 * the log record round trip, the operators' state through a snapshot, escalation once, retention,
 * stale crews cleared by their next record and dropped; the author a record names (and an older
 * record, which names none, still read); a closed gate's planned reopening. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "live/live_ops.h"
#include "live/live_timers.h"
#include "live/snapshot.h"

#define T0 1779782400000LL

static void feed(msh_live *l, msh_feed f, const char *id, int severity, const char *status, int64_t t)
{
    msh_feed_rec r;
    memset(&r, 0, sizeof r);
    snprintf(r.id, sizeof r.id, "%s", id);
    r.id_len = (uint8_t)strlen(id);
    r.t_ms = t;
    r.lon = 39.88;
    r.lat = 21.41;
    r.has = MSH_FR_LOC;
    if (f == MSH_FEED_INCIDENTS) {
        r.has |= MSH_FR_KIND | MSH_FR_SEVERITY;
        r.severity = (uint8_t)severity;
        snprintf(r.kind, sizeof r.kind, "medical");
    } else if (status) {
        r.has |= MSH_FR_STATUS;
        snprintf(r.group, sizeof r.group, "%s", status);
    }
    msh_live_wrlock(l);
    msh_live_apply(l, f, &r, 1, t);
    msh_live_unlock(l);
}

static msh_live_item item(msh_live *l, msh_feed f, const char *id)
{
    msh_live_item it;
    memset(&it, 0, sizeof it);
    msh_live_rdlock(l);
    bool found = msh_ops_item(l, f, id, strlen(id), &it);
    msh_live_unlock(l);
    if (!found)
        it.rec.id_len = 0;
    return it;
}

/* Apply op at t through the log record form, as a replay would see it (the form must keep it whole). */
static msh_ops_verdict logged_apply(msh_live *l, const msh_ops_rec *op, int64_t t, msh_ops_why *why)
{
    msh_buf b;
    msh_buf_init(&b, 4096);
    msh_ops_rec back;
    CHECK(msh_ops_encode(op, &b) == MSH_OK && msh_ops_decode(b.data, b.len, &back));
    CHECK(back.set == op->set && back.reopens_ms == op->reopens_ms);
    msh_buf_free(&b);
    msh_live_wrlock(l);
    msh_ops_verdict v = msh_ops_apply(l, &back, t, why);
    msh_live_unlock(l);
    return v;
}

static msh_ops_verdict step(msh_live *l, const char *id, int status, const char *crew, const char *reason, int64_t t,
                            msh_ops_why *why)
{
    msh_ops_rec op;
    memset(&op, 0, sizeof op);
    op.feed = MSH_FEED_INCIDENTS;
    snprintf(op.id, sizeof op.id, "%s", id);
    op.id_len = (uint8_t)strlen(id);
    op.expect = item(l, MSH_FEED_INCIDENTS, id).updates;
    op.set = MSH_OPS_SET_STATUS | (crew ? MSH_OPS_SET_CREW : 0) | (reason ? MSH_OPS_SET_REASON : 0);
    op.status = (uint8_t)status;
    snprintf(op.crew, sizeof op.crew, "%s", crew ? crew : "");
    snprintf(op.reason, sizeof op.reason, "%s", reason ? reason : "");
    return logged_apply(l, &op, t, why);
}

static void test_lifecycle(msh_live *l)
{
    msh_ops_why why;
    feed(l, MSH_FEED_INCIDENTS, "I1", 3, NULL, T0);
    CHECK(step(l, "I1", MSH_INC_RESOLVED, NULL, NULL, T0 + 1, &why) == MSH_OPS_TRANSITION);
    CHECK(why.from == MSH_INC_REPORTED && why.to == MSH_INC_RESOLVED && why.nallowed == 2 &&
          why.allowed[0] == MSH_INC_DISPATCHED && why.allowed[1] == MSH_OPS_CANCELLED);
    CHECK(step(l, "I1", MSH_INC_DISPATCHED, NULL, NULL, T0 + 1, &why) == MSH_OPS_INVALID);
    CHECK(step(l, "I1", MSH_INC_DISPATCHED, "CREW-1", NULL, T0 + 2, &why) == MSH_OPS_OK);
    msh_live_item it = item(l, MSH_FEED_INCIDENTS, "I1");
    CHECK(!strcmp(it.crew, "CREW-1") && it.status_ms[MSH_INC_DISPATCHED] == T0 + 2 && it.rec.t_ms == T0 + 2);
    CHECK(step(l, "I1", MSH_INC_ON_SCENE, NULL, NULL, T0 + 3, &why) == MSH_OPS_OK);
    CHECK(step(l, "I1", MSH_INC_RESOLVED, NULL, NULL, T0 + 4, &why) == MSH_OPS_OK);
    CHECK(step(l, "I1", MSH_OPS_CANCELLED, NULL, "late", T0 + 5, &why) == MSH_OPS_TRANSITION && why.nallowed == 0);
    /* a stale update count is refused, whatever the step */
    feed(l, MSH_FEED_INCIDENTS, "I2", 1, NULL, T0);
    msh_ops_rec op;
    memset(&op, 0, sizeof op);
    op.feed = MSH_FEED_INCIDENTS;
    memcpy(op.id, "I2", 3);
    op.id_len = 2;
    op.expect = item(l, MSH_FEED_INCIDENTS, "I2").updates + 1;
    op.set = MSH_OPS_SET_REASON;
    msh_live_wrlock(l);
    CHECK(msh_ops_apply(l, &op, T0, &why) == MSH_OPS_STALE);
    msh_live_unlock(l);
    CHECK(step(l, "I2", MSH_OPS_CANCELLED, NULL, NULL, T0 + 1, &why) == MSH_OPS_INVALID);
    CHECK(step(l, "I2", MSH_OPS_CANCELLED, NULL, "duplicate", T0 + 1, &why) == MSH_OPS_OK);
    it = item(l, MSH_FEED_INCIDENTS, "I2");
    CHECK(msh_ops_status(&it) == MSH_OPS_CANCELLED && it.cancelled_ms == T0 + 1 && !strcmp(it.reason, "duplicate"));
    /* a later feed record keeps the cancellation */
    feed(l, MSH_FEED_INCIDENTS, "I2", 1, NULL, T0 + 10);
    it = item(l, MSH_FEED_INCIDENTS, "I2");
    CHECK(msh_ops_status(&it) == MSH_OPS_CANCELLED);
}

/* A gate's patch through the log record form and applied at t (as a replay would). */
static msh_ops_verdict gate_patch(msh_live *l, const char *body, int64_t t, msh_ops_why *why)
{
    msh_ops_rec op;
    char err[300];
    if (msh_ops_parse_patch(MSH_FEED_GATES, body, strlen(body), &op, err, sizeof err))
        return MSH_OPS_INVALID;
    memcpy(op.id, "G1", 3);
    op.id_len = 2;
    op.expect = item(l, MSH_FEED_GATES, "G1").updates;
    return logged_apply(l, &op, t, why);
}

/* A closed gate's planned reopening (reopens_at): read, checked, logged, applied, cleared when the
 * gate opens; a bad time or one on an open gate changes nothing. */
static void test_gate_reopens(msh_live *l)
{
    msh_ops_why why;
    msh_ops_rec op;
    char err[300];
    feed(l, MSH_FEED_GATES, "G1", 0, NULL, T0);
    const char *bad[] = {"{\"reopens_at\":\"tomorrow\"}", "{\"reopens_at\":1779786000}",
                         "{\"reopens_at\":\"2026-05-27T07:00:00\"}", "{\"reopens_at\":\"2026-02-30T07:00:00Z\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(msh_ops_parse_patch(MSH_FEED_GATES, bad[i], strlen(bad[i]), &op, err, sizeof err) == -1 &&
              strstr(err, "'reopens_at' must be an ISO 8601 time"));
    const char inc[] = "{\"reopens_at\":\"2026-05-27T07:00:00Z\"}";
    CHECK(msh_ops_parse_patch(MSH_FEED_INCIDENTS, inc, sizeof inc - 1, &op, err, sizeof err) == -1);
    /* an open gate takes no reopening time: refused, nothing changed */
    uint64_t u0 = item(l, MSH_FEED_GATES, "G1").updates;
    CHECK(gate_patch(l, inc, T0 + 1, &why) == MSH_OPS_INVALID && strstr(why.text, "only a closed gate reopens"));
    msh_live_item it = item(l, MSH_FEED_GATES, "G1");
    CHECK(it.updates == u0 && it.reopens_ms == 0 && !(it.ops_flags & MSH_ITEM_CLOSED));
    /* closed with a reopening time, in one write */
    CHECK(gate_patch(l, "{\"state\":\"closed\",\"reopens_at\":\"2026-05-26T12:00:00+03:00\"}", T0 + 2, &why) ==
          MSH_OPS_OK);
    it = item(l, MSH_FEED_GATES, "G1");
    CHECK((it.ops_flags & MSH_ITEM_CLOSED) && it.reopens_ms == T0 + 3600000LL);
    /* moved later, then cleared with null while it stays closed */
    CHECK(gate_patch(l, "{\"reopens_at\":\"2026-05-26T09:30:00Z\"}", T0 + 3, &why) == MSH_OPS_OK);
    CHECK(item(l, MSH_FEED_GATES, "G1").reopens_ms == T0 + 5400000LL);
    CHECK(gate_patch(l, "{\"reopens_at\":null}", T0 + 4, &why) == MSH_OPS_OK);
    it = item(l, MSH_FEED_GATES, "G1");
    CHECK(it.reopens_ms == 0 && (it.ops_flags & MSH_ITEM_CLOSED));
    /* opening the gate clears it */
    CHECK(gate_patch(l, "{\"reopens_at\":\"2026-05-26T09:30:00Z\"}", T0 + 5, &why) == MSH_OPS_OK);
    CHECK(gate_patch(l, "{\"state\":\"open\"}", T0 + 6, &why) == MSH_OPS_OK);
    it = item(l, MSH_FEED_GATES, "G1");
    CHECK(it.reopens_ms == 0 && !(it.ops_flags & MSH_ITEM_CLOSED));
    /* closed again with a time: the snapshot keeps it (test_snapshot_keeps_it) */
    CHECK(gate_patch(l, "{\"state\":\"closed\",\"reopens_at\":\"2026-05-26T09:30:00Z\"}", T0 + 7, &why) ==
          MSH_OPS_OK);
    /* a record with the bit and no time, or the bit on an incident, does not decode */
    msh_buf b;
    msh_buf_init(&b, 4096);
    CHECK(msh_ops_parse_patch(MSH_FEED_GATES, inc, sizeof inc - 1, &op, err, sizeof err) == 0);
    memcpy(op.id, "G1", 3);
    op.id_len = 2;
    CHECK(msh_ops_encode(&op, &b) == MSH_OK);
    msh_ops_rec back;
    CHECK(msh_ops_decode(b.data, b.len, &back) && !msh_ops_decode(b.data, b.len - 1, &back));
    b.data[0] = MSH_FEED_INCIDENTS;
    CHECK(!msh_ops_decode(b.data, b.len, &back));
    msh_buf_free(&b);
}

static void test_snapshot_keeps_it(msh_live *l)
{
    msh_buf b;
    msh_buf_init(&b, (size_t)1 << 30);
    msh_err err;
    msh_live_rdlock(l);
    CHECK(msh_live_snapshot(l, 7, &b, &err) == MSH_OK);
    msh_live_unlock(l);
    msh_live_config cfg;
    msh_live_config_init(&cfg);
    msh_live *back;
    uint64_t lsn = 0;
    CHECK(msh_live_new(&cfg, &back, &err) == MSH_OK);
    msh_live_wrlock(back);
    CHECK(msh_live_restore(back, b.data, b.len, &lsn, &err) == MSH_OK);
    msh_live_unlock(back);
    msh_live_item a = item(l, MSH_FEED_INCIDENTS, "I2"), c = item(back, MSH_FEED_INCIDENTS, "I2");
    CHECK(lsn == 7 && c.ops_flags == a.ops_flags && c.cancelled_ms == a.cancelled_ms && !strcmp(c.reason, a.reason));
    c = item(back, MSH_FEED_INCIDENTS, "I1");
    CHECK(!strcmp(c.crew, "CREW-1"));
    c = item(back, MSH_FEED_GATES, "G1"); /* a closed gate's reopening time */
    CHECK((c.ops_flags & MSH_ITEM_CLOSED) && c.reopens_ms == T0 + 5400000LL);
    msh_live_free(back);
    msh_buf_free(&b);
}

static int escalations;
static void on_escalate(void *ud, const msh_live_item *it, int64_t now)
{
    (void)ud;
    (void)now;
    escalations++;
    CHECK(!strcmp(it->rec.id, "HIGH"));
}

static void test_timers(msh_live *l)
{
    msh_timers_cfg c;
    msh_timers_cfg_init(&c);
    msh_timers_result res;
    feed(l, MSH_FEED_INCIDENTS, "HIGH", 3, NULL, T0);
    feed(l, MSH_FEED_INCIDENTS, "LOW", 1, NULL, T0);
    feed(l, MSH_FEED_CREWS, "C1", 0, "standby", T0);
    msh_timers_tick(l, &c, T0 + 119999, on_escalate, NULL, &res);
    CHECK(escalations == 0 && res.escalated == 0 && res.stale == 0);
    msh_timers_tick(l, &c, T0 + 120000, on_escalate, NULL, &res);
    CHECK(escalations == 1 && res.escalated == 1 && res.stale == 1);
    msh_timers_tick(l, &c, T0 + 130000, on_escalate, NULL, &res);
    CHECK(escalations == 1 && res.escalated == 0); /* once */
    CHECK(item(l, MSH_FEED_CREWS, "C1").ops_flags & MSH_ITEM_STALE);
    feed(l, MSH_FEED_CREWS, "C1", 0, "standby", T0 + 130000); /* heard from again */
    CHECK(!(item(l, MSH_FEED_CREWS, "C1").ops_flags & MSH_ITEM_STALE));
    CHECK(!msh_timers_crew_stale(&(msh_live_item){.rec = {.t_ms = T0 + 130000}}, &c, T0 + 131000));
    /* I1 resolved at T0 + 4, I2 cancelled at T0 + 1: both leave 1800 s later; the rest stays */
    msh_timers_tick(l, &c, T0 + 130000 + 899999, NULL, NULL, &res);
    CHECK(res.dropped == 0 && res.stale == 1); /* the crew, silent since T0 + 130 s: stale again */
    msh_timers_tick(l, &c, T0 + 1800000, NULL, NULL, &res);
    CHECK(res.removed == 0 && res.dropped == 1 && !item(l, MSH_FEED_CREWS, "C1").rec.id_len); /* 900 s: gone */
    msh_timers_tick(l, &c, T0 + 1800004, NULL, NULL, &res);
    CHECK(res.removed == 2 && (item(l, MSH_FEED_INCIDENTS, "I1").ops_flags & MSH_ITEM_RETIRED) &&
          (item(l, MSH_FEED_INCIDENTS, "I2").ops_flags & MSH_ITEM_RETIRED));
    CHECK(!(item(l, MSH_FEED_INCIDENTS, "HIGH").ops_flags & MSH_ITEM_RETIRED));
    msh_timers_tick(l, &c, T0 + 1900000, NULL, NULL, &res);
    CHECK(res.removed == 0); /* once */
    CHECK(item(l, MSH_FEED_INCIDENTS, "HIGH").rec.id_len && item(l, MSH_FEED_INCIDENTS, "LOW").rec.id_len);
}

/* What the observer saw: the author of the last change. */
static char g_seen_by[MSH_LIVE_BY_MAX + 1], g_seen_role[16];

static void seen(void *ud, msh_feed f, const msh_live_item *it, const msh_feed_rec *prev)
{
    (void)ud, (void)f, (void)prev;
    snprintf(g_seen_by, sizeof g_seen_by, "%s", it->by);
    snprintf(g_seen_role, sizeof g_seen_role, "%s", it->by_role);
}

static bool through_log(const msh_ops_rec *op, msh_ops_rec *back)
{
    msh_buf b;
    msh_buf_init(&b, 4096);
    bool ok = msh_ops_encode(op, &b) == MSH_OK && msh_ops_decode(b.data, b.len, back);
    /* cut anywhere, it is refused, except at the end of the older form (the author's start) */
    for (size_t cut = 0; ok && cut < b.len; cut++) {
        msh_ops_rec part;
        if (msh_ops_decode(b.data, cut, &part) && (part.by[0] || (op->set & MSH_OPS_SET_CREATE)))
            ok = false;
    }
    msh_buf_free(&b);
    return ok;
}

static void test_author(void)
{
    msh_live_config cfg;
    msh_live_config_init(&cfg);
    msh_live *l;
    msh_err err;
    msh_ops_why why;
    CHECK(msh_live_new(&cfg, &l, &err) == MSH_OK);
    msh_live_set_observer(l, seen, NULL);
    /* a create names its author, to the observer (the incident log's history row) */
    msh_ops_rec op, back;
    memset(&op, 0, sizeof op);
    op.feed = MSH_FEED_INCIDENTS;
    op.set = MSH_OPS_SET_CREATE;
    snprintf(op.id, sizeof op.id, "INC-OPS-7");
    op.id_len = 9;
    snprintf(op.by, sizeof op.by, "ops-alice");
    snprintf(op.by_role, sizeof op.by_role, "ops");
    op.create.has = MSH_FR_LOC | MSH_FR_STATUS | MSH_FR_SEVERITY | MSH_FR_KIND;
    memcpy(op.create.id, op.id, 10);
    op.create.id_len = 9;
    op.create.lon = 39.88;
    op.create.lat = 21.41;
    op.create.t_ms = T0;
    op.create.severity = 3;
    snprintf(op.create.kind, sizeof op.create.kind, "fire");
    CHECK(through_log(&op, &back));
    CHECK(!strcmp(back.by, "ops-alice") && !strcmp(back.by_role, "ops") && !strcmp(back.create.kind, "fire"));
    msh_live_wrlock(l);
    CHECK(msh_ops_apply(l, &back, T0, &why) == MSH_OPS_OK);
    CHECK(msh_ops_apply(l, &back, T0, &why) == MSH_OPS_INVALID); /* the id is taken now */
    CHECK(msh_ops_seq(l) == 7);
    msh_live_unlock(l);
    CHECK(!strcmp(g_seen_by, "ops-alice") && !strcmp(g_seen_role, "ops"));
    CHECK(item(l, MSH_FEED_INCIDENTS, "INC-OPS-7").rec.severity == 3);
    /* an update names its author too */
    memset(&op, 0, sizeof op);
    op.feed = MSH_FEED_INCIDENTS;
    op.set = MSH_OPS_SET_REASON;
    snprintf(op.id, sizeof op.id, "INC-OPS-7");
    op.id_len = 9;
    op.expect = item(l, MSH_FEED_INCIDENTS, "INC-OPS-7").updates;
    snprintf(op.reason, sizeof op.reason, "smoke");
    snprintf(op.by, sizeof op.by, "ops-bob");
    snprintf(op.by_role, sizeof op.by_role, "admin");
    CHECK(through_log(&op, &back));
    msh_live_wrlock(l);
    CHECK(msh_ops_apply(l, &back, T0 + 1, &why) == MSH_OPS_OK);
    msh_live_unlock(l);
    CHECK(!strcmp(g_seen_by, "ops-bob") && !strcmp(g_seen_role, "admin"));
    /* with the triage tail, the author comes after it */
    op.set = MSH_OPS_SET_SEVERITY;
    op.severity = 2;
    CHECK(through_log(&op, &back) && back.severity == 2 && !strcmp(back.by, "ops-bob"));
    /* a feed record names no one */
    feed(l, MSH_FEED_INCIDENTS, "INC-OPS-7", 4, NULL, T0 + 2);
    CHECK(!g_seen_by[0] && !g_seen_role[0]);
    /* a record written before authors (as the fuzz corpus's liveops/rec, after its selector byte):
     * still read, naming no one, and applied */
    static const uint8_t older[] = {2, 9, 'I', 'N', 'C', '-', 'O', 'P', 'S', '-', '7', 0, 0, 0, 0, 0, 0, 0, 0,
                                    3, 0, 0, 0, 1, 7, 'C', 'R', 'E', 'W', '-', 'O', 'L', 0, 0};
    CHECK(msh_ops_decode(older, sizeof older, &back));
    CHECK(!back.by[0] && !back.by_role[0] && back.status == MSH_INC_DISPATCHED && !strcmp(back.crew, "CREW-OL"));
    back.expect = item(l, MSH_FEED_INCIDENTS, "INC-OPS-7").updates;
    msh_live_wrlock(l);
    CHECK(msh_ops_apply(l, &back, T0 + 3, &why) == MSH_OPS_OK);
    msh_live_unlock(l);
    CHECK(!g_seen_by[0]);
    /* the form since authors, as the log holds it (golden bytes, also the fuzz corpus's
     * liveops/rec-author): this build reads them and writes them the same */
    static const uint8_t since[] = {2, 9, 'I', 'N', 'C', '-', 'O', 'P', 'S', '-', '7', 4, 0, 0, 0, 0, 0, 0, 0, 3, 0,
                                    0, 0, 1, 6, 'C', 'R', 'E', 'W', '-', '9', 0, 0, 7, 'o', 'p', 's', '-', 'b', 'o',
                                    'b', 3, 'o', 'p', 's'};
    CHECK(msh_ops_decode(since, sizeof since, &back));
    CHECK(!strcmp(back.by, "ops-bob") && !strcmp(back.by_role, "ops") && back.expect == 4 &&
          !strcmp(back.crew, "CREW-9"));
    msh_buf gb;
    msh_buf_init(&gb, 4096);
    CHECK(msh_ops_encode(&back, &gb) == MSH_OK && gb.len == sizeof since && !memcmp(gb.data, since, sizeof since));
    msh_buf_free(&gb);
    /* a create without its record, or with another id, is refused */
    uint8_t bad[sizeof older + 2];
    memcpy(bad, older, sizeof older);
    bad[19] = MSH_OPS_SET_CREATE;
    CHECK(!msh_ops_decode(bad, sizeof older, &back));
    bad[sizeof older] = 0, bad[sizeof older + 1] = 0; /* by "", by_role "", and no record */
    CHECK(!msh_ops_decode(bad, sizeof bad, &back));
    msh_live_free(l);
}

/* Triage: severity and description by PATCH, through the log record form; a record without the
 * triage tail (as logged before triage existed) still decodes; a final incident takes none. */
static void test_triage(msh_live *l)
{
    msh_ops_why why;
    char err[300];
    msh_ops_rec op, back;
    feed(l, MSH_FEED_INCIDENTS, "I7", 1, NULL, T0);
    const char body[] = "{\"properties\":{\"severity\":\"critical\",\"description\":\"smoke at gate 3\"}}";
    CHECK(msh_ops_parse_patch(MSH_FEED_INCIDENTS, body, sizeof body - 1, &op, err, sizeof err) == 0);
    CHECK(op.set == (MSH_OPS_SET_SEVERITY | MSH_OPS_SET_DESC) && op.severity == 4 && !strcmp(op.desc, "smoke at gate 3"));
    const char bad[] = "{\"severity\":\"urgent\"}";
    CHECK(msh_ops_parse_patch(MSH_FEED_INCIDENTS, bad, sizeof bad - 1, &op, err, sizeof err) == -1 &&
          strstr(err, "'severity' must be low, medium, high or critical"));
    const char gate[] = "{\"severity\":\"high\"}";
    CHECK(msh_ops_parse_patch(MSH_FEED_GATES, gate, sizeof gate - 1, &op, err, sizeof err) == -1 && strstr(err, "'severity'"));
    CHECK(msh_ops_parse_patch(MSH_FEED_INCIDENTS, body, sizeof body - 1, &op, err, sizeof err) == 0);
    snprintf(op.id, sizeof op.id, "I7");
    op.id_len = 2;
    op.expect = item(l, MSH_FEED_INCIDENTS, "I7").updates;
    msh_buf b;
    msh_buf_init(&b, 4096);
    CHECK(msh_ops_encode(&op, &b) == MSH_OK && msh_ops_decode(b.data, b.len, &back));
    CHECK(back.severity == 4 && !strcmp(back.desc, "smoke at gate 3"));
    msh_ops_rec cut;
    CHECK(!msh_ops_decode(b.data, b.len - 1, &cut)); /* a cut tail */
    msh_buf_free(&b);
    msh_live_wrlock(l);
    CHECK(msh_ops_apply(l, &back, T0 + 1, &why) == MSH_OPS_OK);
    msh_live_unlock(l);
    msh_live_item it = item(l, MSH_FEED_INCIDENTS, "I7");
    CHECK(it.rec.severity == 4 && (it.rec.has & MSH_FR_TEXT) && !strcmp(it.rec.text, "smoke at gate 3") &&
          msh_ops_status(&it) == MSH_INC_REPORTED);
    /* the form without the tail: a status step as logged before */
    msh_ops_rec old;
    memset(&old, 0, sizeof old);
    old.feed = MSH_FEED_INCIDENTS;
    memcpy(old.id, "I7", 3);
    old.id_len = 2;
    old.set = MSH_OPS_SET_REASON;
    snprintf(old.reason, sizeof old.reason, "x");
    msh_buf_init(&b, 4096);
    CHECK(msh_ops_encode(&old, &b) == MSH_OK && b.len == 1 + 3 + 13 + 1 + 2 + 1 && msh_ops_decode(b.data, b.len, &back));
    msh_buf_free(&b);
    /* a description cleared with null */
    const char clear[] = "{\"description\":null}";
    CHECK(msh_ops_parse_patch(MSH_FEED_INCIDENTS, clear, sizeof clear - 1, &op, err, sizeof err) == 0);
    snprintf(op.id, sizeof op.id, "I7");
    op.id_len = 2;
    op.expect = item(l, MSH_FEED_INCIDENTS, "I7").updates;
    msh_live_wrlock(l);
    CHECK(msh_ops_apply(l, &op, T0 + 2, &why) == MSH_OPS_OK);
    msh_live_unlock(l);
    it = item(l, MSH_FEED_INCIDENTS, "I7");
    CHECK(!(it.rec.has & MSH_FR_TEXT) && it.rec.severity == 4);
    /* a resolved incident (I1, test_lifecycle) is not triaged (409 with nothing allowed) */
    int before = item(l, MSH_FEED_INCIDENTS, "I1").rec.severity;
    CHECK(msh_ops_parse_patch(MSH_FEED_INCIDENTS, gate, sizeof gate - 1, &op, err, sizeof err) == 0);
    snprintf(op.id, sizeof op.id, "I1");
    op.id_len = 2;
    op.expect = item(l, MSH_FEED_INCIDENTS, "I1").updates;
    msh_live_wrlock(l);
    CHECK(msh_ops_apply(l, &op, T0 + 4, &why) == MSH_OPS_TRANSITION && why.nallowed == 0);
    msh_live_unlock(l);
    CHECK(item(l, MSH_FEED_INCIDENTS, "I1").rec.severity == before);
}

int main(void)
{
    msh_live_config cfg;
    msh_live_config_init(&cfg);
    msh_live *l;
    msh_err err;
    CHECK(msh_live_new(&cfg, &l, &err) == MSH_OK);
    test_lifecycle(l);
    test_gate_reopens(l);
    test_snapshot_keeps_it(l);
    test_timers(l);
    test_triage(l); /* after the timers: its critical incident would escalate there */
    msh_live_free(l);
    test_author();
    printf("%d checks, %d failed\n", g_checks, g_failed);
    return g_failed != 0;
}
