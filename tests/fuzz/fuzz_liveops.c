/* fuzz_liveops.c: operators' bodies on the live collections (layers/live/live_ops.h): the first
 * byte picks the reader (0: a new incident, 1: an incident's merge patch, 2: a gate's, 3: the log
 * record decoder); the rest is the body. A patch read must encode and decode to itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "live/live_ops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    char why[300];
    msh_ops_rec op, back;
    msh_feed_rec rec;
    switch (data[0] % 4) {
    case 0:
        (void)msh_ops_parse_incident(body, len, 1779782400000LL, &rec, why, sizeof why);
        break;
    case 1:
    case 2:
        if (msh_ops_parse_patch(data[0] % 4 == 1 ? MSH_FEED_INCIDENTS : MSH_FEED_GATES, body, len, &op, why,
                                sizeof why) == 0) {
            memcpy(op.id, "X", 2);
            op.id_len = 1;
            msh_buf b;
            msh_buf_init(&b, 1 << 16);
            if (msh_ops_encode(&op, &b) || !msh_ops_decode(b.data, b.len, &back) || back.set != op.set ||
                strcmp(back.crew, op.crew) || strcmp(back.reason, op.reason) || back.status != op.status ||
                back.severity != op.severity || strcmp(back.desc, op.desc) || back.reopens_ms != op.reopens_ms)
                abort(); /* our own encoding must round-trip */
            msh_buf_free(&b);
        }
        break;
    default:
        (void)msh_ops_decode(data + 1, len, &op);
    }
    return 0;
}
