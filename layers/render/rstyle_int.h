/* rstyle_int.h: the compiled style's insides, shared by rstyle.c (compiler, evaluator),
 * raster.c (drawing) and labels.c (text placement). Not for other rooms.
 *
 * An expression is a tree of msh_ex nodes. Values (msh_val) are null, boolean, number, string
 * (pointer + length, not NUL-terminated: strings come straight from layer memory), colour
 * (RGBA 0..1, not premultiplied), a literal array, or formatted text (for text-field).
 * Evaluation never allocates: `concat`, `to-string` and `format` write into the context's
 * scratch area, which is reset for every property evaluation.
 *
 * Operators: literal, get, has, id, geometry-type, zoom, heatmap-density, interpolate (linear,
 * exponential; cubic-bezier is treated as linear), step, match, case, coalesce, == != < <= > >=,
 * !, all, any, in, to-number, to-string, to-boolean, to-color, number, string, boolean (type
 * assertions), typeof, concat, format, upcase, downcase, + - * / % ^, min, max, length, rgb,
 * rgba, feature-state (always null).
 */
#ifndef MSH_RSTYLE_INT_H
#define MSH_RSTYLE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layer.h"
#include "rstyle.h"

typedef enum { MV_NULL = 0, MV_BOOL, MV_NUM, MV_STR, MV_COLOR, MV_ARRAY, MV_FMT } msh_vtype;

typedef struct msh_ex msh_ex;

#define MSH_FMT_MAX 8 /* sections of a formatted text */

typedef struct msh_fmt_sec {
    const char *s;
    size_t len;
    double scale; /* font-scale, 1 when not given */
} msh_fmt_sec;

typedef struct msh_val {
    msh_vtype t;
    bool b;
    double n;
    const char *s; /* MV_STR */
    size_t len;
    double c[4];         /* MV_COLOR: r, g, b, a */
    const msh_ex *arr;   /* MV_ARRAY: the literal node holding the items */
    int nsec;            /* MV_FMT: sections live in the context */
} msh_val;

/** Per-evaluation context: zoom, the feature (NULL for zoom-only properties) and scratch. */
typedef struct msh_ectx {
    double zoom;
    const msh_layer_info *info;
    const msh_feature *f;
    double heatmap_density;
    char scratch[2048];
    size_t used;
    msh_fmt_sec sec[MSH_FMT_MAX];
    int nsec;
} msh_ectx;

/** Evaluate `e` (NULL gives null). */
msh_val msh_ex_eval(const msh_ex *e, msh_ectx *c);
/** Flags of a compiled expression: bit 1 reads the feature, bit 2 reads the zoom. */
#define MSH_EX_FEATURE 1
#define MSH_EX_ZOOM 2
int msh_ex_deps(const msh_ex *e);

/** Value helpers: truthiness as MapLibre's filters use it, a number (fallback when not one),
 * a colour (strings are parsed; fallback when not a colour). */
bool msh_val_true(msh_val v);
double msh_val_num(msh_val v, double fallback);
bool msh_val_color(msh_val v, double out[4]);
/** The items of an MV_ARRAY value (0 and NULL for anything else). */
int msh_val_items(msh_val v, const msh_val **items);
/** Parse a CSS colour (#rgb, #rgba, #rrggbb, #rrggbbaa, rgb(), rgba(), hsl(), hsla(), a few names). */
bool msh_color_parse(const char *s, size_t len, double out[4]);

typedef enum { RL_BACKGROUND = 1, RL_FILL, RL_LINE, RL_CIRCLE, RL_SYMBOL, RL_HEATMAP } msh_rltype;

/* The supported properties. Each has a slot in every layer (NULL: the default). */
typedef enum {
    P_BACKGROUND_COLOR,
    P_BACKGROUND_OPACITY,
    P_FILL_COLOR,
    P_FILL_OPACITY,
    P_FILL_OUTLINE_COLOR,
    P_FILL_ANTIALIAS,
    P_LINE_COLOR,
    P_LINE_WIDTH,
    P_LINE_OPACITY,
    P_LINE_GAP_WIDTH,
    P_LINE_OFFSET,
    P_LINE_DASHARRAY,
    P_LINE_CAP,
    P_LINE_JOIN,
    P_LINE_MITER_LIMIT,
    P_CIRCLE_COLOR,
    P_CIRCLE_RADIUS,
    P_CIRCLE_OPACITY,
    P_CIRCLE_STROKE_COLOR,
    P_CIRCLE_STROKE_WIDTH,
    P_CIRCLE_STROKE_OPACITY,
    P_CIRCLE_BLUR,
    P_TEXT_FIELD,
    P_TEXT_FONT,
    P_TEXT_SIZE,
    P_TEXT_MAX_WIDTH,
    P_TEXT_PADDING,
    P_TEXT_COLOR,
    P_TEXT_OPACITY,
    P_TEXT_HALO_COLOR,
    P_TEXT_HALO_WIDTH,
    P_TEXT_ALLOW_OVERLAP,
    P_TEXT_IGNORE_PLACEMENT,
    P_TEXT_OFFSET,
    P_TEXT_TRANSFORM,
    P_TEXT_LINE_HEIGHT,
    P_ICON_IMAGE,
    P_ICON_SIZE,
    P_ICON_OPACITY,
    P_ICON_ALLOW_OVERLAP,
    P_ICON_IGNORE_PLACEMENT,
    P_ICON_ROTATE,
    P_SYMBOL_SORT_KEY,
    P_SYMBOL_PLACEMENT,
    P_SYMBOL_SPACING,
    P_TEXT_MAX_ANGLE,
    P_TEXT_KEEP_UPRIGHT,
    P_HEATMAP_RADIUS,
    P_HEATMAP_WEIGHT,
    P_HEATMAP_INTENSITY,
    P_HEATMAP_COLOR,
    P_HEATMAP_OPACITY,
    P_COUNT
} msh_prop;

typedef struct msh_rlayer {
    char *id;
    msh_rltype type;
    char *source_layer; /* NULL for background */
    double minzoom, maxzoom; /* drawn when minzoom <= z < maxzoom */
    bool visible;
    msh_ex *filter;     /* NULL: every feature */
    msh_ex *prop[P_COUNT]; /* every property of the layer's type: its expression or the default */
    size_t index;       /* position in the style */
} msh_rlayer;

struct msh_rstyle {
    char *name;
    msh_rlayer *layers;
    size_t nlayers;
    unsigned long long hash;
    void **allocs; /* every node, array and string of the compiled style, freed together */
    size_t nallocs, capallocs;
};

/** Evaluate a property of layer `l`: its expression or the property's default. */
msh_val msh_rl_eval(const msh_rlayer *l, msh_prop p, msh_ectx *c);
/** Shortcuts: a number / colour (premultiplied by nothing) / boolean property. */
double msh_rl_num(const msh_rlayer *l, msh_prop p, msh_ectx *c);
void msh_rl_color(const msh_rlayer *l, msh_prop p, msh_ectx *c, double out[4]);
bool msh_rl_bool(const msh_rlayer *l, msh_prop p, msh_ectx *c);
/** Does the layer's property `p` read the feature? (else it can be evaluated once per tile) */
bool msh_rl_per_feature(const msh_rlayer *l, msh_prop p);
/** True when the feature passes the layer's filter. */
bool msh_rl_filter(const msh_rlayer *l, msh_ectx *c);

#endif
