/* cmd_render.c: `mashaer render`: draw PNG tiles from a store and a MapLibre style, without a
 * server: for briefings and checks (files), and for timing the renderer alone (--repeat prints the
 * CPU time a tile costs, which a busy machine disturbs far less than wall-clock rates). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "core/msh_grow.h"
#include "core/msh_tilemath.h"
#include "raster.h"
#include "rstyle.h"
#include "store.h"

#define MAX_TILES 100000
#define MAX_REPEAT 100000

static void usage(FILE *f)
{
    fprintf(f, "Usage: mashaer render --db FILE --style FILE.json [options] [z/x/y ...]\n"
               "\n"
               "Draw map tiles as PNG with the server's renderer (what /styles/{name}/{z}/{x}/{y}.png serves),\n"
               "straight from a store: to write tiles for a briefing or a check, or to time the renderer.\n"
               "  z/x/y              a tile, e.g. 14/10005/7193 (any number of them)\n"
               "  --db FILE          the store (a SpatiaLite file or postgresql://USER@HOST:PORT/DB)\n"
               "  --style FILE       a MapLibre style JSON (the subset in docs/STYLES.md)\n"
               "  --bbox W,S,E,N     also every tile meeting this lon/lat box, at each --zoom\n"
               "  --zoom Z[-Z2]      zoom or zoom range for --bbox (default 14)\n"
               "  --scale 1|2        pixel ratio: 1 for 256 px tiles (default), 2 for 512 px (@2x)\n"
               "  --out DIR          write each tile to DIR/Z-X-Y.png (Z-X-Y@2x.png at scale 2)\n"
               "  --repeat N         draw each tile N times and print its CPU time: drawing and PNG\n"
               "                     encoding, the median over the N draws (default 1)\n"
               "  -h, --help         this help\n"
               "\n"
               "Prints one line per tile (tile, features, labels, bytes, draw ms, png ms) and a total.\n");
}

typedef struct {
    int z;
    uint32_t x, y;
} tile_id;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static bool parse_tile(const char *s, tile_id *t)
{
    int z;
    long long x, y;
    char tail;
    if (sscanf(s, "%d/%lld/%lld%c", &z, &x, &y, &tail) != 3 || !msh_tile_valid(z, x, y))
        return false;
    t->z = z, t->x = (uint32_t)x, t->y = (uint32_t)y;
    return true;
}

static bool push(tile_id **tiles, size_t *n, size_t *cap, tile_id t)
{
    if (msh_grow_from((void **)tiles, cap, *n + 1, sizeof **tiles, 64))
        return false;
    (*tiles)[(*n)++] = t;
    return true;
}

/* Append every tile meeting bbox b at zooms z0..z1; false when there would be more than MAX_TILES. */
static bool add_bbox(const double b[4], int z0, int z1, tile_id **tiles, size_t *n, size_t *cap)
{
    for (int z = z0; z <= z1; z++) {
        uint32_t x0, y0, x1, y1;
        msh_tile_at(b[0], b[3], z, &x0, &y0);
        msh_tile_at(b[2], b[1], z, &x1, &y1);
        if ((double)(x1 - x0 + 1) * (double)(y1 - y0 + 1) + (double)*n > MAX_TILES)
            return false;
        for (uint32_t x = x0; x <= x1; x++)
            for (uint32_t y = y0; y <= y1; y++)
                if (!push(tiles, n, cap, (tile_id){z, x, y})) return false;
    }
    return true;
}

static int write_png(const char *dir, const tile_id *t, int scale, const uint8_t *png, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%d-%u-%u%s.png", dir, t->z, t->x, t->y, scale == 2 ? "@2x" : "");
    FILE *f = fopen(path, "wb");
    bool bad = !f || fwrite(png, 1, len, f) != len;
    if (f && fclose(f)) /* closed once, whatever happened: a full disk may only show here */
        bad = true;
    if (bad) {
        fprintf(stderr, "mashaer render: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    return 0;
}

int msh_cmd_render(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},    {"style", required_argument, 0, 's'}, {"bbox", required_argument, 0, 'b'},
        {"zoom", required_argument, 0, 'z'},  {"scale", required_argument, 0, 'k'}, {"out", required_argument, 0, 'o'},
        {"repeat", required_argument, 0, 'r'}, {"help", no_argument, 0, 'h'},      {0, 0, 0, 0}};
    const char *db = NULL, *style = NULL, *out = NULL;
    double bbox[4];
    bool have_bbox = false;
    int z0 = 14, z1 = 14, scale = 1;
    long repeat = 1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 's': style = optarg; break;
        case 'o': out = optarg; break;
        case 'b':
            if (!msh_cli_bbox("render", optarg, bbox)) return 2;
            have_bbox = true;
            break;
        case 'z':
            if (!msh_cli_zoom("render", optarg, &z0, &z1)) return 2;
            break;
        case 'k':
            if (strcmp(optarg, "1") && strcmp(optarg, "2")) {
                fprintf(stderr, "mashaer render: --scale is 1 or 2, got '%s'\n", optarg);
                return 2;
            }
            scale = optarg[0] - '0';
            break;
        case 'r': {
            char *end;
            errno = 0;
            repeat = strtol(optarg, &end, 10);
            if (errno || *end || repeat < 1 || repeat > MAX_REPEAT) {
                fprintf(stderr, "mashaer render: --repeat wants 1..%d, got '%s'\n", MAX_REPEAT, optarg);
                return 2;
            }
            break;
        }
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!db || !style) {
        fprintf(stderr, "mashaer render: --db and --style are needed\n\n");
        usage(stderr);
        return 2;
    }
    tile_id *tiles = NULL;
    size_t n = 0, cap = 0;
    for (int i = optind; i < argc; i++) {
        tile_id t;
        if (!parse_tile(argv[i], &t)) {
            fprintf(stderr, "mashaer render: '%s' is not a tile z/x/y within its zoom level\n", argv[i]);
            free(tiles);
            return 2;
        }
        if (!push(&tiles, &n, &cap, t)) {
            free(tiles);
            fprintf(stderr, "mashaer render: out of memory\n");
            return 1;
        }
    }
    if (have_bbox && !add_bbox(bbox, z0, z1, &tiles, &n, &cap)) {
        fprintf(stderr, "mashaer render: the box covers more than %d tiles at those zooms\n", MAX_TILES);
        free(tiles);
        return 2;
    }
    if (!n) {
        fprintf(stderr, "mashaer render: no tiles: give z/x/y or --bbox\n");
        free(tiles);
        return 2;
    }
    if (out && mkdir(out, 0777) && errno != EEXIST) {
        fprintf(stderr, "mashaer render: cannot make %s: %s\n", out, strerror(errno));
        free(tiles);
        return 1;
    }

    msh_err err = {0};
    msh_buf warn;
    msh_buf_init(&warn, (size_t)1 << 20);
    msh_rstyle *st = NULL;
    msh_store *s = NULL;
    msh_catalog *cat = NULL;
    msh_raster *r = NULL;
    uint64_t *draw = NULL, *enc = NULL;
    int code = 1;
    msh_rc rc = msh_rstyle_load(style, &warn, &st, &err);
    if (warn.len) {
        fprintf(stderr, "mashaer render: %s draws without:\n", style);
        fwrite(warn.data, 1, warn.len, stderr);
    }
    if (!rc) rc = msh_store_open(db, false, &s, &err);
    if (!rc) rc = msh_catalog_load(s, NULL, &cat, &err);
    if (rc) {
        fprintf(stderr, "mashaer render: %s\n", err.msg);
        goto done;
    }
    r = msh_raster_new();
    draw = malloc((size_t)repeat * sizeof *draw);
    enc = malloc((size_t)repeat * sizeof *enc);
    if (!r || !draw || !enc) {
        fprintf(stderr, "mashaer render: out of memory\n");
        goto done;
    }
    printf("%-18s %9s %7s %9s %9s %9s\n", "tile", "features", "labels", "bytes", "draw ms", "png ms");
    double tot_draw = 0, tot_png = 0;
    size_t tot_bytes = 0;
    code = 0;
    for (size_t i = 0; i < n && !code; i++) {
        const uint8_t *png = NULL;
        size_t len = 0;
        msh_raster_stats stats = {0};
        for (long k = 0; k < repeat; k++) {
            if (msh_raster_render(r, st, cat, tiles[i].z, tiles[i].x, tiles[i].y, scale, &png, &len, &stats, &err)) {
                fprintf(stderr, "mashaer render: %s\n", err.msg);
                code = 1;
                break;
            }
            draw[k] = stats.draw_ns, enc[k] = stats.png_ns;
        }
        if (code) break;
        qsort(draw, (size_t)repeat, sizeof *draw, cmp_u64);
        qsort(enc, (size_t)repeat, sizeof *enc, cmp_u64);
        double dm = (double)draw[repeat / 2] / 1e6, em = (double)enc[repeat / 2] / 1e6;
        tot_draw += dm, tot_png += em, tot_bytes += len;
        char name[48];
        snprintf(name, sizeof name, "%d/%u/%u", tiles[i].z, tiles[i].x, tiles[i].y);
        printf("%-18s %9llu %7llu %9zu %9.3f %9.3f\n", name, (unsigned long long)stats.features,
               (unsigned long long)stats.labels, len, dm, em);
        if (out) code = write_png(out, &tiles[i], scale, png, len);
    }
    if (!code)
        printf("%zu tiles: draw %.1f ms + png %.1f ms CPU (median per tile %s), %zu bytes; %.0f tiles per CPU-second\n", n,
               tot_draw, tot_png, repeat > 1 ? "of each tile's draws" : "single draws", tot_bytes,
               tot_draw + tot_png > 0 ? 1000.0 * (double)n / (tot_draw + tot_png) : INFINITY);
done:
    free(draw);
    free(enc);
    msh_raster_free(r);
    if (cat) msh_catalog_release(cat);
    if (s) msh_store_close(s);
    msh_rstyle_free(st);
    msh_buf_free(&warn);
    free(tiles);
    return code;
}
