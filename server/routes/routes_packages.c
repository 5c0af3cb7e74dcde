/* routes_packages.c: GET /packages (the list), GET /packages/{name}.pmtiles (the file, with
 * HTTP range requests, so that PMTiles clients read an archive over the network a range at a
 * time). The folder is --packages DIR (server/services/package_service.c).
 *
 * GET /packages/{name}/{file} serves the files of a package folder (`mashaer package`): only the
 * paths its manifest lists, with the manifest's hashes as ETags (services/package_service.h).
 *
 * Range rules (http/byterange.h): one range -> 206 with Content-Range; several -> 416 saying so
 * (no multipart answers); past the end -> 416 with Content-Range: bytes * / size; an If-Range that
 * is not the file's current ETag -> the whole file (200), as RFC 9110 says; If-None-Match with
 * the current ETag -> 304 before any range. Every answer names Accept-Ranges: bytes.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "http/byterange.h"
#include "routes/routes.h"
#include "services/package_service.h"

/* Answer with the package file p (its fd goes to the response or is closed): ranges, If-Range, 304. */
static void serve_file(msh_req *r, msh_package *p)
{
    snprintf(r->resp.etag, sizeof r->resp.etag, "%s", p->etag);
    r->resp.cache_control = "no-cache"; /* revalidate: the ETag says when the package changed */
    r->resp.accept_ranges = true;
    if (msh_req_etag_matches(r, p->etag)) {
        close(p->fd);
        r->resp.status = 200; /* http.c answers 304 */
        return;
    }
    const char *range = msh_req_header(r, "Range");
    const char *if_range = msh_req_header(r, "If-Range");
    if (range && if_range && strcmp(if_range, p->etag))
        range = NULL; /* the client's copy is of another file: it gets the whole new one */
    uint64_t first = 0, len = p->size;
    switch (msh_range_parse(range, p->size, &first, &len)) {
    case MSH_RANGE_MANY:
        close(p->fd);
        snprintf(r->resp.content_range, sizeof r->resp.content_range, "bytes */%llu", (unsigned long long)p->size);
        msh_resp_error(r, 416, "one range per request: several ranges in one Range header are not served");
        return;
    case MSH_RANGE_UNSATISFIABLE:
        close(p->fd);
        snprintf(r->resp.content_range, sizeof r->resp.content_range, "bytes */%llu", (unsigned long long)p->size);
        msh_resp_error(r, 416, "the range starts past the end of the file (%llu bytes)", (unsigned long long)p->size);
        return;
    case MSH_RANGE_ONE:
        r->resp.status = 206;
        snprintf(r->resp.content_range, sizeof r->resp.content_range, "bytes %llu-%llu/%llu",
                 (unsigned long long)first, (unsigned long long)(first + len - 1), (unsigned long long)p->size);
        break;
    case MSH_RANGE_NONE:
        r->resp.status = 200;
        break;
    }
    r->resp.ctype = p->ctype;
    r->resp.fd = p->fd;
    r->resp.fd_offset = first;
    r->resp.fd_size = len;
}

void msh_route_packages(msh_req *r, const char *rest)
{
    const char *dir = r->app->cfg.packages_dir;
    if (!dir) {
        msh_resp_error(r, 404, "no packages here: the server was started without --packages DIR");
        return;
    }
    if (*rest == '/')
        rest++;
    msh_err err = {0};
    if (!*rest) {
        char base[300];
        msh_req_base_url(r, base, sizeof base);
        msh_buf b;
        msh_buf_init(&b, MSH_MAX_BODY);
        if (msh_packages_list(dir, base, &b, &err))
            msh_resp_error(r, 500, "%s", err.msg);
        else {
            r->resp.cache_control = "no-cache";
            msh_resp_buf(r, 200, "application/json", &b);
        }
        msh_buf_free(&b);
        return;
    }
    msh_package p;
    msh_rc rc = strchr(rest, '/') ? msh_package_file_open(dir, rest, &p, &err) : msh_package_open(dir, rest, &p, &err);
    if (rc) {
        msh_resp_error(r, rc == MSH_EINVAL ? 400 : rc == MSH_ENOTFOUND ? 404 : 500, "%s", err.msg);
        return;
    }
    serve_file(r, &p);
}
