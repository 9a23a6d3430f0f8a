/* mcu_fully_connected_s8.c - FULLY_CONNECTED on the shared GEMM core, two
 * batch rows at a time so each weight word feeds two rows. */
#include <stdint.h>
#include <string.h>

#include "mcu_dot_s8.h"
#include "mcu_nn_conv.h"

/* weights_offset * sum(x): the one offset term that depends on the input */
static int32_t row_term(const mcu_fc_params_s8 *p, const int8_t *x)
{
    int32_t s = 0, k;
    if (p->weights_offset == 0) return 0;
    for (k = 0; k < p->in_depth; ++k) s += x[k];
    return mcu_wrap_mul_s32(s, p->weights_offset);
}

void mcu_fully_connected_s8(const mcu_fc_params_s8 *p, const int8_t *in, const int8_t *w, const int32_t *bias,
                            int8_t *out)
{
    const int32_t depth = p->in_depth, n = p->out_depth;
    mcu_gemm_s8_t gm;
    int32_t b;

    gm.w = w;
    gm.bias = bias;
    gm.rq = p->rq;
    gm.rq_step = p->per_channel ? 3 : 0;
    gm.rows = n;
    gm.depth = depth;
    gm.act_min = p->act_min;
    gm.act_max = p->act_max;
    for (b = 0; b + 1 < p->batches; b += 2) {
        const int8_t *x0 = in + b * depth, *x1 = x0 + depth;
        mcu_nn_gemm_s8(&gm, x0, x1, row_term(p, x0), row_term(p, x1), out + b * n, out + (b + 1) * n);
    }
    if (b < p->batches) {
        const int8_t *x0 = in + b * depth;
        mcu_nn_gemm_s8(&gm, x0, NULL, row_term(p, x0), 0, out + b * n, NULL);
    }
}
