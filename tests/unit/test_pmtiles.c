/* test_pmtiles.c: PMTiles tile ids against the specification's table, and a directory's bytes
 * worked out by hand (delta ids, runs, lengths, offsets with 0 for "right after the previous"). */
#include <string.h>

#include "check.h"
#include "pmtiles.h"

int main(void)
{
    /* the table of spec/v3 section 4.1 */
    CHECK(msh_pmtiles_tile_id(0, 0, 0) == 0);
    CHECK(msh_pmtiles_tile_id(1, 0, 0) == 1);
    CHECK(msh_pmtiles_tile_id(1, 0, 1) == 2);
    CHECK(msh_pmtiles_tile_id(1, 1, 1) == 3);
    CHECK(msh_pmtiles_tile_id(1, 1, 0) == 4);
    CHECK(msh_pmtiles_tile_id(2, 0, 0) == 5);
    CHECK(msh_pmtiles_tile_id(12, 3423, 1763) == 19078479);
    /* every tile of a zoom gets its own id, in the range after the zooms below */
    for (int z = 0; z <= 4; z++) {
        uint64_t first = (((uint64_t)1 << (2 * z)) - 1) / 3, n = (uint64_t)1 << (2 * z);
        unsigned char seen[256] = {0};
        for (uint32_t x = 0; x < (1u << z); x++)
            for (uint32_t y = 0; y < (1u << z); y++) {
                uint64_t id = msh_pmtiles_tile_id(z, x, y);
                CHECK(id >= first && id < first + n);
                if (id >= first && id < first + n) {
                    CHECK(!seen[id - first]);
                    seen[id - first] = 1;
                }
            }
    }
    /* the last tile of z24 fits (ids stay below 2^53 up to z26) */
    CHECK(msh_pmtiles_tile_id(24, 0, (1u << 24) - 1) < ((uint64_t)1 << 53));

    /* tile 5 (42 bytes at 0), tiles 6-8 (10 bytes right after), tile 20 sharing tile 5's bytes */
    msh_pmtiles_entry e[] = {{5, 0, 42, 1}, {6, 42, 10, 3}, {20, 0, 42, 1}};
    msh_buf b;
    msh_buf_init(&b, 1024);
    msh_pmtiles_dir_encode(&b, e, 3);
    static const uint8_t want[] = {3, 5, 1, 14, 1, 3, 1, 42, 10, 42, 1, 0, 1};
    CHECK(b.len == sizeof want && !memcmp(b.data, want, sizeof want));
    /* large numbers as varints: a tile id past 2^28, an offset past 2^32 */
    msh_pmtiles_entry big[] = {{(uint64_t)1 << 30, ((uint64_t)1 << 33) - 1, 300, 1}};
    msh_buf_reset(&b);
    msh_pmtiles_dir_encode(&b, big, 1);
    static const uint8_t want_big[] = {1, 0x80, 0x80, 0x80, 0x80, 0x04, 1, 0xac, 0x02, 0x80, 0x80, 0x80, 0x80, 0x20};
    CHECK(b.len == sizeof want_big && !memcmp(b.data, want_big, sizeof want_big));
    msh_buf_free(&b);
    CHECK_DONE();
}
