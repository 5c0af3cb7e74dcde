/* download.c: items written as GeoPackage, zipped Shapefile, CSV or KML by GDAL (download.h).
 *
 * Lock contract: none (one msh_dl per request); GDALAllRegister runs once (pthread_once).
 */
#include "download.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    const char *name, *driver, *ctype, *suffix, *file_suffix, *title;
} FMT[MSH_DL_COUNT] = {
    [MSH_DL_GPKG] = {"gpkg", "GPKG", "application/geopackage+sqlite3", ".gpkg", ".gpkg", "Features as GeoPackage"},
    [MSH_DL_SHP] = {"shp", "ESRI Shapefile", "application/zip", ".shp.zip", ".shp.zip", "Features as a zipped Shapefile"},
    [MSH_DL_CSV] = {"csv", "CSV", "text/csv; charset=utf-8", ".csv", ".csv", "Features as CSV (geometry as WKT)"},
    [MSH_DL_KML] = {"kml", "KML", "application/vnd.google-earth.kml+xml", ".kml", ".kml", "Features as KML"},
};

/* the longest text a dBASE field holds, in bytes */
#define SHP_TEXT_MAX 254

struct msh_dl {
    msh_dl_fmt fmt;
    msh_crs crs;
    const msh_layer_info *li;
    char dir[256];  /* the private folder, "" once removed */
    char path[512]; /* the file GDAL writes */
    GDALDatasetH ds;
    OGRLayerH lyr;
    OGRSpatialReferenceH srs;
    int id_field;    /* the field holding the feature id, -1 where the fid holds it (GeoPackage) */
    int field0;      /* the first of the layer's own fields */
    uint64_t bytes, max_bytes;
    double *xy;      /* one geometry's coordinates, converted */
    size_t xy_cap;
    char *str;       /* one string value, NUL-terminated */
    size_t str_cap;
};

bool msh_dl_format(const char *f, msh_dl_fmt *out)
{
    for (int i = 0; i < MSH_DL_COUNT; i++)
        if (!strcmp(f, FMT[i].name)) {
            *out = (msh_dl_fmt)i;
            return true;
        }
    return false;
}

const char *msh_dl_name(msh_dl_fmt f)
{
    return FMT[f].name;
}

const char *msh_dl_ctype(msh_dl_fmt f)
{
    return FMT[f].ctype;
}

const char *msh_dl_suffix(msh_dl_fmt f)
{
    return FMT[f].suffix;
}

const char *msh_dl_title(msh_dl_fmt f)
{
    return FMT[f].title;
}

static pthread_once_t reg_once = PTHREAD_ONCE_INIT;

static void reg(void)
{
    GDALAllRegister();
}

/* Remove the folder and every file in it (GDAL's journals and side files too). */
static void remove_dir(msh_dl *d)
{
    if (!d->dir[0])
        return;
    DIR *dh = opendir(d->dir);
    if (dh) {
        struct dirent *e;
        while ((e = readdir(dh)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                unlinkat(dirfd(dh), e->d_name, 0);
        closedir(dh);
    }
    rmdir(d->dir);
    d->dir[0] = 0;
}

static OGRwkbGeometryType layer_type(const msh_dl *d)
{
    switch (msh_gtype_parse(d->li->geometry_type)) {
    case MSH_GT_POINT:
        return wkbPoint;
    case MSH_GT_LINE:
        return wkbLineString;
    case MSH_GT_POLYGON:
        return wkbPolygon;
    default:
        return wkbUnknown;
    }
}

/* GDAL's KML writer has no 64-bit integers (it would make them reals, inexact past 2^53): KML
 * values are text, so the integers go as text, exact. */
static OGRFieldType int64_type(msh_dl_fmt fmt)
{
    return fmt == MSH_DL_KML ? OFTString : OFTInteger64;
}

static bool has_field(const msh_layer_info *li, const char *name)
{
    for (uint32_t i = 0; i < li->nfields; i++)
        if (!strcasecmp(li->fields[i].name, name))
            return true;
    return false;
}

msh_rc msh_dl_open(msh_dl_fmt fmt, const msh_layer_info *li, msh_crs crs, uint64_t max_bytes, msh_dl **out,
                   msh_err *err)
{
    *out = NULL;
    msh_rc rc = MSH_OK;
    char **opts = NULL;
    OGRwkbGeometryType gt;
    if (fmt == MSH_DL_KML && crs != MSH_CRS_CRS84 && crs != MSH_CRS_4326)
        return msh_err_set(err, MSH_EINVAL, "crs: KML holds WGS 84 longitude/latitude only; ask for f=kml without crs, "
                                            "or another format in %s", msh_crs_uri(crs));
    msh_dl *d = calloc(1, sizeof *d);
    if (!d)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    d->fmt = fmt;
    d->crs = crs;
    d->li = li;
    d->max_bytes = max_bytes;
    d->id_field = -1;
    gt = layer_type(d);
    if (fmt == MSH_DL_SHP && gt == wkbUnknown) {
        rc = msh_err_set(err, MSH_EINVAL, "f=shp: a shapefile holds one geometry type and collection '%s' mixes them; "
                                          "ask for f=gpkg", li->name);
        goto out;
    }
    pthread_once(&reg_once, reg);
    CPLPushErrorHandler(CPLQuietErrorHandler);
    const char *tmp = getenv("TMPDIR");
    snprintf(d->dir, sizeof d->dir, "%s/mashaer-dl-XXXXXX", tmp && *tmp && strlen(tmp) < 200 ? tmp : "/tmp");
    if (!mkdtemp(d->dir)) {
        d->dir[0] = 0;
        rc = msh_err_set(err, MSH_EIO, "cannot make a temporary folder for the download (%s)", strerror(errno));
        goto out_pop;
    }
    /* the file (and, in a zipped shapefile, its members) is named for the collection */
    snprintf(d->path, sizeof d->path, "%s/%s%s", d->dir, li->name, FMT[fmt].file_suffix);
    GDALDriverH drv = GDALGetDriverByName(FMT[fmt].driver);
    if (!drv || !(d->ds = GDALCreate(drv, d->path, 0, 0, 0, GDT_Unknown, NULL))) {
        rc = msh_err_set(err, MSH_EIO, "GDAL cannot create the %s file (%s)", FMT[fmt].driver, CPLGetLastErrorMsg());
        goto out_pop;
    }
    if (!(d->srs = OSRNewSpatialReference(NULL)) ||
        OSRImportFromEPSG(d->srs, crs == MSH_CRS_CRS84 ? 4326 : msh_crs_epsg(crs)) != OGRERR_NONE) {
        rc = msh_err_set(err, MSH_EIO, "GDAL does not know EPSG:%d", msh_crs_epsg(crs));
        goto out_pop;
    }
    OSRSetAxisMappingStrategy(d->srs, OAMS_TRADITIONAL_GIS_ORDER); /* files: x east, y north */
    bool fid_taken = has_field(li, "fid");
    switch (fmt) {
    case MSH_DL_GPKG:
        opts = CSLSetNameValue(opts, "FID", fid_taken ? "ogc_fid" : "fid");
        break;
    case MSH_DL_SHP:
        opts = CSLSetNameValue(opts, "ENCODING", "UTF-8"); /* the .cpg */
        opts = CSLSetNameValue(opts, "RESIZE", "YES");     /* text fields shrunk to their longest value */
        break;
    case MSH_DL_CSV:
        opts = CSLSetNameValue(opts, "GEOMETRY", "AS_WKT");
        opts = CSLSetNameValue(opts, "WRITE_BOM", "YES");
        break;
    default:
        break;
    }
    d->lyr = GDALDatasetCreateLayer(d->ds, li->name, d->srs, gt, opts);
    if (!d->lyr) {
        rc = msh_err_set(err, MSH_EIO, "GDAL cannot create the layer (%s)", CPLGetLastErrorMsg());
        goto out_pop;
    }
    /* fields are counted from what the driver made already (the KML writer starts with Name and Description) */
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(d->lyr);
    if (fmt != MSH_DL_GPKG) {
        d->id_field = OGR_FD_GetFieldCount(defn);
        OGRFieldDefnH fd = OGR_Fld_Create(fid_taken ? "ogc_fid" : "fid", int64_type(fmt));
        if (OGR_L_CreateField(d->lyr, fd, TRUE) != OGRERR_NONE)
            rc = msh_err_set(err, MSH_EIO, "GDAL cannot create the id field (%s)", CPLGetLastErrorMsg());
        OGR_Fld_Destroy(fd);
        if (rc)
            goto out_pop;
    }
    d->field0 = OGR_FD_GetFieldCount(defn);
    for (uint32_t i = 0; i < li->nfields; i++) {
        const OGRFieldType ot[] = {OFTString, int64_type(fmt), OFTReal, OFTString, OFTInteger};
        msh_ftype t = li->fields[i].type;
        OGRFieldDefnH fd = OGR_Fld_Create(li->fields[i].name, (unsigned)t < 5 ? ot[t] : OFTString);
        if (t == MSH_FT_BOOL)
            OGR_Fld_SetSubType(fd, OFSTBoolean);
        if (t == MSH_FT_STRING && fmt == MSH_DL_SHP)
            OGR_Fld_SetWidth(fd, SHP_TEXT_MAX); /* shrunk at the end (RESIZE) */
        if (OGR_L_CreateField(d->lyr, fd, TRUE) != OGRERR_NONE)
            rc = msh_err_set(err, MSH_EIO, "GDAL cannot create field '%s' (%s)", li->fields[i].name,
                             CPLGetLastErrorMsg());
        OGR_Fld_Destroy(fd);
        if (rc)
            goto out_pop;
    }
    if (OGR_L_StartTransaction(d->lyr) != OGRERR_NONE) /* GeoPackage: one transaction, not one per row */
        CPLErrorReset();
out_pop:
    CPLPopErrorHandler();
out:
    CSLDestroy(opts);
    if (rc) {
        msh_dl_free(d);
        return rc;
    }
    *out = d;
    return MSH_OK;
}

/* n world-unit vertices into d->xy in the file's CRS, x east and y north. */
static msh_rc convert(msh_dl *d, const double *xy, uint32_t n, msh_err *err)
{
    if (n > d->xy_cap) {
        double *nx = realloc(d->xy, 2 * sizeof *nx * n);
        if (!nx)
            return msh_err_set(err, MSH_ENOMEM, "out of memory");
        d->xy = nx;
        d->xy_cap = n;
    }
    memcpy(d->xy, xy, 2 * sizeof *xy * n);
    return msh_crs_from_world(d->crs == MSH_CRS_4326 ? MSH_CRS_CRS84 : d->crs, d->xy, n, err);
}

static OGRGeometryH path(msh_dl *d, OGRwkbGeometryType t, uint32_t off, uint32_t n)
{
    OGRGeometryH g = OGR_G_CreateGeometry(t);
    if (!g)
        return NULL;
    OGR_G_SetPoints(g, (int)n, d->xy + 2 * (size_t)off, 2 * sizeof(double), d->xy + 2 * (size_t)off + 1,
                    2 * sizeof(double), NULL, 0);
    return g;
}

/* The feature's geometry as OGR's: single or multi, as ogc_feature_json writes it. */
static OGRGeometryH geometry(msh_dl *d, const msh_geom *g, msh_err *err)
{
    if (!g->npts || convert(d, g->xy, g->npts, err))
        return NULL;
    OGRGeometryH out = NULL;
    if (g->type == MSH_GT_POINT) {
        if (g->npts == 1)
            return path(d, wkbPoint, 0, 1);
        out = OGR_G_CreateGeometry(wkbMultiPoint);
        for (uint32_t i = 0; out && i < g->npts; i++)
            OGR_G_AddGeometryDirectly(out, path(d, wkbPoint, i, 1));
        return out;
    }
    if (g->type == MSH_GT_LINE) {
        if (g->nparts == 1)
            return path(d, wkbLineString, 0, MSH_PART_LEN(g->parts[0]));
        out = OGR_G_CreateGeometry(wkbMultiLineString);
        uint32_t off = 0;
        for (uint32_t p = 0; out && p < g->nparts; p++) {
            OGR_G_AddGeometryDirectly(out, path(d, wkbLineString, off, MSH_PART_LEN(g->parts[p])));
            off += MSH_PART_LEN(g->parts[p]);
        }
        return out;
    }
    if (g->type != MSH_GT_POLYGON)
        return NULL;
    uint32_t outers = 0;
    for (uint32_t p = 0; p < g->nparts; p++)
        outers += (g->parts[p] & MSH_RING_OUTER) != 0;
    out = outers > 1 ? OGR_G_CreateGeometry(wkbMultiPolygon) : NULL;
    OGRGeometryH poly = NULL;
    uint32_t off = 0;
    for (uint32_t p = 0; p < g->nparts; p++) {
        uint32_t n = MSH_PART_LEN(g->parts[p]);
        if ((g->parts[p] & MSH_RING_OUTER) || p == 0) {
            if (poly && out)
                OGR_G_AddGeometryDirectly(out, poly);
            poly = OGR_G_CreateGeometry(wkbPolygon);
        }
        if (poly)
            OGR_G_AddGeometryDirectly(poly, path(d, wkbLinearRing, off, n));
        off += n;
    }
    if (!out)
        return poly;
    if (poly)
        OGR_G_AddGeometryDirectly(out, poly);
    return out;
}

msh_rc msh_dl_add(msh_dl *d, const msh_feature *f, msh_err *err)
{
    msh_rc rc = MSH_OK;
    d->bytes += 16 * (uint64_t)f->geom.npts + 16;
    OGRFeatureH of = OGR_F_Create(OGR_L_GetLayerDefn(d->lyr));
    if (!of)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    CPLPushErrorHandler(CPLQuietErrorHandler);
    if (d->id_field < 0)
        OGR_F_SetFID(of, (GIntBig)f->id);
    else
        OGR_F_SetFieldInteger64(of, d->id_field, (GIntBig)f->id);
    for (uint32_t i = 0; f->values && i < d->li->nfields; i++) {
        const msh_value *v = &f->values[i];
        int fi = d->field0 + (int)i;
        switch (v->type) {
        case MSH_FT_INT:
        case MSH_FT_BOOL:
            OGR_F_SetFieldInteger64(of, fi, v->u.i);
            break;
        case MSH_FT_REAL:
            OGR_F_SetFieldDouble(of, fi, v->u.d);
            break;
        case MSH_FT_STRING:
            if (d->fmt == MSH_DL_SHP && v->len > SHP_TEXT_MAX) { /* GDAL would cut it short without a word */
                rc = msh_err_set(err, MSH_EINVAL,
                                 "f=shp: property '%s' of feature %llu holds %u bytes, more than the %d a shapefile "
                                 "field can; ask for f=gpkg, f=csv or f=kml, which keep it whole",
                                 d->li->fields[i].name, (unsigned long long)f->id, v->len, SHP_TEXT_MAX);
                goto out;
            }
            if (v->len + 1 > d->str_cap) {
                char *ns = realloc(d->str, v->len + 1);
                if (!ns) {
                    rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
                    goto out;
                }
                d->str = ns;
                d->str_cap = v->len + 1;
            }
            memcpy(d->str, v->u.s, v->len);
            d->str[v->len] = 0;
            OGR_F_SetFieldString(of, fi, d->str);
            d->bytes += v->len;
            break;
        default:
            OGR_F_SetFieldNull(of, fi);
        }
        d->bytes += 8;
    }
    if (d->bytes > d->max_bytes) {
        rc = msh_err_set(err, MSH_ETOOBIG, "the download is larger than %llu MiB: ask for a smaller limit or bbox",
                         (unsigned long long)(d->max_bytes >> 20));
        goto out;
    }
    msh_err gerr = {0};
    OGRGeometryH g = geometry(d, &f->geom, &gerr);
    if (gerr.code) {
        rc = msh_err_set(err, gerr.code, "%s", gerr.msg);
        goto out;
    }
    if (g)
        OGR_F_SetGeometryDirectly(of, g);
    if (OGR_L_CreateFeature(d->lyr, of) != OGRERR_NONE)
        rc = msh_err_set(err, MSH_EINVAL, "feature %llu cannot be written as %s (%s)", (unsigned long long)f->id,
                         FMT[d->fmt].driver, CPLGetLastErrorMsg());
out:
    CPLPopErrorHandler();
    OGR_F_Destroy(of);
    return rc;
}

msh_rc msh_dl_finish(msh_dl *d, int *fd, uint64_t *size, msh_err *err)
{
    *fd = -1;
    *size = 0;
    msh_rc rc = MSH_OK;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    if (OGR_L_CommitTransaction(d->lyr) != OGRERR_NONE)
        CPLErrorReset();
    d->lyr = NULL;
    CPLErrorReset();
    GDALClose(d->ds); /* writes the file out: the zip, the shrunk fields, the KML's end */
    d->ds = NULL;
    if (CPLGetLastErrorType() == CE_Failure || CPLGetLastErrorType() == CE_Fatal) {
        rc = msh_err_set(err, MSH_EIO, "GDAL could not finish the %s file (%s)", FMT[d->fmt].driver,
                         CPLGetLastErrorMsg());
        goto out;
    }
    int f = open(d->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (f < 0 || fstat(f, &st)) {
        rc = msh_err_set(err, MSH_EIO, "cannot read the finished download (%s)", strerror(errno));
        if (f >= 0)
            close(f);
        goto out;
    }
    *fd = f;
    *size = (uint64_t)st.st_size;
out:
    remove_dir(d); /* an open descriptor keeps the bytes; the name goes now */
    CPLPopErrorHandler();
    return rc;
}

void msh_dl_free(msh_dl *d)
{
    if (!d)
        return;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    if (d->ds)
        GDALClose(d->ds);
    CPLPopErrorHandler();
    remove_dir(d);
    if (d->srs)
        OSRDestroySpatialReference(d->srs);
    free(d->xy);
    free(d->str);
    free(d);
}
