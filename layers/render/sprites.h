/* sprites.h: the map's icon sprite sheet, drawn with Cairo as vectors at any pixel ratio.
 *
 * Design: every icon is a 24 x 24 px (at pixel ratio 1) badge drawn by a small C function from
 * paths, so the sheet has no binary source and is sharp at 1x and 2x alike. Icons sit on a
 * grid of 26 px cells (a 2 px gap stops linear filtering from bleeding between icons), packed
 * into one PNG with a MapLibre sprite index: {"name": {"x","y","width","height","pixelRatio"}}.
 * Names: the asset kinds of the demo site (toilet, water_point, clinic, waste_bin, lighting,
 * gate, ac_unit), incident kinds (incident-medical, incident-lost_person, incident-fire,
 * incident-crowding, incident for any other), crews (crew-cleaning, crew-emergency).
 */
#ifndef MSH_SPRITES_H
#define MSH_SPRITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msh_err.h"

#define MSH_SPRITE_ICON 24 /* px at pixel ratio 1 */

typedef struct msh_sprite_sheet {
    uint8_t *png; /* malloc'ed PNG bytes */
    size_t png_len;
    char *json; /* malloc'ed NUL-terminated index */
    size_t json_len;
    int width, height; /* of the PNG, px */
} msh_sprite_sheet;

/** Draw every icon at `ratio` (1 or 2) into one PNG and its JSON index. */
msh_rc msh_sprites_render(int ratio, msh_sprite_sheet *out, msh_err *err);
void msh_sprite_sheet_free(msh_sprite_sheet *s);

/** How many icons there are and the name of the i-th (static strings). */
size_t msh_sprites_count(void);
const char *msh_sprites_name(size_t i);

/**
 * Draw the icon `name` (len bytes, not NUL-terminated) on the cairo_t `cairo` (a void * so that
 * this header needs no Cairo) in a 24 x 24 unit box at the origin of its current transform, as
 * the sheet has it: raster tiles draw icons from the same paths, sharp at any size.
 * False (nothing drawn) for an unknown name.
 */
bool msh_sprites_draw(void *cairo, const char *name, size_t len);

#endif
