/* feed_sniff.h: what a feed body that comes without a media type is: NDJSON lines, or one JSON
 * document (a GeoJSON FeatureCollection, or FIWARE NGSI entities).
 *
 * HTTP clients say what they send (Content-Type); MQTT 3.1.1 has no such header, and a FIWARE
 * broker or device publishing to `mashaer/feeds/bins` sends an NGSI entity, batch or notification,
 * often pretty-printed over many lines. Read as NDJSON that would be a string of broken lines, so
 * the body's shape decides, the same way for both transports (POST /feeds without a Content-Type,
 * and every MQTT message):
 *
 *  - an object naming `FeatureCollection` in its first 200 bytes: a document;
 *  - a body starting with `[` (after white space): a document (an NGSI-LD batch; an NDJSON line
 *    must be an object, so an array can be nothing else), even if it does not parse: the
 *    document parser then refuses the whole body (400), nothing of it applied;
 *  - a body starting with `{` that parses as one JSON value and is an NGSI body (ngsi.h): a
 *    document. NDJSON of two lines or more stops the parse at the end of its first line, so an
 *    NDJSON batch costs one line's parse here. A single flat record with `id` and `type` reads the
 *    same both ways (the feeds read no `type`);
 *  - a body starting with `{` that is no JSON value, over several lines, whose first line is no
 *    JSON value either: a document cut short or broken (a pretty-printed notification that lost
 *    its end), refused whole (400), nothing of it applied. NDJSON's first line is a whole record,
 *    so a batch whose first record is broken is refused whole too, not line by line;
 *  - anything else (a body of one line that is no JSON: one bad record): NDJSON.
 *
 * Pure: no clock, no lock; allocates only the parsed values of a body starting with `{` (the
 * whole body, then at most its first line).
 */
#ifndef MSH_FEED_SNIFF_H
#define MSH_FEED_SNIFF_H

#include <stdbool.h>
#include <stddef.h>

/** Whether an untyped feed body is to be read as one JSON document (true) or as NDJSON (false). */
bool msh_feed_body_is_document(const char *body, size_t len);

#endif
