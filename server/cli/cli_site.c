/* cli_site.c: a site's box from the `sites` layer (see cli_site.h). */
#include "cli/cli_site.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/msh_tilemath.h"

typedef struct site_find {
    const char *name;
    uint32_t fid, fname; /* field indexes, UINT32_MAX when missing */
    bool found;
    double box[4];       /* world units */
} site_find;

static bool value_is(const msh_value *v, const char *s)
{
    return v->type == MSH_FT_STRING && v->len == strlen(s) && !strncasecmp(v->u.s, s, v->len);
}

static int on_site(void *ud, const msh_feature *f)
{
    site_find *sf = ud;
    if (!((sf->fid != UINT32_MAX && value_is(&f->values[sf->fid], sf->name)) ||
          (sf->fname != UINT32_MAX && value_is(&f->values[sf->fname], sf->name))))
        return 0;
    for (uint32_t i = 0; i < f->geom.npts; i++) {
        double x = f->geom.xy[2 * i], y = f->geom.xy[2 * i + 1];
        if (!sf->found) {
            sf->box[0] = sf->box[2] = x, sf->box[1] = sf->box[3] = y;
            sf->found = true;
        }
        sf->box[0] = fmin(sf->box[0], x), sf->box[2] = fmax(sf->box[2], x);
        sf->box[1] = fmin(sf->box[1], y), sf->box[3] = fmax(sf->box[3], y);
    }
    return 0;
}

bool msh_cli_site_bbox(const char *cmd, msh_catalog *cat, const char *name, double bb[4])
{
    msh_layer *l = msh_catalog_find(cat, "sites", 5);
    if (!l) {
        fprintf(stderr, "mashaer %s: --site needs a layer named sites in the store (import data/demo/sites.geojson)\n", cmd);
        return false;
    }
    site_find sf = {name, UINT32_MAX, UINT32_MAX, false, {0}};
    for (uint32_t i = 0; i < l->info.nfields; i++) {
        if (!strcmp(l->info.fields[i].name, "site_id")) sf.fid = i;
        if (!strcmp(l->info.fields[i].name, "name")) sf.fname = i;
    }
    const double world[4] = {0, 0, 1, 1};
    msh_rc rc = l->vt->query(l, world, MSH_MAX_ZOOM, on_site, &sf);
    if (rc) {
        fprintf(stderr, "mashaer %s: reading the sites layer: %s\n", cmd, msh_rc_str(rc));
        return false;
    }
    if (!sf.found) {
        fprintf(stderr, "mashaer %s: no site '%s' in the sites layer (its site_id or name)\n", cmd, name);
        return false;
    }
    msh_world_to_lonlat(sf.box[0], sf.box[3], &bb[0], &bb[1]);
    msh_world_to_lonlat(sf.box[2], sf.box[1], &bb[2], &bb[3]);
    return true;
}

