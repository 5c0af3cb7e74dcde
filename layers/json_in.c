/* json_in.c: bounded JSON input and RFC 7396 merge patches (json_in.h). */
#include "json_in.h"

#include <stdbool.h>
#include <stdio.h>

int msh_json_depth(const char *text, size_t len, int stop)
{
    int depth = 0, max = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max && (max = depth) > stop)
                return max;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return max;
}

msh_rc msh_json_in(const char *text, size_t len, int max_depth, json_t **out, msh_err *err)
{
    *out = NULL;
    if (!text || !len)
        return msh_err_set(err, MSH_EINVAL, "the body is empty: send a JSON document");
    if (msh_json_depth(text, len, max_depth) > max_depth)
        return msh_err_set(err, MSH_EINVAL, "the JSON is nested deeper than %d levels", max_depth);
    json_error_t je;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        return msh_err_set(err, MSH_EINVAL, "not valid JSON: at line %d, column %d: %.200s", je.line, je.column,
                           je.text);
    *out = j;
    return MSH_OK;
}

json_t *msh_merge_patch(json_t *target, const json_t *patch)
{
    if (!json_is_object(patch)) {
        json_decref(target);
        return json_deep_copy(patch);
    }
    if (!json_is_object(target)) {
        json_decref(target);
        target = json_object();
        if (!target)
            return NULL;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)patch, k, v) {
        if (json_is_null(v)) {
            json_object_del(target, k);
            continue;
        }
        json_t *cur = json_object_get(target, k);
        json_t *merged = msh_merge_patch(cur ? json_incref(cur) : NULL, v);
        if (!merged || json_object_set_new(target, k, merged)) {
            json_decref(target);
            return NULL;
        }
    }
    return target;
}
