/* access.c: the rules of who may edit which collection (access.h). */
#include "http/access.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_in.h"

const char MSH_ACCESS_DEFAULTS[] =
    "{\"rules\": ["
    "{\"role\": \"ops\", \"collections\": [\"assets\", \"incidents\", \"work_orders\", \"cleaning_tasks\", \"gates\", \"reports\"],"
    " \"may\": [\"create\", \"replace\", \"update\", \"delete\"]},"
    "{\"role\": \"admin\", \"collections\": [\"*\"], \"may\": [\"create\", \"replace\", \"update\", \"delete\"],"
    " \"if_match\": \"optional\"},"
    "{\"role\": \"reporter\", \"collections\": [\"reports\"], \"may\": [\"create\"]}"
    "]}";

typedef struct {
    msh_role role;
    unsigned ops;
    bool if_match_optional;
    size_t ncoll;
    char **coll; /* "*" matches every collection */
} rule;

typedef struct {
    char *coll;
    char *field;  /* a property; NULL: the Feature's `id` member */
} id_rule;

struct msh_access {
    size_t n;
    rule *r;
    size_t nids;
    id_rule *ids;
};

void msh_access_free(msh_access *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++) {
        for (size_t k = 0; k < a->r[i].ncoll; k++)
            free(a->r[i].coll[k]);
        free(a->r[i].coll);
    }
    free(a->r);
    for (size_t i = 0; i < a->nids; i++) {
        free(a->ids[i].coll);
        free(a->ids[i].field);
    }
    free(a->ids);
    free(a);
}

/* "ids": {"assets": {"property": "asset_id"}, "work_orders": {"member": "id"}} */
static msh_rc parse_ids(const json_t *j, msh_access *a, msh_err *err)
{
    if (!json_is_object(j) || json_object_size(j) > MSH_ACCESS_MAX_COLLECTIONS)
        return msh_err_set(err, MSH_EINVAL, "ids: an object of at most %d collections", MSH_ACCESS_MAX_COLLECTIONS);
    if (json_object_size(j) && !(a->ids = calloc(json_object_size(j), sizeof *a->ids)))
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)j, k, v) {
        const char *prop = json_string_value(json_object_get(v, "property"));
        const char *member = json_string_value(json_object_get(v, "member"));
        if (!*k || strlen(k) > 63 || !json_is_object(v) || json_object_size(v) != 1 ||
            !(prop ? *prop && strlen(prop) <= 63 : member && !strcmp(member, "id")))
            return msh_err_set(err, MSH_EINVAL, "ids.%.63s: {\"property\": FIELD} (a property of the layer) or "
                                                "{\"member\": \"id\"} (the Feature's id)", k);
        id_rule *r = &a->ids[a->nids++];
        if (!(r->coll = strdup(k)) || (prop && !(r->field = strdup(prop))))
            return msh_err_set(err, MSH_ENOMEM, "out of memory");
    }
    return MSH_OK;
}

const char *msh_access_id_field(const msh_access *a, const char *collection, bool *member)
{
    *member = false;
    for (size_t i = 0; a && i < a->nids; i++) {
        if (strcmp(a->ids[i].coll, collection))
            continue;
        *member = !a->ids[i].field;
        return a->ids[i].field ? a->ids[i].field : "id";
    }
    return NULL;
}

static unsigned op_bit(const char *s)
{
    if (!strcmp(s, "create")) return MSH_ACC_CREATE;
    if (!strcmp(s, "replace")) return MSH_ACC_REPLACE;
    if (!strcmp(s, "update")) return MSH_ACC_UPDATE;
    if (!strcmp(s, "delete")) return MSH_ACC_DELETE;
    return 0;
}

static msh_rc parse_rule(const json_t *j, size_t i, rule *r, msh_err *err)
{
    if (!json_is_object(j))
        return msh_err_set(err, MSH_EINVAL, "rules[%zu]: must be an object", i);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)j, k, v) {
        if (strcmp(k, "role") && strcmp(k, "collections") && strcmp(k, "may") && strcmp(k, "if_match"))
            return msh_err_set(err, MSH_EINVAL, "rules[%zu]: unknown key '%.60s' (a rule has role, collections, may, "
                                                "if_match)", i, k);
    }
    const char *role = json_string_value(json_object_get(j, "role"));
    r->role = msh_role_parse(role);
    if (r->role == MSH_ROLE_NONE)
        return msh_err_set(err, MSH_EINVAL, "rules[%zu]: role must be reporter, feed, ops or admin, not '%.40s'", i,
                           role ? role : "(missing)");
    const json_t *im = json_object_get(j, "if_match");
    if (im) {
        const char *s = json_string_value(im);
        if (!s || (strcmp(s, "optional") && strcmp(s, "required")))
            return msh_err_set(err, MSH_EINVAL, "rules[%zu]: if_match is \"required\" or \"optional\"", i);
        r->if_match_optional = !strcmp(s, "optional");
    }
    const json_t *may = json_object_get(j, "may");
    if (!json_is_array(may))
        return msh_err_set(err, MSH_EINVAL, "rules[%zu]: may must be a list of create, replace, update, delete", i);
    size_t x;
    json_array_foreach(may, x, v) {
        unsigned b = json_is_string(v) ? op_bit(json_string_value(v)) : 0;
        if (!b)
            return msh_err_set(err, MSH_EINVAL, "rules[%zu].may[%zu]: not one of create, replace, update, delete", i, x);
        r->ops |= b;
    }
    const json_t *cols = json_object_get(j, "collections");
    if (!json_is_array(cols) || !json_array_size(cols) || json_array_size(cols) > MSH_ACCESS_MAX_COLLECTIONS)
        return msh_err_set(err, MSH_EINVAL, "rules[%zu]: collections must be a list of 1 to %d names (\"*\": all)", i,
                           MSH_ACCESS_MAX_COLLECTIONS);
    if (!(r->coll = calloc(json_array_size(cols), sizeof *r->coll)))
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    json_array_foreach(cols, x, v) {
        const char *name = json_string_value(v);
        if (!name || !*name || json_string_length(v) > 63)
            return msh_err_set(err, MSH_EINVAL, "rules[%zu].collections[%zu]: a collection name (1 to 63 bytes)", i, x);
        if (!(r->coll[r->ncoll] = strdup(name)))
            return msh_err_set(err, MSH_ENOMEM, "out of memory");
        r->ncoll++;
    }
    return MSH_OK;
}

msh_rc msh_access_parse(const char *text, size_t len, msh_access **out, msh_err *err)
{
    *out = NULL;
    if (len > MSH_ACCESS_MAX_BYTES)
        return msh_err_set(err, MSH_EINVAL, "access rules: larger than %zu bytes", MSH_ACCESS_MAX_BYTES);
    json_t *j = NULL;
    msh_rc rc = msh_json_in(text, len, 8, &j, err);
    if (rc)
        return rc;
    msh_access *a = calloc(1, sizeof *a);
    const json_t *rules = json_object_get(j, "rules");
    if (!a) {
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
        goto out;
    }
    const json_t *ids = json_object_get(j, "ids");
    if (!json_is_object(j) || json_object_size(j) != 1 + (ids != NULL) || !json_is_array(rules) ||
        json_array_size(rules) > MSH_ACCESS_MAX_RULES) {
        rc = msh_err_set(err, MSH_EINVAL, "access rules: expected {\"rules\": [...]} with at most %d rules (and "
                                          "\"ids\": {...})", MSH_ACCESS_MAX_RULES);
        goto out;
    }
    if (ids && (rc = parse_ids(ids, a, err)))
        goto out;
    if (json_array_size(rules) && !(a->r = calloc(json_array_size(rules), sizeof *a->r))) {
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < json_array_size(rules) && !rc; i++)
        rc = parse_rule(json_array_get(rules, i), i, &a->r[a->n++], err);
out:
    json_decref(j);
    if (rc) {
        msh_access_free(a);
        return rc;
    }
    *out = a;
    return MSH_OK;
}

msh_rc msh_access_load(const char *path, msh_access **out, msh_err *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return msh_err_set(err, MSH_EIO, "--access: cannot open %s", path);
    char *buf = malloc(MSH_ACCESS_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MSH_ACCESS_MAX_BYTES + 1, f) : 0;
    fclose(f);
    msh_rc rc = buf ? msh_access_parse(buf, n, out, err) : msh_err_set(err, MSH_ENOMEM, "out of memory");
    free(buf);
    if (rc && err) {
        char tmp[sizeof err->msg + 256];
        snprintf(tmp, sizeof tmp, "--access %.200s: %s", path, err->msg);
        memcpy(err->msg, tmp, sizeof err->msg - 1);
        err->msg[sizeof err->msg - 1] = 0;
    }
    return rc;
}

/* Does a rule for `rule_role` apply to a token of `role`? Its own role; ops and admin also inherit below. */
static bool applies(msh_role rule_role, msh_role role)
{
    return role == rule_role || (role >= MSH_ROLE_OPS && role >= rule_role);
}

unsigned msh_access_ops(const msh_access *a, const char *collection, msh_role role, bool *if_match_optional)
{
    unsigned ops = 0;
    bool optional = false;
    for (size_t i = 0; a && role != MSH_ROLE_NONE && i < a->n; i++) {
        const rule *r = &a->r[i];
        if (!applies(r->role, role))
            continue;
        for (size_t k = 0; k < r->ncoll; k++) {
            if (!strcmp(r->coll[k], "*") || !strcmp(r->coll[k], collection)) {
                ops |= r->ops;
                optional |= r->if_match_optional && r->ops;
                break;
            }
        }
    }
    if (if_match_optional)
        *if_match_optional = optional;
    return ops;
}

size_t msh_access_count(const msh_access *a)
{
    return a ? a->n : 0;
}
