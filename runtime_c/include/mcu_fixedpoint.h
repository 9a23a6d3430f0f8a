/* mcu_fixedpoint.h - TFLM's integer requantization arithmetic as static
 * inline C99, shared by every mcugen kernel.
 *
 * Default: TFLM's MultiplyByQuantizedMultiplier with two roundings
 * (gemmlowp SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT).
 * With MCU_SINGLE_ROUNDING defined: TFLITE_SINGLE_ROUNDING's one 64-bit
 * multiply and one rounding shift. Shifts use TFLM's sign: > 0 is left.
 *
 * Signed overflow is undefined in C99 and a left shift of a negative value
 * too, so wrapping steps go through uint32_t. Right shifts of negative
 * values are implementation-defined; every compiler mcugen targets (gcc,
 * clang, armcc, IAR) shifts arithmetically, which TFLM relies on as well.
 */
#ifndef MCU_FIXEDPOINT_H
#define MCU_FIXEDPOINT_H

#include <stdint.h>

/* the generator writes the rounding the model was lowered for here */
#include "mcu_config.h"

#define MCU_INT32_MIN (-2147483647 - 1)
#define MCU_INT32_MAX 2147483647

static inline int32_t mcu_min_s32(int32_t a, int32_t b) { return a < b ? a : b; }
static inline int32_t mcu_max_s32(int32_t a, int32_t b) { return a > b ? a : b; }

static inline int32_t mcu_clamp_s32(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/* Two's-complement wrapping arithmetic (what TFLM's int32 math does on
 * every real target) without signed-overflow UB. */
static inline int32_t mcu_wrap_add_s32(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static inline int32_t mcu_wrap_sub_s32(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }
static inline int32_t mcu_wrap_mul_s32(int32_t a, int32_t b) { return (int32_t)((uint32_t)a * (uint32_t)b); }
/* x * 2^n wrapped to 32 bits, n in [0, 31]: TFLM's `x * (1 << n)`. */
static inline int32_t mcu_wrap_shl_s32(int32_t x, int32_t n) { return (int32_t)((uint32_t)x << n); }

static inline int32_t mcu_sat_add_s32(int32_t a, int32_t b)
{
    int64_t s = (int64_t)a + b;
    return s > MCU_INT32_MAX ? MCU_INT32_MAX : (s < MCU_INT32_MIN ? MCU_INT32_MIN : (int32_t)s);
}

static inline int32_t mcu_sat_sub_s32(int32_t a, int32_t b)
{
    int64_t s = (int64_t)a - b;
    return s > MCU_INT32_MAX ? MCU_INT32_MAX : (s < MCU_INT32_MIN ? MCU_INT32_MIN : (int32_t)s);
}

static inline int8_t mcu_sat_s8(int32_t x) { return (int8_t)mcu_clamp_s32(x, -128, 127); }
static inline int16_t mcu_sat_s16(int32_t x) { return (int16_t)mcu_clamp_s32(x, -32768, 32767); }

/* gemmlowp SaturatingRoundingDoublingHighMul: round(a * b / 2^31), ties
 * away from zero. gemmlowp nudges by +-2^30 and divides truncating; that is
 * floor((a * b + 2^30) / 2^31) for either sign, which is one shift. */
static inline int32_t mcu_sat_rounding_doubling_high_mul(int32_t a, int32_t b)
{
    if (a == MCU_INT32_MIN && b == MCU_INT32_MIN) return MCU_INT32_MAX;
    return (int32_t)(((int64_t)a * b + ((int64_t)1 << 30)) >> 31);
}

/* The same without the saturation test, for multipliers known to be
 * >= 0 (QuantizeMultiplier never yields INT32_MIN). */
static inline int32_t mcu_rounding_doubling_high_mul(int32_t a, int32_t m)
{
    return (int32_t)(((int64_t)a * m + ((int64_t)1 << 30)) >> 31);
}

/* gemmlowp RoundingDivideByPOT: x / 2^e rounded half away from zero, e in [0, 31]. */
static inline int32_t mcu_rounding_divide_by_pot(int32_t x, int32_t e)
{
    const int32_t mask = (int32_t)(((uint32_t)1 << e) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> e) + (remainder > threshold ? 1 : 0);
}

/* gemmlowp SaturatingRoundingMultiplyByPOT for int32: e > 0 saturating left
 * shift, e < 0 rounding right shift. */
static inline int32_t mcu_sat_rounding_mul_by_pot(int32_t x, int32_t e)
{
    if (e < 0) return mcu_rounding_divide_by_pot(x, -e);
    if (e == 0) return x;
    {
        const int32_t threshold = (int32_t)(((uint32_t)1 << (31 - e)) - 1u);
        if (x > threshold) return MCU_INT32_MAX;
        if (x < -threshold) return MCU_INT32_MIN;
        return mcu_wrap_shl_s32(x, e);
    }
}

/* TFLM MultiplyByQuantizedMultiplier(int32 x, int32 m, int shift), m >= 0,
 * shift in [-31, 30]. */
static inline int32_t mcu_mul_by_quantized_mult(int32_t x, int32_t m, int32_t shift)
{
#ifdef MCU_SINGLE_ROUNDING
    const int32_t total = 31 - shift;
    return (int32_t)(((int64_t)x * m + ((int64_t)1 << (total - 1))) >> total);
#else
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    return mcu_rounding_divide_by_pot(mcu_sat_rounding_doubling_high_mul(mcu_wrap_shl_s32(x, left), m), right);
#endif
}

/* MultiplyByQuantizedMultiplierSmallerThanOneExp (ADD/SUB), left_shift <= 0:
 * the double build skips the left-shift stage altogether. */
static inline int32_t mcu_mul_by_quantized_mult_smaller_than_one(int32_t x, int32_t m, int32_t left_shift)
{
#ifdef MCU_SINGLE_ROUNDING
    return mcu_mul_by_quantized_mult(x, m, left_shift);
#else
    return mcu_rounding_divide_by_pot(mcu_sat_rounding_doubling_high_mul(x, m), -left_shift);
#endif
}

/* MultiplyByQuantizedMultiplierGreaterThanOne, left_shift >= 0. */
static inline int32_t mcu_mul_by_quantized_mult_greater_than_one(int32_t x, int32_t m, int32_t left_shift)
{
#ifdef MCU_SINGLE_ROUNDING
    return mcu_mul_by_quantized_mult(x, m, left_shift);
#else
    return mcu_sat_rounding_doubling_high_mul(mcu_wrap_shl_s32(x, left_shift), m);
#endif
}

/* The general conv-family epilogue: clamp(MultiplyByQuantizedMultiplier(acc)
 * + offset). m >= 0, shift in [-31, 30]. */
static inline int8_t mcu_requantize_s8(int32_t acc, int32_t m, int32_t shift, int32_t out_offset,
                                       int32_t act_min, int32_t act_max)
{
    const int32_t y = mcu_wrap_add_s32(mcu_mul_by_quantized_mult(acc, m, shift), out_offset);
    return (int8_t)mcu_clamp_s32(y, act_min, act_max);
}

/* ---- table-driven requantization (the conv-family kernels) ------------------
 * The code generator writes one triple per output channel
 * (mcugen.codegen.lower_conv.requant_table):
 *   fast form, shift in [-23, -2] (every real conv layer), r = -shift:
 *     {m, r - 1, 2^(r-2) + out_offset * 2^(r-1)}
 *   any other shift: {m, shift - 100, out_offset}   (second entry < 0)
 * m must be 0 or in [2^30, 2^31): QuantizeMultiplier's range (checked there).
 *
 * Why the fast form is TFLM's double rounding bit for bit:
 * RoundingDivideByPOT(h, r) = (h + 2^(r-1) - [h < 0]) >> r, and for m in that
 * range h = SaturatingRoundingDoublingHighMul(acc, m) is negative exactly when
 * acc is (the one exception, acc = -1 with m = 2^30, gives 0 either way).
 * Both roundings then merge into
 *   (high word of (acc * m +- 2^30)  +  2^(r-2)  +  offset * 2^(r-1)) >> (r-1),
 * +2^30 for acc >= 0 and -2^30 for acc < 0: one SMLAL, an add and a shift.
 * The single-rounding build is the same without the +-2^30 term. For
 * r <= 23 the sum cannot overflow. */
static inline int8_t mcu_requant3_s8(int32_t m, int32_t sh, int32_t add, int32_t acc, int32_t act_min,
                                     int32_t act_max)
{
    int32_t y;
    if (sh > 0) {
#ifdef MCU_SINGLE_ROUNDING
        y = (int32_t)(((int64_t)acc * m) >> 32);
#else
        const int32_t nudge = (int32_t)(0x40000000u ^ ((uint32_t)acc & 0x80000000u));
        y = (int32_t)(((int64_t)acc * m + nudge) >> 32);
#endif
        y = (y + add) >> sh;
    } else {
        y = mcu_wrap_add_s32(mcu_mul_by_quantized_mult(acc, m, sh + 100), add);
    }
    return (int8_t)mcu_clamp_s32(y, act_min, act_max);
}

/* The same reading the triple at q. Callers that store int8 between two
 * uses of one triple should load it into locals (mcu_requant3_s8): an int8
 * store may alias the table, which makes the compiler reload it. */
static inline int8_t mcu_requant_tab_s8(const int32_t *q, int32_t acc, int32_t act_min, int32_t act_max)
{
    return mcu_requant3_s8(q[0], q[1], q[2], acc, act_min, act_max);
}

#endif /* MCU_FIXEDPOINT_H */
