/* fuzz_bcastbody.c: a POST /broadcasts body (layers/live/broadcast.h) never crashes, and one that
 * passes keeps the rules: Arabic given, every text 1..MSH_BC_TEXT_MAX bytes, an expiry after now and
 * at most a week on, a drawn area within MSH_BC_MAX_VERTICES positions and inside lon/lat, an id for
 * a zone or camp; its Feature is JSON that reads back, and the area written out reads back the same
 * (positions, rings) and contains the same points. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "live/broadcast.h"

#define NOW 1780000000000LL

static void check_area_roundtrip(const msh_bc_area *a)
{
    msh_buf out;
    msh_buf_init(&out, (size_t)4 << 20);
    msh_bc_area_geojson(&out, a);
    json_error_t je;
    json_t *g = json_loadb((const char *)out.data, out.len, 0, &je);
    if (!g)
        abort();
    msh_bc_area back = {0};
    msh_err err;
    if (msh_bc_area_geojson_in(g, MSH_BC_AREA_MAX_VERTICES, &back, &err) || back.npts != a->npts ||
        back.nparts != a->nparts)
        abort();
    /* written with 7 decimals: where that kept every position, a vertex's neighbourhood answers the same */
    bool same = !memcmp(a->xy, back.xy, sizeof(double) * 2 * a->npts);
    for (uint32_t i = 0; same && i < a->npts; i += 7) {
        double x = a->xy[2 * i] + 1e-9, y = a->xy[2 * i + 1] + 1e-9;
        if (msh_bc_area_contains(a, x, y) != msh_bc_area_contains(&back, x, y))
            abort();
    }
    if (msh_bc_area_intersects(a, &back) != msh_bc_area_intersects(&back, a)) /* symmetric */
        abort();
    msh_bc_area_free(&back);
    json_decref(g);
    msh_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    msh_broadcast b;
    msh_err err;
    msh_rc rc = msh_bc_parse((const char *)data, size, NOW, &b, &err);
    if (rc) {
        if (!err.msg[0])
            abort();
        msh_bc_free(&b);
        return 0;
    }
    if (!b.text[0] || b.expires_ms <= NOW || b.expires_ms - NOW > MSH_BC_EXPIRY_MAX_MS)
        abort();
    for (int i = 0; i < MSH_BC_NLANGS; i++)
        if (b.text[i] && (!b.text[i][0] || strlen(b.text[i]) > MSH_BC_TEXT_MAX))
            abort();
    if (b.target == MSH_BC_GEOMETRY) {
        if (!b.area.npts || b.area.npts > MSH_BC_MAX_VERTICES || b.area.bbox[0] < -180 || b.area.bbox[2] > 180 ||
            b.area.bbox[1] < -90 || b.area.bbox[3] > 90)
            abort();
        check_area_roundtrip(&b.area);
    } else if (!b.target_id[0]) {
        abort();
    }
    snprintf(b.id, sizeof b.id, "bc-fuzz");
    if (!(b.zones = strdup("MINA-04,A")))
        abort();
    msh_buf out;
    msh_buf_init(&out, (size_t)4 << 20);
    msh_bc_feature(&out, &b, NOW, true);
    json_error_t je;
    json_t *doc = json_loadb((const char *)out.data, out.len, 0, &je);
    if (!doc || !json_is_object(json_object_get(doc, "properties")))
        abort();
    json_t *msg = json_object_get(json_object_get(doc, "properties"), "message");
    msh_broadcast again = {0};
    if (msh_bc_messages(msg, &again, &err)) /* what was accepted and written out is accepted again */
        abort();
    for (int i = 0; i < MSH_BC_NLANGS; i++)
        if ((again.text[i] == NULL) != (b.text[i] == NULL) || (b.text[i] && strcmp(again.text[i], b.text[i])))
            abort();
    msh_bc_free(&again);
    json_decref(doc);
    msh_buf_free(&out);
    msh_bc_free(&b);
    return 0;
}
