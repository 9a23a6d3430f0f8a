/* mcu_conv2d_1x1_s8.c - 1x1 CONV_2D (no padding, groups == 1): every output
 * pixel's column is its input pixel's channel vector, read in place. */
#include <stdint.h>
#include <string.h>

#include "mcu_dot_s8.h"
#include "mcu_nn_conv.h"

void mcu_conv2d_1x1_s8(const mcu_conv2d_params_s8 *p, const int8_t *in, const int8_t *w, const int32_t *bias,
                       int8_t *out)
{
    const int32_t c = p->in_c, oc = p->out_c, ow = p->out_w;
    const int32_t n_pix = p->out_h * ow;
    const int32_t row_step = p->stride_h * p->in_w * c, pix_step = p->stride_w * c;
    mcu_gemm_s8_t gm;
    int32_t b, pix;

    gm.w = w;
    gm.bias = bias;
    gm.rq = p->rq;
    gm.rq_step = 3;
    gm.rows = oc;
    gm.depth = c;
    gm.act_min = p->act_min;
    gm.act_max = p->act_max;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *img = in + b * p->in_h * p->in_w * c;
        int8_t *dst = out + b * n_pix * oc;
        if (p->stride_h == 1 && p->stride_w == 1) {
            /* the input is the column matrix as it lies */
            for (pix = 0; pix + 1 < n_pix; pix += 2)
                mcu_nn_gemm_s8(&gm, img + pix * c, img + (pix + 1) * c, 0, 0, dst + pix * oc, dst + (pix + 1) * oc);
        } else {
            for (pix = 0; pix + 1 < n_pix; pix += 2) {
                const int32_t oy0 = pix / ow, ox0 = pix - oy0 * ow;
                const int32_t oy1 = (pix + 1) / ow, ox1 = pix + 1 - oy1 * ow;
                mcu_nn_gemm_s8(&gm, img + oy0 * row_step + ox0 * pix_step, img + oy1 * row_step + ox1 * pix_step,
                               0, 0, dst + pix * oc, dst + (pix + 1) * oc);
            }
        }
        if (pix < n_pix) {
            const int32_t oy0 = pix / ow, ox0 = pix - oy0 * ow;
            mcu_nn_gemm_s8(&gm, img + oy0 * row_step + ox0 * pix_step, NULL, 0, 0, dst + pix * oc, NULL);
        }
    }
}
