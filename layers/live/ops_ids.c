/* ops_ids.c: numbers of operator-created incidents from a PostgreSQL sequence (ops_ids.h). */
#include "ops_ids.h"

#include <pthread.h>
#include <stdlib.h>

#include "store.h"
#include "store_sql.h"

struct msh_ops_ids {
    pthread_mutex_t mu;
    msh_store *store; /* own connection */
};

msh_rc msh_ops_ids_open(const char *db_path, msh_ops_ids **out, msh_err *err)
{
    *out = NULL;
    if (!msh_store_is_url(db_path))
        return MSH_OK;
    msh_ops_ids *ids = calloc(1, sizeof *ids);
    if (!ids)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    msh_rc rc = msh_store_open(db_path, false, &ids->store, err);
    if (rc) {
        free(ids);
        return rc;
    }
    if (msh_store_exec(ids->store, "CREATE SEQUENCE IF NOT EXISTS msh_incident_ops_ids")) {
        rc = msh_err_set(err, MSH_EIO, "incident ids: %s", msh_store_errmsg(ids->store));
        msh_store_close(ids->store);
        free(ids);
        return rc;
    }
    pthread_mutex_init(&ids->mu, NULL);
    *out = ids;
    return MSH_OK;
}

void msh_ops_ids_close(msh_ops_ids *ids)
{
    if (!ids)
        return;
    msh_store_close(ids->store);
    pthread_mutex_destroy(&ids->mu);
    free(ids);
}

/* One number from `sql` (a single value); 0 when it failed. */
static uint64_t ask(msh_store *s, const char *sql, int64_t arg)
{
    msh_sql *q = NULL;
    uint64_t v = 0;
    if (msh_sql_prepare(s, sql, &q))
        return 0;
    if (arg >= 0)
        msh_sql_bind_int(q, 1, arg);
    if (msh_sql_step(q) == MSH_SQL_ROW)
        v = (uint64_t)msh_sql_int(q, 0);
    msh_sql_finalize(q);
    return v;
}

uint64_t msh_ops_ids_next(msh_ops_ids *ids, uint64_t applied)
{
    if (!ids)
        return applied + 1;
    pthread_mutex_lock(&ids->mu);
    uint64_t n = ask(ids->store, "SELECT nextval('msh_incident_ops_ids')", -1);
    if (n && n <= applied && /* behind what the live state holds: past it once, never backwards */
        ask(ids->store, "SELECT setval('msh_incident_ops_ids', greatest(?, (SELECT last_value FROM msh_incident_ops_ids)))",
            (int64_t)applied))
        n = ask(ids->store, "SELECT nextval('msh_incident_ops_ids')", -1);
    pthread_mutex_unlock(&ids->mu);
    return n > applied ? n : 0;
}
