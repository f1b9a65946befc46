#include "units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double multiplier_of(char suffix)
{
    switch (suffix) {
    case '\0': return 1.0;
    case 'K': case 'k': return 1024.0;
    case 'M': case 'm': return 1024.0 * 1024.0;
    case 'G': case 'g': return 1024.0 * 1024.0 * 1024.0;
    case 'T': case 't': return 1024.0 * 1024.0 * 1024.0 * 1024.0;
    default: return -1.0;
    }
}

int sbm_parse_bytes(const char *text, double *bytes)
{
    if (!text || !*text || *text == '-' || *text == '+')
        return -1;
    errno = 0;
    char *end = NULL;
    double v = strtod(text, &end);
    if (errno || end == text || !isfinite(v) || v < 0)
        return -1;
    for (const char *p = text; p < end; p++) /* decimal only: no hexadecimal, exponent or "inf" */
        if (!isdigit((unsigned char)*p) && *p != '.')
            return -1;
    double m = multiplier_of(*end);
    if (m < 0 && (*end == 'b' || *end == 'B') && end[1] == '\0')
        m = 1.0; /* "8B" */
    if (m < 0)
        return -1;
    const char *rest = *end ? end + 1 : end;
    /* the benchmarks' spellings: 1K, 1KB, 1KiB (all binary) */
    if (m > 1 && (*rest == 'i' || *rest == 'I'))
        rest++;
    if (m > 1 && (*rest == 'b' || *rest == 'B'))
        rest++;
    if (*end && (m == 1.0 ? end[1] != '\0' : *rest != '\0'))
        return -1;
    /* A whole number of bytes (1.5K is, 0.5 is not), and one a double holds exactly (and the
     * JSON output's 64-bit integers too): up to 2^53, 8 PiB. */
    double n = v * m;
    if (n != floor(n) || n > 9007199254740992.0)
        return -1;
    *bytes = n;
    return 0;
}

/* A rank count: digits only, 1 to 10^9. */
static int parse_ranks(const char *text, double *ranks)
{
    if (strspn(text, "0123456789") != strlen(text) || strlen(text) > 10)
        return -1;
    *ranks = atof(text);
    return *ranks >= 1 && *ranks <= 1e9 ? 0 : -1;
}

/* One item "A", "A:B", ":B" or "A:" into [lo, hi]. */
static int parse_item(char *item, bool by_ranks, double *lo, double *hi)
{
    char *colon = strchr(item, ':');
    if (colon)
        *colon = '\0';
    const char *a = item, *b = colon ? colon + 1 : item;
    *lo = 0;
    *hi = INFINITY;
    if (*a && (by_ranks ? parse_ranks(a, lo) != 0 : sbm_parse_bytes(a, lo) != 0))
        return -1;
    if (*b && (by_ranks ? parse_ranks(b, hi) != 0 : sbm_parse_bytes(b, hi) != 0))
        return -1;
    if (!colon && !*a)
        return -1;
    return *lo <= *hi ? 0 : -1;
}

int sbm_parse_selection(const char *text, struct sbm_selection *sel)
{
    memset(sel, 0, sizeof *sel);
    if (!text || !*text)
        return -1;
    char buf[512];
    if (snprintf(buf, sizeof buf, "%s", text) >= (int)sizeof buf)
        return -1;
    char *list = buf;
    if (strncmp(buf, "ranks=", 6) == 0) {
        sel->by_ranks = true;
        list += 6;
    }
    char *save = NULL;
    for (char *item = strtok_r(list, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        if (sel->n_items == 16 ||
            parse_item(item, sel->by_ranks, &sel->lo[sel->n_items], &sel->hi[sel->n_items]) != 0)
            return -1;
        sel->n_items++;
    }
    return sel->n_items > 0 ? 0 : -1;
}

bool sbm_selection_contains(const struct sbm_selection *sel, double bytes, int ranks)
{
    double x = sel->by_ranks ? ranks : bytes;
    for (int i = 0; i < sel->n_items; i++)
        if (x >= sel->lo[i] && x <= sel->hi[i])
            return true;
    return false;
}

void sbm_format_bytes(double bytes, char *buf, int len)
{
    static const char suffix[] = " KMGT";
    int i = 0;
    double v = bytes;
    while (i < 4 && v >= 1024 && fmod(v, 1024) == 0) {
        v /= 1024;
        i++;
    }
    if (i == 0)
        snprintf(buf, len, "%.0f", v);
    else
        snprintf(buf, len, "%.0f%c", v, suffix[i]);
}
