/* tilepath.c: strict parser for tile URLs. */
#include "http/tilepath.h"

#include <string.h>

#include "core/msh_tilemath.h"

static int parse_uint(const char **p, const char *end, uint64_t max, uint64_t *v)
{
    const char *s = *p;
    uint64_t n = 0;
    int digits = 0;
    while (s < end && *s >= '0' && *s <= '9') {
        if (digits == 1 && n == 0)
            return -1; /* leading zero */
        n = n * 10 + (uint64_t)(*s - '0');
        if (n > max)
            return -1;
        s++;
        digits++;
    }
    if (!digits)
        return -1;
    *p = s;
    *v = n;
    return 0;
}

msh_rc msh_tilepath_parse(const char *s, msh_tilepath *out, msh_err *err)
{
    memset(out, 0, sizeof *out);
    if (!s || !*s)
        return msh_err_set(err, MSH_EINVAL, "missing layer names: use /tiles/{layers}/{z}/{x}/{y}.mvt");
    size_t len = strlen(s);
    if (len > 2048)
        return msh_err_set(err, MSH_EINVAL, "tile path too long");
    const char *end = s + len;
    /* layer list: up to the first '/' or the ".json" suffix */
    const char *slash = memchr(s, '/', len);
    const char *lend = slash ? slash : end;
    if (!slash) {
        if (len > 5 && !strcmp(end - 5, ".json")) {
            lend = end - 5;
            out->kind = MSH_TP_TILEJSON;
        } else {
            return msh_err_set(err, MSH_EINVAL, "expected /tiles/{layers}/{z}/{x}/{y}.mvt or /tiles/{layers}.json");
        }
    }
    const char *p = s;
    while (p < lend) {
        const char *comma = memchr(p, ',', (size_t)(lend - p));
        const char *ne = comma ? comma : lend;
        size_t n = (size_t)(ne - p);
        if (n == 0)
            return msh_err_set(err, MSH_EINVAL, "empty layer name in the layer list");
        if (n >= MSH_TILEPATH_NAME_MAX)
            return msh_err_set(err, MSH_EINVAL, "layer name longer than %d characters", MSH_TILEPATH_NAME_MAX - 1);
        if (!(*p >= 'a' && *p <= 'z'))
            return msh_err_set(err, MSH_EINVAL, "layer names start with a letter a-z");
        for (size_t i = 0; i < n; i++) {
            char c = p[i];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
                return msh_err_set(err, MSH_EINVAL, "layer names use only a-z, 0-9 and _");
        }
        if (out->nlayers == MSH_TILEPATH_MAX_LAYERS)
            return msh_err_set(err, MSH_EINVAL, "at most %d layers in one tile", MSH_TILEPATH_MAX_LAYERS);
        memcpy(out->layers[out->nlayers], p, n);
        out->layers[out->nlayers][n] = 0;
        for (int i = 0; i < out->nlayers; i++)
            if (!strcmp(out->layers[i], out->layers[out->nlayers]))
                return msh_err_set(err, MSH_EINVAL, "layer '%s' named twice", out->layers[i]);
        out->nlayers++;
        p = comma ? comma + 1 : lend;
        if (comma && p == lend)
            return msh_err_set(err, MSH_EINVAL, "empty layer name in the layer list");
    }
    if (out->nlayers == 0)
        return msh_err_set(err, MSH_EINVAL, "missing layer names: use /tiles/{layers}/{z}/{x}/{y}.mvt");
    if (out->kind == MSH_TP_TILEJSON)
        return MSH_OK;
    p = slash + 1;
    uint64_t z, x, y;
    if (parse_uint(&p, end, MSH_MAX_ZOOM, &z) || p >= end || *p != '/')
        return msh_err_set(err, MSH_EINVAL, "zoom must be a whole number from 0 to %d", MSH_MAX_ZOOM);
    p++;
    if (parse_uint(&p, end, UINT32_MAX, &x) || p >= end || *p != '/')
        return msh_err_set(err, MSH_EINVAL, "x must be a whole number");
    p++;
    if (parse_uint(&p, end, UINT32_MAX, &y))
        return msh_err_set(err, MSH_EINVAL, "y must be a whole number");
    out->kind = MSH_TP_MVT;
    if (!strcmp(p, ".png") || !strcmp(p, "@2x.png")) {
        out->kind = MSH_TP_PNG;
        out->ratio = p[0] == '@' ? 2 : 1;
    } else if (strcmp(p, ".mvt") && strcmp(p, ".pbf")) {
        return msh_err_set(err, MSH_EINVAL, "unknown tile format '%.16s': use .mvt, .png or @2x.png", p);
    }
    if (!msh_tile_valid((int)z, (int64_t)x, (int64_t)y))
        return msh_err_set(err, MSH_EINVAL, "tile %llu/%llu/%llu is outside the zoom level (x and y go up to %llu)",
                           (unsigned long long)z, (unsigned long long)x, (unsigned long long)y,
                           (unsigned long long)((1ull << z) - 1));
    out->z = (int)z;
    out->x = (uint32_t)x;
    out->y = (uint32_t)y;
    return MSH_OK;
}
