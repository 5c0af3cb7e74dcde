/* pmtiles_read.c: the PMTiles v3 reader (see pmtiles_read.h).
 *
 * Opening walks the directory tree depth first from the root, in order, appending each tile
 * entry (run length > 0) to one array and descending into each leaf entry (run length 0); every
 * entry is checked as it is read, and the ids must increase strictly across the whole walk, so
 * the array comes out sorted and without overlap (a run covers ids tile_id .. tile_id+run-1).
 */
#include "pmtiles_read.h"

#include <stdlib.h>
#include <string.h>

#include "core/msh_grow.h"
#include "core/msh_le.h"
#include "gunzip.h"
#include "pmtiles.h"

typedef struct entry {
    uint64_t tile_id;
    uint64_t offset; /* from the start of the tile data */
    uint32_t length, run;
} entry;

struct msh_pmtiles_reader {
    msh_pmtiles_read_fn read;
    void *ud;
    msh_pmtiles_header h;
    char *meta;
    entry *e;
    size_t n, cap;
};

typedef struct walk {
    msh_pmtiles_reader *r;
    uint64_t visited; /* entries read, leaves included */
    uint64_t next_id; /* the smallest id the next entry may have */
    msh_buf raw, dir;
} walk;

static bool varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return true;
        }
    }
    return false;
}

static double pos(const uint8_t *p) { return (double)(int32_t)msh_le32_get(p) / 1e7; }

/* The section [off, off+len) lies inside a file of `size` bytes. */
static bool inside(uint64_t off, uint64_t len, uint64_t size) { return off <= size && len <= size - off; }

/* Read `len` bytes at `off` and decompress them as the archive's internal compression says. */
static msh_rc read_section(msh_pmtiles_reader *r, uint64_t off, uint64_t len, size_t cap, msh_buf *raw, msh_buf *out,
                           const char *what, msh_err *err)
{
    if (len > cap)
        return msh_err_set(err, MSH_EFORMAT, "the %s is %llu bytes, more than the %zu accepted", what,
                           (unsigned long long)len, cap);
    msh_buf *dst = r->h.internal_comp == MSH_PMT_COMP_GZIP ? raw : out;
    msh_buf_reset(dst);
    if (msh_buf_reserve(dst, (size_t)len + 1))
        return msh_err_set(err, MSH_ENOMEM, "out of memory reading the %s", what);
    if (len && r->read(r->ud, off, (size_t)len, dst->data))
        return msh_err_set(err, MSH_EIO, "cannot read the %s (%llu bytes at %llu)", what, (unsigned long long)len,
                           (unsigned long long)off);
    dst->len = (size_t)len;
    if (dst == out)
        return MSH_OK;
    msh_rc rc = msh_gunzip(raw->data, raw->len, cap, out);
    if (rc == MSH_ETOOBIG)
        return msh_err_set(err, MSH_EFORMAT, "the %s decompresses to more than %zu bytes", what, cap);
    if (rc)
        return msh_err_set(err, rc == MSH_ENOMEM ? MSH_ENOMEM : MSH_EFORMAT, "the %s is not valid gzip", what);
    return MSH_OK;
}

static msh_rc walk_dir(walk *w, uint64_t off, uint64_t len, int depth, msh_err *err);

/* Decode the directory now in w->dir and walk its entries. */
static msh_rc walk_entries(walk *w, int depth, const char *what, msh_err *err)
{
    msh_pmtiles_reader *r = w->r;
    const uint8_t *p = w->dir.data, *end = p + w->dir.len;
    uint64_t n;
    if (!varint(&p, end, &n))
        return msh_err_set(err, MSH_EFORMAT, "the %s has no entry count", what);
    /* each entry takes at least 4 bytes (four varints): a count past that is a lie */
    if (n > (uint64_t)(end - p) / 4)
        return msh_err_set(err, MSH_EFORMAT, "the %s claims %llu entries in %zu bytes", what, (unsigned long long)n,
                           (size_t)(end - p));
    if (depth > 0 && n == 0)
        return msh_err_set(err, MSH_EFORMAT, "a leaf directory is empty");
    if (w->visited + n > MSH_PMTILES_MAX_ENTRIES)
        return msh_err_set(err, MSH_ETOOBIG, "the directories hold more than %u entries", MSH_PMTILES_MAX_ENTRIES);
    w->visited += n;
    entry *e = malloc((size_t)(n ? n : 1) * sizeof *e);
    if (!e)
        return msh_err_set(err, MSH_ENOMEM, "out of memory reading the %s", what);
    msh_rc rc = MSH_OK;
    uint64_t id = 0, v = 0;
    for (uint64_t i = 0; i < n && !rc; i++) {
        if (!varint(&p, end, &v) || v > UINT64_MAX - id)
            rc = msh_err_set(err, MSH_EFORMAT, "the %s's tile ids are cut short or overflow", what);
        else
            e[i].tile_id = id += v;
    }
    for (uint64_t i = 0; i < n && !rc; i++) {
        if (!varint(&p, end, &v) || v > UINT32_MAX)
            rc = msh_err_set(err, MSH_EFORMAT, "the %s's run lengths are cut short or too large", what);
        e[i].run = (uint32_t)v;
    }
    for (uint64_t i = 0; i < n && !rc; i++) {
        if (!varint(&p, end, &v) || v == 0 || v > MSH_PMTILES_MAX_TILE)
            rc = msh_err_set(err, MSH_EFORMAT, "the %s's lengths are cut short, 0 or past %llu", what,
                             (unsigned long long)MSH_PMTILES_MAX_TILE);
        e[i].length = (uint32_t)v;
    }
    for (uint64_t i = 0; i < n && !rc; i++) {
        if (!varint(&p, end, &v))
            rc = msh_err_set(err, MSH_EFORMAT, "the %s's offsets are cut short", what);
        else if (v == 0 && i == 0)
            rc = msh_err_set(err, MSH_EFORMAT, "the %s's first offset is relative to nothing", what);
        else if (v == 0)
            e[i].offset = e[i - 1].offset + e[i - 1].length;
        else
            e[i].offset = v - 1;
    }
    if (!rc && p != end)
        rc = msh_err_set(err, MSH_EFORMAT, "the %s has %zu bytes after its entries", what, (size_t)(end - p));
    for (uint64_t i = 0; i < n && !rc; i++) {
        const entry *x = &e[i];
        if (x->tile_id < w->next_id) {
            rc = msh_err_set(err, MSH_EFORMAT, "tile id %llu comes after %llu: entries out of order, overlapping or "
                             "a directory loop", (unsigned long long)x->tile_id, (unsigned long long)w->next_id);
        } else if (x->run == 0) {
            if (!inside(x->offset, x->length, r->h.leaf_len))
                rc = msh_err_set(err, MSH_EFORMAT, "a leaf directory at %llu (+%u) lies outside the leaf section",
                                 (unsigned long long)x->offset, x->length);
            else if (depth + 1 >= MSH_PMTILES_MAX_DEPTH)
                rc = msh_err_set(err, MSH_EFORMAT, "leaf directories nest more than %d deep", MSH_PMTILES_MAX_DEPTH - 1);
            else
                rc = walk_dir(w, r->h.leaf_off + x->offset, x->length, depth + 1, err);
        } else {
            if (!inside(x->offset, x->length, r->h.data_len))
                rc = msh_err_set(err, MSH_EFORMAT, "tile id %llu's bytes at %llu (+%u) lie outside the tile data",
                                 (unsigned long long)x->tile_id, (unsigned long long)x->offset, x->length);
            else if (x->run > UINT64_MAX - x->tile_id)
                rc = msh_err_set(err, MSH_EFORMAT, "tile id %llu's run overflows", (unsigned long long)x->tile_id);
            else if (msh_grow_from((void **)&r->e, &r->cap, r->n + 1, sizeof *r->e, 1024))
                rc = msh_err_set(err, MSH_ENOMEM, "out of memory indexing the archive");
            else {
                r->e[r->n++] = *x;
                w->next_id = x->tile_id + x->run;
            }
        }
    }
    free(e);
    return rc;
}

static msh_rc walk_dir(walk *w, uint64_t off, uint64_t len, int depth, msh_err *err)
{
    const char *what = depth ? "leaf directory" : "root directory";
    msh_rc rc = read_section(w->r, off, len, MSH_PMTILES_MAX_DIR, &w->raw, &w->dir, what, err);
    return rc ? rc : walk_entries(w, depth, what, err);
}

static msh_rc parse_header(msh_pmtiles_reader *r, const uint8_t *b, uint64_t size, msh_err *err)
{
    msh_pmtiles_header *h = &r->h;
    if (memcmp(b, "PMTiles", 7))
        return msh_err_set(err, MSH_EFORMAT, "not a PMTiles archive (no PMTiles magic)");
    if (b[7] != 3)
        return msh_err_set(err, MSH_EFORMAT, "PMTiles version %d: only version 3 is read", b[7]);
    uint64_t *f[] = {&h->root_off, &h->root_len, &h->meta_off, &h->meta_len, &h->leaf_off, &h->leaf_len,
                     &h->data_off, &h->data_len, &h->addressed, &h->entries, &h->contents};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++)
        *f[i] = msh_le64_get(b + 8 + 8 * i);
    h->clustered = b[96] == 1;
    h->internal_comp = b[97], h->tile_comp = b[98], h->tile_type = b[99];
    h->minzoom = b[100], h->maxzoom = b[101];
    h->bounds[0] = pos(b + 102), h->bounds[1] = pos(b + 106), h->bounds[2] = pos(b + 110), h->bounds[3] = pos(b + 114);
    h->center_zoom = b[118];
    h->center[0] = pos(b + 119), h->center[1] = pos(b + 123);
    static const char *const names[] = {"root directory", "metadata", "leaf directories", "tile data"};
    for (int i = 0; i < 4; i++)
        if (!inside(*f[2 * i], *f[2 * i + 1], size))
            return msh_err_set(err, MSH_EFORMAT, "the %s (%llu bytes at %llu) lies past the end of the file (%llu bytes)",
                               names[i], (unsigned long long)*f[2 * i + 1], (unsigned long long)*f[2 * i],
                               (unsigned long long)size);
    if (h->internal_comp != MSH_PMT_COMP_NONE && h->internal_comp != MSH_PMT_COMP_GZIP)
        return msh_err_set(err, MSH_EFORMAT, "internal compression %d: only none (1) and gzip (2) are read",
                           h->internal_comp);
    if (h->tile_comp != MSH_PMT_COMP_NONE && h->tile_comp != MSH_PMT_COMP_GZIP)
        return msh_err_set(err, MSH_EFORMAT, "tile compression %d: only none (1) and gzip (2) are served", h->tile_comp);
    if (h->tile_type < MSH_PMT_TYPE_MVT || h->tile_type > MSH_PMT_TYPE_AVIF)
        return msh_err_set(err, MSH_EFORMAT, "tile type %d: mvt, png, jpeg, webp and avif are served", h->tile_type);
    if (h->minzoom > h->maxzoom || h->maxzoom > 30)
        return msh_err_set(err, MSH_EFORMAT, "zooms %d-%d are not a zoom range", h->minzoom, h->maxzoom);
    if (!h->root_len)
        return msh_err_set(err, MSH_EFORMAT, "the root directory is empty");
    return MSH_OK;
}

msh_rc msh_pmtiles_reader_open(msh_pmtiles_read_fn fn, void *ud, uint64_t size, msh_pmtiles_reader **out,
                               msh_err *err)
{
    *out = NULL;
    if (size < MSH_PMTILES_HEADER_LEN)
        return msh_err_set(err, MSH_EFORMAT, "%llu bytes: too short for a PMTiles header", (unsigned long long)size);
    msh_pmtiles_reader *r = calloc(1, sizeof *r);
    if (!r)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    r->read = fn, r->ud = ud;
    walk w = {.r = r};
    msh_buf_init(&w.raw, SIZE_MAX);
    msh_buf_init(&w.dir, SIZE_MAX);
    uint8_t hb[MSH_PMTILES_HEADER_LEN];
    msh_rc rc = fn(ud, 0, sizeof hb, hb) ? msh_err_set(err, MSH_EIO, "cannot read the header") : MSH_OK;
    if (!rc) rc = parse_header(r, hb, size, err);
    if (!rc) rc = walk_dir(&w, r->h.root_off, r->h.root_len, 0, err);
    if (!rc && r->h.meta_len) {
        rc = read_section(r, r->h.meta_off, r->h.meta_len, MSH_PMTILES_MAX_META, &w.raw, &w.dir, "metadata", err);
        if (!rc) {
            r->meta = malloc(w.dir.len + 1);
            if (!r->meta)
                rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
            else {
                memcpy(r->meta, w.dir.data, w.dir.len);
                r->meta[w.dir.len] = 0;
            }
        }
    }
    if (!rc && !r->meta && !(r->meta = strdup("{}")))
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
    msh_buf_free(&w.raw);
    msh_buf_free(&w.dir);
    if (rc) {
        msh_pmtiles_reader_free(r);
        return rc;
    }
    *out = r;
    return MSH_OK;
}

void msh_pmtiles_reader_free(msh_pmtiles_reader *r)
{
    if (!r)
        return;
    free(r->meta);
    free(r->e);
    free(r);
}

const msh_pmtiles_header *msh_pmtiles_reader_header(const msh_pmtiles_reader *r) { return &r->h; }

const char *msh_pmtiles_reader_metadata(const msh_pmtiles_reader *r) { return r->meta; }

bool msh_pmtiles_reader_find(const msh_pmtiles_reader *r, int z, uint32_t x, uint32_t y, uint64_t *off, uint32_t *len)
{
    if (z < 0 || z > 30 || (z < 32 && ((uint64_t)x >> z || (uint64_t)y >> z)))
        return false;
    uint64_t id = msh_pmtiles_tile_id(z, x, y);
    size_t lo = 0, hi = r->n; /* the last entry with tile_id <= id */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->e[mid].tile_id <= id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!lo)
        return false;
    const entry *e = &r->e[lo - 1];
    if (id - e->tile_id >= e->run)
        return false;
    *off = r->h.data_off + e->offset;
    *len = e->length;
    return true;
}

msh_rc msh_pmtiles_reader_tile(const msh_pmtiles_reader *r, int z, uint32_t x, uint32_t y, msh_buf *out, msh_err *err)
{
    uint64_t off;
    uint32_t len;
    msh_buf_reset(out);
    if (!msh_pmtiles_reader_find(r, z, x, y, &off, &len))
        return msh_err_set(err, MSH_ENOTFOUND, "no tile %d/%u/%u in the archive", z, x, y);
    if (msh_buf_reserve(out, len))
        return msh_err_set(err, MSH_ENOMEM, "out of memory reading tile %d/%u/%u", z, x, y);
    if (r->read(r->ud, off, len, out->data))
        return msh_err_set(err, MSH_EIO, "cannot read tile %d/%u/%u", z, x, y);
    out->len = len;
    return MSH_OK;
}
