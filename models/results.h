/* Reader of the benchmarks' JSON Lines: the "result" records, one measured point each.
 * Other record types and unknown fields are ignored. */
#ifndef SBM_RESULTS_H
#define SBM_RESULTS_H

#include <stddef.h>

#include "error.h"

struct sbm_point {
    char collective[32], backend[32], memory[32], dtype[32], op[32]; /* at most 31 characters */
    char method[32]; /* how it was timed where not the default (method.h); "" the default */
    int in_place, ranks, nodes;
    double bytes, median_us;
};

struct sbm_points {
    struct sbm_point *v;
    size_t n, cap;
    size_t skipped; /* result records not used: failed ("error" set) or with wrong > 0 */
};

/* Appends the result records of PATH. A line that is not JSON, a record of another schema
 * than scalebench/1, or a result record without its required fields, fails with
 * "PATH:LINE: ..." and leaves OUT as it was. */
int sbm_results_read(const char *path, struct sbm_points *out, struct sbm_error *err);
void sbm_points_free(struct sbm_points *pts);

/* True when two points belong to one measured curve: same collective, backend, memory,
 * ranks, nodes, dtype, op, in_place and timing method. */
int sbm_points_same_group(const struct sbm_point *a, const struct sbm_point *b);
/* "allreduce mpi/host float sum out-of-place p=2 nodes=1" */
void sbm_point_describe_group(const struct sbm_point *p, char *buf, size_t len);

#endif
