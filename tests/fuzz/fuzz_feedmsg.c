/* fuzz_feedmsg.c: arbitrary bytes as a feed log stream message (layers/live/ingest.h, "the
 * replicated feed log"), applied by msh_ingest_apply_msg to a live state opened for a feed log:
 * as they are, and again behind a well-formed header of each type (a feed, an operator's write),
 * so that the record decoders behind the header get explored too, and as the parts of a group
 * (group commit: [type][u32 length][message]...). Whatever is applied must leave
 * a state whose snapshot loads again, and every message moves the applied sequence by one. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/msh_le.h"
#include "live/ingest.h"
#include "live/live_ops.h"
#include "live/snapshot.h"

static char dir[64];

static void remove_dir(void)
{
    rmdir(dir);
}

static void apply_all(const uint8_t *data, size_t size)
{
    msh_live_config c;
    msh_live_config_init(&c);
    c.max_entities = 100000;
    msh_live *l;
    msh_ingest *in;
    msh_err err;
    uint64_t seq;
    if (msh_live_new(&c, &l, &err))
        abort();
    if (msh_ingest_open_log(dir, "fuzz", l, &in, &seq, &err))
        abort();
    uint8_t *msg = malloc(size + MSH_INGEST_MSG_HEADER);
    if (!msg)
        abort();
    uint64_t s = 1;
    msh_ingest_apply_msg(in, s++, data, size);
    const uint8_t types[] = {0, 1, 2, 3, 4, MSH_WAL_OPS};
    for (size_t i = 0; i < sizeof types; i++) {
        msg[0] = types[i];
        msh_le64_put(msg + 1, 1700000000000ULL);
        msh_le64_put(msg + 9, 7);
        msh_le64_put(msg + 17, 1);
        memcpy(msg + MSH_INGEST_MSG_HEADER, data, size);
        msh_ingest_apply_msg(in, s++, msg, size + MSH_INGEST_MSG_HEADER);
    }
    msg[0] = MSH_INGEST_MSG_GROUP;
    memcpy(msg + 1, data, size);
    msh_ingest_apply_msg(in, s++, msg, size + 1);
    if (msh_ingest_applied(in) != s - 1)
        abort(); /* every message counts, read or not */
    msh_buf b;
    msh_buf_init(&b, (size_t)1 << 28);
    msh_live_rdlock(l);
    msh_rc rc = msh_live_snapshot(l, s - 1, &b, &err);
    msh_live_unlock(l);
    msh_live *again;
    if (rc || msh_live_new(&c, &again, &err))
        abort();
    msh_live_wrlock(again);
    if (msh_live_restore(again, b.data, b.len, &seq, &err) || seq != s - 1) {
        fprintf(stderr, "snapshot of the applied state does not load: %s (seq %llu)\n", err.msg,
                (unsigned long long)seq);
        abort(); /* a state the messages made must write a snapshot that loads */
    }
    msh_live_unlock(again);
    msh_live_free(again);
    msh_buf_free(&b);
    free(msg);
    msh_ingest_close(in);
    msh_live_free(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) { /* a folder with no snapshot: the ingest handle opens empty */
        snprintf(dir, sizeof dir, "/tmp/fuzz_feedmsg.%d", (int)getpid());
        atexit(remove_dir);
    }
    apply_all(data, size);
    return 0;
}
