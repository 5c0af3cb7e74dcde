/* archive_service.c: tile archives served as sources (see archive_service.h). */
#include "services/archive_service.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/msh_hash.h"
#include "layer.h"
#include "mbtiles_read.h"
#include "pmtiles_read.h"

struct msh_archive_service {
    msh_archive a[MSH_ARCHIVES_MAX];
    size_t n;
};

static msh_rc pread_all(void *ud, uint64_t off, size_t len, uint8_t *out)
{
    int fd = *(const int *)ud;
    while (len) {
        ssize_t k = pread(fd, out, len, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return MSH_EIO;
        out += k, len -= (size_t)k, off += (uint64_t)k;
    }
    return MSH_OK;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcasecmp(s + n - k, suffix);
}

/* vector_layers, attribution (and a name) from a metadata JSON object. */
static void from_json(msh_archive *a, const char *text)
{
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    json_t *vl = json_object_get(j, "vector_layers");
    if (json_is_array(vl) && !a->vector_layers)
        a->vector_layers = json_dumps(vl, JSON_COMPACT);
    const char *at = json_string_value(json_object_get(j, "attribution"));
    if (at && !a->attribution)
        a->attribution = strdup(at);
    json_decref(j);
}

static const char *image_ctype(const char *ext)
{
    return !strcmp(ext, "png") ? "image/png" : !strcmp(ext, "webp") ? "image/webp" : !strcmp(ext, "avif") ? "image/avif"
                                                                                                          : "image/jpeg";
}

static msh_rc open_pmtiles(msh_archive *a, uint64_t size, msh_err *err)
{
    msh_rc rc = msh_pmtiles_reader_open(pread_all, &a->fd, size, &a->pm, err);
    if (rc)
        return rc;
    const msh_pmtiles_header *h = msh_pmtiles_reader_header(a->pm);
    static const char *const ext[] = {"", "mvt", "png", "jpg", "webp", "avif"};
    a->vector = h->tile_type == MSH_PMT_TYPE_MVT;
    a->ext = ext[h->tile_type];
    a->ctype = a->vector ? "application/vnd.mapbox-vector-tile" : image_ctype(a->ext);
    a->gzipped = h->tile_comp == MSH_PMT_COMP_GZIP;
    if (a->gzipped && !a->vector)
        return msh_err_set(err, MSH_EFORMAT, "gzipped %s tiles are not served", a->ext);
    a->minzoom = h->minzoom, a->maxzoom = h->maxzoom;
    memcpy(a->bounds, h->bounds, sizeof a->bounds);
    a->center[0] = h->center[0], a->center[1] = h->center[1], a->center[2] = h->center_zoom;
    from_json(a, msh_pmtiles_reader_metadata(a->pm));
    return MSH_OK;
}

static msh_rc open_mbtiles(msh_archive *a, msh_err *err)
{
    msh_rc rc = msh_mbtiles_reader_open(a->path, &a->mb, err);
    if (rc)
        return rc;
    const msh_mbtiles_meta *m = msh_mbtiles_reader_meta(a->mb);
    a->vector = !strcmp(m->format, "pbf");
    a->ext = a->vector ? "mvt" : !strcmp(m->format, "jpg") ? "jpg" : m->format;
    a->ctype = a->vector ? "application/vnd.mapbox-vector-tile" : image_ctype(a->ext);
    a->gzipped = a->vector; /* the specification: pbf tiles are gzipped (checked per tile when served) */
    a->minzoom = m->minzoom, a->maxzoom = m->maxzoom;
    memcpy(a->bounds, m->bounds, sizeof a->bounds);
    memcpy(a->center, m->center, sizeof a->center);
    if (m->attribution)
        a->attribution = strdup(m->attribution);
    from_json(a, m->json);
    return MSH_OK;
}

/* Open files[i] into a; the name is checked against cat and the archives before it. */
static msh_rc open_one(msh_archive_service *s, const char *path, const msh_catalog *cat, msh_err *err)
{
    msh_archive *a = &s->a[s->n];
    memset(a, 0, sizeof *a);
    a->fd = -1;
    a->path = path;
    bool pm = ends_with(path, ".pmtiles");
    if (!pm && !ends_with(path, ".mbtiles"))
        return msh_err_set(err, MSH_EINVAL, "--tiles %s: the file must end in .pmtiles or .mbtiles", path);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t stem = strlen(base) - 8; /* ".pmtiles" and ".mbtiles" */
    snprintf(a->name, sizeof a->name, "%.*s", (int)(stem < sizeof a->name ? stem : sizeof a->name - 1), base);
    if (stem >= sizeof a->name || !msh_layer_name_valid(a->name))
        return msh_err_set(err, MSH_EINVAL, "--tiles %s: the name '%.*s' (the file's stem) must be a layer name: "
                           "a-z first, then a-z, 0-9 and _", path, (int)stem, base);
    if (cat && msh_catalog_find(cat, a->name, strlen(a->name)))
        return msh_err_set(err, MSH_EINVAL, "--tiles %s: '%s' is already a layer of the store: rename the file", path,
                           a->name);
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->a[i].name, a->name))
            return msh_err_set(err, MSH_EINVAL, "--tiles %s: '%s' is given twice", path, a->name);
    a->fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (a->fd < 0 || fstat(a->fd, &st))
        return msh_err_set(err, MSH_EIO, "--tiles %s: %s", path, strerror(errno));
    char id[96];
    int idl = snprintf(id, sizeof id, "%llu-%lld.%09ld-%llu", (unsigned long long)st.st_size, (long long)st.st_mtim.tv_sec,
                       st.st_mtim.tv_nsec, (unsigned long long)st.st_ino);
    snprintf(a->etag, sizeof a->etag, "%016llx", (unsigned long long)msh_fnv1a(id, (size_t)idl, 0xcbf29ce484222325ull));
    msh_rc rc = pm ? open_pmtiles(a, (uint64_t)st.st_size, err) : open_mbtiles(a, err);
    if (rc) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        return msh_err_set(err, rc, "--tiles %s: %s", path, why);
    }
    if (!pm) { /* MBTiles reads through SQLite */
        close(a->fd);
        a->fd = -1;
    }
    return MSH_OK;
}

static void close_one(msh_archive *a)
{
    if (a->fd >= 0)
        close(a->fd);
    msh_pmtiles_reader_free(a->pm);
    msh_mbtiles_reader_free(a->mb);
    free(a->attribution);
    free(a->vector_layers);
}

msh_rc msh_archive_service_open(const char *const *files, size_t n, const msh_catalog *cat, msh_archive_service **out,
                                msh_err *err)
{
    *out = NULL;
    if (n > MSH_ARCHIVES_MAX)
        return msh_err_set(err, MSH_EINVAL, "at most %d --tiles files", MSH_ARCHIVES_MAX);
    msh_archive_service *s = calloc(1, sizeof *s);
    if (!s)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        msh_rc rc = open_one(s, files[i], cat, err);
        if (rc) {
            close_one(&s->a[s->n]);
            msh_archive_service_free(s);
            return rc;
        }
        s->n++;
    }
    *out = s;
    return MSH_OK;
}

void msh_archive_service_free(msh_archive_service *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        close_one(&s->a[i]);
    free(s);
}

const msh_archive *msh_archive_find(const msh_archive_service *s, const char *name)
{
    for (size_t i = 0; s && i < s->n; i++)
        if (!strcmp(s->a[i].name, name))
            return &s->a[i];
    return NULL;
}

msh_rc msh_archive_tile(const msh_archive *a, int z, uint32_t x, uint32_t y, msh_buf *out, msh_err *err)
{
    if (z < a->minzoom || z > a->maxzoom)
        return msh_err_set(err, MSH_ENOTFOUND, "%s holds zooms %d-%d, not %d", a->name, a->minzoom, a->maxzoom, z);
    return a->pm ? msh_pmtiles_reader_tile(a->pm, z, x, y, out, err) : msh_mbtiles_reader_tile(a->mb, z, x, y, out, err);
}
