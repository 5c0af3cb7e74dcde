/* cql2.c: CQL2-text parser (recursive descent, depth-limited) and evaluator (see cql2.h).
 *
 * The tree lives in two arrays owned by the filter: nodes (logic and predicates) and operands
 * (properties and literals). AND and OR are n-ary (children chained through `next`), so a long
 * chain of ANDs is a wide node, not a deep one: the tree is only as deep as the text's nesting,
 * which the parser caps, and the evaluator's recursion is bounded by the same cap.
 */
#include "cql2.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qgeom.h"
#include "qs.h"

typedef enum { O_PROP, O_NUM, O_STR, O_BOOL, O_TIME, O_GEOMPROP, O_GEOMLIT } okind;

/* value kinds an operand yields */
typedef enum { V_NULL, V_NUM, V_STR, V_BOOL, V_TIME, V_GEOM } vkind;

typedef struct {
    uint8_t kind;   /* okind */
    bool is_int;
    int field;      /* O_PROP */
    int64_t i;      /* O_NUM integer, O_BOOL */
    double d;       /* O_NUM */
    uint32_t off, len; /* O_STR: bytes in strs */
    int64_t tlo, thi;  /* O_TIME: an instant, or the span of a date */
    int geom;       /* O_GEOMLIT: index in geoms */
} operand;

typedef enum { N_AND, N_OR, N_NOT, N_CONST, N_CMP, N_LIKE, N_BETWEEN, N_IN, N_ISNULL, N_INTERSECTS } nkind;
typedef enum { C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE } ckind;

typedef struct {
    uint8_t kind, neg, cmp;
    int32_t first, next; /* AND/OR/NOT children */
    uint32_t a, b, c;    /* operands */
    uint32_t nlist;      /* IN: list is operands [b, b + nlist) */
} node;

struct msh_cql2 {
    const msh_layer_info *info;
    node *nodes;
    size_t nnodes;
    operand *ops;
    size_t nops;
    char *strs;
    size_t nstrs;
    msh_qgeom *geoms;
    size_t ngeoms;
    int32_t root;
    bool uses_geom;
    msh_qgeom feat; /* scratch: the feature's geometry in lon/lat */
    const msh_feature *feat_of; /* the feature `feat` holds, for this match call */
};

/* ---- lexer ----------------------------------------------------------------------------------- */

typedef enum { T_END, T_IDENT, T_QIDENT, T_STR, T_NUM, T_LP, T_RP, T_COMMA, T_OP, T_BAD } tkind;

typedef struct {
    tkind kind;
    size_t at, len; /* span in the text */
} token;

typedef struct {
    const char *s;
    size_t len, pos;
    msh_cql2 *f;
    msh_err *err;
} parser;

static bool ident_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c == ':' || c == '.' || c >= 0x80;
}

static token lex(parser *p)
{
    size_t i = p->pos;
    while (i < p->len && isspace((unsigned char)p->s[i]))
        i++;
    token t = {T_END, i, 0};
    if (i >= p->len)
        return t;
    unsigned char c = (unsigned char)p->s[i];
    size_t j = i + 1;
    if (c == '(' || c == ')' || c == ',') {
        t.kind = c == '(' ? T_LP : c == ')' ? T_RP : T_COMMA;
    } else if (c == '=' ) {
        t.kind = T_OP;
    } else if (c == '<') {
        t.kind = T_OP;
        if (j < p->len && (p->s[j] == '=' || p->s[j] == '>'))
            j++;
    } else if (c == '>') {
        t.kind = T_OP;
        if (j < p->len && p->s[j] == '=')
            j++;
    } else if (c == '\'' || c == '"') {
        t.kind = c == '\'' ? T_STR : T_QIDENT;
        for (;;) {
            if (j >= p->len) {
                t.kind = T_BAD;
                break;
            }
            if (c == '\'' && p->s[j] == '\\' && j + 1 < p->len && p->s[j + 1] == '\'') {
                j += 2; /* \' : one quote character (CQL2 escapeQuote) */
                continue;
            }
            if ((unsigned char)p->s[j] == c) {
                if (j + 1 < p->len && (unsigned char)p->s[j + 1] == c) {
                    j += 2; /* doubled quote: one quote character */
                    continue;
                }
                j++;
                break;
            }
            j++;
        }
    } else if (isdigit(c) || ((c == '-' || c == '+' || c == '.') && j < p->len &&
                              (isdigit((unsigned char)p->s[j]) || p->s[j] == '.'))) {
        t.kind = T_NUM;
        while (j < p->len && (isdigit((unsigned char)p->s[j]) || p->s[j] == '.'))
            j++;
        if (j < p->len && (p->s[j] == 'e' || p->s[j] == 'E')) {
            j++;
            if (j < p->len && (p->s[j] == '+' || p->s[j] == '-'))
                j++;
            while (j < p->len && isdigit((unsigned char)p->s[j]))
                j++;
        }
    } else if (ident_char(c)) {
        t.kind = T_IDENT;
        while (j < p->len && ident_char((unsigned char)p->s[j]))
            j++;
    } else {
        t.kind = T_BAD;
    }
    t.len = j - i;
    return t;
}

static token next(parser *p)
{
    token t = lex(p);
    p->pos = t.at + t.len;
    return t;
}

static bool is_kw(const parser *p, token t, const char *kw)
{
    return t.kind == T_IDENT && t.len == strlen(kw) && !strncasecmp(p->s + t.at, kw, t.len);
}

static bool take_kw(parser *p, const char *kw)
{
    token t = lex(p);
    if (!is_kw(p, t, kw))
        return false;
    p->pos = t.at + t.len;
    return true;
}

static bool take(parser *p, tkind k)
{
    token t = lex(p);
    if (t.kind != k)
        return false;
    p->pos = t.at + t.len;
    return true;
}

/* An error at token t: "filter: at character N: msg (found 'text')". */
static msh_rc fail_at(parser *p, token t, const char *msg)
{
    if (t.kind == T_END)
        return msh_err_set(p->err, MSH_EINVAL, "filter: at character %zu: %s (found the end of the filter)", t.at + 1,
                           msg);
    return msh_err_set(p->err, MSH_EINVAL, "filter: at character %zu: %s (found '%.*s')", t.at + 1, msg,
                       (int)(t.len > 40 ? 40 : t.len), p->s + t.at);
}

/* ---- building -------------------------------------------------------------------------------- */

static msh_rc new_node(parser *p, nkind k, int32_t *out)
{
    msh_cql2 *f = p->f;
    if (f->nnodes + f->nops >= MSH_CQL2_MAX_NODES)
        return msh_err_set(p->err, MSH_EINVAL, "filter: too complex (more than %d terms)", MSH_CQL2_MAX_NODES);
    if ((f->nnodes & (f->nnodes + 1)) == 0 || f->nnodes == 0) { /* grow at 0, 1, 3, 7, ... */
        size_t nc = (f->nnodes + 1) * 2;
        node *nn = realloc(f->nodes, nc * sizeof *nn);
        if (!nn)
            return msh_err_set(p->err, MSH_ENOMEM, "filter: out of memory");
        f->nodes = nn;
    }
    node *n = &f->nodes[f->nnodes];
    memset(n, 0, sizeof *n);
    n->kind = (uint8_t)k;
    n->first = n->next = -1;
    *out = (int32_t)f->nnodes++;
    return MSH_OK;
}

static msh_rc new_op(parser *p, uint32_t *out)
{
    msh_cql2 *f = p->f;
    if (f->nnodes + f->nops >= MSH_CQL2_MAX_NODES)
        return msh_err_set(p->err, MSH_EINVAL, "filter: too complex (more than %d terms)", MSH_CQL2_MAX_NODES);
    if ((f->nops & (f->nops + 1)) == 0 || f->nops == 0) {
        size_t nc = (f->nops + 1) * 2;
        operand *no = realloc(f->ops, nc * sizeof *no);
        if (!no)
            return msh_err_set(p->err, MSH_ENOMEM, "filter: out of memory");
        f->ops = no;
    }
    memset(&f->ops[f->nops], 0, sizeof f->ops[0]);
    *out = (uint32_t)f->nops++;
    return MSH_OK;
}

/* Unquote a '...' or "..." token into the string pool (doubled quotes become one). */
static void unquote(parser *p, token t, uint32_t *off, uint32_t *len)
{
    msh_cql2 *f = p->f;
    char q = p->s[t.at];
    *off = (uint32_t)f->nstrs;
    for (size_t i = t.at + 1; i + 1 < t.at + t.len; i++) {
        if (q == '\'' && p->s[i] == '\\' && p->s[i + 1] == '\'') {
            f->strs[f->nstrs++] = p->s[++i]; /* \' is a quote */
            continue;
        }
        f->strs[f->nstrs++] = p->s[i];
        if (p->s[i] == q)
            i++;
    }
    *len = (uint32_t)(f->nstrs - *off);
    f->strs[f->nstrs++] = 0;
}

static int find_field(const msh_layer_info *info, const char *name, size_t len)
{
    for (uint32_t i = 0; i < info->nfields; i++)
        if (strlen(info->fields[i].name) == len && !memcmp(info->fields[i].name, name, len))
            return (int)i;
    return -1;
}

static vkind op_vkind(const msh_cql2 *f, const operand *o)
{
    switch (o->kind) {
    case O_PROP:
        switch (f->info->fields[o->field].type) {
        case MSH_FT_INT:
        case MSH_FT_REAL: return V_NUM;
        case MSH_FT_BOOL: return V_BOOL;
        default: return V_STR;
        }
    case O_NUM: return V_NUM;
    case O_STR: return V_STR;
    case O_BOOL: return V_BOOL;
    case O_TIME: return V_TIME;
    default: return V_GEOM;
    }
}

static const char *vkind_name(vkind k)
{
    static const char *const names[] = {"null", "a number", "a string", "a boolean", "a time", "a geometry"};
    return names[k];
}

/* A scalar: property, string, number, boolean, TIMESTAMP('...') or DATE('...'). */
static msh_rc scalar(parser *p, uint32_t *out)
{
    token t = next(p);
    msh_rc rc;
    if (t.kind == T_BAD)
        return fail_at(p, t, "unexpected character (strings take 'single quotes', names \"double quotes\")");
    if (t.kind != T_IDENT && t.kind != T_QIDENT && t.kind != T_STR && t.kind != T_NUM)
        return fail_at(p, t, "expected a property name or a value");
    if ((rc = new_op(p, out)))
        return rc;
    operand *o = &p->f->ops[*out];
    if (t.kind == T_NUM) {
        char tmp[64];
        if (t.len >= sizeof tmp)
            return fail_at(p, t, "number too long");
        memcpy(tmp, p->s + t.at, t.len);
        tmp[t.len] = 0;
        char *end;
        errno = 0;
        o->kind = O_NUM;
        bool intlike = !strpbrk(tmp, ".eE");
        if (intlike) {
            long long v = strtoll(tmp, &end, 10);
            if (*end == 0 && errno != ERANGE) {
                o->is_int = true;
                o->i = v;
                o->d = (double)v;
                return MSH_OK;
            }
        }
        errno = 0;
        o->d = strtod(tmp, &end);
        if (*end || !isfinite(o->d))
            return fail_at(p, t, "not a valid number");
        return MSH_OK;
    }
    if (t.kind == T_STR) {
        o->kind = O_STR;
        unquote(p, t, &o->off, &o->len);
        return MSH_OK;
    }
    if (t.kind == T_IDENT && (is_kw(p, t, "TRUE") || is_kw(p, t, "FALSE"))) {
        o->kind = O_BOOL;
        o->i = is_kw(p, t, "TRUE");
        return MSH_OK;
    }
    if (t.kind == T_IDENT && lex(p).kind == T_LP) {
        if (!is_kw(p, t, "TIMESTAMP") && !is_kw(p, t, "DATE"))
            return fail_at(p, t, "unsupported function (this server knows TIMESTAMP, DATE and S_INTERSECTS)");
        bool date = is_kw(p, t, "DATE");
        next(p);
        token v = next(p);
        if (v.kind != T_STR)
            return fail_at(p, v, date ? "DATE takes a quoted date: DATE('2026-06-14')"
                                      : "TIMESTAMP takes a quoted time: TIMESTAMP('2026-06-14T10:00:00Z')");
        const char *what = date ? "not a date (YYYY-MM-DD)" : "not an RFC 3339 time (2026-06-14T10:00:00Z)";
        msh_err e;
        if (msh_qs_time(p->s + v.at + 1, v.len - 2, &o->tlo, &o->thi, &e)) {
            char why[sizeof e.msg + 64];
            snprintf(why, sizeof why, "%s: %s", what, e.msg);
            return fail_at(p, v, why);
        }
        if (date ? v.len - 2 != MSH_QS_DATE_LEN : v.len - 2 == MSH_QS_DATE_LEN)
            return fail_at(p, v, what);
        o->kind = O_TIME;
        token r = next(p);
        if (r.kind != T_RP)
            return fail_at(p, r, "expected ')'");
        return MSH_OK;
    }
    /* a property */
    uint32_t off, len;
    const char *name = p->s + t.at;
    size_t nlen = t.len;
    if (t.kind == T_QIDENT) {
        unquote(p, t, &off, &len);
        name = p->f->strs + off;
        nlen = len;
    }
    if (nlen == strlen(MSH_CQL2_GEOMETRY) && !memcmp(name, MSH_CQL2_GEOMETRY, nlen)) {
        o->kind = O_GEOMPROP;
        return MSH_OK;
    }
    int fi = find_field(p->f->info, name, nlen);
    if (fi < 0) {
        char list[300];
        size_t n = 0;
        list[0] = 0;
        for (uint32_t i = 0; i < p->f->info->nfields && n + 40 < sizeof list; i++)
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", p->f->info->fields[i].name);
        return msh_err_set(p->err, MSH_EINVAL,
                           "filter: at character %zu: unknown property '%.*s' (the queryables of %s are: %s%s%s)",
                           t.at + 1, (int)(nlen > 60 ? 60 : nlen), name, p->f->info->name, list, n ? ", " : "",
                           MSH_CQL2_GEOMETRY);
    }
    o->kind = O_PROP;
    o->field = fi;
    return MSH_OK;
}

/* Operands compared with each other must be of kinds that compare. */
static msh_rc check_comparable(parser *p, token at, uint32_t a, uint32_t b)
{
    vkind x = op_vkind(p->f, &p->f->ops[a]), y = op_vkind(p->f, &p->f->ops[b]);
    if (x == y && x != V_GEOM)
        return MSH_OK;
    if ((x == V_TIME && y == V_STR) || (x == V_STR && y == V_TIME))
        return MSH_OK; /* a text property holding times against TIMESTAMP()/DATE() */
    return msh_err_set(p->err, MSH_EINVAL, "filter: at character %zu: cannot compare %s with %s", at.at + 1,
                       vkind_name(x), vkind_name(y));
}

static msh_rc parse_or(parser *p, int depth, int32_t *out);

static msh_rc spatial(parser *p, int32_t *out)
{
    msh_rc rc;
    msh_cql2 *f = p->f;
    if (!take(p, T_LP))
        return fail_at(p, lex(p), "expected '(' after S_INTERSECTS");
    if ((rc = new_node(p, N_INTERSECTS, out)))
        return rc;
    for (int arg = 0; arg < 2; arg++) {
        if (arg && !take(p, T_COMMA))
            return fail_at(p, lex(p), "expected ',' between the two geometries of S_INTERSECTS");
        uint32_t oi;
        if ((rc = new_op(p, &oi)))
            return rc;
        token t = lex(p);
        bool prop = (t.kind == T_QIDENT) ||
                    (t.kind == T_IDENT && t.len == strlen(MSH_CQL2_GEOMETRY) &&
                     !memcmp(p->s + t.at, MSH_CQL2_GEOMETRY, t.len));
        if (t.kind == T_IDENT && find_field(f->info, p->s + t.at, t.len) >= 0)
            return fail_at(p, t, "S_INTERSECTS compares the geometry property '" MSH_CQL2_GEOMETRY "' with a geometry");
        if (prop) {
            uint32_t sop;
            p->f->nops--; /* scalar() makes its own operand */
            if ((rc = scalar(p, &sop)))
                return rc;
            if (f->ops[sop].kind != O_GEOMPROP)
                return fail_at(p, t, "S_INTERSECTS compares the geometry property with a geometry");
            oi = sop;
            f->uses_geom = true;
        } else {
            msh_qgeom *ng = realloc(f->geoms, (f->ngeoms + 1) * sizeof *ng);
            if (!ng)
                return msh_err_set(p->err, MSH_ENOMEM, "filter: out of memory");
            f->geoms = ng;
            msh_qgeom_init(&f->geoms[f->ngeoms]);
            f->ngeoms++;
            size_t used = 0;
            msh_err ge;
            size_t at = t.at;
            rc = msh_qgeom_parse_wkt(p->s + at, p->len - at, &used, &f->geoms[f->ngeoms - 1], &ge);
            if (rc)
                return msh_err_set(p->err, rc, "filter: at character %zu: %s", at + 1, ge.msg);
            p->pos = at + used;
            f->ops[oi].kind = O_GEOMLIT;
            f->ops[oi].geom = (int)(f->ngeoms - 1);
        }
        if (arg == 0)
            f->nodes[*out].a = oi;
        else
            f->nodes[*out].b = oi;
    }
    if (!take(p, T_RP))
        return fail_at(p, lex(p), "expected ')' to close S_INTERSECTS");
    return MSH_OK;
}

/* A predicate or a boolean literal, after its first scalar. */
static msh_rc predicate(parser *p, int32_t *out)
{
    msh_rc rc;
    token first = lex(p);
    uint32_t a;
    if ((rc = scalar(p, &a)))
        return rc;
    msh_cql2 *f = p->f;
    token t = lex(p);
    bool neg = false;
    if (is_kw(p, t, "NOT")) {
        next(p);
        neg = true;
        t = lex(p);
        if (!is_kw(p, t, "LIKE") && !is_kw(p, t, "BETWEEN") && !is_kw(p, t, "IN"))
            return fail_at(p, t, "expected LIKE, BETWEEN or IN after NOT");
    }
    if (t.kind == T_OP) {
        next(p);
        static const char *const ops[] = {"=", "<>", "<", "<=", ">", ">="};
        int c = -1;
        for (int i = 0; i < 6; i++)
            if (strlen(ops[i]) == t.len && !memcmp(ops[i], p->s + t.at, t.len))
                c = i;
        uint32_t b;
        if ((rc = scalar(p, &b)) || (rc = check_comparable(p, t, a, b)) || (rc = new_node(p, N_CMP, out)))
            return rc;
        if (op_vkind(f, &f->ops[a]) == V_BOOL && c != C_EQ && c != C_NE)
            return fail_at(p, t, "booleans compare only with = and <>");
        f->nodes[*out].cmp = (uint8_t)c;
        f->nodes[*out].a = a;
        f->nodes[*out].b = b;
        return MSH_OK;
    }
    if (is_kw(p, t, "LIKE")) {
        next(p);
        token pt = lex(p);
        uint32_t b;
        if ((rc = scalar(p, &b)))
            return rc;
        if (f->ops[b].kind != O_STR)
            return fail_at(p, pt, "LIKE takes a quoted pattern ('%' any run, '_' one character)");
        if (op_vkind(f, &f->ops[a]) != V_STR)
            return fail_at(p, first, "LIKE applies to text properties");
        if ((rc = new_node(p, N_LIKE, out)))
            return rc;
        f->nodes[*out].a = a;
        f->nodes[*out].b = b;
        f->nodes[*out].neg = neg;
        return MSH_OK;
    }
    if (is_kw(p, t, "BETWEEN")) {
        next(p);
        uint32_t lo, hi;
        if ((rc = scalar(p, &lo)) || (rc = check_comparable(p, t, a, lo)))
            return rc;
        token andt = lex(p);
        if (!take_kw(p, "AND"))
            return fail_at(p, andt, "expected AND in BETWEEN low AND high");
        if ((rc = scalar(p, &hi)) || (rc = check_comparable(p, t, a, hi)) || (rc = new_node(p, N_BETWEEN, out)))
            return rc;
        if (op_vkind(f, &f->ops[a]) == V_BOOL)
            return fail_at(p, t, "BETWEEN does not apply to booleans");
        f->nodes[*out].a = a;
        f->nodes[*out].b = lo;
        f->nodes[*out].c = hi;
        f->nodes[*out].neg = neg;
        return MSH_OK;
    }
    if (is_kw(p, t, "IN")) {
        next(p);
        if (!take(p, T_LP))
            return fail_at(p, lex(p), "expected '(' after IN");
        uint32_t first_item = 0, n = 0;
        do {
            uint32_t b;
            token it = lex(p);
            if ((rc = scalar(p, &b)) || (rc = check_comparable(p, it, a, b)))
                return rc;
            if (f->ops[b].kind == O_PROP || f->ops[b].kind == O_GEOMPROP)
                return fail_at(p, it, "IN takes a list of values");
            if (n == 0)
                first_item = b;
            n++;
        } while (take(p, T_COMMA));
        if (!take(p, T_RP))
            return fail_at(p, lex(p), "expected ',' or ')' in the IN list");
        if ((rc = new_node(p, N_IN, out)))
            return rc;
        f->nodes[*out].a = a;
        f->nodes[*out].b = first_item; /* list items are consecutive operands */
        f->nodes[*out].nlist = n;
        f->nodes[*out].neg = neg;
        return MSH_OK;
    }
    if (is_kw(p, t, "IS")) {
        next(p);
        bool isnot = take_kw(p, "NOT");
        token nt = lex(p);
        if (!take_kw(p, "NULL"))
            return fail_at(p, nt, "expected NULL after IS");
        if ((rc = new_node(p, N_ISNULL, out)))
            return rc;
        f->nodes[*out].a = a;
        f->nodes[*out].neg = isnot;
        return MSH_OK;
    }
    if (f->ops[a].kind == O_BOOL) {
        if ((rc = new_node(p, N_CONST, out)))
            return rc;
        f->nodes[*out].a = a;
        return MSH_OK;
    }
    return fail_at(p, t, "expected a comparison (=, <>, <, <=, >, >=, LIKE, BETWEEN, IN or IS NULL)");
}

static msh_rc primary(parser *p, int depth, int32_t *out)
{
    token t = lex(p);
    if (t.kind == T_LP) {
        if (depth >= MSH_CQL2_MAX_DEPTH)
            return fail_at(p, t, "nested too deep");
        next(p);
        msh_rc rc = parse_or(p, depth + 1, out);
        if (rc)
            return rc;
        if (!take(p, T_RP))
            return fail_at(p, lex(p), "expected ')'");
        return MSH_OK;
    }
    if (t.kind == T_IDENT && lex(&(parser){p->s, p->len, t.at + t.len, p->f, p->err}).kind == T_LP) {
        if (is_kw(p, t, "S_INTERSECTS")) {
            next(p);
            return spatial(p, out);
        }
        if (t.len > 2 && !strncasecmp(p->s + t.at, "S_", 2))
            return fail_at(p, t, "unsupported spatial function (this server implements S_INTERSECTS)");
        if (t.len > 2 && !strncasecmp(p->s + t.at, "T_", 2))
            return fail_at(p, t, "temporal functions are not supported (use datetime= or comparisons with TIMESTAMP)");
    }
    return predicate(p, out);
}

static msh_rc parse_not(parser *p, int depth, int32_t *out)
{
    token t = lex(p);
    if (is_kw(p, t, "NOT")) {
        if (depth >= MSH_CQL2_MAX_DEPTH)
            return fail_at(p, t, "nested too deep");
        next(p);
        int32_t child;
        msh_rc rc = parse_not(p, depth + 1, &child);
        if (rc || (rc = new_node(p, N_NOT, out)))
            return rc;
        p->f->nodes[*out].first = child;
        return MSH_OK;
    }
    return primary(p, depth, out);
}

/* term {KW term}: one node, or an n-ary AND/OR. */
static msh_rc chain(parser *p, int depth, const char *kw, nkind k, int32_t *out)
{
    int32_t first, last;
    msh_rc rc = k == N_OR ? chain(p, depth, "AND", N_AND, &first) : parse_not(p, depth, &first);
    if (rc)
        return rc;
    if (!is_kw(p, lex(p), kw)) {
        *out = first;
        return MSH_OK;
    }
    if ((rc = new_node(p, k, out)))
        return rc;
    p->f->nodes[*out].first = last = first;
    while (take_kw(p, kw)) {
        int32_t n;
        if ((rc = k == N_OR ? chain(p, depth, "AND", N_AND, &n) : parse_not(p, depth, &n)))
            return rc;
        p->f->nodes[last].next = n;
        last = n;
    }
    return MSH_OK;
}

static msh_rc parse_or(parser *p, int depth, int32_t *out)
{
    return chain(p, depth, "OR", N_OR, out);
}

msh_rc msh_cql2_parse(const char *text, size_t len, const msh_layer_info *info, msh_cql2 **out, msh_err *err)
{
    *out = NULL;
    if (len > MSH_CQL2_MAX_LEN)
        return msh_err_set(err, MSH_EINVAL, "filter: longer than %d bytes", MSH_CQL2_MAX_LEN);
    for (size_t i = 0; i < len; i++)
        if (text[i] == 0)
            return msh_err_set(err, MSH_EINVAL, "filter: contains a NUL byte at character %zu", i + 1);
    msh_cql2 *f = calloc(1, sizeof *f);
    if (!f)
        return msh_err_set(err, MSH_ENOMEM, "filter: out of memory");
    f->info = info;
    f->strs = malloc(len + 2); /* unquoted text is never longer than the filter, +1 NUL each */
    msh_qgeom_init(&f->feat);
    parser p = {text, len, 0, f, err};
    msh_rc rc = f->strs ? MSH_OK : msh_err_set(err, MSH_ENOMEM, "filter: out of memory");
    /* each string token is at least 2 bytes and unquotes to len - 2 + 1: the pool never overflows */
    if (!rc) {
        token t = lex(&p);
        if (t.kind == T_END)
            rc = msh_err_set(err, MSH_EINVAL, "filter: empty");
    }
    if (!rc)
        rc = parse_or(&p, 0, &f->root);
    if (!rc) {
        token t = lex(&p);
        if (t.kind != T_END)
            rc = fail_at(&p, t, "expected AND, OR or the end of the filter");
    }
    if (rc) {
        msh_cql2_free(f);
        return rc;
    }
    *out = f;
    return MSH_OK;
}

void msh_cql2_free(msh_cql2 *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->ngeoms; i++)
        msh_qgeom_free(&f->geoms[i]);
    msh_qgeom_free(&f->feat);
    free(f->geoms);
    free(f->nodes);
    free(f->ops);
    free(f->strs);
    free(f);
}

/* The literal geometry's box when node n is S_INTERSECTS(geometry, literal) or its mirror. */
static bool node_bbox(const msh_cql2 *f, const node *n, double out[4])
{
    if (n->kind != N_INTERSECTS)
        return false;
    const operand *a = &f->ops[n->a], *b = &f->ops[n->b];
    const operand *lit = a->kind == O_GEOMLIT ? a : b->kind == O_GEOMLIT ? b : NULL;
    const operand *prop = a->kind == O_GEOMPROP ? a : b->kind == O_GEOMPROP ? b : NULL;
    if (!lit || !prop)
        return false;
    const msh_qgeom *g = &f->geoms[lit->geom];
    if (!g->npts) {
        out[0] = out[1] = 1, out[2] = out[3] = 0; /* EMPTY: an empty box, nothing matches */
        return true;
    }
    memcpy(out, g->bbox, 4 * sizeof *out);
    return true;
}

bool msh_cql2_bbox(const msh_cql2 *f, double out[4])
{
    const node *root = &f->nodes[f->root];
    if (node_bbox(f, root, out))
        return true;
    if (root->kind != N_AND)
        return false;
    bool have = false;
    for (int32_t c = root->first; c >= 0; c = f->nodes[c].next) {
        double b[4];
        if (!node_bbox(f, &f->nodes[c], b))
            continue;
        if (!have) {
            memcpy(out, b, sizeof b);
            have = true;
        } else { /* every one must hold: the intersection */
            out[0] = fmax(out[0], b[0]), out[1] = fmax(out[1], b[1]);
            out[2] = fmin(out[2], b[2]), out[3] = fmin(out[3], b[3]);
        }
    }
    return have;
}

bool msh_cql2_uses_geometry(const msh_cql2 *f)
{
    return f->uses_geom;
}

/* ---- evaluation ------------------------------------------------------------------------------ */

typedef struct {
    vkind k;
    bool is_int;
    int64_t i;
    double d;
    const char *s;
    size_t len;
    int64_t tlo, thi;
} val;

static val value_of(msh_cql2 *f, const operand *o, const msh_feature *ft)
{
    val v = {V_NULL, false, 0, 0, NULL, 0, 0, 0};
    switch (o->kind) {
    case O_PROP: {
        const msh_value *mv = ft->values ? &ft->values[o->field] : NULL;
        if (!mv || !mv->type)
            return v;
        switch (mv->type) {
        case MSH_FT_INT: v.k = V_NUM; v.is_int = true; v.i = mv->u.i; v.d = (double)mv->u.i; break;
        case MSH_FT_REAL: v.k = V_NUM; v.d = mv->u.d; break;
        case MSH_FT_BOOL: v.k = V_BOOL; v.i = mv->u.i != 0; break;
        case MSH_FT_STRING: v.k = V_STR; v.s = mv->u.s; v.len = mv->len; break;
        default: break;
        }
        return v;
    }
    case O_NUM: v.k = V_NUM; v.is_int = o->is_int; v.i = o->i; v.d = o->d; return v;
    case O_STR: v.k = V_STR; v.s = f->strs + o->off; v.len = o->len; return v;
    case O_BOOL: v.k = V_BOOL; v.i = o->i; return v;
    case O_TIME: v.k = V_TIME; v.tlo = o->tlo; v.thi = o->thi; return v;
    default: return v;
    }
}

/* A text value read as a time, for comparisons with TIMESTAMP()/DATE(). */
static val as_time(val v)
{
    if (v.k != V_STR)
        return v;
    val t = {V_NULL, false, 0, 0, NULL, 0, 0, 0};
    if (msh_qs_time(v.s, v.len, &t.tlo, &t.thi, NULL) == MSH_OK)
        t.k = V_TIME;
    return t;
}

/* -2: not comparable (unknown); else <0, 0, >0. Times compare as spans: a date is its day. */
static int compare(val a, val b)
{
    if (a.k == V_TIME || b.k == V_TIME) {
        a = as_time(a);
        b = as_time(b);
    }
    if (a.k == V_NULL || b.k == V_NULL || a.k != b.k)
        return -2;
    switch (a.k) {
    case V_NUM:
        if (a.is_int && b.is_int)
            return (a.i > b.i) - (a.i < b.i);
        if (isnan(a.d) || isnan(b.d))
            return -2;
        return (a.d > b.d) - (a.d < b.d);
    case V_STR: {
        size_t n = a.len < b.len ? a.len : b.len;
        int c = memcmp(a.s, b.s, n);
        if (c)
            return c < 0 ? -1 : 1;
        return (a.len > b.len) - (a.len < b.len);
    }
    case V_BOOL: return (a.i > b.i) - (a.i < b.i);
    case V_TIME:
        if (a.thi < b.tlo)
            return -1;
        if (a.tlo > b.thi)
            return 1;
        return 0; /* overlapping spans: equal (an instant within a date) */
    default: return -2;
    }
}

static int cmp_holds(ckind c, int r)
{
    if (r == -2)
        return -1;
    switch (c) {
    case C_EQ: return r == 0;
    case C_NE: return r != 0;
    case C_LT: return r < 0;
    case C_LE: return r <= 0;
    case C_GT: return r > 0;
    default: return r >= 0;
    }
}

static int negate(int v, bool neg)
{
    return v < 0 || !neg ? v : !v;
}

static inline size_t utf8_len(unsigned char c)
{
    return c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

bool msh_cql2_like(const char *s, size_t slen, const char *pat, size_t plen)
{
    /* A pattern needing more characters than the text has cannot match: checking first keeps a
     * hostile pattern ('%a%a%a...' of 16 KiB) from costing length x length on every feature. */
    size_t need = 0;
    for (size_t i = 0; i < plen; i++) {
        if (pat[i] == '%')
            continue;
        if (pat[i] == '\\' && i + 1 < plen)
            i++;
        need++;
    }
    if (need > slen)
        return false;
    size_t si = 0, pi = 0, star_p = (size_t)-1, star_s = 0;
    while (si < slen) {
        if (pi < plen) {
            char c = pat[pi];
            if (c == '%') {
                while (pi < plen && pat[pi] == '%')
                    pi++; /* a run of '%' is one */
                star_p = pi;
                star_s = si;
                continue;
            }
            if (c == '_') {
                size_t n = utf8_len((unsigned char)s[si]);
                si += n > slen - si ? slen - si : n;
                pi++;
                continue;
            }
            size_t adv = 1;
            if (c == '\\' && pi + 1 < plen) {
                c = pat[pi + 1];
                adv = 2;
            }
            if (s[si] == c) {
                si++;
                pi += adv;
                continue;
            }
        }
        if (star_p == (size_t)-1)
            return false;
        size_t n = utf8_len((unsigned char)s[star_s]);
        star_s += n > slen - star_s ? slen - star_s : n;
        si = star_s;
        pi = star_p;
    }
    while (pi < plen && pat[pi] == '%')
        pi++;
    return pi == plen;
}

static const msh_qgeom *geom_of(msh_cql2 *f, const operand *o, const msh_feature *ft)
{
    if (o->kind == O_GEOMLIT)
        return &f->geoms[o->geom];
    if (f->feat_of != ft) {
        if (msh_qgeom_from_feature(&f->feat, &ft->geom))
            return NULL;
        f->feat_of = ft;
    }
    return &f->feat;
}

static int eval(msh_cql2 *f, int32_t ni, const msh_feature *ft)
{
    const node *n = &f->nodes[ni];
    switch ((nkind)n->kind) {
    case N_AND: {
        int r = 1;
        for (int32_t c = n->first; c >= 0; c = f->nodes[c].next) {
            int v = eval(f, c, ft);
            if (v == 0)
                return 0;
            if (v < 0)
                r = -1;
        }
        return r;
    }
    case N_OR: {
        int r = 0;
        for (int32_t c = n->first; c >= 0; c = f->nodes[c].next) {
            int v = eval(f, c, ft);
            if (v == 1)
                return 1;
            if (v < 0)
                r = -1;
        }
        return r;
    }
    case N_NOT: return negate(eval(f, n->first, ft), true);
    case N_CONST: return (int)f->ops[n->a].i;
    case N_CMP:
        return cmp_holds((ckind)n->cmp, compare(value_of(f, &f->ops[n->a], ft), value_of(f, &f->ops[n->b], ft)));
    case N_LIKE: {
        val a = value_of(f, &f->ops[n->a], ft), b = value_of(f, &f->ops[n->b], ft);
        if (a.k != V_STR)
            return -1;
        return negate(msh_cql2_like(a.s, a.len, b.s, b.len), n->neg);
    }
    case N_BETWEEN: {
        val a = value_of(f, &f->ops[n->a], ft);
        int lo = cmp_holds(C_GE, compare(a, value_of(f, &f->ops[n->b], ft)));
        int hi = cmp_holds(C_LE, compare(a, value_of(f, &f->ops[n->c], ft)));
        int r = lo == 0 || hi == 0 ? 0 : lo < 0 || hi < 0 ? -1 : 1;
        return negate(r, n->neg);
    }
    case N_IN: {
        val a = value_of(f, &f->ops[n->a], ft);
        int r = 0;
        for (uint32_t i = 0; i < n->nlist; i++) {
            int c = compare(a, value_of(f, &f->ops[n->b + i], ft));
            if (c == 0) {
                r = 1;
                break;
            }
            if (c == -2)
                r = -1;
        }
        return negate(r, n->neg);
    }
    case N_ISNULL: {
        val a = value_of(f, &f->ops[n->a], ft);
        bool isnull = a.k == V_NULL;
        return n->neg ? !isnull : isnull;
    }
    case N_INTERSECTS: {
        const msh_qgeom *a = geom_of(f, &f->ops[n->a], ft), *b = geom_of(f, &f->ops[n->b], ft);
        if (!a || !b)
            return -1;
        return msh_qgeom_intersects(a, b);
    }
    }
    return -1;
}

bool msh_cql2_match(msh_cql2 *f, const msh_feature *feat)
{
    f->feat_of = NULL;
    return eval(f, f->root, feat) == 1;
}
