/* cmd_package.c: `mashaer package`: an offline package of a style for MapLibre (a folder with
 * the style's vector tiles as PMTiles, its glyphs, sprites and a manifest), for apps that must
 * show the map with no network.
 *
 * What goes in and how it is put in place: server/services/package_build.h. This file reads the
 * options, finds a --site's box, draws the progress bar on a terminal and turns Ctrl-C or
 * SIGTERM into a clean stop (exit 130, the old package untouched).
 */
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "cli/cli_args.h"
#include "cli/cli_site.h"
#include "cli/cli_stop.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "services/package_build.h"
#include "store.h"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: mashaer package --db FILE --style NAME (--site NAME | --bbox W,S,E,N) --zoom Z1-Z2\n"
            "                       [--name N] [options] OUT\n"
            "\n"
            "Write the folder OUT/N with everything MapLibre GL JS or Native needs to draw the style NAME over\n"
            "the box with no network: one PMTiles archive per vector source of the style (the server's tiles),\n"
            "style.json with its sources at pmtiles://SOURCE.pmtiles and its glyphs and sprite in the package\n"
            "(URLs relative to the folder), the glyph ranges the labels use (Arabic shaped forms included),\n"
            "the sprites at 1x and 2x, MapLibre's RTL text plugin when the labels need it, and manifest.json\n"
            "(format, box, zooms, the layers' versions, an etag naming the data, each file's size and SHA-256).\n"
            "Sources of live, KPI or ops-only layers are left out (named in the manifest). The folder is built\n"
            "beside OUT/N under a temporary name and swapped into place: an interrupted run leaves the old one.\n"
            "`mashaer serve --packages OUT` serves it and rebuilds it when its layers change.\n"
            "\n"
            "Options:\n"
            "  --db FILE            the store\n"
            "  --style NAME         the style, STYLES/NAME.json (e.g. operations)\n"
            "  --site NAME          the box of the site NAME (site_id or name in the `sites` layer), e.g. mina\n"
            "  --bbox W,S,E,N       the box in degrees\n"
            "  --zoom Z[-Z2]        zoom or zoom range (e.g. 12-18)\n"
            "  --name N             the package's name: [A-Za-z0-9_-] (default: the site, else \"package\")\n"
            "  --styles DIR         the styles folder (default %s)\n"
            "  --web DIR            the web folder, where the RTL plugin is (default %s)\n"
            "  --threads N          tiles made on N threads (default: every core, %ld here)\n"
            "  -q, --quiet          no progress bar and no summary line\n"
            "  -h, --help           this help\n"
            "\n"
            "Exit status: 0 written; 1 failed (OUT/N unchanged); 2 bad usage; 130 interrupted.\n",
            MSH_STYLES_DIR, MSH_WEB_DIR, sysconf(_SC_NPROCESSORS_ONLN));
}

static bool style_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > 64)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
            return false;
    return true;
}

int msh_cmd_package(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},      {"style", required_argument, 0, 'S'},
        {"bbox", required_argument, 0, 'b'},    {"site", required_argument, 0, 's'},
        {"zoom", required_argument, 0, 'z'},    {"name", required_argument, 0, 'n'},
        {"styles", required_argument, 0, 'D'},  {"web", required_argument, 0, 'w'},
        {"threads", required_argument, 0, 't'}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    const char *db = NULL, *style = NULL, *site = NULL, *name = NULL;
    const char *styles_dir = MSH_STYLES_DIR, *web_dir = MSH_WEB_DIR;
    msh_package_spec spec = {0};
    bool have_bbox = false, have_zoom = false;
    int c;
    long threads = sysconf(_SC_NPROCESSORS_ONLN);
    msh_cli_tile_progress pr = {{isatty(2), 0, 0, 0}, 0};
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'S': style = optarg; break;
        case 's': site = optarg; break;
        case 'n': name = optarg; break;
        case 'D': styles_dir = optarg; break;
        case 'w': web_dir = optarg; break;
        case 'b':
            if (!msh_cli_bbox("package", optarg, spec.bbox)) return 2;
            have_bbox = true;
            break;
        case 'z':
            if (!msh_cli_zoom("package", optarg, &spec.minzoom, &spec.maxzoom)) return 2;
            have_zoom = true;
            break;
        case 't':
            if (!msh_cli_threads("package", optarg, &threads)) return 2;
            break;
        case 'q': pr.bar.quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!name)
        name = site && msh_package_build_name_ok(site) ? site : "package";
    const char *why = !db ? "--db FILE is required" : !style ? "--style NAME is required"
                      : !style_name_ok(style) ? "a --style name is a-z, 0-9, '_' and '-'"
                      : have_bbox == !!site ? "give one of --bbox and --site" : !have_zoom ? "--zoom is required"
                      : !msh_package_build_name_ok(name) ? "--name is 1 to 64 letters, digits, '_' and '-'"
                      : optind != argc - 1 ? "give one OUT folder" : NULL;
    if (why) {
        fprintf(stderr, "mashaer package: %s\n\n", why);
        usage(stderr);
        return 2;
    }
    const char *out = argv[optind];
    char style_path[4200], rtl[4200];
    snprintf(style_path, sizeof style_path, "%s/%s.json", styles_dir, style);
    snprintf(rtl, sizeof rtl, "%s/%s", web_dir, MSH_PACKAGE_RTL_SOURCE);
    spec.name = name, spec.style = style, spec.style_path = style_path, spec.rtl_plugin = rtl;

    msh_err err = {0};
    msh_store *s = NULL;
    msh_catalog *cat = NULL;
    msh_glyphs *g = NULL;
    int code = 1;
    if (msh_store_open(db, false, &s, &err) || msh_catalog_load(s, NULL, &cat, &err)) {
        fprintf(stderr, "mashaer package: %s\n", err.msg);
        goto done;
    }
    code = 2;
    if (site && !msh_cli_site_bbox("package", cat, site, spec.bbox))
        goto done;
    if (msh_glyphs_open(&g, &err))
        fprintf(stderr, "mashaer package: warning: no fonts (%s): a style with labels fails\n", err.msg);

    struct sigaction old[2];
    msh_cli_stop_catch(old);
    msh_package_opts o = {(int)threads, msh_cli_tile_progress_draw, &pr, &msh_cli_stop};
    msh_package_result res;
    pr.start = msh_cli_now();
    msh_rc rc = msh_package_build(cat, g, &spec, out, &o, &res, &err);
    double secs = msh_cli_now() - pr.start;
    msh_cli_progress_clear(&pr.bar);
    msh_cli_stop_release(old);
    if (rc) {
        bool interrupted = atomic_load(&msh_cli_stop);
        fprintf(stderr, "mashaer package: %s; %s/%s unchanged\n", interrupted ? "interrupted" : err.msg, out, name);
        code = interrupted ? 130 : rc == MSH_EINVAL || rc == MSH_EFORMAT || rc == MSH_ENOTFOUND ? 2 : 1;
        goto done;
    }
    code = 0;
    if (res.rtl_missing)
        fprintf(stderr, "mashaer package: warning: the labels need MapLibre's RTL text plugin and %s cannot be read: "
                        "not in the package (Arabic letters will not join)\n", rtl);
    if (!pr.bar.quiet)
        printf("packaged %s (style %s), zooms %d-%d, box %.6f,%.6f,%.6f,%.6f: %zu sources (%zu left out), %llu tiles, "
               "%zu glyph ranges, %zu files, %llu bytes, etag %s, to %s/%s in %.2f s\n",
               name, style, spec.minzoom, spec.maxzoom, spec.bbox[0], spec.bbox[1], spec.bbox[2], spec.bbox[3],
               res.sources, res.omitted, (unsigned long long)res.tiles, res.glyph_ranges, res.files,
               (unsigned long long)res.bytes, res.etag, out, name, secs);
done:
    if (g) msh_glyphs_close(g);
    if (cat) msh_catalog_release(cat);
    if (s) msh_store_close(s);
    return code;
}
