/* sb_local's kernels: exact reductions for every dtype and k, the pattern the device fill shares
 * with the host, the copy, the bandwidth arithmetic and the option errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "local_bw.h"
#include "local_kernels.h"

/* A reduction of 3000 elements (more than one 2048-element block, and not a multiple of it). */
static int64_t reduce_wrong(enum sb_dtype t, int k, int threads)
{
    struct sb_lpool *pool = sb_lpool_create(threads);
    assert_non_null(pool);
    struct sb_local_buf b;
    assert_int_equal(sb_local_buf_init(&b, SB_LT_REDUCE, t, k, 3000 * sb_dtype_size(t), pool), 0);
    assert_int_equal(b.count, 3000);
    int64_t wrong = sb_local_verify(&b);
    sb_local_buf_free(&b);
    sb_lpool_destroy(pool);
    return wrong;
}

static void every_dtype_reduces_exactly_for_k_2_to_4(void **state)
{
    (void)state;
    for (int t = 0; t < SB_DTYPE_COUNT; t++)
        for (int k = 2; k <= 4; k++) {
            int64_t w = reduce_wrong((enum sb_dtype)t, k, 1);
            if (w != 0)
                fail_msg("%s k=%d: %lld wrong", sb_dtype_name((enum sb_dtype)t), k, (long long)w);
        }
}

static void threads_and_k_16_reduce_exactly(void **state)
{
    (void)state;
    assert_int_equal(reduce_wrong(SB_FLOAT, 2, 3), 0);
    assert_int_equal(reduce_wrong(SB_HALF, 16, 2), 0);
    assert_int_equal(reduce_wrong(SB_INT8, 16, 4), 0);
}

/* The pattern's sums stay exactly representable, so an exact comparison is fair. */
static void expected_sums_fit_the_exact_range(void **state)
{
    (void)state;
    for (int t = 0; t < SB_DTYPE_COUNT; t++)
        for (int k = 2; k <= SB_LOCAL_MAX_K; k++)
            for (size_t i = 0; i < 5000; i += 7)
                assert_true(sb_local_expected((enum sb_dtype)t, k, i) <= sb_dtype_exact_max((enum sb_dtype)t));
}

/* The device fill kernel writes SB_LOCAL_PATTERN(i, j, sb_local_modulus(t, k)); the host check
 * (sb_local_expected) must be the sum of exactly that, and the sums must stay exact. */
static void device_pattern_is_the_host_pattern(void **state)
{
    (void)state;
    for (int t = 0; t < SB_DTYPE_COUNT; t++)
        for (int k = 2; k <= SB_LOCAL_MAX_K; k++) {
            enum sb_dtype d = (enum sb_dtype)t;
            uint64_t m = sb_local_modulus(d, k);
            assert_true(m >= 1 && m <= 65521 && (int64_t)(m - 1) * k <= sb_dtype_exact_max(d));
            for (size_t i = 0; i < 70000; i += 997) {
                int64_t sum = 0;
                for (int j = 0; j < k; j++) {
                    assert_int_equal(sb_local_value(d, k, j, i), (int64_t)SB_LOCAL_PATTERN(i, j, m));
                    sum += (int64_t)((i + 7 * (size_t)j) % m);
                }
                assert_int_equal(sb_local_expected(d, k, i), sum);
            }
        }
    assert_int_equal(sb_local_modulus(SB_FLOAT, 2), 65521);
    assert_int_equal(sb_local_modulus(SB_HALF, 2), 1024);
    assert_int_equal(sb_local_modulus(SB_BFLOAT16, 16), 16);
    assert_int_equal(sb_local_modulus(SB_INT8, 2), 63);
    assert_int_equal(sb_local_expected(SB_INT32, 2, 10), 10 + 17);
    assert_int_equal(sb_local_expected(SB_INT8, 3, 40), 40 + 5 + 12); /* m = 42: 47 % 42, 54 % 42 */
}

/* dreduce takes k and a dtype like reduce; sb_local_buf_init leaves its buffers to the device code. */
static void dreduce_buffers_are_sized_like_reduce(void **state)
{
    (void)state;
    struct sb_local_buf b;
    assert_int_equal(sb_local_buf_init(&b, SB_LT_DREDUCE, SB_HALF, 5, 1001, NULL), 0);
    assert_int_equal(b.k, 5);
    assert_int_equal(b.count, 500);
    assert_int_equal(b.bytes, 1000);
    assert_null(b.in[0]);
    assert_null(b.out);
    sb_local_buf_free(&b);
}

/* A wrong result is seen: the reduction of a corrupted input differs. */
static void a_corrupted_input_is_counted(void **state)
{
    (void)state;
    struct sb_local_buf b;
    assert_int_equal(sb_local_buf_init(&b, SB_LT_REDUCE, SB_INT32, 2, 400, NULL), 0);
    ((int32_t *)b.in[1])[5] += 1;
    ((int32_t *)b.in[0])[99] += 3;
    assert_int_equal(sb_local_verify(&b), 2);
    sb_local_buf_free(&b);
}

static void memcpy_copies_every_byte(void **state)
{
    (void)state;
    struct sb_lpool *pool = sb_lpool_create(2);
    struct sb_local_buf b;
    assert_int_equal(sb_local_buf_init(&b, SB_LT_MEMCPY, SB_FLOAT, 2, 100003, pool), 0);
    assert_int_equal(b.bytes, 100003);
    assert_int_equal(b.k, 1);
    assert_int_equal(sb_local_verify(&b), 0);
    ((uint8_t *)b.in[0])[777] = 0xfe; /* the source changed after the pattern: 1 byte differs */
    assert_int_equal(sb_local_verify(&b), 1);
    sb_local_buf_free(&b);
    sb_lpool_destroy(pool);
}

static void bandwidth_is_bytes_over_time(void **state)
{
    (void)state;
    assert_true(fabs(sb_local_gbps(1000000000, 1e6) - 1.0) < 1e-12);    /* 1 GB in 1 s */
    assert_true(fabs(sb_local_gbps(1 << 20, 100.0) - 10.48576) < 1e-9); /* 1 MiB in 100 us */
    assert_true(sb_local_gbps(1024, 0.0) == 0.0);
}

static void sizes_round_down_to_whole_elements(void **state)
{
    (void)state;
    struct sb_local_buf b;
    assert_int_equal(sb_local_buf_init(&b, SB_LT_REDUCE, SB_DOUBLE, 3, 1001, NULL), 0);
    assert_int_equal(b.count, 125);
    assert_int_equal(b.bytes, 1000);
    sb_local_buf_free(&b);
}

static void timing_counts_fixed_iterations(void **state)
{
    (void)state;
    struct sb_local_options o;
    char err[256];
    char *argv[] = {"sb_local", "-n", "7", "-w", "1", NULL};
    assert_int_equal(sb_local_parse(&o, 5, argv, err, sizeof err), 0);
    struct sb_local_buf b;
    assert_int_equal(sb_local_buf_init(&b, SB_LT_MEMCPY, SB_FLOAT, 2, 4096, NULL), 0);
    struct sb_local_timing t;
    assert_int_equal(sb_local_time(&b, &o, &t), 0);
    assert_int_equal(t.n, 7);
    assert_true(t.stats.min > 0 && t.stats.min <= t.stats.median && t.stats.median <= t.stats.max);
    sb_local_timing_free(&t);
    sb_local_buf_free(&b);
}

static int parse(const char *line, struct sb_local_options *o, char *err, size_t errlen)
{
    static char buf[512];
    char *argv[32];
    int argc = 0;
    snprintf(buf, sizeof buf, "%s", line);
    for (char *tok = strtok(buf, " "); tok && argc < 31; tok = strtok(NULL, " "))
        argv[argc++] = tok;
    argv[argc] = NULL;
    err[0] = '\0';
    return sb_local_parse(o, argc, argv, err, errlen);
}

static void defaults_and_good_options(void **state)
{
    (void)state;
    struct sb_local_options o;
    char err[256];
    assert_int_equal(parse("sb_local", &o, err, sizeof err), 0);
    assert_true(o.tests_all && o.tests[SB_LT_MEMCPY] && o.tests[SB_LT_D2D]);
    assert_int_equal(o.k, 2);
    assert_int_equal(o.threads, 1);
    assert_true(o.dtypes[SB_FLOAT] && !o.dtypes[SB_HALF]);
    assert_int_equal(parse("sb_local --test reduce,h2d -b 4K -e 1M -f 4 -d half,int8 -k 4 --threads 2 --json x",
                           &o, err, sizeof err), 0);
    assert_true(!o.tests_all && o.tests[SB_LT_REDUCE] && o.tests[SB_LT_H2D] && !o.tests[SB_LT_MEMCPY]);
    assert_int_equal(o.min_bytes, 4096);
    assert_int_equal(o.max_bytes, 1 << 20);
    assert_int_equal(o.step_factor, 4);
    assert_true(o.dtypes[SB_HALF] && o.dtypes[SB_INT8] && !o.dtypes[SB_FLOAT]);
    assert_int_equal(o.k, 4);
    assert_string_equal(o.json_path, "x");
    assert_int_equal(parse("sb_local --test dreduce -k 8 -d bf16", &o, err, sizeof err), 0);
    assert_true(!o.tests_all && o.tests[SB_LT_DREDUCE] && !o.tests[SB_LT_REDUCE] && o.dtypes[SB_BFLOAT16]);
    assert_int_equal(o.k, 8);
}

static void bad_options_give_2_and_one_line(void **state)
{
    (void)state;
    static const char *bad[][2] = {
        {"sb_local --test bogus", "invalid --test 'bogus'"},
        {"sb_local -b 12Q", "invalid --minbytes '12Q'"},
        {"sb_local -e 0", "invalid --maxbytes '0'"},
        {"sb_local -b 1M -e 1K", "--minbytes 1048576 is larger than --maxbytes 1024"},
        {"sb_local -k 1", "invalid --buffers '1'"},
        {"sb_local -k 17", "invalid --buffers '17'"},
        {"sb_local -d float,quad", "invalid --datatype 'float,quad'"},
        {"sb_local --threads 0", "invalid --threads '0'"},
        {"sb_local -f 1", "invalid --stepfactor '1'"},
        {"sb_local --frobnicate", "unknown option '--frobnicate'"},
        {"sb_local -n", "missing value for option '-n'"},
        {"sb_local extra", "unexpected argument 'extra'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct sb_local_options o;
        char err[256];
        assert_int_equal(parse(bad[i][0], &o, err, sizeof err), 2);
        if (!strstr(err, bad[i][1]) || strchr(err, '\n'))
            fail_msg("'%s': got '%s', want '%s'", bad[i][0], err, bad[i][1]);
    }
}

static void test_names_round_trip(void **state)
{
    (void)state;
    for (int t = 0; t < SB_LT_COUNT; t++)
        assert_int_equal(sb_local_test_parse(sb_local_test_name((enum sb_local_test)t)), t);
    assert_int_equal(sb_local_test_parse("nope"), -1);
    assert_false(sb_local_test_is_device(SB_LT_REDUCE));
    assert_true(sb_local_test_is_device(SB_LT_D2H));
    assert_int_equal(sb_local_test_parse("dreduce"), SB_LT_DREDUCE);
    assert_true(sb_local_test_is_device(SB_LT_DREDUCE) && sb_local_test_is_reduce(SB_LT_DREDUCE));
    assert_true(sb_local_test_is_reduce(SB_LT_REDUCE));
    assert_false(sb_local_test_is_reduce(SB_LT_D2D) || sb_local_test_is_reduce(SB_LT_MEMCPY));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_dtype_reduces_exactly_for_k_2_to_4),
        cmocka_unit_test(threads_and_k_16_reduce_exactly),
        cmocka_unit_test(expected_sums_fit_the_exact_range),
        cmocka_unit_test(device_pattern_is_the_host_pattern),
        cmocka_unit_test(dreduce_buffers_are_sized_like_reduce),
        cmocka_unit_test(a_corrupted_input_is_counted),
        cmocka_unit_test(memcpy_copies_every_byte),
        cmocka_unit_test(bandwidth_is_bytes_over_time),
        cmocka_unit_test(sizes_round_down_to_whole_elements),
        cmocka_unit_test(timing_counts_fixed_iterations),
        cmocka_unit_test(defaults_and_good_options),
        cmocka_unit_test(bad_options_give_2_and_one_line),
        cmocka_unit_test(test_names_round_trip),
    };
    return cmocka_run_group_tests_name("local_bw", tests, NULL, NULL);
}
