/* phrases.h: the words of walking directions, one table per language (phrases.c).
 *
 * A step of a route is a maneuver (depart, continue, bear/turn left or right, turn around, arrive),
 * a compass heading and, where the way has one, a street name. The maneuver and heading codes are
 * the same in every language (the `maneuver` and `heading` fields of /route's steps); the sentence
 * read to a person is made from the table of the language asked for (`lang`). Adding a language is
 * one more table in phrases.c and one more row in its list.
 */
#ifndef MSH_PHRASES_H
#define MSH_PHRASES_H

#include <stdbool.h>

#include "core/msh_buf.h"

typedef enum msh_maneuver {
    MSH_MV_DEPART,
    MSH_MV_CONTINUE,
    MSH_MV_BEAR_RIGHT,
    MSH_MV_BEAR_LEFT,
    MSH_MV_TURN_RIGHT,
    MSH_MV_TURN_LEFT,
    MSH_MV_TURN_AROUND,
    MSH_MV_ARRIVE,
    MSH_MV_COUNT
} msh_maneuver;

/** When a sentence says the compass heading. */
typedef enum msh_say_heading { MSH_HEADING_NEVER, MSH_HEADING_ALWAYS, MSH_HEADING_UNNAMED } msh_say_heading;

typedef struct msh_phrase {
    const char *verb;      /* "Turn left" */
    const char *named;     /* the word before a street name ("onto"); NULL: the name is not said */
    msh_say_heading heading;
} msh_phrase;

typedef struct msh_phrases {
    const char *lang;                /* BCP 47: "en", "ar" */
    const char *street_field;        /* the walkway field its street names come from first */
    msh_phrase says[MSH_MV_COUNT];
    const char *toward;              /* the word before a compass heading ("" in English) */
    const char *stay;                /* a bend or turn that keeps to the same street: "to stay on" */
    const char *compass[8];          /* N, NE, E, SE, S, SW, W, NW */
} msh_phrases;

/** The language-neutral codes: "depart", "turn left", ... and "north", "north-east", ... */
const char *msh_maneuver_code(msh_maneuver m);
const char *msh_compass_code(int octant);

/** The table for `lang` ("en", "ar"); NULL when there is none. */
const msh_phrases *msh_phrases_find(const char *lang);
/** The languages there are tables for, for messages: "ar, en". */
const char *msh_phrases_langs(void);

/**
 * Append the sentence for maneuver m, heading octant (0..7) and street `name` ("" or NULL: none)
 * to b as a JSON string. `same`: the step before was on that street too (a bend or turn then says
 * it stays on it).
 */
msh_rc msh_phrases_say_json(msh_buf *b, const msh_phrases *ph, msh_maneuver m, int octant, const char *name,
                            bool same);

#endif
