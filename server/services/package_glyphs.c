/* package_glyphs.c: the glyph ranges a package's labels need (see package_glyphs.h). */
#include "services/package_glyphs.h"

#include <stdio.h>
#include <string.h>

static bool is_arabic(uint32_t cp)
{
    return (cp >= 0x0600 && cp <= 0x06FF) || (cp >= 0x0750 && cp <= 0x077F) || (cp >= 0x08A0 && cp <= 0x08FF);
}

static void use_cp(msh_glyph_use *u, uint32_t cp)
{
    if (cp > 0xFFFF)
        return; /* MapLibre draws glyphs of the basic plane only */
    u->ranges[cp >> 8] = 1;
    if (is_arabic(cp) || (cp >= 0x0590 && cp <= 0x05FF) || (cp >= 0xFB1D && cp <= 0xFDFF) || (cp >= 0xFE70 && cp <= 0xFEFF))
        u->rtl = true;
    if (is_arabic(cp)) {
        u->ranges[0xFE] = 1;
        if (cp >= 0x0671 && cp <= 0x06D3)
            u->ranges[0xFB] = 1;
    }
}

void msh_glyph_use_text(msh_glyph_use *u, const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + n;
    while (p < end) {
        uint32_t cp = *p;
        int more = cp < 0x80 ? 0 : cp >= 0xF8 ? -1 : cp >= 0xF0 ? 3 : cp >= 0xE0 ? 2 : cp >= 0xC0 ? 1 : -1;
        if (more < 0 || end - p <= more) {
            p++;
            continue;
        }
        bool ok = true;
        for (int k = 1; k <= more; k++)
            ok &= (p[k] & 0xC0) == 0x80;
        if (!ok) {
            p++;
            continue;
        }
        cp &= more ? 0x3Fu >> more : 0x7Fu;
        for (int k = 1; k <= more; k++)
            cp = (cp << 6) | (p[k] & 0x3Fu);
        p += more + 1;
        use_cp(u, cp);
    }
}

static void add_field(char (*fields)[MSH_GLYPH_FIELD_MAX], size_t *nf, size_t cap, const char *name, size_t len)
{
    if (*nf < cap) {
        snprintf(fields[*nf], MSH_GLYPH_FIELD_MAX, "%.*s", (int)(len < MSH_GLYPH_FIELD_MAX ? len : MSH_GLYPH_FIELD_MAX - 1),
                 name);
        (*nf)++;
    }
}

static void walk(msh_glyph_use *u, const json_t *v, char (*fields)[MSH_GLYPH_FIELD_MAX], size_t *nf, size_t cap,
                 bool op)
{
    if (json_is_string(v)) {
        if (op)
            return; /* an expression's operator */
        const char *s = json_string_value(v), *end = s + json_string_length(v);
        while (s < end) { /* "{name} text": tokens are fields, the rest literal */
            const char *o = memchr(s, '{', (size_t)(end - s)), *c = o ? memchr(o, '}', (size_t)(end - o)) : NULL;
            if (!c) {
                msh_glyph_use_text(u, s, (size_t)(end - s));
                break;
            }
            msh_glyph_use_text(u, s, (size_t)(o - s));
            add_field(fields, nf, cap, o + 1, (size_t)(c - o - 1));
            s = c + 1;
        }
    } else if (json_is_array(v)) {
        const char *head = json_string_value(json_array_get(v, 0));
        const json_t *arg = json_array_get(v, 1);
        if (head && !strcmp(head, "get") && json_is_string(arg)) {
            add_field(fields, nf, cap, json_string_value(arg), json_string_length(arg));
            return;
        }
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e) walk(u, e, fields, nf, cap, i == 0 && head);
    }
}

size_t msh_glyph_use_expr(msh_glyph_use *u, const json_t *text_field, char (*fields)[MSH_GLYPH_FIELD_MAX], size_t cap)
{
    size_t nf = 0;
    walk(u, text_field, fields, &nf, cap, false);
    return nf;
}
