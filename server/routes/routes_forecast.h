/* routes_forecast.h: what the forecast handlers share (routes_forecast.c, routes_forecast_zones.c,
 * routes_forecast_warnings.c). */
#ifndef MSH_ROUTES_FORECAST_H
#define MSH_ROUTES_FORECAST_H

#include "http/http.h"
#include "services/forecast_service.h"

/** The horizon index of the `minutes` argument; -1 after answering 400. */
int msh_forecast_arg_minutes(msh_req *r);
/** The current forecast (release it); NULL after answering 404 (no forecast here) or 503 (none yet). */
msh_forecast_result *msh_forecast_arg_result(msh_req *r);
/** Answer 200 with b (not cached), or 500 naming `what` when b or the caller (failed) ran out of
 * memory; b is freed either way. */
void msh_forecast_send(msh_req *r, msh_buf *b, bool failed, const char *ctype, const char *what);

#endif
