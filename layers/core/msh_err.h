/* msh_err.h: the one status type and the error record every module returns.
 *
 * Functions return msh_rc (0 = OK) and fill an optional msh_err with a message
 * and the HTTP status the server should answer with. Only server/ turns errors
 * into responses; library code never exits on bad input.
 *
 * A refusal that passes by itself (a NATS stream electing a leader, a connection being made
 * again) says so in retry_after_s: the caller may send the same again after that many seconds
 * (the server answers 503 with Retry-After). outcome_unknown says no answer came in time, so what
 * was asked may or may not have been done. msh_err_set clears both.
 */
#ifndef MSH_ERR_H
#define MSH_ERR_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    MSH_OK = 0,
    MSH_EINVAL,    /* bad input from the user: 400 */
    MSH_ENOTFOUND, /* 404 */
    MSH_ETOOBIG,   /* a size cap was hit: 413 */
    MSH_ENOMEM,
    MSH_EIO,       /* file or database error */
    MSH_EFORMAT,   /* input data could not be parsed */
    MSH_EINTERNAL
} msh_rc;

typedef struct msh_err {
    msh_rc code;
    int http_status;
    int retry_after_s;    /* a refusal that passes: send the same again after this many seconds; 0: none */
    bool outcome_unknown; /* no answer in time: the write may or may not have been made */
    char msg[512];
} msh_err;

/** Fill `err` (may be NULL) with code, HTTP status and a printf-style message (no retry_after_s,
 * outcome known); returns code. */
msh_rc msh_err_set(msh_err *err, msh_rc code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** The HTTP status a code maps to by default. */
int msh_err_http_status(msh_rc code);

/** A short name for a code ("invalid argument", ...). */
const char *msh_rc_str(msh_rc code);

#endif
