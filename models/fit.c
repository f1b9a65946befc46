#include "fit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sbm_fit_line(const double *x, const double *y, size_t n, struct sbm_line *out)
{
    double sw = 0, sx = 0, sy = 0;
    for (size_t i = 0; i < n; i++) {
        double w = 1.0 / (y[i] * y[i]);
        sw += w;
        sx += w * x[i];
        sy += w * y[i];
    }
    if (n < 2 || sw <= 0)
        return -1;
    double mx = sx / sw, my = sy / sw, sxx = 0, sxy = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        double w = 1.0 / (y[i] * y[i]);
        sxx += w * (x[i] - mx) * (x[i] - mx);
        sxy += w * (x[i] - mx) * (y[i] - my);
        syy += w * (y[i] - my) * (y[i] - my);
    }
    if (sxx <= 0)
        return -1;
    out->slope_us_per_byte = sxy / sxx;
    out->intercept_us = my - out->slope_us_per_byte * mx;
    double sse = 0;
    for (size_t i = 0; i < n; i++) {
        double r = y[i] - (out->intercept_us + out->slope_us_per_byte * x[i]);
        sse += r * r / (y[i] * y[i]);
    }
    out->r2 = syy > 0 ? 1.0 - sse / syy : 1.0;
    return 0;
}

static int compare_points(const void *a, const void *b, void *ctx)
{
    const struct sbm_point *v = ctx;
    const struct sbm_point *p = &v[*(const size_t *)a], *q = &v[*(const size_t *)b];
    int c = strcmp(p->collective, q->collective);
    if (!c) c = strcmp(p->backend, q->backend);
    if (!c) c = strcmp(p->memory, q->memory);
    if (!c) c = strcmp(p->dtype, q->dtype);
    if (!c) c = strcmp(p->op, q->op);
    if (!c) c = p->in_place - q->in_place;
    if (!c) c = strcmp(p->method, q->method);
    if (!c) c = p->nodes - q->nodes;
    if (!c) c = p->ranks - q->ranks;
    if (!c) c = (p->bytes > q->bytes) - (p->bytes < q->bytes);
    return c;
}

int sbm_points_group(const struct sbm_points *pts, size_t **order, size_t **starts, size_t *n_groups)
{
    *order = malloc((pts->n + 1) * sizeof **order);
    *starts = malloc((pts->n + 1) * sizeof **starts);
    if (!*order || !*starts)
        return -1;
    for (size_t i = 0; i < pts->n; i++)
        (*order)[i] = i;
    qsort_r(*order, pts->n, sizeof **order, compare_points, pts->v);
    *n_groups = 0;
    for (size_t i = 0; i < pts->n; i++)
        if (i == 0 || !sbm_points_same_group(&pts->v[(*order)[i]], &pts->v[(*order)[i - 1]]))
            (*starts)[(*n_groups)++] = i;
    (*starts)[*n_groups] = pts->n;
    return 0;
}

static const char *default_algorithm(const char *collective)
{
    if (strcmp(collective, "allreduce") == 0) return "ring";
    if (strcmp(collective, "alltoall") == 0) return "pairwise";
    return "linear";
}

/* The single-tier coefficients of the fit's algorithm on p ranks; false for "linear". */
static bool fit_terms(const struct sbm_fit *fit, int p, struct sbm_terms *t)
{
    enum sbm_collective c;
    enum sbm_algorithm a;
    return sbm_collective_parse(fit->group.collective, &c) == 0 &&
           sbm_algorithm_parse(fit->algorithm, &a) == 0 && p > 1 &&
           sbm_single_tier_terms(c, a, p, t) == 0;
}

/* a = A alpha, b = B beta + G gamma (cost.h); a "local" curve measures gamma itself. */
static void map_line_to_algorithm(struct sbm_fit *fit, double gamma_gbps)
{
    struct sbm_terms t;
    double a = fit->line.intercept_us, b = fit->line.slope_us_per_byte;
    fit->gamma_gbps = 0;
    if (strcmp(fit->group.collective, "local") == 0) {
        fit->alpha_us = a;
        fit->gamma_gbps = fit->bandwidth_gbps = sbm_gbytes_s(b);
        return;
    }
    if (!fit_terms(fit, fit->group.ranks, &t)) {
        fit->alpha_us = a;
        fit->bandwidth_gbps = sbm_gbytes_s(b);
        return;
    }
    double g = sbm_us_per_byte(gamma_gbps);
    double beta = (b - t.gamma * g) / t.beta;
    if (gamma_gbps > 0 && beta > 0)
        fit->gamma_gbps = gamma_gbps;
    else
        beta = b / t.beta; /* gamma folded into beta */
    fit->alpha_us = t.alpha > 0 ? a / t.alpha : a;
    fit->bandwidth_gbps = sbm_gbytes_s(beta);
}

static bool within_tolerance(const struct sbm_line *l, const struct sbm_point *pts, size_t lo,
                             size_t hi, double tol)
{
    for (size_t i = lo; i < hi; i++) {
        double f = l->intercept_us + l->slope_us_per_byte * pts[i].bytes;
        if (fabs(f - pts[i].median_us) > tol * pts[i].median_us)
            return false;
    }
    return true;
}

/* The line rises over [x_lo, x_hi] by more than TOL of its smallest time: else its slope is
 * noise (equal or falling times) and 1/slope no bandwidth (flat times gave 1e31 GB/s). */
static bool grows(const struct sbm_line *l, double x_lo, double x_hi, double y_min, double tol)
{
    return l->slope_us_per_byte > 0 && l->slope_us_per_byte * (x_hi - x_lo) > tol * y_min;
}

static double min_time(const struct sbm_point *pts, size_t lo, size_t hi)
{
    double m = INFINITY;
    for (size_t i = lo; i < hi; i++)
        m = fmin(m, pts[i].median_us);
    return m;
}

static int fit_range(const struct sbm_point *pts, size_t lo, size_t hi, struct sbm_line *l)
{
    double x[SBM_FIT_MAX_SIZES], y[SBM_FIT_MAX_SIZES];
    if (hi < lo + 2) /* a line needs two points */
        return -1;
    for (size_t i = lo; i < hi; i++) {
        x[i - lo] = pts[i].bytes;
        y[i - lo] = pts[i].median_us;
    }
    return sbm_fit_line(x, y, hi - lo, l);
}

/* Distinct sizes among pts[lo..hi) (sorted by size: repeats of one size are adjacent). */
static size_t distinct_sizes(const struct sbm_point *pts, size_t lo, size_t hi)
{
    size_t n = 0;
    for (size_t i = lo; i < hi; i++)
        n += i == lo || pts[i].bytes != pts[i - 1].bytes;
    return n;
}

/* The longest run of consecutive sizes (at least 3 distinct ones: a size measured twice, two
 * files of one curve, counts once) whose own fit grows with size, has an intercept no further
 * below zero than the tolerance of its smallest time, and keeps every residual
 * within the tolerance; on a tie the run of larger sizes (the bandwidth regime) wins. */
static int choose_range(const struct sbm_point *pts, size_t n, double tol, size_t *lo, size_t *hi)
{
    size_t best_len = 0;
    for (size_t a = 0; a < n; a++)
        for (size_t b = a + 3; b <= n; b++) {
            struct sbm_line l;
            if (b - a >= best_len && distinct_sizes(pts, a, b) >= 3 && fit_range(pts, a, b, &l) == 0 &&
                grows(&l, pts[a].bytes, pts[b - 1].bytes, min_time(pts, a, b), tol) &&
                l.intercept_us >= -tol * pts[a].median_us &&
                within_tolerance(&l, pts, a, b, tol)) {
                best_len = b - a;
                *lo = a;
                *hi = b;
            }
        }
    return best_len ? 0 : -1;
}

/* -1: fewer than two distinct sizes; -2: the time does not grow with size on them. */
static int fit_selected(const struct sbm_point *pts, size_t n, const struct sbm_selection *sel,
                        double tol, struct sbm_fit *fit)
{
    double x[SBM_FIT_MAX_SIZES], y[SBM_FIT_MAX_SIZES], y_min = INFINITY;
    fit->n_used = 0;
    for (size_t i = 0; i < n; i++)
        if (sbm_selection_contains(sel, pts[i].bytes, pts[i].ranks)) {
            x[fit->n_used] = pts[i].bytes;
            y_min = fmin(y_min, pts[i].median_us);
            y[fit->n_used++] = pts[i].median_us;
        }
    memcpy(fit->sizes_used, x, fit->n_used * sizeof *x);
    if (sbm_fit_line(x, y, fit->n_used, &fit->line) != 0)
        return -1;
    return grows(&fit->line, x[0], x[fit->n_used - 1], y_min, tol) ? 0 : -2;
}

static void record_residuals(const struct sbm_point *pts, size_t n, struct sbm_fit *fit)
{
    fit->n_all = n;
    for (size_t i = 0; i < n; i++) {
        fit->bytes[i] = pts[i].bytes;
        fit->measured_us[i] = pts[i].median_us;
        fit->fitted_us[i] = fit->line.intercept_us + fit->line.slope_us_per_byte * pts[i].bytes;
    }
    fit->min_bytes = fit->sizes_used[0];
    fit->max_bytes = fit->sizes_used[fit->n_used - 1];
}

int sbm_fit_curve(const struct sbm_point *pts, size_t n, const struct sbm_fit_request *req,
                  struct sbm_fit *fit, struct sbm_error *err)
{
    memset(fit, 0, sizeof *fit);
    fit->group = pts[0];
    char what[160];
    sbm_point_describe_group(&pts[0], what, sizeof what);
    if (n > SBM_FIT_MAX_SIZES)
        return sbm_error_set(err, "%s: more than %d sizes in one curve", what, SBM_FIT_MAX_SIZES);
    /* One rank runs no algorithm (a local copy at most): its line is reported as it is; so is
     * a collective without a cost model (allgather, local, ...). */
    enum sbm_collective c;
    bool modelled = sbm_collective_parse(pts[0].collective, &c) == 0 && pts[0].ranks > 1;
    snprintf(fit->algorithm, sizeof fit->algorithm, "%s",
             !modelled ? "linear" : req->algorithm ? req->algorithm : default_algorithm(pts[0].collective));
    struct sbm_terms terms;
    if (modelled && !fit_terms(fit, pts[0].ranks, &terms))
        return sbm_error_set(err, "%s: algorithm '%s' has no one-tier formula for %s to map the "
                                  "fitted line through (%s)", what, fit->algorithm, pts[0].collective,
                             c == SBM_ALLREDUCE ? "ring, recursive-doubling, rabenseifner, tree, nvls"
                                                : "pairwise, bruck");
    if (req->fit_on) {
        int rc = fit_selected(pts, n, req->fit_on, req->tolerance, fit);
        if (rc == -1)
            return sbm_error_set(err, "%s: fewer than two distinct sizes to fit on", what);
        if (rc == -2)
            return sbm_error_set(err, "%s: the time does not grow with size on the --fit-on sizes "
                                      "(by more than %.0f%%): no bandwidth to fit", what,
                                 100 * req->tolerance);
    } else {
        size_t lo, hi;
        if (choose_range(pts, n, req->tolerance, &lo, &hi) != 0)
            return sbm_error_set(err, "%s: no 3 consecutive sizes fit a line within %.0f%% whose "
                                      "time grows with size", what, 100 * req->tolerance);
        fit_range(pts, lo, hi, &fit->line);
        fit->n_used = hi - lo;
        for (size_t i = lo; i < hi; i++)
            fit->sizes_used[i - lo] = pts[i].bytes;
    }
    record_residuals(pts, n, fit);
    map_line_to_algorithm(fit, req->gamma_gbps);
    return SBM_OK;
}

double sbm_fit_predict_us(const struct sbm_fit *fit, int ranks, double bytes)
{
    struct sbm_terms t;
    if (ranks == fit->group.ranks || !fit_terms(fit, ranks, &t))
        return fit->line.intercept_us + fit->line.slope_us_per_byte * bytes;
    struct sbm_tier tier = sbm_tier_make(fit->alpha_us, fit->bandwidth_gbps, fit->gamma_gbps);
    return sbm_terms_time_us(&t, &tier, bytes);
}
