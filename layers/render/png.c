/* png.c: the PNG encoder (see png.h): filter rows, stream them through deflate, wrap in chunks. */
#include "png.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct msh_png_enc {
    z_stream zs;
    int zs_level;   /* level and strategy the stream was made with (level | rle << 4); -1 before the first use */
    uint8_t *row;   /* the filtered row: filter byte + 4 w bytes */
    uint8_t *cur;   /* this row as RGBA (Cairo input is converted here) */
    uint8_t *prev;  /* the previous row as RGBA (filter Up) */
    size_t row_cap; /* bytes allocated for each of cur and prev */
};

void msh_png_opts_init(msh_png_opts *o)
{
    o->layout = MSH_PNG_RGBA;
    o->filter = MSH_PNG_FILTER_SUB;
    o->level = 2;
    o->rle = 0;
}

msh_png_enc *msh_png_enc_new(void)
{
    msh_png_enc *e = calloc(1, sizeof *e);
    if (e) e->zs_level = -1;
    return e;
}

void msh_png_enc_free(msh_png_enc *e)
{
    if (!e) return;
    if (e->zs_level >= 0) deflateEnd(&e->zs);
    free(e->row);
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
    uint32_t crc = (uint32_t)crc32(0, hdr + 4, 4);
    if (len) crc = (uint32_t)crc32(crc, data, len);
    uint8_t tail[4];
    put_be32(tail, crc);
    msh_rc rc = msh_buf_append(out, hdr, 8);
    if (!rc && len) rc = msh_buf_append(out, data, len);
    if (!rc) rc = msh_buf_append(out, tail, 4);
    return rc;
}

static msh_rc enc_prepare(msh_png_enc *e, size_t rowbytes, int level, int rle, msh_err *err)
{
    if (e->row_cap < rowbytes) {
        uint8_t *r = realloc(e->row, rowbytes + 1), *c = realloc(e->cur, rowbytes), *p = NULL;
        if (r) e->row = r;
        if (c) e->cur = c;
        if (r && c) p = realloc(e->prev, rowbytes);
        if (!r || !c || !p) return msh_err_set(err, MSH_ENOMEM, "png: out of memory");
        e->prev = p;
        e->row_cap = rowbytes;
    }
    int key = level | (rle ? 16 : 0);
    if (e->zs_level != key) {
        if (e->zs_level >= 0) deflateEnd(&e->zs);
        e->zs_level = -1;
        memset(&e->zs, 0, sizeof e->zs);
        if (deflateInit2(&e->zs, level, Z_DEFLATED, 15, 8, rle ? Z_RLE : Z_DEFAULT_STRATEGY) != Z_OK)
            return msh_err_set(err, MSH_ENOMEM, "png: deflateInit failed");
        e->zs_level = key;
    } else if (deflateReset(&e->zs) != Z_OK) {
        return msh_err_set(err, MSH_EINTERNAL, "png: deflateReset failed");
    }
    return MSH_OK;
}

/* One source row as straight RGBA in e->cur. */
static void load_row(msh_png_enc *e, const uint8_t *src, uint32_t w, msh_png_layout layout)
{
    if (layout == MSH_PNG_RGBA) {
        memcpy(e->cur, src, (size_t)w * 4);
        return;
    }
    const uint8_t *s = src;
    uint8_t *d = e->cur;
    for (uint32_t x = 0; x < w; x++, s += 4, d += 4) {
        uint32_t v;
        memcpy(&v, s, 4); /* native-endian word, as Cairo stores it */
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

static void filter_row(msh_png_enc *e, size_t n, msh_png_filter f, int first)
{
    /* three distinct buffers: restrict lets the compiler vectorise the loops */
    uint8_t *restrict o = e->row + 1;
    const uint8_t *restrict c = e->cur;
    const uint8_t *restrict p = e->prev;
    if (f == MSH_PNG_FILTER_UP && first) f = MSH_PNG_FILTER_NONE; /* Up against the zero row above the image is None */
    e->row[0] = (uint8_t)f;
    switch (f) {
    case MSH_PNG_FILTER_SUB:
        memcpy(o, c, n < 4 ? n : 4);
        for (size_t i = 4; i < n; i++)
            o[i] = (uint8_t)(c[i] - c[i - 4]);
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
    size_t rowbytes = (size_t)w * 4;
    if (stride < rowbytes || !pixels)
        return msh_err_set(err, MSH_EINVAL, "png: stride %zu shorter than a row (%zu bytes)", stride, rowbytes);
    int level = o->level < 0 ? 0 : o->level > 9 ? 9 : o->level;
    msh_png_enc *tmp = NULL;
    if (!enc && !(enc = tmp = msh_png_enc_new())) return msh_err_set(err, MSH_ENOMEM, "png: out of memory");
    size_t start = out->len;
    msh_rc rc = enc_prepare(enc, rowbytes, level, o->rle, err);
    if (rc) goto out;

    static const uint8_t SIG[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t ihdr[13];
    put_be32(ihdr, w);
    put_be32(ihdr + 4, h);
    ihdr[8] = 8;  /* bits per channel */
    ihdr[9] = 6;  /* RGBA */
    ihdr[10] = 0; /* deflate */
    ihdr[11] = 0; /* adaptive filtering (per-row filter bytes) */
    ihdr[12] = 0; /* no interlace */
    rc = msh_buf_append(out, SIG, sizeof SIG);
    if (!rc) rc = put_chunk(out, "IHDR", ihdr, sizeof ihdr);
    if (rc) goto fail;

    /* IDAT: reserve the bound, deflate the rows straight into it, then write length and CRC */
    uLong bound = deflateBound(&enc->zs, (uLong)((rowbytes + 1) * h));
    rc = msh_buf_reserve(out, 8 + (size_t)bound + 4);
    if (rc) goto fail;
    size_t idat = out->len;
    uint8_t *zdst = out->data + idat + 8;
    enc->zs.next_out = zdst;
    enc->zs.avail_out = (uInt)bound;
    int zr = Z_OK;
    for (uint32_t y = 0; y < h; y++) {
        load_row(enc, pixels + (size_t)y * stride, w, o->layout);
        filter_row(enc, rowbytes, o->filter, y == 0);
        enc->zs.next_in = enc->row;
        enc->zs.avail_in = (uInt)(rowbytes + 1);
        zr = deflate(&enc->zs, y + 1 == h ? Z_FINISH : Z_NO_FLUSH);
        if (zr == Z_STREAM_ERROR || enc->zs.avail_in) {
            rc = msh_err_set(err, MSH_EINTERNAL, "png: deflate failed");
            goto fail;
        }
        uint8_t *t = enc->prev;
        enc->prev = enc->cur;
        enc->cur = t;
    }
    if (zr != Z_STREAM_END) { /* cannot happen within deflateBound */
        rc = msh_err_set(err, MSH_EINTERNAL, "png: deflate did not finish");
        goto fail;
    }
    uint32_t zlen = (uint32_t)enc->zs.total_out;
    put_be32(out->data + idat, zlen);
    memcpy(out->data + idat + 4, "IDAT", 4);
    put_be32(out->data + idat + 8 + zlen, (uint32_t)crc32(0, out->data + idat + 4, zlen + 4));
    out->len = idat + 8 + zlen + 4;
    rc = put_chunk(out, "IEND", NULL, 0);
    if (rc) goto fail;
    goto out;
fail:
    out->len = start;
    if (rc == MSH_ETOOBIG)
        msh_err_set(err, rc, "png: the image is larger than the output cap");
    else if (rc == MSH_ENOMEM)
        msh_err_set(err, rc, "png: out of memory");
out:
    msh_png_enc_free(tmp);
    return rc;
}
