/* test_import.c: importer -> store -> static layer, on a GeoJSON written by the test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "check.h"
#include "ogr_import.h"

static msh_import_report last;
static int notes;

static void on_done(void *ud, const msh_import_report *r)
{
    (void)ud;
    last = *r;
}

static void on_note(void *ud, const char *m)
{
    (void)ud;
    (void)m;
    notes++;
}

static int count_cb(void *ud, const msh_feature *f)
{
    (void)f;
    (*(int *)ud)++;
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    char src[1024], bad[1024], db[1024];
    snprintf(src, sizeof src, "%s/import_src.geojson", dir);
    snprintf(bad, sizeof bad, "%s/import_bad.geojson", dir);
    snprintf(db, sizeof db, "%s/import_test.sqlite", dir);
    unlink(db);
    write_file(src,
               "{\"type\":\"FeatureCollection\",\"features\":["
               "{\"type\":\"Feature\",\"properties\":{\"name_ar\":\"منى\",\"capacity\":120,\"share\":0.5,\"fid\":\"x\"},"
               "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[39.89,21.41],[39.90,21.41],[39.90,21.42],[39.89,21.42],[39.89,21.41]],"
               "[[39.893,21.413],[39.893,21.416],[39.896,21.416],[39.896,21.413],[39.893,21.413]]]}},"
               /* bow-tie: invalid, repaired into a multipolygon */
               "{\"type\":\"Feature\",\"properties\":{\"name_ar\":\"عرفات\",\"capacity\":5,\"share\":null},"
               "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[39.98,21.35],[39.99,21.36],[39.99,21.35],[39.98,21.36],[39.98,21.35]]]}},"
               /* no geometry: skipped */
               "{\"type\":\"Feature\",\"properties\":{\"name_ar\":\"-\",\"capacity\":0},\"geometry\":null},"
               /* a 3D point-free line: Z dropped */
               "{\"type\":\"Feature\",\"properties\":{\"name_ar\":\"line\",\"capacity\":1},"
               "\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[39.85,21.40,300],[39.86,21.41,310]]}}"
               "]}");
    msh_store *s;
    msh_err err;
    CHECK(msh_store_open(db, true, &s, &err) == MSH_OK);
    msh_import_opts o;
    msh_import_opts_init(&o);
    o.layer_name = "fixture";
    o.done = on_done;
    o.note = on_note;
    CHECK(msh_import_file(s, src, &o, &err) == MSH_OK);
    CHECK(last.imported == 3);
    CHECK(last.repaired == 1);
    CHECK(last.skipped == 1);
    CHECK(last.rejected == 0);
    CHECK(last.version == 1);
    CHECK(notes >= 1); /* the 'fid' property is stored under another name */

    msh_layer_info *li;
    size_t n;
    CHECK(msh_store_list(s, &li, &n, &err) == MSH_OK);
    CHECK(n == 1);
    if (n == 1) {
        CHECK(!strcmp(li[0].name, "fixture"));
        CHECK(!strcmp(li[0].geometry_type, "Geometry")); /* polygons and a line */
        CHECK(li[0].feature_count == 3);
        CHECK(li[0].nfields == 4);
        CHECK_NEAR(li[0].bounds[0], 39.85, 1e-9);
        CHECK_NEAR(li[0].bounds[3], 21.42, 1e-9);
        CHECK(li[0].fields[1].type == MSH_FT_INT);
        CHECK(li[0].fields[2].type == MSH_FT_REAL);
        CHECK(!strcmp(li[0].fields[3].name, "fid_2"));
    }
    msh_store_infos_free(li, n);

    /* the served layer: Arabic text byte-exact, the bow-tie a polygon, the line flat */
    msh_catalog *cat;
    CHECK(msh_catalog_load(s, NULL, &cat, &err) == MSH_OK);
    msh_layer *l = msh_catalog_find(cat, "fixture", 7);
    CHECK(l != NULL);
    int all = 0;
    double world[4] = {0, 0, 1, 1};
    l->vt->query(l, world, 0, count_cb, &all);
    CHECK(all == 3);
    double nowhere[4] = {0.0, 0.0, 0.1, 0.1};
    int none = 0;
    l->vt->query(l, nowhere, 0, count_cb, &none);
    CHECK(none == 0);

    /* a corrupt file fails and leaves the layer as it was */
    write_file(bad, "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Po");
    CHECK(msh_import_file(s, bad, &o, &err) != MSH_OK);
    CHECK(strstr(err.msg, "import_bad.geojson") != NULL);
    CHECK(msh_store_list(s, &li, &n, &err) == MSH_OK);
    CHECK(n == 1 && li[0].feature_count == 3 && li[0].version == 1);
    msh_store_infos_free(li, n);

    /* re-import replaces and bumps the version; the catalog sees it */
    CHECK(msh_import_file(s, src, &o, &err) == MSH_OK);
    CHECK(last.version == 2);
    msh_catalog *cat2;
    CHECK(msh_catalog_load(s, cat, &cat2, &err) == MSH_OK);
    CHECK(msh_catalog_digest(cat2) != msh_catalog_digest(cat));
    CHECK(msh_catalog_find(cat2, "fixture", 7)->info.feature_count == 3);
    msh_catalog_release(cat);
    msh_catalog_release(cat2);

    /* bad layer names are refused before anything is written */
    o.layer_name = "spatial_ref_sys";
    CHECK(msh_import_file(s, src, &o, &err) == MSH_EINVAL);
    msh_store_close(s);
    CHECK_DONE();
}
