/* main.c: the `mashaer` command line: dispatch to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

static void usage(FILE *f)
{
    fprintf(f,
            "Mashaer %s: map server for crowd operations at the holy sites.\n"
            "\n"
            "Usage: mashaer <command> [options]\n"
            "\n"
            "Commands:\n"
            "  serve     serve vector tiles, TileJSON, the catalog, styles and the web viewer\n"
            "  import    load vector data (GeoJSON, GeoPackage, Shapefile, KML, CSV, OSM...) into a store\n"
            "  layers    list the layers of a store (or drop one)\n"
            "  token     add, list or revoke the tokens that writes must carry\n"
            "  render    draw PNG tiles from a store and a style into files, or time the renderer\n"
            "  export    write the vector tiles of a box and zooms into a PMTiles or MBTiles file\n"
            "  package   write an offline package of a style for MapLibre (PMTiles, glyphs, sprites, manifest)\n"
            "  simulate  play a Hajj crowd (pilgrims, crews, gates, sensors, incidents) into the live feeds\n"
            "  version   print the version\n"
            "\n"
            "Run 'mashaer <command> --help' for the options of a command.\n",
            MSH_VERSION);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "serve"))
        return msh_cmd_serve(argc - 1, argv + 1);
    if (!strcmp(cmd, "import"))
        return msh_cmd_import(argc - 1, argv + 1);
    if (!strcmp(cmd, "layers"))
        return msh_cmd_layers(argc - 1, argv + 1);
    if (!strcmp(cmd, "token"))
        return msh_cmd_token(argc - 1, argv + 1);
    if (!strcmp(cmd, "render"))
        return msh_cmd_render(argc - 1, argv + 1);
    if (!strcmp(cmd, "export"))
        return msh_cmd_export(argc - 1, argv + 1);
    if (!strcmp(cmd, "package"))
        return msh_cmd_package(argc - 1, argv + 1);
    if (!strcmp(cmd, "simulate"))
        return msh_cmd_simulate(argc - 1, argv + 1);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("mashaer %s\n", MSH_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "mashaer: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
