/* route_table.h: every HTTP endpoint is one row of one table.
 *
 * A row names the methods it takes, a path pattern, the label /metrics counts it under, the
 * lowest role that may call it, how large a request body it takes, and its handler. http.c
 * finds the row for a request and calls the handler; it names no handler and no path itself.
 * Adding an endpoint is one row in route_table.c and one handler (declared in routes.h).
 *
 * Patterns are literal text with two wildcards: `*` matches one path segment (no '/', maybe
 * empty) and `**` matches the rest of the path (anything, maybe empty). The handler gets
 * `rest`: the path after the pattern's literal head (the text before its first wildcard).
 *
 * A row may name a cost estimate (`cost`, NULL for cheap endpoints): see http/admit.h. It
 * returns the units of work the request's parameters ask for (0: cheap), and the request is
 * admitted through the budget of expensive work (http/admission.h) or refused with 503.
 *
 * Finding a row: the first row whose pattern matches the path names the endpoint; every row
 * with that same pattern is one of its methods. When none of them takes the request's method
 * the answer is 405 and `Allow` lists theirs. GET rows answer HEAD too; OPTIONS (CORS
 * preflight) is answered for every path by http.c, from the same rows; where a row of the
 * endpoint has an allow hook (ALLOW_HOOKS in route_table.c), the OPTIONS answer's `Allow`
 * lists what the caller may do.
 */
#ifndef MSH_ROUTE_TABLE_H
#define MSH_ROUTE_TABLE_H

#include <stddef.h>

#include "http/http.h"
#include "tokens.h"

/* methods a row takes (GET includes HEAD) */
enum { MSH_M_GET = 1u, MSH_M_POST = 2u, MSH_M_PUT = 4u, MSH_M_PATCH = 8u, MSH_M_DELETE = 16u };

/** What a cost estimate returns when it answered the request itself (from a cache): no handler runs. */
#define MSH_COST_ANSWERED (-1)

/** body_max of a row whose body may be as large as `--max-body-mb`. */
#define MSH_BODY_CONFIGURED ((size_t)-1)

typedef struct msh_route {
    unsigned methods;
    const char *pattern;
    const char *label;  /* the `endpoint` label of /metrics; rows of one endpoint share it */
    msh_role role;      /* lowest role (MSH_ROLE_NONE: anyone); checked before the handler */
    size_t body_max;    /* 0: no body (one sent is read and dropped); MSH_BODY_CONFIGURED */
    void (*handler)(msh_req *r, const char *rest);
    int (*cost)(msh_req *r); /* NULL: cheap; else units (0: cheap this time) or MSH_COST_ANSWERED */
} msh_route;

/** The result of looking a request up. */
typedef struct msh_route_match {
    const msh_route *route; /* the row that takes the method, or NULL */
    const char *rest;       /* the path after the pattern's literal head */
    unsigned allowed;       /* the methods of every row with the matched pattern (0: no row matched) */
    int label;              /* the metrics label id of the matched endpoint (msh_route_labels) */
    /* the endpoint's OPTIONS hook: the methods this caller may use there (QGIS decides from the
     * `Allow` of an OPTIONS answer whether a layer is editable); NULL: every method of its rows */
    unsigned (*allow)(msh_req *r, const char *rest);
} msh_route_match;

/** Look method + path up in the table. Pure: no allocation, no state. */
msh_route_match msh_route_find(const char *method, const char *path);

/** True when `path` matches `pattern` (the syntax above); *rest is set to the path after its literal head. */
int msh_route_pattern_match(const char *pattern, const char *path, const char **rest);

/** The distinct metrics labels of the table, in row order, then "other" (requests no row took). */
const char *const *msh_route_labels(int *n);

/** "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS" for a set of MSH_M_* (OPTIONS always), into out (64 bytes do). */
void msh_route_allow_header(unsigned methods, char *out, size_t cap);

#endif
