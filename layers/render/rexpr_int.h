/* rexpr_int.h: the expression trees of raster styles, shared by their compiler (rstyle.c) and
 * their evaluator (rexpr.c). Internal to layers/render/. */
#ifndef MSH_REXPR_INT_H
#define MSH_REXPR_INT_H

#include "rstyle_int.h"

typedef enum {
    OP_LIT,
    OP_GET,
    OP_HAS,
    OP_ID,
    OP_GTYPE,
    OP_ZOOM,
    OP_HDENS,
    OP_INTERP,
    OP_STEP,
    OP_MATCH,
    OP_CASE,
    OP_COALESCE,
    OP_EQ,
    OP_NE,
    OP_LT,
    OP_LE,
    OP_GT,
    OP_GE,
    OP_NOT,
    OP_ALL,
    OP_ANY,
    OP_IN,
    OP_LIN, /* legacy ["in", key, v...]: a[0] among items */
    OP_TONUM,
    OP_TOSTR,
    OP_TOBOOL,
    OP_TOCOLOR,
    OP_ANUM,
    OP_ASTR,
    OP_ABOOL,
    OP_TYPEOF,
    OP_CONCAT,
    OP_FORMAT,
    OP_UPCASE,
    OP_DOWNCASE,
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_MOD,
    OP_POW,
    OP_MIN,
    OP_MAX,
    OP_LENGTH,
    OP_RGB,
    OP_RGBA,
    OP_NULLOP,
} ex_op;

struct msh_ex {
    ex_op op;
    int deps;
    msh_val v;       /* OP_LIT */
    const char *key; /* OP_GET, OP_HAS */
    size_t keylen;
    int n;           /* arguments */
    msh_ex **a;
    double base;     /* OP_INTERP: 1 linear */
    double *stops;   /* OP_INTERP, OP_STEP: n stops */
    int *nlab;       /* OP_MATCH: labels per branch */
    msh_val *labs;   /* OP_MATCH: every label; OP_LIN and literal arrays: the items */
    int nitems;
    double *scales;  /* OP_FORMAT: font-scale per section */
};

static inline msh_val vnull(void) { return (msh_val){.t = MV_NULL}; }
static inline msh_val vnum(double n) { return (msh_val){.t = MV_NUM, .n = n}; }
static inline msh_val vbool(bool b) { return (msh_val){.t = MV_BOOL, .b = b}; }
static inline msh_val vstr(const char *s, size_t len) { return (msh_val){.t = MV_STR, .s = s, .len = len}; }

#endif
