/* sb_model validate: each measured point beside its prediction (fitted parameters, a catalog
 * system, or a fit made here on other sizes or rank counts), with the relative error. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "params.h"
#include "predict.h"

static const char usage[] =
    "Usage: sb_model validate RESULTS.jsonl... (--params PARAMS.json | --system NAME |\n"
    "                         --fit-on SIZES) [--check-on SIZES] [--tolerance F] [--algorithm A]\n"
    "  relative_error = (predicted - measured) / measured, per size. Checked sizes: --check-on;\n"
    "  else, with --fit-on, the sizes not fitted on; with --params, the fit's size range;\n"
    "  with --system, every size. Exit 1 if a checked size is off by more than --tolerance\n"
    "  (default 0.15). SIZES: 64K:4M, 1M,4M, a mix, or ranks=2 (fit on rank counts, check others).\n"
    "  --json: one object per size (\"type\":\"row\") and a final \"type\":\"summary\" (JSON Lines).\n";

struct validate_args {
    const char *dir, *system, *params, *algorithm;
    struct sbm_selection fit_on, check_on;
    bool have_fit_on, have_check_on, json;
    double tolerance;
};

struct tally {
    double *err; /* |relative error| of every checked size */
    size_t n, cap;
    int failed;
};

static int parse_args(int argc, char **argv, struct validate_args *a)
{
    static const struct option opts[] = {
        {"catalog", required_argument, NULL, 'C'}, {"system", required_argument, NULL, 's'},
        {"params", required_argument, NULL, 'p'}, {"fit-on", required_argument, NULL, 'F'},
        {"check-on", required_argument, NULL, 'K'}, {"tolerance", required_argument, NULL, 't'},
        {"algorithm", required_argument, NULL, 'a'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    *a = (struct validate_args){.tolerance = 0.15};
    opterr = 0;
    for (int c, i = 0; (c = getopt_long(argc, argv, ":h", opts, &i)) != -1; i = 0) {
        enum sbm_algorithm alg;
        if (c == 'h') return fputs(usage, stdout), -1;
        else if (c == 'C') a->dir = optarg;
        else if (c == 's') a->system = optarg;
        else if (c == 'p') a->params = optarg;
        else if (c == 'j') a->json = true;
        else if (c == 'a' && sbm_algorithm_parse(optarg, &alg) == 0) a->algorithm = optarg;
        else if (c == 't' && sbm_cli_parse_fraction(optarg, &a->tolerance) == 0) continue;
        else if (c == 'F' && sbm_parse_selection(optarg, &a->fit_on) == 0) a->have_fit_on = true;
        else if (c == 'K' && sbm_parse_selection(optarg, &a->check_on) == 0) a->have_check_on = true;
        else if (c == 'a' || c == 't' || c == 'F' || c == 'K')
            return sbm_cli_fail("validate: invalid --%s '%s'", opts[i].name, optarg);
        else
            return sbm_cli_fail("validate: unknown option or missing value '%s'", argv[optind - 1]);
    }
    if (optind == argc)
        return sbm_cli_fail("validate: give at least one RESULTS.jsonl file");
    if (!!a->system + !!a->params + a->have_fit_on != 1)
        return sbm_cli_fail("validate: give exactly one of --params, --system and --fit-on");
    return 0;
}

/* Same curve keys except the rank count. */
static bool same_but_ranks(const struct sbm_point *a, const struct sbm_point *b)
{
    struct sbm_point c = *b;
    c.ranks = a->ranks;
    c.nodes = a->nodes;
    return sbm_points_same_group(a, &c);
}

/* The fit that predicts curve g in --fit-on mode: the curve itself on the --fit-on sizes, or
 * the curve of the --fit-on rank count. */
static int fit_here(const struct sbm_point *sorted, const size_t *starts, size_t n_groups,
                    size_t g, const struct validate_args *a, struct sbm_fit *fit)
{
    struct sbm_error err;
    const struct sbm_point *first = &sorted[starts[g]];
    struct sbm_fit_request req = {&a->fit_on, a->tolerance, a->algorithm, 0};
    if (!a->fit_on.by_ranks)
        return sbm_cli_report(sbm_fit_curve(first, starts[g + 1] - starts[g], &req, fit, &err), &err);
    req.fit_on = NULL; /* fit the chosen rank count's curve on its automatic range */
    for (size_t h = 0; h < n_groups; h++) {
        const struct sbm_point *other = &sorted[starts[h]];
        if (same_but_ranks(first, other) && sbm_selection_contains(&a->fit_on, 0, other->ranks))
            return sbm_cli_report(sbm_fit_curve(other, starts[h + 1] - starts[h], &req, fit, &err), &err);
    }
    return sbm_cli_fail("validate: no curve with the --fit-on rank count for %s p=%d",
                        first->collective, first->ranks);
}

/* The system's prediction for P; an error (no cost model for the collective, a placement the
 * model cannot split, an algorithm that does not apply) in ERR, not printed. */
static int predict_with_system(const struct validate_args *a, const struct sbm_point *p,
                               double *predicted, struct sbm_error *err)
{
    struct sbm_catalog cat;
    struct sbm_system sys;
    struct sbm_fabric f;
    enum sbm_collective c;
    enum sbm_algorithm alg = SBM_BEST;
    if (a->algorithm)
        sbm_algorithm_parse(a->algorithm, &alg);
    if (sbm_collective_parse(p->collective, &c) != 0)
        return sbm_error_set(err, "no cost model for %s (allreduce and alltoall have one)", p->collective);
    int rc = sbm_catalog_load(a->dir ? a->dir : SBM_DEFAULT_CATALOG, &cat, err);
    if (rc != SBM_OK)
        return rc;
    rc = sbm_system_resolve(&cat, a->system, &sys, err);
    if (rc == SBM_OK)
        rc = sbm_fabric_from_system(&sys, p->ranks, sbm_domains_of_job(&sys, p->ranks, p->nodes), &f, err);
    sbm_catalog_free(&cat);
    struct sbm_prediction pred = {0};
    if (rc == SBM_OK && sbm_predict(c, alg, &f, p->bytes, &pred) != 0)
        rc = sbm_error_set(err, "algorithm %s does not apply to %s on %s", sbm_algorithm_name(alg),
                           p->collective, a->system);
    *predicted = pred.time_us;
    return rc;
}

static bool is_checked(const struct validate_args *a, const struct sbm_fit *fit,
                       const struct sbm_point *p)
{
    if (a->have_check_on)
        return sbm_selection_contains(&a->check_on, p->bytes, p->ranks);
    if (a->have_fit_on)
        return !sbm_selection_contains(&a->fit_on, p->bytes, p->ranks);
    if (a->params)
        return p->bytes >= fit->min_bytes && p->bytes <= fit->max_bytes;
    return true;
}

static int report_row(const struct validate_args *a, const struct sbm_point *p, double predicted,
                      bool checked, struct tally *t)
{
    double rel = (predicted - p->median_us) / p->median_us;
    bool within = fabs(rel) <= a->tolerance;
    if (checked) {
        if (t->n == t->cap) {
            size_t cap = t->cap ? 2 * t->cap : 256;
            double *grown = realloc(t->err, cap * sizeof *grown);
            if (!grown)
                return sbm_cli_fail("validate: out of memory");
            t->err = grown;
            t->cap = cap;
        }
        t->err[t->n++] = fabs(rel);
        t->failed += !within;
    }
    if (a->json) {
        sbm_cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:b, s:i, s:i, s:I, s:f, s:f, s:f, s:b, s:b}",
                                     "type", "row", "collective", p->collective, "backend", p->backend,
                                     "memory", p->memory, "in_place", p->in_place, "ranks", p->ranks,
                                     "nodes", p->nodes, "bytes", (json_int_t)p->bytes, "measured_us",
                                     p->median_us, "predicted_us", predicted, "relative_error", rel,
                                     "checked", checked, "within_tolerance", within));
        return SBM_OK;
    }
    char size[16];
    sbm_format_bytes(p->bytes, size, sizeof size);
    printf("  %12s %12.2f %12.2f %+8.1f%%  %s\n", size, p->median_us, predicted, 100 * rel,
           !checked ? "not checked" : within ? "ok" : "OUT OF TOLERANCE");
    return SBM_OK;
}

/* A curve the parameters have no fit for (a curve the fit left out), or one the system's model
 * cannot predict: said, skipped, counted. */
enum { CURVE_NOT_VALIDATED = -1 };

static int validate_curve(const struct validate_args *a, const struct sbm_params *params,
                          const struct sbm_point *sorted, const size_t *starts, size_t n_groups,
                          size_t g, struct tally *t)
{
    const struct sbm_point *first = &sorted[starts[g]];
    struct sbm_fit fit = {0};
    const struct sbm_fit *use = &fit;
    if (a->have_fit_on && fit_here(sorted, starts, n_groups, g, a, &fit) != SBM_OK)
        return SBM_BAD_INPUT;
    struct sbm_error err;
    double probe;
    if (a->system && predict_with_system(a, first, &probe, &err) != SBM_OK) {
        char what[160];
        sbm_point_describe_group(first, what, sizeof what);
        sbm_cli_fail("validate: not validated: %s: %s", what, err.msg);
        return CURVE_NOT_VALIDATED;
    }
    if (a->params && !(use = sbm_params_find_curve(params, first))) {
        char what[160];
        sbm_point_describe_group(first, what, sizeof what);
        sbm_cli_fail("validate: not validated: %s has no fit for %s", a->params, what);
        return CURVE_NOT_VALIDATED;
    }
    if (!a->json) {
        char what[160];
        sbm_point_describe_group(first, what, sizeof what);
        printf("\n%s (model: %s)\n  %12s %12s %12s %9s\n", what, a->system ? a->system : use->algorithm,
               "bytes", "measured_us", "predicted_us", "error");
    }
    for (size_t i = starts[g]; i < starts[g + 1]; i++) {
        double predicted = 0;
        if (a->system) {
            if (predict_with_system(a, &sorted[i], &predicted, &err) != SBM_OK)
                return sbm_cli_report(SBM_BAD_INPUT, &err);
        } else {
            predicted = sbm_fit_predict_us(use, sorted[i].ranks, sorted[i].bytes);
        }
        if (report_row(a, &sorted[i], predicted, is_checked(a, use, &sorted[i]), t) != SBM_OK)
            return SBM_BAD_INPUT;
    }
    return SBM_OK;
}

static int compare_doubles(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static int summarize(const struct validate_args *a, struct tally *t, size_t not_validated)
{
    if (t->n == 0)
        return sbm_cli_fail("validate: no measured size is checked (see --check-on)");
    qsort(t->err, t->n, sizeof t->err[0], compare_doubles);
    double median = t->n % 2 ? t->err[t->n / 2] : (t->err[t->n / 2 - 1] + t->err[t->n / 2]) / 2;
    double max = t->err[t->n - 1];
    const char *verdict = t->failed ? "fail" : "pass";
    if (a->json)
        sbm_cli_print_json(json_pack("{s:s, s:I, s:i, s:f, s:f, s:f, s:s, s:I}", "type", "summary",
                                     "checked", (json_int_t)t->n, "failed", t->failed, "tolerance", a->tolerance,
                                     "median_abs_error", median, "max_abs_error", max, "verdict", verdict,
                                     "curves_not_validated", (json_int_t)not_validated));
    else
        printf("\n# checked %zu sizes: median |error| %.1f%%, max |error| %.1f%%, %d beyond %.0f%%: %s\n",
               t->n, 100 * median, 100 * max, t->failed, 100 * a->tolerance, verdict);
    return t->failed ? SBM_CHECK_FAILED : SBM_OK;
}

/* The catalog system exists: checked once, before any row is printed. */
static int check_system(const struct validate_args *a)
{
    struct sbm_catalog cat;
    struct sbm_system sys;
    struct sbm_error err;
    if (sbm_cli_load_catalog(a->dir, &cat) != SBM_OK)
        return SBM_BAD_INPUT;
    int rc = sbm_system_resolve(&cat, a->system, &sys, &err);
    sbm_catalog_free(&cat);
    return sbm_cli_report(rc, &err);
}

static int validate_all(const struct validate_args *a, const struct sbm_points *pts,
                        const struct sbm_params *params)
{
    if (a->system && check_system(a) != SBM_OK)
        return SBM_BAD_INPUT;
    size_t *order, *starts, n_groups;
    if (sbm_points_group(pts, &order, &starts, &n_groups) != 0)
        return sbm_cli_fail("validate: out of memory");
    struct sbm_point *sorted = malloc(pts->n * sizeof *sorted);
    for (size_t i = 0; i < pts->n; i++)
        sorted[i] = pts->v[order[i]];
    struct tally *t = calloc(1, sizeof *t);
    int rc = SBM_OK;
    size_t skipped = 0;
    for (size_t g = 0; g < n_groups && rc == SBM_OK; g++) {
        rc = validate_curve(a, params, sorted, starts, n_groups, g, t);
        if (rc == CURVE_NOT_VALIDATED) {
            skipped++;
            rc = SBM_OK;
        }
    }
    if (rc == SBM_OK && skipped)
        fprintf(stderr, "sb_model: validate: %zu of %zu curves not validated (above)\n", skipped, n_groups);
    if (rc == SBM_OK)
        rc = summarize(a, t, skipped);
    free(t->err);
    free(t);
    free(sorted);
    free(order);
    free(starts);
    return rc;
}

int sbm_cmd_validate(int argc, char **argv)
{
    struct validate_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    struct sbm_points pts = {0};
    struct sbm_params params = {0};
    struct sbm_error err;
    for (int i = optind; i < argc && rc == SBM_OK; i++)
        rc = sbm_cli_report(sbm_results_read(argv[i], &pts, &err), &err);
    if (rc == SBM_OK && pts.skipped)
        fprintf(stderr, "sb_model: validate: note: %zu result records not used (failed, or wrong > 0: "
                "they timed a collective that did not compute the answer)\n", pts.skipped);
    if (rc == SBM_OK && a.params)
        rc = sbm_cli_report(sbm_params_load(a.params, &params, &err), &err);
    if (rc == SBM_OK)
        rc = validate_all(&a, &pts, &params);
    sbm_params_free(&params);
    sbm_points_free(&pts);
    return rc;
}
