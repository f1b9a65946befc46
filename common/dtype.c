#include "dtype.h"

#include <math.h>
#include <string.h>
#include <strings.h>

struct dtype_info {
    const char *name;
    const char *alias[3];
    size_t size;
    int64_t exact_max;
};

/* exact_max: fp16 has an 11-bit significand (integers exact up to 2048), bf16 an 8-bit one
 * (up to 256), fp32 24 bits, fp64 53 bits.  For the integer types the all-ones pattern
 * (-1 signed, max unsigned) is excluded because it is the poison value. */
static const struct dtype_info dtypes[SB_DTYPE_COUNT] = {
    [SB_INT8] = {"int8", {"char", "i8", NULL}, 1, 127},
    [SB_UINT8] = {"uint8", {"u8", NULL, NULL}, 1, 254},
    [SB_INT32] = {"int32", {"int", "i32", NULL}, 4, INT32_MAX},
    [SB_UINT32] = {"uint32", {"u32", NULL, NULL}, 4, (int64_t)UINT32_MAX - 1},
    [SB_INT64] = {"int64", {"long", "i64", NULL}, 8, INT64_MAX / 2},
    [SB_UINT64] = {"uint64", {"u64", NULL, NULL}, 8, INT64_MAX / 2},
    [SB_HALF] = {"half", {"fp16", "float16", NULL}, 2, 2048},
    [SB_BFLOAT16] = {"bfloat16", {"bf16", NULL, NULL}, 2, 256},
    [SB_FLOAT] = {"float", {"fp32", "float32", NULL}, 4, 1 << 24},
    [SB_DOUBLE] = {"double", {"fp64", "float64", NULL}, 8, (int64_t)1 << 53},
};

static const char *op_names[SB_OP_COUNT] = {"sum", "prod", "min", "max", "avg"};

const char *sb_dtype_name(enum sb_dtype t) { return dtypes[t].name; }
size_t sb_dtype_size(enum sb_dtype t) { return dtypes[t].size; }
int64_t sb_dtype_exact_max(enum sb_dtype t) { return dtypes[t].exact_max; }

int sb_dtype_parse(const char *name)
{
    for (int t = 0; t < SB_DTYPE_COUNT; t++) {
        if (strcasecmp(name, dtypes[t].name) == 0)
            return t;
        for (int a = 0; a < 3 && dtypes[t].alias[a]; a++)
            if (strcasecmp(name, dtypes[t].alias[a]) == 0)
                return t;
    }
    return -1;
}

const char *sb_dtype_names(void)
{
    return "int8, uint8, int32, uint32, int64, uint64, half, bfloat16, float, double, all";
}

const char *sb_op_name(enum sb_op op) { return op_names[op]; }

int sb_op_parse(const char *name)
{
    for (int o = 0; o < SB_OP_COUNT; o++)
        if (strcasecmp(name, op_names[o]) == 0)
            return o;
    return -1;
}

const char *sb_op_names(void) { return "sum, prod, min, max, avg, all"; }

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bits_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

uint16_t sb_float_to_bf16(float f)
{
    uint32_t u = float_bits(f);
    if (isnan(f))
        return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fff + ((u >> 16) & 1); /* round to nearest, ties to even */
    return (uint16_t)(u >> 16);
}

float sb_bf16_to_float(uint16_t b) { return bits_float((uint32_t)b << 16); }

uint16_t sb_float_to_half(float f)
{
    uint32_t u = float_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    uint32_t abs = u & 0x7fffffff;
    if (abs > 0x7f800000)
        return sign | 0x7e00;                       /* NaN */
    if (abs >= 0x477ff000)
        return sign | 0x7c00;                       /* rounds to infinity (>= 65520) */
    if (abs < 0x38800000) {
        /* Subnormal half (or zero): the value in units of 2^-24, rounded to nearest even.
         * Scaling by a power of two is exact; 1024 lands on the smallest normal, 0x0400. */
        float units = nearbyintf(bits_float(abs) * 16777216.0f);
        return sign | (uint16_t)units;
    }
    uint32_t h = ((abs >> 13) - (112u << 10));     /* rebias exponent 127 -> 15 */
    uint32_t rem = abs & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
        h++;
    return sign | (uint16_t)h;
}

float sb_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    if (exp == 0x1f)
        return bits_float(sign | 0x7f800000 | (mant << 13));
    if (exp == 0) {
        float v = ldexpf((float)mant, -24);
        return sign ? -v : v;
    }
    return bits_float(sign | ((exp + 112) << 23) | (mant << 13));
}

void sb_dtype_store(enum sb_dtype t, void *buf, size_t i, int64_t v)
{
    switch (t) {
    case SB_INT8: ((int8_t *)buf)[i] = (int8_t)v; break;
    case SB_UINT8: ((uint8_t *)buf)[i] = (uint8_t)v; break;
    case SB_INT32: ((int32_t *)buf)[i] = (int32_t)v; break;
    case SB_UINT32: ((uint32_t *)buf)[i] = (uint32_t)v; break;
    case SB_INT64: ((int64_t *)buf)[i] = v; break;
    case SB_UINT64: ((uint64_t *)buf)[i] = (uint64_t)v; break;
    case SB_HALF: ((uint16_t *)buf)[i] = sb_float_to_half((float)v); break;
    case SB_BFLOAT16: ((uint16_t *)buf)[i] = sb_float_to_bf16((float)v); break;
    case SB_FLOAT: ((float *)buf)[i] = (float)v; break;
    case SB_DOUBLE: ((double *)buf)[i] = (double)v; break;
    default: break;
    }
}

int sb_dtype_equals(enum sb_dtype t, const void *buf, size_t i, int64_t v)
{
    switch (t) {
    case SB_INT8: return ((const int8_t *)buf)[i] == (int8_t)v;
    case SB_UINT8: return ((const uint8_t *)buf)[i] == (uint8_t)v;
    case SB_INT32: return ((const int32_t *)buf)[i] == (int32_t)v;
    case SB_UINT32: return ((const uint32_t *)buf)[i] == (uint32_t)v;
    case SB_INT64: return ((const int64_t *)buf)[i] == v;
    case SB_UINT64: return ((const uint64_t *)buf)[i] == (uint64_t)v;
    case SB_HALF: return ((const uint16_t *)buf)[i] == sb_float_to_half((float)v);
    case SB_BFLOAT16: return ((const uint16_t *)buf)[i] == sb_float_to_bf16((float)v);
    case SB_FLOAT: return ((const float *)buf)[i] == (float)v;
    case SB_DOUBLE: return ((const double *)buf)[i] == (double)v;
    default: return 0;
    }
}

/* NCCL's pre-multiplied term u * s for u = c * ranks, rounded once to the dtype (the products of
 * half and bfloat16 operands are exact in float, so rounding the float product is the device's
 * single rounding), compared with c. */
static int avg_term_is_exact(enum sb_dtype t, int64_t ranks, int64_t c)
{
    double inv = 1.0 / (double)ranks;
    double u = (double)(c * ranks);
    switch (t) {
    case SB_HALF: {
        float s = sb_half_to_float(sb_float_to_half((float)inv));
        return sb_half_to_float(sb_float_to_half((float)u * s)) == (float)c;
    }
    case SB_BFLOAT16: {
        float s = sb_bf16_to_float(sb_float_to_bf16((float)inv));
        return sb_bf16_to_float(sb_float_to_bf16((float)u * s)) == (float)c;
    }
    case SB_FLOAT: {
        volatile float s = (float)inv, x = (float)u, prod = x * s; /* volatile: no wider evaluation */
        return prod == (float)c;
    }
    case SB_DOUBLE: {
        volatile double prod = u * inv;
        return prod == (double)c;
    }
    default:
        return 1; /* integer types: (c * ranks) / ranks */
    }
}

/* v stored in t is exactly v (for half and bfloat16 also beyond exact_max: 300 is a bfloat16). */
static int holds_exactly(enum sb_dtype t, int64_t v)
{
    switch (t) {
    case SB_HALF: return v <= 65504 && sb_half_to_float(sb_float_to_half((float)v)) == (float)v;
    case SB_BFLOAT16: return v <= ((int64_t)1 << 40) && sb_bf16_to_float(sb_float_to_bf16((float)v)) == (float)v;
    default: return v <= sb_dtype_exact_max(t);
    }
}

int64_t sb_dtype_avg_unit(enum sb_dtype t, int64_t ranks)
{
    /* Called per element by the host fill and check: the last answer is kept (per thread, for
     * the threads build). */
    static _Thread_local struct { enum sb_dtype t; int64_t ranks, unit; int valid; } memo;
    if (memo.valid && memo.t == t && memo.ranks == ranks)
        return memo.unit;
    int64_t unit = 0;
    for (int64_t c = 1; ranks > 0 && c <= 4096 && c <= sb_dtype_exact_max(t); c++)
        if (holds_exactly(t, c * ranks) && avg_term_is_exact(t, ranks, c)) {
            unit = c * ranks;
            break;
        }
    memo.t = t;
    memo.ranks = ranks;
    memo.unit = unit;
    memo.valid = 1;
    return unit;
}
