#include "error.h"

#include <stdarg.h>
#include <stdio.h>

int sbm_error_set(struct sbm_error *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return SBM_BAD_INPUT;
}
