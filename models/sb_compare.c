/* sb_compare A.jsonl B.jsonl: the per-size join of two runs, a readable diff table (or JSON
 * Lines), and a noise-aware verdict.  Exit 0 within tolerance, 1 a regression, 2 bad input. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"

static void usage(FILE *out)
{
    fputs("Usage: sb_compare [options] A.jsonl B.jsonl\n"
          "       sb_compare --check FILE...\n"
          "Joins the result records of two scalebench runs per point (collective, backend, memory,\n"
          "dtype, op, in_place, ranks, nodes, bytes; sb_pairs: also the pair); A is what is expected\n"
          "(a baseline), B what was measured.  Below the crossover the median latency is judged,\n"
          "from it on busbw.  A point regresses when it is worse than the tolerance even between\n"
          "the nearest ends of the two medians' 95% confidence intervals; worse by the medians\n"
          "alone is reported as noise.\n"
          "  --tolerance PCT           busbw tolerance, sizes >= crossover (default 5)\n"
          "  --latency-tolerance PCT   latency tolerance, sizes < crossover (default 10)\n"
          "  --crossover SIZE          bytes, K/M/G binary suffixes (default 64K)\n"
          "  --allow-missing           points of A absent from B are reported, not failures\n"
          "  --json                    JSON Lines: one \"row\" per point, then a \"summary\"\n"
          "  --check                   only read each FILE: exit 0 when it holds result records\n"
          "  -h, --help, -V, --version\n"
          "Exit: 0 all within tolerance, 1 a regression, wrong or failed result, or a point of A\n"
          "missing from B, 2 bad usage or input (one line naming FILE:LINE).\n",
          out);
}

static int parse_pct(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || (*end && strcmp(end, "%") != 0) || !isfinite(v) || v < 0 || v >= 1000)
        return -1;
    *out = v / 100.0;
    return 0;
}

static int parse_size(const char *s, long long *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || !isfinite(v) || v < 0)
        return -1;
    double mult = 1;
    if (*end) {
        const char *suffixes = "KMGT", *p = strchr(suffixes, *end == 'k' ? 'K' : *end);
        if (!p || !*p || (end[1] && strcmp(end + 1, "B") != 0 && strcmp(end + 1, "iB") != 0))
            return -1;
        for (long i = 0; i <= p - suffixes; i++)
            mult *= 1024;
    }
    v *= mult;
    if (v > 9e18 || v != floor(v))
        return -1;
    *out = (long long)v;
    return 0;
}

static int die(const char *fmt, const char *arg)
{
    fputs("sb_compare: ", stderr);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return 2;
}

int main(int argc, char **argv)
{
    struct sbc_options opt;
    sbc_options_default(&opt);
    int json = 0, check = 0;
    enum { O_TOL = 256, O_LAT, O_CROSS, O_MISSING, O_JSON, O_CHECK };
    static const struct option longopts[] = {
        {"tolerance", required_argument, NULL, O_TOL},  {"latency-tolerance", required_argument, NULL, O_LAT},
        {"crossover", required_argument, NULL, O_CROSS}, {"allow-missing", no_argument, NULL, O_MISSING},
        {"json", no_argument, NULL, O_JSON},             {"check", no_argument, NULL, O_CHECK},
        {"help", no_argument, NULL, 'h'},                {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
        switch (c) {
        case O_TOL:
            if (parse_pct(optarg, &opt.busbw_tolerance))
                return die("--tolerance takes a percentage >= 0 (e.g. 5), got '%s'", optarg);
            break;
        case O_LAT:
            if (parse_pct(optarg, &opt.latency_tolerance))
                return die("--latency-tolerance takes a percentage >= 0 (e.g. 10), got '%s'", optarg);
            break;
        case O_CROSS:
            if (parse_size(optarg, &opt.crossover))
                return die("--crossover takes a size in bytes (e.g. 64K), got '%s'", optarg);
            break;
        case O_MISSING: opt.allow_missing = 1; break;
        case O_JSON: json = 1; break;
        case O_CHECK: check = 1; break;
        case 'h': usage(stdout); return 0;
        case 'V': puts("sb_compare (scalebench) " PACKAGE_VERSION); return 0;
        default:
            return die("unknown or incomplete option '%s' (see --help)", argv[optind - 1]);
        }
    }
    char err[1024];
    if (check) {
        if (optind >= argc)
            return die("%s", "--check needs at least one FILE");
        for (int i = optind; i < argc; i++) {
            struct sbc_run run;
            if (sbc_run_read(argv[i], &run, err, sizeof err))
                return die("%s", err);
            if (!json)
                printf("%s: %zu result records\n", argv[i], run.n);
            sbc_run_free(&run);
        }
        return 0;
    }
    if (argc - optind != 2)
        return die("%s", "needs exactly two files, A.jsonl (expected) and B.jsonl (measured); see --help");
    struct sbc_run a, b;
    if (sbc_run_read(argv[optind], &a, err, sizeof err))
        return die("%s", err);
    if (sbc_run_read(argv[optind + 1], &b, err, sizeof err)) {
        sbc_run_free(&a);
        return die("%s", err);
    }
    struct sbc_result r;
    int rc = sbc_compare(&a, &b, &opt, &r, err, sizeof err);
    if (rc) {
        die("%s", err);
    } else {
        if (json) {
            for (size_t k = 0; k < r.n; k++) {
                json_t *o = sbc_row_json(&r.rows[k], &opt);
                json_dumpf(o, stdout, JSON_COMPACT | JSON_REAL_PRECISION(10));
                fputc('\n', stdout);
                json_decref(o);
            }
            json_t *s = sbc_summary_json(&r, &opt);
            json_dumpf(s, stdout, JSON_COMPACT | JSON_REAL_PRECISION(10));
            fputc('\n', stdout);
            json_decref(s);
        } else {
            sbc_print_table(stdout, &a, &b, &r, &opt);
        }
        rc = r.failures ? 1 : 0;
        sbc_result_free(&r);
    }
    sbc_run_free(&a);
    sbc_run_free(&b);
    if (fflush(stdout) != 0) {
        fputs("sb_compare: cannot write the output\n", stderr);
        return 2;
    }
    return rc;
}
