#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double sb_quantile_sorted(const double *sorted, size_t n, double q)
{
    if (n == 1)
        return sorted[0];
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)floor(pos);
    if (lo >= n - 1)
        return sorted[n - 1];
    double frac = pos - (double)lo;
    return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

void sb_median_ci_ranks(size_t n, size_t *j, size_t *k)
{
    double half = 0.98 * sqrt((double)n);
    double lo = floor((double)n / 2.0 - half);
    double hi = ceil((double)n / 2.0 + 1.0 + half);
    *j = lo < 1 ? 1 : (size_t)lo;
    *k = hi > (double)n ? n : (size_t)hi;
}

void sb_stats_compute(const double *samples, size_t n, double *scratch, struct sb_stats *out)
{
    memcpy(scratch, samples, n * sizeof *scratch);
    qsort(scratch, n, sizeof *scratch, compare_double);

    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += scratch[i];
    double mean = sum / (double)n;
    double sq = 0.0;
    for (size_t i = 0; i < n; i++)
        sq += (scratch[i] - mean) * (scratch[i] - mean);

    size_t j, k;
    sb_median_ci_ranks(n, &j, &k);
    *out = (struct sb_stats){
        .n = n,
        .min = scratch[0],
        .max = scratch[n - 1],
        .mean = mean,
        .median = sb_quantile_sorted(scratch, n, 0.5),
        .p99 = sb_quantile_sorted(scratch, n, 0.99),
        .stddev = n > 1 ? sqrt(sq / (double)(n - 1)) : 0.0,
        .median_ci_lo = scratch[j - 1],
        .median_ci_hi = scratch[k - 1],
    };
}

double sb_stats_relative_ci(const struct sb_stats *s)
{
    if (s->n < SB_STATS_MIN_CI_SAMPLES)
        return INFINITY; /* [min, max] of so few covers the median with less than 95% */
    if (s->median <= 0.0)
        return 0.0;
    return (s->median_ci_hi - s->median_ci_lo) / (2.0 * s->median);
}
