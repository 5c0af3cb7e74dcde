/* msh_err.c: error records. */
#include "msh_err.h"

#include <stdarg.h>
#include <stdio.h>

int msh_err_http_status(msh_rc code)
{
    switch (code) {
    case MSH_OK: return 200;
    case MSH_EINVAL: return 400;
    case MSH_ENOTFOUND: return 404;
    case MSH_ETOOBIG: return 413;
    case MSH_EFORMAT: return 422;
    default: return 500;
    }
}

const char *msh_rc_str(msh_rc code)
{
    switch (code) {
    case MSH_OK: return "ok";
    case MSH_EINVAL: return "invalid argument";
    case MSH_ENOTFOUND: return "not found";
    case MSH_ETOOBIG: return "too large";
    case MSH_ENOMEM: return "out of memory";
    case MSH_EIO: return "i/o error";
    case MSH_EFORMAT: return "bad format";
    default: return "internal error";
    }
}

msh_rc msh_err_set(msh_err *err, msh_rc code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
        err->http_status = msh_err_http_status(code);
        err->retry_after_s = 0;
        err->outcome_unknown = false;
    }
    return code;
}
