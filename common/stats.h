/* Order statistics of a timing sample. */
#ifndef SB_STATS_H
#define SB_STATS_H

#include <stddef.h>

struct sb_stats {
    size_t n;
    double min, median, mean, p99, max, stddev;
    double median_ci_lo, median_ci_hi; /* distribution-free 95% interval of the median */
};

/* Computes the statistics of n samples (n >= 1).  `scratch` must hold n doubles; it receives
 * the sorted samples.  The input is not modified. */
void sb_stats_compute(const double *samples, size_t n, double *scratch, struct sb_stats *out);

/* Quantile q in [0, 1] of sorted samples, by linear interpolation between order statistics. */
double sb_quantile_sorted(const double *sorted, size_t n, double q);

/* 1-based order-statistic indices [j, k] bounding a 95% confidence interval of the median:
 * j = floor(n/2 - 0.98 sqrt(n)), k = ceil(n/2 + 1 + 0.98 sqrt(n)), clamped to [1, n]
 * (binomial(n, 1/2) order statistics; 0.98 = 1.96 / 2). */
void sb_median_ci_ranks(size_t n, size_t *j, size_t *k);

/* The fewest samples with a distribution-free 95% interval of the median: [min, max] of n
 * samples covers it with probability 1 - 2^(1-n), 93.75% for 5, 96.9% for 6. */
#define SB_STATS_MIN_CI_SAMPLES 6

/* Relative half-width of the median's interval: (hi - lo) / (2 median); 0 when median is 0;
 * infinite below SB_STATS_MIN_CI_SAMPLES samples (no 95% interval: no precision reached). */
double sb_stats_relative_ci(const struct sb_stats *s);

#endif
