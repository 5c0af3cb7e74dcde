/* test_fontpath.c: the glyph URL parser: fontstacks, ranges and what it refuses. */
#include <string.h>

#include "check.h"
#include "http/fontpath.h"

int main(void)
{
    msh_fontpath fp;
    msh_err e;
    CHECK(msh_fontpath_parse("Noto Sans Regular,Noto Sans Arabic Regular/1536-1791.pbf", &fp, &e) == MSH_OK);
    CHECK(fp.n == 2 && fp.start == 1536 && !strcmp(fp.names[0], "Noto Sans Regular") &&
          !strcmp(fp.names[1], "Noto Sans Arabic Regular"));
    CHECK(msh_fontpath_parse("DejaVu Sans Book/0-255.pbf", &fp, &e) == MSH_OK && fp.n == 1 && fp.start == 0);
    CHECK(msh_fontpath_parse("DejaVu Sans Book/65280-65535.pbf", &fp, &e) == MSH_OK && fp.start == 65280);
    CHECK(msh_fontpath_parse(" A , B /256-511.pbf", &fp, &e) == MSH_OK && fp.n == 2 && !strcmp(fp.names[0], "A") &&
          !strcmp(fp.names[1], "B") && fp.start == 256);
    CHECK(msh_fontpath_parse("\xd8\xae\xd8\xb7/0-255.pbf", &fp, &e) == MSH_OK && fp.n == 1); /* UTF-8 names pass */
    CHECK(msh_fontpath_parse("a,b,c,d,e,f,g,h/0-255.pbf", &fp, &e) == MSH_OK && fp.n == 8);

    const char *bad[] = {"", "0-255.pbf", "A/0-300.pbf", "A/1-256.pbf", "A/256-255.pbf", "A/0-255", "A/0-255.png",
                         "A/0-255.pbf.pbf", "A/00-255.pbf", "A/0-0255.pbf", "A/+0-255.pbf", "A/-0-255.pbf",
                         "A/65536-65791.pbf", "A/99999999-100000254.pbf", "A/0255.pbf", "A/0--255.pbf",
                         "../../etc/passwd/0-255.pbf", "A/B/0-255.pbf", "A\\B/0-255.pbf", "A,,B/0-255.pbf",
                         ",A/0-255.pbf", "A,/0-255.pbf", " /0-255.pbf", "A\n/0-255.pbf", "A\x7f/0-255.pbf",
                         "a,b,c,d,e,f,g,h,i/0-255.pbf", "A/ 0-255.pbf", "A/0-255.pbf ", "A/.pbf", "A/-.pbf", NULL};
    for (int i = 0; bad[i]; i++) {
        e.msg[0] = 0;
        int rejected = msh_fontpath_parse(bad[i], &fp, &e) == MSH_EINVAL;
        CHECK(rejected);
        if (!rejected)
            fprintf(stderr, "  accepted: '%s'\n", bad[i]);
        CHECK(e.msg[0] != 0);
    }
    char longname[300];
    memset(longname, 'x', 200);
    snprintf(longname + 200, sizeof longname - 200, "/0-255.pbf");
    CHECK(msh_fontpath_parse(longname, &fp, &e) == MSH_EINVAL && strstr(e.msg, "longer"));
    CHECK(msh_fontpath_parse("A/0-300.pbf", &fp, &e) == MSH_EINVAL && strstr(e.msg, "multiple of 256"));
    CHECK_DONE();
}
