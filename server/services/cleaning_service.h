/* cleaning_service.h: cleaning tasks in a running server: progress written back, overdue events.
 *
 * Design: the sweeps are matched to the tasks by the KPI engine (layers/kpi/kpi_tasks.c); once a
 * second the reload thread calls the tick here, which asks the engine for every task's progress
 * (applying the crew moves queued since) and, for each task whose stored `progress` differs, writes
 * the new value through the edit committer (services/edit_batch.h) as the server ("mashaer",
 * role "server"): audited, published in the next catalog (tiles, items, ETags follow) and
 * announced by a `change` event, as an operator's write would be. The value written is the item
 * as the batch sees it with only `progress` changed, so an operator's write in the same batch is
 * kept. A task open or in progress past its `due` time (the server clock: --test-clock moves it)
 * gets one `cleaning_overdue` event; it gets another only after it stopped being overdue (a new
 * due time) and became so again. Which tasks were announced is kept in memory: a restart announces
 * the overdue tasks again.
 *
 * The changed tasks of a tick are posted together, so the committer writes them in one batch (one
 * transaction and one publication of the catalog a tick, however many tasks moved).
 *
 * Lock contract: the tick runs on the reload thread only; it holds no lock while it waits for the
 * committer (which takes the edit lock) to finish the tick's batch.
 */
#ifndef MSH_CLEANING_SERVICE_H
#define MSH_CLEANING_SERVICE_H

#include "serve/app.h"

typedef struct msh_cleaning_service msh_cleaning_service;

/** Once a second from the reload thread: progress written back, overdue events. A no-op without
 * the KPI engine or the edit service. */
void msh_cleaning_service_tick(msh_app *app);

/** Free what the tick keeps (at shutdown, after the reload thread ended). */
void msh_cleaning_service_close(msh_app *app);

#endif
