/* fuzz_pmtiles.c: the PMTiles reader on arbitrary archives (the input is the whole file).
 * Whatever it is given, opening either fails with a message or yields a reader whose every tile
 * lies inside the file; a few lookups (the header's zooms and centre, and z/x/y from the input's
 * first bytes) are checked and read. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pmtiles_read.h"

typedef struct src {
    const uint8_t *p;
    size_t n;
} src;

static msh_rc rd(void *ud, uint64_t off, size_t len, uint8_t *out)
{
    const src *s = ud;
    if (off > s->n || len > s->n - off)
        return MSH_EIO;
    memcpy(out, s->p + off, len);
    return MSH_OK;
}

static void check(const msh_pmtiles_reader *r, const src *s, int z, uint32_t x, uint32_t y)
{
    uint64_t off;
    uint32_t len;
    if (!msh_pmtiles_reader_find(r, z, x, y, &off, &len))
        return;
    if (len == 0 || off > s->n || len > s->n - off)
        abort();
    msh_buf b;
    msh_buf_init(&b, (size_t)1 << 30);
    msh_err err;
    if (msh_pmtiles_reader_tile(r, z, x, y, &b, &err) || b.len != len || memcmp(b.data, s->p + off, len))
        abort();
    msh_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    src s = {data, size};
    msh_pmtiles_reader *r = NULL;
    msh_err err = {0};
    if (msh_pmtiles_reader_open(rd, &s, size, &r, &err)) {
        if (!err.msg[0] || r)
            abort(); /* a refusal always says why */
        return 0;
    }
    const msh_pmtiles_header *h = msh_pmtiles_reader_header(r);
    if (!msh_pmtiles_reader_metadata(r))
        abort();
    for (int z = h->minzoom; z <= h->maxzoom && z <= h->minzoom + 3; z++)
        for (uint32_t x = 0; x < (1u << z) && x < 8; x++)
            for (uint32_t y = 0; y < (1u << z) && y < 8; y++)
                check(r, &s, z, x, y);
    uint32_t zz = size > 8 ? data[size - 1] % 31 : 0;
    uint32_t xy = size > 8 ? (uint32_t)data[size - 2] << 8 | data[size - 3] : 0;
    check(r, &s, (int)zz, xy & ((1u << zz) - 1), (xy >> 3) & ((1u << zz) - 1));
    msh_pmtiles_reader_free(r);
    return 0;
}
