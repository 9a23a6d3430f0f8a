/* mcu_dot_s8.h - internal: int8 dot-product blocks for the conv family.
 *
 * Three builds of the same blocks:
 *  - __ARM_FEATURE_DSP (Cortex-M4/M7/M33...): SXTB16 splits a word of four
 *    int8 into the even and odd bytes as int16 pairs and SMLAD does two MACs.
 *    Both operands are split the same way, so even pairs meet even pairs and
 *    no weight reordering is needed.
 *  - MCU_EMULATE_DSP: the same code with the instructions emulated in C, so
 *    a host build (and its sanitizers) runs exactly the DSP code path.
 *  - otherwise: plain C MACs, unrolled by 4 (Cortex-M0/M0+, hosts).
 * All three give the same bits: each is an exact int32 sum of int8 products.
 * Words are read with memcpy, so no pointer needs any alignment (Cortex-M3
 * and later load unaligned words in one LDR).
 */
#ifndef MCU_DOT_S8_H
#define MCU_DOT_S8_H

#include <stdint.h>
#include <string.h>

#include "mcu_fixedpoint.h"

#if defined(__ARM_FEATURE_DSP) && !defined(MCU_NO_DSP)
#include <arm_acle.h>
#define MCU_SIMD 1
static inline int32_t mcu_sxtb16(int32_t x) { return __sxtb16(x); }
#if defined(__GNUC__)
/* gcc 12 does not fold a rotate into SXTB16's ROR operand: say it directly */
static inline int32_t mcu_sxtb16_ror8(int32_t x)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
#else
static inline int32_t mcu_sxtb16_ror8(int32_t x)
{
    const uint32_t u = (uint32_t)x;
    return __sxtb16((int32_t)((u >> 8) | (u << 24)));
}
#endif
static inline int32_t mcu_smlad(int32_t a, int32_t b, int32_t acc) { return __smlad(a, b, acc); }
/* acc + bottom(a) * top(b), acc + top(a) * bottom(b) */
static inline int32_t mcu_smlabt(int32_t a, int32_t b, int32_t acc) { return __smlabt(a, b, acc); }
static inline int32_t mcu_smlatb(int32_t a, int32_t b, int32_t acc) { return __smlatb(a, b, acc); }
#elif defined(MCU_EMULATE_DSP)
#define MCU_SIMD 1
static inline int32_t mcu_sext8(uint32_t b) { return (int32_t)((b & 0xFFu) ^ 0x80u) - 0x80; }
static inline int32_t mcu_sext16(uint32_t h) { return (int32_t)((h & 0xFFFFu) ^ 0x8000u) - 0x8000; }
static inline int32_t mcu_sxtb16(int32_t x)
{
    const uint32_t u = (uint32_t)x;
    return (int32_t)(((uint32_t)mcu_sext8(u) & 0xFFFFu) | (((uint32_t)mcu_sext8(u >> 16) & 0xFFFFu) << 16));
}
static inline int32_t mcu_sxtb16_ror8(int32_t x) { return mcu_sxtb16((int32_t)((uint32_t)x >> 8)); }
static inline int32_t mcu_smlad(int32_t a, int32_t b, int32_t acc)
{
    const uint32_t ua = (uint32_t)a, ub = (uint32_t)b;
    const int32_t p = mcu_sext16(ua) * mcu_sext16(ub) + mcu_sext16(ua >> 16) * mcu_sext16(ub >> 16);
    return mcu_wrap_add_s32(acc, p);
}
static inline int32_t mcu_smlabt(int32_t a, int32_t b, int32_t acc)
{
    return mcu_wrap_add_s32(acc, mcu_sext16((uint32_t)a) * mcu_sext16((uint32_t)b >> 16));
}
static inline int32_t mcu_smlatb(int32_t a, int32_t b, int32_t acc)
{
    return mcu_wrap_add_s32(acc, mcu_sext16((uint32_t)a >> 16) * mcu_sext16((uint32_t)b));
}
#else
#define MCU_SIMD 0
#endif

static inline int32_t mcu_read_s8x4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Weight rows are stored in pairs interleaved by words ("pair layout"): for
 * rows a, b the bytes run a[0..3] b[0..3] a[4..7] b[4..7] ..., then the
 * depth % 4 tail of a, then the tail of b; an odd last row stays plain.
 * One pointer then walks both rows, which keeps the M4's 2 x 2 loop free of
 * register spills. The code generator writes weights in this order. */

/* (a0, a1) += (wa . x, wb . x) for the row pair at wp. */
static inline void mcu_dot_pair_x1(const int8_t *wp, const int8_t *x, int32_t n, int32_t *a0, int32_t *a1)
{
    int32_t s0 = *a0, s1 = *a1, k;
    const int32_t tail = n & 3;
#if MCU_SIMD
    for (k = n >> 2; k > 0; --k) {
        const int32_t xv = mcu_read_s8x4(x);
        const int32_t x0 = mcu_sxtb16(xv), x1 = mcu_sxtb16_ror8(xv);
        int32_t wv = mcu_read_s8x4(wp);
        s0 = mcu_smlad(mcu_sxtb16(wv), x0, s0);
        s0 = mcu_smlad(mcu_sxtb16_ror8(wv), x1, s0);
        wv = mcu_read_s8x4(wp + 4);
        s1 = mcu_smlad(mcu_sxtb16(wv), x0, s1);
        s1 = mcu_smlad(mcu_sxtb16_ror8(wv), x1, s1);
        x += 4;
        wp += 8;
    }
#else
    for (k = n >> 2; k > 0; --k) {
        const int32_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
        s0 += wp[0] * x0 + wp[1] * x1 + wp[2] * x2 + wp[3] * x3;
        s1 += wp[4] * x0 + wp[5] * x1 + wp[6] * x2 + wp[7] * x3;
        x += 4;
        wp += 8;
    }
#endif
    for (k = 0; k < tail; ++k) {
        s0 += wp[k] * x[k];
        s1 += wp[tail + k] * x[k];
    }
    *a0 = s0;
    *a1 = s1;
}

/* acc[0..3] += rows a, b (pair at wp) and c, d (pair at wq) against x: one
 * column through four rows, so each input word is unpacked once for four
 * rows (FULLY_CONNECTED with one batch row). */
static inline void mcu_dot_2pairs_x1(const int8_t *wp, const int8_t *wq, const int8_t *x, int32_t n, int32_t *acc)
{
    int32_t s0 = acc[0], s1 = acc[1], s2 = acc[2], s3 = acc[3], k;
    const int32_t tail = n & 3;
#if MCU_SIMD
    for (k = n >> 2; k > 0; --k) {
        const int32_t xv = mcu_read_s8x4(x);
        const int32_t x0 = mcu_sxtb16(xv), x1 = mcu_sxtb16_ror8(xv);
        int32_t wv = mcu_read_s8x4(wp);
        s0 = mcu_smlad(mcu_sxtb16(wv), x0, s0);
        s0 = mcu_smlad(mcu_sxtb16_ror8(wv), x1, s0);
        wv = mcu_read_s8x4(wp + 4);
        s1 = mcu_smlad(mcu_sxtb16(wv), x0, s1);
        s1 = mcu_smlad(mcu_sxtb16_ror8(wv), x1, s1);
        wv = mcu_read_s8x4(wq);
        s2 = mcu_smlad(mcu_sxtb16(wv), x0, s2);
        s2 = mcu_smlad(mcu_sxtb16_ror8(wv), x1, s2);
        wv = mcu_read_s8x4(wq + 4);
        s3 = mcu_smlad(mcu_sxtb16(wv), x0, s3);
        s3 = mcu_smlad(mcu_sxtb16_ror8(wv), x1, s3);
        x += 4;
        wp += 8;
        wq += 8;
    }
#else
    for (k = n >> 2; k > 0; --k) {
        const int32_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
        s0 += wp[0] * x0 + wp[1] * x1 + wp[2] * x2 + wp[3] * x3;
        s1 += wp[4] * x0 + wp[5] * x1 + wp[6] * x2 + wp[7] * x3;
        s2 += wq[0] * x0 + wq[1] * x1 + wq[2] * x2 + wq[3] * x3;
        s3 += wq[4] * x0 + wq[5] * x1 + wq[6] * x2 + wq[7] * x3;
        x += 4;
        wp += 8;
        wq += 8;
    }
#endif
    for (k = 0; k < tail; ++k) {
        const int32_t v = x[k];
        s0 += wp[k] * v;
        s1 += wp[tail + k] * v;
        s2 += wq[k] * v;
        s3 += wq[tail + k] * v;
    }
    acc[0] = s0;
    acc[1] = s1;
    acc[2] = s2;
    acc[3] = s3;
}

/* (a0, a1) += (w . xa, w . xb) for one plain row. */
static inline void mcu_dot_1x2(const int8_t *w, const int8_t *xa, const int8_t *xb, int32_t n, int32_t *a0,
                               int32_t *a1)
{
    int32_t s0 = *a0, s1 = *a1, k;
#if MCU_SIMD
    for (k = n >> 2; k > 0; --k) {
        const int32_t wv = mcu_read_s8x4(w);
        const int32_t w0 = mcu_sxtb16(wv), w1 = mcu_sxtb16_ror8(wv);
        int32_t xv = mcu_read_s8x4(xa);
        s0 = mcu_smlad(w0, mcu_sxtb16(xv), s0);
        s0 = mcu_smlad(w1, mcu_sxtb16_ror8(xv), s0);
        xv = mcu_read_s8x4(xb);
        s1 = mcu_smlad(w0, mcu_sxtb16(xv), s1);
        s1 = mcu_smlad(w1, mcu_sxtb16_ror8(xv), s1);
        w += 4;
        xa += 4;
        xb += 4;
    }
#else
    for (k = n >> 2; k > 0; --k) {
        const int32_t w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
        s0 += w0 * xa[0] + w1 * xa[1] + w2 * xa[2] + w3 * xa[3];
        s1 += w0 * xb[0] + w1 * xb[1] + w2 * xb[2] + w3 * xb[3];
        w += 4;
        xa += 4;
        xb += 4;
    }
#endif
    for (k = n & 3; k > 0; --k) {
        const int32_t v = *w++;
        s0 += v * *xa++;
        s1 += v * *xb++;
    }
    *a0 = s0;
    *a1 = s1;
}

/* a += w . x over n elements (plain rows). */
static inline int32_t mcu_dot_1x1(const int8_t *w, const int8_t *x, int32_t n, int32_t a)
{
    int32_t k;
#if MCU_SIMD
    for (k = n >> 2; k > 0; --k) {
        const int32_t xv = mcu_read_s8x4(x), wv = mcu_read_s8x4(w);
        a = mcu_smlad(mcu_sxtb16(wv), mcu_sxtb16(xv), a);
        a = mcu_smlad(mcu_sxtb16_ror8(wv), mcu_sxtb16_ror8(xv), a);
        x += 4;
        w += 4;
    }
#else
    for (k = n >> 2; k > 0; --k) {
        a += w[0] * x[0] + w[1] * x[1] + w[2] * x[2] + w[3] * x[3];
        x += 4;
        w += 4;
    }
#endif
    for (k = n & 3; k > 0; --k) a += *w++ * *x++;
    return a;
}

/* The 2 x 2 block: the row pair at wp against columns xa, xb;
 * acc = {a.xa, b.xa, a.xb, b.xb}. Each loaded word is used twice, which is
 * what brings the M4 near one instruction per MAC. */
static inline void mcu_dot_pair_x2(const int8_t *wp, const int8_t *xa, const int8_t *xb, int32_t n, int32_t *acc)
{
    int32_t s00 = acc[0], s10 = acc[1], s01 = acc[2], s11 = acc[3], k;
    const int32_t tail = n & 3;
#if MCU_SIMD
    /* one word of each operand per turn: unrolled by two, gcc 12 spills
     * registers on the M4 and the loop measured 15% slower */
    for (k = n >> 2; k > 0; --k) {
        const int32_t va = mcu_read_s8x4(xa), vb = mcu_read_s8x4(xb);
        const int32_t a0 = mcu_sxtb16(va), a1 = mcu_sxtb16_ror8(va);
        const int32_t b0 = mcu_sxtb16(vb), b1 = mcu_sxtb16_ror8(vb);
        int32_t wv = mcu_read_s8x4(wp);
        int32_t w0 = mcu_sxtb16(wv), w1 = mcu_sxtb16_ror8(wv);
        s00 = mcu_smlad(w0, a0, s00);
        s00 = mcu_smlad(w1, a1, s00);
        s01 = mcu_smlad(w0, b0, s01);
        s01 = mcu_smlad(w1, b1, s01);
        wv = mcu_read_s8x4(wp + 4);
        w0 = mcu_sxtb16(wv);
        w1 = mcu_sxtb16_ror8(wv);
        s10 = mcu_smlad(w0, a0, s10);
        s10 = mcu_smlad(w1, a1, s10);
        s11 = mcu_smlad(w0, b0, s11);
        s11 = mcu_smlad(w1, b1, s11);
        xa += 4;
        xb += 4;
        wp += 8;
    }
#else
    for (k = n >> 2; k > 0; --k) {
        const int32_t a0 = xa[0], a1 = xa[1], a2 = xa[2], a3 = xa[3];
        const int32_t b0 = xb[0], b1 = xb[1], b2 = xb[2], b3 = xb[3];
        int32_t w0 = wp[0], w1 = wp[1], w2 = wp[2], w3 = wp[3];
        s00 += w0 * a0 + w1 * a1 + w2 * a2 + w3 * a3;
        s01 += w0 * b0 + w1 * b1 + w2 * b2 + w3 * b3;
        w0 = wp[4];
        w1 = wp[5];
        w2 = wp[6];
        w3 = wp[7];
        s10 += w0 * a0 + w1 * a1 + w2 * a2 + w3 * a3;
        s11 += w0 * b0 + w1 * b1 + w2 * b2 + w3 * b3;
        xa += 4;
        xb += 4;
        wp += 8;
    }
#endif
    for (k = 0; k < tail; ++k) {
        const int32_t a = xa[k], b = xb[k], u = wp[k], v = wp[tail + k];
        s00 += u * a;
        s01 += u * b;
        s10 += v * a;
        s11 += v * b;
    }
    acc[0] = s00;
    acc[1] = s10;
    acc[2] = s01;
    acc[3] = s11;
}

/* Matrix-times-columns with the requantizing epilogue: for each weight row r
 * (an output channel) and each of one or two columns j,
 *   out_j[r] = requant(bias[r] + add_j + w[r] . x_j).
 * Offsets are folded into bias by the code generator; add_j carries what
 * depends on the input (FULLY_CONNECTED's weight zero point), else 0. */
typedef struct {
    const int8_t *w;      /* rows x depth in pair layout */
    const int32_t *bias;  /* rows */
    const int32_t *rq;    /* requant triples, rows of them or one */
    int32_t rq_step;      /* 3: one triple per row, 0: one for all rows */
    int32_t rows;
    int32_t depth;
    int32_t act_min;
    int32_t act_max;
} mcu_gemm_s8_t;

/* x1 == NULL computes the single column x0 (out1 is then unused). */
void mcu_nn_gemm_s8(const mcu_gemm_s8_t *g, const int8_t *x0, const int8_t *x1, int32_t add0, int32_t add1,
                    int8_t *out0, int8_t *out1);

#endif /* MCU_DOT_S8_H */
