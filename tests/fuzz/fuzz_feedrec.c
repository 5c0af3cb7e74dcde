/* fuzz_feedrec.c: feed bodies through the record scanner, the checks and the binary codec.
 * The first byte picks the feed; the rest is one NDJSON line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "live/feeds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    msh_feed feed = (msh_feed)(data[0] % MSH_FEED_COUNT);
    msh_jrec j;
    const char *why;
    if (msh_jrec_parse((const char *)data + 1, size - 1, &j, &why))
        return 0;
    for (int i = 0; i < j.n; i++) {
        char buf[256];
        size_t n;
        double d, lon, lat;
        (void)msh_jrec_str(&j.f[i], buf, sizeof buf, &n);
        (void)msh_jrec_num(&j.f[i], &d);
        (void)msh_jrec_point(&j.f[i], &lon, &lat);
    }
    msh_feed_rec r;
    char reason[200];
    if (msh_feed_rec_from_json(feed, &j, 1779782400000LL, &r, reason, sizeof reason) == 0) {
        msh_buf b;
        msh_buf_init(&b, 1 << 16);
        msh_feed_encode(&r, 1, &b);
        const uint8_t *p = b.data;
        msh_feed_rec back;
        if (!msh_feed_decode(&p, b.data + b.len, &back) || strcmp(back.id, r.id) || back.t_ms != r.t_ms ||
            back.has != r.has || back.in != r.in || back.out != r.out || back.scans_valid != r.scans_valid ||
            back.scans_denied != r.scans_denied)
            abort(); /* our own encoding must round-trip */
        msh_buf_free(&b);
    }
    return 0;
}
