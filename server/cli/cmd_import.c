/* cmd_import.c: `mashaer import`: files into a store, with a progress bar on a terminal.
 *
 * What a planner sees: one `imported ...` line per committed layer, notes on stderr (renamed
 * layers, the first rejected features with their reasons), and a `summary:` line at the end;
 * the exit status tells a whole import (0) from a partial one (3: committed, some features
 * rejected) and a failed one (1: that file left the store as it was).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/progress.h"
#include "ogr_import.h"

typedef struct {
    msh_cli_progress bar;
    uint64_t layers, imported, repaired, skipped, rejected; /* totals over the command */
} progress_state;

static void on_progress(void *ud, const char *layer, uint64_t done, uint64_t total)
{
    progress_state *p = ud;
    msh_cli_progress_draw(&p->bar, layer, done, total, "features", NULL);
}

static void clear_line(progress_state *p)
{
    msh_cli_progress_clear(&p->bar);
}

static void on_note(void *ud, const char *msg)
{
    progress_state *p = ud;
    clear_line(p);
    fprintf(stderr, "  note: %s\n", msg);
}

static void on_done(void *ud, const msh_import_report *r)
{
    progress_state *p = ud;
    clear_line(p);
    p->layers++;
    p->imported += r->imported;
    p->repaired += r->repaired;
    p->skipped += r->skipped;
    p->rejected += r->rejected;
    if (p->bar.quiet)
        return;
    printf("imported %s (from %s): %llu features, %llu repaired, %llu skipped (no geometry), %llu rejected, "
           "version %llu, %.2f s\n",
           r->layer, r->source_layer, (unsigned long long)r->imported, (unsigned long long)r->repaired,
           (unsigned long long)r->skipped, (unsigned long long)r->rejected, (unsigned long long)r->version,
           r->seconds);
    fflush(stdout);
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: mashaer import --db FILE [options] SOURCE...\n"
            "\n"
            "Load vector data into a store (created when missing). Reads any vector format GDAL reads:\n"
            "GeoJSON, GeoPackage, Shapefile, KML, CSV (WKT or lon/lat columns), OSM and more.\n"
            "Every layer of a source is imported under its own name unless --source-layer picks one.\n"
            "Names in other scripts are transliterated (Arabic to Latin letters) and kept as the layer's\n"
            "title; two layers never get one name in one command (the second gets _2). SQL views are refused.\n"
            "Geometry is reprojected to EPSG:4326, made 2D, split at the antimeridian, collections split\n"
            "by family, and repaired with GEOS MakeValid when invalid, within a budget per feature.\n"
            "A feature that cannot be read or repaired is rejected alone (the first few are named).\n"
            "Each file is one transaction: all its layers or none; a failure leaves the store as it was.\n"
            "Re-importing a layer replaces it and bumps its data version; a running server picks the\n"
            "change up within a second.\n"
            "\n"
            "Options:\n"
            "  --db FILE              the SpatiaLite store, or postgresql://USER@HOST:PORT/DB\n"
            "  --layer NAME           store the (single) source layer under NAME (a-z, 0-9, _)\n"
            "  --source-layer NAME    import only this layer of the source\n"
            "  --s-srs CRS            the source CRS when the file has none or a wrong one (e.g. EPSG:32637)\n"
            "  --minzoom N            lowest zoom the layer is served at (default 0)\n"
            "  --maxzoom N            highest zoom the layer is served at (default 18)\n"
            "  --feature-seconds S    GEOS CPU time per feature (validity, MakeValid, splits) before it is\n"
            "                         rejected (default 1; 0: no limit)\n"
            "  --feature-memory-mb N  memory growth per feature (for MakeValid: address space of its process)\n"
            "                         before it is rejected (default 512; 0: none)\n"
            "  --strict               any rejected feature fails its file (nothing of it imported)\n"
            "  -q, --quiet            print only errors\n"
            "  -h, --help             this help\n"
            "\n"
            "Exit status: 0 when every feature of every source imported; 3 when every source imported but\n"
            "some features were rejected (see the notes and the summary line); 1 when any source failed\n"
            "(that file changed nothing); 2 for bad usage.\n");
}

int msh_cmd_import(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},      {"layer", required_argument, 0, 'l'},
        {"source-layer", required_argument, 0, 's'}, {"s-srs", required_argument, 0, 'S'},
        {"minzoom", required_argument, 0, 'z'}, {"maxzoom", required_argument, 0, 'Z'},
        {"quiet", no_argument, 0, 'q'},         {"help", no_argument, 0, 'h'},
        {"feature-seconds", required_argument, 0, 'T'}, {"feature-memory-mb", required_argument, 0, 'M'},
        {"strict", no_argument, 0, 'X'},
        {0, 0, 0, 0}};
    const char *db = NULL;
    progress_state ps = {{isatty(2), 0, 0, 0}, 0, 0, 0, 0, 0};
    msh_names names;
    msh_names_init(&names);
    msh_import_opts o;
    msh_import_opts_init(&o);
    o.ud = &ps;
    o.progress = on_progress;
    o.note = on_note;
    o.done = on_done;
    o.names = &names;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        char *end;
        long v;
        switch (c) {
        case 'd': db = optarg; break;
        case 'l': o.layer_name = optarg; break;
        case 's': o.source_layer = optarg; break;
        case 'S': o.source_srs = optarg; break;
        case 'z': case 'Z':
            errno = 0;
            v = strtol(optarg, &end, 10);
            if (errno || *end || v < 0 || v > 24) {
                fprintf(stderr, "mashaer import: --%s takes a zoom from 0 to 24\n", c == 'z' ? "minzoom" : "maxzoom");
                return 2;
            }
            if (c == 'z') o.minzoom = (int)v; else o.maxzoom = (int)v;
            break;
        case 'T': {
            double d = strtod(optarg, &end);
            if (*end || end == optarg || !(d >= 0 && d <= 3600)) {
                fprintf(stderr, "mashaer import: --feature-seconds takes seconds from 0 to 3600\n");
                return 2;
            }
            o.feature_seconds = d;
            break;
        }
        case 'M':
            errno = 0;
            v = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || v < 0 || v > 1048576) {
                fprintf(stderr, "mashaer import: --feature-memory-mb takes megabytes from 0 to 1048576\n");
                return 2;
            }
            o.feature_bytes = (size_t)v << 20;
            break;
        case 'X': o.strict = 1; break;
        case 'q': ps.bar.quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!db || optind >= argc) {
        fprintf(stderr, "mashaer import: %s\n\n", !db ? "--db FILE is required" : "give at least one SOURCE file");
        usage(stderr);
        return 2;
    }
    if (o.minzoom > o.maxzoom) {
        fprintf(stderr, "mashaer import: --minzoom is above --maxzoom\n");
        return 2;
    }
    if (o.layer_name && argc - optind > 1) {
        fprintf(stderr, "mashaer import: --layer names one layer: give one SOURCE with it\n");
        return 2;
    }
    if (o.layer_name && !msh_layer_name_valid(o.layer_name)) {
        fprintf(stderr,
                "mashaer import: --layer '%s': use a-z, 0-9 and _, starting with a letter, up to 63 characters; "
                "movement, positions, incidents, crews, gates and sensors are the live layers' names\n",
                o.layer_name);
        return 2;
    }
    msh_err err;
    msh_store *s;
    if (msh_store_open(db, true, &s, &err)) {
        fprintf(stderr, "mashaer import: %s\n", err.msg);
        return 1;
    }
    int failed = 0;
    for (int i = optind; i < argc; i++) {
        if (msh_import_file(s, argv[i], &o, &err)) {
            clear_line(&ps);
            fprintf(stderr, "mashaer import: error: %s\n", err.msg);
            failed++;
        }
    }
    msh_store_close(s);
    msh_names_free(&names);
    int status = failed ? 1 : ps.rejected ? 3 : 0;
    if (!ps.bar.quiet || status) {
        printf("summary: %d of %d sources imported, %llu layers, %llu features imported, %llu repaired, %llu skipped "
               "(no geometry), %llu rejected; %s\n",
               argc - optind - failed, argc - optind, (unsigned long long)ps.layers, (unsigned long long)ps.imported,
               (unsigned long long)ps.repaired, (unsigned long long)ps.skipped, (unsigned long long)ps.rejected,
               failed ? "import FAILED for some sources (exit 1)"
               : ps.rejected ? "PARTIAL: some features rejected (exit 3)" : "complete");
        fflush(stdout);
    }
    return status;
}
