/* mcu_nn_gemm_s8.c - shared GEMM core of the convolutions and FULLY_CONNECTED:
 * weight rows (output channels) against one or two int8 columns, in 2 x 2
 * blocks, each result requantized straight from its register. The one- and
 * two-column cases are separate functions so each keeps few live values
 * (the M4 has 13 usable registers). */
#include <stdint.h>
#include <string.h>

#include "mcu_dot_s8.h"

static void gemm_2col(const mcu_gemm_s8_t *g, const int8_t *x0, const int8_t *x1, int32_t add0, int32_t add1,
                      int8_t *out0, int8_t *out1)
{
    const int8_t *w = g->w;
    const int32_t *bias = g->bias, *q = g->rq;
    const int32_t depth = g->depth, step = g->rq_step, lo = g->act_min, hi = g->act_max;
    int32_t r;

    for (r = g->rows >> 1; r > 0; --r) {
        int32_t acc[4];
        acc[0] = mcu_wrap_add_s32(bias[0], add0);
        acc[1] = mcu_wrap_add_s32(bias[1], add0);
        acc[2] = mcu_wrap_add_s32(bias[0], add1);
        acc[3] = mcu_wrap_add_s32(bias[1], add1);
        mcu_dot_pair_x2(w, x0, x1, depth, acc);
        {
            const int32_t m0 = q[0], sh0 = q[1], ad0 = q[2];
            const int32_t m1 = q[step], sh1 = q[step + 1], ad1 = q[step + 2];
            out0[0] = mcu_requant3_s8(m0, sh0, ad0, acc[0], lo, hi);
            out1[0] = mcu_requant3_s8(m0, sh0, ad0, acc[2], lo, hi);
            out0[1] = mcu_requant3_s8(m1, sh1, ad1, acc[1], lo, hi);
            out1[1] = mcu_requant3_s8(m1, sh1, ad1, acc[3], lo, hi);
        }
        q += 2 * step;
        out0 += 2;
        out1 += 2;
        w += 2 * depth;
        bias += 2;
    }
    if (g->rows & 1) {
        /* last odd row: one plain row against both columns */
        int32_t a0 = mcu_wrap_add_s32(bias[0], add0), a1 = mcu_wrap_add_s32(bias[0], add1);
        const int32_t m0 = q[0], sh0 = q[1], ad0 = q[2];
        mcu_dot_1x2(w, x0, x1, depth, &a0, &a1);
        out0[0] = mcu_requant3_s8(m0, sh0, ad0, a0, lo, hi);
        out1[0] = mcu_requant3_s8(m0, sh0, ad0, a1, lo, hi);
    }
}

static void gemm_1col(const mcu_gemm_s8_t *g, const int8_t *x0, int32_t add0, int8_t *out0)
{
    const int8_t *w = g->w;
    const int32_t *bias = g->bias, *q = g->rq;
    const int32_t depth = g->depth, step = g->rq_step, lo = g->act_min, hi = g->act_max;
    int32_t r;

    for (r = g->rows >> 2; r > 0; --r) {
        int32_t acc[4];
        acc[0] = mcu_wrap_add_s32(bias[0], add0);
        acc[1] = mcu_wrap_add_s32(bias[1], add0);
        acc[2] = mcu_wrap_add_s32(bias[2], add0);
        acc[3] = mcu_wrap_add_s32(bias[3], add0);
        mcu_dot_2pairs_x1(w, w + 2 * depth, x0, depth, acc);
        out0[0] = mcu_requant_tab_s8(q, acc[0], lo, hi);
        out0[1] = mcu_requant_tab_s8(q + step, acc[1], lo, hi);
        out0[2] = mcu_requant_tab_s8(q + 2 * step, acc[2], lo, hi);
        out0[3] = mcu_requant_tab_s8(q + 3 * step, acc[3], lo, hi);
        q += 4 * step;
        out0 += 4;
        w += 4 * depth;
        bias += 4;
    }
    if (g->rows & 2) {
        int32_t a0 = mcu_wrap_add_s32(bias[0], add0), a1 = mcu_wrap_add_s32(bias[1], add0);
        const int32_t m1 = q[step], sh1 = q[step + 1], ad1 = q[step + 2];
        mcu_dot_pair_x1(w, x0, depth, &a0, &a1);
        out0[0] = mcu_requant_tab_s8(q, a0, lo, hi);
        out0[1] = mcu_requant3_s8(m1, sh1, ad1, a1, lo, hi);
        q += 2 * step;
        out0 += 2;
        w += 2 * depth;
        bias += 2;
    }
    if (g->rows & 1) {
        const int32_t a = mcu_dot_1x1(w, x0, depth, mcu_wrap_add_s32(bias[0], add0));
        out0[0] = mcu_requant_tab_s8(q, a, lo, hi);
    }
}

void mcu_nn_gemm_s8(const mcu_gemm_s8_t *g, const int8_t *x0, const int8_t *x1, int32_t add0, int32_t add1,
                    int8_t *out0, int8_t *out1)
{
    if (x1 != NULL)
        gemm_2col(g, x0, x1, add0, add1, out0, out1);
    else
        gemm_1col(g, x0, add0, out0);
}
