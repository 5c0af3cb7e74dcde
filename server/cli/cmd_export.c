/* cmd_export.c: `mashaer export`: the server's vector tiles of a box and zoom range, or its PNG
 * tiles of a style, into one PMTiles or MBTiles file, for apps that must show the map with no
 * network.
 *
 * The walk and the formats live in exporters/ (export.c, raster_tiles.c, pmtiles.c, mbtiles.c);
 * this file reads
 * the options, finds a --site's box in the `sites` layer, draws the progress bar on a terminal,
 * and turns Ctrl-C or SIGTERM into a clean stop: the workers stop at the next chunk, the
 * temporary file is removed and nothing is left under the final name (exit 130).
 */
#include <ctype.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "catalog.h"
#include "cli/cli_args.h"
#include "cli/cli_site.h"
#include "cli/cli_stop.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "core/msh_tilemath.h"
#include "export.h"
#include "mbtiles.h"
#include "pmtiles.h"
#include "raster_tiles.h"
#include "rstyle.h"
#include "services/raster_service.h"
#include "store.h"

#define MAX_LAYERS 32

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: mashaer export --db FILE (--layers L1,L2,... | --style NAME [--scale 1|2])\n"
            "                      (--bbox W,S,E,N | --site NAME) --zoom Z1-Z2 [--format pmtiles|mbtiles] [options] OUT\n"
            "\n"
            "Write the vector tiles the server serves at /tiles/L1,L2/{z}/{x}/{y}.mvt (the same composite\n"
            "tiles, attributes, simplification and gzip), or with --style the PNG tiles it serves at\n"
            "/styles/NAME/{z}/{x}/{y}.png (the same renderer, the same bytes), for every tile of a box at each\n"
            "zoom, into one file\n"
            "for offline maps: a PMTiles v3 archive (the default; MapLibre reads it with the pmtiles protocol)\n"
            "or an MBTiles 1.3 file (GDAL, QGIS, mobile SDKs). Empty tiles are not written and identical tiles\n"
            "are stored once (a PNG tile is empty when nothing at all was painted on it). The file appears under OUT only when complete: it is written under a temporary\n"
            "name beside it, synced and renamed; an interrupted export (Ctrl-C) removes it.\n"
            "\n"
            "Options:\n"
            "  --db FILE            the store\n"
            "  --layers L1,L2,...   the layers, in the order they are drawn (as in a /tiles URL)\n"
            "  --style NAME         PNG tiles of the style NAME of the styles folder (or a style FILE.json)\n"
            "  --scale 1|2          with --style: 256 px tiles (1, the default) or 512 px (2, as @2x.png)\n"
            "  --styles DIR         the styles folder (default %s)\n"
            "  --bbox W,S,E,N       the box in degrees\n"
            "  --site NAME          the box of the site NAME: the feature of the `sites` layer whose\n"
            "                       site_id or name is NAME (any case), e.g. mina\n"
            "  --zoom Z[-Z2]        zoom or zoom range (e.g. 12-18)\n"
            "  --format F           pmtiles or mbtiles (default: from OUT's extension, else pmtiles)\n"
            "  --threads N          tiles made on N threads (default: every core, %ld here)\n"
            "  -q, --quiet          no progress bar and no summary line\n"
            "  -h, --help           this help\n"
            "\n"
            "Exit status: 0 written; 1 failed (nothing written under OUT); 2 bad usage; 130 interrupted.\n",
            MSH_STYLES_DIR, sysconf(_SC_NPROCESSORS_ONLN));
}

/* Split "a,b,c" and find each layer in the snapshot; prints why not and returns false. */
static bool find_layers(msh_catalog *cat, const char *list, msh_layer **out, size_t *n)
{
    *n = 0;
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        if (!len || *n == MAX_LAYERS) {
            fprintf(stderr, "mashaer export: --layers wants 1 to %d names separated by commas, got '%s'\n", MAX_LAYERS,
                    list);
            return false;
        }
        msh_layer *l = msh_catalog_find(cat, p, len);
        if (!l) {
            fprintf(stderr, "mashaer export: unknown layer '%.*s' (see mashaer layers --db FILE)\n", (int)len, p);
            return false;
        }
        out[(*n)++] = l;
        p += len;
        if (*p == ',' && !*++p) {
            fprintf(stderr, "mashaer export: --layers ends with a comma: '%s'\n", list);
            return false;
        }
    }
    return *n > 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcasecmp(s + n - k, suffix);
}

/* Compile the style `arg`: a name of the styles folder, or a .json file; name gets the style's
 * name (the file's stem). Prints why not and returns false. */
static bool load_style(const char *dir, const char *arg, msh_rstyle **st, char *name, size_t cap)
{
    char path[4096];
    bool file = strchr(arg, '/') || ends_with(arg, ".json");
    const char *base = strrchr(arg, '/') ? strrchr(arg, '/') + 1 : arg;
    size_t stem = ends_with(base, ".json") ? strlen(base) - 5 : strlen(base);
    snprintf(name, cap, "%.*s", (int)stem, base);
    if (!file && !msh_raster_style_name_ok(arg, strlen(arg))) {
        fprintf(stderr, "mashaer export: --style wants a style name (a-z, 0-9, _ and -) or a FILE.json, got '%s'\n", arg);
        return false;
    }
    snprintf(path, sizeof path, file ? "%s%s" : "%s/%s.json", file ? "" : dir, arg);
    msh_buf warn;
    msh_buf_init(&warn, (size_t)1 << 20);
    msh_err err = {0};
    msh_rc rc = msh_rstyle_load(path, &warn, st, &err);
    msh_buf_free(&warn); /* what the renderer ignores: the server prints it at start */
    if (rc)
        fprintf(stderr, "mashaer export: style %s: %s\n", path, err.msg);
    return !rc;
}

/* Run the export into the writer of `format`; *size gets the file's size. With png, o->maker
 * draws the tiles of style `name`. */
static msh_rc run(const char *format, const char *out, msh_export_opts *o, const char *name, bool png,
                  msh_export_summary *sum, uint64_t *size, msh_err *err)
{
    if (!strcmp(format, "pmtiles"))
        return msh_pmtiles_export(out, o, name, sum, size, err);
    msh_buf meta;
    msh_buf_init(&meta, (size_t)64 << 20);
    double center[3];
    msh_export_metadata_json(&meta, o, name, png, center);
    msh_buf_putc(&meta, 0);
    msh_rc rc = msh_buf_error(&meta) ? msh_err_set(err, MSH_ENOMEM, "metadata too large") : MSH_OK;
    if (!rc) {
        /* MBTiles keeps vector_layers in its `json` row: the metadata's vector_layers alone */
        const char *vl = strstr((const char *)meta.data, "\"vector_layers\":");
        msh_buf json;
        msh_buf_init(&json, (size_t)64 << 20);
        msh_buf_printf(&json, "{%s", vl ? vl : "\"vector_layers\":[]}");
        char desc[512];
        snprintf(desc, sizeof desc, "Mashaer %s tiles: %s%s", png ? "raster" : "vector", png ? "style " : "", name);
        msh_mbtiles_info info = {name, o->minzoom, o->maxzoom, {o->bbox[0], o->bbox[1], o->bbox[2], o->bbox[3]},
                                 {center[0], center[1], center[2]}, desc, png ? NULL : (const char *)json.data,
                                 png ? "png" : "pbf"};
        msh_mbtiles *w = NULL;
        rc = msh_buf_error(&json) ? msh_err_set(err, MSH_ENOMEM, "metadata too large") : MSH_OK;
        if (!rc) rc = msh_mbtiles_open(out, &w, err);
        if (!rc) rc = msh_export_run(o, msh_mbtiles_add, w, sum, err);
        if (!rc && !sum->written)
            rc = msh_err_set(err, MSH_EINVAL, "no tile has any feature: nothing to write (check --layers or --style, --bbox and --zoom)");
        if (!rc) rc = msh_mbtiles_finish(w, &info, size, err);
        msh_mbtiles_free(w);
        msh_buf_free(&json);
    }
    msh_buf_free(&meta);
    return rc;
}

int msh_cmd_export(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},      {"layers", required_argument, 0, 'l'},
        {"bbox", required_argument, 0, 'b'},    {"site", required_argument, 0, 's'},
        {"zoom", required_argument, 0, 'z'},    {"format", required_argument, 0, 'f'},
        {"threads", required_argument, 0, 't'}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},          {"style", required_argument, 0, 'S'},
        {"scale", required_argument, 0, 'r'},   {"styles", required_argument, 0, 'D'},
        {0, 0, 0, 0}};
    const char *db = NULL, *layers_arg = NULL, *site = NULL, *format = NULL, *style = NULL, *styles_dir = MSH_STYLES_DIR;
    int scale = 1;
    double bbox[4];
    bool have_bbox = false, have_zoom = false;
    int z0 = 0, z1 = 0, c;
    long threads = sysconf(_SC_NPROCESSORS_ONLN);
    msh_cli_tile_progress pr = {{isatty(2), 0, 0, 0}, 0};
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'l': layers_arg = optarg; break;
        case 's': site = optarg; break;
        case 'b':
            if (!msh_cli_bbox("export", optarg, bbox)) return 2;
            have_bbox = true;
            break;
        case 'z':
            if (!msh_cli_zoom("export", optarg, &z0, &z1)) return 2;
            have_zoom = true;
            break;
        case 'f':
            if (strcmp(optarg, "pmtiles") && strcmp(optarg, "mbtiles")) {
                fprintf(stderr, "mashaer export: --format is pmtiles or mbtiles, got '%s'\n", optarg);
                return 2;
            }
            format = optarg;
            break;
        case 't':
            if (!msh_cli_threads("export", optarg, &threads)) return 2;
            break;
        case 'S': style = optarg; break;
        case 'D': styles_dir = optarg; break;
        case 'r':
            if (strcmp(optarg, "1") && strcmp(optarg, "2")) {
                fprintf(stderr, "mashaer export: --scale is 1 or 2, got '%s'\n", optarg);
                return 2;
            }
            scale = optarg[0] - '0';
            break;
        case 'q': pr.bar.quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    const char *why = !db ? "--db FILE is required" : !layers_arg == !style ? "give one of --layers and --style"
                      : have_bbox == !!site ? "give one of --bbox and --site" : !have_zoom ? "--zoom is required"
                      : optind != argc - 1 ? "give one OUT file" : NULL;
    if (why) {
        fprintf(stderr, "mashaer export: %s\n\n", why);
        usage(stderr);
        return 2;
    }
    const char *out = argv[optind];
    if (!format)
        format = ends_with(out, ".mbtiles") ? "mbtiles" : "pmtiles";
    if (threads < 1)
        threads = 1;

    msh_err err = {0};
    msh_store *s = NULL;
    msh_catalog *cat = NULL;
    msh_layer *layers[MAX_LAYERS];
    size_t nlayers = 0;
    msh_rstyle *st = NULL;
    char name[MAX_LAYERS * 64];
    name[0] = 0;
    int code = 1;
    if (msh_store_open(db, false, &s, &err) || msh_catalog_load(s, NULL, &cat, &err)) {
        fprintf(stderr, "mashaer export: %s\n", err.msg);
        goto done;
    }
    code = 2;
    if ((layers_arg && !find_layers(cat, layers_arg, layers, &nlayers)) ||
        (site && !msh_cli_site_bbox("export", cat, site, bbox)) ||
        (style && !load_style(styles_dir, style, &st, name, sizeof name)))
        goto done;
    uint64_t total = msh_export_count(bbox, z0, z1);
    if (total > MSH_EXPORT_MAX_TILES) {
        fprintf(stderr, "mashaer export: the box covers %llu tiles at zooms %d-%d, more than %llu: narrow it\n",
                (unsigned long long)total, z0, z1, MSH_EXPORT_MAX_TILES);
        goto done;
    }
    size_t nl = 0;
    for (size_t i = 0; i < nlayers; i++)
        nl += (size_t)snprintf(name + nl, sizeof name - nl, "%s%s", i ? "," : "", layers[i]->info.name);

    struct sigaction old[2];
    msh_cli_stop_catch(old);
    msh_raster_tiles rt = {st, cat, scale};
    msh_export_maker png_maker = msh_raster_tiles_maker(&rt);
    msh_export_opts o = {layers, nlayers, {bbox[0], bbox[1], bbox[2], bbox[3]}, z0, z1, (int)threads,
                         (size_t)32 << 20, msh_cli_tile_progress_draw, &pr, &msh_cli_stop, st ? &png_maker : NULL};
    msh_export_summary sum;
    uint64_t size = 0;
    pr.start = msh_cli_now();
    msh_rc rc = run(format, out, &o, name, st != NULL, &sum, &size, &err);
    double secs = msh_cli_now() - pr.start;
    msh_cli_progress_clear(&pr.bar);
    msh_cli_stop_release(old);
    if (rc) {
        bool interrupted = atomic_load(&msh_cli_stop);
        fprintf(stderr, "mashaer export: %s; nothing written to %s\n", interrupted ? "interrupted" : err.msg, out);
        code = interrupted ? 130 : 1;
        goto done;
    }
    code = 0;
    if (!pr.bar.quiet)
        printf("exported %s, zooms %d-%d, box %.6f,%.6f,%.6f,%.6f: %llu tiles walked, %llu written (%llu distinct, "
               "%llu features), %s %llu bytes to %s in %.2f s on %ld threads (%.0f tiles/s)\n",
               name, z0, z1, bbox[0], bbox[1], bbox[2], bbox[3], (unsigned long long)sum.walked,
               (unsigned long long)sum.written, (unsigned long long)sum.contents, (unsigned long long)sum.features,
               format, (unsigned long long)size, out, secs, threads, secs > 0 ? (double)sum.walked / secs : 0.0);
done:
    msh_rstyle_free(st);
    if (cat) msh_catalog_release(cat);
    if (s) msh_store_close(s);
    return code;
}
