/* test_tilemath.c: Web Mercator and tile arithmetic against values worked out by hand. */
#include "check.h"
#include "core/msh_tilemath.h"

int main(void)
{
    double wx, wy, lon, lat;
    msh_lonlat_to_world(0, 0, &wx, &wy);
    CHECK_NEAR(wx, 0.5, 1e-15);
    CHECK_NEAR(wy, 0.5, 1e-15);
    msh_lonlat_to_world(-180, MSH_MAX_LAT, &wx, &wy);
    CHECK_NEAR(wx, 0.0, 1e-15);
    CHECK_NEAR(wy, 0.0, 1e-9);
    msh_lonlat_to_world(39.8262, 21.4225, &wx, &wy); /* the Kaaba */
    msh_world_to_lonlat(wx, wy, &lon, &lat);
    CHECK_NEAR(lon, 39.8262, 1e-10);
    CHECK_NEAR(lat, 21.4225, 1e-10);
    /* latitudes beyond the Mercator limit are clamped, not NaN */
    msh_lonlat_to_world(10, 90, &wx, &wy);
    CHECK(wy == wy && wy >= 0.0);

    uint32_t x, y;
    msh_tile_at(39.8262, 21.4225, 15, &x, &y); /* tile of the Kaaba at z15: 20009/14386 */
    CHECK(x == 20009);
    CHECK(y == 14386);
    msh_tile_at(180, -90, 3, &x, &y); /* clamped into the grid */
    CHECK(x == 7 && y == 7);

    double w, s, e, n;
    msh_tile_lonlat_bounds(1, 1, 0, &w, &s, &e, &n);
    CHECK_NEAR(w, 0, 1e-12);
    CHECK_NEAR(e, 180, 1e-12);
    CHECK_NEAR(s, 0, 1e-9);
    CHECK_NEAR(n, MSH_MAX_LAT, 1e-9);

    CHECK(msh_tile_valid(0, 0, 0));
    CHECK(!msh_tile_valid(0, 1, 0));
    CHECK(!msh_tile_valid(-1, 0, 0));
    CHECK(!msh_tile_valid(25, 0, 0));
    CHECK(msh_tile_valid(24, (1 << 24) - 1, 0));
    CHECK(!msh_tile_valid(24, 1 << 24, 0));
    CHECK(!msh_tile_valid(3, -1, 0));

    /* one metre at the equator is 1/40075016.69 of the world */
    CHECK_NEAR(msh_world_per_metre(0) * 40075016.685578488, 1.0, 1e-12);
    CHECK(msh_world_per_metre(60) > msh_world_per_metre(0) * 1.99);
    CHECK_DONE();
}
