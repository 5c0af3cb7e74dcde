/* test_core.c: the core primitives written once: the open-addressing index (against a plain
 * reference table over a million random operations, with dense and clustered keys), the growth
 * helper, the hashes, the buffer's sticky error (a failed write is never followed by a
 * successful one that would leave a hole), and the error record's refusal fields. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/msh_buf.h"
#include "core/msh_err.h"
#include "core/msh_grow.h"
#include "core/msh_hash.h"
#include "core/msh_index.h"

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

#define UNIVERSE 5000 /* keys drawn from a small set, so puts, replaces and deletes all happen */

/* msh_refindex test fixture: keys are the numbers in keys[ref]. */
static uint64_t ref_hash(const void *ud, uint32_t ref)
{
    return msh_mix64(((const uint64_t *)ud)[ref]);
}

static bool ref_is(const void *ud, uint32_t ref, const void *key)
{
    return ((const uint64_t *)ud)[ref] == *(const uint64_t *)key;
}

static uint32_t ref_find(const msh_refindex *ix, const uint64_t *keys, uint64_t k)
{
    return msh_refindex_find(ix, msh_mix64(k), ref_is, keys, &k);
}

int main(void)
{
    msh_index ix;
    msh_index_init(&ix);
    static int64_t ref[UNIVERSE]; /* -1: absent, else the value */
    for (int i = 0; i < UNIVERSE; i++)
        ref[i] = -1;
    /* keys: some dense (0..), some spread, some one bit apart: all map into UNIVERSE */
    uint64_t keyof[UNIVERSE];
    for (int i = 0; i < UNIVERSE; i++)
        keyof[i] = i % 3 == 0 ? (uint64_t)i : i % 3 == 1 ? ((uint64_t)i << 32) | 7 : msh_mix64((uint64_t)i);
    size_t n = 0;
    int bad = 0;
    for (int step = 0; step < 1000000; step++) {
        int k = (int)(next() % UNIVERSE);
        unsigned op = (unsigned)(next() % 10);
        if (op < 5) {
            uint32_t v = (uint32_t)next();
            if (msh_index_put(&ix, keyof[k], v))
                bad++;
            if (ref[k] < 0)
                n++;
            ref[k] = v;
        } else if (op < 8) {
            bool had = msh_index_del(&ix, keyof[k]);
            if (had != (ref[k] >= 0))
                bad++;
            if (ref[k] >= 0)
                n--;
            ref[k] = -1;
        } else {
            uint32_t *v = msh_index_get(&ix, keyof[k]);
            if ((v != NULL) != (ref[k] >= 0) || (v && *v != (uint32_t)ref[k]))
                bad++;
        }
        if (step % 100000 == 0 && ix.n != n)
            bad++;
    }
    CHECK(bad == 0);
    CHECK(ix.n == n);
    for (int k = 0; k < UNIVERSE; k++) {
        uint32_t *v = msh_index_get(&ix, keyof[k]);
        CHECK((v != NULL) == (ref[k] >= 0));
    }
    CHECK(ix.n <= ix.cap / 4 * 3);
    CHECK(msh_index_put(&ix, MSH_INDEX_EMPTY, 1) == MSH_EINVAL);
    CHECK(msh_index_get(&ix, MSH_INDEX_EMPTY) == NULL);
    CHECK(!msh_index_del(&ix, MSH_INDEX_EMPTY));
    msh_index_clear(&ix);
    CHECK(ix.n == 0 && msh_index_get(&ix, keyof[3]) == NULL);
    /* a million dense keys: the size it must hold for the live people index */
    for (uint32_t i = 0; i < 1000000; i++)
        msh_index_put(&ix, i, i * 3);
    int wrong = 0;
    for (uint32_t i = 0; i < 1000000; i++) {
        uint32_t *v = msh_index_get(&ix, i);
        wrong += !v || *v != i * 3;
    }
    CHECK(wrong == 0);
    CHECK(ix.cap * 12 < 1000000 * 12 * 3); /* under 3x the payload */
    msh_index_free(&ix);
    msh_index empty = {0};
    CHECK(msh_index_get(&empty, 5) == NULL && !msh_index_del(&empty, 5));

    /* msh_refindex: references 0..n-1 into the caller's array; only the next one may be added */
    {
        enum { NKEYS = 100000 };
        uint64_t *keys = malloc(NKEYS * sizeof *keys);
        CHECK(keys != NULL);
        msh_refindex rx = {0};
        CHECK(ref_find(&rx, keys, 1) == MSH_REFINDEX_NONE);
        size_t failed = 0;
        for (uint32_t i = 0; i < NKEYS; i++) {
            keys[i] = (uint64_t)i * 7919 + 3;
            failed += msh_refindex_add(&rx, ref_hash(keys, i), i, ref_hash, keys) != MSH_OK;
        }
        CHECK(failed == 0 && rx.n == NKEYS && rx.cap * 3 >= (size_t)NKEYS * 4 && rx.cap < (size_t)NKEYS * 4);
        for (uint32_t i = 0; i < NKEYS; i++)
            failed += ref_find(&rx, keys, keys[i]) != i;
        CHECK(failed == 0);
        CHECK(ref_find(&rx, keys, 5) == MSH_REFINDEX_NONE); /* 5 is no i * 7919 + 3 */
        CHECK(msh_refindex_add(&rx, 0, NKEYS + 1, ref_hash, keys) == MSH_EINVAL && rx.n == NKEYS);
        msh_refindex_free(&rx);
        msh_refindex sp = {.sparse = true};
        for (uint32_t i = 0; i < 1000; i++)
            failed += msh_refindex_add(&sp, ref_hash(keys, i), i, ref_hash, keys) != MSH_OK;
        CHECK(failed == 0 && sp.cap >= 2000 && ref_find(&sp, keys, keys[999]) == 999);
        msh_refindex_free(&sp);
        free(keys);
    }

    /* msh_grow: doubling, failure leaves the array as it was */
    int *v = NULL;
    size_t cap = 0;
    CHECK(msh_grow((void **)&v, &cap, 1, sizeof *v) == MSH_OK && cap == 16);
    CHECK(msh_grow((void **)&v, &cap, 17, sizeof *v) == MSH_OK && cap == 32);
    CHECK(msh_grow((void **)&v, &cap, 20, sizeof *v) == MSH_OK && cap == 32);
    v[31] = 7;
    CHECK(msh_grow((void **)&v, &cap, SIZE_MAX / 2, sizeof *v) == MSH_ENOMEM && cap == 32 && v[31] == 7);
    free(v);
    v = NULL;
    cap = 0;
    CHECK(msh_grow_from((void **)&v, &cap, 1, sizeof *v, 256) == MSH_OK && cap == 256);
    CHECK(msh_grow_from((void **)&v, &cap, 257, sizeof *v, 256) == MSH_OK && cap == 512);
    free(v);

    /* FNV-1a: the published test vectors */
    CHECK(msh_fnv1a("", 0, MSH_FNV1A_INIT) == 0xcbf29ce484222325ull);
    CHECK(msh_fnv1a("a", 1, MSH_FNV1A_INIT) == 0xaf63dc4c8601ec8cull);
    CHECK(msh_fnv1a("foobar", 6, MSH_FNV1A_INIT) == 0x85944171f73967e8ull);
    CHECK(msh_fnv1a("bar", 3, msh_fnv1a("foo", 3, MSH_FNV1A_INIT)) == 0x85944171f73967e8ull);

    /* msh_buf: the first failed write sticks until a truncate or reset */
    msh_buf b;
    msh_buf_init(&b, 10);
    CHECK(msh_buf_append(&b, "12345678", 8) == MSH_OK && msh_buf_error(&b) == MSH_OK);
    CHECK(msh_buf_append(&b, "abcde", 5) == MSH_ETOOBIG && b.len == 8);
    CHECK(msh_buf_putc(&b, 'x') == MSH_ETOOBIG && b.len == 8);        /* would fit, but follows a failure */
    CHECK(msh_buf_printf(&b, "%d", 7) == MSH_ETOOBIG && b.len == 8);
    CHECK(msh_buf_varint(&b, 3) == MSH_ETOOBIG && b.len == 8);
    CHECK(msh_buf_json_str(&b, "") == MSH_ETOOBIG && msh_buf_append(&b, "", 0) == MSH_ETOOBIG);
    CHECK(msh_buf_error(&b) == MSH_ETOOBIG && !memcmp(b.data, "12345678", 8));
    msh_buf_truncate(&b, 4); /* back to a whole document */
    CHECK(msh_buf_error(&b) == MSH_OK && b.len == 4 && msh_buf_putc(&b, 'x') == MSH_OK && b.len == 5);
    CHECK(msh_buf_printf(&b, "%s", "too long now") == MSH_ETOOBIG && msh_buf_error(&b) == MSH_ETOOBIG);
    msh_buf_reset(&b);
    CHECK(msh_buf_error(&b) == MSH_OK && msh_buf_printf(&b, "%d", 42) == MSH_OK && b.len == 2);
    msh_buf_free(&b);
    CHECK(msh_buf_error(&b) == MSH_OK);

    /* msh_err: a refusal that passes carries its own fields; the next msh_err_set clears them, so a
     * later error on the same record never answers with an old Retry-After */
    msh_err e = {0};
    CHECK(msh_err_set(&e, MSH_EIO, "no answer %d", 5) == MSH_EIO && e.http_status == 500 && !e.retry_after_s);
    e.retry_after_s = 2;
    e.outcome_unknown = true;
    CHECK(msh_err_set(&e, MSH_EINVAL, "bad") == MSH_EINVAL && e.http_status == 400 && !strcmp(e.msg, "bad"));
    CHECK(e.retry_after_s == 0 && !e.outcome_unknown);

    printf("%d checks, %d failed\n", g_checks, g_failed);
    return g_failed != 0;
}
