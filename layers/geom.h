/* geom.h: the in-memory geometry every layer hands out, the WKB reader, and a box as WKB.
 *
 * One geometry is one family (points, lines or polygons, multi included): a
 * flat array of vertices plus the length of each part. For polygons a part is
 * a ring and the high bit of its length marks an outer ring, which starts a new
 * polygon; the rings after it, until the next outer ring, are its holes.
 * A msh_geom never owns its arrays: layers keep them in big per-layer arrays and
 * hand out views, so answering a query copies nothing.
 */
#ifndef MSH_GEOM_H
#define MSH_GEOM_H

#include <stdint.h>

#include "core/msh_buf.h"
#include "core/msh_err.h"

typedef enum {
    MSH_GT_NONE = 0,
    MSH_GT_POINT = 1,
    MSH_GT_LINE = 2,
    MSH_GT_POLYGON = 3
} msh_gtype;

#define MSH_RING_OUTER 0x80000000u
#define MSH_PART_LEN(v) ((v) & ~MSH_RING_OUTER)

typedef struct msh_geom {
    msh_gtype type;
    uint32_t npts;
    uint32_t nparts;          /* 0 for points */
    const double *xy;         /* 2 * npts values: x0 y0 x1 y1 ... */
    const uint32_t *parts;    /* nparts lengths, MSH_RING_OUTER on outer rings */
} msh_geom;

/** Name of a geometry family as used in the catalog ("Point", "LineString", "Polygon"). */
const char *msh_gtype_name(msh_gtype t);
/** Parse the catalog name back ("Point"/"MultiPoint" -> MSH_GT_POINT ...); MSH_GT_NONE if unknown. */
msh_gtype msh_gtype_parse(const char *name);

/** Growable owned geometry, the output of the WKB reader. */
typedef struct msh_geom_buf {
    msh_gtype type;
    msh_buf xy;    /* doubles */
    msh_buf parts; /* uint32 */
} msh_geom_buf;

void msh_geom_buf_init(msh_geom_buf *g, size_t max_vertices);
void msh_geom_buf_free(msh_geom_buf *g);
/** A view of the buffer's content (valid until the buffer changes). */
msh_geom msh_geom_buf_view(const msh_geom_buf *g);

/**
 * Read OGC WKB (2D, Z, M and ZM, ISO or EWKB flags; Z and M are dropped) into `out`,
 * which is reset first. Collections of mixed families keep the family of their
 * first non-empty member and drop the others. Fails with MSH_EFORMAT on any
 * truncated or malformed input and MSH_ETOOBIG past the buffer's vertex cap.
 */
msh_rc msh_wkb_read(const uint8_t *wkb, size_t len, msh_geom_buf *out, msh_err *err);

#define MSH_WKB_BOX_LEN 93
/** Write the box `b` (lon/lat: west, south, east, north) as a little-endian WKB Polygon of 5 vertices. */
void msh_wkb_box(const double b[4], uint8_t out[MSH_WKB_BOX_LEN]);

#endif
