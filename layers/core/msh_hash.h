/* msh_hash.h: the integer mixer the open-addressing tables share (MurmurHash3's 64-bit finaliser:
 * every input bit affects every output bit, so keys that differ in few bits spread well). */
#ifndef MSH_HASH_H
#define MSH_HASH_H

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

#endif
