/* stamp.c: dot pictures made once per paint and blended per dot (see stamp.h). */
#include "stamp.h"

#include "blend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PHASES 4      /* quarter-pixel positions of the centre, per axis */
#define CACHE 64      /* paints kept per renderer */

struct msh_stamp {
    msh_dot_paint paint;
    int half;          /* the centre of phase (0, 0) is at (half, half) in the picture */
    int side;          /* pictures are side x side pixels */
    int x0[PHASES * PHASES], y0[PHASES * PHASES], x1[PHASES * PHASES], y1[PHASES * PHASES]; /* non-empty box */
    uint32_t *px;      /* PHASES^2 pictures, premultiplied ARGB32 */
    uint32_t done;     /* the phases drawn so far (bit ph) */
    bool empty;
};

struct msh_stamps {
    msh_stamp slot[CACHE];
    int n;
    int next_evict;
    int last; /* the slot the previous lookup found */
};

msh_stamps *msh_stamps_new(void)
{
    msh_stamps *s = calloc(1, sizeof *s);
    if (s) s->last = -1;
    return s;
}

void msh_stamps_free(msh_stamps *s)
{
    if (!s) return;
    for (int i = 0; i < s->n; i++) free(s->slot[i].px);
    free(s);
}

static double smoothstep(double e0, double e1, double x)
{
    double t = (x - e0) / (e1 - e0);
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return t * t * (3 - 2 * t);
}

static uint8_t to8(double v)
{
    v = v * 255 + 0.5;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* Compute phase ph's picture of st->paint: each pixel as MapLibre's circle shader colours the
 * fragment at its centre (circle.fragment.glsl): with R = radius + ring width, e = distance / R and
 * b = 1 px / R, opacity smoothstep(0, -b, e - 1) (fading over the outermost pixel), ring colour
 * smoothstep(-b, 0, e - radius / R) (blending over the pixel inside the radius), premultiplied;
 * circle-blur widens b to that share of R. A phase is computed when a dot first needs it, so a
 * paint used by a single dot costs one picture, not sixteen. */
static void draw_phase(msh_stamp *st, int ph)
{
    const msh_dot_paint *p = &st->paint;
    double rad = p->radius > 0 ? p->radius : 0, sw = p->ring_width > 0 ? p->ring_width : 0, R = rad + sw;
    double b = -fmax(1.0 / R, p->blur), inner = rad / R; /* MapLibre's antialiasblur */
    double fa = p->fill[3] > 0 && rad > 0 ? fmin(p->fill[3], 1) : 0;
    double ra = sw >= 0.01 && p->ring[3] > 0 ? fmin(p->ring[3], 1) : 0;
    uint32_t *pix = st->px + (size_t)st->side * (size_t)st->side * (size_t)ph;
    double cx = st->half + (double)(ph % PHASES) / PHASES, cy = st->half + (double)(ph / PHASES) / PHASES;
    int x0 = st->side, y0 = st->side, x1 = -1, y1 = -1;
    for (int y = 0; y < st->side; y++)
        for (int x = 0; x < st->side; x++) {
            double e = hypot(x + 0.5 - cx, y + 0.5 - cy) / R;
            double op = smoothstep(0, b, e - 1);
            if (op <= 0) continue;
            double ct = sw >= 0.01 ? smoothstep(b, 0, e - inner) : 0;
            double a = op * (fa + (ra - fa) * ct);
            double c[3];
            for (int i = 0; i < 3; i++) c[i] = op * (p->fill[i] * fa + (p->ring[i] * ra - p->fill[i] * fa) * ct);
            uint32_t v = (uint32_t)to8(a) << 24 | (uint32_t)to8(c[0]) << 16 | (uint32_t)to8(c[1]) << 8 | to8(c[2]);
            if (!(v >> 24)) continue;
            pix[y * st->side + x] = v;
            if (x < x0) x0 = x;
            if (x > x1) x1 = x;
            if (y < y0) y0 = y;
            if (y > y1) y1 = y;
        }
    st->x0[ph] = x0, st->y0[ph] = y0, st->x1[ph] = x1, st->y1[ph] = y1;
    st->done |= 1u << ph;
}

/* Size st's pictures for st->paint (phases are drawn later, on first use). */
static bool make(msh_stamp *st)
{
    const msh_dot_paint *p = &st->paint;
    double rad = p->radius > 0 ? p->radius : 0, sw = p->ring_width > 0 ? p->ring_width : 0, R = rad + sw;
    st->half = (int)ceil(R) + 1;
    st->side = 2 * st->half + 1;
    st->px = calloc((size_t)st->side * (size_t)st->side * PHASES * PHASES, sizeof *st->px);
    st->done = 0;
    /* nothing to draw: no size, or neither a fill nor a ring that shows */
    st->empty = !(R > 0) || !((p->fill[3] > 0 && rad > 0) || (sw >= 0.01 && p->ring[3] > 0));
    return st->px != NULL;
}

msh_stamp *msh_stamps_get(msh_stamps *s, const msh_dot_paint *p)
{
    /* what a style's expressions give may be anything: NaN, infinite or huge goes to Cairo's
     * checks, negative sizes count as none */
    if (!isfinite(p->radius) || !isfinite(p->ring_width) || !isfinite(p->blur)) return NULL;
    for (int i = 0; i < 4; i++)
        if (!isfinite(p->fill[i]) || !isfinite(p->ring[i])) return NULL;
    if (!(fmax(p->radius, 0) + fmax(p->ring_width, 0) <= MSH_STAMP_MAX_R)) return NULL;
    if (s->last >= 0 && !memcmp(&s->slot[s->last].paint, p, sizeof *p)) return &s->slot[s->last];
    for (int i = 0; i < s->n; i++)
        if (!memcmp(&s->slot[i].paint, p, sizeof *p)) {
            s->last = i;
            return &s->slot[i];
        }
    int i;
    if (s->n < CACHE) {
        i = s->n++;
    } else { /* full: replace in turn (a style has far fewer dot paints than this) */
        i = s->next_evict;
        s->next_evict = (s->next_evict + 1) % CACHE;
        free(s->slot[i].px);
    }
    msh_stamp *st = &s->slot[i];
    memset(st, 0, sizeof *st);
    st->paint = *p;
    if (!make(st)) {
        free(st->px);
        st->px = NULL;
        memset(&st->paint, 0xff, sizeof st->paint); /* matches no paint (NaN bytes) */
        s->last = -1;
        return NULL;
    }
    s->last = i;
    return st;
}

void msh_stamp_blit(msh_stamp *st, uint8_t *data, int w, int h, int stride, double cx, double cy)
{
    if (st->empty || !(fabs(cx) < 1e6 && fabs(cy) < 1e6)) return;
    long qx = lround(cx * PHASES), qy = lround(cy * PHASES);
    long bx = qx >= 0 ? qx / PHASES : -((-qx + PHASES - 1) / PHASES); /* floor */
    long by = qy >= 0 ? qy / PHASES : -((-qy + PHASES - 1) / PHASES);
    int ph = (int)(qy - by * PHASES) * PHASES + (int)(qx - bx * PHASES);
    if (!(st->done & (1u << ph)))
        draw_phase(st, ph);
    if (st->x1[ph] < 0)
        return;
    long ox = bx - st->half, oy = by - st->half; /* where the picture's (0, 0) lands */
    long xa = ox + st->x0[ph], xb = ox + st->x1[ph], ya = oy + st->y0[ph], yb = oy + st->y1[ph];
    if (xa < 0) xa = 0;
    if (ya < 0) ya = 0;
    if (xb > w - 1) xb = w - 1;
    if (yb > h - 1) yb = h - 1;
    const uint32_t *pic = st->px + (size_t)st->side * (size_t)st->side * (size_t)ph;
    for (long y = ya; y <= yb; y++) {
        uint32_t *d = (uint32_t *)(data + (size_t)y * (size_t)stride);
        const uint32_t *s = pic + (size_t)(y - oy) * (size_t)st->side;
        for (long x = xa; x <= xb; x++) {
            uint32_t v = s[x - ox];
            if (!v) continue;
            d[x] = (v >> 24) == 255 ? v : msh_px_over(v, d[x]);
        }
    }
}
