/* mcu_conv2d_1x1_s8.c - 1x1 CONV_2D (no padding, groups == 1): every output
 * pixel's column is its input pixel's channel vector, read in place, two
 * pixels per GEMM call. */
#include <stdint.h>
#include <string.h>

#include "mcu_dot_s8.h"
#include "mcu_nn_conv.h"

#if MCU_MVE && defined(MCU_DSP_ASM)
/* Depth 8 at stride 1 on Helium (MobileNet's first expansion): one 16-byte
 * load holds two neighbouring pixels, and VMLAVA predicated on each half
 * (VPSTEET: then, else, else, then; the steps between then and else
 * invert VPR.P0, and an even number of them leaves it as the next turn
 * needs it - VPSTETE gave wrong halves every other turn) gives each pixel's
 * dot product with a row
 * whose 8 weights fill both halves of a vector (gathered once per row).
 * Row pairs outside, pixel pairs inside, so the weights stay in Q
 * registers; biases and triples (the GEMM stream's, mcu_dot_s8.h) sit in
 * stack slots. The requantization and clamp are the DSP kernels'
 * (MCU_ASM_RQ, MCU_ASM_CLAMP4), the stores the GEMM's, with the
 * accumulators in even registers as VMLAVA needs. */
#define D8_RQ(S) MCU_ASM_RQ(S, "va", "vb", "a1", "t", "wv")
#define D8_PAIRS(CLAMP)                                                                                     \
    __asm__ volatile("movw   %[t], #0xff\n\t"                                                               \
                     "vmsr   p0, %[t]\n\t"                                                                  \
                     "dls    lr, %[n2]\n\t"                                                                 \
                     "1:\n\t"                                                                               \
                     "ldr    %[s00], %[ba]\n\t"                                                             \
                     "ldr    %[s10], %[bb]\n\t"                                                             \
                     "mov    %[s01], %[s00]\n\t"                                                            \
                     "mov    %[s11], %[s10]\n\t"                                                            \
                     "vldrb.u8 q2, [%[xp]], #16\n\t"                                                        \
                     "vpsteet\n\t"                                                                          \
                     "vmlavat.s8 %[s00], %q[wa], q2\n\t"                                                    \
                     "vmlavae.s8 %[s01], %q[wa], q2\n\t"                                                    \
                     "vmlavae.s8 %[s11], %q[wb], q2\n\t"                                                    \
                     "vmlavat.s8 %[s10], %q[wb], q2\n\t"                                                    \
                     "ldr    %[va], %[ma]\n\t"                                                              \
                     "ldr    %[vb], %[sa]\n\t"                                                              \
                     "ldr    %[a1], %[aa]\n\t" D8_RQ("s00") D8_RQ("s01")                                    \
                     "ldr    %[va], %[mb]\n\t"                                                              \
                     "ldr    %[vb], %[sb]\n\t"                                                              \
                     "ldr    %[a1], %[ab]\n\t" D8_RQ("s10") D8_RQ("s11")                                    \
                     "bfi    %[s00], %[s10], #8, #8\n\t"                                                    \
                     "bfi    %[s00], %[s01], #16, #8\n\t"                                                   \
                     "bfi    %[s00], %[s11], #24, #8\n\t" CLAMP                                             \
                     "ldr    %[t], %[oc]\n\t"                                                               \
                     "strh   %[s00], [%[o]]\n\t"                                                            \
                     "lsr    %[s00], %[s00], #16\n\t"                                                       \
                     "strh   %[s00], [%[o], %[t]]\n\t"                                                      \
                     "add    %[o], %[o], %[t], lsl #1\n\t"                                                  \
                     "le     lr, 1b\n\t"                                                                    \
                     : [s00] "=&r"(s00), [s10] "=&r"(s10), [s01] "=&r"(s01), [s11] "=&r"(s11), [va] "=&r"(va), \
                       [vb] "=&r"(vb), [a1] "=&r"(a1), [t] "=&r"(t), [wv] "=&r"(wv), [xp] "+r"(xp), [o] "+r"(o) \
                     : [wa] "w"(wa), [wb] "w"(wb), [n2] "r"(n2), [ba] "m"(ba), [bb] "m"(bb), [ma] "m"(ma),      \
                       [sa] "m"(sa), [aa] "m"(aa), [mb] "m"(mb), [sb] "m"(sb), [ab] "m"(ab), [oc] "m"(oc),      \
                       [lo4] "m"(lo4), [hi4] "m"(hi4)                                                       \
                     : "q2", "lr", "cc", "memory")

static void depth8_rows_mve(const mcu_conv2d_params_s8 *p, const int8_t *x, const int8_t *w, int8_t *out,
                            int32_t n_pix)
{
    static const uint32_t a_at[4] = {0, 8, 0, 8}, b_at[4] = {4, 12, 4, 12};
    const int32_t oc = p->out_c, lo = p->act_min, hi = p->act_max, n2 = n_pix >> 1;
    const int32_t full = lo == -128 && hi == 127, lo4 = mcu_bytes4(lo), hi4 = mcu_bytes4(hi);
    int32_t r;
    for (r = 0; r < oc; r += 2, w += 48) {
        register int32_t s00 __asm__("r0");
        register int32_t s10 __asm__("r2");
        register int32_t s01 __asm__("r4");
        register int32_t s11 __asm__("r6");
        int32_t ba = mcu_read_s32(w), bb = mcu_read_s32(w + 4);
        int32_t ma = mcu_read_s32(w + 24), sa = mcu_read_s32(w + 28), aa = mcu_read_s32(w + 32);
        int32_t mb = mcu_read_s32(w + 36), sb = mcu_read_s32(w + 40), ab = mcu_read_s32(w + 44);
        const int8x16_t wa = vreinterpretq_s8_s32(vldrwq_gather_offset_s32((const int32_t *)(const void *)(w + 8), vld1q_u32(a_at)));
        const int8x16_t wb = vreinterpretq_s8_s32(vldrwq_gather_offset_s32((const int32_t *)(const void *)(w + 8), vld1q_u32(b_at)));
        const int8_t *xp = x;
        int8_t *o = out + r;
        int32_t va, vb, a1, t, wv;
        if (n2 > 0) {
            if (full)
                D8_PAIRS("");
            else
                D8_PAIRS(MCU_ASM_CLAMP4("s00", "wv", "t"));
        }
        if (n_pix & 1) {
            /* the last pixel alone: its 8 bytes, the rest of the vector unread */
            const int8x16_t xv = vldrbq_z_s8(xp, 0x00FF);
            o[0] = (int8_t)mcu_clamp_s32(mcu_rq_fast(vmladavaq_p_s8(ba, wa, xv, 0x00FF), ma, sa, aa), lo, hi);
            o[1] = (int8_t)mcu_clamp_s32(mcu_rq_fast(vmladavaq_p_s8(bb, wb, xv, 0x00FF), mb, sb, ab), lo, hi);
        }
    }
}
#endif

void mcu_conv2d_1x1_s8(const mcu_conv2d_params_s8 *p, const int8_t *in, const int8_t *w, int8_t *out)
{
    const int32_t c = p->in_c, oc = p->out_c, ow = p->out_w;
    const int32_t n_pix = p->out_h * ow;
    const int32_t pix_step = p->stride_w * c, row_skip = p->stride_h * p->in_w * c - ow * pix_step;
    mcu_gemm_s8_t gm;
    int32_t b, pix;

#if MCU_MVE && defined(MCU_DSP_ASM)
    if (c == 8 && p->stride_h == 1 && p->stride_w == 1 && p->rq_fast && (oc & 1) == 0) {
        for (b = 0; b < p->batches; ++b) depth8_rows_mve(p, in + b * n_pix * 8, w, out + b * n_pix * oc, n_pix);
        return;
    }
#endif

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
