/* app.c: what the request handlers take from the running server (app.h). */
#include "serve/app.h"

#include "route/walknet.h"

struct msh_graph *msh_app_graph(msh_app *app)
{
    msh_netview *v = msh_walknet_view(app->walknet);
    msh_graph *g = v ? msh_graph_retain(v->graph) : NULL;
    msh_netview_release(v);
    return g;
}

msh_catalog *msh_app_catalog(msh_app *app)
{
    pthread_mutex_lock(&app->cat_lock);
    msh_catalog *c = msh_catalog_retain(app->cat);
    pthread_mutex_unlock(&app->cat_lock);
    return c;
}
