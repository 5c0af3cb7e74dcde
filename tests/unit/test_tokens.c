/* test_tokens.c: write tokens: made, listed, checked, revoked; only hashes in the store; the bearer parser. */
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/auth.h"
#include "check.h"
#include "store.h"
#include "tokens.h"

static bool b64url_only(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
              *s == '_'))
            return false;
    return true;
}

/* True when `needle` occurs anywhere in the file at `path` (a missing file holds nothing). */
static bool file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    size_t cap = 1 << 20, len = 0, nl = strlen(needle);
    char *buf = malloc(cap);
    size_t k;
    while ((k = fread(buf + len, 1, cap - len, f)) > 0) {
        len += k;
        if (len == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    bool found = false;
    for (size_t i = 0; !found && i + nl <= len; i++)
        found = !memcmp(buf + i, needle, nl);
    free(buf);
    return found;
}

/* Every byte of every column of msh_tokens: does `needle` occur in any of them? */
static bool table_contains(msh_store *s, const char *needle)
{
    sqlite3_stmt *st;
    bool found = false;
    size_t nl = strlen(needle);
    if (sqlite3_prepare_v2(msh_store_sqlite(s), "SELECT * FROM msh_tokens", -1, &st, NULL) != SQLITE_OK)
        return true; /* fail loudly */
    while (sqlite3_step(st) == SQLITE_ROW)
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            const char *p = sqlite3_column_blob(st, c);
            size_t n = (size_t)sqlite3_column_bytes(st, c);
            for (size_t i = 0; p && i + nl <= n; i++)
                found |= !memcmp(p + i, needle, nl);
        }
    sqlite3_finalize(st);
    return found;
}

/* The stored hash of token `id` equals SHA-256(token text). */
static bool hash_matches(msh_store *s, int64_t id, const char *tok)
{
    uint8_t want[32];
    unsigned n = 0;
    EVP_Digest(tok, strlen(tok), want, &n, EVP_sha256(), NULL);
    sqlite3_stmt *st;
    bool ok = false;
    sqlite3_prepare_v2(msh_store_sqlite(s), "SELECT hash FROM msh_tokens WHERE id = ?", -1, &st, NULL);
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW)
        ok = n == 32 && sqlite3_column_bytes(st, 0) == 32 && !memcmp(sqlite3_column_blob(st, 0), want, 32);
    sqlite3_finalize(st);
    return ok;
}

static void test_roles_and_names(void)
{
    CHECK(!strcmp(msh_role_name(MSH_ROLE_FEED), "feed"));
    CHECK(!strcmp(msh_role_name(MSH_ROLE_OPS), "ops"));
    CHECK(!strcmp(msh_role_name(MSH_ROLE_ADMIN), "admin"));
    CHECK(!strcmp(msh_role_name(MSH_ROLE_NONE), "none"));
    CHECK(!strcmp(msh_role_name(MSH_ROLE_REPORTER), "reporter") && msh_role_parse("reporter") == MSH_ROLE_REPORTER);
    /* ordered: a reporter is below feed (it may not post feeds), ops and admin above */
    CHECK(MSH_ROLE_NONE < MSH_ROLE_REPORTER && MSH_ROLE_REPORTER < MSH_ROLE_FEED && MSH_ROLE_FEED < MSH_ROLE_OPS);
    CHECK(msh_role_parse("feed") == MSH_ROLE_FEED && msh_role_parse("ops") == MSH_ROLE_OPS &&
          msh_role_parse("admin") == MSH_ROLE_ADMIN);
    CHECK(msh_role_parse("Admin") == MSH_ROLE_NONE && msh_role_parse("") == MSH_ROLE_NONE &&
          msh_role_parse(NULL) == MSH_ROLE_NONE && msh_role_parse("none") == MSH_ROLE_NONE);
    CHECK(MSH_ROLE_ADMIN > MSH_ROLE_OPS && MSH_ROLE_OPS > MSH_ROLE_FEED && MSH_ROLE_FEED > MSH_ROLE_NONE);

    char name[128];
    memset(name, 'a', 100);
    name[100] = 0;
    CHECK(msh_token_name_valid(name));
    name[100] = 'a';
    name[101] = 0;
    CHECK(!msh_token_name_valid(name));
    CHECK(msh_token_name_valid("gate sensors / Mina 3"));
    CHECK(msh_token_name_valid("\xd9\x85\xd9\x86\xd9\x89"));      /* منى */
    CHECK(msh_token_name_valid("\xf0\x9f\x95\x8b feed"));          /* U+1F54B */
    CHECK(msh_token_name_valid("7a"));
    CHECK(!msh_token_name_valid(""));
    CHECK(!msh_token_name_valid(NULL));
    CHECK(!msh_token_name_valid("42"));                            /* revoke would read it as an id */
    CHECK(!msh_token_name_valid("line\nbreak"));
    CHECK(!msh_token_name_valid("tab\there"));
    CHECK(!msh_token_name_valid("del\x7f"));
    CHECK(!msh_token_name_valid("c1 \xc2\x85"));                   /* U+0085 NEL */
    CHECK(!msh_token_name_valid("bad \xff"));
    CHECK(!msh_token_name_valid("overlong \xc0\xaf"));
    CHECK(!msh_token_name_valid("surrogate \xed\xa0\x80"));
    CHECK(!msh_token_name_valid("truncated \xd9"));
    CHECK(!msh_token_name_valid("too high \xf4\x90\x80\x80"));
    /* 100 bytes of 2-byte characters is fine, 102 is not */
    for (int i = 0; i < 50; i++)
        memcpy(name + 2 * i, "\xd9\x85", 2);
    name[100] = 0;
    CHECK(msh_token_name_valid(name));
    memcpy(name + 100, "\xd9\x85", 3);
    CHECK(!msh_token_name_valid(name));
}

static void test_parser(void)
{
    const char *t;
    size_t n;
    CHECK(msh_auth_parse_bearer("Bearer abc", &t, &n) == 0 && n == 3 && !strncmp(t, "abc", 3));
    CHECK(msh_auth_parse_bearer("bearer abc", &t, &n) == 0 && n == 3);
    CHECK(msh_auth_parse_bearer("BEARER   msh_A-b_c.d~e+f/g==", &t, &n) == 0 && n == 19 &&
          !strncmp(t, "msh_A-b_c.d~e+f/g==", n));
    CHECK(msh_auth_parse_bearer("Bearer ===", &t, &n) == -1 && t == NULL && n == 0);
    CHECK(msh_auth_parse_bearer("Bearer a=b", &t, &n) == -1);
    CHECK(msh_auth_parse_bearer("Bearer", &t, &n) == -1);
    CHECK(msh_auth_parse_bearer("Bearer ", &t, &n) == -1);
    CHECK(msh_auth_parse_bearer("Bearerabc", &t, &n) == -1);
    CHECK(msh_auth_parse_bearer("Bearer\tabc", &t, &n) == -1);
    CHECK(msh_auth_parse_bearer("Bearer abc ", &t, &n) == -1);
    CHECK(msh_auth_parse_bearer(" Bearer abc", &t, &n) == -1);
    CHECK(msh_auth_parse_bearer("Bearer abc def", &t, &n) == -1);
    CHECK(msh_auth_parse_bearer("Bearer ab\"c", &t, &n) == -1);
    CHECK(msh_auth_parse_bearer("Basic dXNlcjpwYXNz", &t, &n) == -1);
    CHECK(msh_auth_parse_bearer("Bearer ab\xc3\xa9", &t, &n) == -1);
    CHECK(msh_auth_parse_bearer("", &t, &n) == -1);
    CHECK(msh_auth_parse_bearer(NULL, &t, &n) == -1);
    char h[600];
    memcpy(h, "Bearer ", 7);
    memset(h + 7, 'x', 512);
    h[7 + 512] = 0;
    CHECK(msh_auth_parse_bearer(h, &t, &n) == 0 && n == 512);
    h[7 + 511] = '=';
    CHECK(msh_auth_parse_bearer(h, &t, &n) == 0 && n == 512);
    h[7 + 512] = 'x';
    h[7 + 513] = 0;
    CHECK(msh_auth_parse_bearer(h, &t, &n) == -1);
    memset(h + 7, 'x', 513);
    CHECK(msh_auth_parse_bearer(h, &t, &n) == -1);
}

int main(int argc, char **argv)
{
    char path[1024], wal[1100];
    snprintf(path, sizeof path, "%s/tokens_test.sqlite", argc > 1 ? argv[1] : ".");
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(path);
    unlink(wal);
    test_roles_and_names();
    test_parser();

    msh_err err;
    msh_store *s;
    CHECK(msh_store_open(path, true, &s, &err) == MSH_OK);
    if (!s)
        CHECK_DONE();

    /* a store without the table: no tokens, nothing to revoke */
    msh_token_set *set = NULL;
    msh_token_info *infos;
    size_t n;
    CHECK(msh_token_set_load(s, &set, &err) == MSH_OK && msh_token_set_count(set) == 0);
    CHECK(msh_token_set_check(set, "msh_x", 5) == MSH_ROLE_NONE);
    msh_token_set_free(set);
    CHECK(msh_token_list(s, &infos, &n, &err) == MSH_OK && n == 0 && infos == NULL);
    CHECK(msh_token_revoke(s, "feeder", &err) == MSH_ENOTFOUND);

    /* bad input */
    char tok[3][MSH_TOKEN_TEXT_SIZE], small[16];
    int64_t id[3];
    CHECK(msh_token_create(s, MSH_ROLE_NONE, "x", tok[0], sizeof tok[0], NULL, &err) == MSH_EINVAL);
    CHECK(msh_token_create(s, (msh_role)7, "x", tok[0], sizeof tok[0], NULL, &err) == MSH_EINVAL);
    CHECK(msh_token_create(s, MSH_ROLE_FEED, "", tok[0], sizeof tok[0], NULL, &err) == MSH_EINVAL);
    CHECK(msh_token_create(s, MSH_ROLE_FEED, "x", small, sizeof small, NULL, &err) == MSH_EINVAL && !small[0]);

    /* make three */
    static const char *names[3] = {"gate sensors", "ops desk", "\xd9\x85\xd9\x86\xd9\x89 admin"};
    static const msh_role roles[3] = {MSH_ROLE_FEED, MSH_ROLE_OPS, MSH_ROLE_ADMIN};
    for (int i = 0; i < 3; i++) {
        CHECK(msh_token_create(s, roles[i], names[i], tok[i], sizeof tok[i], &id[i], &err) == MSH_OK);
        CHECK(strlen(tok[i]) == 47 && !strncmp(tok[i], "msh_", 4) && b64url_only(tok[i] + 4));
        CHECK(id[i] == i + 1);
        CHECK(hash_matches(s, id[i], tok[i]));
    }
    CHECK(strcmp(tok[0], tok[1]) && strcmp(tok[1], tok[2]) && strcmp(tok[0], tok[2]));

    /* hashes stored, never the token: not in any column, not in the file or its WAL */
    for (int i = 0; i < 3; i++) {
        CHECK(!table_contains(s, tok[i]));
        CHECK(!table_contains(s, tok[i] + 8)); /* nor its secret part */
        CHECK(!file_contains(path, tok[i] + 8) && !file_contains(wal, tok[i] + 8));
    }

    /* list */
    CHECK(msh_token_list(s, &infos, &n, &err) == MSH_OK && n == 3);
    for (size_t i = 0; i < n && i < 3; i++) {
        CHECK(infos[i].id == id[i]);
        CHECK(!strcmp(infos[i].name, names[i]));
        CHECK(infos[i].role == roles[i]);
        CHECK(strlen(infos[i].prefix) == 8 && !strncmp(infos[i].prefix, tok[i], 8));
        CHECK(strlen(infos[i].created_at) == 20 && infos[i].created_at[10] == 'T');
        CHECK(infos[i].revoked_at[0] == 0);
    }
    msh_token_infos_free(infos, n);

    /* check */
    CHECK(msh_token_set_load(s, &set, &err) == MSH_OK && msh_token_set_count(set) == 3);
    for (int i = 0; i < 3; i++)
        CHECK(msh_token_set_check(set, tok[i], strlen(tok[i])) == roles[i]);
    /* who: the name comes with the role (the audit of edits records it) */
    for (int i = 0; i < 3; i++) {
        char who[MSH_TOKEN_NAME_MAX + 1];
        CHECK(msh_token_set_who(set, tok[i], strlen(tok[i]), who, sizeof who) == roles[i] && !strcmp(who, names[i]));
    }
    char who0[8] = "x";
    CHECK(msh_token_set_who(set, "nope", 4, who0, sizeof who0) == MSH_ROLE_NONE && who0[0] == 0);
    char wrong[MSH_TOKEN_TEXT_SIZE];
    memcpy(wrong, tok[0], sizeof wrong);
    wrong[20] = wrong[20] == 'A' ? 'B' : 'A';
    CHECK(msh_token_set_check(set, wrong, strlen(wrong)) == MSH_ROLE_NONE);
    CHECK(msh_token_set_check(set, tok[0], strlen(tok[0]) - 1) == MSH_ROLE_NONE);
    CHECK(msh_token_set_check(set, tok[0], 8) == MSH_ROLE_NONE);
    CHECK(msh_token_set_check(set, "", 0) == MSH_ROLE_NONE);
    CHECK(msh_token_set_check(NULL, tok[0], strlen(tok[0])) == MSH_ROLE_NONE);
    /* the token as the parser hands it over, from a header */
    char hdr[128];
    const char *t;
    size_t tl;
    snprintf(hdr, sizeof hdr, "Bearer %s", tok[1]);
    CHECK(msh_auth_parse_bearer(hdr, &t, &tl) == 0 && msh_token_set_check(set, t, tl) == MSH_ROLE_OPS);
    msh_token_set *again;
    CHECK(msh_token_set_load(s, &again, &err) == MSH_OK && msh_token_set_same(set, again));
    msh_token_set_free(again);

    /* revoke, reload: the revoked one fails, the others still pass */
    CHECK(msh_token_revoke(s, "gate sensors", &err) == MSH_OK);
    CHECK(msh_token_revoke(s, "gate sensors", &err) == MSH_ENOTFOUND && strstr(err.msg, "already revoked"));
    CHECK(msh_token_revoke(s, "1", &err) == MSH_ENOTFOUND);
    CHECK(msh_token_revoke(s, "99", &err) == MSH_ENOTFOUND);
    CHECK(msh_token_revoke(s, "99999999999999999999999", &err) == MSH_ENOTFOUND);
    CHECK(msh_token_revoke(s, "nobody", &err) == MSH_ENOTFOUND);
    CHECK(msh_token_set_check(set, tok[0], strlen(tok[0])) == MSH_ROLE_FEED); /* the old set is immutable */
    CHECK(msh_token_set_load(s, &again, &err) == MSH_OK && msh_token_set_count(again) == 2);
    CHECK(!msh_token_set_same(set, again));
    CHECK(msh_token_set_check(again, tok[0], strlen(tok[0])) == MSH_ROLE_NONE);
    CHECK(msh_token_set_check(again, tok[1], strlen(tok[1])) == MSH_ROLE_OPS);
    CHECK(msh_token_set_check(again, tok[2], strlen(tok[2])) == MSH_ROLE_ADMIN);
    msh_token_set_free(set);
    msh_token_set_free(again);

    /* by id */
    char idtext[32];
    snprintf(idtext, sizeof idtext, "%lld", (long long)id[2]);
    CHECK(msh_token_revoke(s, idtext, &err) == MSH_OK);
    CHECK(msh_token_set_load(s, &set, &err) == MSH_OK && msh_token_set_count(set) == 1);
    CHECK(msh_token_set_check(set, tok[2], strlen(tok[2])) == MSH_ROLE_NONE);
    CHECK(msh_token_set_check(set, tok[1], strlen(tok[1])) == MSH_ROLE_OPS);
    msh_token_set_free(set);

    /* a name held by two valid tokens is refused; by id works */
    char d1[MSH_TOKEN_TEXT_SIZE], d2[MSH_TOKEN_TEXT_SIZE];
    int64_t did1, did2;
    CHECK(msh_token_create(s, MSH_ROLE_FEED, "twin", d1, sizeof d1, &did1, &err) == MSH_OK);
    CHECK(msh_token_create(s, MSH_ROLE_FEED, "twin", d2, sizeof d2, &did2, &err) == MSH_OK);
    CHECK(msh_token_revoke(s, "twin", &err) == MSH_EINVAL && strstr(err.msg, "by id"));
    snprintf(idtext, sizeof idtext, "%lld", (long long)did1);
    CHECK(msh_token_revoke(s, idtext, &err) == MSH_OK);
    CHECK(msh_token_revoke(s, "twin", &err) == MSH_OK); /* only one valid left */

    /* the listing records revocations */
    CHECK(msh_token_list(s, &infos, &n, &err) == MSH_OK && n == 5);
    for (size_t i = 0; i < n; i++)
        CHECK((infos[i].id == id[1]) == (infos[i].revoked_at[0] == 0));
    msh_token_infos_free(infos, n);

    /* another connection sees the change in PRAGMA data_version (how the server notices) */
    msh_store *other;
    CHECK(msh_store_open(path, false, &other, &err) == MSH_OK);
    long v0 = msh_store_data_version(other);
    char d3[MSH_TOKEN_TEXT_SIZE];
    CHECK(msh_token_create(s, MSH_ROLE_FEED, "late", d3, sizeof d3, NULL, &err) == MSH_OK);
    CHECK(msh_store_data_version(other) != v0);
    CHECK(msh_token_set_load(other, &set, &err) == MSH_OK && msh_token_set_check(set, d3, strlen(d3)) == MSH_ROLE_FEED);
    msh_token_set_free(set);
    msh_store_close(other);

    msh_store_close(s);
    CHECK_DONE();
}
