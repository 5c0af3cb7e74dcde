/* ngsi.h: FIWARE NGSI entities (NGSI v2 and NGSI-LD) as the feeds' flat records.
 *
 * FIWARE brokers and devices send an entity with each attribute wrapped: NGSI v2
 * `"fillingLevel": {"type": "Number", "value": 0.85}`, NGSI-LD
 * `"fillingLevel": {"type": "Property", "value": 0.85, "observedAt": "..."}` and
 * `"location": {"type": "GeoProperty", "value": {"type": "Point", ...}}`. The feeds read flat
 * objects (feeds.h), so each entity is flattened first: an attribute object with a `value` member
 * becomes that value (a Relationship, with `object` instead, is dropped), an NGSI-LD typed literal
 * `{"@type": "DateTime", "@value": "..."}` becomes its `@value`, `type` and `@context` are dropped,
 * and an entity without `dateObserved` (or `time`) takes its time from an attribute's `observedAt`
 * (NGSI-LD) or `TimeInstant` metadata (NGSI v2), the latest of them. Already-flat attributes (the
 * keyValues form) are kept as they are.
 *
 * A body is NGSI when it is an entity (an object with a string `id` and `type`), a non-empty array
 * (NGSI-LD batch upsert), `{"actionType": ..., "entities": [...]}` (NGSI v2 batch update) or a
 * notification `{"data": [...]}` (both versions). Each entity is numbered from 1 in the body,
 * as NDJSON lines are. Nothing is allocated beyond the parsed document and one entity's text.
 */
#ifndef MSH_NGSI_H
#define MSH_NGSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/** Whether `doc` is one of the NGSI bodies above. */
bool msh_ngsi_is_body(const json_t *doc);

/** Called with each entity as one flat JSON object (text, NUL-terminated), or with obj NULL and
 * a reason when the entity could not be read at all (not an object). `index` counts from 1. */
typedef void (*msh_ngsi_fn)(void *ud, uint64_t index, const char *obj, const char *why);

/** Flatten every entity of an NGSI body in order. */
void msh_ngsi_each(const json_t *doc, msh_ngsi_fn fn, void *ud);

#endif
