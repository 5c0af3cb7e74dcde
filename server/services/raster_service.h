/* raster_service.h: what PNG tiles need kept between requests: every style of the styles folder,
 * compiled once at start, and one renderer per worker thread.
 *
 * Design: every .json file of the styles folder is compiled at start (layers/render/rstyle.h); what
 * the renderer ignores is printed then, one line per property, and a style that does not compile
 * is reported with its file, line and reason, and kept as an error that every request for it gets.
 * Each worker thread keeps its own renderer (layers/render/raster.h: Cairo surfaces, a Pango
 * context), made on first use and freed when the thread ends. The routes that draw are
 * server/routes/routes_raster.c; they cache PNGs in the tile cache (server/http/tile_cache.h).
 */
#ifndef MSH_RASTER_SERVICE_H
#define MSH_RASTER_SERVICE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/msh_err.h"
#include "raster.h"
#include "rstyle.h"

typedef struct msh_raster_service msh_raster_service;

/** Compile every style in `styles_dir`, printing warnings and errors to stderr. NULL when out of memory. */
msh_raster_service *msh_raster_service_new(const char *styles_dir);
void msh_raster_service_free(msh_raster_service *s);

/** The style named name[0..n): MSH_ENOTFOUND when there is none, MSH_EINTERNAL (and why) when it did not compile. */
msh_rc msh_raster_service_style(msh_raster_service *s, const char *name, size_t n, const msh_rstyle **st,
                                msh_err *err);

/** The name of the i-th style of the folder (compiled or not), in the order read; NULL past the last. */
const char *msh_raster_service_name(const msh_raster_service *s, size_t i);

/** The calling thread's renderer (made on first use); NULL when out of memory. */
msh_raster *msh_raster_service_thread(msh_raster_service *s);

/** Style names are 1-63 bytes of a-z, 0-9, _ and -. */
bool msh_raster_style_name_ok(const char *s, size_t n);

#endif
