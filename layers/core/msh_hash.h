/* msh_hash.h: the two hashes the project uses, once each.
 *
 *  - msh_mix64: MurmurHash3's 64-bit finaliser, for integer keys of the open-addressing index
 *    (msh_index.h): every input bit affects every output bit, so keys that differ in few bits
 *    spread well.
 *  - msh_fnv1a: 64-bit FNV-1a over bytes, for ETags, cache keys and string keys. Not for
 *    anything an attacker must not collide on purpose (it is not keyed).
 */
#ifndef MSH_HASH_H
#define MSH_HASH_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t msh_mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

/** FNV-1a's 64-bit offset basis: the `h` to start a hash with. */
#define MSH_FNV1A_INIT 14695981039346656037ull

/** FNV-1a of `n` bytes, continuing from `h` (MSH_FNV1A_INIT to start). */
static inline uint64_t msh_fnv1a(const void *p, size_t n, uint64_t h)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211ull;
    return h;
}

#endif
