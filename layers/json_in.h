/* json_in.h: JSON a client sends (Part 4 bodies, merge patches, the access file), read into a
 * jansson tree with bounds.
 *
 * jansson parses; this file bounds what it is given: the text's size (the caller's cap), the
 * nesting depth (checked by a linear scan before jansson recurses: a body of 100,000 '[' costs a
 * scan, never a deep recursion), duplicate object keys (refused: which one would count is not
 * said by RFC 8259), NUL characters in strings (refused). Numbers out of the double range
 * (1e999) are refused by jansson; JSON has no NaN or Infinity.
 */
#ifndef MSH_JSON_IN_H
#define MSH_JSON_IN_H

#include <jansson.h>
#include <stddef.h>

#include "core/msh_err.h"

/** Deepest nesting of arrays and objects accepted by msh_json_in (a Polygon is 4 deep in a Feature). */
#define MSH_JSON_IN_MAX_DEPTH 16

/**
 * Parse `len` bytes of `text` as one JSON value no deeper than `max_depth`. On success *out holds
 * a new reference. Errors: MSH_EINVAL with where and why ("at line 1, column 12: ...").
 */
msh_rc msh_json_in(const char *text, size_t len, int max_depth, json_t **out, msh_err *err);

/** The nesting depth of the JSON text (arrays and objects; strings skipped), stopping once past `stop`. */
int msh_json_depth(const char *text, size_t len, int stop);

/**
 * RFC 7396 JSON Merge Patch: apply `patch` to `target` (a new reference is consumed; NULL counts
 * as absent) and return the result (a new reference; NULL only when out of memory). A member
 * whose patch value is null is removed; an object patch merges member by member; anything else
 * replaces. Recursion is as deep as the patch (bounded by msh_json_in).
 */
json_t *msh_merge_patch(json_t *target, const json_t *patch);

#endif
