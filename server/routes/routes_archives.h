/* routes_archives.h: tiles and TileJSON of the archives given to --tiles FILE
 * (server/services/archive_service.h), under /tiles/{name}/... like the store's layers.
 *
 * Design: routes_tiles.c asks here first for a path naming one layer; an archive of that name
 * answers, else the store's layers do. A tile is the archive's bytes: a gzipped vector tile goes
 * as it is to a client that takes gzip (Content-Encoding: gzip) and is ungzipped for one that does
 * not; images go with their Content-Type. 404 for a tile the archive lacks (outside its zooms or
 * its box), for .png of a vector archive or .mvt of an image one, and for @2x.png (archives hold
 * one size). The ETag is the archive file's identity and the tile's bytes' hash.
 */
#ifndef MSH_ROUTES_ARCHIVES_H
#define MSH_ROUTES_ARCHIVES_H

#include <stdbool.h>

#include "http/http.h"
#include "http/tilepath.h"

/** Answer tp when it names one archive (true); false: not an archive, nothing answered. */
bool msh_route_archive(msh_req *r, const msh_tilepath *tp);

#endif
