/* photo.c: JPEG and PNG photos checked by structure and by a full decode, and their thumbnails (photo.h). */
#include "photo.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

msh_photo_type msh_photo_ctype(const char *ctype)
{
    if (!ctype)
        return MSH_PHOTO_NONE;
    while (*ctype == ' ')
        ctype++;
    size_t n = strcspn(ctype, "; ");
    if (n == 10 && !strncasecmp(ctype, "image/jpeg", 10))
        return MSH_PHOTO_JPEG;
    if (n == 9 && !strncasecmp(ctype, "image/png", 9))
        return MSH_PHOTO_PNG;
    return MSH_PHOTO_NONE;
}

const char *msh_photo_mime(msh_photo_type t)
{
    return t == MSH_PHOTO_PNG ? "image/png" : "image/jpeg";
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- step 1: the structure ------------------------------------------------------------------- */

static msh_rc scan_jpeg(const uint8_t *d, size_t len, msh_photo_info *info, msh_err *err)
{
    if (len < 4 || d[0] != 0xFF || d[1] != 0xD8 || d[2] != 0xFF)
        return msh_err_set(err, MSH_EFORMAT, "not a JPEG: it does not start with the JPEG signature (FF D8 FF)");
    size_t p = 2;
    bool frame = false, scan = false;
    while (p < len) {
        if (d[p] != 0xFF)
            return msh_err_set(err, MSH_EFORMAT, "not a whole JPEG: byte %zu should start a marker", p);
        while (p < len && d[p] == 0xFF)
            p++; /* fill bytes */
        if (p >= len)
            break;
        uint8_t m = d[p++];
        if (m == 0xD9) { /* EOI */
            if (!frame || !scan)
                return msh_err_set(err, MSH_EFORMAT, "not a whole JPEG: it ends before any image data");
            if (p != len)
                return msh_err_set(err, MSH_EFORMAT, "%zu bytes follow the end of the JPEG image: a photo must be "
                                                     "the image alone", len - p);
            return MSH_OK;
        }
        if ((m >= 0xD0 && m <= 0xD7) || m == 0x01)
            continue; /* standalone markers */
        if (m == 0x00 || m == 0xD8)
            return msh_err_set(err, MSH_EFORMAT, "not a whole JPEG: marker %02X at byte %zu", m, p - 1);
        if (p + 2 > len)
            break;
        size_t seg = (size_t)d[p] << 8 | d[p + 1];
        if (seg < 2 || p + seg > len)
            break;
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) { /* a frame header */
            if (seg < 8)
                return msh_err_set(err, MSH_EFORMAT, "not a whole JPEG: a short frame header");
            info->height = d[p + 3] << 8 | d[p + 4];
            info->width = d[p + 5] << 8 | d[p + 6];
            info->bands = d[p + 7];
            frame = true;
        }
        p += seg;
        if (m == 0xDA) { /* a scan: entropy-coded data up to the next marker that is not a restart */
            if (!frame)
                return msh_err_set(err, MSH_EFORMAT, "not a whole JPEG: a scan before the frame header");
            scan = true;
            while (p < len && !(d[p] == 0xFF && p + 1 < len && d[p + 1] != 0x00 && !(d[p + 1] >= 0xD0 && d[p + 1] <= 0xD7)))
                p++;
            if (p + 1 >= len)
                break;
        }
    }
    return msh_err_set(err, MSH_EFORMAT, "not a whole JPEG: it stops before its end marker (truncated)");
}

static msh_rc scan_png(const uint8_t *d, size_t len, msh_photo_info *info, msh_err *err)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    if (len < 8 || memcmp(d, sig, 8))
        return msh_err_set(err, MSH_EFORMAT, "not a PNG: it does not start with the PNG signature");
    size_t p = 8;
    bool idat = false;
    for (int n = 0; p + 12 <= len; n++) {
        uint32_t clen = be32(d + p);
        const uint8_t *type = d + p + 4;
        if (clen > 0x7FFFFFFFu || clen > len - p - 12)
            break;
        for (int i = 0; i < 4; i++)
            if (!((type[i] >= 'A' && type[i] <= 'Z') || (type[i] >= 'a' && type[i] <= 'z')))
                return msh_err_set(err, MSH_EFORMAT, "not a whole PNG: a chunk type that is not letters at byte %zu",
                                   p + 4);
        if ((uLong)be32(d + p + 8 + clen) != crc32(crc32(0L, Z_NULL, 0), type, (uInt)(clen + 4)))
            return msh_err_set(err, MSH_EFORMAT, "not a whole PNG: chunk %.4s at byte %zu fails its CRC", type, p);
        if (n == 0) {
            if (memcmp(type, "IHDR", 4) || clen != 13)
                return msh_err_set(err, MSH_EFORMAT, "not a PNG: the first chunk is not its header (IHDR)");
            info->width = (int)(be32(d + p + 8) > 0x7FFFFFFF ? 0x7FFFFFFF : be32(d + p + 8));
            info->height = (int)(be32(d + p + 12) > 0x7FFFFFFF ? 0x7FFFFFFF : be32(d + p + 12));
            static const int bands_of[7] = {1, 0, 3, 1, 2, 0, 4};
            info->bands = d[p + 17] < 7 ? bands_of[d[p + 17]] : 0;
        }
        idat |= !memcmp(type, "IDAT", 4);
        p += 12 + clen;
        if (!memcmp(type, "IEND", 4)) {
            if (!idat)
                return msh_err_set(err, MSH_EFORMAT, "not a whole PNG: no image data (IDAT)");
            if (p != len)
                return msh_err_set(err, MSH_EFORMAT, "%zu bytes follow the end of the PNG image (IEND): a photo must "
                                                     "be the image alone", len - p);
            return MSH_OK;
        }
    }
    return msh_err_set(err, MSH_EFORMAT, "not a whole PNG: it stops before its end chunk (truncated)");
}

msh_rc msh_photo_scan(const uint8_t *data, size_t len, msh_photo_type want, msh_photo_info *info, msh_err *err)
{
    memset(info, 0, sizeof *info);
    msh_rc rc = want == MSH_PHOTO_PNG ? scan_png(data, len, info, err) : scan_jpeg(data, len, info, err);
    if (rc)
        return rc;
    if (info->width < 1 || info->height < 1 || info->bands < 1)
        return msh_err_set(err, MSH_EFORMAT, "the image header gives no size or no bands");
    if ((uint64_t)info->width * (uint64_t)info->height > MSH_PHOTO_MAX_PIXELS)
        return msh_err_set(err, MSH_ETOOBIG, "the image is %d x %d pixels: at most %u pixels in all", info->width,
                           info->height, MSH_PHOTO_MAX_PIXELS);
    return MSH_OK;
}

/* ---- step 2: the decode, and the thumbnail --------------------------------------------------- */

typedef struct {
    int problems;
    char first[200];
} gdal_log;

static void CPL_STDCALL on_gdal_error(CPLErr cls, CPLErrorNum no, const char *msg)
{
    (void)no;
    gdal_log *g = CPLGetErrorHandlerUserData();
    if (!g || cls < CE_Warning)
        return;
    if (!g->problems++)
        snprintf(g->first, sizeof g->first, "%s", msg ? msg : "");
}

static pthread_once_t reg_once = PTHREAD_ONCE_INIT;
static void reg(void)
{
    GDALAllRegister(); /* idempotent; the importer's own call may have come first */
}

static atomic_ulong vsi_seq;

/* Every row of every band, read in turn (memory: one row). */
static msh_rc decode_all(GDALDatasetH ds, int w, int h, int bands, msh_err *err)
{
    uint8_t *row = malloc((size_t)w * (size_t)bands);
    if (!row)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    msh_rc rc = MSH_OK;
    for (int y = 0; y < h && !rc; y++)
        if (GDALDatasetRasterIO(ds, GF_Read, 0, y, w, 1, row, w, 1, GDT_Byte, bands, NULL, bands, (GSpacing)w * bands,
                                1) != CE_None)
            rc = msh_err_set(err, MSH_EFORMAT, "the image does not decode (row %d)", y);
    free(row);
    return rc;
}

/* The thumbnail: averaged down to tw x th, written by GDAL as JPEG or PNG into *out. */
static msh_rc make_thumb(GDALDatasetH ds, int w, int h, int bands, uint8_t **out, size_t *out_len,
                         msh_photo_type *type, msh_err *err)
{
    int side = w > h ? w : h, tw = w, th = h;
    if (side > MSH_PHOTO_THUMB_SIDE) {
        tw = (int)((long)w * MSH_PHOTO_THUMB_SIDE / side);
        th = (int)((long)h * MSH_PHOTO_THUMB_SIDE / side);
        tw = tw < 1 ? 1 : tw;
        th = th < 1 ? 1 : th;
    }
    uint8_t *px = malloc((size_t)tw * th * bands);
    if (!px)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    GDALRasterIOExtraArg extra;
    INIT_RASTERIO_EXTRA_ARG(extra);
    extra.eResampleAlg = GRIORA_Average;
    msh_rc rc = MSH_OK;
    GDALDatasetH mem = NULL, copy = NULL;
    char name[64];
    snprintf(name, sizeof name, "/vsimem/msh_thumb_%lu", (unsigned long)atomic_fetch_add(&vsi_seq, 1));
    if (GDALDatasetRasterIOEx(ds, GF_Read, 0, 0, w, h, px, tw, th, GDT_Byte, bands, NULL, bands, (GSpacing)tw * bands, 1,
                              &extra) != CE_None) {
        rc = msh_err_set(err, MSH_EFORMAT, "the image does not decode (thumbnail)");
        goto out;
    }
    GDALDriverH memdrv = GDALGetDriverByName("MEM");
    mem = memdrv ? GDALCreate(memdrv, "", tw, th, bands, GDT_Byte, NULL) : NULL;
    if (!mem || GDALDatasetRasterIO(mem, GF_Write, 0, 0, tw, th, px, tw, th, GDT_Byte, bands, NULL, bands,
                                    (GSpacing)tw * bands, 1) != CE_None) {
        rc = msh_err_set(err, MSH_EIO, "making the thumbnail failed");
        goto out;
    }
    *type = bands == 1 || bands == 3 ? MSH_PHOTO_JPEG : MSH_PHOTO_PNG;
    char *opts[] = {(char *)"QUALITY=80", NULL};
    GDALDriverH drv = GDALGetDriverByName(*type == MSH_PHOTO_JPEG ? "JPEG" : "PNG");
    copy = drv ? GDALCreateCopy(drv, name, mem, FALSE, *type == MSH_PHOTO_JPEG ? opts : NULL, NULL, NULL) : NULL;
    if (!copy) {
        rc = msh_err_set(err, MSH_EIO, "writing the thumbnail failed");
        goto out;
    }
    GDALClose(copy);
    copy = NULL;
    vsi_l_offset n = 0;
    GByte *bytes = VSIGetMemFileBuffer(name, &n, FALSE);
    if (!bytes || !n || !(*out = malloc((size_t)n))) {
        rc = msh_err_set(err, bytes ? MSH_ENOMEM : MSH_EIO, "reading the thumbnail back failed");
        goto out;
    }
    memcpy(*out, bytes, (size_t)n);
    *out_len = (size_t)n;
out:
    if (copy)
        GDALClose(copy);
    if (mem)
        GDALClose(mem);
    VSIUnlink(name);
    char aux[80];
    snprintf(aux, sizeof aux, "%s.aux.xml", name);
    VSIUnlink(aux);
    free(px);
    return rc;
}

msh_rc msh_photo_read(const uint8_t *data, size_t len, msh_photo_type want, msh_photo_info *info, uint8_t **thumb,
                      size_t *thumb_len, msh_photo_type *thumb_type, msh_err *err)
{
    *thumb = NULL;
    *thumb_len = 0;
    msh_rc rc = msh_photo_scan(data, len, want, info, err);
    if (rc)
        return rc;
    pthread_once(&reg_once, reg);
    char name[64];
    snprintf(name, sizeof name, "/vsimem/msh_photo_%lu", (unsigned long)atomic_fetch_add(&vsi_seq, 1));
    VSILFILE *f = VSIFileFromMemBuffer(name, (GByte *)data, (vsi_l_offset)len, FALSE);
    if (!f)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    VSIFCloseL(f);
    gdal_log log = {0, ""};
    CPLPushErrorHandlerEx(on_gdal_error, &log);
    const char *only[] = {want == MSH_PHOTO_PNG ? "PNG" : "JPEG", NULL};
    GDALDatasetH ds = GDALOpenEx(name, GDAL_OF_RASTER | GDAL_OF_READONLY, only, NULL, NULL);
    if (!ds) {
        rc = msh_err_set(err, MSH_EFORMAT, "the image does not decode as %s", msh_photo_mime(want));
    } else {
        int w = GDALGetRasterXSize(ds), h = GDALGetRasterYSize(ds), bands = GDALGetRasterCount(ds);
        if (w != info->width || h != info->height || bands < 1 || bands > 4)
            rc = msh_err_set(err, MSH_EFORMAT, "the image decodes to %d x %d pixels in %d bands, not what its header "
                                               "says", w, h, bands);
        if (!rc)
            rc = decode_all(ds, w, h, bands, err);
        if (!rc && log.problems)
            rc = msh_err_set(err, MSH_EFORMAT, "the image does not decode cleanly: %s", log.first);
        if (!rc)
            rc = make_thumb(ds, w, h, bands, thumb, thumb_len, thumb_type, err);
        if (!rc && log.problems)
            rc = msh_err_set(err, MSH_EFORMAT, "the image does not decode cleanly: %s", log.first);
        info->bands = bands;
        GDALClose(ds);
    }
    CPLPopErrorHandler();
    VSIUnlink(name);
    char aux[80];
    snprintf(aux, sizeof aux, "%s.aux.xml", name);
    VSIUnlink(aux);
    if (rc) {
        free(*thumb);
        *thumb = NULL;
        *thumb_len = 0;
    }
    return rc;
}
