/* sb_compare's core: reading (file:line errors), the join, and the noise-aware verdicts. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "compare.h"

/* One result record: allreduce float sum out-of-place, 2 ranks, with the given numbers.
 * lo < 0 leaves the confidence interval out; wrong < 0 writes null. */
static const char *rec(const char *coll, long long bytes, double median, double lo, double hi, double busbw,
                       long long wrong)
{
    static char buf[8][1024];
    static int k;
    char *s = buf[k++ % 8], ci[128] = "", w[32];
    if (lo >= 0)
        snprintf(ci, sizeof ci, ",\"median_ci_lo\":%g,\"median_ci_hi\":%g", lo, hi);
    if (wrong < 0)
        snprintf(w, sizeof w, "null");
    else
        snprintf(w, sizeof w, "%lld", wrong);
    snprintf(s, 1024,
             "{\"schema\":\"scalebench/1\",\"type\":\"result\",\"collective\":\"%s\",\"backend\":\"mpi\","
             "\"memory\":\"host\",\"dtype\":\"float\",\"op\":\"sum\",\"in_place\":false,\"ranks\":2,\"nodes\":1,"
             "\"bytes\":%lld,\"time_us\":{\"min\":1,\"median\":%g%s},\"busbw_gbps\":%g,\"wrong\":%s,"
             "\"error\":null}\n",
             coll, bytes, median, ci, busbw, w);
    return s;
}

/* Reads TEXT as a run named NAME; returns the status, err filled on failure. */
static int read_text(const char *text, const char *name, struct sbc_run *run, char *err, size_t errlen)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(f);
    int rc = sbc_run_read_stream(f, name, run, err, errlen);
    fclose(f);
    return rc;
}

static void compare_text(const char *a_text, const char *b_text, const struct sbc_options *opt,
                         struct sbc_run *a, struct sbc_run *b, struct sbc_result *r)
{
    char err[512];
    assert_int_equal(read_text(a_text, "a.jsonl", a, err, sizeof err), 0);
    assert_int_equal(read_text(b_text, "b.jsonl", b, err, sizeof err), 0);
    assert_int_equal(sbc_compare(a, b, opt, r, err, sizeof err), 0);
}

static void free_all(struct sbc_run *a, struct sbc_run *b, struct sbc_result *r)
{
    sbc_result_free(r);
    sbc_run_free(a);
    sbc_run_free(b);
}

/* X then Y, in one of a few rotating buffers (nesting a few deep is fine). */
static char *cat(const char *x, const char *y)
{
    static char buf[8][4096];
    static int k;
    char *s = buf[k++ % 8];
    size_t nx = strlen(x), ny = strlen(y);
    assert_true(nx + ny < sizeof buf[0]);
    memmove(s, x, nx);
    memmove(s + nx, y, ny + 1);
    return s;
}

static void identical_runs_pass(void **state)
{
    (void)state;
    struct sbc_options opt;
    sbc_options_default(&opt);
    const char *t = cat(cat("{\"type\":\"run\",\"ranks\":2}\n", rec("allreduce", 8, 2.0, 1.9, 2.1, 0.004, 0)),
                        cat(rec("allreduce", 1 << 20, 250, 245, 255, 4.2, 0), "{\"type\":\"summary\"}\n"));
    struct sbc_run a, b;
    struct sbc_result r;
    compare_text(t, t, &opt, &a, &b, &r);
    assert_int_equal(a.n, 2); /* the header and the summary are not points */
    assert_int_equal(r.n, 2);
    assert_int_equal(r.count[SBC_OK], 2);
    assert_int_equal(r.failures, 0);
    assert_int_equal(r.rows[0].metric, SBC_LATENCY); /* 8 B < 64K */
    assert_int_equal(r.rows[1].metric, SBC_BUSBW);
    assert_true(r.rows[1].change == 0.0);
    free_all(&a, &b, &r);
}

/* A 10% busbw drop with tight intervals is caught; the same drop inside wide, overlapping
 * intervals is noise, not a failure. */
static void busbw_drop_tight_vs_noisy(void **state)
{
    (void)state;
    struct sbc_options opt;
    sbc_options_default(&opt);
    struct sbc_run a, b;
    struct sbc_result r;
    compare_text(rec("allreduce", 1 << 20, 250, 248, 252, 4.0, 0), rec("allreduce", 1 << 20, 277.8, 275, 280, 3.6, 0),
                 &opt, &a, &b, &r);
    assert_int_equal(r.rows[0].verdict, SBC_REGRESSION);
    assert_true(r.rows[0].significant);
    assert_true(fabs(r.rows[0].change + 0.10) < 1e-9);      /* busbw -10% */
    assert_true(fabs(r.rows[0].degradation - 0.10) < 1e-9); /* worse by 10% */
    assert_true(fabs(r.rows[0].tolerance - 0.05) < 1e-12);
    assert_int_equal(r.failures, 1);
    free_all(&a, &b, &r);

    compare_text(rec("allreduce", 1 << 20, 250, 200, 300, 4.0, 0), rec("allreduce", 1 << 20, 277.8, 230, 320, 3.6, 0),
                 &opt, &a, &b, &r);
    assert_int_equal(r.rows[0].verdict, SBC_NOISE);
    assert_false(r.rows[0].significant);
    assert_int_equal(r.failures, 0);
    free_all(&a, &b, &r);

    /* 5.7% worse by the medians, 4.5% between the intervals' nearest ends: noise, not a failure */
    compare_text(rec("allreduce", 1 << 20, 250, 248, 252, 4.0, 0), rec("allreduce", 1 << 20, 265, 264, 266, 3.774, 0),
                 &opt, &a, &b, &r);
    assert_int_equal(r.rows[0].verdict, SBC_NOISE);
    assert_true(r.rows[0].significant);
    assert_true(r.rows[0].degradation > 0.05 && r.rows[0].degradation_min < 0.05);
    assert_int_equal(r.failures, 0);
    free_all(&a, &b, &r);

    /* a 3% drop, significant or not, is within the 5% tolerance */
    compare_text(rec("allreduce", 1 << 20, 250, 249, 251, 4.0, 0), rec("allreduce", 1 << 20, 257.7, 257, 258, 3.88, 0),
                 &opt, &a, &b, &r);
    assert_int_equal(r.rows[0].verdict, SBC_OK);
    free_all(&a, &b, &r);
}

static void latency_below_crossover(void **state)
{
    (void)state;
    struct sbc_options opt;
    sbc_options_default(&opt);
    struct sbc_run a, b;
    struct sbc_result r;
    /* 20% slower at 1K, intervals apart: regression against the 10% latency tolerance */
    compare_text(rec("allreduce", 1024, 10, 9.8, 10.2, 0.1, 0), rec("allreduce", 1024, 12, 11.8, 12.2, 0.083, 0),
                 &opt, &a, &b, &r);
    assert_int_equal(r.rows[0].metric, SBC_LATENCY);
    assert_int_equal(r.rows[0].verdict, SBC_REGRESSION);
    assert_true(fabs(r.rows[0].a_value - 10) < 1e-12 && fabs(r.rows[0].b_value - 12) < 1e-12);
    free_all(&a, &b, &r);
    /* 8% slower: within 10% */
    compare_text(rec("allreduce", 1024, 10, 9.9, 10.1, 0.1, 0), rec("allreduce", 1024, 10.8, 10.7, 10.9, 0.093, 0),
                 &opt, &a, &b, &r);
    assert_int_equal(r.rows[0].verdict, SBC_OK);
    free_all(&a, &b, &r);
    /* with --latency-tolerance 5 the same 8% is a regression */
    opt.latency_tolerance = 0.05;
    compare_text(rec("allreduce", 1024, 10, 9.9, 10.1, 0.1, 0), rec("allreduce", 1024, 10.8, 10.7, 10.9, 0.093, 0),
                 &opt, &a, &b, &r);
    assert_int_equal(r.rows[0].verdict, SBC_REGRESSION);
    free_all(&a, &b, &r);
    /* faster by 30%, significantly: improved, not a failure */
    compare_text(rec("allreduce", 1024, 10, 9.9, 10.1, 0.1, 0), rec("allreduce", 1024, 7, 6.9, 7.1, 0.14, 0), &opt, &a,
                 &b, &r);
    assert_int_equal(r.rows[0].verdict, SBC_IMPROVED);
    assert_int_equal(r.failures, 0);
    free_all(&a, &b, &r);
}

static void crossover_moves_the_metric(void **state)
{
    (void)state;
    struct sbc_options opt;
    sbc_options_default(&opt);
    opt.crossover = 1024;
    struct sbc_run a, b;
    struct sbc_result r;
    const char *t = cat(rec("allreduce", 512, 5, 4.9, 5.1, 0.1, 0), rec("allreduce", 1024, 6, 5.9, 6.1, 0.17, 0));
    compare_text(t, t, &opt, &a, &b, &r);
    assert_int_equal(r.rows[0].metric, SBC_LATENCY);
    assert_int_equal(r.rows[1].metric, SBC_BUSBW); /* exactly the crossover: busbw */
    free_all(&a, &b, &r);
}

/* Without intervals the point estimate alone decides. */
static void no_interval_uses_point_estimate(void **state)
{
    (void)state;
    struct sbc_options opt;
    sbc_options_default(&opt);
    struct sbc_run a, b;
    struct sbc_result r;
    compare_text(rec("alltoall", 1 << 20, 100, -1, -1, 10, 0), rec("alltoall", 1 << 20, 125, -1, -1, 8, 0), &opt, &a,
                 &b, &r);
    assert_true(isnan(a.v[0].ci_lo_us));
    assert_int_equal(r.rows[0].verdict, SBC_REGRESSION);
    free_all(&a, &b, &r);
}

static void wrong_failed_missing_new(void **state)
{
    (void)state;
    struct sbc_options opt;
    sbc_options_default(&opt);
    struct sbc_run a, b;
    struct sbc_result r;
    const char *failed = "{\"type\":\"result\",\"collective\":\"allreduce\",\"backend\":\"mpi\",\"memory\":\"host\","
                         "\"dtype\":\"float\",\"op\":\"sum\",\"in_place\":false,\"ranks\":2,\"nodes\":1,"
                         "\"bytes\":2048,\"time_us\":{\"median\":0},\"busbw_gbps\":0,\"wrong\":null,"
                         "\"error\":\"MPI_ERR_OTHER\"}\n";
    const char *ta = cat(cat(rec("allreduce", 8, 2, 1.9, 2.1, 0.004, 0), rec("allreduce", 1024, 4, 3.9, 4.1, 0.25, 0)),
                         cat(rec("allreduce", 2048, 5, 4.9, 5.1, 0.4, 0), rec("allreduce", 4096, 6, 5.9, 6.1, 0.6, 0)));
    const char *tb = cat(cat(rec("allreduce", 8, 2, 1.9, 2.1, 0.004, 3), rec("allreduce", 1024, 4, 3.9, 4.1, 0.25, 0)),
                         cat(failed, rec("allreduce", 8192, 7, 6.9, 7.1, 1.1, 0)));
    compare_text(ta, tb, &opt, &a, &b, &r);
    assert_int_equal(r.n, 5);
    assert_int_equal(r.rows[0].verdict, SBC_WRONG);
    assert_int_equal(r.rows[1].verdict, SBC_OK);
    assert_int_equal(r.rows[2].verdict, SBC_FAILED);
    assert_int_equal(r.rows[3].verdict, SBC_NEW); /* 8K only in B */
    assert_int_equal(r.rows[4].verdict, SBC_MISSING); /* 4K only in A, listed last */
    assert_null(r.rows[4].b);
    assert_int_equal(r.failures, 3);
    free_all(&a, &b, &r);
    opt.allow_missing = 1;
    compare_text(ta, tb, &opt, &a, &b, &r);
    assert_int_equal(r.failures, 2);
    free_all(&a, &b, &r);
}

/* A point that failed (or was wrong) in A sets no expectation: B's value there is new, not
 * "ok" beside A's zero; a failed B point has no value and no change. */
static void failed_or_wrong_a_sets_no_expectation(void **state)
{
    (void)state;
    struct sbc_options opt;
    sbc_options_default(&opt);
    struct sbc_run a, b;
    struct sbc_result r;
    const char *failed = "{\"type\":\"result\",\"collective\":\"allreduce\",\"backend\":\"mpi\",\"memory\":\"host\","
                         "\"dtype\":\"float\",\"op\":\"sum\",\"in_place\":false,\"ranks\":2,\"nodes\":1,"
                         "\"bytes\":2048,\"time_us\":{\"median\":0},\"busbw_gbps\":0,\"wrong\":null,"
                         "\"error\":\"MPI_ERR_OTHER\"}\n";
    const char *ta = cat(cat(failed, rec("allreduce", 4096, 6, 5.9, 6.1, 0.6, 2)), rec("allreduce", 8192, 7, 6.9, 7.1, 1.1, 0));
    const char *tb = cat(rec("allreduce", 2048, 5, 4.9, 5.1, 0.4, 0), rec("allreduce", 4096, 60, 59, 61, 0.06, 0));
    compare_text(ta, tb, &opt, &a, &b, &r);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.rows[0].verdict, SBC_NEW); /* A failed at 2K */
    assert_true(isnan(r.rows[0].a_value));
    assert_true(isnan(r.rows[0].change));
    assert_int_equal(r.rows[1].verdict, SBC_NEW); /* A was wrong at 4K: 10x slower B is not judged */
    assert_int_equal(r.rows[2].verdict, SBC_MISSING); /* 8K, only in A */
    assert_int_equal(r.failures, 1);
    free_all(&a, &b, &r);
    /* B failed where A was fine: failed, with no B value and no change */
    compare_text(rec("allreduce", 2048, 5, 4.9, 5.1, 0.4, 0), failed, &opt, &a, &b, &r);
    assert_int_equal(r.rows[0].verdict, SBC_FAILED);
    assert_true(isnan(r.rows[0].b_value));
    assert_true(isnan(r.rows[0].change));
    free_all(&a, &b, &r);
}

/* sb_pairs writes one record per pair at each size: the pair (level, member, peer_member) is part
 * of the point, so a pairs file is one run, not "the same point twice", and pairs join pairwise. */
static void pairs_records_join_per_pair(void **state)
{
    (void)state;
    struct sbc_options opt;
    sbc_options_default(&opt);
    struct sbc_run a, b;
    struct sbc_result r;
    static const char fmt[] = "{\"type\":\"result\",\"collective\":\"pairs\",\"backend\":\"mpi\",\"memory\":\"host\","
                              "\"dtype\":\"float\",\"op\":\"none\",\"in_place\":false,\"ranks\":2,\"nodes\":2,"
                              "\"level\":\"node\",\"member\":%d,\"peer_member\":%d,\"bytes\":8,"
                              "\"time_us\":{\"median\":%g},\"busbw_gbps\":0.001,\"wrong\":0,\"error\":null}\n";
    char ta[1024], tb[1024];
    int n = snprintf(ta, sizeof ta, fmt, 0, 1, 30.0);
    snprintf(ta + n, sizeof ta - n, fmt, 0, 2, 30.0);
    n = snprintf(tb, sizeof tb, fmt, 0, 2, 30.0);
    snprintf(tb + n, sizeof tb - n, fmt, 0, 1, 90.0);
    compare_text(ta, tb, &opt, &a, &b, &r);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.rows[0].b->peer_member, 2);
    assert_int_equal(r.rows[0].a->peer_member, 2);
    assert_int_equal(r.rows[0].verdict, SBC_OK);
    assert_int_equal(r.rows[1].a->peer_member, 1);
    assert_int_equal(r.rows[1].verdict, SBC_REGRESSION); /* pair 0-1: 3x the latency */
    json_t *o = sbc_row_json(&r.rows[1], &opt);
    assert_int_equal(json_integer_value(json_object_get(o, "peer_member")), 1);
    assert_string_equal(json_string_value(json_object_get(o, "level")), "node");
    json_decref(o);
    free_all(&a, &b, &r);
}

static void malformed_input_names_file_and_line(void **state)
{
    (void)state;
    struct sbc_run run;
    char err[512];
    const char *t = cat(cat("{\"type\":\"run\"}\n", "\n"), cat("{\"type\":\"result\",", "\n"));
    assert_int_equal(read_text(t, "bad.jsonl", &run, err, sizeof err), 2);
    assert_non_null(strstr(err, "bad.jsonl:3: invalid JSON"));

    t = cat(rec("allreduce", 8, 2, 1.9, 2.1, 0.004, 0),
            "{\"type\":\"result\",\"collective\":\"allreduce\",\"dtype\":\"float\",\"in_place\":true,"
            "\"ranks\":2,\"bytes\":8,\"busbw_gbps\":1}\n");
    assert_int_equal(read_text(t, "x.jsonl", &run, err, sizeof err), 2);
    assert_string_equal(err, "x.jsonl:2: result record lacks a valid 'time_us.median'");

    assert_int_equal(read_text("[1,2]\n", "arr.jsonl", &run, err, sizeof err), 2);
    assert_string_equal(err, "arr.jsonl:1: a record must be a JSON object");

    t = cat(rec("allreduce", 8, 2, 1.9, 2.1, 0.004, 0), rec("allreduce", 8, 3, 2.9, 3.1, 0.003, 0));
    assert_int_equal(read_text(t, "dup.jsonl", &run, err, sizeof err), 2);
    assert_non_null(strstr(err, "dup.jsonl:2: the same point"));
    assert_non_null(strstr(err, "line 1"));

    assert_int_equal(sbc_run_read("/nonexistent/run.jsonl", &run, err, sizeof err), 2);
    assert_non_null(strstr(err, "/nonexistent/run.jsonl: cannot open"));
}

static void nothing_in_common_is_bad_input(void **state)
{
    (void)state;
    struct sbc_options opt;
    sbc_options_default(&opt);
    struct sbc_run a, b;
    struct sbc_result r;
    char err[512];
    assert_int_equal(read_text(rec("allreduce", 8, 2, 1.9, 2.1, 0.004, 0), "a", &a, err, sizeof err), 0);
    assert_int_equal(read_text(rec("alltoall", 8, 2, 1.9, 2.1, 0.004, 0), "b", &b, err, sizeof err), 0);
    assert_int_equal(sbc_compare(&a, &b, &opt, &r, err, sizeof err), 2);
    assert_non_null(strstr(err, "no point in common"));
    sbc_run_free(&a);
    sbc_run_free(&b);
}

static void json_row_carries_measured_expected_tolerance(void **state)
{
    (void)state;
    struct sbc_options opt;
    sbc_options_default(&opt);
    struct sbc_run a, b;
    struct sbc_result r;
    compare_text(rec("allreduce", 1 << 20, 250, 248, 252, 4.0, 0), rec("allreduce", 1 << 20, 277.8, 275, 280, 3.6, 0),
                 &opt, &a, &b, &r);
    json_t *o = sbc_row_json(&r.rows[0], &opt);
    assert_string_equal(json_string_value(json_object_get(o, "verdict")), "regression");
    assert_string_equal(json_string_value(json_object_get(o, "metric")), "busbw");
    assert_true(fabs(json_real_value(json_object_get(o, "expected")) - 4.0) < 1e-12);
    assert_true(fabs(json_real_value(json_object_get(o, "measured")) - 3.6) < 1e-12);
    assert_true(fabs(json_real_value(json_object_get(o, "tolerance")) - 0.05) < 1e-12);
    assert_true(json_is_true(json_object_get(o, "fails")));
    assert_int_equal(json_integer_value(json_object_get(o, "bytes")), 1 << 20);
    json_decref(o);
    o = sbc_summary_json(&r, &opt);
    assert_string_equal(json_string_value(json_object_get(o, "verdict")), "fail");
    assert_int_equal(json_integer_value(json_object_get(o, "regression")), 1);
    json_decref(o);
    free_all(&a, &b, &r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(identical_runs_pass),
        cmocka_unit_test(busbw_drop_tight_vs_noisy),
        cmocka_unit_test(latency_below_crossover),
        cmocka_unit_test(crossover_moves_the_metric),
        cmocka_unit_test(no_interval_uses_point_estimate),
        cmocka_unit_test(wrong_failed_missing_new),
        cmocka_unit_test(failed_or_wrong_a_sets_no_expectation),
        cmocka_unit_test(pairs_records_join_per_pair),
        cmocka_unit_test(malformed_input_names_file_and_line),
        cmocka_unit_test(nothing_in_common_is_bad_input),
        cmocka_unit_test(json_row_carries_measured_expected_tolerance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
