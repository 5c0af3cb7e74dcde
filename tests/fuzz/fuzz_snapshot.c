/* fuzz_snapshot.c: arbitrary bytes loaded as a live snapshot (layers/live/snapshot.h), as they are
 * and again with the header's body length and checksum made to fit, so that the records behind
 * the checksum get explored too. Whatever loads must write a snapshot that loads again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "live/snapshot.h"

static msh_live *load(const uint8_t *data, size_t size)
{
    msh_live_config c;
    msh_live_config_init(&c);
    c.max_entities = 100000;
    msh_live *l;
    msh_err err;
    if (msh_live_new(&c, &l, &err))
        return NULL;
    uint64_t lsn;
    msh_live_wrlock(l);
    msh_rc rc = msh_live_restore(l, data, size, &lsn, &err);
    msh_live_unlock(l);
    if (rc && !err.msg[0])
        abort(); /* every refusal says why */
    if (rc) {
        msh_live_free(l);
        return NULL;
    }
    return l;
}

static void load_and_write_back(const uint8_t *data, size_t size)
{
    msh_live *l = load(data, size);
    if (!l)
        return;
    msh_buf b;
    msh_buf_init(&b, (size_t)1 << 28);
    msh_err err;
    msh_live_rdlock(l);
    msh_rc rc = msh_live_snapshot(l, 1, &b, &err);
    msh_live_unlock(l);
    msh_live *again = rc ? NULL : load(b.data, b.len);
    if (!again)
        abort(); /* a state we loaded must write a snapshot we load */
    msh_live_free(again);
    msh_buf_free(&b);
    msh_live_free(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load_and_write_back(data, size);
    if (size >= MSH_SNAPSHOT_HEADER) {
        uint8_t *copy = malloc(size);
        if (!copy)
            return 0;
        memcpy(copy, data, size);
        msh_live_snapshot_seal(copy, size);
        load_and_write_back(copy, size);
        free(copy);
    }
    return 0;
}
