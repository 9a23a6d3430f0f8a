/* mcu_depthwise_conv_3x3_ch4_s8.c - DEPTHWISE_CONV_2D for 3x3 kernels with
 * depth multiplier 1, no dilation and in_c % 4 == 0 (any stride and
 * padding), four channels at a time; correct in place (out == in) as well.
 *
 * A line buffer holds three input rows as int16: for each group of four
 * channels and each (padded) pixel, the three rows' values one after another,
 * each as the two words SXTB16 makes of the four channels, (c0, c2) and
 * (c1, c3). Every tap of a window is then at a fixed offset from one
 * pointer, one LDRD gives it for four channels, and SMLABB/SMLATT do four
 * MACs against the weight words, which the code generator stores the same
 * way. Padding is the zero point, in the buffer. Input row r lives in
 * slot r mod 3; each output row reads the slots in its own rotation.
 *
 * Per group the stream (mcugen.codegen.lower_conv.dw_ch4_stream) holds four
 * int32 biases, nine taps x two int16-pair words, four requantization
 * triples: 136 bytes.
 *
 * In place: output row y overwrites input row y only after input rows up to
 * y + 1 are in the buffer, and later rows are loaded before anything
 * overwrites them (stride 1, same size).
 */
#include <stdint.h>
#include <string.h>

#include "mcu_dot_s8.h"
#include "mcu_nn_conv.h"

#define GROUP_BYTES 136
#define TAPS_AT 16
#define RQ_AT 88

static inline int32_t rd32(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline void wr32(int8_t *p, int32_t v) { memcpy(p, &v, 4); }

static inline int32_t lo16(int32_t v) { return (int16_t)(uint16_t)(uint32_t)v; }
static inline int32_t hi16(int32_t v) { return (int16_t)(uint16_t)((uint32_t)v >> 16); }

/* the words (c0, c2), (c1, c3) of four int8 channels */
static inline void split4(int32_t v, int32_t *e, int32_t *o)
{
#if MCU_SIMD
    *e = mcu_sxtb16(v);
    *o = mcu_sxtb16_ror8(v);
#else
    const uint32_t u = (uint32_t)v;
    const int32_t c0 = (int8_t)(u & 0xFFu), c1 = (int8_t)((u >> 8) & 0xFFu);
    const int32_t c2 = (int8_t)((u >> 16) & 0xFFu), c3 = (int8_t)(u >> 24);
    *e = (int32_t)(((uint32_t)c0 & 0xFFFFu) | ((uint32_t)c2 << 16));
    *o = (int32_t)(((uint32_t)c1 & 0xFFFFu) | ((uint32_t)c3 << 16));
#endif
}

/* n pixels of one group into the buffer: d += 24 per pixel, v += c_n */
static MCU_ALWAYS_INLINE void fill_run(int8_t *d, const int8_t *v, int32_t n, int32_t c_n)
/* (c_n: the input bytes from one pixel of the row to the next) */
{
#if defined(MCU_DSP_ASM)
    if (n >= 2) {
        int32_t a, b, e, o, n2 = n >> 1;
        __asm__ volatile("1:\n\t"
                         "ldr    %[a], [%[v]]\n\t"
                         "ldr    %[b], [%[v], %[cn]]\n\t"
                         "add    %[v], %[v], %[cn], lsl #1\n\t"
                         "sxtb16 %[e], %[a]\n\t"
                         "sxtb16 %[o], %[a], ror #8\n\t"
                         "strd   %[e], %[o], [%[d]], #48\n\t"
                         "sxtb16 %[e], %[b]\n\t"
                         "sxtb16 %[o], %[b], ror #8\n\t"
                         "strd   %[e], %[o], [%[d], #-24]\n\t"
                         "subs   %[n2], %[n2], #1\n\t"
                         "bne    1b\n\t"
                         : [a] "=&r"(a), [b] "=&r"(b), [e] "=&r"(e), [o] "=&r"(o), [d] "+r"(d), [v] "+r"(v),
                           [n2] "+r"(n2)
                         : [cn] "r"(c_n)
                         : "cc", "memory");
        n &= 1;
    }
#endif
    for (; n > 0; --n, d += 24, v += c_n) {
        int32_t e, o;
        split4(rd32(v), &e, &o);
        wr32(d, e);
        wr32(d + 4, o);
    }
}

/* Loads input row `src` (NULL: outside the image; pixels pix bytes apart)
 * into slot s: padded pixel x is input pixel x - pad. buf: the line
 * buffer; wp pixels per group. */
static void fill_row(int8_t *buf, const int8_t *src, int32_t pix, int32_t groups, int32_t wp, int32_t pad,
                     int32_t n_in, int32_t s, int32_t zp)
{
    const int32_t gstep = 24 * wp;
    /* padded pixels [x0, x1) are inside the image */
    const int32_t x0 = src == NULL ? wp : mcu_min_s32(wp, pad), x1 = src == NULL ? wp : mcu_min_s32(wp, pad + n_in);
    int32_t zpe, zpo, x, g;
    split4((int32_t)(0x01010101u * (uint32_t)(uint8_t)zp), &zpe, &zpo);
    for (g = 0; g < groups; ++g) {
        int8_t *d = buf + g * gstep + 8 * s;
        for (x = 0; x < x0; ++x, d += 24) {
            wr32(d, zpe);
            wr32(d + 4, zpo);
        }
        if (x1 > x0) {
            fill_run(d, src + (x0 - pad) * pix + 4 * g, x1 - x0, pix);
            d += 24 * (x1 - x0);
        }
        for (x = x1 > x0 ? x1 : x0; x < wp; ++x, d += 24) {
            wr32(d, zpe);
            wr32(d + 4, zpo);
        }
    }
}

/* n output pixels of one group in C: p at the first window's top-left,
 * slot k of kernel row ky is (rot + ky) mod 3. */
static void pixels_c(const int8_t *p, const int8_t *gw, int32_t n, int32_t pstep, int32_t rot, int8_t *out,
                     int32_t ostep, int32_t lo, int32_t hi)
{
    int32_t i, ky, kx, ch;
    for (i = 0; i < n; ++i, p += pstep, out += ostep) {
        int32_t acc[4];
        for (ch = 0; ch < 4; ++ch) acc[ch] = rd32(gw + 4 * ch);
        for (ky = 0; ky < 3; ++ky) {
            const int32_t s = (rot + ky) % 3;
            for (kx = 0; kx < 3; ++kx) {
                const int8_t *x = p + 24 * kx + 8 * s, *w = gw + TAPS_AT + 8 * (3 * ky + kx);
                const int32_t xe = rd32(x), xo = rd32(x + 4), we = rd32(w), wo = rd32(w + 4);
                acc[0] += lo16(xe) * lo16(we);
                acc[2] += hi16(xe) * hi16(we);
                acc[1] += lo16(xo) * lo16(wo);
                acc[3] += hi16(xo) * hi16(wo);
            }
        }
        for (ch = 0; ch < 4; ++ch) {
            const int8_t *q = gw + RQ_AT + 12 * ch;
            out[ch] = mcu_requant3_s8(rd32(q), rd32(q + 4), rd32(q + 8), acc[ch], lo, hi);
        }
    }
}

#if MCU_MVE
/* The pixels on Helium: a group's four channels as the lanes (c0, c2, c1,
 * c3), the order of the buffer's and the weights' int16 pairs, so a tap is
 * one VLDRH.S32 of each, a VMUL and a VADD. Assembly because gcc 12 keeps
 * no MVE addressing offsets and spills the tap pointers; the loop needs all
 * eight Q registers (accumulator, two temporaries, m, -shift, addend and
 * the clamp), so the bias and the lanes' output offsets come from memory.
 * The requantization is mcu_rq_fast (mcu_dot_s8.h) on four lanes: the high
 * word of acc * m +- 2^30 is VMULH's plus the nudge's high word (0 or -1)
 * plus the carry out of the low words' sum (VMUL gives acc * m's low
 * word), then the addend and the shift; one VSTRB scatter
 * puts the lanes back in channel order. (Two-lane VMOVs to core registers
 * gave wrong bytes under QEMU 7.2, so the store stays a scatter.) */
#define MSTR_(x) #x
#define MSTR(x) MSTR_(x)
#define MVE_TAP(XOFF, T)                                              \
    "vldrh.s32 %q[x], [%[p], #" MSTR(XOFF) "]\n\t"                    \
    "vldrh.s32 %q[w], [%[wt], #" MSTR(8 * (T)) "]\n\t"                \
    "vmul.i32  %q[x], %q[x], %q[w]\n\t"                               \
    "vadd.i32  %q[a], %q[a], %q[x]\n\t"
#define MVE_ROW(S, KY) MVE_TAP(8 * S, 3 * KY) MVE_TAP(24 + 8 * S, 3 * KY + 1) MVE_TAP(48 + 8 * S, 3 * KY + 2)
#ifdef MCU_SINGLE_ROUNDING
#define MVE_RQ "vmulh.s32 %q[x], %q[a], %q[m]\n\t"
#else
#define MVE_RQ                                                        \
    "vmulh.s32 %q[x], %q[a], %q[m]\n\t"                               \
    "vmul.i32  %q[w], %q[a], %q[m]\n\t"                               \
    "vshr.s32  %q[a], %q[a], #31\n\t"                                 \
    "vadd.i32  %q[x], %q[x], %q[a]\n\t"                               \
    "vshl.i32  %q[a], %q[a], #31\n\t"                                 \
    "vorr.i32  %q[a], #0x40000000\n\t"                                \
    "vadd.i32  %q[a], %q[w], %q[a]\n\t"                               \
    "vcmp.u32  hi, %q[w], %q[a]\n\t"                                  \
    "vpst\n\t"                                                        \
    "vaddt.i32 %q[x], %q[x], %[one]\n\t"
#endif
#define MVE_PIXELS(S0, S1, S2)                                                                                 \
    __asm__ volatile("1:\n\t"                                                                                  \
                     "vldrw.u32 %q[a], [%[bias]]\n\t" MVE_ROW(S0, 0) MVE_ROW(S1, 1) MVE_ROW(S2, 2) MVE_RQ      \
                     "vadd.i32  %q[x], %q[x], %q[add]\n\t"                                                     \
                     "vshl.s32  %q[x], %q[x], %q[nsh]\n\t"                                                     \
                     "vmin.s32  %q[x], %q[x], %q[hi]\n\t"                                                      \
                     "vmax.s32  %q[x], %q[x], %q[lo]\n\t"                                                      \
                     "vldrw.u32 %q[w], [%[lanes]]\n\t"                                                        \
                     "vstrb.32  %q[x], [%[out], %q[w]]\n\t"                                                   \
                     "ldr       %[t0], %[ostep]\n\t"                                                           \
                     "add       %[out], %[out], %[t0]\n\t"                                                     \
                     "ldr       %[t0], %[pstep]\n\t"                                                           \
                     "add       %[p], %[p], %[t0]\n\t"                                                         \
                     "subs      %[n], %[n], #1\n\t"                                                            \
                     "bne       1b\n\t"                                                                        \
                     : [a] "=&w"(a), [x] "=&w"(x), [w] "=&w"(wv), [t0] "=&r"(t0), [p] "+l"(p), [out] "+r"(out), \
                       [n] "+r"(n)                                                                             \
                     : [m] "w"(m), [nsh] "w"(nsh), [add] "w"(add), [hi] "w"(vhi), [lo] "w"(vlo), [wt] "l"(wt), \
                       [bias] "r"(bias), [one] "r"(one), [lanes] "r"(out_at), [ostep] "m"(ostep),               \
                       [pstep] "m"(pstep)                                                                      \
                     : "cc", "memory")

/* n >= 1 output pixels of one group; as pixels_c */
static void pixels_mve(const int8_t *p, const int8_t *gw, int32_t n, int32_t pstep, int32_t rot, int8_t *out,
                       int32_t ostep, int32_t lo, int32_t hi)
{
    /* byte offsets of the lanes' triples, and of their results in the output */
    static const uint32_t rq_at[4] = {0, 24, 12, 36}, out_at[4] = {0, 2, 1, 3};
    const uint32_t *q_at = rq_at;
    const int32_t bias[4] = {rd32(gw), rd32(gw + 8), rd32(gw + 4), rd32(gw + 12)};
    const int32x4_t m = vldrwq_gather_offset_s32((const int32_t *)(const void *)(gw + RQ_AT), vld1q_u32(q_at));
    const int32x4_t nsh =
        vnegq_s32(vldrwq_gather_offset_s32((const int32_t *)(const void *)(gw + RQ_AT + 4), vld1q_u32(q_at)));
    const int32x4_t add = vldrwq_gather_offset_s32((const int32_t *)(const void *)(gw + RQ_AT + 8), vld1q_u32(q_at));
    const int32x4_t vlo = vdupq_n_s32(lo), vhi = vdupq_n_s32(hi);
    const int8_t *wt = gw + TAPS_AT;
    const int32_t one = 1;
    int32x4_t a, x, wv;
    int32_t t0;
    if (rot == 0)
        MVE_PIXELS(0, 1, 2);
    else if (rot == 1)
        MVE_PIXELS(1, 2, 0);
    else
        MVE_PIXELS(2, 0, 1);
    (void)one;
}
#endif

#if defined(MCU_DSP_ASM) && !MCU_MVE
#define STR_(x) #x
#define STR(x) STR_(x)
/* tap (ky, kx) with kernel row ky in slot S: x at 24 kx + 8 S, weights at 16 + 8 (3 ky + kx) */
#define TAP(S, KX, T)                                                 \
    "ldrd   %[xe], %[xo], [%[p], #" STR(24 * KX + 8 * S) "]\n\t"      \
    "ldrd   %[we], %[wo], [%[gw], #" STR(16 + 8 * (T)) "]\n\t"        \
    "smlabb %[s0], %[xe], %[we], %[s0]\n\t"                           \
    "smlatt %[s2], %[xe], %[we], %[s2]\n\t"                           \
    "smlabb %[s1], %[xo], %[wo], %[s1]\n\t"                           \
    "smlatt %[s3], %[xo], %[wo], %[s3]\n\t"
#define ROW(S, KY) TAP(S, 0, (3 * KY)) TAP(S, 1, (3 * KY + 1)) TAP(S, 2, (3 * KY + 2))

#ifdef MCU_SINGLE_ROUNDING
#define RQ4(S, CH)                                                    \
    "ldrd   %[we], %[wo], [%[gw], #" STR(88 + 12 * CH) "]\n\t"        \
    "smull  %[xe], %[xo], %[" S "], %[we]\n\t"                        \
    "ldr    %[we], [%[gw], #" STR(96 + 12 * CH) "]\n\t"               \
    "add    %[xo], %[xo], %[we]\n\t"                                  \
    "asr    %[" S "], %[xo], %[wo]\n\t"                               \
    "ssat   %[" S "], #8, %[" S "]\n\t"
#else
#define RQ4(S, CH)                                                    \
    "ldrd   %[we], %[wo], [%[gw], #" STR(88 + 12 * CH) "]\n\t"        \
    "ldr    %[xo], [%[gw], #" STR(96 + 12 * CH) "]\n\t"               \
    "and    %[xe], %[" S "], #0x80000000\n\t"                         \
    "add    %[xo], %[xo], %[" S "], asr #31\n\t"                      \
    "orr    %[xe], %[xe], #0x40000000\n\t"                            \
    "smlal  %[xe], %[xo], %[" S "], %[we]\n\t"                        \
    "asr    %[" S "], %[xo], %[wo]\n\t"                               \
    "ssat   %[" S "], #8, %[" S "]\n\t"
#endif

/* the four channels' results: as they are (the whole int8 range) or packed
 * and clamped to [act_min, act_max] bytewise (SSUB8 sets a GE flag per
 * byte, SEL picks by them) */
#define STORE_FULL                                                    \
    "strb   %[s0], [%[out]]\n\t"                                      \
    "strb   %[s1], [%[out], #1]\n\t"                                  \
    "strb   %[s2], [%[out], #2]\n\t"                                  \
    "strb   %[s3], [%[out], #3]\n\t"
#define STORE_CLAMPED                                                 \
    "bfi    %[s0], %[s1], #8, #8\n\t"                                 \
    "bfi    %[s0], %[s2], #16, #8\n\t"                                \
    "bfi    %[s0], %[s3], #24, #8\n\t"                                \
    MCU_ASM_CLAMP4("s0", "we", "xe")                                  \
    "str    %[s0], [%[out]]\n\t"

#define PIXELS(S0, S1, S2, STORE)                                     \
    "1:\n\t"                                                          \
    "ldrd   %[s0], %[s1], [%[gw]]\n\t"                                \
    "ldrd   %[s2], %[s3], [%[gw], #8]\n\t"                            \
    ROW(S0, 0) ROW(S1, 1) ROW(S2, 2)                                  \
    RQ4("s0", 0) RQ4("s1", 1) RQ4("s2", 2) RQ4("s3", 3) STORE         \
    "ldr    %[we], %[ostep]\n\t"                                      \
    "add    %[out], %[out], %[we]\n\t"                                \
    "ldr    %[we], %[pstep]\n\t"                                      \
    "add    %[p], %[p], %[we]\n\t"                                    \
    "subs   %[n], %[n], #1\n\t"                                       \
    "bne    1b\n\t"

#define PIXELS_ASM(S0, S1, S2, STORE)                                                                           \
    __asm__ volatile(PIXELS(S0, S1, S2, STORE)                                                                  \
                     : [s0] "=&r"(s0), [s1] "=&r"(s1), [s2] "=&r"(s2), [s3] "=&r"(s3), [xe] "=&r"(xe),          \
                       [xo] "=&r"(xo), [we] "=&r"(we), [wo] "=&r"(wo), [p] "+r"(p), [out] "+r"(out), [n] "+r"(n) \
                     : [gw] "r"(gw), [ostep] "m"(ostep), [pstep] "m"(pstep), [lo4] "m"(lo4), [hi4] "m"(hi4)     \
                     : "cc", "memory")

/* rot: the slot of kernel row 0; full: the clamp is the whole int8 range */
static void pixels_asm(const int8_t *p, const int8_t *gw, int32_t n, int32_t pstep, int32_t rot, int8_t *out,
                       int32_t ostep, int32_t full, int32_t lo4, int32_t hi4)
{
    int32_t s0, s1, s2, s3, xe, xo, we, wo;
    if (full) {
        if (rot == 0)
            PIXELS_ASM(0, 1, 2, STORE_FULL);
        else if (rot == 1)
            PIXELS_ASM(1, 2, 0, STORE_FULL);
        else
            PIXELS_ASM(2, 0, 1, STORE_FULL);
    } else {
        if (rot == 0)
            PIXELS_ASM(0, 1, 2, STORE_CLAMPED);
        else if (rot == 1)
            PIXELS_ASM(1, 2, 0, STORE_CLAMPED);
        else
            PIXELS_ASM(2, 0, 1, STORE_CLAMPED);
    }
}
#endif

void mcu_depthwise_conv_3x3_ch4_s8(const mcu_dw_conv_params_s8 *p, const int8_t *in, const int8_t *w,
                                   int8_t *out, int8_t *scratch)
{
    const int32_t c_n = p->in_c, groups = c_n >> 2, T = p->transposed, chunk = p->group_chunk;
    /* the problem in processing orientation: rows of cols pixels */
    const int32_t rows = T ? p->out_w : p->out_h, cols = T ? p->out_h : p->out_w;
    const int32_t in_rows = T ? p->in_w : p->in_h, in_cols = T ? p->in_h : p->in_w;
    const int32_t sr = T ? p->stride_w : p->stride_h, sc = T ? p->stride_h : p->stride_w;
    const int32_t pr = T ? p->pad_w : p->pad_h, pc = T ? p->pad_h : p->pad_w;
    const int32_t in_rs = T ? c_n : p->in_w * c_n, in_ps = T ? p->in_w * c_n : c_n;
    const int32_t out_rs = T ? c_n : p->out_w * c_n, out_ps = T ? p->out_w * c_n : c_n;
    const int32_t wp = MCU_DW3X3_CH4_PIXELS(cols, sc), zp = p->input_zp;
#if defined(MCU_DSP_ASM) && !MCU_MVE
    const int32_t full = p->act_min == -128 && p->act_max == 127;
    const int32_t lo4 = mcu_bytes4(p->act_min), hi4 = mcu_bytes4(p->act_max);
#endif
    int32_t b, oy, g, g0;

    for (b = 0; b < p->batches; ++b) {
        const int8_t *img = in + b * p->in_h * p->in_w * c_n;
        int8_t *out_img = out + b * p->out_h * p->out_w * c_n;
        /* groups of channels in chunks that share the line buffer */
        for (g0 = 0; g0 < groups; g0 += chunk) {
            const int32_t ng = mcu_min_s32(chunk, groups - g0);
            int32_t next = -pr, slot = ((-pr % 3) + 3) % 3, rot = slot;
            for (oy = 0; oy < rows; ++oy) {
                for (; next <= oy * sr - pr + 2; ++next) {
                    fill_row(scratch, (next >= 0 && next < in_rows) ? img + next * in_rs + 4 * g0 : NULL, in_ps, ng,
                             wp, pc, in_cols, slot, zp);
                    slot = slot == 2 ? 0 : slot + 1;
                }
                for (g = 0; g < ng; ++g) {
                    const int8_t *gw = w + (g0 + g) * GROUP_BYTES, *px = scratch + g * 24 * wp;
                    int8_t *dst = out_img + oy * out_rs + 4 * (g0 + g);
#if MCU_MVE
                    if (p->rq_fast) {
                        pixels_mve(px, gw, cols, 24 * sc, rot, dst, out_ps, p->act_min, p->act_max);
                        continue;
                    }
#elif defined(MCU_DSP_ASM)
                    if (p->rq_fast) {
                        pixels_asm(px, gw, cols, 24 * sc, rot, dst, out_ps, full, lo4, hi4);
                        continue;
                    }
#endif
                    pixels_c(px, gw, cols, 24 * sc, rot, dst, out_ps, p->act_min, p->act_max);
                }
                rot += sr;
                while (rot >= 3) rot -= 3;
            }
        }
    }
}
