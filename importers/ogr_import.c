/* ogr_import.c: GDAL/OGR sources into the SpatiaLite store, one transaction per layer. */
#include "ogr_import.h"

#include "geom_clean.h"

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

#define MAX_REJECT_NOTES 20


void msh_import_opts_init(msh_import_opts *o)
{
    memset(o, 0, sizeof *o);
    o->minzoom = 0;
    o->maxzoom = 18;
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

void msh_import_layer_name(const char *src, char *out, size_t cap)
{
    size_t n = 0;
    if (cap == 0)
        return;
    if (!src || !*src)
        src = "layer";
    if (!((src[0] >= 'a' && src[0] <= 'z') || (src[0] >= 'A' && src[0] <= 'Z')) && cap > 3) {
        out[n++] = 'l';
        out[n++] = '_';
    }
    for (const char *p = src; *p && n + 1 < cap && n < 63; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            c = '_';
        if (c == '_' && n > 0 && out[n - 1] == '_')
            continue;
        out[n++] = c;
    }
    while (n > 1 && out[n - 1] == '_')
        n--;
    out[n] = 0;
    if (!msh_layer_name_valid(out)) { /* reserved prefix: make it ours */
        char tmp[64];
        snprintf(tmp, sizeof tmp, "l_%.60s", out);
        snprintf(out, cap, "%s", tmp);
    }
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

static msh_rc import_layer(msh_store *s, const char *path, OGRLayerH lyr, const char *target, msh_geos_env *ge,
                           const msh_import_opts *o, msh_err *err)
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
    msh_import_report rep;
    memset(&rep, 0, sizeof rep);
    snprintf(rep.layer, sizeof rep.layer, "%s", target);
    snprintf(rep.source_layer, sizeof rep.source_layer, "%s", lname);
    double t0 = now_s();

    if ((rc = make_fields(defn, o, &fields, &src_ix, &nfields))) {
        msh_err_set(err, rc, "out of memory");
        goto out;
    }
    vals = calloc(nfields ? nfields : 1, sizeof *vals);
    if (!vals) {
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
    msh_layer_spec spec = {target, fields, nfields, o->minzoom, o->maxzoom, path};
    if ((rc = msh_store_writer_begin(s, &spec, &w, err)))
        goto out;

    GIntBig total = OGR_L_GetFeatureCount(lyr, TRUE);
    uint64_t seen = 0;
    OGR_L_ResetReading(lyr);
    CPLErrorReset();
    for (;;) {
        OGRFeatureH f = OGR_L_GetNextFeature(lyr);
        if (!f) {
            if (CPLGetLastErrorType() >= CE_Failure) {
                rc = msh_err_set(err, MSH_EFORMAT, "%s, layer %s: read error after feature %llu: %s; layer not imported",
                                 path, lname, (unsigned long long)seen, CPLGetLastErrorMsg());
                goto out;
            }
            break;
        }
        seen++;
        GIntBig fid = OGR_F_GetFID(f);
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        if (!g || OGR_G_IsEmpty(g)) {
            rep.skipped++;
            OGR_F_Destroy(f);
            continue;
        }
        char why[400] = "";
        uint8_t *wkb = NULL;
        size_t wlen = 0;
        int repaired = 0;
        if (msh_geom_clean(ge, g, ct, &wkb, &wlen, &repaired, why, sizeof why)) {
            rep.rejected++;
            if (rep.rejected <= MAX_REJECT_NOTES)
                note(o, "%s, layer %s, feature %llu (fid %lld): rejected: %s", path, lname, (unsigned long long)seen,
                     (long long)fid, why);
            OGR_F_Destroy(f);
            continue;
        }
        int bad_text = -1;
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
                v->len = (uint32_t)strlen(v->u.s);
                if (!is_utf8(v->u.s))
                    bad_text = (int)i;
            }
        }
        msh_err ferr;
        msh_rc frc = MSH_OK;
        if (bad_text >= 0) {
            frc = msh_err_set(&ferr, MSH_EFORMAT, "attribute '%s' is not valid UTF-8 (set the source encoding)",
                              fields[bad_text].name);
        } else {
            frc = msh_store_writer_add(w, wkb, wlen, vals, &ferr);
        }
        free(wkb);
        OGR_F_Destroy(f);
        if (frc == MSH_EIO || frc == MSH_ENOMEM) {
            rc = msh_err_set(err, frc, "%s, layer %s, feature %llu (fid %lld): %s; layer not imported", path, lname,
                             (unsigned long long)seen, (long long)fid, ferr.msg);
            goto out;
        }
        if (frc) {
            rep.rejected++;
            if (rep.rejected <= MAX_REJECT_NOTES)
                note(o, "%s, layer %s, feature %llu (fid %lld): rejected: %s", path, lname, (unsigned long long)seen,
                     (long long)fid, ferr.msg);
            continue;
        }
        rep.imported++;
        rep.repaired += (uint64_t)repaired;
        if (o->progress && (seen & 1023) == 0)
            o->progress(o->ud, target, seen, total > 0 ? (uint64_t)total : 0);
    }
    if (o->progress)
        o->progress(o->ud, target, seen, total > 0 ? (uint64_t)total : seen);
    rc = msh_store_writer_commit(w, &rep.version, err);
    w = NULL;
    if (rc)
        goto out;
    rep.seconds = now_s() - t0;
    if (rep.rejected > MAX_REJECT_NOTES)
        note(o, "%s, layer %s: %llu more features rejected", path, lname,
             (unsigned long long)(rep.rejected - MAX_REJECT_NOTES));
    if (o->done)
        o->done(o->ud, &rep);
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
    return rc;
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcasecmp(s + a - b, suf);
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
    msh_geos_env ge = {0};
    if (!ds) {
        rc = msh_err_set(err, MSH_EFORMAT, "%s: cannot open as a vector source: %s", path,
                         *CPLGetLastErrorMsg() ? CPLGetLastErrorMsg() : "unknown format or unreadable file");
        goto out;
    }
    int nl = GDALDatasetGetLayerCount(ds);
    OGRLayerH only = NULL;
    if (o->source_layer) {
        only = GDALDatasetGetLayerByName(ds, o->source_layer);
        if (!only) {
            rc = msh_err_set(err, MSH_ENOTFOUND, "%s: no layer named '%s'", path, o->source_layer);
            goto out;
        }
    } else if (nl == 0) {
        rc = msh_err_set(err, MSH_EFORMAT, "%s: the source has no vector layers", path);
        goto out;
    } else if (o->layer_name && nl > 1) {
        rc = msh_err_set(err, MSH_EINVAL, "%s has %d layers: --layer needs --source-layer to say which one", path, nl);
        goto out;
    }
    if (msh_geos_env_init(&ge)) {
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory (GEOS)");
        goto out;
    }
    for (int i = 0; i < nl && !rc; i++) {
        OGRLayerH lyr = only ? only : GDALDatasetGetLayer(ds, i);
        char name[64];
        if (o->layer_name)
            snprintf(name, sizeof name, "%s", o->layer_name);
        else
            msh_import_layer_name(OGR_L_GetName(lyr), name, sizeof name);
        if (!o->layer_name) {
            char plain[64];
            snprintf(plain, sizeof plain, "%s", OGR_L_GetName(lyr));
            for (char *q = plain; *q; q++)
                if (*q >= 'A' && *q <= 'Z')
                    *q = (char)(*q - 'A' + 'a');
            if (strcmp(plain, name))
                note(o, "%s: source layer '%s' stored as '%s'", path, OGR_L_GetName(lyr), name);
        }
        rc = import_layer(s, path, lyr, name, &ge, o, err);
        if (only)
            break;
    }
out:
    msh_geos_env_free(&ge);
    if (ds)
        GDALClose(ds);
    CPLPopErrorHandler();
    return rc;
}
