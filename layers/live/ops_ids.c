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
    msh_rc rc = msh_store_open_own(db_path, "incident ids", "CREATE SEQUENCE IF NOT EXISTS msh_incident_ops_ids", 0,
                                   &ids->store, err);
    if (rc) {
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

/* One number from `sql` (a single value, ?1 bound to *arg when set); 0 when it failed. */
static uint64_t ask(msh_store *s, const char *sql, const int64_t *arg)
{
    int64_t v = 0;
    return msh_sql_one_int(s, sql, arg, &v) && v > 0 ? (uint64_t)v : 0;
}

uint64_t msh_ops_ids_next(msh_ops_ids *ids, uint64_t applied)
{
    if (!ids)
        return applied + 1;
    pthread_mutex_lock(&ids->mu);
    uint64_t n = ask(ids->store, "SELECT nextval('msh_incident_ops_ids')", NULL);
    int64_t at_least = (int64_t)applied;
    if (n && n <= applied && /* behind what the live state holds: past it once, never backwards */
        ask(ids->store, "SELECT setval('msh_incident_ops_ids', greatest(?, (SELECT last_value FROM msh_incident_ops_ids)))",
            &at_least))
        n = ask(ids->store, "SELECT nextval('msh_incident_ops_ids')", NULL);
    pthread_mutex_unlock(&ids->mu);
    return n > applied ? n : 0;
}
