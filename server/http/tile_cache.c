/* tile_cache.c: sharded LRU tile cache. */
#include "http/tile_cache.h"
#include "core/msh_hash.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define NSHARDS 16

typedef struct entry {
    atomic_int refs; /* one for the cache while it is listed, one per response using it */
    struct entry *prev, *next; /* LRU, most recent at head */
    struct entry *hnext;       /* hash chain */
    uint64_t hash;
    size_t plain_len, gz_len, cost;
    int has_gzip;
    char *key;
    uint8_t *data; /* plain then gzip */
} entry;

typedef struct {
    pthread_mutex_t lock;
    entry **buckets;
    size_t nbuckets;
    entry *head, *tail;
    size_t bytes, limit, count;
} shard;

struct msh_tile_cache {
    shard shards[NSHARDS];
    size_t max_bytes;
};

static uint64_t hash_key(const char *s)
{
    uint64_t h = msh_fnv1a(s, strlen(s), MSH_FNV1A_INIT);
    return h ^ (h >> 29);
}

static void entry_unref(entry *e)
{
    if (atomic_fetch_sub(&e->refs, 1) == 1) {
        free(e->key);
        free(e->data);
        free(e);
    }
}

msh_tile_cache *msh_tile_cache_new(size_t max_bytes)
{
    msh_tile_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->max_bytes = max_bytes;
    for (int i = 0; i < NSHARDS; i++) {
        shard *s = &c->shards[i];
        pthread_mutex_init(&s->lock, NULL);
        s->limit = max_bytes / NSHARDS;
        s->nbuckets = 4096;
        s->buckets = calloc(s->nbuckets, sizeof *s->buckets);
        if (!s->buckets) {
            msh_tile_cache_free(c);
            return NULL;
        }
    }
    return c;
}

void msh_tile_cache_free(msh_tile_cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < NSHARDS; i++) {
        shard *s = &c->shards[i];
        for (entry *e = s->head; e;) {
            entry *n = e->next;
            entry_unref(e);
            e = n;
        }
        free(s->buckets);
        pthread_mutex_destroy(&s->lock);
    }
    free(c);
}

static void lru_unlink(shard *s, entry *e)
{
    if (e->prev) e->prev->next = e->next; else s->head = e->next;
    if (e->next) e->next->prev = e->prev; else s->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push(shard *s, entry *e)
{
    e->prev = NULL;
    e->next = s->head;
    if (s->head) s->head->prev = e;
    s->head = e;
    if (!s->tail) s->tail = e;
}

static entry **find_slot(shard *s, uint64_t h, const char *key)
{
    entry **pp = &s->buckets[h & (s->nbuckets - 1)];
    while (*pp && ((*pp)->hash != h || strcmp((*pp)->key, key)))
        pp = &(*pp)->hnext;
    return pp;
}

void msh_tile_cache_release(msh_tile_ref *ref)
{
    if (ref)
        entry_unref((entry *)ref);
}

static void evict(shard *s, entry *e)
{
    entry **pp = find_slot(s, e->hash, e->key);
    if (*pp == e)
        *pp = e->hnext;
    lru_unlink(s, e);
    s->bytes -= e->cost;
    s->count--;
    entry_unref(e);
}

msh_tile_ref *msh_tile_cache_get(msh_tile_cache *c, const char *key, int want_gzip, const uint8_t **body, size_t *len,
                                 int *is_gzip)
{
    *body = NULL;
    *len = 0;
    *is_gzip = 0;
    if (!c || !c->max_bytes)
        return NULL;
    uint64_t h = hash_key(key);
    shard *s = &c->shards[h % NSHARDS];
    pthread_mutex_lock(&s->lock);
    entry *e = *find_slot(s, h, key);
    if (e) {
        int gz = want_gzip && e->has_gzip;
        *len = gz ? e->gz_len : e->plain_len;
        *body = gz ? e->data + e->plain_len : e->data;
        *is_gzip = gz;
        atomic_fetch_add(&e->refs, 1);
        lru_unlink(s, e);
        lru_push(s, e);
    }
    pthread_mutex_unlock(&s->lock);
    return (msh_tile_ref *)e;
}

void msh_tile_cache_put(msh_tile_cache *c, const char *key, const uint8_t *plain, size_t plain_len,
                        const uint8_t *gz, size_t gz_len, int has_gzip)
{
    if (!has_gzip)
        gz_len = 0;
    if (!c || !c->max_bytes)
        return;
    uint64_t h = hash_key(key);
    shard *s = &c->shards[h % NSHARDS];
    size_t cost = plain_len + gz_len + strlen(key) + sizeof(entry) + 32;
    if (cost > s->limit / 8)
        return;
    entry *e = calloc(1, sizeof *e);
    if (!e)
        return;
    e->key = strdup(key);
    e->data = malloc(plain_len + gz_len + 1);
    if (!e->key || !e->data) {
        free(e->key);
        free(e->data);
        free(e);
        return;
    }
    if (plain_len)
        memcpy(e->data, plain, plain_len);
    if (gz_len)
        memcpy(e->data + plain_len, gz, gz_len);
    e->plain_len = plain_len;
    e->gz_len = gz_len;
    e->has_gzip = has_gzip;
    e->cost = cost;
    e->hash = h;
    atomic_init(&e->refs, 1);
    pthread_mutex_lock(&s->lock);
    entry **pp = find_slot(s, h, key);
    if (*pp)
        evict(s, *pp);
    while (s->tail && s->bytes + cost > s->limit)
        evict(s, s->tail);
    pp = find_slot(s, h, key);
    e->hnext = *pp;
    *pp = e;
    lru_push(s, e);
    s->bytes += cost;
    s->count++;
    pthread_mutex_unlock(&s->lock);
}

void msh_tile_cache_stats(msh_tile_cache *c, uint64_t *bytes, uint64_t *entries)
{
    *bytes = *entries = 0;
    if (!c)
        return;
    for (int i = 0; i < NSHARDS; i++) {
        shard *s = &c->shards[i];
        pthread_mutex_lock(&s->lock);
        *bytes += s->bytes;
        *entries += s->count;
        pthread_mutex_unlock(&s->lock);
    }
}
