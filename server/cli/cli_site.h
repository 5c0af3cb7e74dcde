/* cli_site.h: --site NAME of the commands that take a box (export, package): the site's box. */
#ifndef MSH_CLI_SITE_H
#define MSH_CLI_SITE_H

#include <stdbool.h>

#include "catalog.h"

/** The lon/lat box W,S,E,N of the feature of the `sites` layer whose site_id or name is `name`
 * (any case); prints why not ("mashaer CMD: ...") and returns false. */
bool msh_cli_site_bbox(const char *cmd, msh_catalog *cat, const char *name, double bb[4]);

#endif
