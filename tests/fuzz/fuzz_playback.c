/* fuzz_playback.c: a recorded minute's decoder (layers/live/playback_codec.c) never crashes on
 * bytes read back from disk, and what it accepts is well formed: as many cells as the header says,
 * strictly increasing Morton codes inside the 2^22 grid, none empty; a refusal returns nothing and
 * says why. The input is tried as a whole record and as an inflated varint stream (whose cell count
 * is its first byte), and an accepted record encodes back to the same cells. */
#include <stdint.h>
#include <stdlib.h>

#include "live/playback_codec.h"

static void well_formed(const msh_pb_cell *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!c[i].count || c[i].m >> 44 || (i && c[i].m <= c[i - 1].m))
            abort();
}

static int same(const msh_pb_cell *a, const msh_pb_cell *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].m != b[i].m || a[i].count != b[i].count || a[i].vx != b[i].vx || a[i].vy != b[i].vy ||
            a[i].v2 != b[i].v2)
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    msh_err err;
    msh_pb_header h;
    msh_pb_cell *cells = (msh_pb_cell *)1;
    err.msg[0] = 0;
    if (msh_pb_decode(data, size, &h, &cells, &err) == MSH_OK) {
        well_formed(cells, h.cells);
        uint8_t *b = NULL;
        size_t len = 0, cap = 0;
        msh_pb_cell *again = NULL;
        msh_pb_header h2;
        if (msh_pb_encode(h.minute, cells, h.cells, 1, &b, &len, &cap, &err) ||
            msh_pb_decode(b, len, &h2, &again, &err) || h2.cells != h.cells ||
            !same(again, cells, h.cells))
            abort();
        free(again);
        free(b);
        free(cells);
    } else if (cells || !err.msg[0]) {
        abort();
    }
    if (size) {
        cells = (msh_pb_cell *)1;
        err.msg[0] = 0;
        if (msh_pb_decode_stream(data + 1, size - 1, data[0], &cells, &err) == MSH_OK) {
            well_formed(cells, data[0]);
            free(cells);
        } else if (cells || !err.msg[0]) {
            abort();
        }
    }
    return 0;
}
