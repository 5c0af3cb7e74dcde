/* snapshot.c: the live state to and from the portable snapshot format (layout in snapshot.h). */
#include "snapshot.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/msh_le.h"
#include "live_int.h"
#include "live_ops.h"

static const uint8_t MAGIC[8] = {'M', 'S', 'H', 'S', 'N', 'A', 'P', 0};
static const uint8_t RAW_DUMP_TAG[8] = {'M', 'S', 'H', 'L', 'I', 'V', '0', '1'}; /* builds before version 1 */

/* header offsets */
enum {
    H_VERSION = 8,
    H_FLAGS = 12,
    H_LSN = 16,
    H_BODY = 24,
    H_GROUPS = 32,
    H_PEOPLE = 36,
    H_ITEMS = 40, /* u32 per small table, msh_feed 1..5 (bins at 56: reserved, so 0, before bins) */
    H_CRC = 60
};

#define PERSON_FIXED 25 /* after the id: t_ms, wx, wy, vx, vy, group, flags */
#define ITEM_TAIL 65    /* after the record: status, status_ms[4], in_total, out_total, flow_per_hour, updates */
#define PERSON_MIN (2 + PERSON_FIXED)
#define ITEM_MIN (2 + 4 + 8 + ITEM_TAIL) /* a record with a 1-byte id and nothing optional */

static uint32_t checksum(const uint8_t *data, size_t len)
{
    uLong c = crc32(0L, data, H_CRC);
    for (size_t off = MSH_SNAPSHOT_HEADER; off < len;) {
        size_t n = len - off > ((size_t)1 << 30) ? (size_t)1 << 30 : len - off;
        c = crc32(c, data + off, (uInt)n);
        off += n;
    }
    return (uint32_t)c;
}

void msh_live_snapshot_seal(uint8_t *data, size_t len)
{
    msh_le64_put(data + H_BODY, len - MSH_SNAPSHOT_HEADER);
    msh_le32_put(data + H_CRC, checksum(data, len));
}

/* ---- writing ---- */

typedef struct {
    msh_buf *out;
    uint32_t n;
    msh_rc rc;
} item_job;

static int put_item(void *ud, const msh_live_item *it)
{
    item_job *j = ud;
    uint8_t t[ITEM_TAIL], *q = t;
    *q++ = it->rec.status;
    for (int s = 0; s < 4; s++, q += 8)
        msh_le64_put(q, (uint64_t)it->status_ms[s]);
    msh_le64_put(q, (uint64_t)it->in_total);
    msh_le64_put(q + 8, (uint64_t)it->out_total);
    msh_le64_put(q + 16, msh_f64_bits(it->flow_per_hour));
    msh_le64_put(q + 24, it->updates);
    j->rc = msh_feed_encode(&it->rec, 1, j->out);
    if (!j->rc)
        j->rc = msh_buf_append(j->out, t, sizeof t);
    j->n++;
    return j->rc != MSH_OK;
}

static msh_rc put_people(msh_live *l, msh_buf *out)
{
    uint32_t n = msh_live_raw_npeople(l);
    msh_rc rc = MSH_OK;
    for (uint32_t i = 0; i < n && !rc; i++) {
        msh_live_raw_person p;
        msh_live_raw_person_get(l, i, &p);
        uint8_t t[1 + MSH_FEED_ID_MAX + PERSON_FIXED], *q = t + 1 + p.id_len;
        t[0] = (uint8_t)p.id_len;
        memcpy(t + 1, p.id, p.id_len);
        msh_le64_put(q, (uint64_t)p.t_ms);
        msh_le32_put(q + 8, p.wx);
        msh_le32_put(q + 12, p.wy);
        msh_le16_put(q + 16, (uint16_t)p.vx);
        msh_le16_put(q + 18, (uint16_t)p.vy);
        msh_le32_put(q + 20, p.group);
        q[24] = p.active ? 1 : 0;
        rc = msh_buf_append(out, t, 1 + p.id_len + PERSON_FIXED);
    }
    return rc;
}

/* ---- the operators' section (flag FLAG_OPS) ---- */

#define FLAG_OPS 1u
#define OPS_FIXED 9 /* after the feed and id: flags, cancelled_ms */

static bool has_ops(const msh_live_item *it)
{
    return it->ops_flags || it->cancelled_ms || it->crew[0] || it->reason[0];
}

typedef struct {
    msh_buf *out;
    uint8_t feed;
    uint32_t n;
    msh_rc rc;
} ops_job;

static int put_ops_item(void *ud, const msh_live_item *it)
{
    ops_job *j = ud;
    if (!has_ops(it))
        return 0;
    uint8_t t[OPS_FIXED];
    t[0] = it->ops_flags;
    msh_le64_put(t + 1, (uint64_t)it->cancelled_ms);
    if (!j->rc)
        j->rc = msh_buf_putc(j->out, j->feed);
    if (!j->rc)
        j->rc = msh_buf_putc(j->out, it->rec.id_len);
    if (!j->rc)
        j->rc = msh_buf_append(j->out, it->rec.id, it->rec.id_len);
    if (!j->rc)
        j->rc = msh_buf_append(j->out, t, sizeof t);
    if (!j->rc)
        j->rc = msh_ops_put_str(j->out, it->crew);
    if (!j->rc)
        j->rc = msh_ops_put_str(j->out, it->reason);
    j->n++;
    return j->rc != MSH_OK;
}

/* The section is written only when there is operator state, so a state without any is written
 * exactly as format version 1 always was. */
static msh_rc put_ops(msh_live *l, msh_buf *out, size_t start)
{
    size_t at = out->len;
    uint8_t h[12];
    msh_le64_put(h, msh_live_raw_ops_seq(l));
    msh_le32_put(h + 8, 0);
    msh_rc rc = msh_buf_append(out, h, sizeof h);
    uint32_t n = 0;
    for (int f = 1; f < MSH_FEED_COUNT && !rc; f++) {
        ops_job j = {out, (uint8_t)f, 0, MSH_OK};
        msh_live_items(l, (msh_feed)f, put_ops_item, &j);
        rc = j.rc;
        n += j.n;
    }
    if (rc)
        return rc;
    if (!n && !msh_live_raw_ops_seq(l)) {
        out->len = at;
        return MSH_OK;
    }
    msh_le32_put(out->data + at + 8, n);
    msh_le32_put(out->data + start + H_FLAGS, FLAG_OPS);
    return MSH_OK;
}

msh_rc msh_live_snapshot(msh_live *l, uint64_t lsn, msh_buf *out, msh_err *err)
{
    size_t start = out->len;
    uint32_t ngroups = msh_live_raw_ngroups(l), npeople = msh_live_raw_npeople(l);
    uint8_t h[MSH_SNAPSHOT_HEADER] = {0};
    memcpy(h, MAGIC, sizeof MAGIC);
    msh_le32_put(h + H_VERSION, MSH_SNAPSHOT_VERSION);
    msh_le64_put(h + H_LSN, lsn);
    msh_le32_put(h + H_GROUPS, ngroups);
    msh_le32_put(h + H_PEOPLE, npeople);
    msh_rc rc = msh_buf_reserve(out, MSH_SNAPSHOT_HEADER + (size_t)npeople * 48);
    if (!rc)
        rc = msh_buf_append(out, h, sizeof h);
    for (uint32_t i = 0; i < ngroups && !rc; i++) {
        size_t n;
        const char *g = msh_live_raw_group(l, i, &n);
        if (!(rc = msh_buf_putc(out, (uint8_t)n)))
            rc = msh_buf_append(out, g, n);
    }
    if (!rc)
        rc = put_people(l, out);
    for (int f = 1; f < MSH_FEED_COUNT && !rc; f++) {
        item_job j = {out, 0, MSH_OK};
        msh_live_items(l, (msh_feed)f, put_item, &j);
        rc = j.rc;
        if (!rc)
            msh_le32_put(out->data + start + H_ITEMS + 4 * (f - 1), j.n);
    }
    if (!rc)
        rc = put_ops(l, out, start);
    if (rc) {
        out->len = start;
        return msh_err_set(err, rc, "snapshot: %s", rc == MSH_ETOOBIG ? "larger than its buffer" : "out of memory");
    }
    msh_live_snapshot_seal(out->data + start, out->len - start);
    return MSH_OK;
}

/* ---- loading ---- */

static msh_rc refuse(msh_err *err, msh_rc rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static msh_rc refuse(msh_err *err, msh_rc rc, const char *fmt, ...)
{
    char why[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return msh_err_set(err, rc, "snapshot: %s", why);
}

/* Everything that can be checked before the store is touched. */
static msh_rc check_header(const uint8_t *d, size_t len, uint32_t max_people, msh_err *err)
{
    if (!len)
        return refuse(err, MSH_EFORMAT, "empty file (truncated)");
    if (memcmp(d, MAGIC, len < sizeof MAGIC ? len : sizeof MAGIC)) {
        if (len >= sizeof RAW_DUMP_TAG && !memcmp(d, RAW_DUMP_TAG, sizeof RAW_DUMP_TAG))
            return refuse(err, MSH_EFORMAT,
                          "written by a build before the portable snapshot format (a raw memory dump, "
                          "tag MSHLIV01); this build reads format version %d only",
                          MSH_SNAPSHOT_VERSION);
        return refuse(err, MSH_EFORMAT, "not a Mashaer live snapshot (it does not begin with MSHSNAP)");
    }
    if (len < MSH_SNAPSHOT_HEADER)
        return refuse(err, MSH_EFORMAT, "truncated: %zu bytes, shorter than the %d-byte header", len,
                      MSH_SNAPSHOT_HEADER);
    uint32_t version = msh_le32_get(d + H_VERSION);
    if (version > MSH_SNAPSHOT_VERSION)
        return refuse(err, MSH_EFORMAT,
                      "format version %u is newer than this build reads (%d): written by a later build, or damaged",
                      version, MSH_SNAPSHOT_VERSION);
    if (version != MSH_SNAPSHOT_VERSION)
        return refuse(err, MSH_EFORMAT, "format version %u does not exist (damaged)", version);
    uint64_t body = msh_le64_get(d + H_BODY), have = len - MSH_SNAPSHOT_HEADER;
    if (body > have)
        return refuse(err, MSH_EFORMAT, "truncated: the header announces %llu bytes after it, the file has %llu",
                      (unsigned long long)body, (unsigned long long)have);
    if (body < have)
        return refuse(err, MSH_EFORMAT, "%llu bytes after its end (damaged)", (unsigned long long)(have - body));
    if (checksum(d, len) != msh_le32_get(d + H_CRC))
        return refuse(err, MSH_EFORMAT, "checksum mismatch (damaged on disk)");
    uint32_t flags = msh_le32_get(d + H_FLAGS);
    if (flags & ~FLAG_OPS)
        return refuse(err, MSH_EFORMAT, "unknown flags 0x%x (format version %d defines only 0x1)", flags,
                      MSH_SNAPSHOT_VERSION);
    uint32_t npeople = msh_le32_get(d + H_PEOPLE);
    uint64_t need = 2 * (uint64_t)msh_le32_get(d + H_GROUPS) + PERSON_MIN * (uint64_t)npeople;
    if (npeople > max_people)
        return refuse(err, MSH_ETOOBIG, "it holds %u people, more than this store takes (%u)", npeople, max_people);
    for (int f = 1; f < MSH_FEED_COUNT; f++) {
        uint32_t n = msh_le32_get(d + H_ITEMS + 4 * (f - 1));
        if (n > MSH_LIVE_MAX_ITEMS)
            return refuse(err, MSH_ETOOBIG, "it holds %u %s, more than the store takes (%u)", n,
                          msh_feed_name((msh_feed)f), MSH_LIVE_MAX_ITEMS);
        need += ITEM_MIN * (uint64_t)n;
    }
    if (need > body)
        return refuse(err, MSH_EFORMAT, "the header counts more records than %llu bytes can hold",
                      (unsigned long long)body);
    return MSH_OK;
}

/* A refusal from the store (live_int.h), said for record `i` of `what`. */
static msh_rc refuse_rec(msh_err *err, const msh_err *e, const char *what, uint32_t i)
{
    return refuse(err, e->code, "%s %u: %s", what, i, e->msg);
}

static msh_rc load_groups(msh_live *l, const uint8_t **p, const uint8_t *end, uint32_t n, uint32_t *map,
                          msh_err *err)
{
    for (uint32_t i = 0; i < n; i++) {
        if (end - *p < 1 || end - *p - 1 < **p)
            return refuse(err, MSH_EFORMAT, "group name %u runs past the end", i + 1);
        msh_err e;
        if (msh_live_raw_add_group(l, (const char *)*p + 1, **p, &map[i], &e))
            return refuse_rec(err, &e, "group name", i + 1);
        *p += 1 + **p;
    }
    return MSH_OK;
}

static msh_rc load_people(msh_live *l, const uint8_t **p, const uint8_t *end, uint32_t n, const uint32_t *map,
                          uint32_t ngroups, msh_err *err)
{
    for (uint32_t i = 0; i < n; i++) {
        if (end - *p < 1 || end - *p - 1 - PERSON_FIXED < **p)
            return refuse(err, MSH_EFORMAT, "person %u runs past the end", i);
        msh_live_raw_person r;
        r.id_len = **p;
        r.id = (const char *)*p + 1;
        const uint8_t *q = *p + 1 + r.id_len;
        r.t_ms = (int64_t)msh_le64_get(q);
        r.wx = msh_le32_get(q + 8);
        r.wy = msh_le32_get(q + 12);
        r.vx = (int16_t)msh_le16_get(q + 16);
        r.vy = (int16_t)msh_le16_get(q + 18);
        uint32_t g = msh_le32_get(q + 20);
        if (g > ngroups)
            return refuse(err, MSH_EFORMAT, "person %u: group %u of %u", i, g, ngroups);
        if (q[24] > 1)
            return refuse(err, MSH_EFORMAT, "person %u: unknown flags 0x%x", i, q[24]);
        r.group = g ? map[g - 1] : 0;
        r.active = q[24] == 1;
        msh_err e;
        if (msh_live_raw_add_person(l, &r, &e))
            return refuse_rec(err, &e, "person", i);
        *p = q + PERSON_FIXED;
    }
    return MSH_OK;
}

static msh_rc load_items(msh_live *l, const uint8_t **p, const uint8_t *end, msh_feed feed, uint32_t n,
                         msh_err *err)
{
    const char *what = msh_feed_name(feed);
    for (uint32_t i = 0; i < n; i++) {
        msh_live_item it;
        memset(&it, 0, sizeof it);
        if (!msh_feed_decode(p, end, &it.rec))
            return refuse(err, MSH_EFORMAT, "%s %u: bad record", what, i);
        if (end - *p < ITEM_TAIL)
            return refuse(err, MSH_EFORMAT, "%s %u runs past the end", what, i);
        const uint8_t *q = *p;
        if (q[0] > MSH_INC_RESOLVED)
            return refuse(err, MSH_EFORMAT, "%s %u: status %u", what, i, q[0]);
        it.rec.status = q[0];
        q++;
        for (int s = 0; s < 4; s++, q += 8)
            it.status_ms[s] = (int64_t)msh_le64_get(q);
        it.in_total = (int64_t)msh_le64_get(q);
        it.out_total = (int64_t)msh_le64_get(q + 8);
        it.flow_per_hour = msh_f64_get(q + 16);
        it.updates = msh_le64_get(q + 24);
        *p = q + 32;
        msh_err e;
        if (msh_live_raw_add_item(l, feed, &it, &e))
            return refuse_rec(err, &e, what, i);
    }
    return MSH_OK;
}

static msh_rc load_ops(msh_live *l, const uint8_t **p, const uint8_t *end, msh_err *err)
{
    if (end - *p < 12)
        return refuse(err, MSH_EFORMAT, "the operators' section runs past the end");
    msh_live_raw_set_ops_seq(l, msh_le64_get(*p));
    uint32_t n = msh_le32_get(*p + 8);
    *p += 12;
    for (uint32_t i = 0; i < n; i++) {
        char id[MSH_FEED_ID_MAX + 1];
        if (end - *p < 1)
            return refuse(err, MSH_EFORMAT, "operator state %u runs past the end", i);
        uint8_t feed = *(*p)++;
        if (!msh_ops_get_str(p, end, id, sizeof id) || end - *p < OPS_FIXED)
            return refuse(err, MSH_EFORMAT, "operator state %u runs past the end", i);
        msh_live_item *it = feed < MSH_FEED_COUNT ? msh_live_raw_item(l, (msh_feed)feed, id, strlen(id)) : NULL;
        if (!it)
            return refuse(err, MSH_EFORMAT, "operator state %u: no %s '%s'", i,
                          feed < MSH_FEED_COUNT ? msh_feed_name((msh_feed)feed) : "item", id);
        if ((*p)[0] & ~(MSH_ITEM_CANCELLED | MSH_ITEM_ESCALATED | MSH_ITEM_CLOSED | MSH_ITEM_STALE | MSH_ITEM_RETIRED |
                       MSH_ITEM_OVERFLOW))
            return refuse(err, MSH_EFORMAT, "operator state %u: unknown flags 0x%x", i, (*p)[0]);
        it->ops_flags = (*p)[0];
        it->cancelled_ms = (int64_t)msh_le64_get(*p + 1);
        *p += OPS_FIXED;
        if (!msh_ops_get_str(p, end, it->crew, sizeof it->crew) || !msh_ops_get_str(p, end, it->reason, sizeof it->reason))
            return refuse(err, MSH_EFORMAT, "operator state %u runs past the end", i);
    }
    return MSH_OK;
}

msh_rc msh_live_restore(msh_live *l, const uint8_t *data, size_t len, uint64_t *lsn, msh_err *err)
{
    msh_rc rc = check_header(data, len, msh_live_raw_max_people(l), err);
    if (rc)
        return rc;
    const uint8_t *p = data + MSH_SNAPSHOT_HEADER, *end = data + len;
    uint32_t ngroups = msh_le32_get(data + H_GROUPS);
    uint32_t *map = ngroups ? malloc((size_t)ngroups * sizeof *map) : NULL;
    if (ngroups && !map)
        return refuse(err, MSH_ENOMEM, "out of memory");
    uint32_t npeople = msh_le32_get(data + H_PEOPLE);
    msh_err e;
    if (msh_live_raw_reserve(l, npeople, &e))
        rc = refuse(err, e.code, "%s", e.msg);
    if (!rc)
        rc = load_groups(l, &p, end, ngroups, map, err);
    if (!rc)
        rc = load_people(l, &p, end, npeople, map, ngroups, err);
    free(map);
    for (int f = 1; f < MSH_FEED_COUNT && !rc; f++)
        rc = load_items(l, &p, end, (msh_feed)f, msh_le32_get(data + H_ITEMS + 4 * (f - 1)), err);
    if (!rc && (msh_le32_get(data + H_FLAGS) & FLAG_OPS))
        rc = load_ops(l, &p, end, err);
    if (!rc && p != end)
        rc = refuse(err, MSH_EFORMAT, "%zu bytes after the last record", (size_t)(end - p));
    if (!rc)
        *lsn = msh_le64_get(data + H_LSN);
    return rc;
}
