/* sb_model predict: time, algbw and busbw of AllReduce or AllToAll on a catalog system, or on
 * a fabric described by fitted parameters (--params). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "params.h"
#include "predict.h"
#include "units.h"

struct predict_args {
    const char *dir, *system, *params;
    enum sbm_collective collective;
    enum sbm_algorithm algorithm;
    bool all_algorithms, algorithm_given, json, sweep, have_collective;
    int ranks, domains;
    double bytes, min_bytes, max_bytes, factor;
    double fit_min, fit_max; /* with --params: the sizes the fit holds on (0, 0 without) */
};

static const char usage[] =
    "Usage: sb_model predict --system NAME --collective allreduce|alltoall --ranks P\n"
    "                        [--nodes N] [--algorithm A|best|all] [--params FILE]\n"
    "                        (--bytes SIZE | --sweep [-b MIN] [-e MAX] [-f FACTOR])\n"
    "  --nodes N: scale-up domains the ranks span (default: as few as fit).\n"
    "  --algorithm: ring recursive-doubling rabenseifner tree nvls hierarchical (AllReduce),\n"
    "    pairwise bruck hierarchical (AllToAll), best (default), all.\n"
    "  --params FILE: fitted alpha/beta from `sb_model fit --save` replace the scale-up tier\n"
    "    (without --system: the whole fabric is the fitted one); the algorithm defaults to\n"
    "    the one the fit was mapped through.\n"
    "  Sizes take K/M/G binary suffixes; GB/s means 1e9 B/s; busbw uses nccl-tests factors.\n"
    "  --json: one object per size and algorithm (JSON Lines).\n";

static int parse_option(int c, struct predict_args *a)
{
    switch (c) {
    case 'C': a->dir = optarg; return 0;
    case 's': a->system = optarg; return 0;
    case 'p': a->params = optarg; return 0;
    case 'j': a->json = true; return 0;
    case 'w': a->sweep = true; return 0;
    case 'c':
        a->have_collective = true;
        return sbm_collective_parse(optarg, &a->collective) ? sbm_cli_fail("predict: invalid --collective '%s' (allreduce, alltoall)", optarg) : 0;
    case 'a':
        a->all_algorithms = strcmp(optarg, "all") == 0;
        a->algorithm_given = true;
        return !a->all_algorithms && sbm_algorithm_parse(optarg, &a->algorithm) ? sbm_cli_fail("predict: invalid --algorithm '%s'", optarg) : 0;
    case 'r': return sbm_cli_parse_int(optarg, &a->ranks) ? sbm_cli_fail("predict: invalid --ranks '%s'", optarg) : 0;
    case 'n': return sbm_cli_parse_int(optarg, &a->domains) ? sbm_cli_fail("predict: invalid --nodes '%s'", optarg) : 0;
    case 'B': return sbm_parse_bytes(optarg, &a->bytes) ? sbm_cli_fail("predict: invalid --bytes '%s'", optarg) : 0;
    case 'b': return sbm_parse_bytes(optarg, &a->min_bytes) ? sbm_cli_fail("predict: invalid -b '%s'", optarg) : 0;
    case 'e': return sbm_parse_bytes(optarg, &a->max_bytes) ? sbm_cli_fail("predict: invalid -e '%s'", optarg) : 0;
    case 'f': {
        char *end = NULL;
        a->factor = strtod(optarg, &end);
        return end == optarg || *end || !isfinite(a->factor) || a->factor <= 1
                   ? sbm_cli_fail("predict: invalid -f '%s' (a factor above 1, e.g. 2)", optarg) : 0;
    }
    default: return sbm_cli_fail("predict: unknown option or missing value '%s'", optarg ? optarg : "?");
    }
}

static int parse_args(int argc, char **argv, struct predict_args *a)
{
    static const struct option opts[] = {
        {"catalog", required_argument, NULL, 'C'}, {"system", required_argument, NULL, 's'},
        {"params", required_argument, NULL, 'p'}, {"collective", required_argument, NULL, 'c'},
        {"algorithm", required_argument, NULL, 'a'}, {"ranks", required_argument, NULL, 'r'},
        {"nodes", required_argument, NULL, 'n'}, {"bytes", required_argument, NULL, 'B'},
        {"sweep", no_argument, NULL, 'w'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    *a = (struct predict_args){.algorithm = SBM_BEST, .bytes = -1, .min_bytes = 8,
                               .max_bytes = 8.0 * (1 << 30), .factor = 2};
    opterr = 0;
    for (int c; (c = getopt_long(argc, argv, ":b:e:f:h", opts, NULL)) != -1;) {
        if (c == 'h')
            return fputs(usage, stdout), -1;
        if (c == '?' || c == ':')
            return sbm_cli_fail("predict: unknown option or missing value '%s'", argv[optind - 1]);
        if (parse_option(c, a) != 0)
            return SBM_BAD_INPUT;
    }
    if (optind < argc)
        return sbm_cli_fail("predict: unexpected argument '%s'", argv[optind]);
    if (!a->system && !a->params)
        return sbm_cli_fail("predict: --system NAME or --params FILE is required");
    if (!a->have_collective || a->ranks < 1)
        return sbm_cli_fail("predict: --collective and --ranks are required");
    if ((a->bytes < 0) == !a->sweep)
        return sbm_cli_fail("predict: give exactly one of --bytes SIZE and --sweep");
    if (!sbm_algorithm_applies(a->collective, a->algorithm))
        return sbm_cli_fail("predict: algorithm '%s' does not apply to %s",
                            sbm_algorithm_name(a->algorithm), sbm_collective_name(a->collective));
    if (a->sweep && a->min_bytes < 1) /* 0 x factor stays 0: the sweep would never end */
        return sbm_cli_fail("predict: -b must be at least 1 byte for --sweep");
    return a->min_bytes <= a->max_bytes ? 0 : sbm_cli_fail("predict: -b is larger than -e");
}

/* The fabric from the system, the fitted parameters, or both. */
static int build_fabric(struct predict_args *a, struct sbm_fabric *f, char *label, int len)
{
    struct sbm_error err;
    *f = (struct sbm_fabric){.ranks = a->ranks, .domains = a->domains ? a->domains : 1};
    if (a->system) {
        struct sbm_catalog cat;
        struct sbm_system sys;
        if (sbm_cli_load_catalog(a->dir, &cat) != SBM_OK)
            return SBM_BAD_INPUT;
        int rc = sbm_system_resolve(&cat, a->system, &sys, &err);
        if (rc == SBM_OK)
            rc = sbm_fabric_from_system(&sys, a->ranks, a->domains, f, &err);
        if (rc == SBM_OK)
            snprintf(label, len, "%s: %d ranks in %d scale-up domain(s); per GPU %d links x %g GB/s "
                     "x %g (%s) = %.1f GB/s", sys.id, f->ranks, f->domains, sys.gpu.links,
                     sys.gpu.link_gbytes_s, sys.up.link_efficiency, sys.up.link_efficiency_name,
                     sbm_system_up_planned_gbytes_s(&sys));
        sbm_catalog_free(&cat);
        if (rc != SBM_OK)
            return sbm_cli_report(rc, &err);
    }
    if (a->params) {
        struct sbm_params p;
        if (sbm_params_load(a->params, &p, &err) != SBM_OK)
            return sbm_cli_report(SBM_BAD_INPUT, &err);
        const struct sbm_fit *fit = sbm_params_find(&p, sbm_collective_name(a->collective),
                                                    a->ranks, NULL, NULL);
        if (fit) {
            sbm_fabric_use_fit(f, fit);
            if (!a->system) /* the fitted tier is the whole fabric, between domains too */
                f->inter = f->intra;
            a->fit_min = fit->min_bytes;
            a->fit_max = fit->max_bytes;
            if (!a->algorithm_given) /* the algorithm the fit was mapped through */
                sbm_algorithm_parse(fit->algorithm, &a->algorithm);
            snprintf(label, len, "%s%sfitted %s p=%d (%s): alpha %.3g us, %.4g GB/s", a->system ? a->system : "",
                     a->system ? " with " : "", fit->group.collective, fit->group.ranks,
                     fit->algorithm, fit->alpha_us, fit->bandwidth_gbps);
        }
        sbm_params_free(&p);
        if (!fit)
            return sbm_cli_fail("predict: %s has no fit for %s", a->params,
                                sbm_collective_name(a->collective));
    }
    return SBM_OK;
}

/* A size outside the range the fitted line held on is an extrapolation: said on its row. */
static bool extrapolated(const struct predict_args *a, double bytes)
{
    return a->fit_max > 0 && (bytes < a->fit_min || bytes > a->fit_max);
}

static void print_prediction(const struct predict_args *a, const struct sbm_prediction *p)
{
    if (a->json) {
        json_t *o = json_pack("{s:s?, s:s, s:i, s:i, s:I, s:f, s:f, s:f, s:s}", "system", a->system,
                              "collective", sbm_collective_name(a->collective), "ranks", a->ranks,
                              "nodes", a->domains, "bytes", (json_int_t)p->bytes, "time_us",
                              p->time_us, "algbw_gbps", p->algbw_gbps, "busbw_gbps", p->busbw_gbps,
                              "algorithm", sbm_algorithm_name(p->algorithm));
        if (p->time_us == 0) { /* one rank: nothing moves, no bandwidth to speak of */
            json_object_set_new(o, "algbw_gbps", json_null());
            json_object_set_new(o, "busbw_gbps", json_null());
        }
        if (a->fit_max > 0)
            json_object_set_new(o, "extrapolated", json_boolean(extrapolated(a, p->bytes)));
        sbm_cli_print_json(o);
        return;
    }
    char size[32], lo[16], hi[16];
    sbm_format_bytes(p->bytes, size, sizeof size);
    sbm_format_bytes(a->fit_min, lo, sizeof lo);
    sbm_format_bytes(a->fit_max, hi, sizeof hi);
    if (p->time_us == 0)
        printf("%12s %14.2f %12s %12s  %s", size, p->time_us, "-", "-", sbm_algorithm_name(p->algorithm));
    else
        printf("%12s %14.2f %12.2f %12.2f  %s", size, p->time_us, p->algbw_gbps, p->busbw_gbps,
               sbm_algorithm_name(p->algorithm));
    if (extrapolated(a, p->bytes))
        printf("  (extrapolated: the fit holds on %s..%s)", lo, hi);
    putchar('\n');
}

static void predict_size(const struct predict_args *a, const struct sbm_fabric *f, double bytes)
{
    struct sbm_prediction p;
    if (!a->all_algorithms) {
        if (sbm_predict(a->collective, a->algorithm, f, bytes, &p) == 0)
            print_prediction(a, &p);
        return;
    }
    for (int i = 0; i < SBM_BEST; i++)
        if (sbm_predict(a->collective, (enum sbm_algorithm)i, f, bytes, &p) == 0)
            print_prediction(a, &p);
}

int sbm_cmd_predict(int argc, char **argv)
{
    struct predict_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    struct sbm_fabric f;
    char label[320] = "";
    if (build_fabric(&a, &f, label, sizeof label) != SBM_OK)
        return SBM_BAD_INPUT;
    a.domains = f.domains;
    struct sbm_prediction probe;
    if (sbm_predict(a.collective, a.algorithm, &f, a.sweep ? a.min_bytes : a.bytes, &probe) != 0 &&
        !a.all_algorithms)
        return sbm_cli_fail("predict: %s does not apply here (nvls needs switches that reduce)",
                            sbm_algorithm_name(a.algorithm));
    if (!a.json)
        printf("# %s\n# %s, algorithm %s\n%12s %14s %12s %12s  %s\n", label,
               sbm_collective_name(a.collective), a.all_algorithms ? "all" : sbm_algorithm_name(a.algorithm),
               "bytes", "time_us", "algbw_GB/s", "busbw_GB/s", "algorithm");
    if (!a.sweep)
        predict_size(&a, &f, a.bytes);
    /* whole bytes, as the benchmarks' sweep (-b 3 -f 1.5: 3, 4, 6, 9, ...), always growing */
    for (double n = a.min_bytes; a.sweep && n <= a.max_bytes; n = fmax(floor(n * a.factor), n + 1))
        predict_size(&a, &f, n);
    return SBM_OK;
}
