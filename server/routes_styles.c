/* routes_styles.c: MapLibre style documents from styles/, with URLs made absolute for the client. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes.h"

/* "/tiles/x.json" -> "http://host/tiles/x.json"; other strings stay. */
static void absolutise(json_t *holder, const char *key, json_t *v, const char *base)
{
    const char *s = json_string_value(v);
    if (!s || s[0] != '/' || s[1] == '/')
        return;
    size_t n = strlen(base) + strlen(s) + 1;
    char *abs = malloc(n);
    if (!abs)
        return;
    snprintf(abs, n, "%s%s", base, s);
    if (key)
        json_object_set_new(holder, key, json_string(abs));
    else
        json_string_set(v, abs);
    free(abs);
}

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
    json_error_t je;
    FILE *f = fopen(path, "rb");
    if (!f) {
        msh_resp_error(r, 404, "no style named '%.*s'", (int)(n - 5), rest);
        return;
    }
    json_t *style = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
    fclose(f);
    if (!style || !json_is_object(style)) {
        msh_resp_error(r, 500, "style file %s is malformed: line %d, column %d: %s", rest, je.line, je.column,
                       style ? "not a JSON object" : je.text);
        json_decref(style);
        return;
    }
    char base[300];
    msh_req_base_url(r, base, sizeof base);
    json_t *sources = json_object_get(style, "sources");
    const char *k;
    json_t *src;
    json_object_foreach(sources, k, src)
    {
        json_t *url = json_object_get(src, "url");
        if (url)
            absolutise(src, "url", url, base);
        json_t *tiles = json_object_get(src, "tiles");
        size_t i;
        json_t *t;
        json_array_foreach(tiles, i, t) absolutise(NULL, NULL, t, base);
    }
    json_t *v;
    if ((v = json_object_get(style, "sprite")))
        absolutise(style, "sprite", v, base);
    if ((v = json_object_get(style, "glyphs")))
        absolutise(style, "glyphs", v, base);
    char *out = json_dumps(style, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(style);
    if (!out) {
        msh_resp_error(r, 500, "out of memory");
        return;
    }
    r->resp.cache_control = "no-cache";
    msh_resp_body(r, 200, "application/json", out, strlen(out));
    free(out);
}
