/* Command-line parsing: good values, bad values, and the one-line errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "options.h"

static int parse(struct sb_options *o, bool reduces, char *err, ...)
{
    char *argv[32] = {"sb_test"};
    int argc = 1;
    va_list ap;
    va_start(ap, err);
    for (char *a; (a = va_arg(ap, char *)) != NULL;)
        argv[argc++] = a;
    va_end(ap);
    return sb_options_parse(o, reduces, argc, argv, err, 256);
}

static void defaults_are_nccl_tests_like(void **state)
{
    (void)state;
    struct sb_options o;
    char err[256];
    assert_int_equal(parse(&o, true, err, NULL), 0);
    assert_int_equal(o.min_bytes, 8);
    assert_int_equal(o.max_bytes, 64u << 20);
    assert_int_equal(o.step_factor, 2);
    assert_int_equal(o.iters, 0); /* adaptive */
    assert_true(o.precision == 0.02 && o.max_time == 1.0);
    assert_true(o.dtypes[SB_FLOAT] && !o.dtypes[SB_DOUBLE]);
    assert_true(o.ops[SB_SUM] && !o.ops[SB_MAX] && !o.ops[SB_AVG] && !o.ops_all);
    assert_int_equal(o.inplace, SB_BOTH_PLACES);
    assert_true(o.check);
}

static void sizes_take_binary_suffixes(void **state)
{
    (void)state;
    size_t v;
    assert_int_equal(sb_parse_size("64K", &v), 0);
    assert_int_equal(v, 65536);
    assert_int_equal(sb_parse_size("1M", &v), 0);
    assert_int_equal(v, 1048576);
    assert_int_equal(sb_parse_size("2GiB", &v), 0);
    assert_int_equal(v, 2147483648u);
    assert_int_equal(sb_parse_size("0.5K", &v), 0);
    assert_int_equal(v, 512);
    assert_int_equal(sb_parse_size("abc", &v), -1);
    assert_int_equal(sb_parse_size("-8", &v), -1);
    assert_int_equal(sb_parse_size("8Q", &v), -1);
    assert_int_equal(sb_parse_size("", &v), -1);
    assert_int_equal(sb_parse_size("1.3", &v), -1);
    /* decimal only: strtod's other forms are not sizes */
    assert_int_equal(sb_parse_size("0x10", &v), -1);
    assert_int_equal(sb_parse_size("1e3", &v), -1);
    assert_int_equal(sb_parse_size(" 8", &v), -1);
    assert_int_equal(sb_parse_size("1.2.3", &v), -1);
    assert_int_equal(sb_parse_size("inf", &v), -1);
}

static void full_command_line_is_read(void **state)
{
    (void)state;
    struct sb_options o;
    char err[256];
    assert_int_equal(parse(&o, true, err, "-b", "1K", "-e", "4M", "-f", "4", "-n", "50", "-w", "3", "-d", "half,int8",
                           "-o", "all", "--inplace", "1", "-c", "0", "--json", "x.jsonl", "--csv", "-", NULL),
                     0);
    assert_int_equal(o.min_bytes, 1024);
    assert_int_equal(o.max_bytes, 4u << 20);
    assert_int_equal(o.step_factor, 4);
    assert_int_equal(o.iters, 50);
    assert_int_equal(o.warmup, 3);
    assert_true(o.dtypes[SB_HALF] && o.dtypes[SB_INT8] && !o.dtypes[SB_FLOAT]);
    for (int op = 0; op < SB_OP_COUNT; op++)
        assert_true(o.ops[op]);
    assert_true(o.ops_all); /* all: the backend's ops (avg dropped on MPI) */
    assert_int_equal(o.inplace, SB_IN_PLACE);
    assert_false(o.check);
    assert_string_equal(o.json_path, "x.jsonl");
    assert_string_equal(o.csv_path, "-");
}

static void size_list_is_read(void **state)
{
    (void)state;
    struct sb_options o;
    char err[256];
    assert_int_equal(parse(&o, true, err, "--sizes", "8,1K,3M", NULL), 0);
    assert_int_equal(o.n_sizes, 3);
    assert_int_equal(o.sizes[2], 3u << 20);
    assert_int_equal(parse(&o, true, err, "--sizes", "8,x", NULL), 2);
    assert_non_null(strstr(err, "'x'"));
}

static void expect_error(bool reduces, const char *needle, char *a, char *b)
{
    struct sb_options o;
    char err[256] = "";
    assert_int_equal(parse(&o, reduces, err, a, b, NULL), 2);
    if (!strstr(err, needle))
        fail_msg("error '%s' does not mention '%s'", err, needle);
    assert_null(strchr(err, '\n')); /* one line */
}

static void bad_values_are_refused_with_the_accepted_ones(void **state)
{
    (void)state;
    expect_error(true, "--minbytes 'abc'", "-b", "abc");
    expect_error(true, "--maxbytes '-5'", "-e", "-5");
    expect_error(true, "integer >= 2", "-f", "1");
    expect_error(true, "bfloat16", "-d", "float128");
    expect_error(true, "sum, prod, min, max, avg", "-o", "mean");
    expect_error(false, "does not apply", "-o", "sum");
    expect_error(true, "0 (out-of-place)", "--inplace", "3");
    expect_error(true, "--check '2'", "-c", "2");
    expect_error(true, "--iters '0'", "-n", "0");
    expect_error(true, "unknown option", "--frobnicate", NULL);
    expect_error(true, "needs a value", "-b", NULL);
    expect_error(true, "unexpected argument 'extra'", "extra", NULL);
    expect_error(true, "--bind 'socket'", "--bind", "socket");
    expect_error(true, "--mem-node 'far'", "--mem-node", "far");
    expect_error(true, "accepted: mpi, nccl", "--backend", "gloo");
    expect_error(true, "accepted: host, device, pinned", "--memory", "managed");
    expect_error(true, "invalid --device '-1'", "--device", "-1");
    expect_error(true, "invalid --progress '2'", "--progress", "2");
    expect_error(true, "invalid --timeout 'soon'", "-T", "soon");
    expect_error(true, "both name 'r.out'", "--json=r.out", "--csv=r.out");
}

static void backend_memory_defaults_follow_the_backend(void **state)
{
    (void)state;
    struct sb_options o;
    char err[256];
    assert_int_equal(parse(&o, true, err, NULL), 0);
    assert_string_equal(o.backend, "mpi");
    assert_string_equal(o.memory, "host");
    assert_int_equal(o.device, -1);
    assert_int_equal(parse(&o, true, err, "--backend", "nccl", NULL), 0);
    assert_string_equal(o.memory, "device");
    assert_int_equal(parse(&o, true, err, "--backend", "nccl", "--device", "3", "-T", "2.5", NULL), 0);
    assert_int_equal(o.device, 3);
    assert_true(o.timeout == 2.5);
    assert_int_equal(parse(&o, true, err, "--memory", "pinned", NULL), 0);
    assert_string_equal(o.backend, "mpi");
    assert_string_equal(o.memory, "pinned");
    assert_int_equal(parse(&o, true, err, "--memory", "device", "--device", "0", NULL), 0);
    assert_string_equal(o.memory, "device");
}

static void min_larger_than_max_is_refused(void **state)
{
    (void)state;
    struct sb_options o;
    char err[256];
    assert_int_equal(parse(&o, true, err, "-b", "1M", "-e", "1K", NULL), 2);
    assert_non_null(strstr(err, "larger than --maxbytes"));
}

/* A sweep longer than one run measures is refused, not cut short after SB_MAX_SWEEP sizes. */
static void overlong_sweep_is_refused(void **state)
{
    (void)state;
    struct sb_options o;
    char err[256];
    assert_int_equal(parse(&o, true, err, "-b", "1", "-e", "1024", "-i", "1", NULL), 0); /* exactly 1024 */
    assert_int_equal(parse(&o, true, err, "-b", "1", "-e", "1025", "-i", "1", NULL), 2);
    assert_non_null(strstr(err, "more than 1024 sizes"));
    assert_int_equal(parse(&o, true, err, "-b", "1", "-e", "1T", NULL), 0); /* 41 sizes by 2 */
}

/* --sizes replaces the range: a -b, -e, -f or -i beside it would be ignored, so it is refused. */
static void size_list_and_range_do_not_mix(void **state)
{
    (void)state;
    struct sb_options o;
    char err[256];
    assert_int_equal(parse(&o, true, err, "--sizes", "8", "-b", "1M", NULL), 2);
    assert_non_null(strstr(err, "does not go with -b, -e, -f or -i"));
    assert_int_equal(parse(&o, true, err, "-e", "2M", "--sizes", "8", NULL), 2);
    assert_int_equal(parse(&o, true, err, "--sizes", "8", "-i", "8", NULL), 2);
    assert_int_equal(parse(&o, true, err, "--sizes", "8", "-f", "4", NULL), 2);
}

static void format_size_is_compact(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(sb_format_size(8, buf, sizeof buf), "8");
    assert_string_equal(sb_format_size(65536, buf, sizeof buf), "64K");
    assert_string_equal(sb_format_size(3u << 20, buf, sizeof buf), "3M");
    assert_string_equal(sb_format_size(1000, buf, sizeof buf), "1000");
}

static void off_cache_sizes_auto_and_refusals(void **state)
{
    (void)state;
    struct sb_options o;
    char err[256];
    assert_int_equal(parse(&o, true, err, NULL), 0);
    assert_true(o.off_cache == 0 && !o.off_cache_auto); /* default: the same buffers every call */
    assert_int_equal(parse(&o, true, err, "--off-cache", "256M", NULL), 0);
    assert_true(o.off_cache == 256u << 20 && !o.off_cache_auto && o.timing_mode == SB_TIME_PER_CALL);
    assert_int_equal(parse(&o, true, err, "--off-cache", "64M", "--off-cache", "auto", NULL), 0);
    assert_true(o.off_cache == 0 && o.off_cache_auto); /* the last one counts */
    assert_int_equal(parse(&o, true, err, "--off-cache", "0", NULL), 0);
    assert_true(o.off_cache == 0 && !o.off_cache_auto);
    expect_error(true, "invalid --off-cache 'big'", "--off-cache", "big");
    expect_error(true, "does not go with --timing", "--timing=both", "--off-cache=1M");
    expect_error(true, "not device memory", "--memory=device", "--off-cache=1M");
}

static void sync_barrier_or_window(void **state)
{
    (void)state;
    struct sb_options o;
    char err[256];
    assert_int_equal(parse(&o, true, err, NULL), 0);
    assert_false(o.sync_window); /* default: a barrier starts each iteration */
    assert_int_equal(parse(&o, true, err, "--sync", "window", NULL), 0);
    assert_true(o.sync_window && o.timing_mode == SB_TIME_PER_CALL);
    assert_int_equal(parse(&o, true, err, "--sync", "window", "--sync", "barrier", NULL), 0);
    assert_false(o.sync_window);
    expect_error(true, "invalid --sync 'now'", "--sync", "now");
    expect_error(true, "does not go with --timing", "--timing=batch", "--sync=window");
    expect_error(true, "not device memory", "--memory=device", "--sync=window");
}

static void timing_modes_and_batches(void **state)
{
    (void)state;
    struct sb_options o;
    char err[256];
    assert_int_equal(parse(&o, true, err, NULL), 0);
    assert_int_equal(o.timing_mode, SB_TIME_PER_CALL); /* host memory */
    assert_int_equal(o.batch, 20);
    assert_false(o.timing_given);
    assert_int_equal(parse(&o, true, err, "--backend", "nccl", NULL), 0);
    assert_int_equal(o.timing_mode, SB_TIME_BOTH); /* device memory: nccl-tests' number too */
    assert_int_equal(parse(&o, true, err, "--timing", "batch", "--batch", "7", NULL), 0);
    assert_true(o.timing_mode == SB_TIME_BATCH && o.batch == 7 && o.timing_given);
    assert_int_equal(parse(&o, true, err, "--graph", "12", NULL), 0);
    assert_true(o.timing_mode == SB_TIME_BOTH && o.batch == 12 && o.graph == 12); /* a graph is a batch */
    assert_int_equal(parse(&o, true, err, "--graph", "4", "--timing", "per-call", NULL), 2);
    assert_non_null(strstr(err, "does not go with --timing per-call"));
    assert_int_equal(parse(&o, true, err, "--timing", "sometimes", NULL), 2);
    assert_non_null(strstr(err, "accepted: per-call, batch, both"));
    assert_int_equal(parse(&o, true, err, "--batch", "0", NULL), 2);
    assert_int_equal(parse(&o, true, err, "--level", "switch", NULL), 2);
    assert_int_equal(parse(&o, true, err, "--level", "rank", "--background", "alltoall", "--background-bytes", "4M",
                           NULL), 0);
    assert_true(strcmp(o.level, "rank") == 0 && strcmp(o.background, "alltoall") == 0 &&
                o.background_bytes == 4u << 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_nccl_tests_like),
        cmocka_unit_test(sizes_take_binary_suffixes),
        cmocka_unit_test(full_command_line_is_read),
        cmocka_unit_test(size_list_is_read),
        cmocka_unit_test(bad_values_are_refused_with_the_accepted_ones),
        cmocka_unit_test(min_larger_than_max_is_refused),
        cmocka_unit_test(backend_memory_defaults_follow_the_backend),
        cmocka_unit_test(overlong_sweep_is_refused),
        cmocka_unit_test(size_list_and_range_do_not_mix),
        cmocka_unit_test(format_size_is_compact),
        cmocka_unit_test(timing_modes_and_batches),
        cmocka_unit_test(off_cache_sizes_auto_and_refusals),
        cmocka_unit_test(sync_barrier_or_window),
    };
    return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
