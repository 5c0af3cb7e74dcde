/* cmd_token.c: `mashaer token add|list|revoke`: the write tokens of a store. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli/commands.h"
#include "store.h"
#include "tokens.h"

static void usage(FILE *f)
{
    fprintf(f, "Usage: mashaer token <add|list|revoke> --db FILE [options]\n"
               "\n"
               "Manage the tokens that writes (live feeds) must send as 'Authorization: Bearer TOKEN'.\n"
               "The store keeps only a hash of each token; the token itself is shown once, by 'add'.\n"
               "\n"
               "  mashaer token add --db FILE --role reporter|feed|ops|admin --name NAME\n"
               "  mashaer token list --db FILE\n"
               "  mashaer token revoke --db FILE ID|NAME\n"
               "\n"
               "Roles are ordered: admin may do what ops may, ops what feed may; reporter may only\n"
               "create reports (OGC API - Features Part 4, see 'mashaer serve --access').\n"
               "Run 'mashaer token <add|list|revoke> --help' for details.\n");
}

static void usage_add(FILE *f)
{
    fprintf(f,
            "Usage: mashaer token add --db FILE --role reporter|feed|ops|admin --name NAME\n"
            "\n"
            "Make a new token and print it alone on the first line of stdout. It is shown only\n"
            "this once: the store keeps its SHA-256 hash and its first 8 characters (for 'list').\n"
            "  --db FILE       the store (a SpatiaLite file or postgresql://USER@HOST:PORT/DB)\n"
            "  --role ROLE     reporter (create reports only: mobile apps), feed (send live data),\n"
            "                  ops (and operate, edit operational layers), admin (everything)\n"
            "  --name NAME     who or what holds it: 1 to %d bytes of UTF-8, no control characters,\n"
            "                  not only digits\n"
            "  -h, --help      this help\n",
            MSH_TOKEN_NAME_MAX);
}

static void usage_list(FILE *f)
{
    fprintf(f, "Usage: mashaer token list --db FILE\n"
               "\n"
               "List every token, revoked ones too: id, name, role, prefix, created, revoked\n"
               "(times in UTC; '-' while valid). Tokens themselves are never shown again.\n"
               "  --db FILE       the store (a SpatiaLite file or postgresql://USER@HOST:PORT/DB)\n"
               "  -h, --help      this help\n");
}

static void usage_revoke(FILE *f)
{
    fprintf(f, "Usage: mashaer token revoke --db FILE ID|NAME\n"
               "\n"
               "Revoke a valid token, by id (all digits) or by name. A running server stops\n"
               "accepting it at its next reload (--reload-ms). A name held by more than one\n"
               "valid token is refused: revoke those by id.\n"
               "  --db FILE       the store (a SpatiaLite file or postgresql://USER@HOST:PORT/DB)\n"
               "  -h, --help      this help\n");
}

/* Open an existing store; prints why not. */
static int open_store(const char *cmd, const char *db, msh_store **s)
{
    msh_err err;
    if (!msh_store_is_url(db) && access(db, F_OK) != 0) {
        fprintf(stderr, "mashaer token %s: %s does not exist: create it with 'mashaer import --db %s DATA...'\n",
                cmd, db, db);
        return 1;
    }
    if (msh_store_open(db, false, s, &err)) {
        fprintf(stderr, "mashaer token %s: %s\n", cmd, err.msg);
        return 1;
    }
    return 0;
}

static int cmd_add(int argc, char **argv)
{
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"role", required_argument, 0, 'r'},
                                         {"name", required_argument, 0, 'n'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *db = NULL, *role_s = NULL, *name = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'r': role_s = optarg; break;
        case 'n': name = optarg; break;
        case 'h': usage_add(stdout); return 0;
        default: usage_add(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mashaer token add: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!db || !role_s || !name) {
        fprintf(stderr, "mashaer token add: --db, --role and --name are required\n\n");
        usage_add(stderr);
        return 2;
    }
    msh_role role = msh_role_parse(role_s);
    if (role == MSH_ROLE_NONE) {
        fprintf(stderr, "mashaer token add: --role is reporter, feed, ops or admin, not '%s'\n", role_s);
        return 2;
    }
    if (!msh_token_name_valid(name)) {
        fprintf(stderr,
                "mashaer token add: --name takes 1 to %d bytes of UTF-8 without control characters, "
                "not only digits\n",
                MSH_TOKEN_NAME_MAX);
        return 2;
    }
    msh_store *s;
    if (open_store("add", db, &s))
        return 1;
    char tok[MSH_TOKEN_TEXT_SIZE];
    int64_t id = 0;
    msh_err err;
    int code = 0;
    if (msh_token_create(s, role, name, tok, sizeof tok, &id, &err)) {
        fprintf(stderr, "mashaer token add: %s\n", err.msg);
        code = 1;
    } else {
        printf("%s\n", tok);
        fflush(stdout);
        fprintf(stderr,
                "mashaer token add: token %lld '%s' (%s) made. It is shown only this once: keep it now;\n"
                "the store keeps only its hash.\n",
                (long long)id, name, msh_role_name(role));
    }
    OPENSSL_cleanse(tok, sizeof tok);
    msh_store_close(s);
    return code;
}

/* The options of a subcommand that takes only --db and --help: -1 to go on with *db (NULL when
 * not given), else the exit code (0 after the help, 2 after a bad option). */
static int db_options(int argc, char **argv, void (*usage_fn)(FILE *), const char **db)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': *db = optarg; break;
        case 'h': usage_fn(stdout); return 0;
        default: usage_fn(stderr); return 2;
        }
    }
    return -1;
}

/* Characters (code points) in a UTF-8 string, for lining up columns. */
static size_t text_width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void print_padded(const char *s, size_t width)
{
    fputs(s, stdout);
    for (size_t w = text_width(s); w < width; w++)
        putchar(' ');
}

static int cmd_list(int argc, char **argv)
{
    const char *db = NULL;
    int done = db_options(argc, argv, usage_list, &db);
    if (done >= 0)
        return done;
    if (optind < argc) {
        fprintf(stderr, "mashaer token list: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!db) {
        fprintf(stderr, "mashaer token list: --db FILE is required\n\n");
        usage_list(stderr);
        return 2;
    }
    msh_store *s;
    if (open_store("list", db, &s))
        return 1;
    msh_token_info *t;
    size_t n;
    msh_err err;
    int code = 0;
    if (msh_token_list(s, &t, &n, &err)) {
        fprintf(stderr, "mashaer token list: %s\n", err.msg);
        code = 1;
    } else {
        size_t wname = 4;
        for (size_t i = 0; i < n; i++) {
            size_t w = text_width(t[i].name);
            wname = w > wname ? w : wname;
        }
        printf("%-5s ", "id");
        print_padded("name", wname);
        printf(" %-5s  %-8s  %-20s  %s\n", "role", "prefix", "created", "revoked");
        for (size_t i = 0; i < n; i++) {
            printf("%-5lld ", (long long)t[i].id);
            print_padded(t[i].name, wname);
            printf(" %-5s  %-8s  %-20s  %s\n", msh_role_name(t[i].role), t[i].prefix, t[i].created_at,
                   t[i].revoked_at[0] ? t[i].revoked_at : "-");
        }
        msh_token_infos_free(t, n);
    }
    msh_store_close(s);
    return code;
}

static int cmd_revoke(int argc, char **argv)
{
    const char *db = NULL;
    int done = db_options(argc, argv, usage_revoke, &db);
    if (done >= 0)
        return done;
    if (!db || optind != argc - 1) {
        fprintf(stderr, "mashaer token revoke: --db FILE and one ID or NAME are required\n\n");
        usage_revoke(stderr);
        return 2;
    }
    const char *which = argv[optind];
    msh_store *s;
    if (open_store("revoke", db, &s))
        return 1;
    msh_err err;
    int code = 0;
    if (msh_token_revoke(s, which, &err)) {
        fprintf(stderr, "mashaer token revoke: %s\n", err.msg);
        code = 1;
    } else {
        printf("revoked %s\n", which);
    }
    msh_store_close(s);
    return code;
}

int msh_cmd_token(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "add"))
        return cmd_add(argc - 1, argv + 1);
    if (!strcmp(sub, "list"))
        return cmd_list(argc - 1, argv + 1);
    if (!strcmp(sub, "revoke"))
        return cmd_revoke(argc - 1, argv + 1);
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "mashaer token: unknown subcommand '%s'\n\n", sub);
    usage(stderr);
    return 2;
}
