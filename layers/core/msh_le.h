/* msh_le.h: fixed-width little-endian numbers in byte buffers, whatever the host's byte order.
 *
 * Everything Mashaer writes to disk in binary (write-ahead log frames, feed records, snapshots)
 * is little endian and goes through these, never through a memcpy of a host integer or struct.
 * Floats are IEEE 754 binary32/binary64, their bit patterns stored like the same-width integer.
 *
 * msh_leNN_put/get work on a pointer the caller knows is in bounds; msh_buf_leNN append to a
 * buffer; msh_leNN_take read at *p, advance it and return false (reading nothing) when fewer
 * than the bytes needed are left before `end`.
 */
#ifndef MSH_LE_H
#define MSH_LE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "msh_buf.h"

static inline void msh_le16_put(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void msh_le32_put(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void msh_le64_put(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t msh_le16_get(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t msh_le32_get(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t msh_le64_get(const uint8_t *p)
{
    return (uint64_t)msh_le32_get(p) | (uint64_t)msh_le32_get(p + 4) << 32;
}

static inline uint32_t msh_f32_bits(float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    return v;
}

static inline uint64_t msh_f64_bits(double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    return v;
}

static inline double msh_f64_get(const uint8_t *p)
{
    uint64_t v = msh_le64_get(p);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

static inline msh_rc msh_buf_le16(msh_buf *b, uint16_t v)
{
    uint8_t t[2];
    msh_le16_put(t, v);
    return msh_buf_append(b, t, 2);
}

static inline msh_rc msh_buf_le32(msh_buf *b, uint32_t v)
{
    uint8_t t[4];
    msh_le32_put(t, v);
    return msh_buf_append(b, t, 4);
}

static inline msh_rc msh_buf_le64(msh_buf *b, uint64_t v)
{
    uint8_t t[8];
    msh_le64_put(t, v);
    return msh_buf_append(b, t, 8);
}

static inline bool msh_le32_take(const uint8_t **p, const uint8_t *end, uint32_t *v)
{
    if (end - *p < 4)
        return false;
    *v = msh_le32_get(*p);
    *p += 4;
    return true;
}

static inline bool msh_le64_take(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    if (end - *p < 8)
        return false;
    *v = msh_le64_get(*p);
    *p += 8;
    return true;
}

static inline bool msh_f32_take(const uint8_t **p, const uint8_t *end, float *v)
{
    uint32_t u;
    if (!msh_le32_take(p, end, &u))
        return false;
    memcpy(v, &u, 4);
    return true;
}

static inline bool msh_f64_take(const uint8_t **p, const uint8_t *end, double *v)
{
    if (end - *p < 8)
        return false;
    *v = msh_f64_get(*p);
    *p += 8;
    return true;
}

#endif
