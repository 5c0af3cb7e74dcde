/* httphdr.h: pure parsers of the request headers the server acts on (fuzzed in tests/fuzz). */
#ifndef MSH_HTTPHDR_H
#define MSH_HTTPHDR_H

#include <stdbool.h>

/** True when an Accept-Encoding value allows gzip (present, and not "gzip;q=0"). NULL: false. */
bool msh_hdr_accepts_gzip(const char *accept_encoding);
/**
 * True when an If-None-Match value names `etag` ("*" matches anything). Weak
 * comparison: W/ prefixes are ignored, and so is a "-gz" suffix, since both
 * encodings of a tile carry the same data.
 */
bool msh_hdr_etag_matches(const char *if_none_match, const char *etag);
/** True when a Host value is safe to put in a URL: letters, digits and ".-:[]_", under 200 bytes. */
bool msh_hdr_host_ok(const char *host);

#endif
