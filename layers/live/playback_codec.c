/* playback_codec.c: a recorded minute as bytes and back (format and checks in playback_codec.h). */
#include "playback_codec.h"

#include "core/msh_morton.h"
#include "live_int.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const uint8_t MAGIC[4] = {'M', 'P', 'B', '1'};
#define GRID_BITS 44 /* Morton codes of a 2^22 grid */

uint64_t msh_pb_morton(uint32_t cx, uint32_t cy)
{
    return msh_morton(cx, cy);
}

void msh_pb_unmorton(uint64_t m, uint32_t *cx, uint32_t *cy)
{
    msh_unmorton(m, cx, cy);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Read a varint of at most 10 bytes from s[*i..n); -1 when it runs past the end or is too long. */
static int get_varint(const uint8_t *s, size_t n, size_t *i, uint64_t *v)
{
    uint64_t r = 0;
    for (int sh = 0; sh < 70 && *i < n; sh += 7) {
        uint8_t b = s[(*i)++];
        if (sh == 63 && b > 1)
            return -1;
        r |= (uint64_t)(b & 0x7f) << sh;
        if (!(b & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

/* The least sum of squared speeds `count` people with velocity sums vx, vy can have (all alike):
 * ceil((vx^2 + vy^2) / count). A cell's v2 is never below it (Cauchy-Schwarz), so the record keeps
 * only v2 minus it: 0 for a cell of one person, small for a crowd walking together. */
static uint64_t v2_floor(uint32_t count, int32_t vx, int32_t vy)
{
    uint64_t s = (uint64_t)((int64_t)vx * vx) + (uint64_t)((int64_t)vy * vy);
    return s / count + (s % count != 0);
}

msh_rc msh_pb_encode(int64_t minute, const msh_pb_cell *cells, size_t n, int level, uint8_t **out, size_t *len,
                     size_t *cap, msh_err *err)
{
    if (n > MSH_PB_MAX_CELLS)
        return msh_err_set(err, MSH_EINVAL, "playback: %zu cells in a minute (at most %u)", n, MSH_PB_MAX_CELLS);
    uint8_t *raw = malloc(n * MSH_PB_MAX_CELL_BYTES + 1);
    if (!raw)
        return msh_err_set(err, MSH_ENOMEM, "playback: out of memory");
    size_t r = 0;
    uint64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        const msh_pb_cell *c = &cells[i];
        if ((i && c->m <= prev) || c->m >> GRID_BITS || !c->count || c->v2 < v2_floor(c->count, c->vx, c->vy)) {
            free(raw);
            return msh_err_set(err, MSH_EINVAL, "playback: cells not sorted, outside the grid, empty or with "
                                                "velocity sums no crowd can have");
        }
        r += put_varint(raw + r, c->m - prev);
        r += put_varint(raw + r, c->count);
        r += put_varint(raw + r, zigzag(c->vx));
        r += put_varint(raw + r, zigzag(c->vy));
        r += put_varint(raw + r, c->v2 - v2_floor(c->count, c->vx, c->vy));
        prev = c->m;
    }
    uLongf zcap = compressBound((uLong)r);
    size_t need = *len + MSH_PB_HEADER + zcap;
    if (need > *cap) {
        uint8_t *p = realloc(*out, need);
        if (!p) {
            free(raw);
            return msh_err_set(err, MSH_ENOMEM, "playback: out of memory");
        }
        *out = p;
        *cap = need;
    }
    uint8_t *h = *out + *len, *z = h + MSH_PB_HEADER;
    if (compress2(z, &zcap, raw, (uLong)r, level) != Z_OK) {
        free(raw);
        return msh_err_set(err, MSH_ENOMEM, "playback: deflate failed");
    }
    free(raw);
    memcpy(h, MAGIC, 4);
    uint64_t mu = (uint64_t)minute;
    put32(h + 4, (uint32_t)mu);
    put32(h + 8, (uint32_t)(mu >> 32));
    put32(h + 12, (uint32_t)n);
    put32(h + 16, (uint32_t)r);
    put32(h + 20, (uint32_t)zcap);
    put32(h + 24, (uint32_t)crc32(0, z, (uInt)zcap));
    put32(h + 28, (uint32_t)crc32(0, h, 28));
    *len += MSH_PB_HEADER + zcap;
    return MSH_OK;
}

msh_rc msh_pb_header_read(const uint8_t *p, size_t n, msh_pb_header *h, msh_err *err)
{
    if (n < MSH_PB_HEADER || memcmp(p, MAGIC, 4) || get32(p + 28) != (uint32_t)crc32(0, p, 28))
        return msh_err_set(err, MSH_EFORMAT, "playback: not a minute record (magic or header checksum)");
    h->minute = (int64_t)((uint64_t)get32(p + 4) | (uint64_t)get32(p + 8) << 32);
    h->cells = get32(p + 12);
    h->raw_len = get32(p + 16);
    h->zlen = get32(p + 20);
    h->crc = get32(p + 24);
    if (h->cells > MSH_PB_MAX_CELLS || h->raw_len > (uint64_t)h->cells * MSH_PB_MAX_CELL_BYTES ||
        h->raw_len < h->cells * 5ull || h->zlen > compressBound(h->raw_len) || h->minute < 0 ||
        h->minute > (int64_t)1 << 40)
        return msh_err_set(err, MSH_EFORMAT, "playback: a minute record's lengths are out of bounds");
    return MSH_OK;
}

msh_rc msh_pb_decode_stream(const uint8_t *s, size_t n, uint32_t ncells, msh_pb_cell **cells, msh_err *err)
{
    *cells = NULL;
    if (ncells > MSH_PB_MAX_CELLS || n > (size_t)ncells * MSH_PB_MAX_CELL_BYTES)
        return msh_err_set(err, MSH_EFORMAT, "playback: too many cells");
    msh_pb_cell *v = malloc(((size_t)ncells ? ncells : 1) * sizeof *v);
    if (!v)
        return msh_err_set(err, MSH_ENOMEM, "playback: out of memory");
    size_t i = 0;
    uint64_t m = 0;
    for (uint32_t k = 0; k < ncells; k++) {
        uint64_t d, c, x, y, v2;
        if (get_varint(s, n, &i, &d) || get_varint(s, n, &i, &c) || get_varint(s, n, &i, &x) ||
            get_varint(s, n, &i, &y) || get_varint(s, n, &i, &v2))
            goto bad;
        int64_t vx = unzigzag(x), vy = unzigzag(y);
        if ((k && !d) || d >> GRID_BITS || (m += d) >> GRID_BITS || !c || c > UINT32_MAX || vx < INT32_MIN ||
            vx > INT32_MAX || vy < INT32_MIN || vy > INT32_MAX)
            goto bad;
        uint64_t least = v2_floor((uint32_t)c, (int32_t)vx, (int32_t)vy);
        if (v2 > UINT64_MAX - least)
            goto bad;
        v[k] = (msh_pb_cell){m, (uint32_t)c, (int32_t)vx, (int32_t)vy, v2 + least};
    }
    if (i != n)
        goto bad;
    *cells = v;
    return MSH_OK;
bad:
    free(v);
    return msh_err_set(err, MSH_EFORMAT, "playback: a minute's cells are damaged");
}

msh_rc msh_pb_decode(const uint8_t *p, size_t n, msh_pb_header *h, msh_pb_cell **cells, msh_err *err)
{
    *cells = NULL;
    msh_rc rc = msh_pb_header_read(p, n, h, err);
    if (rc)
        return rc;
    if (n - MSH_PB_HEADER != h->zlen || (uint32_t)crc32(0, p + MSH_PB_HEADER, (uInt)h->zlen) != h->crc)
        return msh_err_set(err, MSH_EFORMAT, "playback: a minute record is cut short or its checksum is wrong");
    uint8_t *raw = malloc(h->raw_len ? h->raw_len : 1);
    if (!raw)
        return msh_err_set(err, MSH_ENOMEM, "playback: out of memory");
    uLongf got = h->raw_len;
    if (uncompress(raw, &got, p + MSH_PB_HEADER, h->zlen) != Z_OK || got != h->raw_len) {
        free(raw);
        return msh_err_set(err, MSH_EFORMAT, "playback: a minute's payload does not inflate to its length");
    }
    rc = msh_pb_decode_stream(raw, got, h->cells, cells, err);
    free(raw);
    return rc;
}

void msh_pb_cell_to_live(const msh_pb_cell *c, msh_live_cell *o)
{
    uint32_t cx, cy;
    msh_pb_unmorton(c->m, &cx, &cy);
    msh_live_cell_from_sums(cx, cy, c->count, c->vx, c->vy, c->v2, o);
}
