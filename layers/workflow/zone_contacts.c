/* zone_contacts.c: service_company and contact on the service zones (zone_contacts.h). */
#include "workflow/zone_contacts.h"

#include "workflow/wf_layer.h"

msh_rc msh_zones_ensure_contacts(msh_store *s, int *added, msh_err *err)
{
    static const char *const fields[] = {"service_company", "contact", NULL};
    return msh_wf_ensure_fields(s, MSH_ZONES_LAYER, fields, added, err);
}
