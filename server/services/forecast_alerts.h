/* forecast_alerts.h: the `forecast` events on /events, from the warnings of each refresh
 * (layers/forecast/fc_alerts.h has the rule and its hysteresis). */
#ifndef MSH_FORECAST_ALERTS_H
#define MSH_FORECAST_ALERTS_H

#include "forecast/fc_alerts.h"
#include "services/forecast_service.h"

/** Step the warnings over r's cell-transmission forecast, publish what changed (when the server has
 * events) and keep the warnings standing after it in r (forecast thread, before r is published). */
msh_rc msh_forecast_alerts_publish(msh_fc_alerts *a, msh_app *app, msh_forecast_result *r);

#endif
