/* cmd_layers.c: `mashaer layers`: list a store's layers, or drop one. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "store.h"

static void usage(FILE *f)
{
    fprintf(f, "Usage: mashaer layers --db FILE [--drop NAME]\n"
               "\n"
               "List the layers of a store: name, geometry type, features, zoom range, version, bounds.\n"
               "  --db FILE      the store (a SpatiaLite file or postgresql://USER@HOST:PORT/DB)\n"
               "  --drop NAME    remove layer NAME (its table and registry entry)\n"
               "  -h, --help     this help\n");
}

int msh_cmd_layers(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'}, {"drop", required_argument, 0, 'x'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *db = NULL, *drop = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'x': drop = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!db) {
        usage(stderr);
        return 2;
    }
    msh_err err;
    msh_store *s;
    if (msh_store_open(db, false, &s, &err)) {
        fprintf(stderr, "mashaer layers: %s\n", err.msg);
        return 1;
    }
    int code = 0;
    if (drop) {
        if (msh_store_drop_layer(s, drop, &err)) {
            fprintf(stderr, "mashaer layers: %s\n", err.msg);
            code = 1;
        } else {
            printf("dropped %s\n", drop);
        }
    } else {
        msh_layer_info *li;
        size_t n;
        if (msh_store_list(s, &li, &n, &err)) {
            fprintf(stderr, "mashaer layers: %s\n", err.msg);
            code = 1;
        } else {
            printf("%-24s %-11s %9s %5s %7s  %s\n", "layer", "geometry", "features", "zoom", "version", "bounds (lon/lat)");
            for (size_t i = 0; i < n; i++)
                printf("%-24s %-11s %9llu %2d-%-2d %7llu  %.5f,%.5f,%.5f,%.5f\n", li[i].name, li[i].geometry_type,
                       (unsigned long long)li[i].feature_count, li[i].minzoom, li[i].maxzoom,
                       (unsigned long long)li[i].version, li[i].bounds[0], li[i].bounds[1], li[i].bounds[2],
                       li[i].bounds[3]);
            msh_store_infos_free(li, n);
        }
    }
    msh_store_close(s);
    return code;
}
