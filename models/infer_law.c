/* The seed's scaling law S = a G^b U^c, fitted by least squares in log space. */
#include "infer.h"

#include <math.h>
#include <string.h>

/* Solves the 3x3 system A x = y by Gaussian elimination with partial pivoting. */
static int solve3(double a[3][3], double y[3], double x[3])
{
    for (int col = 0; col < 3; col++) {
        int piv = col;
        for (int r = col + 1; r < 3; r++)
            if (fabs(a[r][col]) > fabs(a[piv][col]))
                piv = r;
        if (fabs(a[piv][col]) < 1e-12)
            return -1;
        for (int k = 0; k < 3; k++) {
            double t = a[col][k];
            a[col][k] = a[piv][k];
            a[piv][k] = t;
        }
        double t = y[col];
        y[col] = y[piv];
        y[piv] = t;
        for (int r = col + 1; r < 3; r++) {
            double f = a[r][col] / a[col][col];
            for (int k = col; k < 3; k++)
                a[r][k] -= f * a[col][k];
            y[r] -= f * y[col];
        }
    }
    for (int r = 2; r >= 0; r--) {
        double s = y[r];
        for (int k = r + 1; k < 3; k++)
            s -= a[r][k] * x[k];
        x[r] = s / a[r][r];
    }
    return 0;
}

/* R^2 of ln S and the largest relative error of S itself. */
static void fit_quality(const double *s, const double *g, const double *u, size_t n,
                        struct sbm_law *out)
{
    double mean = 0, ss_tot = 0, ss_res = 0;
    for (size_t i = 0; i < n; i++)
        mean += log(s[i]) / n;
    out->max_rel_error = 0;
    for (size_t i = 0; i < n; i++) {
        double fitted = out->a * pow(g[i], out->b) * pow(u[i], out->c);
        double r = log(s[i]) - log(fitted);
        ss_res += r * r;
        ss_tot += (log(s[i]) - mean) * (log(s[i]) - mean);
        out->max_rel_error = fmax(out->max_rel_error, fabs(fitted - s[i]) / s[i]);
    }
    out->r2 = ss_tot > 0 ? 1 - ss_res / ss_tot : 1;
}

int sbm_law_fit(const double *s, const double *g, const double *u, size_t n, struct sbm_law *out)
{
    memset(out, 0, sizeof *out);
    out->n = n;
    if (n < 4)
        return -1;
    double a[3][3] = {{0}}, y[3] = {0}, x[3] = {0};
    for (size_t i = 0; i < n; i++) {
        if (!(s[i] > 0 && g[i] > 0 && u[i] > 0))
            return -1;
        double row[3] = {1, log(g[i]), log(u[i])};
        for (int r = 0; r < 3; r++) {
            for (int k = 0; k < 3; k++)
                a[r][k] += row[r] * row[k];
            y[r] += row[r] * log(s[i]);
        }
    }
    if (solve3(a, y, x) != 0)
        return -1;
    out->a = exp(x[0]);
    out->b = x[1];
    out->c = x[2];
    fit_quality(s, g, u, n, out);
    return 0;
}
