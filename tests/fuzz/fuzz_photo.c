/* fuzz_photo.c: a photo body (importers/photo.h) never crashes, and the check is consistent: the first
 * byte picks the type the Content-Type would claim (even: JPEG, odd: PNG), the rest is the body. A
 * body the structural scan refuses is refused by the full read with the same code; one the full read
 * takes passed the scan, is within the pixel cap, and has a thumbnail no larger than 256 px on its
 * longest side that is itself a whole image of the type it is labelled (it scans clean). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "photo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > MSH_PHOTO_MAX_BYTES)
        return 0;
    msh_photo_type want = data[0] & 1 ? MSH_PHOTO_PNG : MSH_PHOTO_JPEG;
    const uint8_t *body = data + 1;
    size_t len = size - 1;
    msh_photo_info scan, info;
    msh_err e1, e2;
    msh_rc s = msh_photo_scan(body, len, want, &scan, &e1);
    uint8_t *thumb = NULL;
    size_t tlen = 0;
    msh_photo_type ttype = MSH_PHOTO_NONE;
    msh_rc r = msh_photo_read(body, len, want, &info, &thumb, &tlen, &ttype, &e2);
    if (s && r != s)
        abort(); /* the scan's refusal is the read's */
    if (!r) {
        if (s || !thumb || !tlen || (uint64_t)info.width * (uint64_t)info.height > MSH_PHOTO_MAX_PIXELS)
            abort();
        msh_photo_info ti;
        if (msh_photo_scan(thumb, tlen, ttype, &ti, &e1) || ti.width > MSH_PHOTO_THUMB_SIDE ||
            ti.height > MSH_PHOTO_THUMB_SIDE || (ti.width != info.width && ti.height != info.height &&
                                                 ti.width != MSH_PHOTO_THUMB_SIDE && ti.height != MSH_PHOTO_THUMB_SIDE))
            abort();
    } else if (thumb || tlen) {
        abort(); /* nothing is handed back from a refusal */
    }
    free(thumb);
    return 0;
}
