/* fuzz_editbody.c: a Part 4 body (layers/json_in.h, layers/feature_in.h) never crashes: the
 * bounded parse refuses what is nested past the limit; a Feature that passes has a value of its
 * field's type (or null) for every field and an object geometry; a merge patch (RFC 7396) applied
 * to a feature's properties never leaves a null member, and re-applying it changes nothing
 * (merge patches are idempotent). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feature_in.h"
#include "json_in.h"

static msh_field FIELDS[] = {{"n", MSH_FT_INT}, {"x", MSH_FT_REAL}, {"s", MSH_FT_STRING}, {"b", MSH_FT_BOOL}};
static msh_layer_info LI = {.name = "t", .nfields = 4, .fields = FIELDS};

static void check_feature(const msh_feature_in *f)
{
    for (uint32_t i = 0; i < LI.nfields; i++) {
        uint8_t t = f->values[i].type;
        if (t && t != FIELDS[i].type)
            abort();
        if (t == MSH_FT_STRING && (!f->values[i].u.s || f->values[i].len > MSH_FEATURE_IN_MAX_STR))
            abort();
    }
}

static void no_nulls(const json_t *j)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)j, k, v) {
        if (json_is_null(v))
            abort();
        if (json_is_object(v))
            no_nulls(v);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = NULL;
    msh_err err;
    if (msh_json_in((const char *)data, size, MSH_JSON_IN_MAX_DEPTH, &doc, &err)) {
        if (doc || !err.msg[0])
            abort();
        return 0;
    }
    if (msh_json_depth((const char *)data, size, 1000) > MSH_JSON_IN_MAX_DEPTH)
        abort();
    msh_feature_in f;
    if (!msh_feature_in_read(doc, &LI, true, &f, &err)) {
        if (!json_is_object(f.geometry))
            abort();
        check_feature(&f);
        msh_feature_in_free(&f);
    }
    /* the body as a patch of a feature's properties */
    json_t *target = json_pack("{s:s,s:{s:i,s:f,s:s,s:b}}", "type", "Feature", "properties", "n", 1, "x", 2.5, "s",
                               "a", "b", 1);
    json_t *once = msh_merge_patch(json_deep_copy(target), doc);
    if (once) {
        if (json_is_object(doc))
            no_nulls(once);
        json_t *twice = msh_merge_patch(json_deep_copy(once), doc);
        if (!twice || !json_equal(once, twice))
            abort();
        json_decref(twice);
        if (!msh_feature_in_read(once, &LI, false, &f, &err)) {
            check_feature(&f);
            msh_feature_in_free(&f);
        }
    }
    json_decref(once);
    json_decref(target);
    json_decref(doc);
    return 0;
}
