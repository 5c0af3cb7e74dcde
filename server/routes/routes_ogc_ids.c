/* routes_ogc_ids.c: ids taken from the body where the collection's id field says so (Part 4).
 *
 * The access rules file names a collection's id field (http/access.h, "ids"). With a property
 * (assets: `asset_id`), that property is the feature's identity: every create, replace and
 * update must carry it, and no other feature of the collection may hold the same value: 409
 * {"code":"duplicate_id"}; the item is still numbered by the server. With the Feature's `id`
 * member, a create takes it (a positive integer) as the item's id; one the collection has, or
 * had before a delete (layers/edit.c checks the audit in the write's transaction), is a 409 too.
 * Without an id field the server assigns ids as before. Called under the edit lock, after the
 * catalog caught up with the store, so the check and the write see the same features; the scan
 * of the served layer is linear (the demo's 5,904 assets: tens of microseconds).
 */
#include <stdio.h>
#include <string.h>

#include "query/qs.h"
#include "routes/ogc.h"
#include "services/edit_service.h"

typedef struct {
    int field;
    const msh_value *want;
    uint64_t self;     /* the item being written (0: a create) */
    bool has_self;
    uint64_t holder;
    bool found;
} dup_scan;

static int find_dup(void *ud, const msh_feature *f)
{
    dup_scan *d = ud;
    if ((d->has_self && f->id == d->self) || !f->values || !msh_value_equals(&f->values[d->field], d->want))
        return 0;
    d->found = true;
    d->holder = f->id;
    return 1;
}

bool ogc_ids_check(msh_req *r, msh_layer *l, bool create, uint64_t self, const json_t *doc, const msh_value *values,
                   int64_t *fid)
{
    *fid = 0;
    bool member = false;
    const char *field = msh_access_id_field(msh_edit_service_access(r->app), l->info.name, &member);
    if (!field)
        return true;
    if (member) {
        if (!create)
            return true; /* the path names the item */
        const json_t *id = json_object_get(doc, "id");
        if (!json_is_integer(id) || json_integer_value(id) <= 0) {
            msh_resp_error(r, 400, "id: collection '%s' takes the item's id from the Feature's `id` member: send a "
                                   "positive integer", l->info.name);
            return false;
        }
        *fid = json_integer_value(id);
        return true; /* layers/edit.c refuses one the layer has or had, in the write's transaction */
    }
    int fi = -1;
    for (uint32_t i = 0; i < l->info.nfields; i++)
        if (!strcmp(l->info.fields[i].name, field))
            fi = (int)i;
    if (fi < 0) {
        msh_resp_error(r, 500, "the access rules name '%s' as the id of '%s', which has no such property", field,
                       l->info.name);
        return false;
    }
    if (!values || !values[fi].type) {
        msh_resp_error(r, 400, "%s: required: it is the id of collection '%s'", field, l->info.name);
        return false;
    }
    dup_scan d = {fi, &values[fi], self, !create, 0, false};
    double world[4] = {0, 0, 1, 1};
    if (l->vt->query(l, world, l->info.maxzoom, find_dup, &d)) {
        msh_resp_error(r, 500, "reading collection '%s' failed", l->info.name);
        return false;
    }
    if (d.found) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s: item %llu of '%s' has this %s already", field, (unsigned long long)d.holder,
                 l->info.name, field);
        ogc_error_code(r, 409, "duplicate_id", msg);
        return false;
    }
    return true;
}
