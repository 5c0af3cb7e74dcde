/* rstyle.c: compile a MapLibre style into layers with expression trees (evaluated by rexpr.c). */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rexpr_int.h"
#include "core/msh_grow.h"
#include "core/msh_hash.h"

/* ---------------------------------------------------------------------------------------------
 * compiling */

typedef enum { W_ANY, W_COLOR } want_t;

typedef struct cc {
    msh_rstyle *st;
    const char *name, *json;
    size_t len;
    msh_buf *warn;
    msh_err *err;
    const char *lid;   /* the layer being compiled */
    const char *prop;  /* the property being compiled */
    bool bad;          /* malformed: the style is rejected */
    char unsup[96];    /* an unsupported operator: the property is ignored */
} cc;

static void *cc_alloc(cc *c, size_t n)
{
    msh_rstyle *st = c->st;
    if (msh_grow_from((void **)&st->allocs, &st->capallocs, st->nallocs + 1, sizeof *st->allocs, 256))
        return NULL;
    void *p = calloc(1, n ? n : 1);
    if (p)
        st->allocs[st->nallocs++] = p;
    return p;
}

static char *cc_strdup(cc *c, const char *s, size_t len)
{
    char *p = cc_alloc(c, len + 1);
    if (p) memcpy(p, s, len);
    return p;
}

/* The line of the layer being compiled: where its quoted id first appears after "id". */
static int layer_line(const cc *c)
{
    if (!c->lid)
        return 1;
    char needle[160];
    int n = snprintf(needle, sizeof needle, "\"%s\"", c->lid);
    if (n <= 0 || (size_t)n >= sizeof needle)
        return 1;
    const char *hit = NULL;
    for (size_t i = 0; i + (size_t)n <= c->len; i++)
        if (!memcmp(c->json + i, needle, (size_t)n)) {
            hit = c->json + i;
            /* prefer an occurrence that is the value of "id" */
            const char *k = hit;
            while (k > c->json && (k[-1] == ' ' || k[-1] == ':' || k[-1] == '\t')) k--;
            if (k - c->json >= 4 && !memcmp(k - 4, "\"id\"", 4))
                break;
        }
    int line = 1;
    for (const char *p = c->json; hit && p < hit; p++) line += *p == '\n';
    return line;
}

static msh_ex *fail(cc *c, const char *fmt, const char *arg)
{
    if (!c->bad) {
        char what[300];
        snprintf(what, sizeof what, fmt, arg ? arg : "");
        msh_err_set(c->err, MSH_EFORMAT, "%s:%d: layer '%s'%s%s: %s", c->name, layer_line(c), c->lid ? c->lid : "?",
                    c->prop ? ", " : "", c->prop ? c->prop : "", what);
    }
    c->bad = true;
    return NULL;
}

static void warn(cc *c, const char *fmt, const char *a, const char *b)
{
    if (!c->warn)
        return;
    msh_buf_printf(c->warn, "%s:%d: layer '%s': ", c->name, layer_line(c), c->lid ? c->lid : "?");
    msh_buf_printf(c->warn, fmt, a ? a : "", b ? b : "");
    msh_buf_printf(c->warn, "\n");
}

static msh_ex *node(cc *c, ex_op op, int n)
{
    msh_ex *e = cc_alloc(c, sizeof *e);
    if (!e) return fail(c, "out of memory%s", NULL);
    e->op = op;
    e->n = n;
    if (n > 0 && !(e->a = cc_alloc(c, (size_t)n * sizeof *e->a)))
        return fail(c, "out of memory%s", NULL);
    return e;
}

static msh_ex *lit(cc *c, msh_val v)
{
    msh_ex *e = node(c, OP_LIT, 0);
    if (e) e->v = v;
    return e;
}

static bool lit_val(cc *c, json_t *j, want_t w, msh_val *out)
{
    if (json_is_number(j)) {
        *out = vnum(json_number_value(j));
    } else if (json_is_boolean(j)) {
        *out = vbool(json_is_true(j));
    } else if (json_is_null(j)) {
        *out = vnull();
    } else if (json_is_string(j)) {
        const char *s = json_string_value(j);
        size_t n = json_string_length(j);
        msh_val col = {.t = MV_COLOR};
        if (w == W_COLOR && msh_color_parse(s, n, col.c)) {
            *out = col;
        } else {
            char *d = cc_strdup(c, s, n);
            if (!d) return false;
            *out = vstr(d, n);
        }
    } else {
        return false;
    }
    return true;
}

static msh_ex *cx(cc *c, json_t *j, want_t w);

static msh_ex *array_lit(cc *c, json_t *arr)
{
    msh_ex *e = node(c, OP_LIT, 0);
    if (!e) return NULL;
    size_t n = json_array_size(arr);
    e->labs = cc_alloc(c, n * sizeof *e->labs);
    if (!e->labs) return fail(c, "out of memory%s", NULL);
    for (size_t i = 0; i < n; i++)
        if (!lit_val(c, json_array_get(arr, i), W_ANY, &e->labs[e->nitems++]))
            e->nitems--; /* nested arrays and objects: not comparable, left out */
    e->v = (msh_val){.t = MV_ARRAY, .arr = e};
    return e;
}

static const struct {
    const char *name;
    ex_op op;
    int min, max; /* argument counts; -1: no upper bound */
} ops[] = {
    {"get", OP_GET, 1, 2},        {"has", OP_HAS, 1, 2},        {"id", OP_ID, 0, 0},
    {"geometry-type", OP_GTYPE, 0, 0}, {"zoom", OP_ZOOM, 0, 0}, {"heatmap-density", OP_HDENS, 0, 0},
    {"interpolate", OP_INTERP, 4, -1}, {"step", OP_STEP, 2, -1}, {"match", OP_MATCH, 4, -1},
    {"case", OP_CASE, 3, -1},     {"coalesce", OP_COALESCE, 1, -1}, {"==", OP_EQ, 2, 3},
    {"!=", OP_NE, 2, 3},          {"<", OP_LT, 2, 3},           {"<=", OP_LE, 2, 3},
    {">", OP_GT, 2, 3},           {">=", OP_GE, 2, 3},          {"!", OP_NOT, 1, 1},
    {"all", OP_ALL, 0, -1},       {"any", OP_ANY, 0, -1},       {"in", OP_IN, 2, 2},
    {"to-number", OP_TONUM, 1, -1}, {"to-string", OP_TOSTR, 1, 1}, {"to-boolean", OP_TOBOOL, 1, 1},
    {"to-color", OP_TOCOLOR, 1, -1}, {"number", OP_ANUM, 1, -1}, {"string", OP_ASTR, 1, -1},
    {"boolean", OP_ABOOL, 1, -1}, {"typeof", OP_TYPEOF, 1, 1},  {"concat", OP_CONCAT, 1, 16},
    {"format", OP_FORMAT, 1, -1}, {"upcase", OP_UPCASE, 1, 1},  {"downcase", OP_DOWNCASE, 1, 1},
    {"+", OP_ADD, 2, -1},         {"-", OP_SUB, 1, 2},          {"*", OP_MUL, 2, -1},
    {"/", OP_DIV, 2, 2},          {"%", OP_MOD, 2, 2},          {"^", OP_POW, 2, 2},
    {"min", OP_MIN, 1, -1},       {"max", OP_MAX, 1, -1},       {"length", OP_LENGTH, 1, 1},
    {"rgb", OP_RGB, 3, 3},        {"rgba", OP_RGBA, 4, 4},      {"feature-state", OP_NULLOP, 1, 1},
    {"literal", OP_LIT, 1, 1},
};

static int find_op(const char *name)
{
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(ops[i].name, name))
            return (int)i;
    return -1;
}

/* The stop/output pairs of interpolate and step, from JSON index 3 on: stops into e->stops,
 * outputs into e->a[out0 ...]. */
static msh_ex *stop_pairs(cc *c, json_t *j, msh_ex *e, int count, int out0, want_t w, const char *op)
{
    for (int i = 0; i < count; i++) {
        json_t *s = json_array_get(j, 3 + 2 * (size_t)i);
        if (!json_is_number(s))
            return fail(c, "%s stops must be numbers", op);
        e->stops[i] = json_number_value(s);
        if (i && e->stops[i] <= e->stops[i - 1])
            return fail(c, "%s stops must be in strictly ascending order", op);
        if (!(e->a[out0 + i] = cx(c, json_array_get(j, 4 + 2 * (size_t)i), w)))
            return NULL;
    }
    return e;
}

/* interpolate: ["interpolate", type, input, stop, out, stop, out, ...] */
static msh_ex *cx_interp(cc *c, json_t *j, want_t w)
{
    size_t n = json_array_size(j);
    if (n < 5 || (n - 3) % 2)
        return fail(c, "interpolate needs a type, an input and stop/output pairs%s", NULL);
    json_t *type = json_array_get(j, 1);
    const char *tn = json_is_array(type) ? json_string_value(json_array_get(type, 0)) : NULL;
    double base = 1;
    if (!tn)
        return fail(c, "interpolate type must be [\"linear\"], [\"exponential\", base] or [\"cubic-bezier\", ...]%s",
                    NULL);
    if (!strcmp(tn, "exponential")) {
        json_t *b = json_array_get(type, 1);
        if (!json_is_number(b))
            return fail(c, "[\"exponential\", base] needs a number base%s", NULL);
        base = json_number_value(b);
    } else if (!strcmp(tn, "cubic-bezier")) {
        warn(c, "interpolate type cubic-bezier drawn as linear%s%s\n", NULL, NULL);
    } else if (strcmp(tn, "linear")) {
        return fail(c, "unknown interpolate type '%s'", tn);
    }
    int npairs = (int)(n - 3) / 2;
    msh_ex *e = node(c, OP_INTERP, npairs + 1);
    if (!e) return NULL;
    e->base = base;
    e->stops = cc_alloc(c, (size_t)npairs * sizeof *e->stops);
    if (!e->stops) return fail(c, "out of memory%s", NULL);
    if (!(e->a[0] = cx(c, json_array_get(j, 2), W_ANY)))
        return NULL;
    return stop_pairs(c, j, e, npairs, 1, w, "interpolate");
}

/* step: ["step", input, out0, stop1, out1, ...] */
static msh_ex *cx_step(cc *c, json_t *j, want_t w)
{
    size_t n = json_array_size(j);
    if (n < 3 || (n - 3) % 2)
        return fail(c, "step needs an input, a first output and stop/output pairs%s", NULL);
    int nstops = (int)(n - 3) / 2;
    msh_ex *e = node(c, OP_STEP, nstops + 2);
    if (!e) return NULL;
    e->stops = cc_alloc(c, ((size_t)nstops + 1) * sizeof *e->stops);
    if (!e->stops) return fail(c, "out of memory%s", NULL);
    if (!(e->a[0] = cx(c, json_array_get(j, 1), W_ANY)) || !(e->a[1] = cx(c, json_array_get(j, 2), w)))
        return NULL;
    return stop_pairs(c, j, e, nstops, 2, w, "step");
}

/* match: ["match", input, label(s), out, ..., fallback] */
static msh_ex *cx_match(cc *c, json_t *j, want_t w)
{
    size_t n = json_array_size(j);
    if (n < 5 || n % 2 == 0)
        return fail(c, "match needs an input, label/output pairs and a fallback%s", NULL);
    int nb = (int)(n - 3) / 2;
    msh_ex *e = node(c, OP_MATCH, nb + 2);
    if (!e) return NULL;
    size_t nl = 0;
    for (int b = 0; b < nb; b++) {
        json_t *l = json_array_get(j, 2 + 2 * (size_t)b);
        nl += json_is_array(l) ? json_array_size(l) : 1;
    }
    e->nlab = cc_alloc(c, (size_t)nb * sizeof *e->nlab);
    e->labs = cc_alloc(c, nl * sizeof *e->labs);
    if (!e->nlab || !e->labs) return fail(c, "out of memory%s", NULL);
    if (!(e->a[0] = cx(c, json_array_get(j, 1), W_ANY)))
        return NULL;
    size_t k = 0;
    for (int b = 0; b < nb; b++) {
        json_t *l = json_array_get(j, 2 + 2 * (size_t)b);
        size_t cnt = json_is_array(l) ? json_array_size(l) : 1;
        if (json_is_array(l) && !cnt)
            return fail(c, "match labels must not be an empty array%s", NULL);
        for (size_t i = 0; i < cnt; i++) {
            json_t *one = json_is_array(l) ? json_array_get(l, i) : l;
            if (!(json_is_string(one) || json_is_number(one)))
                return fail(c, "match labels are strings or numbers (or arrays of them)%s", NULL);
            if (!lit_val(c, one, W_ANY, &e->labs[k++]))
                return fail(c, "out of memory%s", NULL);
        }
        e->nlab[b] = (int)cnt;
        if (!(e->a[1 + b] = cx(c, json_array_get(j, 3 + 2 * (size_t)b), w)))
            return NULL;
    }
    if (!(e->a[nb + 1] = cx(c, json_array_get(j, n - 1), w)))
        return NULL;
    return e;
}

/* format: ["format", input, {options}, input, {options}, ...] */
static msh_ex *cx_format(cc *c, json_t *j)
{
    size_t n = json_array_size(j);
    int ns = 0;
    msh_ex *e = node(c, OP_FORMAT, (int)n);
    if (!e) return NULL;
    e->scales = cc_alloc(c, n * sizeof *e->scales);
    if (!e->scales) return fail(c, "out of memory%s", NULL);
    for (size_t i = 1; i < n; i++) {
        json_t *x = json_array_get(j, i);
        if (json_is_object(x)) {
            if (!ns)
                return fail(c, "format options must follow a section%s", NULL);
            json_t *fs = json_object_get(x, "font-scale");
            if (fs && json_is_number(fs))
                e->scales[ns - 1] = json_number_value(fs);
            const char *k;
            json_t *v;
            json_object_foreach(x, k, v) if (strcmp(k, "font-scale"))
                warn(c, "format option '%s' ignored%s", k, NULL);
            continue;
        }
        e->scales[ns] = 1;
        if (!(e->a[ns] = cx(c, x, W_ANY)))
            return NULL;
        ns++;
    }
    e->n = ns;
    return e;
}

/* A legacy filter key: $type, $id or a property. */
static msh_ex *legacy_key(cc *c, const char *k)
{
    if (!strcmp(k, "$type")) return node(c, OP_GTYPE, 0);
    if (!strcmp(k, "$id")) return node(c, OP_ID, 0);
    msh_ex *e = node(c, OP_GET, 0);
    if (e && !(e->key = cc_strdup(c, k, strlen(k)))) return fail(c, "out of memory%s", NULL);
    if (e) e->keylen = strlen(k), e->deps = MSH_EX_FEATURE;
    return e;
}

static bool is_expr_filter(json_t *f)
{
    if (json_is_boolean(f)) return true;
    if (!json_is_array(f) || !json_array_size(f)) return false;
    const char *op = json_string_value(json_array_get(f, 0));
    if (!op) return false;
    size_t n = json_array_size(f);
    if (!strcmp(op, "has")) return true; /* the same meaning in both syntaxes */
    if (!strcmp(op, "in"))
        return n >= 3 && (!json_is_string(json_array_get(f, 1)) || json_is_array(json_array_get(f, 2)));
    if (!strcmp(op, "!in") || !strcmp(op, "!has") || !strcmp(op, "none")) return false;
    if (!strcmp(op, "==") || !strcmp(op, "!=") || !strcmp(op, ">") || !strcmp(op, ">=") || !strcmp(op, "<") ||
        !strcmp(op, "<="))
        return n != 3 || json_is_array(json_array_get(f, 1)) || json_is_array(json_array_get(f, 2));
    if (!strcmp(op, "any") || !strcmp(op, "all")) {
        for (size_t i = 1; i < n; i++)
            if (!is_expr_filter(json_array_get(f, i)) && !json_is_boolean(json_array_get(f, i))) return false;
        return true;
    }
    return true;
}

static msh_ex *cx_legacy(cc *c, json_t *f)
{
    const char *op = json_is_array(f) ? json_string_value(json_array_get(f, 0)) : NULL;
    if (!op)
        return fail(c, "a legacy filter is an array starting with an operator%s", NULL);
    size_t n = json_array_size(f);
    bool neg = op[0] == '!' && op[1] && op[1] != '=';
    const char *base = neg ? op + 1 : op;
    msh_ex *e = NULL;
    if (!strcmp(base, "all") || !strcmp(base, "any") || !strcmp(base, "none")) {
        e = node(c, strcmp(base, "all") ? OP_ANY : OP_ALL, (int)n - 1);
        if (!e) return NULL;
        for (size_t i = 1; i < n; i++)
            if (!(e->a[i - 1] = is_expr_filter(json_array_get(f, i)) ? cx(c, json_array_get(f, i), W_ANY)
                                                                       : cx_legacy(c, json_array_get(f, i))))
                return NULL;
        neg = !strcmp(base, "none");
    } else if (!strcmp(base, "has")) {
        if (n != 2 || !json_is_string(json_array_get(f, 1)))
            return fail(c, "[\"has\", key] needs a key%s", NULL);
        e = node(c, OP_HAS, 0);
        if (!e || !(e->key = cc_strdup(c, json_string_value(json_array_get(f, 1)), strlen(json_string_value(json_array_get(f, 1))))))
            return fail(c, "out of memory%s", NULL);
        e->keylen = strlen(e->key);
    } else if (!strcmp(base, "in")) {
        if (n < 2 || !json_is_string(json_array_get(f, 1)))
            return fail(c, "[\"in\", key, values...] needs a key%s", NULL);
        e = node(c, OP_LIN, 1);
        if (!e || !(e->a[0] = legacy_key(c, json_string_value(json_array_get(f, 1))))) return NULL;
        e->labs = cc_alloc(c, n * sizeof *e->labs);
        if (!e->labs) return fail(c, "out of memory%s", NULL);
        for (size_t i = 2; i < n; i++)
            if (!lit_val(c, json_array_get(f, i), W_ANY, &e->labs[e->nitems++]))
                return fail(c, "legacy \"in\" values are strings, numbers, booleans or null%s", NULL);
    } else {
        static const struct { const char *s; ex_op op; } cmp[] = {
            {"==", OP_EQ}, {"!=", OP_NE}, {"<", OP_LT}, {"<=", OP_LE}, {">", OP_GT}, {">=", OP_GE}};
        size_t k = 0;
        while (k < 6 && strcmp(op, cmp[k].s)) k++;
        if (k == 6)
            return fail(c, "unknown legacy filter operator '%s'", op);
        if (n != 3 || !json_is_string(json_array_get(f, 1)))
            return fail(c, "legacy comparison needs a key and a value%s", NULL);
        msh_val v;
        e = node(c, cmp[k].op, 2);
        if (!e || !(e->a[0] = legacy_key(c, json_string_value(json_array_get(f, 1))))) return NULL;
        if (!lit_val(c, json_array_get(f, 2), W_ANY, &v) || !(e->a[1] = lit(c, v)))
            return fail(c, "legacy comparison value must be a string, number, boolean or null%s", NULL);
        neg = false;
    }
    if (!e) return NULL;
    e->deps |= MSH_EX_FEATURE;
    if (neg) {
        msh_ex *nt = node(c, OP_NOT, 1);
        if (!nt) return NULL;
        nt->a[0] = e;
        nt->deps = e->deps;
        return nt;
    }
    return e;
}

/* A legacy function: {"stops": [[in, out], ...], "base", "type", "property", "default"}. */
static msh_ex *cx_function(cc *c, json_t *o, want_t w)
{
    json_t *stops = json_object_get(o, "stops");
    json_t *prop = json_object_get(o, "property");
    const char *type = json_string_value(json_object_get(o, "type"));
    json_t *b = json_object_get(o, "base");
    if (type && !strcmp(type, "identity")) {
        if (!json_is_string(prop)) return fail(c, "an identity function needs a property%s", NULL);
        return legacy_key(c, json_string_value(prop));
    }
    if (!json_is_array(stops) || !json_array_size(stops))
        return fail(c, "a function needs \"stops\"%s", NULL);
    size_t n = json_array_size(stops);
    msh_ex *in = prop ? (json_is_string(prop) ? legacy_key(c, json_string_value(prop)) : NULL) : node(c, OP_ZOOM, 0);
    if (!in) return c->bad ? NULL : fail(c, "function property must be a string%s", NULL);
    if (!prop) in->deps = MSH_EX_ZOOM;
    bool interp = !type ? w == W_COLOR || json_is_number(json_array_get(json_array_get(stops, 0), 1))
                        : !strcmp(type, "exponential");
    bool categorical = type && !strcmp(type, "categorical");
    if (categorical) {
        msh_ex *e = node(c, OP_MATCH, (int)n + 2);
        if (!e) return NULL;
        e->a[0] = in;
        e->nlab = cc_alloc(c, n * sizeof *e->nlab);
        e->labs = cc_alloc(c, n * sizeof *e->labs);
        if (!e->nlab || !e->labs) return fail(c, "out of memory%s", NULL);
        for (size_t i = 0; i < n; i++) {
            json_t *s = json_array_get(stops, i);
            msh_val out;
            if (!json_is_array(s) || json_array_size(s) != 2 || !lit_val(c, json_array_get(s, 0), W_ANY, &e->labs[i]) ||
                !lit_val(c, json_array_get(s, 1), w, &out) || !(e->a[1 + i] = lit(c, out)))
                return fail(c, "function stops are [input, output] pairs of plain values%s", NULL);
            e->nlab[i] = 1;
        }
        msh_val d = vnull();
        json_t *dj = json_object_get(o, "default");
        if (dj) lit_val(c, dj, w, &d);
        if (!(e->a[n + 1] = lit(c, d))) return NULL;
        e->deps = in->deps;
        return e;
    }
    msh_ex *e = node(c, interp ? OP_INTERP : OP_STEP, interp ? (int)n + 1 : (int)n + 1);
    if (!e) return NULL;
    e->a[0] = in;
    e->base = json_is_number(b) ? json_number_value(b) : 1;
    e->stops = cc_alloc(c, n * sizeof *e->stops);
    if (!e->stops) return fail(c, "out of memory%s", NULL);
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(stops, i);
        msh_val out;
        if (!json_is_array(s) || json_array_size(s) != 2 || !json_is_number(json_array_get(s, 0)))
            return fail(c, "function stops are [number, output] pairs (zoom-and-property functions are not supported)%s",
                        NULL);
        if (!lit_val(c, json_array_get(s, 1), w, &out) || !(e->a[1 + i] = lit(c, out)))
            return fail(c, "function outputs are plain values%s", NULL);
        e->stops[i] = json_number_value(json_array_get(s, 0));
        if (i && e->stops[i] <= e->stops[i - 1])
            return fail(c, "function stops must be in ascending order%s", NULL);
    }
    if (!interp) {
        /* interval: below the first stop the first output; ours: out0 then stop k -> out k */
        for (size_t i = 0; i + 1 < n; i++) e->stops[i] = e->stops[i + 1];
        e->n = (int)n + 1;
    }
    e->deps = in->deps;
    return e;
}

static msh_ex *cx(cc *c, json_t *j, want_t w)
{
    if (c->bad || c->unsup[0])
        return NULL;
    if (!json_is_array(j)) {
        msh_val v;
        if (json_is_object(j))
            return fail(c, "an object is not a value here%s", NULL);
        if (!lit_val(c, j, w, &v))
            return fail(c, "out of memory%s", NULL);
        return lit(c, v);
    }
    size_t n = json_array_size(j);
    const char *name = n ? json_string_value(json_array_get(j, 0)) : NULL;
    int k = name ? find_op(name) : -1;
    if (k < 0) {
        if (name && n && !json_is_array(json_array_get(j, 0)) && c->prop && strstr(c->prop, "text-font") == NULL &&
            strstr(c->prop, "dasharray") == NULL && strstr(c->prop, "offset") == NULL) {
            snprintf(c->unsup, sizeof c->unsup, "%s", name);
            return NULL;
        }
        return array_lit(c, j); /* a bare array: a literal (line-dasharray, text-font, text-offset) */
    }
    int argc = (int)n - 1;
    if (argc < ops[k].min || (ops[k].max >= 0 && argc > ops[k].max)) {
        char msg[120];
        if (ops[k].max < 0)
            snprintf(msg, sizeof msg, "'%s' takes at least %d arguments, not %d", name, ops[k].min, argc);
        else
            snprintf(msg, sizeof msg, "'%s' takes %d to %d arguments, not %d", name, ops[k].min, ops[k].max, argc);
        return fail(c, "%s", msg);
    }
    msh_ex *e = NULL;
    switch (ops[k].op) {
    case OP_LIT: {
        json_t *x = json_array_get(j, 1);
        if (json_is_array(x)) return array_lit(c, x);
        if (json_is_object(x)) return lit(c, vnull());
        msh_val v;
        if (!lit_val(c, x, w, &v)) return fail(c, "out of memory%s", NULL);
        return lit(c, v);
    }
    case OP_GET:
    case OP_HAS: {
        json_t *key = json_array_get(j, 1);
        if (!json_is_string(key))
            return fail(c, "'%s' needs a property name (a string)", name);
        if (argc == 2) {
            snprintf(c->unsup, sizeof c->unsup, "%s with an object argument", name);
            return NULL;
        }
        e = node(c, ops[k].op, 0);
        if (!e || !(e->key = cc_strdup(c, json_string_value(key), json_string_length(key))))
            return fail(c, "out of memory%s", NULL);
        e->keylen = json_string_length(key);
        e->deps = MSH_EX_FEATURE;
        return e;
    }
    case OP_INTERP: e = cx_interp(c, j, w); break;
    case OP_STEP: e = cx_step(c, j, w); break;
    case OP_MATCH: e = cx_match(c, j, w); break;
    case OP_FORMAT: e = cx_format(c, j); break;
    default: {
        bool branchy = ops[k].op == OP_CASE || ops[k].op == OP_COALESCE;
        e = node(c, ops[k].op, argc);
        if (!e) return NULL;
        for (int i = 0; i < argc; i++) {
            /* case conditions are not colours, its outputs are (when the property is one) */
            want_t wi = branchy && !(ops[k].op == OP_CASE && i % 2 == 0 && i + 1 < argc) ? w : W_ANY;
            if (!(e->a[i] = cx(c, json_array_get(j, (size_t)i + 1), wi)))
                return NULL;
        }
        if (ops[k].op == OP_CASE && argc % 2 == 0)
            return fail(c, "case needs condition/output pairs and a fallback%s", NULL);
        if (ops[k].op >= OP_EQ && ops[k].op <= OP_GE && argc == 3)
            warn(c, "collator argument of '%s' ignored%s", name, NULL);
        break;
    }
    }
    if (!e)
        return NULL;
    if (ops[k].op == OP_ZOOM) e->deps |= MSH_EX_ZOOM;
    if (ops[k].op == OP_ID || ops[k].op == OP_GTYPE || ops[k].op == OP_HDENS) e->deps |= MSH_EX_FEATURE;
    for (int i = 0; i < e->n; i++)
        if (e->a[i]) e->deps |= e->a[i]->deps;
    return e;
}

/* ---------------------------------------------------------------------------------------------
 * properties */

typedef enum { T_NUM, T_COLOR, T_STR, T_BOOL, T_ARRAY, T_FMT, T_ENUM } ptype;

static const struct {
    const char *name;
    msh_rltype layer;
    bool layout;
    ptype type;
    const char *def; /* JSON */
} props[P_COUNT] = {
    [P_BACKGROUND_COLOR] = {"background-color", RL_BACKGROUND, false, T_COLOR, "\"#000000\""},
    [P_BACKGROUND_OPACITY] = {"background-opacity", RL_BACKGROUND, false, T_NUM, "1"},
    [P_FILL_COLOR] = {"fill-color", RL_FILL, false, T_COLOR, "\"#000000\""},
    [P_FILL_OPACITY] = {"fill-opacity", RL_FILL, false, T_NUM, "1"},
    [P_FILL_OUTLINE_COLOR] = {"fill-outline-color", RL_FILL, false, T_COLOR, "null"},
    [P_FILL_ANTIALIAS] = {"fill-antialias", RL_FILL, false, T_BOOL, "true"},
    [P_LINE_COLOR] = {"line-color", RL_LINE, false, T_COLOR, "\"#000000\""},
    [P_LINE_WIDTH] = {"line-width", RL_LINE, false, T_NUM, "1"},
    [P_LINE_OPACITY] = {"line-opacity", RL_LINE, false, T_NUM, "1"},
    [P_LINE_GAP_WIDTH] = {"line-gap-width", RL_LINE, false, T_NUM, "0"},
    [P_LINE_OFFSET] = {"line-offset", RL_LINE, false, T_NUM, "0"},
    [P_LINE_DASHARRAY] = {"line-dasharray", RL_LINE, false, T_ARRAY, "null"},
    [P_LINE_CAP] = {"line-cap", RL_LINE, true, T_ENUM, "\"butt\""},
    [P_LINE_JOIN] = {"line-join", RL_LINE, true, T_ENUM, "\"miter\""},
    [P_LINE_MITER_LIMIT] = {"line-miter-limit", RL_LINE, true, T_NUM, "2"},
    [P_CIRCLE_COLOR] = {"circle-color", RL_CIRCLE, false, T_COLOR, "\"#000000\""},
    [P_CIRCLE_RADIUS] = {"circle-radius", RL_CIRCLE, false, T_NUM, "5"},
    [P_CIRCLE_OPACITY] = {"circle-opacity", RL_CIRCLE, false, T_NUM, "1"},
    [P_CIRCLE_STROKE_COLOR] = {"circle-stroke-color", RL_CIRCLE, false, T_COLOR, "\"#000000\""},
    [P_CIRCLE_STROKE_WIDTH] = {"circle-stroke-width", RL_CIRCLE, false, T_NUM, "0"},
    [P_CIRCLE_STROKE_OPACITY] = {"circle-stroke-opacity", RL_CIRCLE, false, T_NUM, "1"},
    [P_CIRCLE_BLUR] = {"circle-blur", RL_CIRCLE, false, T_NUM, "0"},
    [P_TEXT_FIELD] = {"text-field", RL_SYMBOL, true, T_FMT, "\"\""},
    [P_TEXT_FONT] = {"text-font", RL_SYMBOL, true, T_ARRAY, "[\"Open Sans Regular\", \"Arial Unicode MS Regular\"]"},
    [P_TEXT_SIZE] = {"text-size", RL_SYMBOL, true, T_NUM, "16"},
    [P_TEXT_MAX_WIDTH] = {"text-max-width", RL_SYMBOL, true, T_NUM, "10"},
    [P_TEXT_PADDING] = {"text-padding", RL_SYMBOL, true, T_NUM, "2"},
    [P_TEXT_COLOR] = {"text-color", RL_SYMBOL, false, T_COLOR, "\"#000000\""},
    [P_TEXT_OPACITY] = {"text-opacity", RL_SYMBOL, false, T_NUM, "1"},
    [P_TEXT_HALO_COLOR] = {"text-halo-color", RL_SYMBOL, false, T_COLOR, "\"rgba(0, 0, 0, 0)\""},
    [P_TEXT_HALO_WIDTH] = {"text-halo-width", RL_SYMBOL, false, T_NUM, "0"},
    [P_TEXT_ALLOW_OVERLAP] = {"text-allow-overlap", RL_SYMBOL, true, T_BOOL, "false"},
    [P_TEXT_IGNORE_PLACEMENT] = {"text-ignore-placement", RL_SYMBOL, true, T_BOOL, "false"},
    [P_TEXT_OFFSET] = {"text-offset", RL_SYMBOL, true, T_ARRAY, "[0, 0]"},
    [P_TEXT_TRANSFORM] = {"text-transform", RL_SYMBOL, true, T_ENUM, "\"none\""},
    [P_TEXT_LINE_HEIGHT] = {"text-line-height", RL_SYMBOL, true, T_NUM, "1.2"},
    [P_ICON_IMAGE] = {"icon-image", RL_SYMBOL, true, T_STR, "null"},
    [P_ICON_SIZE] = {"icon-size", RL_SYMBOL, true, T_NUM, "1"},
    [P_ICON_OPACITY] = {"icon-opacity", RL_SYMBOL, false, T_NUM, "1"},
    [P_ICON_ALLOW_OVERLAP] = {"icon-allow-overlap", RL_SYMBOL, true, T_BOOL, "false"},
    [P_ICON_IGNORE_PLACEMENT] = {"icon-ignore-placement", RL_SYMBOL, true, T_BOOL, "false"},
    [P_ICON_ROTATE] = {"icon-rotate", RL_SYMBOL, true, T_NUM, "0"},
    [P_SYMBOL_SORT_KEY] = {"symbol-sort-key", RL_SYMBOL, true, T_NUM, "null"},
    [P_SYMBOL_PLACEMENT] = {"symbol-placement", RL_SYMBOL, true, T_ENUM, "\"point\""},
    [P_SYMBOL_SPACING] = {"symbol-spacing", RL_SYMBOL, true, T_NUM, "250"},
    [P_TEXT_MAX_ANGLE] = {"text-max-angle", RL_SYMBOL, true, T_NUM, "45"},
    [P_TEXT_KEEP_UPRIGHT] = {"text-keep-upright", RL_SYMBOL, true, T_BOOL, "true"},
    [P_HEATMAP_RADIUS] = {"heatmap-radius", RL_HEATMAP, false, T_NUM, "30"},
    [P_HEATMAP_WEIGHT] = {"heatmap-weight", RL_HEATMAP, false, T_NUM, "1"},
    [P_HEATMAP_INTENSITY] = {"heatmap-intensity", RL_HEATMAP, false, T_NUM, "1"},
    [P_HEATMAP_COLOR] = {"heatmap-color", RL_HEATMAP, false, T_COLOR,
                         "[\"interpolate\", [\"linear\"], [\"heatmap-density\"], 0, \"rgba(0, 0, 255, 0)\", 0.1, "
                         "\"royalblue\", 0.3, \"cyan\", 0.5, \"lime\", 0.7, \"yellow\", 1, \"red\"]"},
    [P_HEATMAP_OPACITY] = {"heatmap-opacity", RL_HEATMAP, false, T_NUM, "1"},
};

/* The keywords MapLibre knows for the keyword (T_ENUM) properties, comma-separated. */
static const char *const enum_values[P_COUNT] = {
    [P_LINE_CAP] = "butt,round,square",
    [P_LINE_JOIN] = "bevel,round,miter",
    [P_TEXT_TRANSFORM] = "none,uppercase,lowercase",
    [P_SYMBOL_PLACEMENT] = "point,line,line-center",
};

/* Properties whose value is read but that are drawn the same way anyway: no warning. */
/* (a raster tile is drawn north up and flat: map and viewport alignments are the same thing) */
static const char *const quiet_props[] = {"visibility", "text-anchor", "text-justify", "icon-anchor",
                                          "text-rotation-alignment", "text-pitch-alignment",
                                          "icon-rotation-alignment", NULL};

static msh_ex *compile_prop(cc *c, msh_rlayer *l, int p, json_t *val)
{
    c->prop = props[p].name;
    c->unsup[0] = 0;
    msh_ex *e = json_is_object(val) ? cx_function(c, val, props[p].type == T_COLOR ? W_COLOR : W_ANY)
                                    : cx(c, val, props[p].type == T_COLOR ? W_COLOR : W_ANY);
    if (c->unsup[0] && !c->bad) {
        warn(c, "%s: operator '%s' is not supported, the property is drawn with its default", props[p].name, c->unsup);
        c->unsup[0] = 0;
        e = NULL;
    }
    if (e && !e->deps && e->op != OP_LIT) {
        /* a constant: evaluate once (its strings are in the style's memory or the scratch below) */
        msh_ectx ec = {.zoom = 0};
        msh_val v = msh_ex_eval(e, &ec);
        if (v.t == MV_STR) {
            char *d = cc_strdup(c, v.s, v.len);
            if (!d) return fail(c, "out of memory%s", NULL);
            v.s = d;
        }
        if (v.t == MV_FMT) /* sections live in the context: keep the tree */
            return e;
        msh_val col = {.t = MV_COLOR};
        if (props[p].type == T_COLOR && v.t == MV_STR && msh_color_parse(v.s, v.len, col.c))
            v = col;
        e = lit(c, v);
    }
    if (e && !e->deps && enum_values[p]) { /* a constant of a keyword property: one MapLibre knows */
        msh_ectx ec = {.zoom = 0};
        msh_val v = msh_ex_eval(e, &ec);
        bool known = false;
        for (const char *w = enum_values[p]; v.t == MV_STR && *w && !known;) {
            size_t n = strcspn(w, ",");
            known = n == v.len && !memcmp(w, v.s, n);
            w += n + (w[n] == ',');
        }
        if (!known) {
            char what[160], list[96];
            if (v.t == MV_STR)
                snprintf(what, sizeof what, "'%.*s'", (int)(v.len > 60 ? 60 : v.len), v.s);
            else
                snprintf(what, sizeof what, "a value that is not a string");
            size_t o = 0;
            for (const char *w = enum_values[p]; *w && o + 3 < sizeof list; w++)
                o += (size_t)snprintf(list + o, sizeof list - o, *w == ',' ? ", " : "%c", *w);
            char msg[320];
            snprintf(msg, sizeof msg, "%s: %s is not one of %s; drawn with the default", props[p].name, what, list);
            warn(c, "%s%s", msg, NULL);
            e = NULL;
        }
    }
    (void)l;
    return e;
}

static msh_rc compile_layer(cc *c, json_t *lj, msh_rlayer *l)
{
    json_t *id = json_object_get(lj, "id"), *type = json_object_get(lj, "type");
    if (!json_is_string(id))
        return fail(c, "a layer needs a string \"id\"%s", NULL), MSH_EFORMAT;
    l->id = cc_strdup(c, json_string_value(id), json_string_length(id));
    c->lid = l->id;
    c->prop = NULL;
    if (!json_is_string(type))
        return fail(c, "a layer needs a string \"type\"%s", NULL), MSH_EFORMAT;
    static const char *const tnames[] = {NULL, "background", "fill", "line", "circle", "symbol", "heatmap"};
    const char *tn = json_string_value(type);
    for (int t = 1; t <= RL_HEATMAP; t++)
        if (!strcmp(tn, tnames[t]))
            l->type = (msh_rltype)t;
    if (!l->type) {
        warn(c, "layer type '%s' is not supported, the layer is not drawn%s", tn, NULL);
        return MSH_OK;
    }
    json_t *sl = json_object_get(lj, "source-layer");
    if (l->type != RL_BACKGROUND) {
        if (!json_is_string(sl)) {
            warn(c, "no \"source-layer\": the layer is not drawn%s%s", NULL, NULL);
            l->type = 0;
            return MSH_OK;
        }
        l->source_layer = cc_strdup(c, json_string_value(sl), json_string_length(sl));
    }
    json_t *mz = json_object_get(lj, "minzoom"), *xz = json_object_get(lj, "maxzoom");
    if ((mz && !json_is_number(mz)) || (xz && !json_is_number(xz)))
        return fail(c, "minzoom and maxzoom must be numbers%s", NULL), MSH_EFORMAT;
    l->minzoom = mz ? json_number_value(mz) : 0;
    l->maxzoom = xz ? json_number_value(xz) : 24.0001;
    l->visible = true;
    json_t *layout = json_object_get(lj, "layout"), *paint = json_object_get(lj, "paint");
    if ((layout && !json_is_object(layout)) || (paint && !json_is_object(paint)))
        return fail(c, "layout and paint must be objects%s", NULL), MSH_EFORMAT;
    json_t *vis = json_object_get(layout, "visibility");
    if (vis && json_is_string(vis) && !strcmp(json_string_value(vis), "none"))
        l->visible = false;
    json_t *filter = json_object_get(lj, "filter");
    if (filter) {
        c->prop = "filter";
        c->unsup[0] = 0;
        l->filter = is_expr_filter(filter) ? cx(c, filter, W_ANY) : cx_legacy(c, filter);
        if (c->bad) return MSH_EFORMAT;
        if (c->unsup[0]) {
            warn(c, "filter: operator '%s' is not supported, the layer is not drawn%s", c->unsup, NULL);
            c->unsup[0] = 0;
            l->type = 0;
            return MSH_OK;
        }
    }
    for (int part = 0; part < 2; part++) {
        json_t *obj = part ? paint : layout;
        const char *k;
        json_t *v;
        json_object_foreach(obj, k, v)
        {
            int p = 0;
            while (p < P_COUNT && strcmp(props[p].name, k)) p++;
            if (p == P_COUNT || props[p].layer != l->type || props[p].layout != (part == 0)) {
                bool quiet = false;
                for (int q = 0; quiet_props[q]; q++) quiet |= !strcmp(quiet_props[q], k);
                if (!quiet)
                    warn(c, "%s property '%s' is not supported, ignored", part ? "paint" : "layout", k);
                continue;
            }
            l->prop[p] = compile_prop(c, l, p, v);
            if (c->bad) return MSH_EFORMAT;
        }
    }
    for (int p = 0; p < P_COUNT; p++) {
        if (props[p].layer != l->type || l->prop[p])
            continue;
        json_error_t je;
        json_t *d = json_loads(props[p].def, JSON_DECODE_ANY, &je);
        if (!d) return msh_err_set(c->err, MSH_EINTERNAL, "default of %s", props[p].name);
        l->prop[p] = compile_prop(c, l, p, d);
        json_decref(d);
        if (c->bad) return MSH_EFORMAT;
    }
    return MSH_OK;
}

void msh_rstyle_free(msh_rstyle *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->nallocs; i++) free(s->allocs[i]);
    free(s->allocs);
    free(s->layers);
    free(s->name);
    free(s);
}

msh_rc msh_rstyle_compile(const char *name, const char *json, size_t len, msh_buf *warnings, msh_rstyle **out,
                          msh_err *err)
{
    *out = NULL;
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return msh_err_set(err, MSH_EFORMAT, "%s:%d:%d: %s", name, je.line, je.column, je.text);
    msh_rc rc = MSH_OK;
    msh_rstyle *st = calloc(1, sizeof *st);
    cc c = {.st = st, .name = name, .json = json, .len = len, .warn = warnings, .err = err};
    if (!st || !(st->name = strdup(name))) {
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
        goto out;
    }
    st->hash = msh_fnv1a(json, len, MSH_FNV1A_INIT);
    json_t *ver = json_object_get(root, "version"), *layers = json_object_get(root, "layers");
    if (!json_is_object(root) || !json_is_integer(ver) || json_integer_value(ver) != 8) {
        rc = msh_err_set(err, MSH_EFORMAT, "%s:1: not a MapLibre style: it needs \"version\": 8", name);
        goto out;
    }
    if (!json_is_array(layers)) {
        rc = msh_err_set(err, MSH_EFORMAT, "%s:1: \"layers\" must be an array", name);
        goto out;
    }
    size_t n = json_array_size(layers);
    if (n > 4096) {
        rc = msh_err_set(err, MSH_EFORMAT, "%s:1: more than 4096 layers", name);
        goto out;
    }
    st->layers = calloc(n ? n : 1, sizeof *st->layers);
    if (!st->layers) {
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *lj = json_array_get(layers, i);
        c.lid = NULL;
        if (!json_is_object(lj)) {
            char what[32];
            snprintf(what, sizeof what, "#%zu", i);
            c.lid = what;
            fail(&c, "a layer must be an object%s", NULL);
            rc = MSH_EFORMAT;
            goto out;
        }
        msh_rlayer *l = &st->layers[st->nlayers];
        if ((rc = compile_layer(&c, lj, l)))
            goto out;
        for (size_t k = 0; k < st->nlayers; k++)
            if (!strcmp(st->layers[k].id, l->id)) {
                fail(&c, "duplicate layer id%s", NULL);
                rc = MSH_EFORMAT;
                goto out;
            }
        if (l->type) {
            l->index = st->nlayers;
            st->nlayers++;
        } else {
            memset(l, 0, sizeof *l);
        }
    }
out:
    json_decref(root);
    if (rc) {
        msh_rstyle_free(st);
        return rc;
    }
    *out = st;
    return MSH_OK;
}

size_t msh_rstyle_nlayers(const msh_rstyle *s) { return s->nlayers; }
const char *msh_rstyle_source_layer(const msh_rstyle *s, size_t i) { return s->layers[i].source_layer; }
unsigned long long msh_rstyle_hash(const msh_rstyle *s) { return s->hash; }

msh_rc msh_rstyle_default(const char *const *names, const char *const *gtypes, size_t n, msh_rstyle **out,
                          msh_err *err)
{
    static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
                                          "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"};
    msh_buf b;
    msh_buf_init(&b, (size_t)1 << 20);
    msh_buf_printf(&b, "{\"version\":8,\"sources\":{},\"layers\":[");
    for (size_t i = 0; i < n; i++) {
        uint32_t h = 2166136261u;
        for (const char *p = names[i]; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
        const char *col = palette[h % 10], *g = gtypes[i] ? gtypes[i] : "";
        bool any = strcmp(g, "Point") && strcmp(g, "LineString") && strcmp(g, "Polygon");
        const char *nm = names[i];
        if (any || !strcmp(g, "Polygon"))
            msh_buf_printf(&b,
                           "{\"id\":\"%s-fill\",\"type\":\"fill\",\"source-layer\":\"%s\",\"paint\":{\"fill-color\":\"%s\","
                           "\"fill-opacity\":0.35}},{\"id\":\"%s-outline\",\"type\":\"line\",\"source-layer\":\"%s\","
                           "\"filter\":[\"==\",[\"geometry-type\"],\"Polygon\"],\"paint\":{\"line-color\":\"%s\","
                           "\"line-width\":1}},",
                           nm, nm, col, nm, nm, col);
        if (any || !strcmp(g, "LineString"))
            msh_buf_printf(&b,
                           "{\"id\":\"%s-line\",\"type\":\"line\",\"source-layer\":\"%s\",\"filter\":[\"==\",[\"geometry-"
                           "type\"],\"LineString\"],\"layout\":{\"line-join\":\"round\",\"line-cap\":\"round\"},"
                           "\"paint\":{\"line-color\":\"%s\",\"line-width\":1.5}},",
                           nm, nm, col);
        if (any || !strcmp(g, "Point"))
            msh_buf_printf(&b,
                           "{\"id\":\"%s-point\",\"type\":\"circle\",\"source-layer\":\"%s\",\"filter\":[\"==\",[\"geometry-"
                           "type\"],\"Point\"],\"paint\":{\"circle-color\":\"%s\",\"circle-radius\":3.5,"
                           "\"circle-stroke-color\":\"#ffffff\",\"circle-stroke-width\":1}},",
                           nm, nm, col);
    }
    if (b.len && b.data[b.len - 1] == ',') b.len--;
    msh_rc rc = msh_buf_printf(&b, "]}");
    if (!rc)
        rc = msh_rstyle_compile("default", (const char *)b.data, b.len, NULL, out, err);
    else
        msh_err_set(err, rc, "default style too large");
    msh_buf_free(&b);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * property access for the renderer */

msh_val msh_rl_eval(const msh_rlayer *l, msh_prop p, msh_ectx *c)
{
    c->used = 0;
    return msh_ex_eval(l->prop[p], c);
}

double msh_rl_num(const msh_rlayer *l, msh_prop p, msh_ectx *c)
{
    msh_val v = msh_rl_eval(l, p, c);
    if (v.t == MV_NUM && isfinite(v.n))
        return v.n;
    /* an expression that gave nothing usable: the property's default */
    return strtod(props[p].def, NULL);
}

void msh_rl_color(const msh_rlayer *l, msh_prop p, msh_ectx *c, double out[4])
{
    if (!msh_val_color(msh_rl_eval(l, p, c), out))
        out[0] = out[1] = out[2] = 0, out[3] = props[p].def[0] == 'n' ? 0 : 1;
}

bool msh_rl_bool(const msh_rlayer *l, msh_prop p, msh_ectx *c)
{
    msh_val v = msh_rl_eval(l, p, c);
    return v.t == MV_BOOL ? v.b : !strcmp(props[p].def, "true");
}

bool msh_rl_per_feature(const msh_rlayer *l, msh_prop p) { return (msh_ex_deps(l->prop[p]) & MSH_EX_FEATURE) != 0; }

bool msh_rl_filter(const msh_rlayer *l, msh_ectx *c)
{
    if (!l->filter)
        return true;
    c->used = 0;
    return msh_val_true(msh_ex_eval(l->filter, c));
}

msh_rc msh_rstyle_load(const char *path, msh_buf *warnings, msh_rstyle **out, msh_err *err)
{
    msh_buf doc;
    msh_buf_init(&doc, MSH_RSTYLE_MAX_BYTES);
    msh_rc rc = MSH_OK;
    FILE *f = fopen(path, "rb");
    if (!f)
        return msh_err_set(err, MSH_EIO, "%s: cannot open: %s", path, strerror(errno));
    char chunk[16384];
    size_t got;
    while (!rc && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        if ((rc = msh_buf_append(&doc, chunk, got)))
            msh_err_set(err, rc, "%s: larger than %zu bytes", path, MSH_RSTYLE_MAX_BYTES);
    if (!rc && ferror(f))
        rc = msh_err_set(err, MSH_EIO, "%s: read error", path);
    fclose(f);
    if (!rc)
        rc = msh_rstyle_compile(path, (const char *)doc.data, doc.len, warnings, out, err);
    msh_buf_free(&doc);
    return rc;
}
