/* raster_tiles.c: PNG tiles for the export walk (see raster_tiles.h).
 * Lock contract: none needed; each state (an msh_raster) is used by its worker thread only, and
 * the style and catalog are read-only while the walk runs. */
#include "raster_tiles.h"

#include "raster.h"

static void *state_new(void *ud, size_t max_tile_bytes)
{
    (void)ud, (void)max_tile_bytes;
    return msh_raster_new();
}

static void state_free(void *state) { msh_raster_free(state); }

static msh_rc make(void *ud, void *state, int z, uint32_t x, uint32_t y, const uint8_t **data, size_t *len,
                   uint64_t *features, msh_err *err)
{
    const msh_raster_tiles *rt = ud;
    msh_raster_stats st;
    msh_rc rc = msh_raster_render(state, rt->style, rt->cat, z, x, y, rt->ratio, data, len, &st, err);
    if (rc)
        return rc;
    *features = st.features;
    if (!st.backgrounds && !st.features && !st.labels)
        *len = 0; /* nothing painted: blank */
    return MSH_OK;
}

msh_export_maker msh_raster_tiles_maker(msh_raster_tiles *rt)
{
    return (msh_export_maker){state_new, state_free, make, rt};
}
