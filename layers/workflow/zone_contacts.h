/* zone_contacts.h: who serves a service zone: `service_company` and `contact` on `service_zones`.
 *
 * Design: a zone's company and contact are properties of the zone itself, written by an admin
 * through OGC API - Features Part 4 on the `service_zones` collection (the default access rules
 * let admin tokens edit every collection; docs/ARCHITECTURE.md, "Service zones: companies"), so
 * they get the edit path's audit, history, ETags and events like any edit. A store whose zones were
 * imported without them gets both fields (text, null) at start: the column and the registry's field
 * list in one transaction. A source file may carry them too; a re-import takes the file's.
 * The KPI ranking by company reads them (layers/kpi/kpi_companies.c).
 */
#ifndef MSH_ZONE_CONTACTS_H
#define MSH_ZONE_CONTACTS_H

#include <stdbool.h>

#include "core/msh_err.h"
#include "store.h"

#define MSH_ZONES_LAYER "service_zones"

/** Add `service_company` and `contact` to `service_zones` where missing; *added says how many were.
 * A store without service zones is left alone. Errors: MSH_EIO (nothing changed). */
msh_rc msh_zones_ensure_contacts(msh_store *s, int *added, msh_err *err);

#endif
