/* layer_names.c: source layer names (any script) into distinct store layer names.
 *
 * Design: decode UTF-8 one code point at a time; ASCII letters and digits pass (lowercased),
 * code points in the table below become their Latin spelling, everything else one '_'
 * (runs of '_' collapse, none at the ends). The table is the whole scheme, kept small and
 * readable on purpose: one Latin spelling per Arabic letter, short vowels and tatweel
 * dropped, no attempt at pronunciation. The result is then made a valid, unreserved name
 * (a leading digit or a reserved prefix gets "l_"). msh_names makes them distinct.
 */
#include "layer_names.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer.h"

typedef struct {
    uint32_t cp;
    const char *latin; /* "" drops the character */
} translit;

/* Sorted by code point (binary search). */
static const translit TABLE[] = {
    {0x00e0, "a"}, {0x00e1, "a"}, {0x00e2, "a"}, {0x00e3, "a"}, {0x00e4, "a"}, {0x00e5, "a"}, {0x00e6, "ae"},
    {0x00e7, "c"}, {0x00e8, "e"}, {0x00e9, "e"}, {0x00ea, "e"}, {0x00eb, "e"}, {0x00ec, "i"}, {0x00ed, "i"},
    {0x00ee, "i"}, {0x00ef, "i"}, {0x00f1, "n"}, {0x00f2, "o"}, {0x00f3, "o"}, {0x00f4, "o"}, {0x00f5, "o"},
    {0x00f6, "o"}, {0x00f8, "o"}, {0x00f9, "u"}, {0x00fa, "u"}, {0x00fb, "u"}, {0x00fc, "u"}, {0x00fd, "y"},
    {0x00ff, "y"},
    {0x0621, ""},   /* hamza */
    {0x0622, "a"},  /* alef madda */
    {0x0623, "a"},  /* alef hamza above */
    {0x0624, "w"},  /* waw hamza */
    {0x0625, "i"},  /* alef hamza below */
    {0x0626, "y"},  /* yeh hamza */
    {0x0627, "a"},  /* alef */
    {0x0628, "b"},  {0x0629, "a"} /* teh marbuta */, {0x062a, "t"}, {0x062b, "th"}, {0x062c, "j"},
    {0x062d, "h"},  {0x062e, "kh"}, {0x062f, "d"}, {0x0630, "dh"}, {0x0631, "r"}, {0x0632, "z"},
    {0x0633, "s"},  {0x0634, "sh"}, {0x0635, "s"}, {0x0636, "d"}, {0x0637, "t"}, {0x0638, "z"},
    {0x0639, ""}    /* ain: dropped in this simple scheme */, {0x063a, "gh"},
    {0x0640, ""},   /* tatweel */
    {0x0641, "f"},  {0x0642, "q"}, {0x0643, "k"}, {0x0644, "l"}, {0x0645, "m"}, {0x0646, "n"},
    {0x0647, "h"},  {0x0648, "w"}, {0x0649, "a"} /* alef maksura */, {0x064a, "y"},
    {0x064b, ""}, {0x064c, ""}, {0x064d, ""}, {0x064e, ""}, {0x064f, ""}, {0x0650, ""}, {0x0651, ""},
    {0x0652, ""}, /* tanwin, harakat, shadda, sukun */
    {0x0660, "0"}, {0x0661, "1"}, {0x0662, "2"}, {0x0663, "3"}, {0x0664, "4"}, {0x0665, "5"}, {0x0666, "6"},
    {0x0667, "7"}, {0x0668, "8"}, {0x0669, "9"},
    {0x0670, ""},   /* superscript alef */
    {0x0671, "a"},  /* alef wasla */
    {0x067e, "p"},  {0x0686, "ch"}, {0x0698, "zh"}, {0x06a9, "k"}, {0x06af, "g"}, {0x06cc, "y"},
    {0x06f0, "0"}, {0x06f1, "1"}, {0x06f2, "2"}, {0x06f3, "3"}, {0x06f4, "4"}, {0x06f5, "5"}, {0x06f6, "6"},
    {0x06f7, "7"}, {0x06f8, "8"}, {0x06f9, "9"},
};

static const char *lookup(uint32_t cp)
{
    size_t lo = 0, hi = sizeof TABLE / sizeof TABLE[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (TABLE[mid].cp == cp)
            return TABLE[mid].latin;
        if (TABLE[mid].cp < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Decode one UTF-8 code point at *p; an invalid byte is consumed alone and gives 0xfffd. */
static uint32_t next_cp(const unsigned char **p)
{
    const unsigned char *s = *p;
    uint32_t c = s[0];
    int n = 0;
    if (c < 0x80) {
        *p = s + 1;
        return c;
    }
    if ((c & 0xe0) == 0xc0 && c >= 0xc2) { n = 1; c &= 0x1f; }
    else if ((c & 0xf0) == 0xe0) { n = 2; c &= 0x0f; }
    else if ((c & 0xf8) == 0xf0 && c <= 0xf4) { n = 3; c &= 0x07; }
    else { *p = s + 1; return 0xfffd; }
    for (int i = 1; i <= n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *p = s + 1;
            return 0xfffd;
        }
        c = (c << 6) | (s[i] & 0x3f);
    }
    *p = s + n + 1;
    return c;
}

static void put(char *out, size_t *n, const char *s)
{
    for (; *s && *n < MSH_LAYER_NAME_CAP - 1; s++) {
        if (*s == '_' && (*n == 0 || out[*n - 1] == '_'))
            continue;
        out[(*n)++] = *s;
    }
}

void msh_layer_name_from(const char *src, int index, char out[MSH_LAYER_NAME_CAP])
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)(src ? src : "");
    while (*p && n < MSH_LAYER_NAME_CAP - 1) {
        uint32_t cp = next_cp(&p);
        char one[2] = {0, 0};
        const char *latin;
        if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9'))
            one[0] = (char)cp, latin = one;
        else if (cp >= 'A' && cp <= 'Z')
            one[0] = (char)(cp - 'A' + 'a'), latin = one;
        else if (cp >= 0xc0 && cp <= 0xde && cp != 0xd7)
            latin = lookup(cp + 0x20); /* Latin-1 capitals: as their small letters */
        else
            latin = lookup(cp);
        put(out, &n, latin ? latin : "_");
    }
    while (n > 0 && out[n - 1] == '_')
        n--;
    out[n] = 0;
    if (n == 0) {
        snprintf(out, MSH_LAYER_NAME_CAP, "layer_%d", index > 0 ? index : 1);
        return;
    }
    if (!msh_layer_name_valid(out)) { /* leading digit, a reserved prefix or a live layer's name */
        char tmp[MSH_LAYER_NAME_CAP];
        snprintf(tmp, sizeof tmp, "l_%.*s", MSH_LAYER_NAME_CAP - 3, out);
        size_t k = strlen(tmp);
        while (k > 0 && tmp[k - 1] == '_')
            tmp[--k] = 0;
        memcpy(out, tmp, sizeof tmp);
    }
}

void msh_names_init(msh_names *ns)
{
    memset(ns, 0, sizeof *ns);
}

void msh_names_free(msh_names *ns)
{
    free(ns->v);
    memset(ns, 0, sizeof *ns);
}

bool msh_names_has(const msh_names *ns, const char *name)
{
    for (size_t i = 0; i < ns->n; i++)
        if (!strcmp(ns->v[i], name))
            return true;
    return false;
}

bool msh_names_claim(msh_names *ns, char name[MSH_LAYER_NAME_CAP])
{
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 8;
        void *nv = realloc(ns->v, cap * sizeof *ns->v);
        if (!nv)
            return false;
        ns->v = nv;
        ns->cap = cap;
    }
    if (msh_names_has(ns, name)) {
        char base[MSH_LAYER_NAME_CAP];
        memcpy(base, name, MSH_LAYER_NAME_CAP);
        for (unsigned k = 2;; k++) {
            char suf[16];
            int sl = snprintf(suf, sizeof suf, "_%u", k);
            int keep = (int)strlen(base);
            if (keep > MSH_LAYER_NAME_CAP - 1 - sl)
                keep = MSH_LAYER_NAME_CAP - 1 - sl;
            while (keep > 1 && base[keep - 1] == '_')
                keep--;
            snprintf(name, MSH_LAYER_NAME_CAP, "%.*s%s", keep, base, suf);
            if (!msh_names_has(ns, name))
                break;
        }
    }
    memcpy(ns->v[ns->n++], name, MSH_LAYER_NAME_CAP);
    return true;
}
