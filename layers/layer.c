/* layer.c: helpers shared by every layer kind. */
#include "layer.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

const char *msh_ftype_name(msh_ftype t)
{
    switch (t) {
    case MSH_FT_INT: return "integer";
    case MSH_FT_REAL: return "number";
    case MSH_FT_STRING: return "string";
    case MSH_FT_BOOL: return "boolean";
    }
    return "string";
}

msh_ftype msh_ftype_parse(const char *s)
{
    if (!s) return 0;
    if (!strcmp(s, "integer")) return MSH_FT_INT;
    if (!strcmp(s, "number")) return MSH_FT_REAL;
    if (!strcmp(s, "string")) return MSH_FT_STRING;
    if (!strcmp(s, "boolean")) return MSH_FT_BOOL;
    return 0;
}

void msh_layer_info_derived(msh_layer_info *info, const char *name, const char *kind, const char *geometry_type,
                            msh_field *fields, uint32_t nfields)
{
    memset(info, 0, sizeof *info);
    info->name = (char *)name;
    info->kind = (char *)kind;
    info->geometry_type = (char *)geometry_type;
    info->bounds[0] = -180;
    info->bounds[1] = -85.0511;
    info->bounds[2] = 180;
    info->bounds[3] = 85.0511;
    info->minzoom = 0;
    info->maxzoom = 22;
    info->nfields = nfields;
    info->fields = fields;
    info->version = 1;
}

void msh_layer_info_clear(msh_layer_info *info)
{
    free(info->name);
    free(info->kind);
    free(info->geometry_type);
    free(info->title);
    for (uint32_t i = 0; i < info->nfields; i++)
        free(info->fields[i].name);
    free(info->fields);
    memset(info, 0, sizeof *info);
}

uint64_t msh_layer_epoch_new(const void *self)
{
    uint64_t e;
    if (getrandom(&e, sizeof e, 0) != (ssize_t)sizeof e)
        e = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)self;
    return e;
}

uint64_t msh_layer_epoch_version(uint64_t v, uint64_t epoch)
{
    v ^= epoch;
    v *= 0x9e3779b97f4a7c15ull;
    return v ^ (v >> 31);
}

void msh_layer_free_plain(msh_layer *l)
{
    msh_layer_info_clear(&l->info);
    free(l);
}

msh_rc msh_layer_info_copy(msh_layer_info *dst, const msh_layer_info *src)
{
    *dst = *src;
    dst->name = strdup(src->name ? src->name : "");
    dst->kind = strdup(src->kind ? src->kind : "static");
    dst->geometry_type = strdup(src->geometry_type ? src->geometry_type : "Geometry");
    dst->title = src->title ? strdup(src->title) : NULL;
    dst->fields = src->nfields ? calloc(src->nfields, sizeof *dst->fields) : NULL;
    if (!dst->name || !dst->kind || !dst->geometry_type || (src->title && !dst->title) ||
        (src->nfields && !dst->fields)) {
        dst->nfields = 0;
        msh_layer_info_clear(dst);
        return MSH_ENOMEM;
    }
    for (uint32_t i = 0; i < src->nfields; i++) {
        dst->fields[i].type = src->fields[i].type;
        dst->fields[i].name = strdup(src->fields[i].name);
        if (!dst->fields[i].name) {
            msh_layer_info_clear(dst);
            return MSH_ENOMEM;
        }
    }
    return MSH_OK;
}

bool msh_layer_name_live(const char *name)
{
    static const char *live[] = {"movement", "positions", "incidents", "crews", "gates", "sensors", "bins", "kpi_zones", NULL};
    for (int i = 0; live[i]; i++)
        if (!strcmp(name, live[i]))
            return true;
    return false;
}

bool msh_layer_name_private(const char *name)
{
    return !strcmp(name, "reports");
}

bool msh_layer_name_valid(const char *name)
{
    static const char *reserved[] = {"sqlite_", "idx_", "msh_", "spatial", "geometry_", "views_geometry",
                                     "virts_", "sql_statements", "spatialite", "vector_", "data_licenses",
                                     "elementarygeometries", "knn", "rl2", "iso_", "srs", "geom_cols", NULL};
    if (!name || !(name[0] >= 'a' && name[0] <= 'z'))
        return false;
    size_t n = 0;
    for (const char *p = name; *p; p++, n++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    if (n > 63)
        return false;
    for (int i = 0; reserved[i]; i++)
        if (!strncmp(name, reserved[i], strlen(reserved[i])))
            return false;
    /* "forecast": /tiles/forecast and /heatmaps/forecast serve the crowd forecast, not a layer */
    return !msh_layer_name_live(name) && strcmp(name, "forecast");
}
