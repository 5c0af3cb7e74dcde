/* ogc_tilepath.c: strict parser for OGC API - Tiles paths (ogc_tilepath.h). */
#include "http/ogc_tilepath.h"

#include <string.h>

#include "core/msh_tilemath.h"

#define TMS_ID "WebMercatorQuad"

/* One path segment of plain decimal digits up to `max`: its end, or NULL. */
static const char *number(const char *s, uint64_t max, uint64_t *v)
{
    uint64_t n = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (p > s && n == 0)
            return NULL; /* leading zero */
        n = n * 10 + (uint64_t)(*p - '0');
        if (n > max)
            return NULL;
    }
    if (p == s || (*p && *p != '/'))
        return NULL;
    *v = n;
    return p;
}

msh_rc msh_ogc_tilepath_parse(const char *s, msh_ogc_tilepath *out, msh_err *err)
{
    memset(out, 0, sizeof *out);
    if (!s)
        s = "";
    if (strlen(s) > 256)
        return msh_err_set(err, MSH_ENOTFOUND, "no such tile resource: the path is too long");
    if (!*s || !strcmp(s, "/")) {
        out->kind = MSH_OTP_LIST;
        return MSH_OK;
    }
    size_t idl = strlen(TMS_ID);
    if (strncmp(s, "/" TMS_ID, idl + 1) || (s[idl + 1] && s[idl + 1] != '/')) {
        const char *seg = s + 1;
        return msh_err_set(err, MSH_ENOTFOUND, "unknown tile matrix set '%.*s': this server tiles in " TMS_ID,
                           (int)(strcspn(seg, "/") > 64 ? 64 : strcspn(seg, "/")), seg);
    }
    const char *p = s + idl + 1;
    if (!*p || !strcmp(p, "/")) {
        out->kind = MSH_OTP_TILESET;
        return MSH_OK;
    }
    p++;
    uint64_t z, row, col;
    const char *e = number(p, MSH_MAX_ZOOM, &z);
    if (!e)
        return msh_err_set(err, MSH_EINVAL, "tileMatrix '%.*s' is not one of " TMS_ID "'s: use a whole number from 0 to %d",
                           (int)(strcspn(p, "/") > 32 ? 32 : strcspn(p, "/")), p, MSH_MAX_ZOOM);
    if (!*e)
        return msh_err_set(err, MSH_ENOTFOUND, "a tile is {tileMatrix}/{tileRow}/{tileCol}: the row and column are missing");
    p = e + 1;
    if (!(e = number(p, UINT32_MAX, &row)))
        return msh_err_set(err, MSH_EINVAL, "tileRow must be a whole number");
    if (!*e)
        return msh_err_set(err, MSH_ENOTFOUND, "a tile is {tileMatrix}/{tileRow}/{tileCol}: the column is missing");
    p = e + 1;
    if (!(e = number(p, UINT32_MAX, &col)))
        return msh_err_set(err, MSH_EINVAL, "tileCol must be a whole number");
    if (*e)
        return msh_err_set(err, MSH_ENOTFOUND, "no such tile resource: nothing follows {tileCol}");
    if (!msh_tile_valid((int)z, (int64_t)col, (int64_t)row))
        return msh_err_set(err, MSH_ENOTFOUND, "tile row %llu, column %llu is outside tileMatrix %llu (0 to %llu)",
                           (unsigned long long)row, (unsigned long long)col, (unsigned long long)z,
                           (unsigned long long)((1ull << z) - 1));
    out->kind = MSH_OTP_TILE;
    out->z = (int)z;
    out->row = (uint32_t)row;
    out->col = (uint32_t)col;
    return MSH_OK;
}
