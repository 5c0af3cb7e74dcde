/* routes_static.c: the web viewer (web/) and its npm packages (web/node_modules/{pkg}/dist), from an allow-list. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "routes/routes.h"

static const struct {
    const char *ext, *type;
} TYPES[] = {
    {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
    {".json", "application/json"}, {".map", "application/json"}, {".png", "image/png"},
    {".svg", "image/svg+xml"}, {".ico", "image/x-icon"}, {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"}, {".pbf", "application/x-protobuf"}, {NULL, NULL}};

static const char *content_type(const char *path)
{
    size_t n = strlen(path);
    for (int i = 0; TYPES[i].ext; i++) {
        size_t e = strlen(TYPES[i].ext);
        if (n > e && !strcmp(path + n - e, TYPES[i].ext))
            return TYPES[i].type;
    }
    return NULL;
}

/* A relative path we are willing to open: plain characters, no empty, "." or ".." segments, no hidden files. */
static int safe_rel_path(const char *p)
{
    if (!*p || strlen(p) > 512)
        return 0;
    const char *seg = p;
    for (const char *c = p;; c++) {
        if (*c == '/' || *c == 0) {
            if (c == seg || *seg == '.')
                return 0;
            if (!*c)
                break;
            seg = c + 1;
            continue;
        }
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' ||
              *c == '_' || *c == '-' || *c == '@'))
            return 0;
    }
    return 1;
}

static void send_file(msh_req *r, const char *root, const char *rel)
{
    const char *ctype = content_type(rel);
    if (!ctype) {
        msh_resp_error(r, 404, "not found: %s", r->path);
        return;
    }
    char full[1200], real[PATH_MAX], real_root[PATH_MAX];
    snprintf(full, sizeof full, "%s/%s", root, rel);
    /* the resolved path must stay inside the root: a symlinked folder must not lead out of it */
    size_t rl;
    if (!realpath(full, real) || !realpath(root, real_root) || (rl = strlen(real_root), strncmp(real, real_root, rl)) ||
        real[rl] != '/') {
        msh_resp_error(r, 404, "not found: %s", r->path);
        return;
    }
    int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        msh_resp_error(r, 404, "not found: %s", r->path);
        return;
    }
    r->resp.status = 200;
    r->resp.ctype = ctype;
    r->resp.fd = fd;
    r->resp.fd_size = (uint64_t)st.st_size;
    r->resp.cache_control = "no-cache";
    snprintf(r->resp.etag, sizeof r->resp.etag, "\"%llx-%llx\"", (unsigned long long)st.st_mtime,
             (unsigned long long)st.st_size);
}

/*
 * What the viewer loads, and nothing else: web/index.html and the files it names, and the
 * runtime files of its npm packages (/vendor/{pkg}/{file} -> node_modules/{pkg}/dist/{file}).
 * An allow-list, so that a file added to web/ for development (package-lock.json, tests, a
 * notes file) is never published by accident; a new runtime file of the viewer is a row here.
 */
static const struct {
    const char *url, *file;
} VIEWER[] = {
    {"/", "index.html"},
    {"/index.html", "index.html"},
    {"/app.js", "app.js"},
    {"/app.css", "app.css"},
    {"/kpi.js", "kpi.js"},
    {"/kpi.css", "kpi.css"},
    {"/route.js", "route.js"},
    {"/i18n.js", "i18n.js"},
    {"/clock.js", "clock.js"},
    {"/console.js", "console.js"},
    {"/console.css", "console.css"},
    {"/console_forecast.js", "console_forecast.js"},
    {"/console_broadcasts.js", "console_broadcasts.js"},
    {"/console_cleaning.js", "console_cleaning.js"},
    {"/console_reports.js", "console_reports.js"},
    {"/console_sites.js", "console_sites.js"},
    {"/console_tracking.js", "console_tracking.js"},
    {"/console_bins.js", "console_bins.js"},
    {"/vendor/maplibre-gl/maplibre-gl.js", "node_modules/maplibre-gl/dist/maplibre-gl.js"},
    {"/vendor/maplibre-gl/maplibre-gl.css", "node_modules/maplibre-gl/dist/maplibre-gl.css"},
    {"/vendor/uplot/uPlot.iife.min.js", "node_modules/uplot/dist/uPlot.iife.min.js"},
    {"/vendor/uplot/uPlot.min.css", "node_modules/uplot/dist/uPlot.min.css"},
    {"/vendor/@mapbox/mapbox-gl-rtl-text/mapbox-gl-rtl-text.js",
     "node_modules/@mapbox/mapbox-gl-rtl-text/dist/mapbox-gl-rtl-text.js"},
};

void msh_route_static(msh_req *r, const char *rest)
{
    (void)rest;
    if (strcmp(r->path, "/") && !safe_rel_path(r->path + 1)) {
        msh_resp_error(r, 400, "malformed path");
        return;
    }
    for (size_t i = 0; i < sizeof VIEWER / sizeof VIEWER[0]; i++)
        if (!strcmp(r->path, VIEWER[i].url)) {
            send_file(r, r->app->cfg.web_dir, VIEWER[i].file);
            return;
        }
    msh_resp_error(r, 404, "not found: %s", r->path);
}
