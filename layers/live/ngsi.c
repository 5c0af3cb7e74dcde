/* ngsi.c: NGSI v2 and NGSI-LD entities flattened into the feeds' records (ngsi.h). */
#include "ngsi.h"

#include <stdlib.h>
#include <string.h>

#include "core/msh_time.h"

static bool is_entity(const json_t *e)
{
    return json_is_object(e) && json_is_string(json_object_get(e, "id")) && json_is_string(json_object_get(e, "type"));
}

/* The list of entities of a body, or NULL when it is none of the NGSI forms. */
static const json_t *entities(const json_t *doc, bool *single)
{
    *single = false;
    if (json_is_array(doc)) /* NGSI-LD batch: [entity, ...]; empty, it is no batch (and no FeatureCollection): 400 */
        return json_array_size(doc) ? doc : NULL;
    if (!json_is_object(doc))
        return NULL;
    const json_t *l = json_object_get(doc, "entities"); /* NGSI v2 batch: {"actionType":..,"entities":[..]} */
    if (json_is_array(l) && json_object_get(doc, "actionType"))
        return l;
    l = json_object_get(doc, "data"); /* a subscription's notification */
    if (json_is_array(l) && (json_object_get(doc, "subscriptionId") || is_entity(doc)))
        return l;
    if (is_entity(doc)) {
        *single = true;
        return doc;
    }
    return NULL;
}

bool msh_ngsi_is_body(const json_t *doc)
{
    bool single;
    return entities(doc, &single) != NULL;
}

/* The time an attribute was observed: NGSI-LD observedAt, or NGSI v2 metadata TimeInstant. */
static const char *observed_at(const json_t *attr)
{
    const char *s = json_string_value(json_object_get(attr, "observedAt"));
    if (s)
        return s;
    const json_t *ti = json_object_get(json_object_get(attr, "metadata"), "TimeInstant");
    return json_string_value(json_object_get(ti, "value"));
}

/* An attribute's plain value: `value` of a wrapped attribute, `@value` of a typed literal, else itself;
 * NULL for a Relationship (what it points at is no reading). */
static json_t *plain(json_t *attr)
{
    if (!json_is_object(attr))
        return attr;
    json_t *v = json_object_get(attr, "value");
    if (v) {
        json_t *lit = json_is_object(v) ? json_object_get(v, "@value") : NULL;
        return lit ? lit : v;
    }
    if ((v = json_object_get(attr, "@value")))
        return v;
    if (json_object_get(attr, "object"))
        return NULL;
    return attr;
}

static char *flatten(json_t *e)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    const char *key;
    json_t *attr;
    const char *latest = NULL;
    int64_t latest_ms = 0;
    json_object_foreach(e, key, attr)
    {
        if (!strcmp(key, "type") || !strcmp(key, "@context"))
            continue;
        const char *at = json_is_object(attr) ? observed_at(attr) : NULL;
        int64_t ms;
        msh_err err;
        if (at && !msh_time_parse_iso(at, strlen(at), &ms, &err) && (!latest || ms > latest_ms)) {
            latest = at;
            latest_ms = ms;
        }
        json_t *v = plain(attr);
        if (v && json_object_set(o, key, v)) {
            json_decref(o);
            return NULL;
        }
    }
    if (latest && !json_object_get(o, "dateObserved") && !json_object_get(o, "time") &&
        json_object_set_new(o, "time", json_string(latest))) {
        json_decref(o);
        return NULL;
    }
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

void msh_ngsi_each(const json_t *doc, msh_ngsi_fn fn, void *ud)
{
    bool single;
    const json_t *list = entities(doc, &single);
    if (!list)
        return;
    size_t n = single ? 1 : json_array_size(list);
    for (size_t i = 0; i < n; i++) {
        json_t *e = single ? (json_t *)list : json_array_get(list, i);
        if (!json_is_object(e)) {
            fn(ud, i + 1, NULL, "an NGSI entity must be a JSON object");
            continue;
        }
        char *text = flatten(e);
        fn(ud, i + 1, text, text ? NULL : "out of memory");
        free(text);
    }
}
