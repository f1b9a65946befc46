/* The exit code once the standard output is flushed: a table or report sent to a full disk
 * (or a file system that failed) must not end with exit 0.  Header-only: the benchmarks,
 * sb_topo, sb_local and sb_model all end with it. */
#ifndef SB_STDOUT_STATUS_H
#define SB_STDOUT_STATUS_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

static inline int sb_stdout_status(const char *prog, int rc)
{
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout))
        return rc;
    fprintf(stderr, "%s: cannot write the standard output: %s\n", prog,
            errno ? strerror(errno) : "an earlier write failed (a full disk?)");
    return rc < 2 ? 2 : rc;
}

#endif
