/* jsonrec.h: a strict, allocation-free reader of one flat JSON object (one NDJSON line).
 *
 * Live feeds arrive as hundreds of thousands of small objects a second; a
 * general JSON tree per record would cost more than everything else the
 * server does with it. This reader scans one object into at most
 * MSH_JREC_MAX_FIELDS (key, value) slices pointing into the input. String
 * values are validated but kept escaped (msh_jrec_str unescapes on demand);
 * nested objects and arrays are kept as raw slices (the caller reads
 * "location" with msh_jrec_point). Anything that is not exactly one JSON
 * object (with optional surrounding white space) is rejected with a reason.
 */
#ifndef MSH_JSONREC_H
#define MSH_JSONREC_H

#include <stdbool.h>
#include <stddef.h>

#define MSH_JREC_MAX_FIELDS 32
#define MSH_JREC_MAX_DEPTH 8

typedef enum { MSH_JV_STRING = 1, MSH_JV_NUMBER, MSH_JV_BOOL, MSH_JV_NULL, MSH_JV_OBJECT, MSH_JV_ARRAY } msh_jv_type;

typedef struct msh_jfield {
    const char *key; /* raw, without quotes (keys with escapes are rejected) */
    size_t key_len;
    msh_jv_type type;
    const char *val; /* strings: the inside of the quotes, still escaped; others: the raw text */
    size_t val_len;
} msh_jfield;

typedef struct msh_jrec {
    int n;
    msh_jfield f[MSH_JREC_MAX_FIELDS];
} msh_jrec;

/** Parse `s[0..len)` as one object. Returns 0, or -1 with a static reason in *why. */
int msh_jrec_parse(const char *s, size_t len, msh_jrec *rec, const char **why);
/** The field named `key`, or NULL. */
const msh_jfield *msh_jrec_get(const msh_jrec *rec, const char *key);
/** A number field as a double (strict JSON number); false if absent or not a number. */
bool msh_jrec_num(const msh_jfield *f, double *out);
/** Unescape a string field into out (cap bytes, NUL-terminated, valid UTF-8); false if too long or not a string. */
bool msh_jrec_str(const msh_jfield *f, char *out, size_t cap, size_t *len);
/** A GeoJSON Point object field {"type":"Point","coordinates":[lon,lat]}; false otherwise. */
bool msh_jrec_point(const msh_jfield *f, double *lon, double *lat);

#endif
