/* report_service.h: what the reports (layers/workflow/reports.h) keep between requests.
 *
 * Design: the `reports` layer and the photos' table are made at start, on the edit connection
 * (msh_workflow_start calls msh_report_service_start before the first catalog). The reports
 * themselves are written through the Part 4 path like any static layer (the rules in
 * services/workflow_service.c); this service holds the rest:
 *   - the SLA minutes per category (--report-sla over the defaults), read by the rules;
 *   - the per-reporter budgets (layers/workflow/report_limits.h: --report-rate reports a minute,
 *     --report-photo-mb photo megabytes an hour) behind a mutex of its own;
 *   - the photos: table msh_report_photos in the store (id, report, type, bytes, thumbnail, size,
 *     author, time), written on the edit connection under the edit lock in a transaction of its
 *     own (synchronous=FULL: a photo answered 201 is on disk), at most --report-photos per report
 *     (counted in the same transaction, so two uploads at once cannot both take the last place).
 *
 * Lock contract: the budgets' mutex is held for a table lookup only; the photo calls take the edit
 * lock (services/edit_service.h) themselves and must be called without it.
 */
#ifndef MSH_REPORT_SERVICE_H
#define MSH_REPORT_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msh_buf.h"
#include "photo.h"
#include "serve/app.h"
#include "store.h"
#include "workflow/reports.h"

typedef struct msh_report_service msh_report_service;

/** Make the reports layer and the photos table when missing; app->reports. Errors: MSH_EIO, MSH_EINVAL (--report-sla). */
msh_rc msh_report_service_start(msh_app *app, msh_store *s, msh_err *err);
void msh_report_service_stop(msh_app *app);

/** The SLA minutes in force (the defaults when the service is off). */
const msh_report_sla *msh_report_service_sla(msh_app *app);

/** May `who` create a report now (--report-rate)? False with *retry_s. */
bool msh_report_service_may_create(msh_app *app, const char *who, int *retry_s);
/** May `who` store `bytes` of photo now (--report-photo-mb)? False with *retry_s. Counted when true. */
bool msh_report_service_may_upload(msh_app *app, const char *who, size_t bytes, int *retry_s);
/** Give back a budget taken for a photo that was not stored. */
void msh_report_service_refund(msh_app *app, const char *who, size_t bytes);

/**
 * Store a checked photo of report `report`: MSH_OK with *aid; MSH_ECONFLICT when the report has its
 * --report-photos already (nothing written); MSH_EIO.
 */
msh_rc msh_report_photo_put(msh_app *app, int64_t report, msh_photo_type type, const uint8_t *data, size_t len,
                            msh_photo_type thumb_type, const uint8_t *thumb, size_t thumb_len,
                            const msh_photo_info *info, const char *who, int64_t *aid, msh_err *err);

/** One photo (or its thumbnail) of report `report`: *data malloc'ed; MSH_ENOTFOUND when it has none `aid`. */
msh_rc msh_report_photo_get(msh_app *app, int64_t report, int64_t aid, bool thumb, uint8_t **data, size_t *len,
                            char *ctype, size_t ctype_cap, uint64_t *hash, msh_err *err);

/** The photos of report `report` as a JSON array of {id, type, bytes, width, height, created, href, thumbnail}. */
msh_rc msh_report_photo_list(msh_app *app, int64_t report, const char *base, msh_buf *out, msh_err *err);

#endif
