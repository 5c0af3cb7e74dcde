/* test_layer_names.c: source layer names in any script -> distinct, valid store names. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "layer.h"
#include "layer_names.h"

static int name_is(const char *src, int index, const char *want)
{
    char out[MSH_LAYER_NAME_CAP];
    msh_layer_name_from(src, index, out);
    if (strcmp(out, want)) {
        fprintf(stderr, "  '%s' -> '%s', want '%s'\n", src ? src : "(null)", out, want);
        return 0;
    }
    return msh_layer_name_valid(out);
}

int main(void)
{
    /* ASCII: lower case, runs of other characters one '_' */
    CHECK(name_is("Makkah Walkways", 1, "makkah_walkways"));
    CHECK(name_is("  --Gates (2024)-- ", 1, "gates_2024"));
    /* Arabic: the table, letter by letter */
    CHECK(name_is("المخيمات", 1, "almkhymat"));
    CHECK(name_is("الممرات", 2, "almmrat"));
    CHECK(name_is("منى", 1, "mna"));
    CHECK(name_is("عرفات", 1, "rfat"));           /* ain dropped */
    CHECK(name_is("مُزْدَلِفَة", 1, "mzdlfa"));   /* harakat dropped, teh marbuta a */
    CHECK(name_is("مخيّـم", 1, "mkhym"));         /* shadda and tatweel dropped */
    CHECK(name_is("مخيم ٣", 1, "mkhym_3"));        /* Arabic-Indic digit */
    CHECK(name_is("بوابة ۱۲", 1, "bwaba_12"));     /* Persian digits */
    CHECK(name_is("Gare de l'Est é", 1, "gare_de_l_est_e"));
    CHECK(name_is("ÉTÉ", 1, "ete"));                /* Latin-1 capitals */
    /* nothing left: layer_N; a leading digit, a reserved prefix or a live layer's name: l_ */
    CHECK(name_is("中文", 3, "layer_3"));
    CHECK(name_is("", 1, "layer_1"));
    CHECK(name_is(NULL, 2, "layer_2"));
    CHECK(name_is("٢٠٢٤", 1, "l_2024"));
    CHECK(name_is("2024 camps", 1, "l_2024_camps"));
    CHECK(name_is("spatial_ref_sys", 1, "l_spatial_ref_sys"));
    CHECK(name_is("movement", 1, "l_movement"));
    CHECK(name_is("MSH_layers", 1, "l_msh_layers"));
    /* invalid UTF-8 bytes count as other characters */
    CHECK(name_is("ab\xff\xfe" "cd\xe0\x80", 1, "ab_cd"));
    /* long names: at most 63 characters */
    char longsrc[400];
    memset(longsrc, 0, sizeof longsrc);
    for (int i = 0; i < 70; i++)
        strncat(longsrc, "م", sizeof longsrc - strlen(longsrc) - 1);
    char out[MSH_LAYER_NAME_CAP];
    msh_layer_name_from(longsrc, 1, out);
    CHECK(strlen(out) == 63 && msh_layer_name_valid(out));

    /* distinct names in one command: _2, _3, shortened to fit */
    msh_names ns;
    msh_names_init(&ns);
    char a[MSH_LAYER_NAME_CAP] = "camps", b[MSH_LAYER_NAME_CAP] = "camps", c[MSH_LAYER_NAME_CAP] = "camps";
    CHECK(msh_names_claim(&ns, a) && !strcmp(a, "camps"));
    CHECK(msh_names_claim(&ns, b) && !strcmp(b, "camps_2"));
    CHECK(msh_names_claim(&ns, c) && !strcmp(c, "camps_3"));
    char d[MSH_LAYER_NAME_CAP] = "camps_2";
    CHECK(msh_names_claim(&ns, d) && !strcmp(d, "camps_2_2"));
    char l1[MSH_LAYER_NAME_CAP], l2[MSH_LAYER_NAME_CAP];
    memcpy(l1, out, sizeof l1);
    memcpy(l2, out, sizeof l2);
    CHECK(msh_names_claim(&ns, l1) && !strcmp(l1, out));
    CHECK(msh_names_claim(&ns, l2) && strlen(l2) == 63 && !strcmp(l2 + 61, "_2") && msh_layer_name_valid(l2));
    for (int i = 0; i < 30; i++) { /* many of one name: all distinct, the store grows */
        char e[MSH_LAYER_NAME_CAP] = "zones";
        CHECK(msh_names_claim(&ns, e) && msh_layer_name_valid(e));
    }
    CHECK(ns.n == 36);
    for (size_t i = 0; i < ns.n; i++)
        for (size_t j = i + 1; j < ns.n; j++)
            CHECK(strcmp(ns.v[i], ns.v[j]) != 0);
    msh_names_free(&ns);
    CHECK_DONE();
}
