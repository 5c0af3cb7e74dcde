/* package_build.h: one offline package for MapLibre, written whole or not at all.
 *
 * A package is a folder OUT/NAME holding everything MapLibre GL JS or Native needs to draw a
 * style over a box and zoom range with no network:
 *   style.json                the style, its vector sources rewritten to "pmtiles://SOURCE.pmtiles",
 *                             "glyphs" to "fonts/{fontstack}/{range}.pbf", "sprite" to "sprites/NAME"
 *                             (all relative to the package folder);
 *   SOURCE.pmtiles            per vector source of the style, the server's composite tiles of its
 *                             layers (exporters/: the same bytes as /tiles/L1,L2/{z}/{x}/{y}.mvt);
 *   fonts/STACK/S-E.pbf       only the 256-code-point glyph ranges the labels use: the text of
 *                             every label field of every symbol layer, read from the features in
 *                             the box, plus the style's literal text; Arabic text adds the Arabic
 *                             presentation forms the RTL plugin shapes it into (U+FE00-FEFF, and
 *                             U+FB00-FBFF for the letters of Persian, Urdu...) (the same bytes as
 *                             /fonts/...);
 *   sprites/NAME[@2x].json|png  the sprite sheets (the same bytes as /sprites/...);
 *   mapbox-gl-rtl-text.js     MapLibre's RTL text plugin, when the labels have Arabic or Hebrew;
 *   manifest.json             written last: format, name, style, bbox, zooms, the layers' versions,
 *                             created, etag, every file with its bytes and SHA-256.
 *
 * Only sources whose layers are all stored and public go in: live layers (movement, incidents,
 * crews, gates, sensors), KPI layers and ops-only layers are not data a package can carry; those
 * sources and the style layers drawing them are dropped and named in the manifest's "omitted".
 *
 * The etag (manifest "etag", the package's HTTP ETag) hashes what the package holds: the format,
 * the style's bytes, the box, the zooms and every packaged layer's version. Two builds of the
 * same data give the same etag; an edit or a re-import of any of its layers changes it.
 *
 * Atomicity: everything is written under OUT/.NAME.partXXXXXX, each file fsync'ed, then the
 * folder takes the final name: a plain rename when none was there, else an exchange
 * (renameat2 RENAME_EXCHANGE) with the old folder, which is then removed. A reader sees the old
 * package or the new one, never a mix; an interrupted build leaves the old one intact.
 *
 * Threads: msh_package_build runs on the calling thread (plus o->threads tile workers); it reads
 * the catalog snapshot it is given and holds no lock of the server's.
 */
#ifndef MSH_PACKAGE_BUILD_H
#define MSH_PACKAGE_BUILD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "core/msh_err.h"
#include "glyphs.h"

#define MSH_PACKAGE_FORMAT 1
#define MSH_PACKAGE_MANIFEST "manifest.json"
#define MSH_PACKAGE_RTL_FILE "mapbox-gl-rtl-text.js"
/* where the plugin is, under the web folder (the file /vendor/@mapbox/mapbox-gl-rtl-text/... serves) */
#define MSH_PACKAGE_RTL_SOURCE "node_modules/@mapbox/mapbox-gl-rtl-text/dist/mapbox-gl-rtl-text.js"
#define MSH_PACKAGE_NAME_MAX 64

typedef struct msh_package_spec {
    const char *name;       /* the folder's name: [A-Za-z0-9_-], 1..MSH_PACKAGE_NAME_MAX */
    const char *style;      /* the style's name (for the manifest) */
    const char *style_path; /* its file */
    double bbox[4];         /* lon/lat W,S,E,N */
    int minzoom, maxzoom;
    const char *rtl_plugin; /* mapbox-gl-rtl-text.js to copy in when labels need it, or NULL */
} msh_package_spec;

typedef struct msh_package_opts {
    int threads;            /* tile workers, >= 1 */
    /** Optional: tiles made so far over every source, on the building thread. */
    void (*progress)(void *ud, uint64_t done, uint64_t total);
    void *ud;
    const atomic_int *stop; /* optional: set to stop early (the build then fails, nothing changes) */
} msh_package_opts;

typedef struct msh_package_result {
    uint64_t bytes;         /* every file of the package */
    uint64_t tiles;         /* non-empty tiles over every archive */
    size_t files, glyph_ranges, sources, omitted;
    bool rtl;               /* the labels need the RTL plugin */
    bool rtl_missing;       /* ... and spec->rtl_plugin could not be read: not in the package */
    char etag[72];          /* "pkg-<hex>", no quotes */
} msh_package_result;

/** True for a package name: [A-Za-z0-9_-], 1..MSH_PACKAGE_NAME_MAX bytes. */
bool msh_package_build_name_ok(const char *name);

/** The tiles a build of spec walks (every source walks the same box and zooms once). */
uint64_t msh_package_build_tiles(const msh_package_spec *spec);

/** Build package spec->name into the folder out_dir (see above). Errors: a bad name or box, a
 * style that cannot be read or keeps no source (MSH_EINVAL / MSH_EFORMAT), no tile in the box,
 * I/O, interrupted (MSH_EINTERNAL "interrupted"). On any error out_dir/name is as it was. */
msh_rc msh_package_build(msh_catalog *cat, const msh_glyphs *g, const msh_package_spec *spec, const char *out_dir,
                         const msh_package_opts *o, msh_package_result *res, msh_err *err);

#endif
