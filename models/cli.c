#include "cli.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int sbm_cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("sb_model: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return SBM_BAD_INPUT;
}

int sbm_cli_report(int rc, const struct sbm_error *err)
{
    if (rc != SBM_OK)
        sbm_cli_fail("%s", err->msg);
    return rc;
}

const char *sbm_cli_data_dir(const char *source_dir, const char *installed_dir)
{
    struct stat st;
    return stat(source_dir, &st) == 0 && S_ISDIR(st.st_mode) ? source_dir : installed_dir;
}

int sbm_cli_load_catalog(const char *dir, struct sbm_catalog *cat)
{
    struct sbm_error err;
    return sbm_cli_report(sbm_catalog_load(dir ? dir : SBM_DEFAULT_CATALOG, cat, &err), &err);
}

void sbm_cli_print_json(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
    if (s)
        puts(s);
    free(s);
    json_decref(o);
}

int sbm_cli_parse_int(const char *text, int *out)
{
    char *end = NULL;
    errno = 0;
    long v = text ? strtol(text, &end, 10) : 0;
    if (!text || errno || end == text || *end || v < 1 || v > 1000000000)
        return -1;
    *out = (int)v;
    return 0;
}

int sbm_cli_parse_fraction(const char *text, double *out)
{
    char *end = NULL;
    double v = text ? strtod(text, &end) : 0;
    if (!text || end == text || *end || !(v > 0) || v > 10)
        return -1;
    *out = v;
    return 0;
}
