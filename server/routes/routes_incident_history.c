/* routes_incident_history.c: the histories of the live items operators write:
 * GET /ogc/collections/incidents/items/{id}/history, an incident's lifecycle, and
 * GET /ogc/collections/gates/items/{id}/history, a gate's opening and closing by operators
 * (msh_gate_history: time, state, reason, reopens_at, by; a feed's counts are not kept there).
 *
 * An incident's lifecycle as the store keeps it (layers/live/incident_log.h: msh_incident_history, one row per
 * accepted update), served the way a static item's history is (routes_ogc_write.c): oldest
 * first, paged by `limit` and `cursor` (the seq of the last version of the previous page), each
 * version with its time, status and the incident as a GeoJSON Feature then.
 *
 * {id} is the incident's own id (the `id` property, as feeds send it). The rows are written by
 * the incident log's thread about once a second after the feed's answer, so the newest update
 * may show up to a second later here than on the live map. An operator's write names its author
 * as the static histories do, `by` {name, role} (the token's, from the live log record); a feed
 * record names none: `by` is null. Read through the edit connection under the edit lock (services/edit_service.h), like
 * the other histories; an ops token, as the route row says.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "routes/ogc.h"
#include "routes/routes.h"
#include "services/edit_service.h"
#include "store_sql.h"

#define INCIDENT_ID_MAX 128

/* {id} of ".../items/{id}/history" (the path comes decoded): the characters incident ids use. */
static bool incident_id(const char *seg, size_t n, char *out, size_t cap)
{
    if (n == 0 || n >= cap)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)seg[i]) && !strchr("._:-", seg[i]))
            return false;
    memcpy(out, seg, n);
    out[n] = 0;
    return true;
}

static void str_or_null(msh_buf *b, msh_sql *st, int col)
{
    const char *s = msh_sql_text(st, col, NULL);
    if (!s) {
        msh_buf_printf(b, "null");
        return;
    }
    msh_buf_putc(b, '"');
    ogc_json_str(b, s, strlen(s));
    msh_buf_putc(b, '"');
}

/* The author of the row at columns col, col + 1: {name, role}, or null (a feed record). */
static void by_json(msh_buf *b, msh_sql *st, int col)
{
    msh_buf_printf(b, ",\"by\":");
    if (!msh_sql_text(st, col, NULL)) {
        msh_buf_printf(b, "null");
        return;
    }
    msh_buf_printf(b, "{\"name\":");
    str_or_null(b, st, col);
    msh_buf_printf(b, ",\"role\":");
    str_or_null(b, st, col + 1);
    msh_buf_putc(b, '}');
}

/* An incident version: time, status, by, and the incident then as a Feature. */
static void incident_row(msh_buf *b, msh_sql *st, const char *id)
{
    str_or_null(b, st, 1);
    msh_buf_printf(b, ",\"status\":");
    str_or_null(b, st, 2);
    by_json(b, st, 8);
    msh_buf_printf(b, ",\"feature\":{\"type\":\"Feature\",\"id\":\"");
    ogc_json_str(b, id, strlen(id));
    msh_buf_printf(b, "\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[%.9f,%.9f]},\"properties\":{\"id\":\"",
                   msh_sql_num(st, 6), msh_sql_num(st, 7));
    ogc_json_str(b, id, strlen(id));
    static const char *const names[] = {"status", "severity", "kind", "description", "updated_at"};
    static const int cols[] = {2, 3, 4, 5, 1};
    msh_buf_putc(b, '"');
    for (int i = 0; i < 5; i++) {
        msh_buf_printf(b, ",\"%s\":", names[i]);
        str_or_null(b, st, cols[i]);
    }
    msh_buf_printf(b, "}}");
}

/* A gate version: time, state, reason, by, and a closing's planned reopening (reopens_at). */
static void gate_row(msh_buf *b, msh_sql *st, const char *id)
{
    (void)id;
    str_or_null(b, st, 1);
    msh_buf_printf(b, ",\"state\":");
    str_or_null(b, st, 2);
    msh_buf_printf(b, ",\"reason\":");
    str_or_null(b, st, 3);
    msh_buf_printf(b, ",\"reopens_at\":");
    str_or_null(b, st, 6);
    by_json(b, st, 4);
}

typedef struct {
    const char *coll, *what; /* "incidents", "incident" */
    const char *sql;         /* ?1 id, ?2 after rowid, ?3 limit; rowid first, then what row() reads */
    void (*row)(msh_buf *b, msh_sql *st, const char *id);
} history_kind;

static const history_kind INCIDENTS = {
    "incidents", "incident",
    "SELECT rowid, time, status, severity, kind, description, lon, lat, by_name, by_role FROM msh_incident_history"
    " WHERE id = ?1 AND rowid > ?2 ORDER BY rowid LIMIT ?3",
    incident_row};
static const history_kind GATES = {"gates", "gate",
                                   "SELECT rowid, time, state, reason, by_name, by_role, reopens_at FROM msh_gate_history"
                                   " WHERE id = ?1 AND rowid > ?2 ORDER BY rowid LIMIT ?3",
                                   gate_row};

static void serve_history(msh_req *r, const history_kind *k, const char *seg, size_t seglen)
{
    char id[INCIDENT_ID_MAX + 1];
    if (!incident_id(seg, seglen, id, sizeof id)) {
        msh_resp_error(r, 404, "no %s '%.*s'", k->what, (int)(seglen > 80 ? 80 : seglen), seg);
        return;
    }
    if (!r->app->edit) {
        msh_resp_error(r, 404, "no %s history on this server (edits are off)", k->what);
        return;
    }
    long limit;
    int64_t after;
    if (!ogc_history_page(r, &limit, &after))
        return;
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    msh_store *store = msh_edit_service_lock(r->app);
    msh_sql *st = NULL;
    int n = 0, step = MSH_SQL_DONE;
    long long last = 0;
    bool more = false;
    /* the tables are made by the incident log (absent with --no-live): no history then */
    if (msh_sql_prepare(store, k->sql, &st) == MSH_OK) {
        msh_sql_bind_text(st, 1, id, -1);
        msh_sql_bind_int(st, 2, after);
        msh_sql_bind_int(st, 3, limit + 1);
        msh_buf_printf(&b, "{\"collection\":\"%s\",\"id\":\"", k->coll);
        ogc_json_str(&b, id, strlen(id));
        msh_buf_printf(&b, "\",\"versions\":[");
        while ((step = msh_sql_step(st)) == MSH_SQL_ROW) {
            if (n == limit) {
                more = true;
                break;
            }
            last = msh_sql_int(st, 0);
            msh_buf_printf(&b, "%s{\"seq\":%lld,\"op\":\"%s\",\"at\":", n ? "," : "", last,
                           n == 0 && after == 0 && k == &INCIDENTS ? "create" : "update");
            k->row(&b, st, id);
            msh_buf_putc(&b, '}');
            n++;
        }
    }
    bool table = st != NULL;
    msh_sql_finalize(st);
    msh_edit_service_unlock(r->app);
    if (!table) {
        msh_resp_error(r, 404, "no %s history on this server (live feeds are off)", k->what);
    } else if (step == MSH_SQL_ERROR) {
        msh_resp_error(r, 500, "reading the %s history failed", k->what);
    } else if (n == 0 && after == 0) {
        msh_resp_error(r, 404, "no %s '%s' in the history", k->what, id);
    } else {
        char base[320];
        msh_req_base_url(r, base, sizeof base);
        msh_buf_printf(&b, "],\"numberReturned\":%d,\"links\":[", n);
        if (more) {
            msh_buf_printf(&b, "{\"href\":\"%s/ogc/collections/%s/items/%.*s/history?limit=%ld&cursor=%lld\","
                               "\"rel\":\"next\",\"type\":\"application/json\"}",
                           base, k->coll, (int)seglen, seg, limit, last);
        }
        msh_buf_printf(&b, "]}\n");
        r->resp.cache_control = "private, no-store";
        msh_resp_buf(r, 200, "application/json", &b);
    }
    msh_buf_free(&b);
}

void msh_route_incident_history(msh_req *r, const char *seg, size_t seglen)
{
    serve_history(r, &INCIDENTS, seg, seglen);
}

void msh_route_gate_history(msh_req *r, const char *seg, size_t seglen)
{
    serve_history(r, &GATES, seg, seglen);
}
