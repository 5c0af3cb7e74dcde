/* wf_rules.c: value domains and transition tables (wf_rules.h). */
#include "workflow/wf_rules.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int msh_wf_field(const msh_layer_info *li, const char *name)
{
    for (uint32_t i = 0; i < li->nfields; i++)
        if (!strcmp(li->fields[i].name, name))
            return (int)i;
    return -1;
}

bool msh_wf_value_is(const msh_value *v, const char *s)
{
    return v->type == MSH_FT_STRING && v->len == strlen(s) && !memcmp(v->u.s, s, v->len);
}

bool msh_wf_has_text(const msh_layer_info *li, const msh_value *vals, const char *name)
{
    int k = msh_wf_field(li, name);
    return k >= 0 && vals[k].type == MSH_FT_STRING && vals[k].len > 0;
}

bool msh_wf_same_value(const msh_value *a, const msh_value *b)
{
    if (a->type != b->type)
        return false;
    if (a->type == MSH_FT_STRING)
        return a->len == b->len && !memcmp(a->u.s, b->u.s, a->len);
    return a->type == 0 || a->u.i == b->u.i;
}

bool msh_wf_refuse(msh_wf_refusal *ref, const char *code, const char *fmt, ...)
{
    memset(ref, 0, sizeof *ref);
    ref->kind = MSH_WF_INVALID;
    ref->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ref->description, sizeof ref->description, fmt, ap);
    va_end(ap);
    return false;
}

/* "a, b or c" */
static void list_words(const char *const *words, char *out, size_t cap)
{
    size_t n = 0, len = 0;
    while (words[n])
        n++;
    out[0] = 0;
    for (size_t i = 0; i < n && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", words[i]);
}

bool msh_wf_check_domain(const msh_layer_info *li, const msh_value *vals, const char *name, const char *const *dom,
                         bool null_ok, const char **out, msh_wf_refusal *ref)
{
    *out = NULL;
    int k = msh_wf_field(li, name);
    const msh_value *v = k >= 0 ? &vals[k] : NULL;
    char allowed[256];
    list_words(dom, allowed, sizeof allowed);
    if (!v || v->type == 0) {
        if (null_ok)
            return true;
        msh_wf_refuse(ref, "missing_value", "%s: required, one of %s", name, allowed);
        ref->allowed = dom;
        return false;
    }
    for (size_t i = 0; v->type == MSH_FT_STRING && dom[i]; i++)
        if (msh_wf_value_is(v, dom[i])) {
            *out = dom[i];
            return true;
        }
    if (v->type == MSH_FT_STRING)
        msh_wf_refuse(ref, "invalid_value", "%s: '%.*s' is not allowed: one of %s", name,
                      (int)(v->len > 100 ? 100 : v->len), v->u.s, allowed);
    else
        msh_wf_refuse(ref, "invalid_value", "%s: a text value, one of %s", name, allowed);
    ref->allowed = dom;
    return false;
}

bool msh_wf_check_step(const msh_wf_step *table, size_t n, const char *from, const char *to, msh_wf_refusal *ref)
{
    if (!strcmp(from, to))
        return true;
    static const char *const none[] = {NULL};
    const char *const *next = none;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(table[i].from, from))
            next = table[i].to;
    for (size_t i = 0; next[i]; i++)
        if (!strcmp(next[i], to))
            return true;
    char allowed[256];
    list_words(next, allowed, sizeof allowed);
    msh_wf_refuse(ref, "invalid_transition", "status: a work item cannot go from %s to %s (from %s: %s)", from, to,
                  from, next[0] ? allowed : "no other status, it is final");
    ref->kind = MSH_WF_CONFLICT;
    ref->from = from;
    ref->to = to;
    ref->allowed = next;
    return false;
}
