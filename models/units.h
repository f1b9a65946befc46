/* Sizes with binary suffixes (1K = 1024) and lists or ranges of them, as the CLI reads them. */
#ifndef SBM_UNITS_H
#define SBM_UNITS_H

#include <stdbool.h>

/* "8", "1K", "8G", "1.5M": bytes (binary suffixes K M G T), a whole number up to 2^53 (8 PiB).
 * 0 on success, -1 if invalid. */
int sbm_parse_bytes(const char *text, double *bytes);

/* A selection of sizes: "64K,1M" (a list), "64K:4M" (inclusive range, either end optional),
 * or a mix "8,64K:1M"; or "ranks=2,4" (rank counts). */
struct sbm_selection {
    int n_items;
    double lo[16], hi[16];
    bool by_ranks;
};

int sbm_parse_selection(const char *text, struct sbm_selection *sel);
bool sbm_selection_contains(const struct sbm_selection *sel, double bytes, int ranks);

/* "4.0M", "512K", "8": the shortest exact binary form, for tables. */
void sbm_format_bytes(double bytes, char *buf, int len);

#endif
