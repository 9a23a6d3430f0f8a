/* mcu_dot_s8.h - internal: int8 dot-product blocks and requantization
 * helpers for the conv family.
 *
 * Three builds of the same blocks:
 *  - __ARM_FEATURE_DSP (Cortex-M4/M7/M33...): SXTB16 splits a word of four
 *    int8 into the even and odd bytes as int16 pairs and SMLAD does two MACs.
 *    Both operands are split the same way, so even pairs meet even pairs and
 *    no weight reordering is needed. With gcc optimizing for Thumb-2, the
 *    hottest loops are inline assembly (MCU_DSP_ASM): the compiler's
 *    scheduler otherwise hoists loads and spills accumulators. (clang,
 *    whose register allocator cannot meet the 13-register loops, and
 *    other compilers take the C below.)
 *  - MCU_EMULATE_DSP: the same code with the instructions emulated in C, so
 *    a host build (and its sanitizers) runs exactly the DSP code path (the C
 *    form of the assembly loops).
 *  - otherwise: plain C MACs, unrolled by 4 (Cortex-M0/M0+, hosts).
 * On Helium cores (__ARM_FEATURE_MVE, Cortex-M55/M85) the dot blocks first
 * take 16 bytes of depth per VMLADAVA (16 MACs into a scalar int32), the
 * word-interleaved row pairs and quads split by VLD2/VLD4, and leave the
 * depth % 16 rest to the DSP code; the GEMM and FULLY_CONNECTED assembly
 * loops step aside for them where the depth is at least 16 (MCU_MVE_WINS).
 * All give the same bits: each is an exact int32 sum of int8 products.
 * Activation words are read with memcpy, so they need no alignment
 * (Cortex-M3 and later load unaligned words in one LDR); weight tables must
 * be 4-byte aligned (the generator aligns them to 16) because the assembly
 * loads them in pairs with LDRD.
 */
#ifndef MCU_DOT_S8_H
#define MCU_DOT_S8_H

#include <stdint.h>
#include <string.h>

#include "mcu_fixedpoint.h"
#include "mcu_nn_conv.h"

#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "mcugen's weight tables are little-endian"
#endif

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
/* acc + bottom(a) * top(b), acc + top(a) * bottom(b), acc + bottom * bottom */
static inline int32_t mcu_smlabt(int32_t a, int32_t b, int32_t acc) { return __smlabt(a, b, acc); }
static inline int32_t mcu_smlatb(int32_t a, int32_t b, int32_t acc) { return __smlatb(a, b, acc); }
static inline int32_t mcu_smlabb(int32_t a, int32_t b, int32_t acc) { return __smlabb(a, b, acc); }
#if defined(__GNUC__) && !defined(__clang__) && defined(__OPTIMIZE__) && defined(__thumb2__)
#define MCU_DSP_ASM 1
#endif
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
static inline int32_t mcu_smlabb(int32_t a, int32_t b, int32_t acc)
{
    return mcu_wrap_add_s32(acc, mcu_sext16((uint32_t)a) * mcu_sext16((uint32_t)b));
}
#else
#define MCU_SIMD 0
#endif

#if defined(__GNUC__) || defined(__clang__)
#define MCU_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define MCU_ALWAYS_INLINE inline
#endif

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) && !defined(MCU_NO_MVE)
#include <arm_mve.h>
#define MCU_MVE 1
/* VLD2/VLD4 of 32-bit elements fault on addresses that are not word aligned;
 * streams whose depth is not a multiple of 4 can put a row there */
#define MCU_MVE_ALIGNED(p) ((((uintptr_t)(const void *)(p)) & 3u) == 0)
#else
#define MCU_MVE 0
#endif
/* Depth (bytes per run) from which the Helium blocks beat the DSP assembly
 * loops of the GEMM and FULLY_CONNECTED; shorter runs keep those loops. */
#define MCU_MVE_WINS(depth) (MCU_MVE && (depth) >= 16)

#if defined(__ARM_FEATURE_SAT) && !defined(MCU_NO_DSP)
#include <arm_acle.h>
/* clamp to [-128, 127] in one SSAT */
static inline int32_t mcu_sat8(int32_t y) { return __ssat(y, 8); }
#else
static inline int32_t mcu_sat8(int32_t y) { return y < -128 ? -128 : (y > 127 ? 127 : y); }
#endif

static inline int32_t mcu_read_s8x4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* ---- requantization ------------------------------------------------------------
 * mcu_requant3_s8 (mcu_fixedpoint.h) takes any triple. When the generator
 * has seen that every triple of a layer is in the fast form (params field
 * rq_fast), the kernels use this one, which has no branch; the clamp is
 * separate (one SSAT when it is the whole int8 range). */
static MCU_ALWAYS_INLINE int32_t mcu_rq_fast(int32_t acc, int32_t m, int32_t sh, int32_t add)
{
    int32_t y;
#ifdef MCU_SINGLE_ROUNDING
    y = (int32_t)(((int64_t)acc * m) >> 32);
#else
    const int32_t nudge = (int32_t)(0x40000000u ^ ((uint32_t)acc & 0x80000000u));
    y = (int32_t)(((int64_t)acc * m + nudge) >> 32);
#endif
    return (y + add) >> sh;
}

/* the activation clamp in all four bytes of a word, for the SIMD clamp of
 * the assembly paths (SSUB8 + SEL per bound) */
static inline int32_t mcu_bytes4(int32_t v) { return (int32_t)(0x01010101u * (uint32_t)(uint8_t)v); }

/* ---- assembly text the kernels share ---------------------------------------------
 * The arguments name asm operands. MCU_ASM_RQ requantizes accumulator S in
 * place with the triple (M, SH, ADD) = (m, r - 1, 2^(r-2) + offset 2^(r-1)),
 * LO and HI scratch: the rounding nudge's sign extension and the additive
 * term go into the high word before the SMLAL, the low word holds +-2^30
 * (mcu_requant3_s8's fast form, bit for bit), then SSAT to the int8 range. */
#ifdef MCU_SINGLE_ROUNDING
#define MCU_ASM_RQ(S, M, SH, ADD, LO, HI)                             \
    "smull  %[" LO "], %[" HI "], %[" S "], %[" M "]\n\t"             \
    "add    %[" HI "], %[" HI "], %[" ADD "]\n\t"                     \
    "asr    %[" S "], %[" HI "], %[" SH "]\n\t"                       \
    "ssat   %[" S "], #8, %[" S "]\n\t"
#else
#define MCU_ASM_RQ(S, M, SH, ADD, LO, HI)                             \
    "and    %[" LO "], %[" S "], #0x80000000\n\t"                     \
    "add    %[" HI "], %[" ADD "], %[" S "], asr #31\n\t"             \
    "orr    %[" LO "], %[" LO "], #0x40000000\n\t"                    \
    "smlal  %[" LO "], %[" HI "], %[" S "], %[" M "]\n\t"             \
    "asr    %[" S "], %[" HI "], %[" SH "]\n\t"                       \
    "ssat   %[" S "], #8, %[" S "]\n\t"
#endif
/* the four bytes of V clamped to [act_min, act_max] bytewise, the bounds
 * in memory operands lo4 and hi4 (mcu_bytes4): SSUB8 sets a GE flag per
 * byte, SEL picks by them; W and T scratch */
#define MCU_ASM_CLAMP4(V, W, T)                                       \
    "ldr    %[" W "], %[lo4]\n\t"                                     \
    "ssub8  %[" T "], %[" V "], %[" W "]\n\t"                         \
    "sel    %[" V "], %[" V "], %[" W "]\n\t"                         \
    "ldr    %[" W "], %[hi4]\n\t"                                     \
    "ssub8  %[" T "], %[" W "], %[" V "]\n\t"                         \
    "sel    %[" V "], %[" V "], %[" W "]\n\t"

/* ---- weight layouts --------------------------------------------------------------
 * Pair layout: rows a, b interleaved by 4-byte words, a[0..3] b[0..3]
 * a[4..7] b[4..7] ..., then the depth % 4 tail of a, then the tail of b; an
 * odd last row stays plain. One pointer then walks both rows.
 * Quad layout (FULLY_CONNECTED with one batch row): rows a, b, c, d
 * interleaved by words, then the four tails; the last rows % 4 rows in the
 * pair layout. The code generator writes weights in these orders
 * (mcugen.codegen.lower_conv.pair_layout / quad_layout). */

/* acc[0..3] += rows a, b, c, d (quad at w) against x. Each input word is
 * unpacked once for four rows; two rows' words come in one LDRD. */
static MCU_ALWAYS_INLINE void mcu_dot_quad_x1(const int8_t *w, const int8_t *x, int32_t n, int32_t *acc)
{
    int32_t s0 = acc[0], s1 = acc[1], s2 = acc[2], s3 = acc[3], k;
    const int32_t tail = n & 3;
#if MCU_MVE
    if (MCU_MVE_ALIGNED(w)) {
        for (k = n >> 4; k > 0; --k) {
            const int32x4x4_t q = vld4q_s32((const int32_t *)(const void *)w);
            const int8x16_t xv = vld1q_s8(x);
            s0 = vmladavaq_s8(s0, vreinterpretq_s8_s32(q.val[0]), xv);
            s1 = vmladavaq_s8(s1, vreinterpretq_s8_s32(q.val[1]), xv);
            s2 = vmladavaq_s8(s2, vreinterpretq_s8_s32(q.val[2]), xv);
            s3 = vmladavaq_s8(s3, vreinterpretq_s8_s32(q.val[3]), xv);
            w += 64;
            x += 16;
        }
        n &= 15;
    }
#endif
#if MCU_SIMD
    k = n >> 3;
#if defined(MCU_DSP_ASM)
    if (k > 0) {
        int32_t xe, xo, wa, wb, t;
        __asm__ volatile(
            "1:\n\t"
            "ldr    %[xe], [%[x]], #4\n\t"
            "ldrd   %[wa], %[wb], [%[w]], #8\n\t"
            "sxtb16 %[xo], %[xe], ror #8\n\t"
            "sxtb16 %[xe], %[xe]\n\t"
            "sxtb16 %[t], %[wa]\n\t"
            "smlad  %[s0], %[t], %[xe], %[s0]\n\t"
            "sxtb16 %[wa], %[wa], ror #8\n\t"
            "smlad  %[s0], %[wa], %[xo], %[s0]\n\t"
            "sxtb16 %[t], %[wb]\n\t"
            "smlad  %[s1], %[t], %[xe], %[s1]\n\t"
            "sxtb16 %[wb], %[wb], ror #8\n\t"
            "smlad  %[s1], %[wb], %[xo], %[s1]\n\t"
            "ldrd   %[wa], %[wb], [%[w]], #8\n\t"
            "sxtb16 %[t], %[wa]\n\t"
            "smlad  %[s2], %[t], %[xe], %[s2]\n\t"
            "sxtb16 %[wa], %[wa], ror #8\n\t"
            "smlad  %[s2], %[wa], %[xo], %[s2]\n\t"
            "sxtb16 %[t], %[wb]\n\t"
            "smlad  %[s3], %[t], %[xe], %[s3]\n\t"
            "sxtb16 %[wb], %[wb], ror #8\n\t"
            "smlad  %[s3], %[wb], %[xo], %[s3]\n\t"
            "ldr    %[xe], [%[x]], #4\n\t"
            "ldrd   %[wa], %[wb], [%[w]], #8\n\t"
            "sxtb16 %[xo], %[xe], ror #8\n\t"
            "sxtb16 %[xe], %[xe]\n\t"
            "sxtb16 %[t], %[wa]\n\t"
            "smlad  %[s0], %[t], %[xe], %[s0]\n\t"
            "sxtb16 %[wa], %[wa], ror #8\n\t"
            "smlad  %[s0], %[wa], %[xo], %[s0]\n\t"
            "sxtb16 %[t], %[wb]\n\t"
            "smlad  %[s1], %[t], %[xe], %[s1]\n\t"
            "sxtb16 %[wb], %[wb], ror #8\n\t"
            "smlad  %[s1], %[wb], %[xo], %[s1]\n\t"
            "ldrd   %[wa], %[wb], [%[w]], #8\n\t"
            "sxtb16 %[t], %[wa]\n\t"
            "smlad  %[s2], %[t], %[xe], %[s2]\n\t"
            "sxtb16 %[wa], %[wa], ror #8\n\t"
            "smlad  %[s2], %[wa], %[xo], %[s2]\n\t"
            "sxtb16 %[t], %[wb]\n\t"
            "smlad  %[s3], %[t], %[xe], %[s3]\n\t"
            "sxtb16 %[wb], %[wb], ror #8\n\t"
            "smlad  %[s3], %[wb], %[xo], %[s3]\n\t"
            "subs   %[k], %[k], #1\n\t"
            "bne    1b\n\t"
            : [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2), [s3] "+r"(s3), [x] "+r"(x), [w] "+r"(w), [k] "+r"(k),
              [xe] "=&r"(xe), [xo] "=&r"(xo), [wa] "=&r"(wa), [wb] "=&r"(wb), [t] "=&r"(t)
            :
            : "cc", "memory");
    }
    k = (n >> 2) & 1;
#else
    k = n >> 2;
#endif
    for (; k > 0; --k) {
        const int32_t xv = mcu_read_s8x4(x);
        const int32_t xe = mcu_sxtb16(xv), xo = mcu_sxtb16_ror8(xv);
        int32_t wv = mcu_read_s8x4(w);
        s0 = mcu_smlad(mcu_sxtb16(wv), xe, s0);
        s0 = mcu_smlad(mcu_sxtb16_ror8(wv), xo, s0);
        wv = mcu_read_s8x4(w + 4);
        s1 = mcu_smlad(mcu_sxtb16(wv), xe, s1);
        s1 = mcu_smlad(mcu_sxtb16_ror8(wv), xo, s1);
        wv = mcu_read_s8x4(w + 8);
        s2 = mcu_smlad(mcu_sxtb16(wv), xe, s2);
        s2 = mcu_smlad(mcu_sxtb16_ror8(wv), xo, s2);
        wv = mcu_read_s8x4(w + 12);
        s3 = mcu_smlad(mcu_sxtb16(wv), xe, s3);
        s3 = mcu_smlad(mcu_sxtb16_ror8(wv), xo, s3);
        x += 4;
        w += 16;
    }
#else
    for (k = n >> 2; k > 0; --k) {
        const int32_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
        s0 += w[0] * x0 + w[1] * x1 + w[2] * x2 + w[3] * x3;
        s1 += w[4] * x0 + w[5] * x1 + w[6] * x2 + w[7] * x3;
        s2 += w[8] * x0 + w[9] * x1 + w[10] * x2 + w[11] * x3;
        s3 += w[12] * x0 + w[13] * x1 + w[14] * x2 + w[15] * x3;
        x += 4;
        w += 16;
    }
#endif
    for (k = 0; k < tail; ++k) {
        const int32_t v = x[k];
        s0 += w[k] * v;
        s1 += w[tail + k] * v;
        s2 += w[2 * tail + k] * v;
        s3 += w[3 * tail + k] * v;
    }
    acc[0] = s0;
    acc[1] = s1;
    acc[2] = s2;
    acc[3] = s3;
}

/* (a0, a1) += (wa . x, wb . x) for the row pair at wp. */
static MCU_ALWAYS_INLINE void mcu_dot_pair_x1(const int8_t *wp, const int8_t *x, int32_t n, int32_t *a0, int32_t *a1)
{
    int32_t s0 = *a0, s1 = *a1, k;
    const int32_t tail = n & 3;
#if MCU_MVE
    if (MCU_MVE_ALIGNED(wp)) {
        for (k = n >> 4; k > 0; --k) {
            const int32x4x2_t q = vld2q_s32((const int32_t *)(const void *)wp);
            const int8x16_t xv = vld1q_s8(x);
            s0 = vmladavaq_s8(s0, vreinterpretq_s8_s32(q.val[0]), xv);
            s1 = vmladavaq_s8(s1, vreinterpretq_s8_s32(q.val[1]), xv);
            wp += 32;
            x += 16;
        }
        n &= 15;
    }
#endif
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

/* (a0, a1) += (w . xa, w . xb) for one plain row. */
static inline void mcu_dot_1x2(const int8_t *w, const int8_t *xa, const int8_t *xb, int32_t n, int32_t *a0,
                               int32_t *a1)
{
    int32_t s0 = *a0, s1 = *a1, k;
#if MCU_MVE
    for (k = n >> 4; k > 0; --k) {
        const int8x16_t wv = vld1q_s8(w);
        s0 = vmladavaq_s8(s0, wv, vld1q_s8(xa));
        s1 = vmladavaq_s8(s1, wv, vld1q_s8(xb));
        w += 16;
        xa += 16;
        xb += 16;
    }
    n &= 15;
#endif
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
#if MCU_MVE
    for (k = n >> 4; k > 0; --k) {
        a = vmladavaq_s8(a, vld1q_s8(w), vld1q_s8(x));
        w += 16;
        x += 16;
    }
    n &= 15;
#endif
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
 * acc = {a.xa, b.xa, a.xb, b.xb}. Each loaded word is used twice. The
 * assembly loop needs 13 registers; its end test reads the end pointer
 * from the stack (one load per 8 bytes) because a 14th register would not
 * be free whenever the compiler keeps a frame pointer. */
static MCU_ALWAYS_INLINE void mcu_dot_pair_x2(const int8_t *wp, const int8_t *xa, const int8_t *xb, int32_t n,
                                              int32_t *acc)
{
    int32_t s00 = acc[0], s10 = acc[1], s01 = acc[2], s11 = acc[3], k;
    const int32_t tail = n & 3;
#if MCU_MVE
    if (MCU_MVE_ALIGNED(wp)) {
        for (k = n >> 4; k > 0; --k) {
            const int32x4x2_t q = vld2q_s32((const int32_t *)(const void *)wp);
            const int8x16_t wa = vreinterpretq_s8_s32(q.val[0]), wb = vreinterpretq_s8_s32(q.val[1]);
            const int8x16_t va = vld1q_s8(xa), vb = vld1q_s8(xb);
            s00 = vmladavaq_s8(s00, wa, va);
            s01 = vmladavaq_s8(s01, wa, vb);
            s10 = vmladavaq_s8(s10, wb, va);
            s11 = vmladavaq_s8(s11, wb, vb);
            wp += 32;
            xa += 16;
            xb += 16;
        }
        n &= 15;
    }
#endif
#if MCU_SIMD
#if defined(MCU_DSP_ASM)
    if (n >= 8) {
        const int8_t *const end = xa + (n & ~7);
        int32_t va, vb, a1, b1, wv, t;
        __asm__ volatile(
            "1:\n\t"
            "ldr    %[va], [%[xa]], #4\n\t"
            "ldr    %[vb], [%[xb]], #4\n\t"
            "ldr    %[wv], [%[wp]], #4\n\t"
            "sxtb16 %[a1], %[va], ror #8\n\t"
            "sxtb16 %[va], %[va]\n\t"
            "sxtb16 %[b1], %[vb], ror #8\n\t"
            "sxtb16 %[vb], %[vb]\n\t"
            "sxtb16 %[t], %[wv]\n\t"
            "smlad  %[s00], %[t], %[va], %[s00]\n\t"
            "smlad  %[s01], %[t], %[vb], %[s01]\n\t"
            "sxtb16 %[wv], %[wv], ror #8\n\t"
            "smlad  %[s00], %[wv], %[a1], %[s00]\n\t"
            "smlad  %[s01], %[wv], %[b1], %[s01]\n\t"
            "ldr    %[wv], [%[wp]], #4\n\t"
            "sxtb16 %[t], %[wv]\n\t"
            "smlad  %[s10], %[t], %[va], %[s10]\n\t"
            "smlad  %[s11], %[t], %[vb], %[s11]\n\t"
            "sxtb16 %[wv], %[wv], ror #8\n\t"
            "smlad  %[s10], %[wv], %[a1], %[s10]\n\t"
            "smlad  %[s11], %[wv], %[b1], %[s11]\n\t"
            "ldr    %[va], [%[xa]], #4\n\t"
            "ldr    %[vb], [%[xb]], #4\n\t"
            "ldr    %[wv], [%[wp]], #4\n\t"
            "sxtb16 %[a1], %[va], ror #8\n\t"
            "sxtb16 %[va], %[va]\n\t"
            "sxtb16 %[b1], %[vb], ror #8\n\t"
            "sxtb16 %[vb], %[vb]\n\t"
            "sxtb16 %[t], %[wv]\n\t"
            "smlad  %[s00], %[t], %[va], %[s00]\n\t"
            "smlad  %[s01], %[t], %[vb], %[s01]\n\t"
            "sxtb16 %[wv], %[wv], ror #8\n\t"
            "smlad  %[s00], %[wv], %[a1], %[s00]\n\t"
            "smlad  %[s01], %[wv], %[b1], %[s01]\n\t"
            "ldr    %[wv], [%[wp]], #4\n\t"
            "sxtb16 %[t], %[wv]\n\t"
            "smlad  %[s10], %[t], %[va], %[s10]\n\t"
            "smlad  %[s11], %[t], %[vb], %[s11]\n\t"
            "sxtb16 %[wv], %[wv], ror #8\n\t"
            "smlad  %[s10], %[wv], %[a1], %[s10]\n\t"
            "smlad  %[s11], %[wv], %[b1], %[s11]\n\t"
            "ldr    %[t], %[end]\n\t"
            "cmp    %[xa], %[t]\n\t"
            "bne    1b\n\t"
            : [s00] "+r"(s00), [s10] "+r"(s10), [s01] "+r"(s01), [s11] "+r"(s11), [xa] "+r"(xa), [xb] "+r"(xb),
              [wp] "+r"(wp), [va] "=&r"(va), [vb] "=&r"(vb), [a1] "=&r"(a1), [b1] "=&r"(b1), [wv] "=&r"(wv),
              [t] "=&r"(t)
            : [end] "m"(end)
            : "cc", "memory");
    }
    k = (n >> 2) & 1;
#else
    k = n >> 2;
#endif
    for (; k > 0; --k) {
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

/* ---- conv GEMM ---------------------------------------------------------------------
 * For each weight row r (an output channel) and each of one or two columns
 * j, out_j[r] = requant(bias[r] + w[r] . x_j), the input offset folded into
 * bias by the code generator. A column is n_seg runs of seg_len bytes,
 * seg_step bytes apart (a direct convolution reads each kernel row of a
 * window straight from the input; im2col and 1x1 columns are one run).
 *
 * The rows come as one stream, in the order the kernel uses them, so one
 * pointer walks everything: per row pair (2i, 2i+1) the int32 biases of
 * both rows, their weights in the pair layout (2 * depth bytes), then the
 * requantization triples of both rows (6 x int32); an odd last row as its
 * bias, its depth weights and its triple. int32 values are little-endian
 * (mcugen.codegen.lower_conv.conv_stream writes them). */
typedef struct {
    const int8_t *w;      /* the stream of these rows */
    int32_t rows;
    int32_t n_seg, seg_len, seg_step;
    int32_t act_min;
    int32_t act_max;
    int32_t rq_fast;      /* every triple in the fast form */
    /* set by mcu_nn_gemm_s8_prepare from the fields above */
    int32_t path;         /* MCU_GEMM_* */
    int32_t lo4, hi4;     /* act_min, act_max in each byte */
    const int8_t *w_pairs_end; /* end of the row pairs in the stream */
} mcu_gemm_s8_t;

enum {
    MCU_GEMM_C, MCU_GEMM_ONE_RUN, MCU_GEMM_ONE_RUN_CLAMPED, MCU_GEMM_ONE_RUN_K4, MCU_GEMM_ONE_RUN_K4_CLAMPED,
    MCU_GEMM_THREE_RUNS, MCU_GEMM_THREE_RUNS_CLAMPED, MCU_GEMM_RUNS,
    /* Helium: runs of 16 bytes or more, multiples of 4 */
    MCU_GEMM_MVE_ONE_RUN, MCU_GEMM_MVE_ONE_RUN_CLAMPED, MCU_GEMM_MVE_THREE_RUNS, MCU_GEMM_MVE_THREE_RUNS_CLAMPED
};

/* Picks the code path for a layer once; call after setting the fields. */
void mcu_nn_gemm_s8_prepare(mcu_gemm_s8_t *g);

static inline int32_t mcu_read_s32(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* x1 == NULL computes the single column x0 (out1 is then unused). */
void mcu_nn_gemm_s8(const mcu_gemm_s8_t *g, const int8_t *x0, const int8_t *x1, int8_t *out0, int8_t *out1);

#endif /* MCU_DOT_S8_H */
