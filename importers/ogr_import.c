/* ogr_import.c: GDAL/OGR sources into the SpatiaLite store; one file is one transaction.
 *
 * Design: msh_import_file opens the source, checks every layer it will read before writing
 * anything (views refused, names made distinct), then imports each layer inside one store
 * batch (msh_store_batch_begin): any layer failing rolls the whole file back, so a file is
 * imported whole or not at all. Within a layer a bad feature is rejected alone (unreadable
 * geometry, a geometry over the GEOS budget, bad text) and counted; the layer goes on.
 * Layer reports are handed to o->done only once the file has committed.
 */
#include "ogr_import.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "geom_clean.h"
#include "geos_budget.h"
#include "makevalid_child.h"
#include "layer_names.h"

void msh_import_opts_init(msh_import_opts *o)
{
    memset(o, 0, sizeof *o);
    o->minzoom = 0;
    o->maxzoom = 18;
    o->feature_seconds = 1.0;
    o->feature_bytes = (size_t)512 << 20;
    o->max_reject_notes = 5;
}

static void note(const msh_import_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(const msh_import_opts *o, const char *fmt, ...)
{
    if (!o->note)
        return;
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    o->note(o->ud, msg);
}

static int is_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n;
        if (*p < 0x80) n = 0;
        else if ((*p & 0xe0) == 0xc0 && *p >= 0xc2) n = 1;
        else if ((*p & 0xf0) == 0xe0) n = 2;
        else if ((*p & 0xf8) == 0xf0 && *p <= 0xf4) n = 3;
        else return 0;
        p++;
        for (int i = 0; i < n; i++, p++)
            if ((*p & 0xc0) != 0x80)
                return 0;
    }
    return 1;
}

/* Map the OGR schema to store fields; unique names (SQLite names are case-insensitive). */
static msh_rc make_fields(OGRFeatureDefnH defn, const msh_import_opts *o, msh_field **fields, int **src_ix,
                          uint32_t *nfields)
{
    int n = OGR_FD_GetFieldCount(defn);
    *fields = calloc((size_t)(n > 0 ? n : 1), sizeof **fields);
    *src_ix = calloc((size_t)(n > 0 ? n : 1), sizeof **src_ix);
    *nfields = 0;
    if (!*fields || !*src_ix)
        return MSH_ENOMEM;
    for (int i = 0; i < n; i++) {
        OGRFieldDefnH fd = OGR_FD_GetFieldDefn(defn, i);
        OGRFieldType t = OGR_Fld_GetType(fd);
        msh_ftype ft;
        switch (t) {
        case OFTInteger: ft = OGR_Fld_GetSubType(fd) == OFSTBoolean ? MSH_FT_BOOL : MSH_FT_INT; break;
        case OFTInteger64: ft = MSH_FT_INT; break;
        case OFTReal: ft = MSH_FT_REAL; break;
        case OFTBinary: continue; /* not a map attribute */
        default: ft = MSH_FT_STRING; break;
        }
        const char *src = OGR_Fld_GetNameRef(fd);
        char name[128];
        snprintf(name, sizeof name, "%s", src && *src ? src : "field");
        if (!*src)
            snprintf(name, sizeof name, "field_%d", i + 1);
        for (int k = 2;; k++) {
            int clash = !strcasecmp(name, "fid") || !strcasecmp(name, "geom");
            for (uint32_t j = 0; j < *nfields && !clash; j++)
                clash = !strcasecmp((*fields)[j].name, name);
            if (!clash)
                break;
            snprintf(name, sizeof name, "%.100s_%d", src && *src ? src : "field", k);
        }
        if (strcmp(name, src ? src : ""))
            note(o, "field '%s' stored as '%s'", src ? src : "", name);
        (*fields)[*nfields].name = strdup(name);
        (*fields)[*nfields].type = ft;
        (*src_ix)[*nfields] = i;
        if (!(*fields)[*nfields].name)
            return MSH_ENOMEM;
        (*nfields)++;
    }
    return MSH_OK;
}

static void free_fields(msh_field *f, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        free(f[i].name);
    free(f);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void reject(const msh_import_opts *o, msh_import_report *rep, const char *path, const char *lname,
                   uint64_t seen, long long fid, const char *why)
{
    rep->rejected++;
    if (rep->rejected <= (uint64_t)o->max_reject_notes)
        note(o, "%s, layer %s, feature %llu (fid %lld): rejected: %s", path, lname, (unsigned long long)seen, fid, why);
}

static msh_rc import_layer(msh_store *s, const char *path, OGRLayerH lyr, const char *target,
                           msh_geom_cleaner *gc, const msh_import_opts *o, msh_import_report *out, msh_err *err)
{
    msh_rc rc = MSH_OK;
    const char *lname = OGR_L_GetName(lyr);
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(lyr);
    msh_field *fields = NULL;
    int *src_ix = NULL;
    uint32_t nfields = 0;
    msh_store_writer *w = NULL;
    OGRCoordinateTransformationH ct = NULL;
    OGRSpatialReferenceH dst = NULL, srcsrs = NULL;
    msh_value *vals = NULL;
    char **owned = NULL; /* per field: this feature's copy of a formatted value (see the field loop) */
    msh_import_report rep;
    memset(&rep, 0, sizeof rep);
    snprintf(rep.layer, sizeof rep.layer, "%s", target);
    snprintf(rep.source_layer, sizeof rep.source_layer, "%s", lname);
    snprintf(rep.source, sizeof rep.source, "%s", path);
    double t0 = now_s();

    if ((rc = make_fields(defn, o, &fields, &src_ix, &nfields))) {
        msh_err_set(err, rc, "out of memory");
        goto out;
    }
    vals = calloc(nfields ? nfields : 1, sizeof *vals);
    owned = calloc(nfields ? nfields : 1, sizeof *owned);
    if (!vals || !owned) {
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
        goto out;
    }
    /* source CRS: the override, else the layer's, else assume EPSG:4326 */
    if (o->source_srs) {
        srcsrs = OSRNewSpatialReference(NULL);
        if (OSRSetFromUserInput(srcsrs, o->source_srs) != OGRERR_NONE) {
            rc = msh_err_set(err, MSH_EINVAL, "unknown coordinate reference system '%s'", o->source_srs);
            goto out;
        }
    } else if (OGR_L_GetSpatialRef(lyr)) {
        srcsrs = OSRClone(OGR_L_GetSpatialRef(lyr));
    }
    if (srcsrs) {
        dst = OSRNewSpatialReference(NULL);
        OSRImportFromEPSG(dst, 4326);
        OSRSetAxisMappingStrategy(dst, OAMS_TRADITIONAL_GIS_ORDER);
        OSRSetAxisMappingStrategy(srcsrs, OAMS_TRADITIONAL_GIS_ORDER);
        if (!OSRIsSame(srcsrs, dst)) {
            ct = OCTNewCoordinateTransformation(srcsrs, dst);
            if (!ct) {
                rc = msh_err_set(err, MSH_EINVAL, "%s, layer %s: no transformation from its CRS to EPSG:4326: %s",
                                 path, lname, CPLGetLastErrorMsg());
                goto out;
            }
        }
    }
    /* the source's own name is the title when the store name is not just its lower case */
    char plain[256];
    snprintf(plain, sizeof plain, "%s", lname);
    for (char *q = plain; *q; q++)
        if (*q >= 'A' && *q <= 'Z')
            *q = (char)(*q - 'A' + 'a');
    /* (a name given with --layer is the user's choice: no title from the source) */
    const char *title = !o->layer_name && strcmp(plain, target) && is_utf8(lname) && *lname ? lname : NULL;
    msh_layer_spec spec = {target, fields, nfields, o->minzoom, o->maxzoom, path, title};
    if ((rc = msh_store_writer_begin(s, &spec, &w, err)))
        goto out;

    GIntBig total = OGR_L_GetFeatureCount(lyr, FALSE); /* -1 when counting means reading it all */
    uint64_t seen = 0, trailing_read_errors = 0;
    char first_read_error[300] = "";
    OGR_L_ResetReading(lyr);
    for (;;) {
        CPLErrorReset(); /* an error belongs to the feature being read, not to the layer */
        OGRFeatureH f = OGR_L_GetNextFeature(lyr);
        if (!f) {
            if (CPLGetLastErrorType() >= CE_Failure) {
                rc = msh_err_set(err, MSH_EFORMAT, "%s, layer %s: read error after feature %llu: %s; nothing of %s "
                                 "imported", path, lname, (unsigned long long)seen, CPLGetLastErrorMsg(), path);
                goto out;
            }
            break;
        }
        seen++;
        GIntBig fid = OGR_F_GetFID(f);
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        int read_failed = CPLGetLastErrorType() >= CE_Failure;
        if ((!g || OGR_G_IsEmpty(g)) && read_failed) { /* e.g. WKT the driver could not parse */
            char why[400];
            if (trailing_read_errors++ == 0)
                snprintf(first_read_error, sizeof first_read_error, "feature %llu: %s", (unsigned long long)seen,
                         CPLGetLastErrorMsg());
            snprintf(why, sizeof why, "geometry could not be read: %s", CPLGetLastErrorMsg());
            reject(o, &rep, path, lname, seen, (long long)fid, why);
            OGR_F_Destroy(f);
            continue;
        }
        trailing_read_errors = 0;
        if (!g || OGR_G_IsEmpty(g)) {
            rep.skipped++;
            OGR_F_Destroy(f);
            continue;
        }
        char why[400] = "";
        msh_clean_out co;
        if (msh_geom_clean(gc, g, ct, &co, why, sizeof why)) {
            reject(o, &rep, path, lname, seen, (long long)fid, why);
            OGR_F_Destroy(f);
            continue;
        }
        int bad_text = -1;
        bool oom = false;
        for (uint32_t i = 0; i < nfields; i++) {
            int si = src_ix[i];
            msh_value *v = &vals[i];
            memset(v, 0, sizeof *v);
            if (!OGR_F_IsFieldSetAndNotNull(f, si))
                continue;
            switch (fields[i].type) {
            case MSH_FT_INT: case MSH_FT_BOOL:
                v->type = (uint8_t)fields[i].type;
                v->u.i = OGR_F_GetFieldAsInteger64(f, si);
                break;
            case MSH_FT_REAL:
                v->type = MSH_FT_REAL;
                v->u.d = OGR_F_GetFieldAsDouble(f, si);
                break;
            default:
                v->type = MSH_FT_STRING;
                v->u.s = OGR_F_GetFieldAsString(f, si);
                /* a date, time or list is formatted into the feature's one scratch string, which the
                 * next such call frees: two DateTime fields would store freed memory. Keep a copy
                 * (a plain string is the feature's own storage and lives until OGR_F_Destroy). */
                if (OGR_Fld_GetType(OGR_F_GetFieldDefnRef(f, si)) != OFTString) {
                    if (!(owned[i] = strdup(v->u.s))) {
                        oom = true;
                        v->type = 0; /* null */
                        continue;
                    }
                    v->u.s = owned[i];
                }
                v->len = (uint32_t)strlen(v->u.s);
                if (!is_utf8(v->u.s))
                    bad_text = (int)i;
            }
        }
        msh_err ferr;
        msh_rc frc = MSH_OK;
        if (oom)
            frc = msh_err_set(&ferr, MSH_ENOMEM, "out of memory");
        else if (bad_text >= 0)
            frc = msh_err_set(&ferr, MSH_EFORMAT, "attribute '%s' is not valid UTF-8 (set the source encoding)",
                              fields[bad_text].name);
        /* a GeometryCollection of several families: one row per family, each with the attributes */
        for (int k = 0; k < co.n && !frc; k++)
            frc = msh_store_writer_add(w, co.wkb[k], co.len[k], vals, &ferr);
        for (uint32_t i = 0; i < nfields; i++) {
            free(owned[i]);
            owned[i] = NULL;
        }
        OGR_F_Destroy(f);
        if (frc == MSH_EIO || frc == MSH_ENOMEM) {
            msh_clean_out_free(&co);
            rc = msh_err_set(err, frc, "%s, layer %s, feature %llu (fid %lld): %s; nothing of %s imported", path,
                             lname, (unsigned long long)seen, (long long)fid, ferr.msg, path);
            goto out;
        }
        if (frc) {
            msh_clean_out_free(&co);
            reject(o, &rep, path, lname, seen, (long long)fid, ferr.msg);
            continue;
        }
        rep.imported++;
        rep.repaired += (uint64_t)co.repaired;
        rep.split_families += (uint64_t)co.split_families;
        rep.split_antimeridian += (uint64_t)co.split_antimeridian;
        msh_clean_out_free(&co);
        if (o->progress && (seen & 1023) == 0)
            o->progress(o->ud, target, seen, total > 0 ? (uint64_t)total : 0);
    }
    if (o->progress)
        o->progress(o->ud, target, seen, total > 0 ? (uint64_t)total : seen);
    /* errors on every feature from some point to the end: the file is cut short or damaged
     * (a truncated Shapefile reads this way), not a few bad rows */
    if (trailing_read_errors >= 2) {
        rc = msh_err_set(err, MSH_EFORMAT, "%s, layer %s: the last %llu features could not be read (the file looks "
                         "truncated or damaged; first: %s); nothing of %s imported", path, lname,
                         (unsigned long long)trailing_read_errors, first_read_error, path);
        goto out;
    }
    if (o->strict && rep.rejected) {
        rc = msh_err_set(err, MSH_EINVAL, "%s, layer %s: %llu of %llu features rejected and --strict is set; nothing of %s "
                         "imported", path, lname, (unsigned long long)rep.rejected, (unsigned long long)seen, path);
        goto out;
    }
    rc = msh_store_writer_commit(w, &rep.version, err);
    w = NULL;
    if (rc)
        goto out;
    rep.seconds = now_s() - t0;
    if (rep.rejected > (uint64_t)o->max_reject_notes)
        note(o, "%s, layer %s: %llu more features rejected (%llu in all)", path, lname,
             (unsigned long long)(rep.rejected - (uint64_t)o->max_reject_notes), (unsigned long long)rep.rejected);
    if (rep.split_families)
        note(o, "%s, layer %s: %llu geometry collections stored as one feature per geometry family", path, lname,
             (unsigned long long)rep.split_families);
    if (rep.split_antimeridian)
        note(o, "%s, layer %s: %llu features crossing the antimeridian split at 180 degrees", path, lname,
             (unsigned long long)rep.split_antimeridian);
    *out = rep;
out:
    if (w)
        msh_store_writer_abort(w);
    if (ct)
        OCTDestroyCoordinateTransformation(ct);
    if (dst)
        OSRDestroySpatialReference(dst);
    if (srcsrs)
        OSRDestroySpatialReference(srcsrs);
    free_fields(fields, nfields);
    free(src_ix);
    free(vals);
    free(owned);
    return rc;
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcasecmp(s + a - b, suf);
}

/*
 * A layer backed by an SQL view can run a query that never ends (a recursive CTE), and OGR
 * cannot interrupt it: views are refused. Only SQLite-based drivers are asked (GeoPackage,
 * SQLite/SpatiaLite); the answer comes from sqlite_master.
 */
static msh_rc refuse_view(GDALDatasetH ds, OGRLayerH lyr, const char *path, msh_err *err)
{
    const char *drv = GDALGetDriverShortName(GDALGetDatasetDriver(ds));
    if (strcmp(drv, "GPKG") && strcmp(drv, "SQLite"))
        return MSH_OK;
    const char *name = OGR_L_GetName(lyr);
    char full[700];
    size_t n = (size_t)snprintf(full, sizeof full, "SELECT type FROM sqlite_master WHERE name = '");
    const char *p = name;
    for (; *p && n + 24 < sizeof full; p++) {
        if (*p == '\'')
            full[n++] = '\''; /* SQL string quoting */
        full[n++] = *p;
    }
    if (*p)
        return msh_err_set(err, MSH_EINVAL, "%s: a layer name of %zu bytes is too long", path, strlen(name));
    snprintf(full + n, sizeof full - n, "' COLLATE NOCASE");
    OGRLayerH r = GDALDatasetExecuteSQL(ds, full, NULL, NULL);
    int is_view = 0;
    if (r) {
        OGRFeatureH f = OGR_L_GetNextFeature(r);
        if (f) {
            is_view = !strcasecmp(OGR_F_GetFieldAsString(f, 0), "view");
            OGR_F_Destroy(f);
        }
        GDALDatasetReleaseResultSet(ds, r);
    }
    if (is_view)
        return msh_err_set(err, MSH_EINVAL, "%s: layer '%s' is an SQL view: views are not imported (a view can run "
                           "without end); nothing of %s imported (import the other layers with --source-layer, or "
                           "materialise the view as a table)", path, name, path);
    return MSH_OK;
}

typedef struct {
    OGRLayerH lyr;
    char name[MSH_LAYER_NAME_CAP];
} planned_layer;

/* Choose every layer to import and its store name before writing anything. */
static msh_rc plan_layers(GDALDatasetH ds, const char *path, const msh_import_opts *o, msh_names *names,
                          planned_layer **plan, int *nplan, msh_err *err)
{
    int nl = GDALDatasetGetLayerCount(ds);
    OGRLayerH only = NULL;
    *plan = NULL;
    *nplan = 0;
    if (o->source_layer) {
        if (!(only = GDALDatasetGetLayerByName(ds, o->source_layer)))
            return msh_err_set(err, MSH_ENOTFOUND, "%s: no layer named '%s'", path, o->source_layer);
        nl = 1;
    } else if (nl == 0) {
        return msh_err_set(err, MSH_EFORMAT, "%s: the source has no vector layers", path);
    } else if (o->layer_name && nl > 1) {
        return msh_err_set(err, MSH_EINVAL, "%s has %d layers: --layer needs --source-layer to say which one", path, nl);
    }
    planned_layer *p = calloc((size_t)nl, sizeof *p);
    if (!p)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    for (int i = 0; i < nl; i++) {
        p[i].lyr = only ? only : GDALDatasetGetLayer(ds, i);
        msh_rc rc = refuse_view(ds, p[i].lyr, path, err);
        if (rc) {
            free(p);
            return rc;
        }
        if (o->layer_name)
            snprintf(p[i].name, sizeof p[i].name, "%s", o->layer_name);
        else
            msh_layer_name_from(OGR_L_GetName(p[i].lyr), i + 1, p[i].name);
    }
    for (int i = 0; i < nl; i++) {
        char want[MSH_LAYER_NAME_CAP];
        memcpy(want, p[i].name, sizeof want);
        if (!msh_names_claim(names, p[i].name)) {
            free(p);
            return msh_err_set(err, MSH_ENOMEM, "out of memory");
        }
        if (strcmp(want, p[i].name))
            note(o, "%s: source layer '%s' stored as '%s' ('%s' is taken by another layer of this import)", path,
                 OGR_L_GetName(p[i].lyr), p[i].name, want);
        else if (!o->layer_name && strcasecmp(OGR_L_GetName(p[i].lyr), p[i].name))
            note(o, "%s: source layer '%s' stored as '%s'", path, OGR_L_GetName(p[i].lyr), p[i].name);
    }
    *plan = p;
    *nplan = nl;
    return MSH_OK;
}

msh_rc msh_import_file(msh_store *s, const char *path, const msh_import_opts *o, msh_err *err)
{
    msh_rc rc = MSH_OK;
    GDALAllRegister();
    CPLPushErrorHandler(CPLQuietErrorHandler);
    char **oo = NULL;
    if (ends_with(path, ".csv")) {
        oo = CSLAddString(oo, "X_POSSIBLE_NAMES=lon,longitude,lng,x");
        oo = CSLAddString(oo, "Y_POSSIBLE_NAMES=lat,latitude,y");
        oo = CSLAddString(oo, "GEOM_POSSIBLE_NAMES=wkt,geometry,geom,the_geom");
        oo = CSLAddString(oo, "KEEP_GEOM_COLUMNS=NO");
        oo = CSLAddString(oo, "AUTODETECT_TYPE=YES");
    }
    CPLErrorReset();
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, (const char *const *)oo, NULL);
    CSLDestroy(oo);
    msh_geom_cleaner gc = {0};
    msh_names local_names;
    msh_names_init(&local_names);
    msh_names *names = o->names ? o->names : &local_names;
    planned_layer *plan = NULL;
    msh_import_report *reps = NULL;
    int nplan = 0, batch = 0, budget = 0;
    if (!ds) {
        rc = msh_err_set(err, MSH_EFORMAT, "%s: cannot open as a vector source: %s", path,
                         *CPLGetLastErrorMsg() ? CPLGetLastErrorMsg() : "unknown format or unreadable file");
        goto out;
    }
    if ((rc = plan_layers(ds, path, o, names, &plan, &nplan, err)))
        goto out;
    if (!(reps = calloc((size_t)nplan, sizeof *reps))) {
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
        goto out;
    }
    if (msh_geom_cleaner_init(&gc, o->feature_seconds, o->feature_bytes)) {
        rc = msh_err_set(err, MSH_ENOMEM, "cannot start GEOS");
        goto out;
    }
    /* the repair in a child process under the same budget: GEOS does not check for interrupts
     * in every step of MakeValid (makevalid_child.h) */
    gc.make_valid = msh_makevalid_child;
    gc.repair_cpu_s = o->feature_seconds;
    gc.repair_bytes = o->feature_bytes;
    gc.inproc_vertices = MSH_MAKEVALID_INPROC_VERTICES; /* under geos_budget.h's interrupt */
    msh_geos_budget_install();
    budget = 1;
    if ((rc = msh_store_batch_begin(s, err)))
        goto out;
    batch = 1;
    for (int i = 0; i < nplan && !rc; i++)
        rc = import_layer(s, path, plan[i].lyr, plan[i].name, &gc, o, &reps[i], err);
    if (!rc)
        rc = msh_store_batch_end(s, true, err);
    batch = 0;
    for (int i = 0; i < nplan && !rc && o->done; i++)
        o->done(o->ud, &reps[i]);
out:
    if (batch)
        msh_store_batch_end(s, false, NULL);
    if (budget)
        msh_geos_budget_uninstall();
    msh_geom_cleaner_free(&gc);
    free(plan);
    free(reps);
    msh_names_free(&local_names);
    if (ds)
        GDALClose(ds);
    CPLPopErrorHandler();
    return rc;
}
