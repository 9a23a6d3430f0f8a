/* mcu_transpose_conv_s8.c - TRANSPOSE_CONV as a gather. TFLM scatters every
 * input pixel into an int32 image of the output; summing, for each output
 * pixel, the taps that land on it gives the same int32 totals without that
 * output-sized scratch. Output pixel y receives tap ky from input row
 * (y + pad_h - ky) / stride_h when that division is exact and in range. */
#include <stdint.h>
#include <string.h>

#include "mcu_dot_s8.h"
#include "mcu_nn_conv.h"

/* input index feeding output index o through tap k, or -1 */
static inline int32_t source(int32_t o, int32_t pad, int32_t k, int32_t stride, int32_t size)
{
    const int32_t n = o + pad - k;
    int32_t i;
    if (n < 0) return -1;
    i = n / stride;
    return (i * stride == n && i < size) ? i : -1;
}

void mcu_transpose_conv_s8(const mcu_transpose_conv_params_s8 *p, const int8_t *in, const int8_t *w,
                           const int32_t *bias, int8_t *out)
{
    const int32_t c_in = p->in_c, kh = p->k_h, kw = p->k_w, taps = kh * kw;
    const int32_t lo = p->act_min, hi = p->act_max;
    int32_t b, oy, ox, oc, ky, kx;

    for (b = 0; b < p->batches; ++b) {
        const int8_t *img = in + b * p->in_h * p->in_w * c_in;
        for (oy = 0; oy < p->out_h; ++oy) {
            for (ox = 0; ox < p->out_w; ++ox) {
                for (oc = 0; oc < p->out_c; ++oc) {
                    const int8_t *wo = w + oc * taps * c_in;
                    const int32_t *to = p->tap_offset + oc * taps;
                    int32_t acc = bias[oc];
                    for (ky = 0; ky < kh; ++ky) {
                        const int32_t iy = source(oy, p->pad_h, ky, p->stride_h, p->in_h);
                        if (iy < 0) continue;
                        for (kx = 0; kx < kw; ++kx) {
                            const int32_t ix = source(ox, p->pad_w, kx, p->stride_w, p->in_w);
                            const int32_t t = ky * kw + kx;
                            if (ix < 0) continue;
                            acc = mcu_dot_1x1(wo + t * c_in, img + (iy * p->in_w + ix) * c_in, c_in, acc);
                            acc = mcu_wrap_add_s32(acc, to[t]);
                        }
                    }
                    *out++ = mcu_requant_tab_s8(p->rq + 3 * oc, acc, lo, hi);
                }
            }
        }
    }
}
