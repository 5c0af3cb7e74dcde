/* jsonrec.c: flat JSON object scanner for feed records. */
#include "jsonrec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *p, *end;
    const char *why;
} scan;

static void ws(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n'))
        s->p++;
}

static int fail(scan *s, const char *why)
{
    s->why = why;
    return -1;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Validate UTF-8 at p (n bytes available); returns the sequence length or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    if (p[0] < 0x80) return 1;
    size_t k;
    unsigned min;
    if ((p[0] & 0xe0) == 0xc0) { k = 2; min = 0x80; }
    else if ((p[0] & 0xf0) == 0xe0) { k = 3; min = 0x800; }
    else if ((p[0] & 0xf8) == 0xf0) { k = 4; min = 0x10000; }
    else return 0;
    if (n < k) return 0;
    unsigned cp = p[0] & (0x7f >> k);
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return k;
}

/* A string starting at the opening quote; on return p is past the closing quote. */
static int scan_string(scan *s, const char **start, size_t *len, int *has_escape)
{
    s->p++; /* opening quote */
    *start = s->p;
    *has_escape = 0;
    while (s->p < s->end) {
        unsigned char c = (unsigned char)*s->p;
        if (c == '"') {
            *len = (size_t)(s->p - *start);
            s->p++;
            return 0;
        }
        if (c < 0x20)
            return fail(s, "control character in a string");
        if (c == '\\') {
            *has_escape = 1;
            if (s->end - s->p < 2)
                return fail(s, "truncated escape");
            char e = s->p[1];
            if (e == 'u') {
                if (s->end - s->p < 6)
                    return fail(s, "truncated \\u escape");
                for (int i = 2; i < 6; i++)
                    if (hexval(s->p[i]) < 0)
                        return fail(s, "bad \\u escape");
                s->p += 6;
            } else if (strchr("\"\\/bfnrt", e) && e) {
                s->p += 2;
            } else {
                return fail(s, "bad escape in a string");
            }
            continue;
        }
        size_t k = utf8_len((const unsigned char *)s->p, (size_t)(s->end - s->p));
        if (!k)
            return fail(s, "invalid UTF-8 in a string");
        s->p += k;
    }
    return fail(s, "unterminated string");
}

static int scan_number(scan *s)
{
    const char *p = s->p;
    if (p < s->end && *p == '-') p++;
    if (p >= s->end) return fail(s, "bad number");
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9') { while (p < s->end && *p >= '0' && *p <= '9') p++; }
    else return fail(s, "bad number");
    if (p < s->end && *p == '.') {
        p++;
        if (p >= s->end || !(*p >= '0' && *p <= '9')) return fail(s, "bad number");
        while (p < s->end && *p >= '0' && *p <= '9') p++;
    }
    if (p < s->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < s->end && (*p == '+' || *p == '-')) p++;
        if (p >= s->end || !(*p >= '0' && *p <= '9')) return fail(s, "bad number");
        while (p < s->end && *p >= '0' && *p <= '9') p++;
    }
    if (p - s->p > 40) return fail(s, "number too long");
    s->p = p;
    return 0;
}

static int scan_value(scan *s, int depth, msh_jv_type *type);

static int scan_container(scan *s, int depth, char close)
{
    if (depth > MSH_JREC_MAX_DEPTH)
        return fail(s, "nested too deep");
    s->p++;
    ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return 0;
    }
    for (;;) {
        ws(s);
        if (close == '}') {
            if (s->p >= s->end || *s->p != '"')
                return fail(s, "expected a key");
            const char *k;
            size_t kl;
            int esc;
            if (scan_string(s, &k, &kl, &esc))
                return -1;
            ws(s);
            if (s->p >= s->end || *s->p != ':')
                return fail(s, "expected ':'");
            s->p++;
            ws(s);
        }
        msh_jv_type t;
        if (scan_value(s, depth + 1, &t))
            return -1;
        ws(s);
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            continue;
        }
        if (s->p < s->end && *s->p == close) {
            s->p++;
            return 0;
        }
        return fail(s, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int lit(scan *s, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n))
        return fail(s, "unexpected value");
    s->p += n;
    return 0;
}

static int scan_value(scan *s, int depth, msh_jv_type *type)
{
    if (s->p >= s->end)
        return fail(s, "missing value");
    const char *k;
    size_t kl;
    int esc;
    switch (*s->p) {
    case '"': *type = MSH_JV_STRING; return scan_string(s, &k, &kl, &esc);
    case '{': *type = MSH_JV_OBJECT; return scan_container(s, depth, '}');
    case '[': *type = MSH_JV_ARRAY; return scan_container(s, depth, ']');
    case 't': *type = MSH_JV_BOOL; return lit(s, "true");
    case 'f': *type = MSH_JV_BOOL; return lit(s, "false");
    case 'n': *type = MSH_JV_NULL; return lit(s, "null");
    default: *type = MSH_JV_NUMBER; return scan_number(s);
    }
}

int msh_jrec_parse(const char *str, size_t len, msh_jrec *rec, const char **why)
{
    scan s = {str, str + len, NULL};
    rec->n = 0;
    ws(&s);
    if (s.p >= s.end || *s.p != '{') {
        *why = "a record must be a JSON object";
        return -1;
    }
    s.p++;
    ws(&s);
    if (s.p < s.end && *s.p == '}') {
        s.p++;
    } else {
        for (;;) {
            ws(&s);
            if (s.p >= s.end || *s.p != '"') {
                *why = "expected a key";
                return -1;
            }
            msh_jfield *f = &rec->f[rec->n];
            int esc;
            if (scan_string(&s, &f->key, &f->key_len, &esc)) {
                *why = s.why;
                return -1;
            }
            if (esc) {
                *why = "escaped characters in a key";
                return -1;
            }
            ws(&s);
            if (s.p >= s.end || *s.p != ':') {
                *why = "expected ':' after a key";
                return -1;
            }
            s.p++;
            ws(&s);
            const char *vstart = s.p;
            if (scan_value(&s, 1, &f->type)) {
                *why = s.why;
                return -1;
            }
            if (f->type == MSH_JV_STRING) {
                f->val = vstart + 1;
                f->val_len = (size_t)(s.p - vstart) - 2;
            } else {
                f->val = vstart;
                f->val_len = (size_t)(s.p - vstart);
            }
            for (int i = 0; i < rec->n; i++)
                if (rec->f[i].key_len == f->key_len && !memcmp(rec->f[i].key, f->key, f->key_len)) {
                    *why = "a key appears twice";
                    return -1;
                }
            if (++rec->n == MSH_JREC_MAX_FIELDS) {
                ws(&s);
                if (s.p < s.end && *s.p == ',') {
                    *why = "too many fields in a record";
                    return -1;
                }
            }
            ws(&s);
            if (s.p < s.end && *s.p == ',') {
                s.p++;
                continue;
            }
            if (s.p < s.end && *s.p == '}') {
                s.p++;
                break;
            }
            *why = "expected ',' or '}'";
            return -1;
        }
    }
    ws(&s);
    if (s.p != s.end) {
        *why = "text after the record";
        return -1;
    }
    return 0;
}

const msh_jfield *msh_jrec_get(const msh_jrec *rec, const char *key)
{
    size_t n = strlen(key);
    for (int i = 0; i < rec->n; i++)
        if (rec->f[i].key_len == n && !memcmp(rec->f[i].key, key, n))
            return &rec->f[i];
    return NULL;
}

bool msh_jrec_num(const msh_jfield *f, double *out)
{
    if (!f || f->type != MSH_JV_NUMBER || f->val_len >= 48)
        return false;
    char tmp[48];
    memcpy(tmp, f->val, f->val_len);
    tmp[f->val_len] = 0;
    char *end;
    double v = strtod(tmp, &end);
    if (*end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xc0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3f)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3f)); o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

bool msh_jrec_str(const msh_jfield *f, char *out, size_t cap, size_t *len)
{
    if (!f || f->type != MSH_JV_STRING || cap == 0)
        return false;
    size_t o = 0;
    const char *p = f->val, *end = f->val + f->val_len;
    while (p < end) {
        if (o + 1 >= cap) /* room for this byte and the NUL */
            return false;
        if (*p != '\\') {
            out[o++] = *p++;
            continue;
        }

        char e = p[1];
        p += 2;
        switch (e) {
        case 'n': out[o++] = '\n'; break;
        case 't': out[o++] = '\t'; break;
        case 'r': out[o++] = '\r'; break;
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'u': {
            unsigned cp = (unsigned)(hexval(p[0]) << 12 | hexval(p[1]) << 8 | hexval(p[2]) << 4 | hexval(p[3]));
            p += 4;
            if (cp >= 0xd800 && cp <= 0xdbff && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                unsigned lo = (unsigned)(hexval(p[2]) << 12 | hexval(p[3]) << 8 | hexval(p[4]) << 4 | hexval(p[5]));
                if (lo >= 0xdc00 && lo <= 0xdfff) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    p += 6;
                }
            }
            if ((cp >= 0xd800 && cp <= 0xdfff) || cp == 0)
                return false; /* lone surrogate or NUL: not text we keep */
            size_t need = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            if (o + need >= cap)
                return false;
            o += put_utf8(out + o, cp);
            break;
        }
        default: out[o++] = e; break; /* \" \\ \/ */
        }
    }
    out[o] = 0;
    if (len)
        *len = o;
    return true;
}

bool msh_jrec_point(const msh_jfield *f, double *lon, double *lat)
{
    if (!f || f->type != MSH_JV_OBJECT)
        return false;
    msh_jrec r;
    const char *why;
    if (msh_jrec_parse(f->val, f->val_len, &r, &why))
        return false;
    const msh_jfield *t = msh_jrec_get(&r, "type"), *c = msh_jrec_get(&r, "coordinates");
    if (!t || t->type != MSH_JV_STRING || t->val_len != 5 || memcmp(t->val, "Point", 5) || !c ||
        c->type != MSH_JV_ARRAY)
        return false;
    /* "[lon, lat]" or "[lon, lat, z]" */
    char tmp[128];
    if (c->val_len >= sizeof tmp)
        return false;
    memcpy(tmp, c->val + 1, c->val_len - 2);
    tmp[c->val_len - 2] = 0;
    char *end;
    double x = strtod(tmp, &end);
    if (end == tmp || (*end != ',' && *end != ' '))
        return false;
    while (*end == ' ' || *end == ',')
        end++;
    char *e2;
    double y = strtod(end, &e2);
    if (e2 == end || !isfinite(x) || !isfinite(y))
        return false;
    *lon = x;
    *lat = y;
    return true;
}
