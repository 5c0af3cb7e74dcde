/* feed_sniff.c: an untyped feed body's format, from its shape (feed_sniff.h). */
#include "feed_sniff.h"

#include <string.h>

#include <jansson.h>

#include "ngsi.h"

#define SNIFF_BYTES 200 /* how far into the body `FeatureCollection` is looked for */

static bool names_feature_collection(const char *p, size_t len)
{
    size_t end = len > SNIFF_BYTES ? SNIFF_BYTES : len;
    for (size_t j = 0; j + 17 <= end; j++)
        if (!memcmp(p + j, "FeatureCollection", 17))
            return true;
    return false;
}

bool msh_feed_body_is_document(const char *body, size_t len)
{
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
        i++;
    if (i == len)
        return false;
    if (body[i] == '[')
        return true;
    if (body[i] != '{')
        return false;
    if (names_feature_collection(body + i, len - i))
        return true;
    json_error_t je;
    json_t *doc = json_loadb(body + i, len - i, JSON_REJECT_DUPLICATES, &je);
    if (doc) {
        bool ngsi = msh_ngsi_is_body(doc);
        json_decref(doc);
        return ngsi;
    }
    /* not one value: NDJSON (its first line is a whole value), or a document over several lines cut
     * short or broken, which the document parser refuses whole */
    const char *p = body + i, *end = body + len;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl)
        return false; /* one line: one NDJSON record, refused as such */
    const char *q = nl;
    while (q < end && (*q == ' ' || *q == '\n' || *q == '\r' || *q == '\t'))
        q++;
    if (q == end)
        return false;
    json_t *first = json_loadb(p, (size_t)(nl - p), 0, &je);
    json_decref(first);
    return first == NULL;
}
