/* tokens.c: write tokens in the store (hash, role, prefix) and the in-memory set the server checks. */
#include "tokens.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "core/msh_grow.h"

#define HASH_LEN 32      /* SHA-256 */
#define RANDOM_LEN 32    /* bytes of randomness in a token */
#define TOKEN_TAG "msh_" /* marks a Mashaer token in logs and secret scanners */
#define PREFIX_LEN 8

struct msh_token_set {
    size_t n;
    struct entry {
        uint8_t hash[HASH_LEN];
        msh_role role;
        char *name; /* owned: who holds it, for the audit of edits */
    } *e; /* sorted by hash, so two sets compare entry by entry */
};

static const char NOW_SQL[] = "strftime('%Y-%m-%dT%H:%M:%SZ','now')";

static const char TABLE_SQL[] = "CREATE TABLE IF NOT EXISTS msh_tokens ("
                                " id INTEGER PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL,"
                                " hash BLOB NOT NULL UNIQUE, prefix TEXT NOT NULL,"
                                " created_at TEXT NOT NULL, revoked_at TEXT)";

const char *msh_role_name(msh_role role)
{
    switch (role) {
    case MSH_ROLE_REPORTER: return "reporter";
    case MSH_ROLE_FEED: return "feed";
    case MSH_ROLE_OPS: return "ops";
    case MSH_ROLE_ADMIN: return "admin";
    default: return "none";
    }
}

msh_role msh_role_parse(const char *s)
{
    if (!s)
        return MSH_ROLE_NONE;
    if (!strcmp(s, "reporter"))
        return MSH_ROLE_REPORTER;
    if (!strcmp(s, "feed"))
        return MSH_ROLE_FEED;
    if (!strcmp(s, "ops"))
        return MSH_ROLE_OPS;
    if (!strcmp(s, "admin"))
        return MSH_ROLE_ADMIN;
    return MSH_ROLE_NONE;
}

/* Decode one UTF-8 sequence at p (n bytes left); returns its length, or 0 when invalid
 * (truncated, overlong, a surrogate or past U+10FFFF). */
static size_t utf8_next(const unsigned char *p, size_t n, uint32_t *cp)
{
    unsigned char c = p[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, v = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, v = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, v = c & 0x07, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

bool msh_token_name_valid(const char *name)
{
    if (!name)
        return false;
    size_t n = strnlen(name, MSH_TOKEN_NAME_MAX + 1);
    if (n == 0 || n > MSH_TOKEN_NAME_MAX)
        return false;
    const unsigned char *p = (const unsigned char *)name;
    bool all_digits = true;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = utf8_next(p + i, n - i, &cp);
        if (!k || cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
            return false;
        if (cp < '0' || cp > '9')
            all_digits = false;
        i += k;
    }
    return !all_digits;
}

static msh_rc db_err(sqlite3 *db, msh_err *err, const char *what)
{
    return msh_err_set(err, MSH_EIO, "tokens: %s: %s", what, sqlite3_errmsg(db));
}

static msh_rc exec(sqlite3 *db, const char *sql, msh_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        msh_rc rc = msh_err_set(err, MSH_EIO, "tokens: database: %s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return rc;
    }
    return MSH_OK;
}

static bool table_exists(sqlite3 *db)
{
    sqlite3_stmt *st;
    bool found = false;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name='msh_tokens'", -1, &st,
                           NULL) == SQLITE_OK) {
        found = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
    }
    return found;
}

static bool sha256(const void *data, size_t len, uint8_t out[HASH_LEN])
{
    unsigned int n = 0;
    return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == HASH_LEN;
}

/* base64url without padding; `out` has room for 4 * ceil(n / 3) + 1 bytes. */
static void base64url(const uint8_t *in, size_t n, char *out)
{
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = A[v >> 18 & 63];
        out[o++] = A[v >> 12 & 63];
        out[o++] = A[v >> 6 & 63];
        out[o++] = A[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = A[v >> 18 & 63];
        out[o++] = A[v >> 12 & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = A[v >> 18 & 63];
        out[o++] = A[v >> 12 & 63];
        out[o++] = A[v >> 6 & 63];
    }
    out[o] = 0;
}

static msh_rc random_bytes(uint8_t *p, size_t n, msh_err *err)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = getrandom(p + got, n - got, 0);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return msh_err_set(err, MSH_EIO, "tokens: getrandom: %s", strerror(errno));
        }
        got += (size_t)k;
    }
    return MSH_OK;
}

msh_rc msh_token_create(msh_store *s, msh_role role, const char *name, char *token_out, size_t cap, int64_t *id,
                        msh_err *err)
{
    sqlite3 *db = msh_store_sqlite(s);
    uint8_t rnd[RANDOM_LEN], hash[HASH_LEN];
    char tok[MSH_TOKEN_TEXT_SIZE];
    sqlite3_stmt *st = NULL;
    bool in_tx = false;
    msh_rc rc;
    if (cap)
        token_out[0] = 0;
    if (role < MSH_ROLE_REPORTER || role > MSH_ROLE_ADMIN)
        return msh_err_set(err, MSH_EINVAL, "tokens: the role must be reporter, feed, ops or admin");
    if (!msh_token_name_valid(name))
        return msh_err_set(err, MSH_EINVAL,
                           "tokens: a name is 1 to %d bytes of UTF-8 without control characters, not only digits",
                           MSH_TOKEN_NAME_MAX);
    if (cap < MSH_TOKEN_TEXT_SIZE)
        return msh_err_set(err, MSH_EINVAL, "tokens: the output buffer needs %d bytes", MSH_TOKEN_TEXT_SIZE);
    if ((rc = random_bytes(rnd, sizeof rnd, err)))
        goto out;
    memcpy(tok, TOKEN_TAG, sizeof TOKEN_TAG - 1);
    base64url(rnd, sizeof rnd, tok + sizeof TOKEN_TAG - 1);
    if (!sha256(tok, strlen(tok), hash)) {
        rc = msh_err_set(err, MSH_EINTERNAL, "tokens: SHA-256 failed");
        goto out;
    }
    if ((rc = exec(db, "BEGIN IMMEDIATE", err)))
        goto out;
    in_tx = true;
    if ((rc = exec(db, TABLE_SQL, err)))
        goto out;
    char sql[256];
    snprintf(sql, sizeof sql, "INSERT INTO msh_tokens (name, role, hash, prefix, created_at) VALUES (?, ?, ?, ?, %s)",
             NOW_SQL);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        rc = db_err(db, err, "adding a token");
        goto out;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, msh_role_name(role), -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, hash, HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, tok, PREFIX_LEN, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = db_err(db, err, "adding a token");
        goto out;
    }
    int64_t new_id = sqlite3_last_insert_rowid(db);
    if ((rc = exec(db, "COMMIT", err)))
        goto out;
    in_tx = false;
    if (id)
        *id = new_id;
    memcpy(token_out, tok, strlen(tok) + 1);
out:
    sqlite3_finalize(st);
    if (in_tx)
        exec(db, "ROLLBACK", NULL);
    /* the token exists only in the caller's buffer from here on */
    OPENSSL_cleanse(rnd, sizeof rnd);
    OPENSSL_cleanse(tok, sizeof tok);
    return rc;
}

static void copy_text(char *dst, size_t cap, const unsigned char *src)
{
    snprintf(dst, cap, "%s", src ? (const char *)src : "");
}

msh_rc msh_token_list(msh_store *s, msh_token_info **infos, size_t *n, msh_err *err)
{
    sqlite3 *db = msh_store_sqlite(s);
    sqlite3_stmt *st = NULL;
    msh_token_info *v = NULL;
    size_t len = 0, cap = 0;
    msh_rc rc = MSH_OK;
    *infos = NULL;
    *n = 0;
    if (!table_exists(db))
        return MSH_OK;
    if (sqlite3_prepare_v2(db, "SELECT id, name, role, prefix, created_at, revoked_at FROM msh_tokens ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(db, err, "listing tokens");
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (msh_grow((void **)&v, &cap, len + 1, sizeof *v)) {
            rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
            goto out;
        }
        msh_token_info *t = &v[len];
        memset(t, 0, sizeof *t);
        const unsigned char *name = sqlite3_column_text(st, 1);
        t->name = strdup(name ? (const char *)name : "");
        if (!t->name) {
            rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
            goto out;
        }
        len++;
        t->id = sqlite3_column_int64(st, 0);
        t->role = msh_role_parse((const char *)sqlite3_column_text(st, 2));
        copy_text(t->prefix, sizeof t->prefix, sqlite3_column_text(st, 3));
        copy_text(t->created_at, sizeof t->created_at, sqlite3_column_text(st, 4));
        copy_text(t->revoked_at, sizeof t->revoked_at, sqlite3_column_text(st, 5));
    }
    if (step != SQLITE_DONE)
        rc = db_err(db, err, "listing tokens");
out:
    sqlite3_finalize(st);
    if (rc) {
        msh_token_infos_free(v, len);
        return rc;
    }
    *infos = v;
    *n = len;
    return MSH_OK;
}

void msh_token_infos_free(msh_token_info *infos, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(infos[i].name);
    free(infos);
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* What `revoke` was asked for: an id or a name. */
typedef struct token_key {
    bool by_id;
    int64_t id;
    const char *name;
} token_key;

static void bind_key(sqlite3_stmt *st, const token_key *k)
{
    if (k->by_id)
        sqlite3_bind_int64(st, 1, k->id);
    else
        sqlite3_bind_text(st, 1, k->name, -1, SQLITE_STATIC);
}

/* Count the rows matching `where` (the key bound to ?1). */
static msh_rc count_rows(sqlite3 *db, const char *where, const token_key *k, int64_t *count, msh_err *err)
{
    char sql[256];
    sqlite3_stmt *st;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM msh_tokens WHERE %s", where);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_err(db, err, "finding the token");
    bind_key(st, k);
    msh_rc rc = MSH_OK;
    if (sqlite3_step(st) == SQLITE_ROW)
        *count = sqlite3_column_int64(st, 0);
    else
        rc = db_err(db, err, "finding the token");
    sqlite3_finalize(st);
    return rc;
}

msh_rc msh_token_revoke(msh_store *s, const char *id_or_name, msh_err *err)
{
    sqlite3 *db = msh_store_sqlite(s);
    sqlite3_stmt *st = NULL;
    token_key k = {all_digits(id_or_name), 0, id_or_name};
    const char *what = k.by_id ? "id" : "name";
    const char *key = k.by_id ? "id = ?1" : "name = ?1";
    char where[128], sql[256];
    int64_t valid = 0, revoked = 0;
    msh_rc rc;
    if (k.by_id) {
        errno = 0;
        long long v = strtoll(id_or_name, NULL, 10);
        if (errno == ERANGE)
            return msh_err_set(err, MSH_ENOTFOUND, "no token with id '%s'", id_or_name);
        k.id = v;
    }
    if (!table_exists(db))
        return msh_err_set(err, MSH_ENOTFOUND, "no token with %s '%s' (this store has no tokens)", what, id_or_name);
    if ((rc = exec(db, "BEGIN IMMEDIATE", err)))
        return rc;
    snprintf(where, sizeof where, "%s AND revoked_at IS NULL", key);
    if ((rc = count_rows(db, where, &k, &valid, err)))
        goto out;
    if (valid == 0) {
        snprintf(where, sizeof where, "%s AND revoked_at IS NOT NULL", key);
        if ((rc = count_rows(db, where, &k, &revoked, err)))
            goto out;
        rc = msh_err_set(err, MSH_ENOTFOUND,
                         revoked ? "the token with %s '%s' is already revoked" : "no token with %s '%s'", what,
                         id_or_name);
        goto out;
    }
    if (valid > 1) {
        rc = msh_err_set(err, MSH_EINVAL, "%lld valid tokens are named '%s': revoke them by id (see 'token list')",
                         (long long)valid, id_or_name);
        goto out;
    }
    snprintf(sql, sizeof sql, "UPDATE msh_tokens SET revoked_at = %s WHERE %s AND revoked_at IS NULL", NOW_SQL, key);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        rc = db_err(db, err, "revoking the token");
        goto out;
    }
    bind_key(st, &k);
    if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(db) != 1)
        rc = db_err(db, err, "revoking the token");
out:
    sqlite3_finalize(st);
    if (rc)
        exec(db, "ROLLBACK", NULL);
    else
        rc = exec(db, "COMMIT", err);
    return rc;
}

static int entry_cmp(const void *a, const void *b)
{
    return memcmp(((const struct entry *)a)->hash, ((const struct entry *)b)->hash, HASH_LEN);
}

msh_rc msh_token_set_load(msh_store *s, msh_token_set **out, msh_err *err)
{
    sqlite3 *db = msh_store_sqlite(s);
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    msh_rc rc = MSH_OK;
    *out = NULL;
    msh_token_set *set = calloc(1, sizeof *set);
    if (!set)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    if (!table_exists(db))
        goto out;
    if (sqlite3_prepare_v2(db, "SELECT id, role, hash, name FROM msh_tokens WHERE revoked_at IS NULL", -1, &st, NULL) !=
        SQLITE_OK) {
        rc = db_err(db, err, "loading tokens");
        goto out;
    }
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        msh_role role = msh_role_parse((const char *)sqlite3_column_text(st, 1));
        const void *hash = sqlite3_column_blob(st, 2);
        if (role == MSH_ROLE_NONE || !hash || sqlite3_column_bytes(st, 2) != HASH_LEN) {
            rc = msh_err_set(err, MSH_EFORMAT, "tokens: token %lld has a bad role or hash",
                             (long long)sqlite3_column_int64(st, 0));
            goto out;
        }
        if (msh_grow((void **)&set->e, &cap, set->n + 1, sizeof *set->e)) {
            rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
            goto out;
        }
        memcpy(set->e[set->n].hash, hash, HASH_LEN);
        set->e[set->n].role = role;
        const char *name = (const char *)sqlite3_column_text(st, 3);
        if (!(set->e[set->n].name = strdup(name ? name : ""))) {
            rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
            goto out;
        }
        set->n++;
    }
    if (step != SQLITE_DONE) {
        rc = db_err(db, err, "loading tokens");
        goto out;
    }
    if (set->n > 1)
        qsort(set->e, set->n, sizeof *set->e, entry_cmp);
out:
    sqlite3_finalize(st);
    if (rc) {
        msh_token_set_free(set);
        return rc;
    }
    *out = set;
    return MSH_OK;
}

msh_role msh_token_set_who(const msh_token_set *set, const char *token, size_t len, char *name, size_t cap)
{
    uint8_t hash[HASH_LEN];
    if (name && cap)
        name[0] = 0;
    if (!set || !token || !set->n || !sha256(token, len, hash))
        return MSH_ROLE_NONE;
    /* Look at every entry and pick the match without branching on the comparison, so the
     * time taken says nothing about which hash (if any) matched. */
    unsigned role = MSH_ROLE_NONE;
    size_t at = 0;
    for (size_t i = 0; i < set->n; i++) {
        unsigned hit = (unsigned)(CRYPTO_memcmp(set->e[i].hash, hash, HASH_LEN) == 0);
        role |= (unsigned)set->e[i].role & (0u - hit);
        at |= i & (0 - (size_t)hit);
    }
    if (role != MSH_ROLE_NONE && name && cap)
        snprintf(name, cap, "%s", set->e[at].name);
    return (msh_role)role;
}

msh_role msh_token_set_check(const msh_token_set *set, const char *token, size_t len)
{
    return msh_token_set_who(set, token, len, NULL, 0);
}

size_t msh_token_set_count(const msh_token_set *set)
{
    return set ? set->n : 0;
}

bool msh_token_set_same(const msh_token_set *a, const msh_token_set *b)
{
    size_t na = msh_token_set_count(a), nb = msh_token_set_count(b);
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (a->e[i].role != b->e[i].role || memcmp(a->e[i].hash, b->e[i].hash, HASH_LEN) != 0 ||
            strcmp(a->e[i].name, b->e[i].name) != 0)
            return false;
    return true;
}

void msh_token_set_free(msh_token_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        free(set->e[i].name);
    free(set->e);
    free(set);
}
