/* routes_forecast.h: what the forecast handlers share (routes_forecast.c, routes_forecast_zones.c). */
#ifndef MSH_ROUTES_FORECAST_H
#define MSH_ROUTES_FORECAST_H

#include "http/http.h"
#include "services/forecast_service.h"

/** The horizon index of the `minutes` argument; -1 after answering 400. */
int msh_forecast_arg_minutes(msh_req *r);
/** The current forecast (release it); NULL after answering 404 (no forecast here) or 503 (none yet). */
msh_forecast_result *msh_forecast_arg_result(msh_req *r);

#endif
