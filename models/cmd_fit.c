/* sb_model fit: alpha, beta (gamma) per measured curve, with R^2, residuals per size and the
 * size range where the fit holds; --save writes them for predict/validate --params. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fit.h"
#include "params.h"

static const char usage[] =
    "Usage: sb_model fit RESULTS.jsonl... [--fit-on SIZES] [--tolerance F] [--algorithm A]\n"
    "                    [--save PARAMS.json] [--json]\n"
    "  One fit per curve (collective, backend, memory, dtype, op, in_place, ranks, nodes):\n"
    "  time_us.median = a + b bytes by least squares weighted by 1/time^2, mapped to the\n"
    "  algorithm's alpha and beta (default ring for AllReduce, pairwise for AllToAll).\n"
    "  Without --fit-on the fit uses the longest run of consecutive sizes whose residuals all\n"
    "  stay within --tolerance (default 0.15). SIZES: 64K:4M, 1M,4M, or a mix.\n"
    "  --json: one object per curve (JSON Lines) with residuals.\n";

struct fit_args {
    const char *save, *algorithm;
    struct sbm_selection fit_on;
    bool have_fit_on, json;
    double tolerance;
};

static int parse_args(int argc, char **argv, struct fit_args *a)
{
    static const struct option opts[] = {
        {"fit-on", required_argument, NULL, 'F'}, {"tolerance", required_argument, NULL, 't'},
        {"algorithm", required_argument, NULL, 'a'}, {"save", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    *a = (struct fit_args){.tolerance = 0.15};
    opterr = 0;
    for (int c, i = 0; (c = getopt_long(argc, argv, ":h", opts, &i)) != -1; i = 0) {
        enum sbm_algorithm alg;
        if (c == 'h') return fputs(usage, stdout), -1;
        else if (c == 'j') a->json = true;
        else if (c == 's') a->save = optarg;
        else if (c == 'a' && sbm_algorithm_parse(optarg, &alg) == 0 && alg != SBM_BEST) a->algorithm = optarg;
        else if (c == 't' && sbm_cli_parse_fraction(optarg, &a->tolerance) == 0) continue;
        else if (c == 'F' && sbm_parse_selection(optarg, &a->fit_on) == 0) a->have_fit_on = true;
        else if (c == 'a' || c == 't' || c == 'F')
            return sbm_cli_fail("fit: invalid --%s '%s'", opts[i].name, optarg);
        else
            return sbm_cli_fail("fit: unknown option or missing value '%s'", argv[optind - 1]);
    }
    return optind < argc ? 0 : sbm_cli_fail("fit: give at least one RESULTS.jsonl file");
}

/* The reduction bandwidth measured by a "local" curve of the same memory kind, or 0. */
static double known_gamma(const struct sbm_fit *fits, size_t n, const char *memory)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(fits[i].group.collective, "local") == 0 && strcmp(fits[i].group.memory, memory) == 0)
            return fits[i].gamma_gbps;
    return 0;
}

static void print_fit_table(const struct sbm_fit *f)
{
    char what[160], lo[16], hi[16];
    sbm_point_describe_group(&f->group, what, sizeof what);
    sbm_format_bytes(f->min_bytes, lo, sizeof lo);
    sbm_format_bytes(f->max_bytes, hi, sizeof hi);
    size_t sizes = 0; /* distinct: a size measured twice is one size, two points */
    for (size_t k = 0; k < f->n_used; k++)
        sizes += k == 0 || f->sizes_used[k] != f->sizes_used[k - 1];
    char points[48] = "";
    if (sizes != f->n_used)
        snprintf(points, sizeof points, " (%zu points)", f->n_used);
    printf("\n%s\n  %s: alpha %.4g us, bandwidth %.4g GB/s, gamma %s, R^2 %.4f, fit on %zu sizes%s "
           "%s..%s\n", what, f->algorithm, f->alpha_us, f->bandwidth_gbps,
           f->gamma_gbps > 0 ? "fitted" : "not fitted (folded into beta)", f->line.r2, sizes, points, lo, hi);
    printf("  %12s %12s %12s %9s\n", "bytes", "measured_us", "fitted_us", "residual");
    for (size_t i = 0; i < f->n_all; i++) {
        char size[16];
        sbm_format_bytes(f->bytes[i], size, sizeof size);
        bool used = false; /* --fit-on may skip sizes inside the range */
        for (size_t k = 0; k < f->n_used && !used; k++)
            used = f->sizes_used[k] == f->bytes[i];
        printf("  %12s %12.2f %12.2f %+8.1f%%%s\n", size, f->measured_us[i], f->fitted_us[i],
               100 * (f->fitted_us[i] - f->measured_us[i]) / f->measured_us[i], used ? ""
               : f->bytes[i] < f->min_bytes || f->bytes[i] > f->max_bytes ? "  (outside fit range)"
                                                                        : "  (not fitted on)");
    }
}

/* Fits every curve; "local" curves first so their gamma can serve the reductions. */
static int fit_all(const struct sbm_points *pts, const struct fit_args *a, struct sbm_fit *fits,
                   size_t *n_fits)
{
    size_t *order, *starts, n_groups;
    if (sbm_points_group(pts, &order, &starts, &n_groups) != 0)
        return sbm_cli_fail("fit: out of memory");
    struct sbm_point *sorted = malloc(pts->n * sizeof *sorted);
    for (size_t i = 0; i < pts->n; i++)
        sorted[i] = pts->v[order[i]];
    int rc = SBM_OK;
    size_t unfitted = 0;
    *n_fits = 0;
    /* A curve that cannot be fitted (flat, too few sizes) is said and left out; the others are
     * still fitted: one in-place 1-rank curve must not hide the rest of a run. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t g = 0; g < n_groups; g++) {
            const struct sbm_point *first = &sorted[starts[g]];
            if ((strcmp(first->collective, "local") == 0) != (pass == 0))
                continue;
            struct sbm_fit_request req = {a->have_fit_on ? &a->fit_on : NULL, a->tolerance,
                                          a->algorithm, known_gamma(fits, *n_fits, first->memory)};
            struct sbm_error err;
            int one = sbm_fit_curve(first, starts[g + 1] - starts[g], &req, &fits[*n_fits], &err);
            if (one == SBM_OK) {
                (*n_fits)++;
            } else {
                sbm_cli_fail("fit: not fitted: %s", err.msg);
                rc = one;
                unfitted++;
            }
        }
    if (*n_fits > 0 && unfitted > 0) {
        fprintf(stderr, "sb_model: fit: %zu of %zu curves not fitted (above); the other %zu are below\n", unfitted,
                unfitted + *n_fits, *n_fits);
        rc = SBM_OK;
    }
    free(sorted);
    free(order);
    free(starts);
    return rc;
}

int sbm_cmd_fit(int argc, char **argv)
{
    struct fit_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    struct sbm_points pts = {0};
    struct sbm_error err;
    for (int i = optind; i < argc && rc == SBM_OK; i++)
        rc = sbm_cli_report(sbm_results_read(argv[i], &pts, &err), &err);
    if (rc == SBM_OK && pts.skipped)
        fprintf(stderr, "sb_model: fit: note: %zu result records not used (failed, or wrong > 0: "
                "they timed a collective that did not compute the answer)\n", pts.skipped);
    struct sbm_fit *fits = rc == SBM_OK ? calloc(pts.n, sizeof *fits) : NULL;
    size_t n = 0;
    if (rc == SBM_OK)
        rc = fit_all(&pts, &a, fits, &n);
    if (rc == SBM_OK && a.save)
        rc = sbm_cli_report(sbm_params_save(a.save, fits, n, argv[optind], &err), &err);
    for (size_t i = 0; rc == SBM_OK && i < n; i++) {
        if (a.json)
            sbm_cli_print_json(sbm_fit_to_json(&fits[i], 1));
        else
            print_fit_table(&fits[i]);
    }
    free(fits);
    sbm_points_free(&pts);
    return rc;
}
