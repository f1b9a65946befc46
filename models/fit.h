/* Least-squares fit of time(n) = a + b n on one measured curve, and its mapping to an
 * algorithm's alpha, beta (and gamma) through the algorithm's coefficients (cost.h). */
#ifndef SBM_FIT_H
#define SBM_FIT_H

#include <stdbool.h>
#include <stddef.h>

#include "cost.h"
#include "error.h"
#include "results.h"
#include "units.h"

#define SBM_FIT_MAX_SIZES 128

struct sbm_line {
    double intercept_us, slope_us_per_byte, r2;
};

/* Weighted least squares with weights 1/y^2 (each size counts by its relative error, so small
 * and large sizes both matter). R^2 is the weighted one. -1 without two distinct x. */
int sbm_fit_line(const double *x, const double *y, size_t n, struct sbm_line *out);

struct sbm_fit {
    struct sbm_point group;        /* the curve's keys (bytes and time unused) */
    char algorithm[24];            /* the mapping: "ring", "pairwise", ... or "linear" */
    struct sbm_line line;
    double alpha_us, bandwidth_gbps, gamma_gbps; /* gamma 0: not fitted */
    size_t n_used;                 /* sizes_used */
    double sizes_used[SBM_FIT_MAX_SIZES];
    double min_bytes, max_bytes;   /* the range where the fit holds */
    size_t n_all;                  /* every size of the curve, with its residual */
    double bytes[SBM_FIT_MAX_SIZES], measured_us[SBM_FIT_MAX_SIZES], fitted_us[SBM_FIT_MAX_SIZES];
};

struct sbm_fit_request {
    const struct sbm_selection *fit_on; /* NULL: choose the range automatically */
    double tolerance;                   /* automatic range: every residual within it */
    const char *algorithm;              /* NULL: ring for AllReduce, pairwise for AllToAll */
    double gamma_gbps;                  /* known reduction bandwidth (from a "local" fit), or 0 */
};

/* Fits the curve of points[0..n) (one group). */
int sbm_fit_curve(const struct sbm_point *points, size_t n, const struct sbm_fit_request *req,
                  struct sbm_fit *fit, struct sbm_error *err);

/* The fitted model's time for BYTES on RANKS ranks (through the algorithm when RANKS differs
 * from the fitted curve's). */
double sbm_fit_predict_us(const struct sbm_fit *fit, int ranks, double bytes);

/* Groups points into curves: order[] lists indices sorted by group then bytes; starts[] the
 * first index of each group (n_groups + 1 entries). Caller frees both. */
int sbm_points_group(const struct sbm_points *pts, size_t **order, size_t **starts, size_t *n_groups);

#endif
