/* broadcast.h: the rules of a broadcast to an area (POST /broadcasts): what a body must hold, the
 * area it covers, and whether a place is in it.
 *
 * Design: a broadcast is a message in several languages for the people in one area, with a
 * severity and an expiry. The body names its target as exactly one of a service zone (`zone`),
 * a camp (`camp`) or a GeoJSON Polygon/MultiPolygon (`geometry`); the server turns a zone or camp
 * into that feature's polygons (server/services/broadcast_service.c), so every broadcast carries
 * its area as lon/lat rings. Whether a place is covered is the even-odd rule over every ring
 * (core/msh_pip.h, holes included); whether an area touches a zone is "a vertex of one inside the
 * other, or two edges cross", tested after the bounding boxes. Everything here is pure: no clock
 * (the caller passes now), no store, no locks.
 *
 * The rules, each refused with 400 naming the member:
 * - only the members target, message, severity, expires; each present;
 * - target: an object with exactly one of zone, camp (an id of 1..64 printable bytes) or geometry
 *   (Polygon or MultiPolygon, at most MSH_BC_MAX_VERTICES positions in all, each ring closed and of
 *   4 or more positions, longitudes -180..180, latitudes -90..90);
 * - message: an object of language code -> text (1..MSH_BC_TEXT_MAX bytes of UTF-8, no control
 *   characters but newline and tab), codes from the table below; Arabic (`ar`) is required: the
 *   platform is Arabic-first and every pilgrim's phone can show it;
 * - severity: info, warning or danger;
 * - expires: an ISO 8601 UTC time after now and at most MSH_BC_EXPIRY_MAX_MS later.
 */
#ifndef MSH_LIVE_BROADCAST_H
#define MSH_LIVE_BROADCAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/msh_buf.h"
#include "core/msh_err.h"
#include "geom.h"

#define MSH_BC_BODY_MAX ((size_t)32 << 10)      /* a request body: 16 texts of 1,000 bytes and a drawn polygon */
#define MSH_BC_MAX_VERTICES 500                 /* positions of a given (drawn) polygon */
#define MSH_BC_AREA_MAX_VERTICES 1000000u       /* positions of a stored area (a zone's polygons) */
#define MSH_BC_TEXT_MAX 1000                    /* bytes of one language's text */
#define MSH_BC_ID_MAX 64                        /* bytes of a zone or camp id */
#define MSH_BC_EXPIRY_MAX_MS (7 * 86400000LL)  /* the furthest expiry: a week */

typedef enum { MSH_BC_ZONE = 0, MSH_BC_CAMP, MSH_BC_GEOMETRY } msh_bc_target;
typedef enum { MSH_BC_INFO = 0, MSH_BC_WARNING, MSH_BC_DANGER } msh_bc_severity;

/** The languages a message may be written in: code, and whether it is written right to left. */
typedef struct msh_bc_lang {
    const char *code;
    bool rtl;
} msh_bc_lang;
extern const msh_bc_lang msh_bc_langs[];
#define MSH_BC_NLANGS 16

/** Polygons in lon/lat: rings as in geom.h (MSH_RING_OUTER marks the first ring of a polygon). */
typedef struct msh_bc_area {
    double *xy;
    uint32_t npts;
    uint32_t *parts;
    uint32_t nparts;
    double bbox[4]; /* west, south, east, north */
} msh_bc_area;

typedef struct msh_broadcast {
    char id[40];
    msh_bc_target target;
    char target_id[MSH_BC_ID_MAX + 1]; /* zone or camp id; "" for a geometry */
    msh_bc_area area;
    char *text[MSH_BC_NLANGS]; /* by msh_bc_langs index; NULL: not given */
    msh_bc_severity severity;
    int64_t created_ms, expires_ms, withdrawn_ms; /* withdrawn_ms 0: not withdrawn */
    char by_name[64], by_role[16];
    char *zones; /* the service zones it targets or touches: "A,B" ("" none) */
} msh_broadcast;

/**
 * Read a POST /broadcasts body into `out` (zeroed first; msh_bc_free it, on failure too): target
 * (the area only for a geometry), messages, severity, expiry. MSH_EINVAL naming the member.
 */
msh_rc msh_bc_parse(const char *body, size_t len, int64_t now_ms, msh_broadcast *out, msh_err *err);

/** The messages object (code -> text) into b->text, with the rules above (also to reload one). */
msh_rc msh_bc_messages(const json_t *msg, msh_broadcast *b, msh_err *err);

/** A GeoJSON Polygon or MultiPolygon into `out` (reset first), at most `max_vertices` positions. */
msh_rc msh_bc_area_geojson_in(const json_t *g, uint32_t max_vertices, msh_bc_area *out, msh_err *err);
/** Append the polygons of `g` (world units, geom.h; other families: nothing) to `a` in lon/lat. */
msh_rc msh_bc_area_add_world(msh_bc_area *a, const msh_geom *g, msh_err *err);
bool msh_bc_area_contains(const msh_bc_area *a, double lon, double lat);
/** Do the two areas share a point (a vertex of one inside the other, or crossing edges)? */
bool msh_bc_area_intersects(const msh_bc_area *a, const msh_bc_area *b);
/** Write the area as a GeoJSON Polygon (one polygon) or MultiPolygon. */
void msh_bc_area_geojson(msh_buf *out, const msh_bc_area *a);
void msh_bc_area_free(msh_bc_area *a);
msh_rc msh_bc_area_copy(msh_bc_area *dst, const msh_bc_area *src);

/** Does the broadcast list `zone` among the zones it targets or touches? */
bool msh_bc_in_zone(const msh_broadcast *b, const char *zone);
/** Active: not withdrawn and not expired at `now_ms`. */
bool msh_bc_active(const msh_broadcast *b, int64_t now_ms);
const char *msh_bc_severity_name(msh_bc_severity s);
const char *msh_bc_target_name(msh_bc_target t);

/**
 * The broadcast as a GeoJSON Feature: its area as the geometry, and properties id, status
 * (active, expired, withdrawn), severity, target ({"zone": id} ...), message (code -> text), dir
 * (code -> "rtl" or "ltr"), zones, created, expires, withdrawn; author ({name, role}) only when
 * `with_author` (ops readers: a token's name is not for the public).
 */
void msh_bc_feature(msh_buf *out, const msh_broadcast *b, int64_t now_ms, bool with_author);
/** Only the messages object (code -> text), as stored. */
void msh_bc_messages_json(msh_buf *out, const msh_broadcast *b);

void msh_bc_free(msh_broadcast *b);

#endif
