/* download.h: an items query written as a file for desktop GIS and spreadsheets (f=gpkg|shp|csv|kml).
 *
 * Design: the OGC route selects the features exactly as for GeoJSON (filters, bbox, datetime,
 * limit, cursor) and hands them here one at a time; GDAL writes them into a file of its own in a
 * private temporary folder (mkdtemp under TMPDIR, mode 0700). msh_dl_finish closes the dataset,
 * opens the finished file, and removes it and its folder before returning the descriptor: the
 * bytes live only as long as the descriptor, which the HTTP layer closes when the answer is sent
 * or the client goes away, so no path leaves a file behind. msh_dl_free removes everything on
 * the error paths.
 *
 * Formats: GeoPackage (the feature id is the row's fid), ESRI Shapefile zipped by GDAL's own
 * .shp.zip writer (.shp .shx .dbf .prj and a .cpg saying UTF-8; text fields sized to their
 * longest value; a text over the 254 bytes dBASE holds is refused rather than cut short), CSV (geometry as WKT in the first column, UTF-8 with a byte
 * order mark so spreadsheets read Arabic right), KML (GDAL's KML driver, which streams: LIBKML
 * builds the whole document in memory and took minutes on 22,000 features; integers as text;
 * WGS 84 lon/lat only, as KML requires).
 * Outside GeoPackage the id is a field `fid` (`ogc_fid` when the layer has its own `fid`).
 * Coordinates are in the request's CRS in the x = east, y = north order files use (EPSG:4326 files
 * hold lon, lat), and the file carries the CRS where the format can (.prj, gpkg_spatial_ref_sys).
 * The work is bounded by the page (`limit`) and the bytes by `max_bytes` (MSH_ETOOBIG once the
 * features written pass it, counted as GDAL is handed them: vertices and attribute bytes).
 *
 * Lock contract: none; a msh_dl belongs to one request. GDAL drivers are registered once.
 */
#ifndef MSH_DOWNLOAD_H
#define MSH_DOWNLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "core/msh_err.h"
#include "crs_ref.h"
#include "layer.h"

/** Most features in one download (`limit` is lowered to it): a file is meant to hold a whole layer
 * (the demo's largest has 22,001), where a GeoJSON page stops at 10,000 (layers/query/qs.h). */
#define MSH_DL_LIMIT_MAX 100000

typedef enum { MSH_DL_GPKG, MSH_DL_SHP, MSH_DL_CSV, MSH_DL_KML, MSH_DL_COUNT } msh_dl_fmt;

/** The format an `f=` value names (gpkg, shp, csv, kml); false when it names none. */
bool msh_dl_format(const char *f, msh_dl_fmt *out);
/** Its `f=` name, media type, file name suffix (".gpkg", ".zip", ...) and a title for links. */
const char *msh_dl_name(msh_dl_fmt f);
const char *msh_dl_ctype(msh_dl_fmt f);
const char *msh_dl_suffix(msh_dl_fmt f);
const char *msh_dl_title(msh_dl_fmt f);

typedef struct msh_dl msh_dl;

/**
 * A new file of format `fmt` for features of `li` in `crs`. MSH_EINVAL when the format cannot hold
 * them (KML in another CRS than CRS84 or EPSG:4326; a shapefile of a mixed layer), MSH_EIO when
 * the temporary file cannot be made.
 */
msh_rc msh_dl_open(msh_dl_fmt fmt, const msh_layer_info *li, msh_crs crs, uint64_t max_bytes, msh_dl **out,
                   msh_err *err);
/** Write one feature. MSH_ETOOBIG past max_bytes; MSH_EINVAL when the format refuses it. */
msh_rc msh_dl_add(msh_dl *d, const msh_feature *f, msh_err *err);
/** Finish the file: *fd reads it from its start (the caller closes it), *size its bytes; nothing is left on disk. */
msh_rc msh_dl_finish(msh_dl *d, int *fd, uint64_t *size, msh_err *err);
/** Release `d` (NULL is fine) and remove whatever it wrote. */
void msh_dl_free(msh_dl *d);

#endif
