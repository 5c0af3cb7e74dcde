/* routes_test_alert.c: POST /test/alert?subject=S&state=raised|cleared (admin token), for tests
 * only: with `mashaer serve --test-clock` it hands one alert to the event stream's alert path
 * exactly as a computed one goes (msh_events_alert: on a cluster, the alert ledger), as a `zone`
 * event {"state":"raised","zone":"test/S","test":true}. A cluster test raises the same alert on
 * two nodes, as two nodes applying the same feed would, and counts the events its subscribers get
 * across a failover. Without --test-clock it answers 404, as for a path that does not exist. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "routes/events.h"
#include "routes/routes.h"

static bool subject_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (!n || n > 64)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
              *s == '-'))
            return false;
    return true;
}

void msh_route_test_alert(msh_req *r, const char *rest)
{
    (void)rest;
    if (!r->app->cfg.test_clock) {
        msh_resp_error(r, 404, "no such resource: %.80s", r->path);
        return;
    }
    const char *subject = msh_req_arg(r, "subject"), *state = msh_req_arg(r, "state");
    if (!subject_ok(subject)) {
        msh_resp_error(r, 400, "subject: 1 to 64 letters, digits, '_' or '-'");
        return;
    }
    if (!state || (strcmp(state, "raised") && strcmp(state, "cleared"))) {
        msh_resp_error(r, 400, "state: raised or cleared");
        return;
    }
    if (!r->app->events) {
        msh_resp_error(r, 503, "live events are not enabled on this server");
        return;
    }
    char key[96], json[160];
    snprintf(key, sizeof key, "zone/test/%s", subject);
    int n = snprintf(json, sizeof json, "{\"state\":\"%s\",\"zone\":\"test/%s\",\"test\":true}", state, subject);
    msh_events_alert(r->app->events, MSH_EV_ZONE, key, state, !strcmp(state, "raised"), NAN, NAN, json);
    r->resp.cache_control = "no-store";
    msh_resp_body(r, 200, "application/json", json, (size_t)n);
}
