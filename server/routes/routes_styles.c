/* routes_styles.c: GET /styles/{name}.json from the styles folder (raster tiles of a style: routes_raster.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes/routes.h"
#include "routes/style_doc.h"

#define MAX_STYLE_BYTES ((size_t)8 << 20)

void msh_route_styles(msh_req *r, const char *rest)
{
    size_t n = strlen(rest);
    if (n < 6 || n > 100 || strcmp(rest + n - 5, ".json")) {
        msh_resp_error(r, 404, "styles are at /styles/{name}.json");
        return;
    }
    for (size_t i = 0; i < n - 5; i++) {
        char c = rest[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
            msh_resp_error(r, 400, "style names use a-z, 0-9, _ and -");
            return;
        }
    }
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", r->app->cfg.styles_dir, rest);
    FILE *f = fopen(path, "rb");
    if (!f) {
        msh_resp_error(r, 404, "no style named '%.*s'", (int)(n - 5), rest);
        return;
    }
    msh_buf doc;
    msh_buf_init(&doc, MAX_STYLE_BYTES);
    char chunk[16384];
    size_t got;
    msh_rc rc = MSH_OK;
    while (!rc && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = msh_buf_append(&doc, chunk, got);
    fclose(f);
    char base[300], *out = NULL;
    msh_req_base_url(r, base, sizeof base);
    msh_err err;
    if (rc)
        msh_err_set(&err, rc, "style %s is larger than %zu bytes", rest, MAX_STYLE_BYTES);
    else
        rc = msh_style_rewrite(rest, (const char *)doc.data, doc.len, base, &out, &err);
    msh_buf_free(&doc);
    if (rc) {
        msh_resp_error(r, 500, "%s", err.msg);
        return;
    }
    r->resp.cache_control = "no-cache";
    msh_resp_body(r, 200, "application/json", out, strlen(out));
    free(out);
}
