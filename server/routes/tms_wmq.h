/* tms_wmq.h: the one tile matrix set this server tiles in, WebMercatorQuad (OGC 2D TMS 2.0, the
 * WMTS well-known scale set GoogleMapsCompatible: EPSG:3857, 256 px tiles, 2^z x 2^z at zoom z,
 * row 0 at the north), and the limits of a tileset within it: the tiles that cover an extent.
 *
 * Written once for the two documents that describe it: OGC API - Tiles (routes_ogc_tiles.c: the
 * TileMatrixSet JSON and each tileset's tileMatrixSetLimits) and the WMTS capabilities
 * (routes_wmts.c: TileMatrixSet and TileMatrixSetLimits). Both answer 404 for a tile outside the
 * limits through msh_wmq_in_limits, so what a document lists and what is served agree.
 */
#ifndef MSH_TMS_WMQ_H
#define MSH_TMS_WMQ_H

#include <stdbool.h>
#include <stdint.h>

#define MSH_WMQ_ID "WebMercatorQuad"
#define MSH_WMQ_URI "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
#define MSH_WMQ_CRS "http://www.opengis.net/def/crs/EPSG/0/3857"
/** Half the side of the Web Mercator square, metres: the matrices' top left corner is (-E, E). */
#define MSH_WMQ_EDGE 20037508.3427892

/** Scale denominator of zoom z (0.28 mm pixels, as every OGC tile matrix set counts them). */
double msh_wmq_scale(int z);
/** Metres per pixel at zoom z. */
double msh_wmq_cell(int z);

/** The tiles of zoom z covering bounds (lon/lat W,S,E,N): columns col0..col1, rows row0..row1. */
void msh_wmq_limits(const double bounds[4], int z, uint32_t *col0, uint32_t *col1, uint32_t *row0, uint32_t *row1);

/**
 * The first zoom at which bounds (lon/lat W,S,E,N) span a pixel both ways: a tileset's limits begin
 * there or later (below it the data is a dot, and clients that size a level's raster from the
 * extent, GDAL 3.6 among them, fail on a level under one pixel). MSH_MAX_ZOOM for a point.
 */
int msh_wmq_first_zoom(const double bounds[4]);

/** True when tile (z, row, col) is within the limits of a tileset over bounds and zooms minz..maxz. */
bool msh_wmq_in_limits(const double bounds[4], int minz, int maxz, int z, uint32_t row, uint32_t col);

#endif
