/* mcu_fully_connected_s8.c - FULLY_CONNECTED, one batch row at a time:
 * four output rows at a time from the quad weight layout, so each input
 * word is unpacked once for four rows and two rows' weight words come in
 * one load. */
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

#if defined(MCU_DSP_ASM)
/* The common case (one triple for all rows, fast form, the whole int8
 * range, no weight zero point, in_depth % 8 == 0) as one assembly loop over
 * the groups of four rows: twelve registers in the dot loop, the rest in
 * stack slots. Returns where the weights continue (the last rows % 4). */
#define FC_K8_HALF                                         \
    "ldr    %[xe], [%[x]], #4\n\t"                         \
    "ldrd   %[wa], %[wb], [%[w]], #8\n\t"                  \
    "sxtb16 %[xo], %[xe], ror #8\n\t"                      \
    "sxtb16 %[xe], %[xe]\n\t"                              \
    "sxtb16 %[t], %[wa]\n\t"                               \
    "smlad  %[s0], %[t], %[xe], %[s0]\n\t"                 \
    "sxtb16 %[wa], %[wa], ror #8\n\t"                      \
    "smlad  %[s0], %[wa], %[xo], %[s0]\n\t"                \
    "sxtb16 %[t], %[wb]\n\t"                               \
    "smlad  %[s1], %[t], %[xe], %[s1]\n\t"                 \
    "sxtb16 %[wb], %[wb], ror #8\n\t"                      \
    "smlad  %[s1], %[wb], %[xo], %[s1]\n\t"                \
    "ldrd   %[wa], %[wb], [%[w]], #8\n\t"                  \
    "sxtb16 %[t], %[wa]\n\t"                               \
    "smlad  %[s2], %[t], %[xe], %[s2]\n\t"                 \
    "sxtb16 %[wa], %[wa], ror #8\n\t"                      \
    "smlad  %[s2], %[wa], %[xo], %[s2]\n\t"                \
    "sxtb16 %[t], %[wb]\n\t"                               \
    "smlad  %[s3], %[t], %[xe], %[s3]\n\t"                 \
    "sxtb16 %[wb], %[wb], ror #8\n\t"                      \
    "smlad  %[s3], %[wb], %[xo], %[s3]\n\t"

/* accumulator S with the triple (wa, wb, t) */
#define FC_RQ(S) MCU_ASM_RQ(S, "wa", "wb", "t", "xe", "xo")

static const int8_t *fc_groups_asm(const int8_t *w, const int32_t *bias, const int8_t *x0, int32_t depth,
                                   int32_t groups, const int32_t *q, int8_t *out)
{
    const int8_t *const wend = w + groups * 4 * depth;
    const int32_t k8 = depth >> 3, m = q[0], sh = q[1], ad = q[2];
    int32_t s0, s1, s2, s3, xe, xo, wa, wb, t, k;
    const int8_t *x;
    __asm__ volatile("2:\n\t"
                     "ldr    %[t], %[bp]\n\t"
                     "ldrd   %[s0], %[s1], [%[t]], #8\n\t"
                     "ldrd   %[s2], %[s3], [%[t]], #8\n\t"
                     "str    %[t], %[bp]\n\t"
                     "ldr    %[x], %[x0]\n\t"
                     "ldr    %[k], %[k8]\n\t"
                     "1:\n\t" FC_K8_HALF FC_K8_HALF
                     "subs   %[k], %[k], #1\n\t"
                     "bne    1b\n\t"
                     "ldr    %[wa], %[m]\n\t"
                     "ldr    %[wb], %[sh]\n\t"
                     "ldr    %[t], %[ad]\n\t"
                     FC_RQ("s0") FC_RQ("s1") FC_RQ("s2") FC_RQ("s3")
                     "ldr    %[t], %[o]\n\t"
                     "strb   %[s1], [%[t], #1]\n\t"
                     "strb   %[s2], [%[t], #2]\n\t"
                     "strb   %[s3], [%[t], #3]\n\t"
                     "strb   %[s0], [%[t]], #4\n\t"
                     "str    %[t], %[o]\n\t"
                     "ldr    %[t], %[wend]\n\t"
                     "cmp    %[w], %[t]\n\t"
                     "bne    2b\n\t"
                     : [s0] "=&r"(s0), [s1] "=&r"(s1), [s2] "=&r"(s2), [s3] "=&r"(s3), [xe] "=&r"(xe), [xo] "=&r"(xo),
                       [wa] "=&r"(wa), [wb] "=&r"(wb), [t] "=&r"(t), [x] "=&r"(x), [k] "=&r"(k), [w] "+r"(w),
                       [bp] "+m"(bias), [o] "+m"(out)
                     : [x0] "m"(x0), [k8] "m"(k8), [m] "m"(m), [sh] "m"(sh), [ad] "m"(ad), [wend] "m"(wend)
                     : "cc", "memory");
    return w;
}
#endif

static void fc_vector(const mcu_fc_params_s8 *p, const int8_t *x, const int8_t *w, const int32_t *bias, int8_t *out)
{
    const int32_t depth = p->in_depth, lo = p->act_min, hi = p->act_max;
    const int32_t add = row_term(p, x), step = p->per_channel ? 3 : 0;
    const int32_t *q = p->rq;
    int32_t r = p->out_depth >> 2;

#if defined(MCU_DSP_ASM)
    if (p->rq_fast && !p->per_channel && lo == -128 && hi == 127 && add == 0 && (depth & 7) == 0 && depth > 0 &&
        r > 0 && !MCU_MVE_WINS(depth)) {
        w = fc_groups_asm(w, bias, x, depth, r, q, out);
        bias += 4 * r;
        out += 4 * r;
        r = 0;
    }
#endif
    for (; r > 0; --r) {
        int32_t acc[4], j;
        acc[0] = mcu_wrap_add_s32(bias[0], add);
        acc[1] = mcu_wrap_add_s32(bias[1], add);
        acc[2] = mcu_wrap_add_s32(bias[2], add);
        acc[3] = mcu_wrap_add_s32(bias[3], add);
        mcu_dot_quad_x1(w, x, depth, acc);
        for (j = 0; j < 4; ++j, q += step) out[j] = mcu_requant_tab_s8(q, acc[j], lo, hi);
        out += 4;
        w += 4 * depth;
        bias += 4;
    }
    if (p->out_depth & 2) {
        int32_t a0 = mcu_wrap_add_s32(bias[0], add), a1 = mcu_wrap_add_s32(bias[1], add);
        mcu_dot_pair_x1(w, x, depth, &a0, &a1);
        out[0] = mcu_requant_tab_s8(q, a0, lo, hi);
        q += step;
        out[1] = mcu_requant_tab_s8(q, a1, lo, hi);
        q += step;
        out += 2;
        w += 2 * depth;
        bias += 2;
    }
    if (p->out_depth & 1) out[0] = mcu_requant_tab_s8(q, mcu_dot_1x1(w, x, depth, mcu_wrap_add_s32(bias[0], add)), lo, hi);
}

void mcu_fully_connected_s8(const mcu_fc_params_s8 *p, const int8_t *in, const int8_t *w, const int32_t *bias,
                            int8_t *out)
{
    int32_t b;
    for (b = 0; b < p->batches; ++b) fc_vector(p, in + b * p->in_depth, w, bias, out + b * p->out_depth);
}
