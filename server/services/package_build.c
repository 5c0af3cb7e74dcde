/* package_build.c: one offline package for MapLibre (see package_build.h for what it holds).
 *
 * The order: read the style and keep its stored sources; export each source's archive; scan the
 * labels' text for the glyph ranges and write them; draw the sprites; copy the RTL plugin; write
 * style.json; hash everything into manifest.json; sync and swap the folder into place. Every file
 * goes through put_file or add_file, which records its size and SHA-256 for the manifest.
 */
#define _GNU_SOURCE /* renameat2, nftw */
#include "services/package_build.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/msh_buf.h"
#include "core/msh_tilemath.h"
#include "core/msh_time.h"
#include "export.h"
#include "layer.h"
#include "pmtiles.h"
#include "services/package_glyphs.h"
#include "sprites.h"

#define MAX_SOURCES 16
#define MAX_SOURCE_LAYERS 32
#define MAX_STACKS 16
#define MAX_FILES 4096
#define MAX_STYLE_BYTES ((size_t)8 << 20)
#define MAX_FILE_BYTES ((size_t)64 << 20) /* a file read whole (style, plugin) */
/* MapLibre's own default when a symbol layer names no text-font */
static const char *const DEFAULT_STACK[] = {"Open Sans Regular", "Arial Unicode MS Regular"};

typedef struct pkg_source {
    const char *key; /* the style's source id */
    msh_layer *layers[MAX_SOURCE_LAYERS];
    size_t n;
    char list[MAX_SOURCE_LAYERS * 64]; /* "a,b,c" as in the /tiles URL */
} pkg_source;

typedef struct pkg_stack {
    char joined[MSH_GLYPH_MAX_STACK * 130]; /* the fontstack as MapLibre names it: names joined by ',' */
    const char *names[MSH_GLYPH_MAX_STACK];
    size_t n;
    msh_glyph_use use;   /* the ranges its labels use */
} pkg_stack;

typedef struct pkg_file {
    char *path; /* relative to the package */
    uint64_t bytes;
    char sha256[65];
} pkg_file;

typedef struct pkg {
    const msh_package_spec *spec;
    const msh_package_opts *opts;
    msh_catalog *cat;
    const msh_glyphs *g;
    char tmp[4096];
    pkg_source src[MAX_SOURCES];
    size_t nsrc;
    pkg_stack stacks[MAX_STACKS];
    size_t nstacks;
    pkg_file files[MAX_FILES];
    size_t nfiles;
    uint64_t tiles_base, tiles_total;
    msh_package_result *res;
} pkg;

bool msh_package_build_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (!n || n > MSH_PACKAGE_NAME_MAX)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
            return false;
    return true;
}

uint64_t msh_package_build_tiles(const msh_package_spec *spec)
{
    return msh_export_count(spec->bbox, spec->minzoom, spec->maxzoom);
}

static void hex(const uint8_t *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void rm_tree(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Make the folders of relative path `rel` under the package (not its last part). */
static msh_rc make_parents(pkg *p, const char *rel, msh_err *err)
{
    char path[8192];
    int n = snprintf(path, sizeof path, "%s/%s", p->tmp, rel);
    if (n < 0 || (size_t)n >= sizeof path)
        return msh_err_set(err, MSH_EINVAL, "path too long: %s", rel);
    for (char *s = path + strlen(p->tmp) + 1; (s = strchr(s, '/')); s++) {
        *s = 0;
        if (mkdir(path, 0755) && errno != EEXIST)
            return msh_err_set(err, MSH_EIO, "cannot make %s: %s", path, strerror(errno));
        *s = '/';
    }
    return MSH_OK;
}

/* Record a file already in the package (its size and SHA-256, read back). */
static msh_rc add_file(pkg *p, const char *rel, msh_err *err)
{
    if (p->nfiles == MAX_FILES)
        return msh_err_set(err, MSH_ETOOBIG, "more than %d files in one package", MAX_FILES);
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", p->tmp, rel);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return msh_err_set(err, MSH_EIO, "cannot read %s back: %s", rel, strerror(errno));
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    msh_rc rc = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) ? MSH_OK : msh_err_set(err, MSH_ENOMEM, "sha256");
    uint64_t bytes = 0;
    static _Thread_local uint8_t chunk[1 << 16];
    ssize_t got;
    while (!rc && (got = read(fd, chunk, sizeof chunk)) > 0) {
        EVP_DigestUpdate(md, chunk, (size_t)got);
        bytes += (uint64_t)got;
    }
    if (!rc && got < 0)
        rc = msh_err_set(err, MSH_EIO, "reading %s back: %s", rel, strerror(errno));
    uint8_t d[32];
    unsigned dl = 0;
    if (!rc && !EVP_DigestFinal_ex(md, d, &dl))
        rc = msh_err_set(err, MSH_EINTERNAL, "sha256");
    EVP_MD_CTX_free(md);
    close(fd);
    if (rc)
        return rc;
    pkg_file *f = &p->files[p->nfiles];
    if (!(f->path = strdup(rel)))
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    f->bytes = bytes;
    hex(d, 32, f->sha256);
    p->nfiles++;
    p->res->bytes += bytes;
    return MSH_OK;
}

/* Write `len` bytes as the package's file `rel` (synced), and record it unless it is the manifest. */
static msh_rc put_file(pkg *p, const char *rel, const void *data, size_t len, bool record, msh_err *err)
{
    msh_rc rc = make_parents(p, rel, err);
    if (rc)
        return rc;
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", p->tmp, rel);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return msh_err_set(err, MSH_EIO, "cannot create %s: %s", rel, strerror(errno));
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, (const uint8_t *)data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = msh_err_set(err, MSH_EIO, "writing %s: %s", rel, strerror(errno));
            break;
        }
        off += (size_t)w;
    }
    if (!rc && fsync(fd))
        rc = msh_err_set(err, MSH_EIO, "syncing %s: %s", rel, strerror(errno));
    close(fd);
    return rc || !record ? rc : add_file(p, rel, err);
}

static msh_rc read_whole(const char *path, msh_buf *b, msh_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return msh_err_set(err, MSH_ENOTFOUND, "cannot read %s: %s", path, strerror(errno));
    char chunk[16384];
    size_t got;
    msh_rc rc = MSH_OK;
    while (!rc && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = msh_buf_append(b, chunk, got);
    fclose(f);
    return rc ? msh_err_set(err, rc, "%s is larger than %zu bytes", path, b->limit) : MSH_OK;
}

/* ---- the style's sources ---- */

/* A source of ours: {"type":"vector","url":"/tiles/a,b.json"} whose layers are all stored and
 * public. Fills s and returns true; false for any other source. */
static bool stored_source(pkg *p, const char *key, json_t *src, pkg_source *s)
{
    const char *type = json_string_value(json_object_get(src, "type"));
    const char *url = json_string_value(json_object_get(src, "url"));
    size_t n = url ? strlen(url) : 0;
    if (!type || strcmp(type, "vector") || n < 13 || strncmp(url, "/tiles/", 7) || strcmp(url + n - 5, ".json") ||
        !msh_package_build_name_ok(key))
        return false;
    s->key = key;
    s->n = 0;
    snprintf(s->list, sizeof s->list, "%.*s", (int)(n - 12), url + 7);
    for (const char *q = s->list; *q;) {
        size_t len = strcspn(q, ",");
        msh_layer *l = len ? msh_catalog_find(p->cat, q, len) : NULL;
        if (!l || s->n == MAX_SOURCE_LAYERS || l->info.access || msh_layer_name_live(l->info.name))
            return false;
        s->layers[s->n++] = l;
        q += len + (q[len] == ',');
    }
    return s->n > 0;
}

/* Keep the stored sources (pointed at their archives), drop the others and the layers drawing them. */
static msh_rc keep_sources(pkg *p, json_t *style, json_t *omitted, msh_err *err)
{
    json_t *sources = json_object_get(style, "sources");
    if (!json_is_object(sources))
        return msh_err_set(err, MSH_EFORMAT, "the style has no \"sources\" object");
    const char *key;
    json_t *src, *tmp;
    json_object_foreach_safe(sources, tmp, key, src)
    {
        if (p->nsrc < MAX_SOURCES && stored_source(p, key, src, &p->src[p->nsrc])) {
            char url[128];
            snprintf(url, sizeof url, "pmtiles://%s.pmtiles", key);
            json_object_set_new(src, "url", json_string(url));
            p->nsrc++;
        } else {
            json_array_append_new(omitted, json_string(key));
            json_object_del(sources, key);
        }
    }
    if (!p->nsrc)
        return msh_err_set(err, MSH_EINVAL, "the style has no vector source whose layers are all in the store");
    json_t *layers = json_object_get(style, "layers");
    for (size_t i = json_array_size(layers); i-- > 0;) {
        const char *s = json_string_value(json_object_get(json_array_get(layers, i), "source"));
        if (s && !json_object_get(sources, s))
            json_array_remove(layers, i);
    }
    return MSH_OK;
}

static void on_tiles(void *ud, uint64_t done, uint64_t total)
{
    (void)total;
    pkg *p = ud;
    if (p->opts->progress)
        p->opts->progress(p->opts->ud, p->tiles_base + done, p->tiles_total);
}

static msh_rc export_sources(pkg *p, msh_err *err)
{
    const msh_package_spec *sp = p->spec;
    p->tiles_total = msh_package_build_tiles(sp) * p->nsrc;
    for (size_t i = 0; i < p->nsrc; i++) {
        pkg_source *s = &p->src[i];
        msh_export_opts o = {s->layers, s->n, {sp->bbox[0], sp->bbox[1], sp->bbox[2], sp->bbox[3]}, sp->minzoom,
                             sp->maxzoom, p->opts->threads, (size_t)32 << 20, on_tiles, p, p->opts->stop, NULL};
        char rel[128], path[8192];
        snprintf(rel, sizeof rel, "%s.pmtiles", s->key);
        snprintf(path, sizeof path, "%s/%s", p->tmp, rel);
        msh_export_summary sum;
        uint64_t size;
        msh_rc rc = msh_pmtiles_export(path, &o, s->list, &sum, &size, err);
        if (!rc)
            rc = add_file(p, rel, err);
        if (rc)
            return rc;
        p->res->tiles += sum.written;
        p->tiles_base += msh_package_build_tiles(sp);
    }
    p->res->sources = p->nsrc;
    return MSH_OK;
}

/* ---- glyph ranges ---- */

static pkg_stack *stack_of(pkg *p, json_t *font, msh_err *err)
{
    if (json_is_array(font) && json_is_string(json_array_get(font, 0)) && !strcmp(json_string_value(json_array_get(font, 0)), "literal"))
        font = json_array_get(font, 1);
    const char *names[MSH_GLYPH_MAX_STACK];
    size_t n = 0;
    if (!json_is_array(font)) {
        names[n++] = DEFAULT_STACK[0], names[n++] = DEFAULT_STACK[1];
    } else {
        size_t i;
        json_t *e;
        json_array_foreach(font, i, e)
        {
            const char *s = json_string_value(e);
            if (!s || n == MSH_GLYPH_MAX_STACK || !*s || *s == '.' || strchr(s, '/') || strchr(s, ',') || strlen(s) > 128) {
                msh_err_set(err, MSH_EFORMAT, "text-font must be a list of up to %d font names", MSH_GLYPH_MAX_STACK);
                return NULL;
            }
            names[n++] = s;
        }
    }
    char joined[sizeof p->stacks[0].joined];
    size_t jl = 0;
    joined[0] = 0;
    for (size_t i = 0; i < n; i++)
        jl += (size_t)snprintf(joined + jl, sizeof joined - jl, "%s%s", i ? "," : "", names[i]);
    for (size_t i = 0; i < p->nstacks; i++)
        if (!strcmp(p->stacks[i].joined, joined))
            return &p->stacks[i];
    if (p->nstacks == MAX_STACKS) {
        msh_err_set(err, MSH_ETOOBIG, "more than %d fontstacks", MAX_STACKS);
        return NULL;
    }
    pkg_stack *st = &p->stacks[p->nstacks++];
    memset(st, 0, sizeof *st);
    memcpy(st->joined, joined, jl + 1);
    st->n = n;
    for (size_t i = 0, off = 0; i < n; i++) { /* names point into joined */
        st->names[i] = st->joined + off;
        off += strlen(names[i]) + 1;
    }
    return st;
}

typedef struct scan {
    pkg_stack *st;
    uint32_t idx[16];
    size_t n;
} scan;

static int on_label_feature(void *ud, const msh_feature *f)
{
    scan *sc = ud;
    for (size_t i = 0; i < sc->n; i++) {
        const msh_value *v = &f->values[sc->idx[i]];
        if (v->type == MSH_FT_STRING)
            msh_glyph_use_text(&sc->st->use, v->u.s, v->len);
        else if (v->type)
            sc->st->use.ranges[0] = 1; /* digits, '-', '.', "true": all below U+0100 */
    }
    return 0;
}

static msh_layer *source_layer(pkg *p, const char *source, const char *name)
{
    for (size_t i = 0; i < p->nsrc; i++)
        if (source && name && !strcmp(p->src[i].key, source))
            for (size_t k = 0; k < p->src[i].n; k++)
                if (!strcmp(p->src[i].layers[k]->info.name, name))
                    return p->src[i].layers[k];
    return NULL;
}

static msh_rc scan_labels(pkg *p, json_t *style, msh_err *err)
{
    double box[4];
    msh_lonlat_to_world(p->spec->bbox[0], p->spec->bbox[3], &box[0], &box[1]);
    msh_lonlat_to_world(p->spec->bbox[2], p->spec->bbox[1], &box[2], &box[3]);
    size_t i;
    json_t *ly;
    json_array_foreach(json_object_get(style, "layers"), i, ly)
    {
        json_t *layout = json_object_get(ly, "layout");
        json_t *tf = json_object_get(layout, "text-field");
        const char *type = json_string_value(json_object_get(ly, "type"));
        if (!tf || !type || strcmp(type, "symbol"))
            continue;
        pkg_stack *st = stack_of(p, json_object_get(layout, "text-font"), err);
        if (!st)
            return err->code;
        char fields[16][MSH_GLYPH_FIELD_MAX];
        size_t nf = msh_glyph_use_expr(&st->use, tf, fields, 16);
        st->use.ranges[0] = 1; /* spaces, digits and punctuation of any label */
        msh_layer *l = source_layer(p, json_string_value(json_object_get(ly, "source")),
                                    json_string_value(json_object_get(ly, "source-layer")));
        if (!l || !nf)
            continue;
        scan sc = {st, {0}, 0};
        for (size_t k = 0; k < nf; k++)
            for (uint32_t j = 0; j < l->info.nfields; j++)
                if (!strcmp(l->info.fields[j].name, fields[k]) && sc.n < 16)
                    sc.idx[sc.n++] = j;
        msh_rc rc = sc.n ? l->vt->query(l, box, p->spec->maxzoom, on_label_feature, &sc) : MSH_OK;
        if (rc)
            return msh_err_set(err, rc, "reading the labels of layer %s", l->info.name);
    }
    return MSH_OK;
}

static msh_rc write_glyphs(pkg *p, msh_err *err)
{
    for (size_t i = 0; i < p->nstacks; i++) {
        pkg_stack *st = &p->stacks[i];
        for (unsigned r = 0; r < 256; r++) {
            if (!st->use.ranges[r])
                continue;
            if (!p->g)
                return msh_err_set(err, MSH_EINTERNAL, "the labels need glyphs and no font could be listed (fontconfig)");
            char names[MSH_GLYPH_MAX_STACK][130];
            const char *np[MSH_GLYPH_MAX_STACK];
            for (size_t k = 0; k < st->n; k++) {
                size_t len = strcspn(st->names[k], ",");
                snprintf(names[k], sizeof names[k], "%.*s", (int)len, st->names[k]);
                np[k] = names[k];
            }
            msh_buf b;
            msh_buf_init(&b, (size_t)16 << 20);
            msh_rc rc = msh_glyphs_range(p->g, np, st->n, r * 256, &b, err);
            char rel[sizeof st->joined + 64];
            snprintf(rel, sizeof rel, "fonts/%s/%u-%u.pbf", st->joined, r * 256, r * 256 + 255);
            if (!rc)
                rc = put_file(p, rel, b.data, b.len, true, err);
            msh_buf_free(&b);
            if (rc)
                return rc;
            p->res->glyph_ranges++;
        }
    }
    return MSH_OK;
}

/* ---- sprites, plugin, style, manifest ---- */

static msh_rc write_sprites(pkg *p, json_t *style, msh_err *err)
{
    const char *url = json_string_value(json_object_get(style, "sprite"));
    if (!url)
        return MSH_OK;
    const char *name = strrchr(url, '/') ? strrchr(url, '/') + 1 : url;
    if (strncmp(url, "/sprites/", 9) || !msh_package_build_name_ok(name)) {
        json_object_del(style, "sprite"); /* not the server's: it would need the network */
        return MSH_OK;
    }
    char base[128];
    snprintf(base, sizeof base, "sprites/%s", name);
    for (int ratio = 1; ratio <= 2; ratio++) {
        msh_sprite_sheet sh;
        msh_rc rc = msh_sprites_render(ratio, &sh, err);
        if (rc)
            return rc;
        char rel[192];
        snprintf(rel, sizeof rel, "%s%s.json", base, ratio == 2 ? "@2x" : "");
        rc = put_file(p, rel, sh.json, sh.json_len, true, err);
        snprintf(rel, sizeof rel, "%s%s.png", base, ratio == 2 ? "@2x" : "");
        if (!rc)
            rc = put_file(p, rel, sh.png, sh.png_len, true, err);
        msh_sprite_sheet_free(&sh);
        if (rc)
            return rc;
    }
    json_object_set_new(style, "sprite", json_string(base));
    return MSH_OK;
}

static msh_rc copy_plugin(pkg *p, msh_err *err)
{
    for (size_t i = 0; i < p->nstacks; i++)
        p->res->rtl |= p->stacks[i].use.rtl;
    if (!p->res->rtl)
        return MSH_OK;
    msh_buf b;
    msh_buf_init(&b, MAX_FILE_BYTES);
    msh_err e2 = {0};
    msh_rc rc = p->spec->rtl_plugin ? read_whole(p->spec->rtl_plugin, &b, &e2) : MSH_ENOTFOUND;
    if (rc)
        p->res->rtl_missing = true; /* the package still draws, with Arabic letters unjoined */
    else
        rc = put_file(p, MSH_PACKAGE_RTL_FILE, b.data, b.len, true, err);
    msh_buf_free(&b);
    return p->res->rtl_missing ? MSH_OK : rc;
}

static int cmp_layer(const void *a, const void *b)
{
    return strcmp((*(msh_layer *const *)a)->info.name, (*(msh_layer *const *)b)->info.name);
}

/* The etag (package_build.h) and the manifest's "layers" object. */
static msh_rc make_etag(pkg *p, const uint8_t *style, size_t style_len, json_t *versions, msh_err *err)
{
    msh_layer *all[MAX_SOURCES * MAX_SOURCE_LAYERS];
    size_t n = 0;
    for (size_t i = 0; i < p->nsrc; i++)
        for (size_t k = 0; k < p->src[i].n; k++)
            all[n++] = p->src[i].layers[k];
    qsort(all, n, sizeof *all, cmp_layer);
    msh_buf b;
    msh_buf_init(&b, (size_t)1 << 20);
    uint8_t sd[32];
    unsigned dl;
    EVP_Digest(style, style_len, sd, &dl, EVP_sha256(), NULL);
    char sh[65];
    hex(sd, 32, sh);
    msh_buf_printf(&b, "mashaer-package %d\nstyle %s %s\nbbox %.7f,%.7f,%.7f,%.7f\nzoom %d-%d\n", MSH_PACKAGE_FORMAT,
                   p->spec->style, sh, p->spec->bbox[0], p->spec->bbox[1], p->spec->bbox[2], p->spec->bbox[3],
                   p->spec->minzoom, p->spec->maxzoom);
    for (size_t i = 0; i < n; i++) {
        if (i && all[i] == all[i - 1])
            continue;
        msh_buf_printf(&b, "layer %s %llu\n", all[i]->info.name, (unsigned long long)all[i]->info.version);
        json_object_set_new(versions, all[i]->info.name, json_integer((json_int_t)all[i]->info.version));
    }
    msh_rc rc = msh_buf_error(&b) ? msh_err_set(err, MSH_ENOMEM, "etag") : MSH_OK;
    if (!rc) {
        EVP_Digest(b.data, b.len, sd, &dl, EVP_sha256(), NULL);
        memcpy(p->res->etag, "pkg-", 4);
        hex(sd, 16, p->res->etag + 4);
    }
    msh_buf_free(&b);
    return rc;
}

static msh_rc write_manifest(pkg *p, json_t *omitted, json_t *versions, msh_err *err)
{
    char when[MSH_TIME_ISO_CAP];
    msh_time_format_iso(msh_now_ms(), when, sizeof when, 0);
    const msh_package_spec *sp = p->spec;
    json_t *m = json_object(), *files = json_array(), *sources = json_object();
    for (size_t i = 0; i < p->nfiles; i++)
        json_array_append_new(files, json_pack("{s:s,s:I,s:s}", "path", p->files[i].path, "bytes",
                                               (json_int_t)p->files[i].bytes, "sha256", p->files[i].sha256));
    for (size_t i = 0; i < p->nsrc; i++) {
        json_t *ls = json_array();
        for (size_t k = 0; k < p->src[i].n; k++)
            json_array_append_new(ls, json_string(p->src[i].layers[k]->info.name));
        char file[128];
        snprintf(file, sizeof file, "%s.pmtiles", p->src[i].key);
        json_object_set_new(sources, p->src[i].key, json_pack("{s:s,s:o}", "file", file, "layers", ls));
    }
    json_object_set_new(m, "format", json_integer(MSH_PACKAGE_FORMAT));
    json_object_set_new(m, "name", json_string(sp->name));
    json_object_set_new(m, "style", json_string(sp->style));
    json_object_set_new(m, "style_file", json_string("style.json"));
    json_object_set_new(m, "bbox", json_pack("[f,f,f,f]", sp->bbox[0], sp->bbox[1], sp->bbox[2], sp->bbox[3]));
    json_object_set_new(m, "minzoom", json_integer(sp->minzoom));
    json_object_set_new(m, "maxzoom", json_integer(sp->maxzoom));
    json_object_set_new(m, "created", json_string(when));
    json_object_set_new(m, "etag", json_string(p->res->etag));
    json_object_set_new(m, "layers", json_incref(versions));
    json_object_set_new(m, "sources", sources);
    json_object_set_new(m, "omitted", json_incref(omitted));
    json_object_set_new(m, "rtl_text_plugin", p->res->rtl && !p->res->rtl_missing ? json_string(MSH_PACKAGE_RTL_FILE)
                                                                                   : json_null());
    json_object_set_new(m, "bytes", json_integer((json_int_t)p->res->bytes));
    json_object_set_new(m, "files", files);
    char *s = json_dumps(m, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(m);
    if (!s)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    msh_rc rc = put_file(p, MSH_PACKAGE_MANIFEST, s, strlen(s), false, err);
    free(s);
    return rc;
}

static void fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static int sync_dir(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)ftw;
    if (flag == FTW_DP || flag == FTW_D)
        fsync_path(path);
    return 0;
}

/* The folder takes the final name: renamed, or exchanged with the old one (then removed). */
static msh_rc swap_in(pkg *p, const char *out_dir, msh_err *err)
{
    nftw(p->tmp, sync_dir, 16, FTW_DEPTH | FTW_PHYS);
    char final[4200];
    snprintf(final, sizeof final, "%s/%s", out_dir, p->spec->name);
    if (renameat2(AT_FDCWD, p->tmp, AT_FDCWD, final, RENAME_NOREPLACE)) {
        if (errno != EEXIST || renameat2(AT_FDCWD, p->tmp, AT_FDCWD, final, RENAME_EXCHANGE))
            return msh_err_set(err, MSH_EIO, "cannot put the package in place at %s: %s", final, strerror(errno));
        rm_tree(p->tmp); /* the old package, now under the temporary name */
    }
    fsync_path(out_dir);
    return MSH_OK;
}

msh_rc msh_package_build(msh_catalog *cat, const msh_glyphs *g, const msh_package_spec *spec, const char *out_dir,
                         const msh_package_opts *o, msh_package_result *res, msh_err *err)
{
    memset(res, 0, sizeof *res);
    if (!msh_package_build_name_ok(spec->name))
        return msh_err_set(err, MSH_EINVAL, "a package name is 1 to %d letters, digits, '_' and '-'", MSH_PACKAGE_NAME_MAX);
    if (spec->minzoom < 0 || spec->maxzoom > MSH_MAX_ZOOM || spec->minzoom > spec->maxzoom)
        return msh_err_set(err, MSH_EINVAL, "zooms must be 0..%d, the first not above the second", MSH_MAX_ZOOM);
    if (msh_package_build_tiles(spec) > MSH_EXPORT_MAX_TILES)
        return msh_err_set(err, MSH_EINVAL, "the box covers more than %llu tiles at zooms %d-%d: narrow it",
                           MSH_EXPORT_MAX_TILES, spec->minzoom, spec->maxzoom);
    pkg *p = calloc(1, sizeof *p);
    if (!p)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    p->spec = spec, p->opts = o, p->cat = cat, p->g = g, p->res = res;
    msh_buf style_bytes;
    msh_buf_init(&style_bytes, MAX_STYLE_BYTES);
    json_t *style = NULL, *omitted = json_array(), *versions = json_object();
    char *style_out = NULL;
    bool made = false;
    msh_rc rc = MSH_OK;
    if (mkdir(out_dir, 0755) && errno != EEXIST) {
        rc = msh_err_set(err, MSH_EIO, "cannot make %s: %s", out_dir, strerror(errno));
        goto out;
    }
    snprintf(p->tmp, sizeof p->tmp, "%s/.%s.partXXXXXX", out_dir, spec->name);
    if (!mkdtemp(p->tmp)) {
        rc = msh_err_set(err, MSH_EIO, "cannot make a folder in %s: %s", out_dir, strerror(errno));
        goto out;
    }
    made = true;
    chmod(p->tmp, 0755);
    if ((rc = read_whole(spec->style_path, &style_bytes, err)))
        goto out;
    json_error_t je;
    style = json_loadb((const char *)style_bytes.data, style_bytes.len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(style) || json_integer_value(json_object_get(style, "version")) != 8) {
        rc = msh_err_set(err, MSH_EFORMAT, "style %s is not a version 8 style: line %d: %s", spec->style, je.line,
                         style ? "" : je.text);
        goto out;
    }
    if ((rc = keep_sources(p, style, omitted, err)) || (rc = export_sources(p, err)) ||
        (rc = scan_labels(p, style, err)) || (rc = write_glyphs(p, err)) || (rc = write_sprites(p, style, err)) ||
        (rc = copy_plugin(p, err)))
        goto out;
    json_object_set_new(style, "glyphs", json_string("fonts/{fontstack}/{range}.pbf"));
    json_object_set_new(style, "center", json_pack("[f,f]", (spec->bbox[0] + spec->bbox[2]) / 2,
                                                   (spec->bbox[1] + spec->bbox[3]) / 2));
    json_object_set_new(style, "zoom", json_integer(spec->minzoom));
    if (!(style_out = json_dumps(style, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15)))) {
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = put_file(p, "style.json", style_out, strlen(style_out), true, err)) ||
        (rc = make_etag(p, style_bytes.data, style_bytes.len, versions, err)) ||
        (rc = write_manifest(p, omitted, versions, err)))
        goto out;
    res->files = p->nfiles + 1;
    res->omitted = json_array_size(omitted);
    if (o->stop && atomic_load(o->stop)) {
        rc = msh_err_set(err, MSH_EINTERNAL, "interrupted");
        goto out;
    }
    rc = swap_in(p, out_dir, err);
    if (!rc)
        made = false;
out:
    if (made)
        rm_tree(p->tmp);
    for (size_t i = 0; i < p->nfiles; i++)
        free(p->files[i].path);
    free(style_out);
    json_decref(style);
    json_decref(omitted);
    json_decref(versions);
    msh_buf_free(&style_bytes);
    free(p);
    return rc;
}
