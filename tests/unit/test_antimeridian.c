/* test_antimeridian.c: lines and polygons crossing ±180° split into parts on either side. */
#include <geos_c.h>
#include <stdio.h>
#include <string.h>

#include "antimeridian.h"
#include "check.h"

static GEOSContextHandle_t h;
static GEOSWKTReader *rd;

static msh_am_result split(const char *wkt, GEOSGeometry **out)
{
    GEOSGeometry *g = GEOSWKTReader_read_r(h, rd, wkt);
    CHECK(g != NULL);
    msh_am_result r = g ? msh_antimeridian_split(h, g, out) : MSH_AM_FAIL;
    if (g)
        GEOSGeom_destroy_r(h, g);
    return r;
}

static double area(const GEOSGeometry *g)
{
    double a = -1;
    GEOSArea_r(h, g, &a);
    return a;
}

static void bounds(const GEOSGeometry *g, double b[4])
{
    GEOSGeom_getXMin_r(h, g, &b[0]);
    GEOSGeom_getYMin_r(h, g, &b[1]);
    GEOSGeom_getXMax_r(h, g, &b[2]);
    GEOSGeom_getYMax_r(h, g, &b[3]);
}

int main(void)
{
    h = GEOS_init_r();
    rd = GEOSWKTReader_create_r(h);
    GEOSGeometry *o = NULL;
    double b[4];

    /* nothing crosses: untouched, even wide or near the line */
    CHECK(split("POLYGON((178 -17,179.9 -17,179.9 -16,178 -16,178 -17))", &o) == MSH_AM_NONE && !o);
    /* the rule: an edge over 180° is a crossing, so a 340°-wide box is read as 20° across 180 */
    CHECK(split("POLYGON((-170 -10,170 -10,170 10,-170 10,-170 -10))", &o) == MSH_AM_SPLIT);
    CHECK(o && GEOSGetNumGeometries_r(h, o) == 2);
    CHECK_NEAR(area(o), 400.0, 1e-9);
    GEOSGeom_destroy_r(h, o);
    CHECK(split("POINT(180 0)", &o) == MSH_AM_NONE && !o);

    /* Fiji: two 1° squares, one each side */
    CHECK(split("POLYGON((179 -17,-179 -17,-179 -16,179 -16,179 -17))", &o) == MSH_AM_SPLIT);
    CHECK(o && GEOSGeomTypeId_r(h, o) == GEOS_MULTIPOLYGON && GEOSGetNumGeometries_r(h, o) == 2);
    CHECK_NEAR(area(o), 2.0, 1e-9);
    CHECK(GEOSisValid_r(h, o) == 1);
    bounds(o, b);
    CHECK(b[0] == -180.0 && b[2] == 180.0 && b[1] == -17.0 && b[3] == -16.0);
    GEOSGeom_destroy_r(h, o);

    /* with a hole that crosses too: area kept, both parts holed */
    CHECK(split("POLYGON((178 -18,-178 -18,-178 -14,178 -14,178 -18),(179 -17,179 -15,-179 -15,-179 -17,179 -17))",
                &o) == MSH_AM_SPLIT);
    CHECK(o && GEOSGetNumGeometries_r(h, o) == 2);
    CHECK_NEAR(area(o), 16.0 - 4.0, 1e-9);
    CHECK(GEOSisValid_r(h, o) == 1);
    GEOSGeom_destroy_r(h, o);

    /* a MultiPolygon: the part far away kept as it is */
    CHECK(split("MULTIPOLYGON(((179 -17,-179 -17,-179 -16,179 -16,179 -17)),((39 21,40 21,40 22,39 22,39 21)))", &o) ==
          MSH_AM_SPLIT);
    CHECK(o && GEOSGetNumGeometries_r(h, o) == 3);
    CHECK_NEAR(area(o), 3.0, 1e-9);
    GEOSGeom_destroy_r(h, o);

    /* a line crossing twice: three pieces, length kept */
    CHECK(split("LINESTRING(179 0,-179 0,-179 1,179 1)", &o) == MSH_AM_SPLIT);
    CHECK(o && GEOSGeomTypeId_r(h, o) == GEOS_MULTILINESTRING);
    double len = 0;
    GEOSLength_r(h, o, &len);
    CHECK_NEAR(len, 5.0, 1e-9);
    bounds(o, b);
    CHECK(b[0] >= -180.0 && b[2] <= 180.0);
    GEOSGeom_destroy_r(h, o);

    /* a ring around the south pole: cannot be split this way */
    msh_am_result r = split("POLYGON((-180 -80,-90 -80,0 -80,90 -80,179 -80,-180 -80))", &o);
    CHECK(r == MSH_AM_POLE && !o);
    if (r != MSH_AM_POLE)
        fprintf(stderr, "  pole ring: result %d\n", (int)r);

    GEOSWKTReader_destroy_r(h, rd);
    GEOS_finish_r(h);
    CHECK_DONE();
}
