/* live_change.c: the `change` event of an operator's write on a live item (design in live_change.h). */
#include "routes/live_change.h"

#include <math.h>

#include "core/msh_buf.h"
#include "routes/events.h"

void msh_live_change_publish(msh_app *app, const char *coll, const char *op, const msh_live_item *it)
{
    if (!app->events)
        return;
    bool loc = it->rec.has & MSH_FR_LOC;
    double x = loc ? it->rec.lon : 0, y = loc ? it->rec.lat : 0;
    msh_buf b;
    msh_buf_init(&b, 1024);
    msh_buf_printf(&b, "{\"collection\":\"%s\",\"id\":\"", coll);
    msh_buf_json_str(&b, it->rec.id);
    msh_buf_printf(&b, "\",\"op\":\"%s\",\"version\":%llu,\"bbox\":[%.9f,%.9f,%.9f,%.9f]}", op,
                   (unsigned long long)it->updates, x, y, x, y);
    msh_buf_putc(&b, 0);
    msh_events_publish_in(app->events, MSH_EV_CHANGE, coll, loc ? x : NAN, loc ? y : NAN, (const char *)b.data);
    msh_buf_free(&b);
}
