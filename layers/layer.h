/* layer.h: the one idea everything shares. Every map layer, static or live,
 * answers the same questions through this small vtable: its schema and bounds
 * (msh_layer_info), the features inside a box at a zoom (a callback per
 * feature, no copies), and a version that changes whenever its data changes.
 * Tiles, the catalog and every later output are written once against it.
 *
 * Layers are reference counted: a catalog snapshot holds one reference per
 * layer, so a reload can swap in new layers while requests still read the old.
 */
#ifndef MSH_LAYER_H
#define MSH_LAYER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/msh_err.h"
#include "geom.h"

typedef enum {
    MSH_FT_INT = 1,
    MSH_FT_REAL = 2,
    MSH_FT_STRING = 3,
    MSH_FT_BOOL = 4
} msh_ftype;

typedef struct msh_field {
    char *name;
    msh_ftype type;
} msh_field;

/** The catalog name of a field type: "integer", "number", "string", "boolean". */
const char *msh_ftype_name(msh_ftype t);
/** Parse it back; 0 if unknown. */
msh_ftype msh_ftype_parse(const char *s);

/** One attribute value; type 0 is null. Strings point into the layer's memory. */
typedef struct msh_value {
    uint8_t type;
    uint32_t len; /* string length in bytes */
    union {
        int64_t i;
        double d;
        const char *s;
    } u;
} msh_value;

typedef struct msh_layer_info {
    char *name;
    char *kind;             /* "static", later "live", "derived" */
    char *geometry_type;    /* "Point", "LineString", "Polygon" or "Geometry" (mixed) */
    double bounds[4];       /* lon/lat: west, south, east, north */
    int minzoom, maxzoom;
    uint32_t nfields;
    msh_field *fields;
    uint64_t feature_count;
    uint64_t version;
    int access;             /* 0: public; MSH_ACCESS_OPS: personal data, ops role only */
    char *title;            /* a human title (the source's own name, any script) or NULL: use name */
} msh_layer_info;

#define MSH_ACCESS_OPS 2

void msh_layer_info_clear(msh_layer_info *info);

/** Deep copy of src into dst. */
msh_rc msh_layer_info_copy(msh_layer_info *dst, const msh_layer_info *src);

/** The info of a layer the server derives rather than stores (live tables, KPI zones): the given
 * name, kind, geometry type and fields (borrowed, as in a literal; copy it with msh_layer_info_copy),
 * the whole Web Mercator world, zooms 0 to 22, version 1, public. */
void msh_layer_info_derived(msh_layer_info *info, const char *name, const char *kind, const char *geometry_type,
                            msh_field *fields, uint32_t nfields);

typedef struct msh_feature {
    uint64_t id;
    msh_geom geom;          /* world units (see core/msh_tilemath.h) */
    const msh_value *values; /* info.nfields values */
} msh_feature;

/** Called for each feature of a query; return non-zero to stop early. */
typedef int (*msh_feature_fn)(void *ud, const msh_feature *f);

typedef struct msh_layer msh_layer;

typedef struct msh_layer_vt {
    /** Call fn for every feature whose bbox meets `box` (world units), in a stable order. */
    msh_rc (*query)(msh_layer *l, const double box[4], int z, msh_feature_fn fn, void *ud);
    void (*destroy)(msh_layer *l);
    /** Optional: a version of the data under `box` (world units) at zoom z, for ETags and
     * cache keys of live layers, which change in places. NULL: info.version. */
    uint64_t (*region_version)(msh_layer *l, int z, const double box[4]);
} msh_layer_vt;

struct msh_layer {
    const msh_layer_vt *vt;
    msh_layer_info info;
    atomic_int refs;
};

/* For layers made in memory (live, KPI): their versions restart with the process, so every
 * version they report is salted with a per-process random epoch and ETags never repeat. */
/** A random epoch for one layer object (`self` mixes in when the system has no randomness). */
uint64_t msh_layer_epoch_new(const void *self);
/** Version v salted with epoch and mixed (differing v give differing results). */
uint64_t msh_layer_epoch_version(uint64_t v, uint64_t epoch);
/** The destroy of a layer whose struct owns nothing but its info (vt->destroy). */
void msh_layer_free_plain(msh_layer *l);

static inline msh_layer *msh_layer_retain(msh_layer *l)
{
    atomic_fetch_add(&l->refs, 1);
    return l;
}

static inline void msh_layer_release(msh_layer *l)
{
    if (l && atomic_fetch_sub(&l->refs, 1) == 1)
        l->vt->destroy(l);
}

/** True for the names of the live layers (movement, positions, incidents, crews, gates, sensors). */
bool msh_layer_name_live(const char *name);

/** True for the names of stored layers whose features are personal data (reports: their authors and
 * places): served as MSH_ACCESS_OPS whatever the registry says. */
bool msh_layer_name_private(const char *name);

/** True when a layer name is safe as a table name and a URL segment: [a-z][a-z0-9_]{0,62}, not reserved. */
bool msh_layer_name_valid(const char *name);

#endif
