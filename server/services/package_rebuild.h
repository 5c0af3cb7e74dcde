/* package_rebuild.h: `serve --packages DIR` keeps its package folders up to date.
 *
 * Design: one background thread. Every MSH_PACKAGE_CHECK_MS (and at start) it reads each package
 * folder's manifest (services/package_service.h) against the served catalog; a package whose
 * layers' versions differ from the catalog's (after an edit, an import or a re-import) is rebuilt
 * with the manifest's style, box and zooms (services/package_build.h): one package at a time, on
 * one tile worker so that serving keeps the cores, under a temporary folder swapped in at the end
 * (the old package is served until then). A rebuild that fails is not tried again until the
 * versions of its layers change again. Counted in /metrics as
 * mashaer_package_rebuilds_total{result="ok"|"failed"}.
 *
 * Lock contract: the thread takes a catalog reference (msh_app_catalog) per check and holds no
 * server lock while it builds; `mu` guards only the stop flag and the wait. The counters are atomic.
 */
#ifndef MSH_PACKAGE_REBUILD_H
#define MSH_PACKAGE_REBUILD_H

#include "core/msh_buf.h"
#include "core/msh_err.h"

#define MSH_PACKAGE_CHECK_MS 1000

struct msh_app;
typedef struct msh_package_rebuild msh_package_rebuild;

/** Start the thread for app->cfg.packages_dir (*out NULL when there is no such folder). */
msh_rc msh_package_rebuild_start(struct msh_app *app, msh_package_rebuild **out, msh_err *err);
/** Stop it (a rebuild in progress is interrupted and leaves the old package) and free it; NULL is fine. */
void msh_package_rebuild_stop(msh_package_rebuild *r);
/** Its /metrics lines (nothing for NULL). */
void msh_package_rebuild_metrics(const msh_package_rebuild *r, msh_buf *b);

#endif
