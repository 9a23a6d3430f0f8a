/* mcu_depthwise_conv_s8.c - general DEPTHWISE_CONV_2D (any kernel, stride,
 * dilation, depth multiplier). Taps outside the image read the input zero
 * point, which the folded bias expects. Four channels at a time share each
 * tap's address arithmetic. */
#include <stdint.h>
#include <string.h>

#include "mcu_fixedpoint.h"
#include "mcu_nn_conv.h"

void mcu_depthwise_conv_s8(const mcu_dw_conv_params_s8 *p, const int8_t *in, const int8_t *w,
                           const int32_t *bias, int8_t *out)
{
    const int32_t c_in = p->in_c, c_out = p->out_c, dm = p->depth_mult;
    const int32_t kh = p->k_h, kw = p->k_w;
    const int32_t zp = p->input_zp, lo = p->act_min, hi = p->act_max;
    int32_t b, oy, ox, ky, kx, oc;

    for (b = 0; b < p->batches; ++b) {
        const int8_t *img = in + b * p->in_h * p->in_w * c_in;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                oc = 0;
                if (dm == 1) {
                    for (; oc + 4 <= c_out; oc += 4) {
                        int32_t a0 = bias[oc], a1 = bias[oc + 1], a2 = bias[oc + 2], a3 = bias[oc + 3];
                        for (ky = 0; ky < kh; ++ky) {
                            const int32_t iy = iy0 + ky * p->dil_h;
                            const int32_t row_in = iy >= 0 && iy < p->in_h;
                            const int8_t *wk = w + ky * kw * c_out + oc;
                            for (kx = 0; kx < kw; ++kx, wk += c_out) {
                                const int32_t ix = ix0 + kx * p->dil_w;
                                if (row_in && ix >= 0 && ix < p->in_w) {
                                    const int8_t *x = img + (iy * p->in_w + ix) * c_in + oc;
                                    a0 += x[0] * wk[0];
                                    a1 += x[1] * wk[1];
                                    a2 += x[2] * wk[2];
                                    a3 += x[3] * wk[3];
                                } else {
                                    a0 += zp * wk[0];
                                    a1 += zp * wk[1];
                                    a2 += zp * wk[2];
                                    a3 += zp * wk[3];
                                }
                            }
                        }
                        out[0] = mcu_requant_tab_s8(p->rq + 3 * (oc), a0, lo, hi);
                        out[1] = mcu_requant_tab_s8(p->rq + 3 * (oc + 1), a1, lo, hi);
                        out[2] = mcu_requant_tab_s8(p->rq + 3 * (oc + 2), a2, lo, hi);
                        out[3] = mcu_requant_tab_s8(p->rq + 3 * (oc + 3), a3, lo, hi);
                        out += 4;
                    }
                }
                for (; oc < c_out; ++oc) {
                    const int32_t ic = oc / dm;
                    int32_t a = bias[oc];
                    for (ky = 0; ky < kh; ++ky) {
                        const int32_t iy = iy0 + ky * p->dil_h;
                        const int32_t row_in = iy >= 0 && iy < p->in_h;
                        for (kx = 0; kx < kw; ++kx) {
                            const int32_t ix = ix0 + kx * p->dil_w;
                            const int32_t x = (row_in && ix >= 0 && ix < p->in_w) ? img[(iy * p->in_w + ix) * c_in + ic] : zp;
                            a += x * w[(ky * kw + kx) * c_out + oc];
                        }
                    }
                    *out++ = mcu_requant_tab_s8(p->rq + 3 * (oc), a, lo, hi);
                }
            }
        }
    }
}
