/* sb_model pairs: the N x N bandwidth and latency matrices of sb_pairs records, and the suspects
 * the outlier rule (pairs.h) names.  Exit 0: nobody suspect; 1: suspects named; 2: bad input. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pairs.h"
#include "units.h"

static const char usage[] =
    "Usage: sb_model pairs RESULTS.jsonl... [--bw-size SIZE] [--lat-size SIZE] [--bw-drop F]\n"
    "                      [--lat-rise F] [--json]\n"
    "  Reads the sb_pairs records (collective \"pairs\"), builds the member x member matrices of\n"
    "  bandwidth (bidir_gbps: both directions, all lanes) at --bw-size (default: the largest size)\n"
    "  and latency (median time_us) at --lat-size (default: the smallest), and names the suspect\n"
    "  members (nodes or ranks) and links:\n"
    "    a member's score is the upper median of its pairs; the reference is the upper median of\n"
    "    the scores; a pair is bad below (1 - bw-drop) x the reference bandwidth (default 0.25:\n"
    "    below 75%) or above (1 + lat-rise) x the reference latency (default 1.0: above 2x); a\n"
    "    member is a suspect when more than half of its pairs are bad; a bad pair between two\n"
    "    healthy members is a suspect link.  With 2 members nobody can be named, nor when half\n"
    "    or more of the members are slow (they set the reference).\n"
    "  Several records of one pair and size (dtypes, in place or not, files) give the pair's best.\n"
    "  --json: one object with members, the matrices (null where not measured) and the verdict.\n"
    "  Exit: 0 no suspect, 1 suspects named, 2 bad usage or input.\n";

struct pairs_args {
    size_t bw_size, lat_size; /* 0: largest / smallest */
    struct sbm_pairs_rule rule;
    bool json;
};

static int parse_args(int argc, char **argv, struct pairs_args *a)
{
    static const struct option opts[] = {
        {"bw-size", required_argument, NULL, 'b'}, {"lat-size", required_argument, NULL, 'l'},
        {"bw-drop", required_argument, NULL, 'd'}, {"lat-rise", required_argument, NULL, 'r'},
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    *a = (struct pairs_args){.rule = {SBM_PAIRS_BW_DROP, SBM_PAIRS_LAT_RISE}};
    opterr = 0;
    optind = 1;
    for (int c, i = 0; (c = getopt_long(argc, argv, ":h", opts, &i)) != -1; i = 0) {
        double bytes = 0;
        if (c == 'h')
            return fputs(usage, stdout), -1;
        else if (c == 'j')
            a->json = true;
        else if ((c == 'b' || c == 'l') && sbm_parse_bytes(optarg, &bytes) == 0 && bytes >= 1)
            *(c == 'b' ? &a->bw_size : &a->lat_size) = (size_t)bytes;
        else if (c == 'd' && sbm_cli_parse_fraction(optarg, &a->rule.bw_drop) == 0 && a->rule.bw_drop < 1)
            continue;
        else if (c == 'r' && sbm_cli_parse_fraction(optarg, &a->rule.lat_rise) == 0)
            continue;
        else if (c == 'b' || c == 'l' || c == 'd' || c == 'r')
            return sbm_cli_fail("pairs: invalid --%s '%s'%s", opts[i].name, optarg,
                                c == 'd' ? " (a fraction in (0, 1), e.g. 0.25)"
                                : c == 'r' ? " (a positive fraction, e.g. 1.0 for 2x)" : " (a size like 8 or 1M)");
        else
            return sbm_cli_fail("pairs: unknown option or missing value '%s'", argv[optind - 1]);
    }
    return optind < argc ? 0 : sbm_cli_fail("pairs: give at least one RESULTS.jsonl file (from sb_pairs --json)");
}

/* One sb_pairs record. */
struct pair_rec {
    int a, b;
    char name_a[SBM_PAIRS_NAME_LEN], name_b[SBM_PAIRS_NAME_LEN];
    double bytes, bidir_gbps, median_us;
};

struct pair_recs {
    struct pair_rec *v;
    size_t n, cap;
    char level[8];
};

static void member_name(json_t *rec, const char *level, int side, char *buf, size_t len)
{
    const char *host = json_string_value(json_object_get(rec, side ? "peer_host" : "host"));
    json_t *rank = json_object_get(rec, side ? "peer_rank" : "rank");
    if (strcmp(level, "node") == 0)
        snprintf(buf, len, "%s", host ? host : "?");
    else
        snprintf(buf, len, "r%lld@%s", (long long)json_integer_value(rank), host ? host : "?");
}

/* A result record of collective "pairs" into the list; NULL, or what is wrong with it. */
static const char *take_record(json_t *rec, struct pair_recs *out)
{
    const char *level = json_string_value(json_object_get(rec, "level"));
    json_t *a = json_object_get(rec, "member"), *b = json_object_get(rec, "peer_member");
    json_t *bytes = json_object_get(rec, "bytes"), *bw = json_object_get(rec, "bidir_gbps");
    json_t *median = json_object_get(json_object_get(rec, "time_us"), "median");
    if (!level || (strcmp(level, "node") != 0 && strcmp(level, "rank") != 0))
        return "no level (node or rank): not an sb_pairs record";
    if (!json_is_integer(a) || !json_is_integer(b) || json_integer_value(a) < 0 || json_integer_value(b) < 0 ||
        json_integer_value(a) > 100000 || json_integer_value(b) > 100000 || json_equal(a, b))
        return "member/peer_member missing or invalid";
    if (!json_is_number(bytes) || !json_is_number(bw) || !json_is_number(median))
        return "bytes, bidir_gbps or time_us.median missing";
    if (out->level[0] && strcmp(out->level, level) != 0)
        return "records of both levels (node and rank): give the files of one level";
    snprintf(out->level, sizeof out->level, "%s", level);
    if (!json_is_null(json_object_get(rec, "error")) && json_object_get(rec, "error"))
        return NULL; /* a failed point measures nothing */
    if (out->n == out->cap) {
        size_t cap = out->cap ? 2 * out->cap : 64;
        struct pair_rec *v = realloc(out->v, cap * sizeof *v);
        if (!v)
            return "out of memory";
        out->v = v;
        out->cap = cap;
    }
    struct pair_rec *p = &out->v[out->n++];
    *p = (struct pair_rec){.a = (int)json_integer_value(a), .b = (int)json_integer_value(b),
                           .bytes = json_number_value(bytes), .bidir_gbps = json_number_value(bw),
                           .median_us = json_number_value(median)};
    member_name(rec, level, 0, p->name_a, sizeof p->name_a);
    member_name(rec, level, 1, p->name_b, sizeof p->name_b);
    return NULL;
}

static int read_file(const char *path, struct pair_recs *out)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f)
        return sbm_cli_fail("pairs: cannot read '%s': %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    for (long no = 1; rc == 0 && getline(&line, &cap, f) >= 0; no++) {
        if (strspn(line, " \t\r\n") == strlen(line))
            continue;
        json_error_t jerr;
        json_t *rec = json_loads(line, 0, &jerr);
        const char *why = !rec ? "not JSON" : NULL;
        const char *type = rec ? json_string_value(json_object_get(rec, "type")) : NULL;
        const char *coll = rec ? json_string_value(json_object_get(rec, "collective")) : NULL;
        if (!why && type && strcmp(type, "result") == 0 && coll && strcmp(coll, "pairs") == 0)
            why = take_record(rec, out);
        if (why)
            rc = sbm_cli_fail("pairs: %s:%ld: %s", path, no, why);
        json_decref(rec);
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return rc;
}

/* The size the metric is read at: the one asked for (-1 when no record has it), or the
 * largest/smallest present. */
static double pick_size(const struct pair_recs *r, size_t wanted, int largest)
{
    for (size_t k = 0; wanted && k < r->n; k++)
        if (r->v[k].bytes == (double)wanted)
            return (double)wanted;
    if (wanted)
        return -1;
    double best = r->v[0].bytes;
    for (size_t k = 1; k < r->n; k++)
        best = largest ? fmax(best, r->v[k].bytes) : fmin(best, r->v[k].bytes);
    return best;
}

static int build_matrix(const struct pair_recs *r, double bw_bytes, double lat_bytes, struct sbm_pairs_matrix *m)
{
    int n = 0;
    for (size_t k = 0; k < r->n; k++) { /* the highest member number, on either side */
        if (r->v[k].a + 1 > n)
            n = r->v[k].a + 1;
        if (r->v[k].b + 1 > n)
            n = r->v[k].b + 1;
    }
    if (sbm_pairs_matrix_init(m, n) != 0)
        return sbm_cli_fail("pairs: out of memory for %d members", n);
    for (size_t k = 0; k < r->n; k++) {
        const struct pair_rec *p = &r->v[k];
        snprintf(m->names[p->a], sizeof m->names[0], "%s", p->name_a);
        snprintf(m->names[p->b], sizeof m->names[0], "%s", p->name_b);
        sbm_pairs_matrix_put(m, p->a, p->b, p->bytes == bw_bytes ? p->bidir_gbps : NAN,
                             p->bytes == lat_bytes ? p->median_us : NAN);
    }
    return 0;
}

static json_t *matrix_json(const struct sbm_pairs_matrix *m, const double *v)
{
    json_t *rows = json_array();
    for (int i = 0; i < m->n; i++) {
        json_t *row = json_array();
        for (int j = 0; j < m->n; j++)
            json_array_append_new(row, isfinite(v[i * m->n + j]) ? json_real(v[i * m->n + j]) : json_null());
        json_array_append_new(rows, row);
    }
    return rows;
}

static void print_matrix(const struct sbm_pairs_matrix *m, const double *v, const char *title, const char *fmt)
{
    printf("#\n# %s\n# %-16s", title, "");
    for (int j = 0; j < m->n; j++)
        printf(" %10.10s", m->names[j]);
    printf("\n");
    for (int i = 0; i < m->n; i++) {
        printf("  %-16.16s", m->names[i]);
        for (int j = 0; j < m->n; j++) {
            if (isnan(v[i * m->n + j]))
                printf(" %10s", i == j ? "-" : "?");
            else
                printf(fmt, v[i * m->n + j]);
        }
        printf("\n");
    }
}

static int report(const struct pairs_args *a, const struct pair_recs *r, double bw_bytes, double lat_bytes,
                  const struct sbm_pairs_matrix *m, const struct sbm_pairs_verdict *v)
{
    if (a->json) {
        json_t *o = sbm_pairs_verdict_json(m, &a->rule, v), *names = json_array();
        for (int i = 0; i < m->n; i++)
            json_array_append_new(names, json_string(m->names[i]));
        json_object_set_new(o, "level", json_string(r->level));
        json_object_set_new(o, "members", names);
        json_object_set_new(o, "bandwidth_bytes", json_real(bw_bytes));
        json_object_set_new(o, "latency_bytes", json_real(lat_bytes));
        json_object_set_new(o, "bandwidth_gbps", matrix_json(m, m->bw));
        json_object_set_new(o, "latency_us", matrix_json(m, m->lat));
        sbm_cli_print_json(o);
    } else {
        printf("# sb_model pairs: %d %ss, %d of %d pairs measured; bandwidth = bidir_gbps at %.0f bytes, latency = "
               "median time_us at %.0f bytes\n",
               m->n, r->level, v->measured_pairs, v->expected_pairs, bw_bytes, lat_bytes);
        print_matrix(m, m->bw, "bandwidth (GB/s, both directions together; ? = not measured)", " %10.4g");
        print_matrix(m, m->lat, "latency (us, median)", " %10.2f");
        printf("#\n");
        sbm_pairs_verdict_print(m, &a->rule, v, "# ", stdout);
    }
    return v->count > 0 ? SBM_CHECK_FAILED : SBM_OK;
}

int sbm_cmd_pairs(int argc, char **argv)
{
    struct pairs_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    struct pair_recs r = {0};
    for (int i = optind; i < argc && rc == 0; i++)
        rc = read_file(argv[i], &r);
    if (rc == 0 && r.n == 0)
        rc = sbm_cli_fail("pairs: no measured sb_pairs records (collective \"pairs\") in the file(s)");
    struct sbm_pairs_matrix m = {0};
    struct sbm_pairs_verdict v = {0};
    if (rc == 0) {
        double bw_bytes = pick_size(&r, a.bw_size, 1), lat_bytes = pick_size(&r, a.lat_size, 0);
        if (bw_bytes < 0 || lat_bytes < 0)
            rc = sbm_cli_fail("pairs: no sb_pairs record at --%s %zu bytes", bw_bytes < 0 ? "bw-size" : "lat-size",
                              bw_bytes < 0 ? a.bw_size : a.lat_size);
        if (rc == 0)
            rc = build_matrix(&r, bw_bytes, lat_bytes, &m);
        if (rc == 0 && sbm_pairs_judge(&m, &a.rule, &v) != 0)
            rc = sbm_cli_fail("pairs: out of memory");
        if (rc == 0 && v.measured_pairs == 0)
            rc = sbm_cli_fail("pairs: no pair was measured at %.0f (bandwidth) or %.0f bytes (latency)", bw_bytes,
                              lat_bytes);
        if (rc == 0)
            rc = report(&a, &r, bw_bytes, lat_bytes, &m, &v);
    }
    sbm_pairs_verdict_free(&v);
    sbm_pairs_matrix_free(&m);
    free(r.v);
    return rc;
}
