/* test_tilepath.c: the tile URL parser accepts exactly the documented forms. */
#include <string.h>

#include "check.h"
#include "http/tilepath.h"

static int ok(const char *s, msh_tilepath *tp)
{
    msh_err e;
    return msh_tilepath_parse(s, tp, &e) == MSH_OK;
}

int main(void)
{
    msh_tilepath tp;
    CHECK(ok("camps/15/20009/14386.mvt", &tp));
    CHECK(tp.kind == MSH_TP_MVT && tp.nlayers == 1 && !strcmp(tp.layers[0], "camps"));
    CHECK(tp.z == 15 && tp.x == 20009 && tp.y == 14386);
    CHECK(ok("sites,camps,walkways/0/0/0.pbf", &tp));
    CHECK(tp.nlayers == 3 && !strcmp(tp.layers[2], "walkways"));
    CHECK(ok("sites,camps.json", &tp));
    CHECK(tp.kind == MSH_TP_TILEJSON && tp.nlayers == 2);
    CHECK(ok("a/24/16777215/16777215.mvt", &tp));
    CHECK(ok("camps/15/20012/14387.png", &tp));
    CHECK(tp.kind == MSH_TP_PNG && tp.ratio == 1 && tp.z == 15 && tp.x == 20012 && tp.y == 14387);
    CHECK(ok("sites,camps/15/20012/14387@2x.png", &tp));
    CHECK(tp.kind == MSH_TP_PNG && tp.ratio == 2 && tp.nlayers == 2);

    const char *bad[] = {"", "camps", "camps/", "camps/1/0", "camps/1/0/0", "camps/1/0/0.jpg", "camps/1/0/0@3x.png", "camps/1/0/0@2x.mvt", "camps/1/0/0.mvt/",
                         "camps/25/0/0.mvt", "camps/3/8/0.mvt", "camps/3/0/8.mvt", "camps/-1/0/0.mvt",
                         "camps/01/0/0.mvt", "camps/1/+1/0.mvt", "camps/a/b/c.mvt", "Camps/1/0/0.mvt",
                         "camps,camps/1/0/0.mvt", ",camps/1/0/0.mvt", "camps,/1/0/0.mvt", "/1/0/0.mvt",
                         "camps/1/0/99999999999999999999.mvt", "ca mps/1/0/0.mvt", "camps/1//0.mvt",
                         "1camps/1/0/0.mvt", ".json", "camps.JSON", "camps/1/0/0.mvt\n", NULL};
    for (int i = 0; bad[i]; i++) {
        msh_err e;
        e.msg[0] = 0;
        int rejected = msh_tilepath_parse(bad[i], &tp, &e) == MSH_EINVAL;
        CHECK(rejected);
        if (!rejected)
            fprintf(stderr, "  accepted: '%s'\n", bad[i]);
        CHECK(e.msg[0] != 0);
    }
    char many[2000] = "";
    for (int i = 0; i < 17; i++) {
        char one[8];
        snprintf(one, sizeof one, "%sl%d", i ? "," : "", i);
        strcat(many, one);
    }
    strcat(many, "/0/0/0.mvt");
    CHECK(!ok(many, &tp)); /* 17 layers: one too many */
    CHECK_DONE();
}
