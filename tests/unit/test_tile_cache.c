/* test_tile_cache.c: the tile cache (server/http/tile_cache.c): hits and misses, plain and gzip
 * bodies, empty tiles, the byte bound (least recently used out first), entries too large to keep,
 * and bytes that stay valid while a response holds them even after their entry is evicted. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "http/tile_cache.h"

static int has(msh_tile_cache *c, const char *key)
{
    const uint8_t *b;
    size_t n;
    int gz;
    msh_tile_ref *r = msh_tile_cache_get(c, key, 0, &b, &n, &gz);
    if (r)
        msh_tile_cache_release(r);
    return r != NULL;
}

int main(void)
{
    msh_tile_cache *c = msh_tile_cache_new((size_t)16 * 64 * 1024); /* 64 KiB a shard */
    const uint8_t *b;
    size_t n;
    int gz;
    CHECK(msh_tile_cache_get(c, "a", 0, &b, &n, &gz) == NULL);
    msh_tile_cache_put(c, "a", (const uint8_t *)"plain", 5, (const uint8_t *)"zipped", 6, 1);
    msh_tile_ref *r = msh_tile_cache_get(c, "a", 0, &b, &n, &gz);
    CHECK(r && n == 5 && !memcmp(b, "plain", 5) && gz == 0);
    msh_tile_cache_release(r);
    r = msh_tile_cache_get(c, "a", 1, &b, &n, &gz);
    CHECK(r && n == 6 && !memcmp(b, "zipped", 6) && gz == 1);
    msh_tile_cache_release(r);
    /* no gzip body: the plain one even when gzip is wanted */
    msh_tile_cache_put(c, "p", (const uint8_t *)"xyz", 3, NULL, 0, 0);
    r = msh_tile_cache_get(c, "p", 1, &b, &n, &gz);
    CHECK(r && n == 3 && gz == 0);
    msh_tile_cache_release(r);
    /* an empty tile is a hit with no bytes */
    msh_tile_cache_put(c, "empty", NULL, 0, NULL, 0, 0);
    r = msh_tile_cache_get(c, "empty", 0, &b, &n, &gz);
    CHECK(r && n == 0);
    msh_tile_cache_release(r);

    /* a held reference outlives its entry's eviction */
    static uint8_t big[6000];
    memset(big, 7, sizeof big);
    msh_tile_cache_put(c, "held", big, sizeof big, NULL, 0, 0);
    msh_tile_ref *held = msh_tile_cache_get(c, "held", 0, &b, &n, &gz);
    CHECK(held && n == sizeof big);
    char key[32];
    for (int i = 0; i < 4000; i++) { /* 24 MB through a 1 MiB cache */
        snprintf(key, sizeof key, "k%d", i);
        big[0] = (uint8_t)i;
        msh_tile_cache_put(c, key, big, sizeof big, NULL, 0, 0);
    }
    CHECK(!has(c, "held"));
    CHECK(held && b[0] == 7 && b[sizeof big - 1] == 7); /* still readable: ASan would catch a use after free */
    msh_tile_cache_release(held);
    uint64_t bytes, entries;
    msh_tile_cache_stats(c, &bytes, &entries);
    CHECK(bytes <= (uint64_t)16 * 64 * 1024 && entries > 0);
    CHECK(has(c, "k3999") && !has(c, "k0")); /* the newest stay, the oldest went */
    /* least recently used: a key read often survives the stream that pushes others out */
    int kept = 0;
    msh_tile_cache_put(c, "hot", big, 100, NULL, 0, 0);
    for (int i = 0; i < 4000; i++) {
        snprintf(key, sizeof key, "m%d", i);
        msh_tile_cache_put(c, key, big, sizeof big, NULL, 0, 0);
        kept += has(c, "hot");
    }
    CHECK(kept == 4000);
    /* an entry over an eighth of a shard is not kept */
    static uint8_t huge[64 * 1024];
    msh_tile_cache_put(c, "huge", huge, sizeof huge, NULL, 0, 0);
    CHECK(!has(c, "huge"));
    msh_tile_cache_free(c);

    /* 0 bytes: caching off, every get a miss */
    c = msh_tile_cache_new(0);
    msh_tile_cache_put(c, "a", (const uint8_t *)"x", 1, NULL, 0, 0);
    CHECK(!has(c, "a"));
    msh_tile_cache_free(c);
    printf("%d checks, %d failed\n", g_checks, g_failed);
    return g_failed != 0;
}
