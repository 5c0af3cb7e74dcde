/* package_service.h: the offline packages of `mashaer serve --packages DIR`: every `*.pmtiles`
 * file in that folder (made by `mashaer export`, or elsewhere), and every package folder
 * (`mashaer package`: a folder with a manifest.json, services/package_build.h), listed and opened
 * by name.
 *
 * A package folder's files are served only when its manifest lists them (the exact path), so no
 * request can reach outside it or a half-written temporary folder (those start with '.', never a
 * package name). The manifest's ETag is the package's etag (it names the data the package holds);
 * every other file's is its SHA-256 in the manifest. The folder is opened once per request and the
 * manifest and the file are read through that handle, so a rebuild swapping the folder in between
 * never pairs the old manifest with a new file.
 *
 * The folder is read at each request (a readdir of a few entries): a package dropped in or
 * replaced (exported under a temporary name and renamed, as `mashaer export` does) is served at
 * once, and a client holding an old ETag is told by If-Range or If-None-Match. A package's ETag
 * names its file: size, modification time and inode, so a replaced file never shares one.
 */
#ifndef MSH_PACKAGE_SERVICE_H
#define MSH_PACKAGE_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "core/msh_buf.h"
#include "core/msh_err.h"

/** True for a name the folder may serve: [A-Za-z0-9_.-], not starting with '.', ending in
 * ".pmtiles", up to 128 bytes (no slash, so never outside the folder). */
bool msh_package_name_ok(const char *name);

typedef struct msh_package {
    int fd;           /* open read-only; the caller closes it (or hands it to the response) */
    uint64_t size;
    char etag[48];    /* with quotes */
    long long mtime;  /* seconds since the epoch */
    const char *ctype; /* Content-Type */
} msh_package;

/** Open package `name` of folder `dir`: MSH_EINVAL for a name not ok, MSH_ENOTFOUND when absent. */
msh_rc msh_package_open(const char *dir, const char *name, msh_package *p, msh_err *err);

/** Open `path` = "{name}/{file}" of a package folder of `dir`: MSH_EINVAL for a bad name,
 * MSH_ENOTFOUND when there is no such package or its manifest does not list the file. */
msh_rc msh_package_file_open(const char *dir, const char *path, msh_package *p, msh_err *err);

/** What a package folder's manifest says it was built from, and whether it is out of date. */
typedef struct msh_package_folder {
    char style[72];
    double bbox[4];
    int minzoom, maxzoom;
    bool stale;   /* a packaged layer's version is not the catalog's (or the layer is gone) */
    uint64_t sig; /* a hash of the catalog's versions of its layers: what a rebuild would hold */
} msh_package_folder;

/** Read package folder `name` of `dir` against the catalog cat. MSH_ENOTFOUND: not a package
 * folder of this format (no readable manifest, another format version, or no layers). */
msh_rc msh_package_folder_check(const char *dir, const char *name, const msh_catalog *cat,
                                msh_package_folder *out, msh_err *err);

/** A JSON document listing the folder's packages, sorted by name: archives (type "pmtiles": name,
 * url from `base`, bytes, etag, modified) and package folders (type "package": name, manifest URL,
 * style, bbox, zooms, bytes, etag, modified = the manifest's created). */
msh_rc msh_packages_list(const char *dir, const char *base, msh_buf *out, msh_err *err);

#endif
