/* MEAN on int8, as TFLM's QuantizedMeanOrSum: an int32 sum of the raw
 * values over the reduced axes, then
 * MultiplyByQuantizedMultiplier(sum - zp * count, m, s) + output zp,
 * clamped, with 1/count folded into m and s by the generator. (TFLM takes
 * this path even when input and output quantization are equal.) */
#include "mcu_nn_misc.h"
#include "mcu_fixedpoint.h"

static int32_t mean_sum(const int8_t *base, const mcu_mean_params_t *p)
{
    const int32_t n2 = p->red[2], s2 = p->red_step[2];
    int32_t acc = 0, r0, r1;
    for (r0 = 0; r0 < p->red[0]; r0++) {
        for (r1 = 0; r1 < p->red[1]; r1++) {
            const int8_t *q = base + r0 * p->red_step[0] + r1 * p->red_step[1];
            int32_t i = 0, o = 0;
            for (; i + 4 <= n2; i += 4) {
                acc += q[o] + q[o + s2] + q[o + 2 * s2] + q[o + 3 * s2];
                o += 4 * s2;
            }
            for (; i < n2; i++) {
                acc += q[o];
                o += s2;
            }
        }
    }
    return acc;
}

void mcu_mean_s8(const int8_t *in, int8_t *out, const mcu_mean_params_t *p)
{
    int32_t k0, k1, k2;
    for (k0 = 0; k0 < p->kept[0]; k0++) {
        for (k1 = 0; k1 < p->kept[1]; k1++) {
            const int8_t *row = in + k0 * p->kept_step[0] + k1 * p->kept_step[1];
            for (k2 = 0; k2 < p->kept[2]; k2++) {
                const int32_t sum = mean_sum(row + k2 * p->kept_step[2], p);
                *out++ = mcu_requantize_s8(mcu_wrap_sub_s32(sum, p->zp_count), p->multiplier, p->shift,
                                           p->output_zp, -128, 127);
            }
        }
    }
}
