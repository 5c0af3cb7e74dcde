/* cql2.h: CQL2-text filters for one layer: parse to an expression tree, evaluate per feature.
 *
 * The subset (OGC 21-065, CQL2 1.0):
 *   - Basic CQL2: =, <>, <, <=, >, >=, IS [NOT] NULL, AND, OR, NOT, parentheses, TRUE/FALSE;
 *     string ('it''s'), number, boolean, TIMESTAMP('...') and DATE('...') literals; property
 *     names bare or "double-quoted".
 *   - Advanced comparison: [NOT] LIKE ('%' any run, '_' one character, '\' escapes),
 *     [NOT] BETWEEN a AND b, [NOT] IN (list).
 *   - Basic spatial functions (+ plus): S_INTERSECTS(geometry, WKT or BBOX(...)) for POINT,
 *     LINESTRING, POLYGON (holes), MULTI*, GEOMETRYCOLLECTION and BBOX, in CRS84.
 * Properties are bound to the layer's fields at parse time, so an unknown property or a type
 * mismatch (a string field against a number) is a parse error naming the property. Logic is
 * three-valued (a null or unreadable value makes its comparison unknown); only TRUE keeps a feature.
 *
 * Limits against hostile input: MSH_CQL2_MAX_LEN bytes of text, MSH_CQL2_MAX_DEPTH nesting
 * (parentheses and NOT), MSH_CQL2_MAX_NODES nodes. Every limit is a parse error, never a crash.
 *
 * A parsed filter keeps scratch memory for geometry and is used by one thread at a time.
 */
#ifndef MSH_CQL2_H
#define MSH_CQL2_H

#include <stdbool.h>
#include <stddef.h>

#include "core/msh_err.h"
#include "layer.h"

#define MSH_CQL2_MAX_LEN 16384
#define MSH_CQL2_MAX_DEPTH 64
#define MSH_CQL2_MAX_NODES 2048

/** Name of the geometry property in filters and queryables. */
#define MSH_CQL2_GEOMETRY "geometry"

typedef struct msh_cql2 msh_cql2;

/**
 * Parse `text` (len bytes, need not be NUL-terminated) against `info`'s fields. On success *out
 * is a filter the caller frees with msh_cql2_free. On failure MSH_EINVAL (or MSH_ENOMEM) and
 * err says where and what ("filter: at character 12: ...").
 */
msh_rc msh_cql2_parse(const char *text, size_t len, const msh_layer_info *info, msh_cql2 **out, msh_err *err);

/** True when the feature satisfies the filter. */
bool msh_cql2_match(msh_cql2 *f, const msh_feature *feat);

/** True when the filter looks at geometry (S_INTERSECTS). */
bool msh_cql2_uses_geometry(const msh_cql2 *f);

/**
 * A lon/lat box (west, south, east, north) every match must meet, when the filter says so (an
 * S_INTERSECTS with a literal at the top, or inside a top-level AND): lets the caller ask the
 * layer's R-tree for less. False when the filter does not bound the geometry.
 */
bool msh_cql2_bbox(const msh_cql2 *f, double out[4]);

void msh_cql2_free(msh_cql2 *f);

/** LIKE matching on UTF-8 bytes: '%' any run, '_' one code point, '\' escapes the next character. */
bool msh_cql2_like(const char *s, size_t slen, const char *pat, size_t plen);

#endif
