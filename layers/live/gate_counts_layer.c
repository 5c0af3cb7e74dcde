/* gate_counts_layer.c: the `gate_counts` collection: each gate's 5-minute buckets (gate_counts.h)
 * as point features at the gate, so OGC items page them, filter them by `gate=` and by `datetime`
 * (the `time` field: the bucket's start), and tiles can draw them. Read under the counts' own read
 * lock: the live state is not touched. One version for the whole season (any fold changes it). */
#include "gate_counts_layer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_tilemath.h"
#include "core/msh_time.h"

typedef struct {
    msh_layer base;
    msh_gate_counts *gc;
    uint64_t epoch;
} gc_layer;

typedef struct {
    const double *box; /* world units */
    msh_feature_fn fn;
    void *ud;
} gc_job;

static const char *const FIELDS[] = {"gate", "time", "end", "in", "out", "net", "peak_utilisation",
                                     "scans_valid", "scans_denied", "denied_share"};
static const msh_ftype TYPES[] = {MSH_FT_STRING, MSH_FT_STRING, MSH_FT_STRING, MSH_FT_INT, MSH_FT_INT,
                                  MSH_FT_INT, MSH_FT_REAL, MSH_FT_INT, MSH_FT_INT, MSH_FT_REAL};
#define NF (sizeof FIELDS / sizeof *FIELDS)

static int on_bucket(void *ud, const char *gate, bool has_loc, double lon, double lat, const msh_gate_bucket *b,
                     uint64_t fid)
{
    gc_job *j = ud;
    double xy[2];
    if (!has_loc)
        return 0; /* a gate never located is not on the map (nor in a box) */
    msh_lonlat_to_world(lon, lat, &xy[0], &xy[1]);
    if (xy[0] < j->box[0] || xy[0] > j->box[2] || xy[1] < j->box[1] || xy[1] > j->box[3])
        return 0;
    char t0[MSH_TIME_ISO_CAP], t1[MSH_TIME_ISO_CAP];
    msh_time_format_iso(b->start_ms, t0, sizeof t0, 0);
    msh_time_format_iso(b->start_ms + MSH_GATE_BUCKET_MS, t1, sizeof t1, 0);
    msh_value v[NF];
    memset(v, 0, sizeof v);
    const char *s[3] = {gate, t0, t1};
    for (int i = 0; i < 3; i++) {
        v[i].type = MSH_FT_STRING;
        v[i].u.s = s[i];
        v[i].len = (uint32_t)strlen(s[i]);
    }
    const int64_t n[6] = {b->in, b->out, b->in - b->out, 0, b->scans_valid, b->scans_denied};
    for (int i = 0; i < 6; i++) {
        if (i == 3)
            continue;
        v[3 + i].type = MSH_FT_INT;
        v[3 + i].u.i = n[i];
    }
    if (!isnan(b->peak_util)) {
        v[6].type = MSH_FT_REAL;
        v[6].u.d = round(b->peak_util * 1000) / 1000;
    }
    if (b->scans_valid + b->scans_denied > 0) {
        v[9].type = MSH_FT_REAL;
        v[9].u.d = round((double)b->scans_denied / (double)(b->scans_valid + b->scans_denied) * 10000) / 10000;
    }
    msh_feature f = {fid, {MSH_GT_POINT, 1, 0, xy, NULL}, v};
    return j->fn(j->ud, &f);
}

static msh_rc gcl_query(msh_layer *base, const double box[4], int z, msh_feature_fn fn, void *ud)
{
    (void)z;
    gc_layer *l = (gc_layer *)base;
    gc_job j = {box, fn, ud};
    msh_gate_counts_rdlock(l->gc);
    msh_gate_counts_each(l->gc, on_bucket, &j);
    msh_gate_counts_unlock(l->gc);
    return MSH_OK;
}

static uint64_t gcl_region_version(msh_layer *base, int z, const double box[4])
{
    (void)z;
    (void)box;
    gc_layer *l = (gc_layer *)base;
    return msh_layer_epoch_version(msh_gate_counts_version(l->gc), l->epoch);
}

static const msh_layer_vt GCL_VT = {gcl_query, msh_layer_free_plain, gcl_region_version};

msh_rc msh_gate_counts_layer_new(msh_gate_counts *gc, msh_layer **out, msh_err *err)
{
    *out = NULL;
    gc_layer *l = calloc(1, sizeof *l);
    msh_field fields[NF];
    for (size_t i = 0; i < NF; i++) {
        fields[i].name = (char *)FIELDS[i];
        fields[i].type = TYPES[i];
    }
    msh_layer_info info;
    msh_layer_info_derived(&info, "gate_counts", "live", "Point", fields, NF);
    if (!l || msh_layer_info_copy(&l->base.info, &info)) {
        free(l);
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    }
    l->base.vt = &GCL_VT;
    atomic_init(&l->base.refs, 1);
    l->gc = gc;
    l->epoch = msh_layer_epoch_new(l);
    *out = &l->base;
    return MSH_OK;
}
