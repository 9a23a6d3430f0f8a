/* SOFTMAX int8 -> int8 (zero point -128, scale 1/256) over the last axis,
 * bit-exact with TFLM's reference_ops::Softmax (gemmlowp fixed point).
 *
 * exp(beta * scale * (x - max)) depends only on d = max - x in 0..255, so
 * the generator tabulates gemmlowp's exp_on_negative_values of the
 * rescaled difference (Q0.31; 0 where d is past diff_min, which makes the
 * element add nothing to the sum and come out at -128, as TFLM's skip does).
 * Per row: max, sum of exp in Q12.19, TFLM's GetReciprocal, then one
 * rounding multiply and shift per element. A row is read completely before
 * it is written, element by element, so the output may alias the input. */
#include "mcu_nn_misc.h"
#include "mcu_misc_internal.h"

/* gemmlowp one_over_one_plus_x_for_x_in_0_1 (Newton-Raphson), Q0.31. */
static int32_t one_over_one_plus_x(int32_t a)
{
    /* RoundingHalfSum(a, One) with One = INT32_MAX */
    const int64_t sum = (int64_t)a + INT32_MAX;
    const int32_t half_den = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    /* Q2.29: 48/17 and -32/17 */
    int32_t x = mcu_wrap_add_s32(1515870810, mcu_sat_rounding_doubling_high_mul(half_den, -1010580540));
    int32_t i;
    for (i = 0; i < 3; i++) {
        const int32_t hdx = mcu_sat_rounding_doubling_high_mul(half_den, x);
        const int32_t one_minus = mcu_wrap_sub_s32(1 << 29, hdx);
        x = mcu_wrap_add_s32(x, mcu_sat_rounding_mul_by_pot(mcu_sat_rounding_doubling_high_mul(x, one_minus), 2));
    }
    /* ExactMulByPot<-1> relabels Q2 as Q1; Rescale<0> doubles, saturating */
    return mcu_sat_rounding_mul_by_pot(x, 1);
}

void mcu_softmax_s8(const int8_t *in, int8_t *out, const int32_t *exp_tab, const mcu_softmax_params_t *p)
{
    const int32_t depth = p->depth;
    int32_t r, c;
    for (r = 0; r < p->rows; r++) {
        const int8_t *x = in + r * depth;
        int8_t *y = out + r * depth;
        int32_t mx = -128, sum = 0, headroom, exponent, scale;
        for (c = 0; c < depth; c++) {
            mx = x[c] > mx ? x[c] : mx;
        }
        for (c = 0; c < depth; c++) {
            /* Rescale<12>: rounding right shift of a non-negative Q0.31 */
            sum = mcu_wrap_add_s32(sum, mcu_rounding_divide_by_pot(exp_tab[mx - x[c]], 12));
        }
        /* GetReciprocal(sum, 12): the max element alone contributes 2^19 */
        headroom = mcu_mi_clz32((uint32_t)sum);
        scale = one_over_one_plus_x((int32_t)(((uint32_t)sum << headroom) - 0x80000000u));
        exponent = (12 - headroom) + 31 - 8;
        if (exponent > 31) {
            /* TFLM aborts here (rows of 2048+ near-equal values); stay defined */
            exponent = 31;
        }
        for (c = 0; c < depth; c++) {
            const int32_t e = exp_tab[mx - x[c]];
            const int32_t v = mcu_rounding_divide_by_pot(mcu_sat_rounding_doubling_high_mul(scale, e), exponent) - 128;
            y[c] = (int8_t)(v > 127 ? 127 : v);
        }
    }
}
