/* phrases.c: the phrase tables of walking directions, one per language (see phrases.h).
 *
 * Arabic: Modern Standard Arabic as on Saudi road and Haram signage, imperative second person
 * (انعطف يسارًا), compass points with the article after باتجاه (باتجاه الشمال الشرقي). Street names
 * come from a walkway's `name_ar`, or `name` where it has no Arabic one; English does the reverse.
 */
#include "phrases.h"

#include <string.h>

static const char *const MANEUVER[MSH_MV_COUNT] = {"depart",    "continue",  "bear right",  "bear left",
                                                   "turn right", "turn left", "turn around", "arrive"};
static const char *const COMPASS[8] = {"north", "north-east", "east", "south-east",
                                       "south", "south-west", "west", "north-west"};

static const msh_phrases EN = {
    .lang = "en",
    .street_field = "name",
    .says = {
        [MSH_MV_DEPART] = {"Head", "on", MSH_HEADING_ALWAYS},
        [MSH_MV_CONTINUE] = {"Continue", "on", MSH_HEADING_UNNAMED},
        [MSH_MV_BEAR_RIGHT] = {"Bear right", "onto", MSH_HEADING_NEVER},
        [MSH_MV_BEAR_LEFT] = {"Bear left", "onto", MSH_HEADING_NEVER},
        [MSH_MV_TURN_RIGHT] = {"Turn right", "onto", MSH_HEADING_NEVER},
        [MSH_MV_TURN_LEFT] = {"Turn left", "onto", MSH_HEADING_NEVER},
        [MSH_MV_TURN_AROUND] = {"Turn around", "on", MSH_HEADING_NEVER},
        [MSH_MV_ARRIVE] = {"Arrive at the destination", NULL, MSH_HEADING_NEVER},
    },
    .toward = "",
    .stay = "to stay on",
    .compass = {"north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west"},
};

static const msh_phrases AR = {
    .lang = "ar",
    .street_field = "name_ar",
    .says = {
        [MSH_MV_DEPART] = {"انطلق", "على", MSH_HEADING_ALWAYS},
        [MSH_MV_CONTINUE] = {"تابع السير", "على", MSH_HEADING_UNNAMED},
        [MSH_MV_BEAR_RIGHT] = {"انحرف يمينًا", "إلى", MSH_HEADING_NEVER},
        [MSH_MV_BEAR_LEFT] = {"انحرف يسارًا", "إلى", MSH_HEADING_NEVER},
        [MSH_MV_TURN_RIGHT] = {"انعطف يمينًا", "إلى", MSH_HEADING_NEVER},
        [MSH_MV_TURN_LEFT] = {"انعطف يسارًا", "إلى", MSH_HEADING_NEVER},
        [MSH_MV_TURN_AROUND] = {"استدر للخلف", "على", MSH_HEADING_NEVER},
        [MSH_MV_ARRIVE] = {"وصلت إلى وجهتك", NULL, MSH_HEADING_NEVER},
    },
    .toward = "باتجاه",
    .stay = "للبقاء على",
    .compass = {"الشمال", "الشمال الشرقي", "الشرق", "الجنوب الشرقي", "الجنوب", "الجنوب الغربي", "الغرب",
                "الشمال الغربي"},
};

static const msh_phrases *const TABLES[] = {&AR, &EN};

const char *msh_maneuver_code(msh_maneuver m) { return m < MSH_MV_COUNT ? MANEUVER[m] : "continue"; }
const char *msh_compass_code(int octant) { return COMPASS[octant & 7]; }
const char *msh_phrases_langs(void) { return "ar, en"; }

const msh_phrases *msh_phrases_find(const char *lang)
{
    for (size_t i = 0; lang && i < sizeof TABLES / sizeof *TABLES; i++)
        if (!strcmp(TABLES[i]->lang, lang))
            return TABLES[i];
    return NULL;
}

msh_rc msh_phrases_say_json(msh_buf *b, const msh_phrases *ph, msh_maneuver m, int octant, const char *name,
                            bool same)
{
    const msh_phrase *say = &ph->says[m < MSH_MV_COUNT ? m : MSH_MV_CONTINUE];
    bool named = name && *name && say->named;
    bool heading = say->heading == MSH_HEADING_ALWAYS || (say->heading == MSH_HEADING_UNNAMED && !named);
    msh_buf s;
    msh_buf_init(&s, b->limit);
    msh_buf_printf(&s, "%s", say->verb);
    if (heading)
        msh_buf_printf(&s, "%s%s %s", *ph->toward ? " " : "", ph->toward, ph->compass[octant & 7]);
    bool stays = same && m >= MSH_MV_BEAR_RIGHT && m <= MSH_MV_TURN_LEFT;
    if (named)
        msh_buf_printf(&s, " %s %s", stays ? ph->stay : say->named, name);
    msh_rc rc = msh_buf_putc(&s, 0);
    if (!rc)
        rc = msh_buf_putc(b, '"');
    if (!rc)
        rc = msh_buf_json_str(b, (const char *)s.data);
    if (!rc)
        rc = msh_buf_putc(b, '"');
    msh_buf_free(&s);
    return rc;
}
