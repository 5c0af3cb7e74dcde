/* access.c: walkways a wheelchair can use; the rules are in access.h. */
#include "route/access.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "route/graph.h"

float msh_access_incline(const char *s, size_t n)
{
    char buf[64];
    if (!s || n == 0 || n >= sizeof buf)
        return NAN;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *end;
    double v = strtod(buf, &end);
    if (end == buf || !isfinite(v))
        return NAN; /* "up", "down", "yes" or nothing readable */
    while (*end == ' ')
        end++;
    if (!strcmp(end, "%") || !*end) {
        /* percent */
    } else if (!strcmp(end, "\xc2\xb0") || !strcasecmp(end, "deg")) {
        if (fabs(v) >= 90)
            return INFINITY;
        v = tan(v * M_PI / 180.0) * 100.0;
    } else {
        return NAN;
    }
    v = fabs(v);
    return v > 1e6 ? INFINITY : (float)v;
}

static int field_of(const msh_layer_info *info, const char *name)
{
    for (uint32_t i = 0; i < info->nfields; i++)
        if (!strcmp(info->fields[i].name, name))
            return (int)i;
    return -1;
}

void msh_access_fields_find(const msh_layer_info *info, msh_access_fields *out)
{
    out->highway = field_of(info, "highway");
    out->steps = field_of(info, "steps");
    out->wheelchair = field_of(info, "wheelchair");
    out->incline = field_of(info, "incline");
    out->ele_start = field_of(info, "ele_start");
    out->ele_end = field_of(info, "ele_end");
}

/* Field i of f as text equal to `want` (case-insensitive), or a true boolean when want is "yes". */
static int is_text(const msh_feature *f, int i, const char *want)
{
    if (i < 0)
        return 0;
    const msh_value *v = &f->values[i];
    if (v->type == MSH_FT_BOOL)
        return !strcmp(want, "yes") && v->u.i;
    return v->type == MSH_FT_STRING && v->len == strlen(want) && !strncasecmp(v->u.s, want, v->len);
}

static int number(const msh_feature *f, int i, double *out)
{
    if (i < 0)
        return 0;
    const msh_value *v = &f->values[i];
    if (v->type == MSH_FT_INT)
        *out = (double)v->u.i;
    else if (v->type == MSH_FT_REAL)
        *out = v->u.d;
    else
        return 0;
    return isfinite(*out);
}

float msh_access_line(const msh_access_fields *af, const msh_feature *f, double length_m)
{
    if (is_text(f, af->highway, "steps") || is_text(f, af->steps, "yes") || is_text(f, af->steps, "true") ||
        is_text(f, af->wheelchair, "no"))
        return INFINITY;
    double v;
    if (af->incline >= 0) {
        const msh_value *iv = &f->values[af->incline];
        if (iv->type == MSH_FT_STRING) {
            float p = msh_access_incline(iv->u.s, iv->len);
            if (!isnan(p))
                return p;
        } else if (number(f, af->incline, &v)) {
            return (float)fabs(v);
        }
    }
    double e0, e1;
    if (length_m > 0 && number(f, af->ele_start, &e0) && number(f, af->ele_end, &e1))
        return (float)(fabs(e1 - e0) / length_m * 100.0);
    return NAN;
}

int msh_access_edge_ok(const struct msh_graph *g, uint32_t e, double max_incline)
{
    float a = msh_graph_edge_access(g, e);
    return isnan(a) || a <= max_incline;
}

float *msh_access_weights(const struct msh_graph *g, const float *w, double max_incline, uint32_t *closed)
{
    uint32_t ne = msh_graph_edge_count(g);
    float *out = malloc((ne ? ne : 1) * sizeof *out);
    *closed = 0;
    if (!out)
        return NULL;
    for (uint32_t e = 0; e < ne; e++) {
        out[e] = w ? w[e] : (float)msh_graph_edge_length(g, e);
        if (!msh_access_edge_ok(g, e, max_incline)) {
            out[e] = INFINITY;
            (*closed)++;
        }
    }
    return out;
}
