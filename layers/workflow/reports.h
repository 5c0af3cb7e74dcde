/* reports.h: the rules of reports from pilgrims and staff (issue 13, section 2).
 *
 * A report is a Point in the store layer `reports`, made by `mashaer serve` at start (no import),
 * written by a `reporter` token (the mobile apps) or an ops token through OGC API Part 4. The
 * client gives `category` (one of MSH_REPORT_CATEGORIES) and `text` (UTF-8, at most 2,000
 * characters); everything else belongs to the server:
 *
 *   status      new -> acknowledged | rejected; acknowledged -> in_progress | resolved | rejected;
 *               in_progress -> resolved | rejected; resolved and rejected are final (409
 *               invalid_transition). Rejecting needs a `note` (why). Only ops change it (access rules).
 *   reporter    the writing token's name (never its secret), fixed at creation
 *   created     ISO 8601 UTC, ms; sla_due = created + the category's SLA minutes (again on a
 *               category change); closed: set when the status becomes resolved or rejected
 *   zone        the service zone (`service_zones.zone_id`) the point falls in, or null
 *   incident, work_order  the item an escalation made (set by the escalation only)
 *   note        free text of the operators
 *
 * A client may send a server field back unchanged, or null (then kept); any other value is a 400
 * `server_field`. The text is the reporter's words and does not change after creation.
 *
 * Pure (no I/O, no clock: the time is a parameter) but for msh_reports_ensure_layer, which writes
 * through the store like msh_wo_ensure_layer.
 */
#ifndef MSH_REPORTS_H
#define MSH_REPORTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/msh_err.h"
#include "core/msh_time.h"
#include "layer.h"
#include "store.h"
#include "workflow/wf_rules.h"

#define MSH_REPORTS_LAYER "reports"
#define MSH_REPORT_TEXT_MAX 2000 /* characters (code points) */
#define MSH_REPORT_NCAT 6
#define MSH_REPORT_ID_MAX 100    /* bytes of a reporter's name, a zone id, a link */

/** The categories, NULL-terminated (MSH_REPORT_NCAT of them), and the statuses. */
extern const char *const msh_report_categories[];
extern const char *const msh_report_statuses[];

/** Minutes from creation to the SLA deadline, per category (the order of msh_report_categories). */
typedef struct msh_report_sla {
    int minutes[MSH_REPORT_NCAT];
} msh_report_sla;

/** The defaults: medical 15, lost_person 15, crowding 10, cleanliness 60, facility_fault 240, other 120. */
void msh_report_sla_defaults(msh_report_sla *sla);

/** Override some categories from "medical=10,crowding=5" (minutes 1..10080). Errors: MSH_EINVAL naming the item. */
msh_rc msh_report_sla_parse(const char *spec, msh_report_sla *sla, msh_err *err);

/** The index of category `s` (len bytes), or -1. */
int msh_report_category(const char *s, size_t len);

/** Is a status final (resolved, rejected)? */
bool msh_report_closed(const char *status);

/**
 * Create the empty `reports` layer (Point, the fields above) when `s` lacks it, in one transaction
 * with its registry row and `import` audit row; *created says whether it did. Errors: MSH_EIO.
 */
msh_rc msh_reports_ensure_layer(msh_store *s, bool *created, msh_err *err);

/** What the write knows beyond the values. */
typedef struct msh_report_ctx {
    const char *who;          /* the writing token's name */
    const char *zone;         /* the service zone of the point (a create), or NULL */
    int64_t now_ms;
    const msh_report_sla *sla;
    bool link;                /* an escalation: incident / work_order may go from null to a value */
} msh_report_ctx;

typedef struct msh_report_plan {
    char created[MSH_TIME_ISO_CAP], sla_due[MSH_TIME_ISO_CAP], closed[MSH_TIME_ISO_CAP];
    char who[MSH_REPORT_ID_MAX + 1], zone[MSH_REPORT_ID_MAX + 1];
} msh_report_plan;

/**
 * Check one write of a report and fill in what the server owns. `before`: the stored values (NULL
 * for a create); `after`: the values about to be written (li->nfields; the server's fields set
 * here, strings then borrow from `plan`). False with `ref` filled (400 or 409) when the write must
 * not happen.
 */
bool msh_report_check(const msh_layer_info *li, const msh_value *before, msh_value *after, const msh_report_ctx *ctx,
                      msh_report_plan *plan, msh_wf_refusal *ref);

#endif
