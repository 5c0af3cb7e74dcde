/* rexpr.c: raster style values and expressions at draw time: colours, conversions, and the
 * evaluation of a compiled expression tree for a feature at a zoom (rexpr_int.h). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rexpr_int.h"

/* ---------------------------------------------------------------------------------------------
 * colours */

static int hexv(int ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

static double hue2rgb(double p, double q, double t)
{
    if (t < 0) t += 1;
    if (t > 1) t -= 1;
    if (t < 1.0 / 6) return p + (q - p) * 6 * t;
    if (t < 0.5) return q;
    if (t < 2.0 / 3) return p + (q - p) * (2.0 / 3 - t) * 6;
    return p;
}

static const struct {
    const char *name;
    unsigned rgb;
} named_colors[] = {
    {"black", 0x000000}, {"white", 0xffffff}, {"red", 0xff0000},     {"green", 0x008000},  {"blue", 0x0000ff},
    {"yellow", 0xffff00}, {"cyan", 0x00ffff}, {"magenta", 0xff00ff}, {"gray", 0x808080},   {"grey", 0x808080},
    {"orange", 0xffa500}, {"purple", 0x800080}, {"lime", 0x00ff00},  {"royalblue", 0x4169e1}, {"navy", 0x000080},
    {"teal", 0x008080},  {"silver", 0xc0c0c0}, {"maroon", 0x800000}, {"olive", 0x808000},  {"brown", 0xa52a2a},
    {"pink", 0xffc0cb},  {"gold", 0xffd700},
};

bool msh_color_parse(const char *s, size_t len, double out[4])
{
    while (len && isspace((unsigned char)*s)) s++, len--;
    while (len && isspace((unsigned char)s[len - 1])) len--;
    char buf[96];
    if (!len || len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = 0;
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)tolower((unsigned char)buf[i]);
    if (buf[0] == '#') {
        int d[8];
        if (len > 9)
            return false; /* found by fuzz_rstyle: "#" and 80 hex digits */
        for (size_t i = 1; i < len; i++)
            if ((d[i - 1] = hexv(buf[i])) < 0)
                return false;
        if (len == 4 || len == 5) {
            for (int i = 0; i < 3; i++) out[i] = d[i] * 17 / 255.0;
            out[3] = len == 5 ? d[3] * 17 / 255.0 : 1;
            return true;
        }
        if (len == 7 || len == 9) {
            for (int i = 0; i < 3; i++) out[i] = (d[2 * i] * 16 + d[2 * i + 1]) / 255.0;
            out[3] = len == 9 ? (d[6] * 16 + d[7]) / 255.0 : 1;
            return true;
        }
        return false;
    }
    if (!strcmp(buf, "transparent")) {
        out[0] = out[1] = out[2] = out[3] = 0;
        return true;
    }
    for (size_t i = 0; i < sizeof named_colors / sizeof named_colors[0]; i++)
        if (!strcmp(buf, named_colors[i].name)) {
            unsigned v = named_colors[i].rgb;
            out[0] = (v >> 16) / 255.0, out[1] = ((v >> 8) & 255) / 255.0, out[2] = (v & 255) / 255.0, out[3] = 1;
            return true;
        }
    bool hsl = !strncmp(buf, "hsl", 3);
    if (strncmp(buf, "rgb", 3) && !hsl)
        return false;
    char *p = strchr(buf, '(');
    if (!p || buf[len - 1] != ')')
        return false;
    double v[4] = {0, 0, 0, 1};
    int n = 0;
    p++;
    while (n < 4) {
        char *e;
        v[n] = strtod(p, &e);
        if (e == p)
            return false;
        if (*e == '%') {
            if (!hsl || n == 3) v[n] = v[n] * (n == 3 ? 0.01 : 2.55);
            e++;
        }
        n++;
        while (*e == ' ') e++;
        if (*e == ')')
            break;
        if (*e != ',')
            return false;
        p = e + 1;
    }
    if (n < 3)
        return false;
    if (hsl) {
        double h = fmod(v[0], 360) / 360, sat = v[1] / 100, l = v[2] / 100;
        if (h < 0) h += 1;
        double q = l < 0.5 ? l * (1 + sat) : l + sat - l * sat, pp = 2 * l - q;
        out[0] = hue2rgb(pp, q, h + 1.0 / 3), out[1] = hue2rgb(pp, q, h), out[2] = hue2rgb(pp, q, h - 1.0 / 3);
    } else {
        for (int i = 0; i < 3; i++) out[i] = fmin(fmax(v[i], 0), 255) / 255.0;
    }
    out[3] = fmin(fmax(v[3], 0), 1);
    return true;
}

/* ---------------------------------------------------------------------------------------------
 * values */

bool msh_val_true(msh_val v)
{
    switch (v.t) {
    case MV_BOOL: return v.b;
    case MV_NUM: return v.n != 0 && !isnan(v.n);
    case MV_STR: return v.len > 0;
    case MV_NULL: return false;
    default: return true;
    }
}

double msh_val_num(msh_val v, double fallback)
{
    if (v.t == MV_NUM && isfinite(v.n))
        return v.n;
    return fallback;
}

bool msh_val_color(msh_val v, double out[4])
{
    if (v.t == MV_COLOR) {
        memcpy(out, v.c, sizeof v.c);
        return true;
    }
    if (v.t == MV_STR)
        return msh_color_parse(v.s, v.len, out);
    return false;
}

int msh_val_items(msh_val v, const msh_val **items)
{
    if (v.t != MV_ARRAY || !v.arr) {
        *items = NULL;
        return 0;
    }
    *items = v.arr->labs;
    return v.arr->nitems;
}


static bool val_eq(msh_val a, msh_val b)
{
    if (a.t != b.t)
        return false;
    switch (a.t) {
    case MV_NULL: return true;
    case MV_BOOL: return a.b == b.b;
    case MV_NUM: return a.n == b.n;
    case MV_STR: return a.len == b.len && !memcmp(a.s, b.s, a.len);
    case MV_COLOR: return !memcmp(a.c, b.c, sizeof a.c);
    default: return false;
    }
}

/* scratch space of the context; NULL when full */
static char *scratch(msh_ectx *c, size_t n)
{
    if (c->used + n > sizeof c->scratch)
        return NULL;
    char *p = c->scratch + c->used;
    c->used += n;
    return p;
}

static msh_val to_string(msh_val v, msh_ectx *c)
{
    char tmp[64];
    int n = 0;
    switch (v.t) {
    case MV_STR: return v;
    case MV_NULL: return vstr("", 0);
    case MV_BOOL: return v.b ? vstr("true", 4) : vstr("false", 5);
    case MV_NUM:
        if (v.n == floor(v.n) && fabs(v.n) < 1e15)
            n = snprintf(tmp, sizeof tmp, "%.0f", v.n);
        else
            n = snprintf(tmp, sizeof tmp, "%.15g", v.n);
        break;
    case MV_COLOR:
        n = snprintf(tmp, sizeof tmp, "rgba(%d,%d,%d,%g)", (int)lround(v.c[0] * 255), (int)lround(v.c[1] * 255),
                     (int)lround(v.c[2] * 255), v.c[3]);
        break;
    case MV_FMT: {
        /* the sections joined */
        size_t total = 0;
        for (int i = 0; i < c->nsec; i++) total += c->sec[i].len;
        char *p = scratch(c, total + 1);
        if (!p) return vstr("", 0);
        size_t o = 0;
        for (int i = 0; i < c->nsec; i++) memcpy(p + o, c->sec[i].s, c->sec[i].len), o += c->sec[i].len;
        return vstr(p, o);
    }
    default: return vstr("", 0);
    }
    char *p = scratch(c, (size_t)n + 1);
    if (!p || n < 0)
        return vstr("", 0);
    memcpy(p, tmp, (size_t)n + 1);
    return vstr(p, (size_t)n);
}

static bool to_number(msh_val v, double *out)
{
    switch (v.t) {
    case MV_NUM: *out = v.n; return true;
    case MV_BOOL: *out = v.b; return true;
    case MV_NULL: *out = 0; return true;
    case MV_STR: {
        char tmp[64];
        if (!v.len || v.len >= sizeof tmp) return false;
        memcpy(tmp, v.s, v.len);
        tmp[v.len] = 0;
        char *e;
        double d = strtod(tmp, &e);
        if (*e) return false;
        *out = d;
        return true;
    }
    default: return false;
    }
}

/* ---------------------------------------------------------------------------------------------
 * evaluation */

static msh_val get_prop(const msh_ex *e, msh_ectx *c)
{
    if (!c->f || !c->info)
        return vnull();
    for (uint32_t i = 0; i < c->info->nfields; i++) {
        const char *fn = c->info->fields[i].name;
        if (strncmp(fn, e->key, e->keylen) || fn[e->keylen])
            continue;
        const msh_value *mv = &c->f->values[i];
        switch (mv->type) {
        case MSH_FT_INT: return vnum((double)mv->u.i);
        case MSH_FT_REAL: return vnum(mv->u.d);
        case MSH_FT_BOOL: return vbool(mv->u.i != 0);
        case MSH_FT_STRING: return vstr(mv->u.s, mv->len);
        default: return vnull();
        }
    }
    return vnull();
}

static msh_val lerp(msh_val a, msh_val b, double t)
{
    double ca[4], cb[4];
    if (a.t == MV_NUM && b.t == MV_NUM)
        return vnum(a.n + (b.n - a.n) * t);
    if (msh_val_color(a, ca) && msh_val_color(b, cb)) {
        msh_val r = {.t = MV_COLOR};
        for (int i = 0; i < 4; i++) r.c[i] = ca[i] + (cb[i] - ca[i]) * t;
        return r;
    }
    return t < 1 ? a : b;
}

static int cmp_vals(msh_val a, msh_val b, bool *ok)
{
    *ok = true;
    if (a.t == MV_NUM && b.t == MV_NUM)
        return a.n < b.n ? -1 : a.n > b.n;
    if (a.t == MV_STR && b.t == MV_STR) {
        size_t m = a.len < b.len ? a.len : b.len;
        int r = memcmp(a.s, b.s, m);
        return r ? r : (a.len > b.len) - (a.len < b.len);
    }
    *ok = false;
    return 0;
}

static msh_val eval_interp(const msh_ex *e, msh_ectx *c)
{
    double x = msh_val_num(msh_ex_eval(e->a[0], c), NAN);
    int n = e->n - 1; /* outputs a[1..n] with stops[0..n-1] */
    if (isnan(x))
        return msh_ex_eval(e->a[1], c);
    if (x <= e->stops[0])
        return msh_ex_eval(e->a[1], c);
    if (x >= e->stops[n - 1])
        return msh_ex_eval(e->a[n], c);
    int i = 0;
    while (i < n - 2 && x >= e->stops[i + 1]) i++;
    double lo = e->stops[i], hi = e->stops[i + 1], t;
    if (e->base == 1)
        t = (x - lo) / (hi - lo);
    else
        t = (pow(e->base, x - lo) - 1) / (pow(e->base, hi - lo) - 1);
    return lerp(msh_ex_eval(e->a[i + 1], c), msh_ex_eval(e->a[i + 2], c), t);
}

static msh_val eval_match(const msh_ex *e, msh_ectx *c)
{
    msh_val in = msh_ex_eval(e->a[0], c);
    int nb = (e->n - 2), k = 0;
    for (int b = 0; b < nb; b++) {
        for (int j = 0; j < e->nlab[b]; j++, k++)
            if (val_eq(in, e->labs[k]))
                return msh_ex_eval(e->a[1 + b], c);
    }
    return msh_ex_eval(e->a[e->n - 1], c);
}

static msh_val eval_format(const msh_ex *e, msh_ectx *c)
{
    c->nsec = 0;
    for (int i = 0; i < e->n && c->nsec < MSH_FMT_MAX; i++) {
        msh_val v = msh_ex_eval(e->a[i], c);
        if (v.t == MV_NULL)
            continue;
        v = to_string(v, c);
        c->sec[c->nsec++] = (msh_fmt_sec){v.s, v.len, e->scales[i]};
    }
    return (msh_val){.t = MV_FMT, .nsec = c->nsec};
}

static msh_val eval_concat(const msh_ex *e, msh_ectx *c)
{
    msh_val parts[16];
    size_t total = 0;
    int n = e->n < 16 ? e->n : 16;
    for (int i = 0; i < n; i++) {
        parts[i] = to_string(msh_ex_eval(e->a[i], c), c);
        total += parts[i].len;
    }
    char *p = scratch(c, total + 1);
    if (!p)
        return vstr("", 0);
    size_t o = 0;
    for (int i = 0; i < n; i++) memcpy(p + o, parts[i].s, parts[i].len), o += parts[i].len;
    return vstr(p, o);
}

static msh_val eval_arith(const msh_ex *e, msh_ectx *c)
{
    double r = msh_val_num(msh_ex_eval(e->a[0], c), NAN);
    if (e->op == OP_SUB && e->n == 1)
        return vnum(-r);
    for (int i = 1; i < e->n; i++) {
        double b = msh_val_num(msh_ex_eval(e->a[i], c), NAN);
        switch (e->op) {
        case OP_ADD: r += b; break;
        case OP_SUB: r -= b; break;
        case OP_MUL: r *= b; break;
        case OP_DIV: r /= b; break;
        case OP_MOD: r = fmod(r, b); break;
        case OP_POW: r = pow(r, b); break;
        case OP_MIN: r = fmin(r, b); break;
        case OP_MAX: r = fmax(r, b); break;
        default: break;
        }
    }
    return isfinite(r) ? vnum(r) : vnull();
}

static msh_val eval_case_conv(const msh_ex *e, msh_ectx *c, msh_vtype want)
{
    /* type assertions and conversions: the first argument of the wanted type (or convertible) */
    for (int i = 0; i < e->n; i++) {
        msh_val v = msh_ex_eval(e->a[i], c);
        double d;
        switch (e->op) {
        case OP_TONUM:
            if (to_number(v, &d)) return vnum(d);
            break;
        case OP_TOCOLOR: {
            msh_val r = {.t = MV_COLOR};
            if (msh_val_color(v, r.c)) return r;
            break;
        }
        default:
            if (v.t == want) return v;
            break;
        }
    }
    return vnull();
}

msh_val msh_ex_eval(const msh_ex *e, msh_ectx *c)
{
    if (!e)
        return vnull();
    switch (e->op) {
    case OP_LIT: return e->v;
    case OP_GET: return get_prop(e, c);
    case OP_HAS: return vbool(get_prop(e, c).t != MV_NULL);
    case OP_ID: return c->f ? vnum((double)c->f->id) : vnull();
    case OP_GTYPE:
        if (!c->f) return vnull();
        switch (c->f->geom.type) {
        case MSH_GT_POINT: return vstr("Point", 5);
        case MSH_GT_LINE: return vstr("LineString", 10);
        case MSH_GT_POLYGON: return vstr("Polygon", 7);
        default: return vnull();
        }
    case OP_ZOOM: return vnum(c->zoom);
    case OP_HDENS: return vnum(c->heatmap_density);
    case OP_INTERP: return eval_interp(e, c);
    case OP_STEP: {
        double x = msh_val_num(msh_ex_eval(e->a[0], c), NAN);
        int k = 0;
        while (k < e->n - 2 && x >= e->stops[k]) k++;
        return msh_ex_eval(e->a[1 + k], c);
    }
    case OP_MATCH: return eval_match(e, c);
    case OP_CASE:
        for (int i = 0; i + 1 < e->n; i += 2)
            if (msh_val_true(msh_ex_eval(e->a[i], c)))
                return msh_ex_eval(e->a[i + 1], c);
        return msh_ex_eval(e->a[e->n - 1], c);
    case OP_COALESCE:
        for (int i = 0; i < e->n; i++) {
            msh_val v = msh_ex_eval(e->a[i], c);
            if (v.t != MV_NULL) return v;
        }
        return vnull();
    case OP_EQ: return vbool(val_eq(msh_ex_eval(e->a[0], c), msh_ex_eval(e->a[1], c)));
    case OP_NE: return vbool(!val_eq(msh_ex_eval(e->a[0], c), msh_ex_eval(e->a[1], c)));
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE: {
        bool ok;
        int r = cmp_vals(msh_ex_eval(e->a[0], c), msh_ex_eval(e->a[1], c), &ok);
        if (!ok) return vbool(false);
        return vbool(e->op == OP_LT ? r < 0 : e->op == OP_LE ? r <= 0 : e->op == OP_GT ? r > 0 : r >= 0);
    }
    case OP_NOT: return vbool(!msh_val_true(msh_ex_eval(e->a[0], c)));
    case OP_ALL:
        for (int i = 0; i < e->n; i++)
            if (!msh_val_true(msh_ex_eval(e->a[i], c))) return vbool(false);
        return vbool(true);
    case OP_ANY:
        for (int i = 0; i < e->n; i++)
            if (msh_val_true(msh_ex_eval(e->a[i], c))) return vbool(true);
        return vbool(false);
    case OP_IN: {
        msh_val needle = msh_ex_eval(e->a[0], c), hay = msh_ex_eval(e->a[1], c);
        if (hay.t == MV_ARRAY) {
            for (int i = 0; i < hay.arr->nitems; i++)
                if (val_eq(needle, hay.arr->labs[i])) return vbool(true);
            return vbool(false);
        }
        if (hay.t == MV_STR && needle.t == MV_STR) {
            if (!needle.len) return vbool(true);
            for (size_t i = 0; i + needle.len <= hay.len; i++)
                if (!memcmp(hay.s + i, needle.s, needle.len)) return vbool(true);
        }
        return vbool(false);
    }
    case OP_LIN: {
        msh_val v = msh_ex_eval(e->a[0], c);
        for (int i = 0; i < e->nitems; i++)
            if (val_eq(v, e->labs[i])) return vbool(true);
        return vbool(false);
    }
    case OP_TONUM:
    case OP_TOCOLOR: return eval_case_conv(e, c, MV_NULL);
    case OP_ANUM: return eval_case_conv(e, c, MV_NUM);
    case OP_ASTR: return eval_case_conv(e, c, MV_STR);
    case OP_ABOOL: return eval_case_conv(e, c, MV_BOOL);
    case OP_TOSTR: return to_string(msh_ex_eval(e->a[0], c), c);
    case OP_TOBOOL: return vbool(msh_val_true(msh_ex_eval(e->a[0], c)));
    case OP_TYPEOF: {
        static const char *names[] = {"null", "boolean", "number", "string", "color", "array", "formatted"};
        const char *s = names[msh_ex_eval(e->a[0], c).t];
        return vstr(s, strlen(s));
    }
    case OP_CONCAT: return eval_concat(e, c);
    case OP_FORMAT: return eval_format(e, c);
    case OP_UPCASE:
    case OP_DOWNCASE: {
        msh_val v = to_string(msh_ex_eval(e->a[0], c), c);
        char *p = scratch(c, v.len + 1);
        if (!p) return v;
        for (size_t i = 0; i < v.len; i++) /* ASCII only: Arabic has no case */
            p[i] = (char)(e->op == OP_UPCASE ? toupper((unsigned char)v.s[i]) : tolower((unsigned char)v.s[i]));
        return vstr(p, v.len);
    }
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
    case OP_DIV:
    case OP_MOD:
    case OP_POW:
    case OP_MIN:
    case OP_MAX: return eval_arith(e, c);
    case OP_LENGTH: {
        msh_val v = msh_ex_eval(e->a[0], c);
        if (v.t == MV_STR) return vnum((double)v.len);
        if (v.t == MV_ARRAY) return vnum(v.arr->nitems);
        return vnull();
    }
    case OP_RGB:
    case OP_RGBA: {
        msh_val r = {.t = MV_COLOR};
        r.c[3] = 1;
        for (int i = 0; i < e->n && i < 4; i++) {
            double d = msh_val_num(msh_ex_eval(e->a[i], c), 0);
            r.c[i] = i < 3 ? fmin(fmax(d, 0), 255) / 255.0 : fmin(fmax(d, 0), 1);
        }
        return r;
    }
    case OP_NULLOP: return vnull();
    }
    return vnull();
}

int msh_ex_deps(const msh_ex *e) { return e ? e->deps : 0; }

