/* style_doc.c: style documents with server-relative URLs made absolute. */
#include "routes/style_doc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "/tiles/x.json" -> base + "/tiles/x.json"; other strings stay. */
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

msh_rc msh_style_rewrite(const char *name, const char *json, size_t len, const char *base, char **out, msh_err *err)
{
    *out = NULL;
    json_error_t je;
    json_t *style = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!style)
        return msh_err_set(err, MSH_EFORMAT, "style %s is malformed: line %d, column %d: %s", name, je.line,
                           je.column, je.text);
    if (!json_is_object(style)) {
        json_decref(style);
        return msh_err_set(err, MSH_EFORMAT, "style %s is not a JSON object", name);
    }
    json_t *version = json_object_get(style, "version");
    if (json_integer_value(version) != 8) {
        json_decref(style);
        return msh_err_set(err, MSH_EFORMAT, "style %s: \"version\" must be 8", name);
    }
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
    *out = json_dumps(style, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    json_decref(style);
    return *out ? MSH_OK : msh_err_set(err, MSH_ENOMEM, "out of memory");
}
