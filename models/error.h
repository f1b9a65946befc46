/* Errors travel as return codes with one message line; the CLI prints it and picks the exit code. */
#ifndef SBM_ERROR_H
#define SBM_ERROR_H

enum sbm_status {
    SBM_OK = 0,
    SBM_CHECK_FAILED = 1, /* a validation or rule check failed */
    SBM_BAD_INPUT = 2,    /* bad usage, bad catalog, bad results file */
};

struct sbm_error {
    char msg[512];
};

/* Formats the message into err (when not NULL) and returns SBM_BAD_INPUT. */
int sbm_error_set(struct sbm_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
