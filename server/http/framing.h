/* framing.h: the request-framing rules: a request whose length or bytes could be read two ways is
 * refused with 400 before its body is read.
 *
 * Refused: two Content-Length headers with different values (or a list in one), Content-Length
 * together with Transfer-Encoding, a Transfer-Encoding other than exactly `chunked`, a header name
 * that is not an RFC 9110 token, a control character (NUL above all) in a header value, folded
 * (obs-fold) header lines, and a NUL in the request target.
 *
 * libmicrohttpd 0.9.75 hands headers over as C strings, so a NUL inside a value silently cuts it
 * short. It parses in place, though: every header line stays where it arrived in one block, its
 * line ends and the colon overwritten with zeros, the OWS after the colon skipped. So the bytes
 * between the end of one value and the next name must be one or two zeros (CRLF or LF), and
 * anything else there is what a NUL hid. (The one NUL this cannot see is one that hides nothing:
 * at the very end of a line, right before a bare LF, it looks like the CR of a CRLF.) msh_framing_check reads exactly that layout; it is pure
 * (no allocation, no state) and a fuzz target (tests/fuzz/fuzz_framing.c) builds the layout the
 * same way from arbitrary bytes. tests/integration/test_clients.py holds libmicrohttpd to it.
 */
#ifndef MSH_FRAMING_H
#define MSH_FRAMING_H

#include <stddef.h>

/** One header line as the parser left it: name and value point into the header block. */
typedef struct msh_hdr_ref {
    const char *key;
    size_t key_len;
    const char *value;
    size_t value_len;
} msh_hdr_ref;

/**
 * Check the n header lines h[] (in the order received) of a header block that ends at
 * `block_end` (just past the empty line), laid out as described above. Returns NULL when the
 * framing is unambiguous, else why not (a static string for the 400's message).
 */
const char *msh_framing_check(const msh_hdr_ref *h, size_t n, const char *block_end);

#endif
