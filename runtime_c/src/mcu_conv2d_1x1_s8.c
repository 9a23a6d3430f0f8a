/* mcu_conv2d_1x1_s8.c - 1x1 CONV_2D (no padding, groups == 1): every output
 * pixel's column is its input pixel's channel vector, read in place, two
 * pixels per GEMM call. */
#include <stdint.h>
#include <string.h>

#include "mcu_dot_s8.h"
#include "mcu_nn_conv.h"

void mcu_conv2d_1x1_s8(const mcu_conv2d_params_s8 *p, const int8_t *in, const int8_t *w, int8_t *out)
{
    const int32_t c = p->in_c, oc = p->out_c, ow = p->out_w;
    const int32_t n_pix = p->out_h * ow;
    const int32_t pix_step = p->stride_w * c, row_skip = p->stride_h * p->in_w * c - ow * pix_step;
    mcu_gemm_s8_t gm;
    int32_t b, pix;

    gm.w = w;
    gm.rows = oc;
    gm.n_seg = 1;
    gm.seg_len = c;
    gm.seg_step = 0;
    gm.act_min = p->act_min;
    gm.act_max = p->act_max;
    gm.rq_fast = p->rq_fast;
    mcu_nn_gemm_s8_prepare(&gm);
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = in + b * p->in_h * p->in_w * c;
        int8_t *dst = out + b * n_pix * oc;
        int32_t ox = 0;
        /* the pixel walk in raster order, without divisions */
        for (pix = 0; pix + 1 < n_pix; pix += 2) {
            const int8_t *x0 = x, *x1;
            x += pix_step;
            if (++ox == ow) {
                ox = 0;
                x += row_skip;
            }
            x1 = x;
            x += pix_step;
            if (++ox == ow) {
                ox = 0;
                x += row_skip;
            }
            mcu_nn_gemm_s8(&gm, x0, x1, dst, dst + oc);
            dst += 2 * oc;
        }
        if (pix < n_pix) mcu_nn_gemm_s8(&gm, x, NULL, dst, NULL);
    }
}
