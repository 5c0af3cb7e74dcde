/* msh_morton.h: Morton (Z-order) codes of grid cells, written once: the bits of x at the even
 * places, those of y at the odd ones. The four children of a cell are neighbours in Morton order
 * at every level (kanon.c builds its pyramid on that), and the order is monotone in x and in y (a
 * box's cells lie between its corners' codes: playback.c searches a minute with that). */
#ifndef MSH_MORTON_H
#define MSH_MORTON_H

#include <stdint.h>

static inline uint64_t msh_morton_spread(uint32_t x)
{
    uint64_t v = x;
    v = (v | v << 16) & 0x0000ffff0000ffffull;
    v = (v | v << 8) & 0x00ff00ff00ff00ffull;
    v = (v | v << 4) & 0x0f0f0f0f0f0f0f0full;
    v = (v | v << 2) & 0x3333333333333333ull;
    v = (v | v << 1) & 0x5555555555555555ull;
    return v;
}

static inline uint32_t msh_morton_unspread(uint64_t v)
{
    v &= 0x5555555555555555ull;
    v = (v | v >> 1) & 0x3333333333333333ull;
    v = (v | v >> 2) & 0x0f0f0f0f0f0f0f0full;
    v = (v | v >> 4) & 0x00ff00ff00ff00ffull;
    v = (v | v >> 8) & 0x0000ffff0000ffffull;
    v = (v | v >> 16) & 0x00000000ffffffffull;
    return (uint32_t)v;
}

/** The code of cell (x, y) and back. */
static inline uint64_t msh_morton(uint32_t x, uint32_t y)
{
    return msh_morton_spread(x) | msh_morton_spread(y) << 1;
}

static inline void msh_unmorton(uint64_t m, uint32_t *x, uint32_t *y)
{
    *x = msh_morton_unspread(m);
    *y = msh_morton_unspread(m >> 1);
}

#endif
