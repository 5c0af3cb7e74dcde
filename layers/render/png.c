/* png.c: the PNG encoder (see png.h): convert and filter the rows into one buffer, deflate it
 * whole with libdeflate, wrap it in chunks. */
#include "png.h"

#include <libdeflate.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct msh_png_enc {
    struct libdeflate_compressor *z;
    int z_level;    /* level the compressor was made with; -1 before the first use */
    uint8_t *raw;   /* the filtered image: per row a filter byte and the row's bytes */
    size_t raw_cap;
    uint8_t *cur;   /* this row as RGB(A), unfiltered */
    uint8_t *prev;  /* the previous row, unfiltered (filter Up) */
    size_t row_cap; /* bytes allocated for each of cur and prev */
};

void msh_png_opts_init(msh_png_opts *o)
{
    o->layout = MSH_PNG_RGBA;
    o->filter = MSH_PNG_FILTER_SUB;
    o->level = 2;
}

msh_png_enc *msh_png_enc_new(void)
{
    msh_png_enc *e = calloc(1, sizeof *e);
    if (e) e->z_level = -1;
    return e;
}

void msh_png_enc_free(msh_png_enc *e)
{
    if (!e) return;
    if (e->z) libdeflate_free_compressor(e->z);
    free(e->raw);
    free(e->cur);
    free(e->prev);
    free(e);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Append a whole chunk: length, type, data, CRC over type and data. */
static msh_rc put_chunk(msh_buf *out, const char type[4], const uint8_t *data, uint32_t len)
{
    uint8_t hdr[8];
    put_be32(hdr, len);
    memcpy(hdr + 4, type, 4);
    uint32_t crc = libdeflate_crc32(0, hdr + 4, 4);
    if (len) crc = libdeflate_crc32(crc, data, len);
    uint8_t tail[4];
    put_be32(tail, crc);
    msh_rc rc = msh_buf_append(out, hdr, 8);
    if (!rc && len) rc = msh_buf_append(out, data, len);
    if (!rc) rc = msh_buf_append(out, tail, 4);
    return rc;
}

static msh_rc enc_prepare(msh_png_enc *e, size_t rowbytes, size_t rawbytes, int level, msh_err *err)
{
    if (e->row_cap < rowbytes) {
        uint8_t *c = realloc(e->cur, rowbytes), *p = NULL;
        if (c) e->cur = c;
        if (c) p = realloc(e->prev, rowbytes);
        if (!c || !p) return msh_err_set(err, MSH_ENOMEM, "png: out of memory");
        e->prev = p;
        e->row_cap = rowbytes;
    }
    if (e->raw_cap < rawbytes) {
        uint8_t *r = realloc(e->raw, rawbytes);
        if (!r) return msh_err_set(err, MSH_ENOMEM, "png: out of memory");
        e->raw = r;
        e->raw_cap = rawbytes;
    }
    if (e->z_level != level) {
        if (e->z) libdeflate_free_compressor(e->z);
        e->z_level = -1;
        if (!(e->z = libdeflate_alloc_compressor(level)))
            return msh_err_set(err, MSH_ENOMEM, "png: out of memory (deflate level %d)", level);
        e->z_level = level;
    }
    return MSH_OK;
}

/* True when every pixel is opaque: the image is then written as RGB (a quarter fewer bytes to
 * deflate and send, the same picture). */
static bool all_opaque(const uint8_t *px, uint32_t w, uint32_t h, size_t stride, msh_png_layout layout)
{
    for (uint32_t y = 0; y < h; y++) {
        const uint8_t *row = px + (size_t)y * stride;
        if (layout == MSH_PNG_CAIRO_ARGB32) {
            uint32_t acc = 0xffffffffu;
            for (uint32_t x = 0; x < w; x++) {
                uint32_t v;
                memcpy(&v, row + 4 * (size_t)x, 4);
                acc &= v;
            }
            if ((acc >> 24) != 255) return false;
        } else {
            uint8_t acc = 255;
            for (uint32_t x = 0; x < w; x++) acc &= row[4 * (size_t)x + 3];
            if (acc != 255) return false;
        }
    }
    return true;
}

/* One source row as straight RGB (bpp 3, only for opaque images) or RGBA (bpp 4) in e->cur. */
static void load_row(msh_png_enc *e, const uint8_t *src, uint32_t w, msh_png_layout layout, int bpp)
{
    uint8_t *d = e->cur;
    if (layout == MSH_PNG_RGBA) {
        if (bpp == 4) {
            memcpy(d, src, (size_t)w * 4);
            return;
        }
        for (uint32_t x = 0; x < w; x++, src += 4, d += 3) d[0] = src[0], d[1] = src[1], d[2] = src[2];
        return;
    }
    if (bpp == 3) { /* opaque: premultiplied equals straight */
        for (uint32_t x = 0; x < w; x++, src += 4, d += 3) {
            uint32_t v;
            memcpy(&v, src, 4); /* native-endian word, as Cairo stores it */
            d[0] = (uint8_t)(v >> 16), d[1] = (uint8_t)(v >> 8), d[2] = (uint8_t)v;
        }
        return;
    }
    for (uint32_t x = 0; x < w; x++, src += 4, d += 4) {
        uint32_t v;
        memcpy(&v, src, 4);
        uint32_t a = v >> 24, r = (v >> 16) & 255, g = (v >> 8) & 255, b = v & 255;
        if (a && a != 255) {
            r = (r * 255 + a / 2) / a;
            g = (g * 255 + a / 2) / a;
            b = (b * 255 + a / 2) / a;
        }
        d[0] = (uint8_t)(r > 255 ? 255 : r);
        d[1] = (uint8_t)(g > 255 ? 255 : g);
        d[2] = (uint8_t)(b > 255 ? 255 : b);
        d[3] = (uint8_t)a;
    }
}

/* Filter e->cur (n bytes, bpp per pixel) against e->prev into `out` (filter byte first). */
static void filter_row(const msh_png_enc *e, uint8_t *restrict out, size_t n, int bpp, msh_png_filter f, bool first)
{
    /* distinct buffers: restrict lets the compiler vectorise the loops */
    uint8_t *restrict o = out + 1;
    const uint8_t *restrict c = e->cur;
    const uint8_t *restrict p = e->prev;
    if (f == MSH_PNG_FILTER_UP && first) f = MSH_PNG_FILTER_NONE; /* Up against the zero row above the image is None */
    out[0] = (uint8_t)f;
    switch (f) {
    case MSH_PNG_FILTER_SUB:
        memcpy(o, c, n < (size_t)bpp ? n : (size_t)bpp);
        for (size_t i = (size_t)bpp; i < n; i++)
            o[i] = (uint8_t)(c[i] - c[i - bpp]);
        break;
    case MSH_PNG_FILTER_UP:
        for (size_t i = 0; i < n; i++)
            o[i] = (uint8_t)(c[i] - p[i]);
        break;
    default: memcpy(o, c, n); break;
    }
}

msh_rc msh_png_encode(msh_png_enc *enc, const uint8_t *pixels, uint32_t w, uint32_t h, size_t stride,
                      const msh_png_opts *o, msh_buf *out, msh_err *err)
{
    msh_png_opts def;
    if (!o) {
        msh_png_opts_init(&def);
        o = &def;
    }
    if (!w || !h || w > MSH_PNG_MAX_SIDE || h > MSH_PNG_MAX_SIDE)
        return msh_err_set(err, MSH_EINVAL, "png: size %ux%u outside 1..%d", w, h, MSH_PNG_MAX_SIDE);
    if (stride < (size_t)w * 4 || !pixels)
        return msh_err_set(err, MSH_EINVAL, "png: stride %zu shorter than a row (%zu bytes)", stride, (size_t)w * 4);
    int level = o->level < 0 ? 0 : o->level > 12 ? 12 : o->level;
    int bpp = all_opaque(pixels, w, h, stride, o->layout) ? 3 : 4;
    size_t rowbytes = (size_t)w * (size_t)bpp, rawbytes = (rowbytes + 1) * h;
    msh_png_enc *tmp = NULL;
    if (!enc && !(enc = tmp = msh_png_enc_new())) return msh_err_set(err, MSH_ENOMEM, "png: out of memory");
    size_t start = out->len;
    msh_rc rc = enc_prepare(enc, rowbytes, rawbytes, level, err);
    if (rc) goto out;

    for (uint32_t y = 0; y < h; y++) {
        load_row(enc, pixels + (size_t)y * stride, w, o->layout, bpp);
        filter_row(enc, enc->raw + (size_t)y * (rowbytes + 1), rowbytes, bpp, o->filter, y == 0);
        uint8_t *t = enc->prev;
        enc->prev = enc->cur;
        enc->cur = t;
    }

    static const uint8_t SIG[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t ihdr[13];
    put_be32(ihdr, w);
    put_be32(ihdr + 4, h);
    ihdr[8] = 8;                  /* bits per channel */
    ihdr[9] = bpp == 3 ? 2 : 6;   /* RGB or RGBA */
    ihdr[10] = 0;                 /* deflate */
    ihdr[11] = 0;                 /* adaptive filtering (per-row filter bytes) */
    ihdr[12] = 0;                 /* no interlace */
    rc = msh_buf_append(out, SIG, sizeof SIG);
    if (!rc) rc = put_chunk(out, "IHDR", ihdr, sizeof ihdr);
    if (rc) goto fail;

    /* IDAT: reserve the bound, compress straight into it, then write length and CRC */
    size_t bound = libdeflate_zlib_compress_bound(enc->z, rawbytes);
    if (bound > UINT32_MAX - 16) {
        rc = MSH_ETOOBIG;
        goto fail;
    }
    rc = msh_buf_reserve(out, 8 + bound + 4);
    if (rc) goto fail;
    size_t idat = out->len;
    size_t zlen = libdeflate_zlib_compress(enc->z, enc->raw, rawbytes, out->data + idat + 8, bound);
    if (!zlen) { /* cannot happen within the bound */
        rc = msh_err_set(err, MSH_EINTERNAL, "png: deflate did not fit its bound");
        goto fail;
    }
    put_be32(out->data + idat, (uint32_t)zlen);
    memcpy(out->data + idat + 4, "IDAT", 4);
    put_be32(out->data + idat + 8 + zlen, libdeflate_crc32(0, out->data + idat + 4, zlen + 4));
    out->len = idat + 8 + zlen + 4;
    rc = put_chunk(out, "IEND", NULL, 0);
    if (rc) goto fail;
    goto out;
fail:
    msh_buf_truncate(out, start);
    if (rc == MSH_ETOOBIG)
        msh_err_set(err, rc, "png: the image is larger than the output cap");
    else if (rc == MSH_ENOMEM)
        msh_err_set(err, rc, "png: out of memory");
out:
    msh_png_enc_free(tmp);
    return rc;
}
