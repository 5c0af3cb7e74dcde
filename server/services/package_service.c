/* package_service.c: the packages folder (see package_service.h). No state between requests. */
#include "services/package_service.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/msh_hash.h"
#include "core/msh_time.h"

#define SUFFIX ".pmtiles"
#define MAX_PACKAGES 4096

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
    etag_of(&st, p->etag, sizeof p->etag);
    return MSH_OK;
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
        if (msh_package_name_ok(e->d_name) && (names[n] = strdup(e->d_name)))
            n++;
    int dfd = dirfd(d);
    qsort(names, n, sizeof *names, cmp_name);
    msh_buf_printf(out, "{\"packages\":[");
    size_t shown = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (!fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) && S_ISREG(st.st_mode)) {
            char etag[48], when[MSH_TIME_ISO_CAP];
            etag_of(&st, etag, sizeof etag);
            msh_time_format_iso((int64_t)st.st_mtim.tv_sec * 1000, when, sizeof when, 0);
            /* names are [A-Za-z0-9_.-]: nothing to escape */
            msh_buf_printf(out, "%s{\"name\":\"%.*s\",\"url\":\"%s/packages/%s\",\"bytes\":%llu,\"etag\":\"",
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
