/* wf_rules.h: the value and transition rules of operational workflows (assets, work orders).
 *
 * Design: a workflow's rules are data here, not code in the HTTP path: a status field has a
 * domain (the values it may take) and a transition table (from each status, the statuses it may
 * go to). The edit path asks before it writes (server/services/workflow_service.c) and answers a
 * refusal as the client should see it: a value outside the domain is a 400 naming the value and
 * the allowed ones; a jump the table does not hold is a 409 `invalid_transition` with `from`,
 * `to` and `allowed`. Pure: no state, no allocation, no I/O.
 */
#ifndef MSH_WF_RULES_H
#define MSH_WF_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "layer.h"
#include "store.h"

#define MSH_WF_MAX_ALLOWED 8

/** Why a write was refused (kind MSH_WF_OK: it was not). */
typedef enum { MSH_WF_OK = 0, MSH_WF_INVALID = 400, MSH_WF_CONFLICT = 409 } msh_wf_kind;

typedef struct msh_wf_refusal {
    msh_wf_kind kind;
    const char *code;        /* "invalid_value", "invalid_transition", "missing_value", "unknown_asset", ... */
    char description[512];   /* for people: names the field and the value */
    const char *from, *to;   /* MSH_WF_CONFLICT: the statuses */
    const char *const *allowed; /* the values allowed (domain or next statuses), NULL-terminated, or NULL */
} msh_wf_refusal;

/** One row of a transition table: from `from`, the statuses in `to` (NULL-terminated). */
typedef struct msh_wf_step {
    const char *from;
    const char *to[MSH_WF_MAX_ALLOWED];
} msh_wf_step;

/** The index of field `name` in `li`, or -1. */
int msh_wf_field(const msh_layer_info *li, const char *name);

/** Does text value `v` equal `s`? (false for null and non-text values) */
bool msh_wf_value_is(const msh_value *v, const char *s);

/**
 * Field `name` of `vals` (a row of `li`) must be null (when `null_ok`) or one of `dom`; returns the
 * domain's own string for the value (NULL for null) through *out. False with `ref` filled (400
 * naming the value and the allowed ones) when it is not.
 */
bool msh_wf_check_domain(const msh_layer_info *li, const msh_value *vals, const char *name, const char *const *dom,
                         bool null_ok, const char **out, msh_wf_refusal *ref);

/**
 * May a status go from `from` to `to` under `table` (n rows)? Staying is always allowed. False with
 * `ref` filled (409 invalid_transition, from, to, allowed) when it may not.
 */
bool msh_wf_check_step(const msh_wf_step *table, size_t n, const char *from, const char *to, msh_wf_refusal *ref);

/** Is field `name` of `vals` (a row of `li`) a non-empty text? */
bool msh_wf_has_text(const msh_layer_info *li, const msh_value *vals, const char *name);

/** Are two values equal (type and content)? */
bool msh_wf_same_value(const msh_value *a, const msh_value *b);

/** Fill `ref` as a 400 with `code` and a formatted description; returns false (for `return msh_wf_refuse(...)`). */
bool msh_wf_refuse(msh_wf_refusal *ref, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
