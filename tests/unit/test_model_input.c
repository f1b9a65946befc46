/* Malformed catalogs, results and parameter files, and the CLI's size syntax. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "catalog.h"
#include "params.h"
#include "results.h"
#include "system.h"
#include "units.h"

static char dir[64];

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/sbm-input.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Writes TEXT to DIR/NAME (a fresh sub-folder SUB when given) and returns the path. */
static const char *write_file(const char *sub, const char *name, const char *text)
{
    static char path[256];
    char folder[160];
    snprintf(folder, sizeof folder, "%s/%s", dir, sub);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", folder);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/%s", folder, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void catalog_error(const char *sub, const char *text, const char *needle)
{
    struct sbm_catalog cat;
    struct sbm_error err;
    write_file(sub, "c.json", text);
    char folder[160];
    snprintf(folder, sizeof folder, "%s/%s", dir, sub);
    assert_int_equal(sbm_catalog_load(folder, &cat, &err), SBM_BAD_INPUT);
    if (!strstr(err.msg, needle))
        fail_msg("'%s' lacks '%s'", err.msg, needle);
}

static void catalog_refuses_bad_files(void **state)
{
    (void)state;
    catalog_error("syntax", "{\"gpus\": {\n  \"x\": {,}\n}}\n", "c.json:2: invalid JSON");
    catalog_error("bare", "{\"gpus\": {\"x\": {\"links\": 18}}}", "gpus.x.links: number without a source");
    catalog_error("section", "{\"gizmos\": {}}", "unknown catalog section 'gizmos'");
    catalog_error("notobj", "[1]", "not a JSON object");
    struct sbm_catalog cat;
    struct sbm_error err;
    assert_int_equal(sbm_catalog_load("/nonexistent-catalog", &cat, &err), SBM_BAD_INPUT);
    assert_non_null(strstr(err.msg, "cannot open catalog directory"));
}

static void unknown_system_and_missing_fields(void **state)
{
    (void)state;
    struct sbm_catalog cat;
    struct sbm_error err;
    struct sbm_system sys;
    write_file("sys", "c.json", "{\"systems\": {\"mine\": {\"gpu\": \"nope\"}}}");
    char folder[160];
    snprintf(folder, sizeof folder, "%s/sys", dir);
    assert_int_equal(sbm_catalog_load(folder, &cat, &err), SBM_OK);
    assert_int_equal(sbm_system_resolve(&cat, "other", &sys, &err), SBM_BAD_INPUT);
    assert_non_null(strstr(err.msg, "unknown system 'other'"));
    assert_int_equal(sbm_system_resolve(&cat, "mine", &sys, &err), SBM_BAD_INPUT);
    assert_non_null(strstr(err.msg, "unknown gpu 'nope'"));
    sbm_catalog_free(&cat);
}

static void results_name_file_and_line(void **state)
{
    (void)state;
    struct sbm_points pts = {0};
    struct sbm_error err;
    const char *good = "{\"type\":\"run\"}\n"
                       "{\"type\":\"result\",\"collective\":\"allreduce\",\"ranks\":2,\"bytes\":8,"
                       "\"time_us\":{\"median\":1.5},\"future_field\":1}\n"
                       "{\"type\":\"mystery\"}\n\n";
    const char *path = write_file("res", "good.jsonl", good);
    assert_int_equal(sbm_results_read(path, &pts, &err), SBM_OK);
    assert_int_equal(pts.n, 1);
    assert_true(pts.v[0].median_us == 1.5 && pts.v[0].ranks == 2);
    path = write_file("res", "bad.jsonl", "{\"type\":\"run\"}\n\n{\"type\":\"result\",\n");
    assert_int_equal(sbm_results_read(path, &pts, &err), SBM_BAD_INPUT);
    assert_non_null(strstr(err.msg, "bad.jsonl:3: invalid JSON"));
    assert_int_equal(pts.n, 1); /* nothing half-read */
    path = write_file("res", "nomedian.jsonl",
                      "{\"type\":\"result\",\"collective\":\"allreduce\",\"ranks\":2,\"bytes\":8,\"time_us\":{}}\n");
    assert_int_equal(sbm_results_read(path, &pts, &err), SBM_BAD_INPUT);
    assert_non_null(strstr(err.msg, "nomedian.jsonl:1: result record lacks a valid 'time_us.median'"));
    /* a name sb_point cannot hold is refused, not shortened (two long backends that share
     * their first characters would become one curve); so are rank counts no int holds */
    path = write_file("res", "long.jsonl",
                      "{\"type\":\"result\",\"collective\":\"allreduce\",\"ranks\":2,\"bytes\":8,"
                      "\"backend\":\"mpi-with-a-very-long-transport-name-A\",\"time_us\":{\"median\":1}}\n");
    assert_int_equal(sbm_results_read(path, &pts, &err), SBM_BAD_INPUT);
    assert_non_null(strstr(err.msg, "long.jsonl:1: result record lacks a valid 'backend'"));
    path = write_file("res", "bigranks.jsonl",
                      "{\"type\":\"result\",\"collective\":\"allreduce\",\"ranks\":4294967298,\"bytes\":8,"
                      "\"time_us\":{\"median\":1}}\n");
    assert_int_equal(sbm_results_read(path, &pts, &err), SBM_BAD_INPUT);
    assert_non_null(strstr(err.msg, "lacks a valid 'ranks'"));
    path = write_file("res", "nodes0.jsonl",
                      "{\"type\":\"result\",\"collective\":\"allreduce\",\"ranks\":2,\"nodes\":0,\"bytes\":8,"
                      "\"time_us\":{\"median\":1}}\n");
    assert_int_equal(sbm_results_read(path, &pts, &err), SBM_BAD_INPUT);
    assert_non_null(strstr(err.msg, "lacks a valid 'nodes'"));
    assert_int_equal(pts.n, 1);
    path = write_file("res", "empty.jsonl", "{\"type\":\"run\"}\n");
    assert_int_equal(sbm_results_read(path, &pts, &err), SBM_BAD_INPUT);
    assert_non_null(strstr(err.msg, "no result records"));
    sbm_points_free(&pts);
}

/* A result with wrong elements is not a measurement to fit (as one with "error" set); a
 * record of another schema version is refused, not read as if it were scalebench/1. */
static void results_skip_wrong_and_refuse_other_schemas(void **state)
{
    (void)state;
    struct sbm_points pts = {0};
    struct sbm_error err;
    const char *text = "{\"schema\":\"scalebench/1\",\"type\":\"result\",\"collective\":\"allreduce\","
                       "\"ranks\":2,\"bytes\":8,\"time_us\":{\"median\":1.5},\"wrong\":0}\n"
                       "{\"type\":\"result\",\"collective\":\"allreduce\",\"ranks\":2,\"bytes\":16,"
                       "\"time_us\":{\"median\":1.6},\"wrong\":5,\"error\":null}\n";
    const char *path = write_file("res2", "wrong.jsonl", text);
    assert_int_equal(sbm_results_read(path, &pts, &err), SBM_OK);
    assert_int_equal(pts.n, 1);
    assert_int_equal(pts.skipped, 1);
    assert_true(pts.v[0].bytes == 8);
    path = write_file("res2", "v2.jsonl", "{\"schema\":\"scalebench/2\",\"type\":\"result\","
                      "\"collective\":\"allreduce\",\"ranks\":2,\"bytes\":8,\"time_us\":{\"median\":1}}\n");
    assert_int_equal(sbm_results_read(path, &pts, &err), SBM_BAD_INPUT);
    assert_non_null(strstr(err.msg, "v2.jsonl:1: schema scalebench/2 is not scalebench/1"));
    sbm_points_free(&pts);
    path = write_file("res2", "allwrong.jsonl", strchr(text, '\n') + 1);
    assert_int_equal(sbm_results_read(path, &pts, &err), SBM_BAD_INPUT);
    assert_non_null(strstr(err.msg, "no usable result records (1 failed or with wrong > 0)"));
    sbm_points_free(&pts);
}

static void params_file_is_checked(void **state)
{
    (void)state;
    struct sbm_params p;
    struct sbm_error err;
    const char *path = write_file("par", "p.json", "{\"schema\":\"other\"}");
    assert_int_equal(sbm_params_load(path, &p, &err), SBM_BAD_INPUT);
    path = write_file("par", "q.json", "{\"schema\":\"scalebench-model-params/1\",\"fits\":[{\"collective\":\"allreduce\",\"ranks\":2}]}");
    assert_int_equal(sbm_params_load(path, &p, &err), SBM_BAD_INPUT);
    assert_non_null(strstr(err.msg, "fits[0]"));
    /* a fit `fit` could not have written: refused, not predicted with */
    static const char *const bad[] = {
        "\"ranks\":4,\"alpha_us\":-50,\"bandwidth_gbps\":10,\"algorithm\":\"ring\"",        /* negative alpha */
        "\"ranks\":4294967300,\"alpha_us\":1,\"bandwidth_gbps\":10,\"algorithm\":\"ring\"",  /* no int holds it */
        "\"ranks\":4,\"alpha_us\":1,\"bandwidth_gbps\":10,\"algorithm\":\"bogus\"",
        "\"ranks\":4,\"alpha_us\":1,\"bandwidth_gbps\":10,\"algorithm\":\"bruck\"",         /* not AllReduce's */
        "\"ranks\":4,\"alpha_us\":1,\"bandwidth_gbps\":10,\"algorithm\":\"ring\",\"gamma_gbps\":-1",
    };
    char text[512];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "{\"schema\":\"scalebench-model-params/1\",\"fits\":[{\"collective\":"
                 "\"allreduce\",%s}]}", bad[i]);
        path = write_file("par", "bad.json", text);
        if (sbm_params_load(path, &p, &err) != SBM_BAD_INPUT)
            fail_msg("accepted: %s", bad[i]);
    }
    path = write_file("par", "good.json", "{\"schema\":\"scalebench-model-params/1\",\"fits\":["
                      "{\"collective\":\"allreduce\",\"ranks\":4,\"alpha_us\":0,\"bandwidth_gbps\":10,"
                      "\"algorithm\":\"rabenseifner\",\"gamma_gbps\":null},{\"collective\":\"allgather\","
                      "\"ranks\":4,\"alpha_us\":3,\"bandwidth_gbps\":1,\"algorithm\":\"linear\"}]}");
    assert_int_equal(sbm_params_load(path, &p, &err), SBM_OK);
    assert_int_equal(p.n, 2);
    sbm_params_free(&p);
}

static void sizes_take_binary_suffixes(void **state)
{
    (void)state;
    double b;
    assert_int_equal(sbm_parse_bytes("1K", &b), 0);
    assert_true(b == 1024);
    assert_int_equal(sbm_parse_bytes("8G", &b), 0);
    assert_true(b == 8589934592.0);
    assert_int_equal(sbm_parse_bytes("1KB", &b), 0); /* as the benchmarks spell sizes */
    assert_true(b == 1024);
    assert_int_equal(sbm_parse_bytes("2GiB", &b), 0);
    assert_true(b == 2147483648.0);
    assert_int_equal(sbm_parse_bytes("8B", &b), 0);
    assert_true(b == 8);
    assert_int_equal(sbm_parse_bytes("1KX", &b), -1);
    assert_int_equal(sbm_parse_bytes("1Bi", &b), -1);
    assert_int_equal(sbm_parse_bytes("-1", &b), -1);
    assert_int_equal(sbm_parse_bytes("x", &b), -1);
    assert_int_equal(sbm_parse_bytes("0x10", &b), -1); /* decimal only */
    assert_int_equal(sbm_parse_bytes("1e3", &b), -1);
    assert_int_equal(sbm_parse_bytes("1.5M", &b), 0);
    assert_int_equal(sbm_parse_bytes("0.5", &b), -1); /* no fraction of a byte */
    assert_int_equal(sbm_parse_bytes("1.0001K", &b), -1);
    assert_int_equal(sbm_parse_bytes("8192T", &b), 0); /* 2^53: still exact */
    assert_int_equal(sbm_parse_bytes("8193T", &b), -1);
    assert_int_equal(sbm_parse_bytes("99999999999999999999999T", &b), -1);
    struct sbm_selection s;
    assert_int_equal(sbm_parse_selection("8,64K:1M", &s), 0);
    assert_true(sbm_selection_contains(&s, 8, 1) && sbm_selection_contains(&s, 65536 * 2, 1));
    assert_false(sbm_selection_contains(&s, 16, 1));
    assert_int_equal(sbm_parse_selection("ranks=4", &s), 0);
    assert_true(sbm_selection_contains(&s, 1e9, 4) && !sbm_selection_contains(&s, 1e9, 2));
    assert_int_equal(sbm_parse_selection("ranks=2:4", &s), 0);
    assert_int_equal(sbm_parse_selection("ranks=2x", &s), -1); /* no trailing garbage */
    assert_int_equal(sbm_parse_selection("ranks=nan", &s), -1);
    assert_int_equal(sbm_parse_selection("ranks=2.5", &s), -1);
    assert_int_equal(sbm_parse_selection("ranks=0", &s), -1);
    assert_int_equal(sbm_parse_selection("4M:1M", &s), -1);
    assert_int_equal(sbm_parse_selection("", &s), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(catalog_refuses_bad_files),
        cmocka_unit_test(unknown_system_and_missing_fields),
        cmocka_unit_test(results_name_file_and_line),
        cmocka_unit_test(results_skip_wrong_and_refuse_other_schemas),
        cmocka_unit_test(params_file_is_checked),
        cmocka_unit_test(sizes_take_binary_suffixes),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
