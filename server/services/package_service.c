/* package_service.c: the packages folder (see package_service.h). No state between requests. */
#include "services/package_service.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/msh_hash.h"
#include "core/msh_time.h"
#include "layer.h"
#include "services/package_build.h"

#define SUFFIX ".pmtiles"
#define MAX_PACKAGES 4096
#define MAX_MANIFEST_BYTES ((size_t)4 << 20)

bool msh_package_name_ok(const char *name)
{
    size_t n = strlen(name), k = strlen(SUFFIX);
    if (n <= k || n > 128 || name[0] == '.' || strcmp(name + n - k, SUFFIX))
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              *p == '-' || *p == '.'))
            return false;
    return true;
}

static void etag_of(const struct stat *st, char *out, size_t cap)
{
    uint64_t v[4] = {(uint64_t)st->st_size, (uint64_t)st->st_mtim.tv_sec, (uint64_t)st->st_mtim.tv_nsec,
                     (uint64_t)st->st_ino};
    snprintf(out, cap, "\"pkg-%016llx\"", (unsigned long long)msh_fnv1a(v, sizeof v, MSH_FNV1A_INIT));
}

msh_rc msh_package_open(const char *dir, const char *name, msh_package *p, msh_err *err)
{
    p->fd = -1;
    if (!msh_package_name_ok(name))
        return msh_err_set(err, MSH_EINVAL, "a package name is letters, digits, '_', '-' and '.', ending in .pmtiles");
    int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d < 0)
        return msh_err_set(err, MSH_EIO, "the packages folder cannot be read");
    int fd = openat(d, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    close(d);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return msh_err_set(err, MSH_ENOTFOUND, "no package '%s' (see /packages)", name);
    }
    p->fd = fd;
    p->size = (uint64_t)st.st_size;
    p->mtime = (long long)st.st_mtim.tv_sec;
    p->ctype = "application/vnd.pmtiles";
    etag_of(&st, p->etag, sizeof p->etag);
    return MSH_OK;
}

/* The manifest of the package folder open as pfd, or NULL (missing, too large or not JSON). */
static json_t *manifest_at(int pfd)
{
    int fd = openat(pfd, MSH_PACKAGE_MANIFEST, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return NULL;
    struct stat st;
    json_t *m = NULL;
    if (!fstat(fd, &st) && S_ISREG(st.st_mode) && (size_t)st.st_size <= MAX_MANIFEST_BYTES) {
        char *buf = malloc((size_t)st.st_size + 1);
        ssize_t got = buf ? read(fd, buf, (size_t)st.st_size) : -1;
        if (got == st.st_size)
            m = json_loadb(buf, (size_t)got, 0, NULL);
        free(buf);
    }
    close(fd);
    if (m && (!json_is_object(m) || !json_string_value(json_object_get(m, "etag")))) {
        json_decref(m);
        m = NULL;
    }
    return m;
}

static const char *ctype_of(const char *file)
{
    static const char *const types[][2] = {{".pmtiles", "application/vnd.pmtiles"}, {".json", "application/json"},
                                           {".pbf", "application/x-protobuf"},      {".png", "image/png"},
                                           {".js", "text/javascript"}};
    size_t n = strlen(file);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        size_t k = strlen(types[i][0]);
        if (n > k && !strcmp(file + n - k, types[i][0]))
            return types[i][1];
    }
    return "application/octet-stream";
}

msh_rc msh_package_file_open(const char *dir, const char *path, msh_package *p, msh_err *err)
{
    p->fd = -1;
    char name[MSH_PACKAGE_NAME_MAX + 1];
    size_t nl = strcspn(path, "/");
    const char *file = path + nl + (path[nl] == '/');
    if (nl > MSH_PACKAGE_NAME_MAX || !*file)
        return msh_err_set(err, MSH_EINVAL, "package files are /packages/{name}/{file}, the files its manifest lists");
    memcpy(name, path, nl);
    name[nl] = 0;
    if (!msh_package_build_name_ok(name))
        return msh_err_set(err, MSH_EINVAL, "a package name is letters, digits, '_' and '-'");
    int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d < 0)
        return msh_err_set(err, MSH_EIO, "the packages folder cannot be read");
    int pfd = openat(d, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    close(d);
    json_t *m = pfd >= 0 ? manifest_at(pfd) : NULL;
    msh_rc rc = m ? MSH_OK : msh_err_set(err, MSH_ENOTFOUND, "no package '%s' (see /packages)", name);
    char etag[80] = "";
    if (!rc && !strcmp(file, MSH_PACKAGE_MANIFEST)) {
        snprintf(etag, sizeof etag, "\"%s\"", json_string_value(json_object_get(m, "etag")));
    } else if (!rc) {
        size_t i;
        json_t *f;
        json_array_foreach(json_object_get(m, "files"), i, f)
        {
            const char *fp = json_string_value(json_object_get(f, "path"));
            const char *sha = json_string_value(json_object_get(f, "sha256"));
            if (fp && sha && !strcmp(fp, file) && strlen(sha) >= 32) {
                snprintf(etag, sizeof etag, "\"%.32s\"", sha);
                break;
            }
        }
        /* a listed path never climbs out: the manifest is ours, but check anyway */
        if (!*etag || file[0] == '/' || strstr(file, "..") || strstr(file, "/."))
            rc = msh_err_set(err, MSH_ENOTFOUND, "package '%s' has no file '%.200s' (see its %s)", name, file,
                             MSH_PACKAGE_MANIFEST);
    }
    int fd = rc ? -1 : openat(pfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (!rc && (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)))
        rc = msh_err_set(err, MSH_ENOTFOUND, "package '%s' has no file '%.200s'", name, file);
    if (!rc) {
        p->fd = fd, fd = -1;
        p->size = (uint64_t)st.st_size;
        p->mtime = (long long)st.st_mtim.tv_sec;
        p->ctype = ctype_of(file);
        snprintf(p->etag, sizeof p->etag, "%s", etag);
    }
    if (fd >= 0)
        close(fd);
    if (pfd >= 0)
        close(pfd);
    json_decref(m);
    return rc;
}

msh_rc msh_package_folder_check(const char *dir, const char *name, const msh_catalog *cat, msh_package_folder *out,
                                msh_err *err)
{
    memset(out, 0, sizeof *out);
    int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int pfd = d >= 0 && msh_package_build_name_ok(name) ? openat(d, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                                                        : -1;
    if (d >= 0)
        close(d);
    json_t *m = pfd >= 0 ? manifest_at(pfd) : NULL;
    if (pfd >= 0)
        close(pfd);
    json_t *layers = json_object_get(m, "layers"), *bbox = json_object_get(m, "bbox");
    const char *style = json_string_value(json_object_get(m, "style"));
    msh_rc rc = MSH_OK;
    if (!m || json_integer_value(json_object_get(m, "format")) != MSH_PACKAGE_FORMAT || !json_object_size(layers) ||
        !style || strlen(style) >= sizeof out->style || json_array_size(bbox) != 4) {
        rc = msh_err_set(err, MSH_ENOTFOUND, "%s is not a package folder of format %d", name, MSH_PACKAGE_FORMAT);
        goto out;
    }
    snprintf(out->style, sizeof out->style, "%s", style);
    for (size_t i = 0; i < 4; i++)
        out->bbox[i] = json_number_value(json_array_get(bbox, i));
    out->minzoom = (int)json_integer_value(json_object_get(m, "minzoom"));
    out->maxzoom = (int)json_integer_value(json_object_get(m, "maxzoom"));
    out->sig = MSH_FNV1A_INIT;
    const char *k;
    json_t *v;
    json_object_foreach(layers, k, v)
    {
        msh_layer *l = msh_catalog_find(cat, k, strlen(k));
        uint64_t now = l ? l->info.version : 0;
        if (!l || (uint64_t)json_integer_value(v) != now)
            out->stale = true;
        out->sig = msh_fnv1a(k, strlen(k) + 1, out->sig);
        out->sig = msh_fnv1a(&now, sizeof now, out->sig);
    }
out:
    json_decref(m);
    return rc;
}

/* The list entry of package folder `name` (open as pfd); nothing when its manifest cannot be read. */
static void list_folder(msh_buf *out, int pfd, const char *name, const char *base, size_t *shown)
{
    json_t *m = manifest_at(pfd);
    if (!m)
        return;
    json_t *e = json_object();
    char url[512];
    snprintf(url, sizeof url, "%s/packages/%s/%s", base, name, MSH_PACKAGE_MANIFEST);
    char etag[80];
    snprintf(etag, sizeof etag, "\"%s\"", json_string_value(json_object_get(m, "etag")));
    json_object_set_new(e, "name", json_string(name));
    json_object_set_new(e, "type", json_string("package"));
    json_object_set_new(e, "manifest", json_string(url));
    static const char *const keys[] = {"style", "bbox", "minzoom", "maxzoom", "bytes"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (json_object_get(m, keys[i]))
            json_object_set(e, keys[i], json_object_get(m, keys[i]));
    json_object_set_new(e, "etag", json_string(etag));
    if (json_object_get(m, "created"))
        json_object_set(e, "modified", json_object_get(m, "created"));
    char *s = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    if (s)
        msh_buf_printf(out, "%s%s", (*shown)++ ? "," : "", s);
    free(s);
    json_decref(e);
    json_decref(m);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

msh_rc msh_packages_list(const char *dir, const char *base, msh_buf *out, msh_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return msh_err_set(err, MSH_EIO, "the packages folder cannot be read");
    char *names[MAX_PACKAGES];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < MAX_PACKAGES)
        if ((msh_package_name_ok(e->d_name) || msh_package_build_name_ok(e->d_name)) && (names[n] = strdup(e->d_name)))
            n++;
    int dfd = dirfd(d);
    qsort(names, n, sizeof *names, cmp_name);
    msh_buf_printf(out, "{\"packages\":[");
    size_t shown = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        int pfd;
        if (!msh_package_name_ok(names[i])) { /* a package folder */
            if ((pfd = openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
                list_folder(out, pfd, names[i], base, &shown);
                close(pfd);
            }
        } else if (!fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) && S_ISREG(st.st_mode)) {
            char etag[48], when[MSH_TIME_ISO_CAP];
            etag_of(&st, etag, sizeof etag);
            msh_time_format_iso((int64_t)st.st_mtim.tv_sec * 1000, when, sizeof when, 0);
            /* names are [A-Za-z0-9_.-]: nothing to escape */
            msh_buf_printf(out, "%s{\"name\":\"%.*s\",\"type\":\"pmtiles\",\"url\":\"%s/packages/%s\",\"bytes\":%llu,\"etag\":\"",
                           shown++ ? "," : "", (int)(strlen(names[i]) - strlen(SUFFIX)), names[i], base, names[i],
                           (unsigned long long)st.st_size);
            msh_buf_json_str(out, etag);
            msh_buf_printf(out, "\",\"modified\":\"%s\"}", when);
        }
        free(names[i]);
    }
    closedir(d);
    msh_buf_printf(out, "]}\n");
    return MSH_OK;
}
