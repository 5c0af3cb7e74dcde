/* host_links.h: what absolute links (TileJSON, styles, OGC, /catalog) are made from.
 *
 * With `--public-url URL` every link starts with that URL and no answer depends on the Host
 * header. Without it links are made from the Host header (checked by msh_hdr_host_ok), so such an
 * answer is marked: it gets `Vary: Host` and its ETag carries a hash of the host, so a shared
 * cache never hands one client's links to another and a 304 never confirms a body with other
 * links. (Relative links would avoid this, but MapLibre needs absolute tile and source URLs in
 * TileJSON and styles, and GDAL's OAPIF driver follows OGC links as they are.)
 */
#ifndef MSH_HOST_LINKS_H
#define MSH_HOST_LINKS_H

#include <stdbool.h>
#include <stddef.h>

/**
 * Check and normalise a --public-url value into out: http:// or https://, then a host and an
 * optional path of printable characters without spaces, quotes, '<', '>' or '\'; no query or
 * fragment; trailing '/' removed. False with a reason in `why` when it is not such a URL.
 */
bool msh_public_url_parse(const char *in, char *out, size_t cap, const char **why);

/** Fold a hash of `host` into a quoted ETag in place ("abc" -> "abc-h1234abcd"); left alone when it does not fit. */
void msh_etag_fold_host(char *etag, size_t cap, const char *host);

#endif
