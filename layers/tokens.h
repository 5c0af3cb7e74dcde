/* tokens.h: write tokens: made and revoked in the store, checked in memory by the server.
 *
 * A token is `msh_` + 43 characters of base64url (32 bytes from getrandom()). It is shown
 * once, when made; the store keeps only its SHA-256, a role and the first 8 characters
 * (`prefix`) so a listing can tell tokens apart. The table `msh_tokens` lives in the same
 * SpatiaLite file as the layers, so a new or revoked token bumps PRAGMA data_version and the
 * server's reload thread picks it up with the data.
 *
 * The server never asks SQLite per request: it loads an immutable msh_token_set (hash and
 * role of every token not revoked) and checks a presented token against it. A set is never
 * changed after loading, so any number of threads may check against it at once; replacing
 * and freeing it is the owner's business (server/ swaps it under a lock).
 *
 * Roles are ordered: admin may do whatever ops may, ops whatever feed may, so "allowed" is
 * `role >= needed`. `reporter` (the mobile apps) is the lowest: it may only create reports
 * through OGC API - Features Part 4, as the collection rules say (server/http/access.h); a
 * reporter token may not post feeds.
 */
#ifndef MSH_TOKENS_H
#define MSH_TOKENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msh_err.h"
#include "store.h"

typedef enum { MSH_ROLE_NONE = 0, MSH_ROLE_REPORTER = 1, MSH_ROLE_FEED = 2, MSH_ROLE_OPS = 3, MSH_ROLE_ADMIN = 4 } msh_role;

/** Longest token name, in bytes (UTF-8). */
#define MSH_TOKEN_NAME_MAX 100
/** Size of a buffer that holds a token's text and its NUL ("msh_" + 43 + 1 = 48). */
#define MSH_TOKEN_TEXT_SIZE 48

/** "reporter", "feed", "ops", "admin" (and "none" for MSH_ROLE_NONE or anything else). */
const char *msh_role_name(msh_role role);
/** The role named `s` ("reporter", "feed", "ops" or "admin", exactly), or MSH_ROLE_NONE. */
msh_role msh_role_parse(const char *s);

/**
 * True when `name` is a valid token name: 1 to MSH_TOKEN_NAME_MAX bytes of valid UTF-8
 * with no control characters (they would garble listings and logs), and not all digits
 * (`revoke` reads an all-digit argument as an id).
 */
bool msh_token_name_valid(const char *name);

/**
 * Make a token for `role` (reporter, feed, ops or admin) named `name`, storing only its hash.
 * Writes the token text, NUL-terminated, to `token_out` (`cap` >= MSH_TOKEN_TEXT_SIZE) and
 * the new row's id to `id` (may be NULL). Creates the table `msh_tokens` when missing.
 * Errors: MSH_EINVAL (bad role or name, small buffer), MSH_EIO (randomness or database).
 * On error `token_out` holds an empty string.
 */
msh_rc msh_token_create(msh_store *s, msh_role role, const char *name, char *token_out, size_t cap, int64_t *id,
                        msh_err *err);

/** One row of a listing; never holds the token or its hash. */
typedef struct msh_token_info {
    int64_t id;
    char *name; /* owned by the array */
    msh_role role;
    char prefix[16];      /* first 8 characters of the token */
    char created_at[32];  /* ISO 8601 UTC, "2025-06-01T12:00:00Z" */
    char revoked_at[32];  /* same, or "" while the token is valid */
} msh_token_info;

/**
 * Every token, revoked ones too, by id. The caller frees with msh_token_infos_free.
 * A store without the table has no tokens (n = 0, infos = NULL). Errors: MSH_EIO, MSH_ENOMEM.
 */
msh_rc msh_token_list(msh_store *s, msh_token_info **infos, size_t *n, msh_err *err);
void msh_token_infos_free(msh_token_info *infos, size_t n);

/**
 * Revoke a token that is still valid: `id_or_name` all digits is an id, anything else a name.
 * Errors: MSH_ENOTFOUND when no valid token matches (none, or already revoked),
 * MSH_EINVAL when a name matches more than one valid token (revoke those by id), MSH_EIO.
 */
msh_rc msh_token_revoke(msh_store *s, const char *id_or_name, msh_err *err);

/** The valid tokens of a store, in memory: immutable once loaded. */
typedef struct msh_token_set msh_token_set;

/**
 * Load the hashes and roles of every token not revoked. The caller owns *out (free with
 * msh_token_set_free). A store without the table gives an empty set.
 * Errors: MSH_EIO, MSH_ENOMEM, MSH_EFORMAT (a row with a bad hash or role).
 */
msh_rc msh_token_set_load(msh_store *s, msh_token_set **out, msh_err *err);
/**
 * The role of the token whose text is `token[0..len)`, or MSH_ROLE_NONE when it is not in
 * the set (or `set` is NULL). Hashes the text and compares against every entry in constant
 * time per entry, without stopping at a match. Safe from many threads at once.
 */
msh_role msh_token_set_check(const msh_token_set *set, const char *token, size_t len);
/** The same, and the token's name into `name` (`cap` bytes; "" when not found), for the audit. */
msh_role msh_token_set_who(const msh_token_set *set, const char *token, size_t len, char *name, size_t cap);
/** How many tokens the set holds. */
size_t msh_token_set_count(const msh_token_set *set);
/** True when both sets hold the same hashes with the same roles (NULL counts as empty). */
bool msh_token_set_same(const msh_token_set *a, const msh_token_set *b);
void msh_token_set_free(msh_token_set *set);

#endif
