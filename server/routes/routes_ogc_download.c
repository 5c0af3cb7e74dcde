/* routes_ogc_download.c: an items page as a file (f=gpkg|shp|csv|kml): the HTTP side of
 * exporters/features/download.h.
 *
 * routes_ogc.c selects the page exactly as for GeoJSON and hands each feature to the writer;
 * here the writer is opened (refusals: 400), and the finished file is answered from its
 * descriptor (http.c sends it with libmicrohttpd's file response and closes it when sent or when
 * the client leaves; the file has no name on disk by then), with its media type, a
 * Content-Disposition naming it for the collection, and Content-Crs. The items page links each
 * format as an alternate representation of itself.
 */
#include <stdio.h>
#include <string.h>

#include "routes/ogc.h"

/* The file's size cap: a GeoJSON page's (http.h), which a page in another format must not exceed. */
#define DOWNLOAD_MAX_BYTES MSH_MAX_BODY

bool ogc_download_open(msh_req *r, const msh_layer_info *li, msh_dl_fmt fmt, msh_crs crs, msh_dl **out)
{
    msh_err err;
    if (msh_dl_open(fmt, li, crs, DOWNLOAD_MAX_BYTES, out, &err)) {
        msh_resp_error(r, msh_err_http_status(err.code), "%s", err.msg);
        return true;
    }
    return false;
}

void ogc_download_answer(msh_req *r, const msh_layer_info *li, msh_dl *dl, msh_dl_fmt fmt, msh_crs crs)
{
    int fd;
    uint64_t size;
    msh_err err;
    if (msh_dl_finish(dl, &fd, &size, &err)) {
        msh_resp_error(r, msh_err_http_status(err.code), "%s", err.msg);
        return;
    }
    r->resp.status = 200;
    r->resp.ctype = msh_dl_ctype(fmt);
    r->resp.fd = fd;
    r->resp.fd_size = size;
    r->resp.fd_offset = 0;
    r->resp.cache_control = "no-cache";
    /* collection names are the importer's transliterated ASCII (layer_names.c); anything else becomes '_' */
    char name[128];
    size_t n = 0;
    for (const char *p = li->name; *p && n < 100; p++)
        name[n++] = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
                            *p == '-' || *p == '.'
                        ? *p
                        : '_';
    name[n] = 0;
    msh_resp_header(r, "Content-Disposition", "attachment; filename=\"%s%s\"", name, msh_dl_suffix(fmt));
    ogc_content_crs(r, crs);
}

void ogc_download_links(msh_buf *b, const char *self, size_t self_len, msh_crs crs)
{
    for (int i = 0; i < MSH_DL_COUNT; i++) {
        if (i == MSH_DL_KML && crs != MSH_CRS_CRS84 && crs != MSH_CRS_4326)
            continue; /* KML is WGS 84 only (download.h) */
        msh_buf_printf(b, ",{\"href\":\"");
        ogc_json_str(b, self, self_len);
        msh_buf_printf(b, "f=%s\",\"rel\":\"alternate\",\"type\":\"", msh_dl_name((msh_dl_fmt)i));
        ogc_json_str(b, msh_dl_ctype((msh_dl_fmt)i), strlen(msh_dl_ctype((msh_dl_fmt)i)));
        msh_buf_printf(b, "\",\"title\":\"%s\"}", msh_dl_title((msh_dl_fmt)i));
    }
}
