/* routes_broadcasts.c: POST/GET /broadcasts, GET/DELETE /broadcasts/{id}.
 *
 * The rules of a body are layers/live/broadcast.h, the keeping of broadcasts
 * server/services/broadcast_service.h; here: arguments, the author, status codes.
 *   POST   /broadcasts            (ops)    201 + Location: /broadcasts/{id} + the Feature
 *   GET    /broadcasts?lon=&lat=  or ?zone=ID or nothing: the active ones, a FeatureCollection
 *   GET    /broadcasts/{id}                the Feature (404 when not active)
 *   DELETE /broadcasts/{id}       (ops)    withdrawn: 200 + the Feature (status "withdrawn")
 * Reads are public (pilgrims' phones poll them); an ops token also sees each author.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_time.h"
#include "http/auth.h"
#include "routes/routes.h"
#include "services/broadcast_service.h"

#define CT_GEOJSON "application/geo+json"

static void answer_err(msh_req *r, const msh_err *err)
{
    msh_resp_error(r, err->http_status ? err->http_status : msh_err_http_status(err->code), "%s", err->msg);
}

static void answer_buf(msh_req *r, int status, msh_buf *b)
{
    msh_buf_putc(b, '\n');
    r->resp.cache_control = "no-cache";
    msh_resp_buf(r, status, CT_GEOJSON, b);
}

static void create(msh_req *r)
{
    if (r->body_too_large) {
        msh_resp_error(r, 413, "a broadcast body is at most %zu bytes", MSH_BC_BODY_MAX);
        return;
    }
    msh_broadcast b;
    msh_err err = {0};
    if (msh_bc_parse(r->body ? r->body : "", r->body_len, msh_now_ms(), &b, &err)) {
        msh_bc_free(&b);
        answer_err(r, &err);
        return;
    }
    char name[64];
    msh_role role = msh_auth_who(r, name, sizeof name);
    char id[40];
    msh_buf out;
    msh_buf_init(&out, (size_t)64 << 20);
    if (msh_broadcasts_create(r->app, &b, name, msh_role_name(role), id, &out, &err)) {
        answer_err(r, &err);
    } else {
        snprintf(r->resp.location, sizeof r->resp.location, "/broadcasts/%s", id);
        answer_buf(r, 201, &out);
    }
    msh_buf_free(&out);
}

/* GET /broadcasts, POST /broadcasts */
void msh_route_broadcasts(msh_req *r, const char *rest)
{
    (void)rest;
    if (!r->app->broadcasts) {
        msh_resp_error(r, 503, "broadcasts are not enabled on this server");
        return;
    }
    if (!strcmp(r->method, "POST")) {
        create(r);
        return;
    }
    msh_bc_query q = {0};
    const char *lon = msh_req_arg(r, "lon"), *lat = msh_req_arg(r, "lat");
    if (lon || lat) {
        char *e1 = NULL, *e2 = NULL;
        q.lon = lon ? strtod(lon, &e1) : NAN;
        q.lat = lat ? strtod(lat, &e2) : NAN;
        if (!lon || !lat || e1 == lon || *e1 || e2 == lat || *e2 || !(q.lon >= -180 && q.lon <= 180) ||
            !(q.lat >= -90 && q.lat <= 90)) {
            msh_resp_error(r, 400, "lon, lat: both, in degrees (longitude -180..180, latitude -90..90)");
            return;
        }
        q.has_point = true;
    }
    q.zone = msh_req_arg(r, "zone");
    if (q.zone && (!*q.zone || strlen(q.zone) > MSH_BC_ID_MAX)) {
        msh_resp_error(r, 400, "zone: a zone id of 1 to %d bytes", MSH_BC_ID_MAX);
        return;
    }
    msh_buf out;
    msh_err err;
    msh_buf_init(&out, (size_t)256 << 20);
    if (msh_broadcasts_get(r->app, &q, msh_auth_role(r) >= MSH_ROLE_OPS, &out, &err))
        answer_err(r, &err);
    else
        answer_buf(r, 200, &out);
    msh_buf_free(&out);
}

/* GET /broadcasts/{id}, DELETE /broadcasts/{id} */
void msh_route_broadcast(msh_req *r, const char *id)
{
    if (!r->app->broadcasts) {
        msh_resp_error(r, 503, "broadcasts are not enabled on this server");
        return;
    }
    if (!*id || strlen(id) >= 40) {
        msh_resp_error(r, 404, "no active broadcast '%.64s'", id);
        return;
    }
    msh_buf out;
    msh_err err;
    msh_buf_init(&out, (size_t)64 << 20);
    msh_rc rc;
    if (!strcmp(r->method, "DELETE")) {
        char name[64];
        msh_role role = msh_auth_who(r, name, sizeof name);
        rc = msh_broadcasts_withdraw(r->app, id, name, msh_role_name(role), &out, &err);
    } else {
        msh_bc_query q = {.id = id};
        rc = msh_broadcasts_get(r->app, &q, msh_auth_role(r) >= MSH_ROLE_OPS, &out, &err);
    }
    if (rc)
        answer_err(r, &err);
    else
        answer_buf(r, 200, &out);
    msh_buf_free(&out);
}
