/* feature_in.c: a client's GeoJSON Feature checked against a layer's fields (feature_in.h). */
#include "feature_in.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void msh_feature_in_free(msh_feature_in *f)
{
    free(f->values);
    f->values = NULL;
    f->geometry = NULL;
}

/* The field names of a layer, for an error message. */
static void field_list(const msh_layer_info *li, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = 0;
    for (uint32_t i = 0; i < li->nfields && n + 1 < cap; i++) {
        int w = snprintf(out + n, cap - n, "%s%s", i ? ", " : "", li->fields[i].name);
        if (w < 0)
            break;
        n += (size_t)w;
    }
    if (!li->nfields)
        snprintf(out, cap, "none");
}

static msh_rc read_value(const json_t *v, const msh_field *f, msh_value *out, msh_err *err)
{
    memset(out, 0, sizeof *out);
    if (json_is_null(v))
        return MSH_OK;
    switch (f->type) {
    case MSH_FT_INT:
        if (!json_is_integer(v))
            break;
        out->type = MSH_FT_INT;
        out->u.i = (int64_t)json_integer_value(v);
        return MSH_OK;
    case MSH_FT_REAL:
        if (!json_is_number(v) || !isfinite(json_number_value(v)))
            break;
        out->type = MSH_FT_REAL;
        out->u.d = json_number_value(v);
        return MSH_OK;
    case MSH_FT_BOOL:
        if (!json_is_boolean(v))
            break;
        out->type = MSH_FT_BOOL;
        out->u.i = json_is_true(v);
        return MSH_OK;
    case MSH_FT_STRING:
        if (!json_is_string(v))
            break;
        if (json_string_length(v) > MSH_FEATURE_IN_MAX_STR)
            return msh_err_set(err, MSH_EINVAL, "property '%s': longer than %d bytes", f->name, MSH_FEATURE_IN_MAX_STR);
        out->type = MSH_FT_STRING;
        out->u.s = json_string_value(v);
        out->len = (uint32_t)json_string_length(v);
        return MSH_OK;
    }
    return msh_err_set(err, MSH_EINVAL, "property '%s': expected %s %s or null", f->name,
                       f->type == MSH_FT_INT ? "an" : "a", msh_ftype_name(f->type));
}

msh_rc msh_feature_in_read(const json_t *feature, const msh_layer_info *li, bool need_geometry, msh_feature_in *out,
                           msh_err *err)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(feature))
        return msh_err_set(err, MSH_EINVAL, "the body must be a GeoJSON Feature object");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)feature, k, v) {
        if (strcmp(k, "type") && strcmp(k, "geometry") && strcmp(k, "properties") && strcmp(k, "id") &&
            strcmp(k, "bbox") && strcmp(k, "links"))
            return msh_err_set(err, MSH_EINVAL, "unknown member '%.60s' in the Feature (it takes type, geometry, "
                                                "properties, id)", k);
    }
    const json_t *type = json_object_get(feature, "type");
    if (!json_is_string(type) || strcmp(json_string_value(type), "Feature"))
        return msh_err_set(err, MSH_EINVAL, "the body must be a GeoJSON Feature: \"type\": \"Feature\"");
    const json_t *geom = json_object_get(feature, "geometry");
    if (!json_is_object(geom) && (need_geometry || geom))
        return msh_err_set(err, MSH_EINVAL, "geometry: required, a GeoJSON geometry object (this collection serves "
                                            "only features with a geometry)");
    const json_t *props = json_object_get(feature, "properties");
    if (props && !json_is_object(props) && !json_is_null(props))
        return msh_err_set(err, MSH_EINVAL, "properties: must be an object or null");
    if (props && json_is_object(props)) {
        json_object_foreach((json_t *)props, k, v) {
            uint32_t i = 0;
            while (i < li->nfields && strcmp(li->fields[i].name, k))
                i++;
            if (i == li->nfields) {
                char list[600];
                field_list(li, list, sizeof list);
                return msh_err_set(err, MSH_EINVAL, "unknown property '%.60s': collection '%s' has the fields %s", k,
                                   li->name, list);
            }
        }
    }
    out->values = calloc(li->nfields ? li->nfields : 1, sizeof *out->values);
    if (!out->values)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < li->nfields; i++) {
        const json_t *pv = json_is_object(props) ? json_object_get(props, li->fields[i].name) : NULL;
        msh_rc rc = pv ? read_value(pv, &li->fields[i], &out->values[i], err) : MSH_OK;
        if (rc) {
            msh_feature_in_free(out);
            return rc;
        }
    }
    out->geometry = geom;
    return MSH_OK;
}

json_t *msh_feature_in_props(const msh_layer_info *li, const msh_value *values)
{
    json_t *o = json_object();
    for (uint32_t i = 0; o && i < li->nfields; i++) {
        const msh_value *v = values ? &values[i] : NULL;
        json_t *j;
        switch (v ? v->type : 0) {
        case MSH_FT_INT: j = json_integer((json_int_t)v->u.i); break;
        case MSH_FT_REAL: j = json_real(v->u.d); break;
        case MSH_FT_BOOL: j = json_boolean(v->u.i); break;
        case MSH_FT_STRING: j = json_stringn(v->u.s, v->len); break;
        default: j = json_null(); break;
        }
        if (!j || json_object_set_new(o, li->fields[i].name, j)) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}
