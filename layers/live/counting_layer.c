/* counting_layer.c: counting lines' minutes as OGC items and tiles (counting_layer.h). The items
 * filter by `line=` and by `datetime` (the `time` field: the minute's start); `minute` is the same
 * instant under the name the counts are known by. Read under the counts' own read lock. */
#include "counting_layer.h"

#include <stdlib.h>
#include <string.h>

#include "core/msh_tilemath.h"
#include "core/msh_time.h"

typedef struct {
    msh_layer base;
    msh_counting *c;
    uint64_t epoch;
} cl_layer;

typedef struct {
    const double *box;
    msh_feature_fn fn;
    void *ud;
} cl_job;

static const char *const FIELDS[] = {"line", "name", "minute", "time", "ab", "ba", "total"};
static const msh_ftype TYPES[] = {MSH_FT_INT, MSH_FT_STRING, MSH_FT_STRING, MSH_FT_STRING,
                                  MSH_FT_INT, MSH_FT_INT, MSH_FT_INT};
#define NF (sizeof FIELDS / sizeof *FIELDS)

static int on_line(void *ud, uint64_t line, const char *name, bool has_pt, double lon, double lat,
                   const msh_line_minute *m, size_t n, uint64_t ab, uint64_t ba)
{
    (void)ab;
    (void)ba;
    cl_job *j = ud;
    double xy[2];
    if (!has_pt)
        return 0;
    msh_lonlat_to_world(lon, lat, &xy[0], &xy[1]);
    if (xy[0] < j->box[0] || xy[0] > j->box[2] || xy[1] < j->box[1] || xy[1] > j->box[3])
        return 0;
    for (size_t i = 0; i < n; i++) {
        char t[MSH_TIME_ISO_CAP];
        msh_time_format_iso(m[i].minute_ms, t, sizeof t, 0);
        msh_value v[NF];
        memset(v, 0, sizeof v);
        const char *s[3] = {name, t, t};
        for (int k = 0; k < 3; k++) {
            v[1 + k].type = MSH_FT_STRING;
            v[1 + k].u.s = s[k];
            v[1 + k].len = (uint32_t)strlen(s[k]);
        }
        const int64_t num[4] = {(int64_t)line, m[i].ab, m[i].ba, (int64_t)m[i].ab + m[i].ba};
        for (int k = 0; k < 4; k++) {
            v[k ? 3 + k : 0].type = MSH_FT_INT;
            v[k ? 3 + k : 0].u.i = num[k];
        }
        uint64_t fid = ((uint64_t)(m[i].minute_ms / 60000) << 20) | (line & 0xFFFFFu);
        msh_feature f = {fid, {MSH_GT_POINT, 1, 0, xy, NULL}, v};
        if (j->fn(j->ud, &f))
            return 1;
    }
    return 0;
}

static msh_rc cl_query(msh_layer *base, const double box[4], int z, msh_feature_fn fn, void *ud)
{
    (void)z;
    cl_layer *l = (cl_layer *)base;
    cl_job j = {box, fn, ud};
    msh_counting_rdlock(l->c);
    msh_counting_each(l->c, on_line, &j);
    msh_counting_unlock(l->c);
    return MSH_OK;
}

static uint64_t cl_region_version(msh_layer *base, int z, const double box[4])
{
    (void)z;
    (void)box;
    cl_layer *l = (cl_layer *)base;
    return msh_layer_epoch_version(msh_counting_version(l->c), l->epoch);
}

static const msh_layer_vt CL_VT = {cl_query, msh_layer_free_plain, cl_region_version};

msh_rc msh_counting_layer_new(msh_counting *c, msh_layer **out, msh_err *err)
{
    *out = NULL;
    cl_layer *l = calloc(1, sizeof *l);
    msh_field fields[NF];
    for (size_t i = 0; i < NF; i++) {
        fields[i].name = (char *)FIELDS[i];
        fields[i].type = TYPES[i];
    }
    msh_layer_info info;
    msh_layer_info_derived(&info, "counting_line_counts", "live", "Point", fields, NF);
    if (!l || msh_layer_info_copy(&l->base.info, &info)) {
        free(l);
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    }
    l->base.vt = &CL_VT;
    atomic_init(&l->base.refs, 1);
    l->c = c;
    l->epoch = msh_layer_epoch_new(l);
    *out = &l->base;
    return MSH_OK;
}

typedef struct {
    msh_buf *b;
    int n;
} totals_job;

static int on_total(void *ud, uint64_t line, const char *name, bool has_pt, double lon, double lat,
                    const msh_line_minute *m, size_t n, uint64_t ab, uint64_t ba)
{
    (void)has_pt;
    (void)lon;
    (void)lat;
    totals_job *j = ud;
    msh_buf_printf(j->b, "%s{\"line\":%llu,\"name\":\"", j->n++ ? "," : "", (unsigned long long)line);
    msh_buf_json_str(j->b, name);
    msh_buf_printf(j->b, "\",\"ab\":%llu,\"ba\":%llu,\"total\":%llu,\"last_minute\":", (unsigned long long)ab,
                   (unsigned long long)ba, (unsigned long long)(ab + ba));
    if (n) {
        char t[MSH_TIME_ISO_CAP];
        msh_time_format_iso(m[n - 1].minute_ms, t, sizeof t, 0);
        msh_buf_printf(j->b, "\"%s\"}", t);
    } else {
        msh_buf_printf(j->b, "null}");
    }
    return 0;
}

msh_rc msh_counting_totals_json(msh_counting *c, msh_buf *b)
{
    totals_job j = {b, 0};
    msh_buf_putc(b, '[');
    msh_counting_rdlock(c);
    msh_counting_each(c, on_total, &j);
    msh_counting_unlock(c);
    return msh_buf_putc(b, ']');
}
