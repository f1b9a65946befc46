/* Element types: names, sizes, fp16/bf16 conversions, exact storage of small integers. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dtype.h"

static void names_round_trip(void **state)
{
    (void)state;
    for (int t = 0; t < SB_DTYPE_COUNT; t++)
        assert_int_equal(sb_dtype_parse(sb_dtype_name(t)), t);
    assert_int_equal(sb_dtype_parse("fp16"), SB_HALF);
    assert_int_equal(sb_dtype_parse("bf16"), SB_BFLOAT16);
    assert_int_equal(sb_dtype_parse("fp32"), SB_FLOAT);
    assert_int_equal(sb_dtype_parse("nope"), -1);
    for (int op = 0; op < SB_OP_COUNT; op++)
        assert_int_equal(sb_op_parse(sb_op_name(op)), op);
    assert_int_equal(sb_op_parse("avg"), SB_AVG);
    assert_int_equal(sb_op_parse("mean"), -1);
}

static void sizes_are_right(void **state)
{
    (void)state;
    assert_int_equal(sb_dtype_size(SB_INT8), 1);
    assert_int_equal(sb_dtype_size(SB_HALF), 2);
    assert_int_equal(sb_dtype_size(SB_BFLOAT16), 2);
    assert_int_equal(sb_dtype_size(SB_UINT32), 4);
    assert_int_equal(sb_dtype_size(SB_DOUBLE), 8);
}

static void half_conversions_match_ieee(void **state)
{
    (void)state;
    assert_int_equal(sb_float_to_half(1.0f), 0x3c00);
    assert_int_equal(sb_float_to_half(-2.0f), 0xc000);
    assert_int_equal(sb_float_to_half(65504.0f), 0x7bff);
    assert_int_equal(sb_float_to_half(65520.0f), 0x7c00);    /* rounds to infinity */
    assert_int_equal(sb_float_to_half(5.9604645e-8f), 0x0001); /* smallest subnormal */
    assert_int_equal(sb_float_to_half(2049.0f), 0x6800);     /* tie to even: 2048 */
    assert_int_equal(sb_float_to_half(2051.0f), 0x6802);     /* tie to even: 2052 */
    assert_true(isnan(sb_half_to_float(sb_float_to_half(NAN))));
    for (int v = -2048; v <= 2048; v++)
        assert_true(sb_half_to_float(sb_float_to_half((float)v)) == (float)v);
    for (uint32_t h = 0; h < 0x7c00; h++) /* every finite positive half survives a round trip */
        assert_int_equal(sb_float_to_half(sb_half_to_float((uint16_t)h)), h);
}

static void bf16_conversions_match(void **state)
{
    (void)state;
    assert_int_equal(sb_float_to_bf16(1.0f), 0x3f80);
    assert_int_equal(sb_float_to_bf16(257.0f), 0x4380); /* tie to even: 256 */
    for (int v = -256; v <= 256; v++)
        assert_true(sb_bf16_to_float(sb_float_to_bf16((float)v)) == (float)v);
}

static void exact_integers_store_and_compare(void **state)
{
    (void)state;
    unsigned char buf[64];
    for (int t = 0; t < SB_DTYPE_COUNT; t++) {
        int64_t top = sb_dtype_exact_max(t);
        int64_t probes[] = {0, 1, 2, 7, top - 1, top};
        for (size_t k = 0; k < sizeof probes / sizeof *probes; k++) {
            sb_dtype_store(t, buf, 3, probes[k]);
            assert_true(sb_dtype_equals(t, buf, 3, probes[k]));
            assert_false(sb_dtype_equals(t, buf, 3, probes[k] == 0 ? 1 : probes[k] - 1));
        }
        memset(buf, 0xff, sizeof buf); /* the poison equals no exact value */
        for (size_t k = 0; k < sizeof probes / sizeof *probes; k++)
            assert_false(sb_dtype_equals(t, buf, 3, probes[k]));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_round_trip),
        cmocka_unit_test(sizes_are_right),
        cmocka_unit_test(half_conversions_match_ieee),
        cmocka_unit_test(bf16_conversions_match),
        cmocka_unit_test(exact_integers_store_and_compare),
    };
    return cmocka_run_group_tests_name("dtype", tests, NULL, NULL);
}
