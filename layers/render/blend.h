/* blend.h: premultiplied ARGB32 pixel arithmetic (Cairo's CAIRO_FORMAT_ARGB32 words) for the
 * parts of the renderer that write pixels themselves (stamp.c dots, lines.c thin lines). */
#ifndef MSH_BLEND_H
#define MSH_BLEND_H

#include <stdint.h>

/** Every 8-bit channel of x times k / 255, rounded: two channels at a time in 16-bit lanes. */
static inline uint32_t msh_px_scale(uint32_t x, uint32_t k)
{
    uint32_t rb = (x & 0x00ff00ffu) * k + 0x00800080u;
    uint32_t ag = ((x >> 8) & 0x00ff00ffu) * k + 0x00800080u;
    rb = ((rb + ((rb >> 8) & 0x00ff00ffu)) >> 8) & 0x00ff00ffu;
    ag = (ag + ((ag >> 8) & 0x00ff00ffu)) & 0xff00ff00u;
    return rb | ag;
}

/** Source over destination, both premultiplied: src + dst * (255 - src alpha) / 255. */
static inline uint32_t msh_px_over(uint32_t src, uint32_t dst)
{
    return src + msh_px_scale(dst, 255 - (src >> 24));
}

#endif
