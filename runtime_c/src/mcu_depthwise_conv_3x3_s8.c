/* mcu_depthwise_conv_3x3_s8.c - DEPTHWISE_CONV_2D fast path for 3x3 kernels
 * with depth multiplier 1 and no dilation (any stride and padding), correct
 * in place (out == in) as well.
 *
 * NHWC puts a channel's neighbouring pixels in_c bytes apart, which is why
 * channel-interleaved depthwise code spends ~8 instructions per MAC on an M4.
 * Here one channel is processed at a time, one output row at a time, from a
 * line buffer of three int16 input rows (the padding holds the zero point):
 * a tap pair is then one word load and one SMLAD, and each result is
 * requantized and stored at once. The three rows are interleaved word by
 * word (word 3j + s holds elements 2j, 2j+1 of the row in slot s), so one
 * pointer with fixed offsets reads all three; input row r lives in slot
 * r mod 3 and the kernel rows are matched to the slots for each output row.
 *
 * In place: output row y overwrites input row y of its channel only after
 * input rows up to y + 1 are in the line buffer, and later rows are read
 * from the input before anything overwrites them (stride 1, same size).
 *
 * Narrow images (kws: 25 x 5) run transposed (p->transposed): image columns
 * are the rows, so the inner loop is long. The code generator transposes
 * the 3x3 kernels to match.
 */
#include <stdint.h>
#include <string.h>

#include "mcu_dot_s8.h"
#include "mcu_nn_conv.h"

/* The line buffer is int8 scratch of any alignment: words go through memcpy
 * (single LDR/STR on Cortex-M3 and later). Word i is at buf + 4 * i. */
static inline int32_t ld32(const int8_t *buf, int32_t i)
{
    int32_t v;
    memcpy(&v, buf + 4 * i, 4);
    return v;
}

static inline void st32(int8_t *buf, int32_t i, int32_t v) { memcpy(buf + 4 * i, &v, 4); }

static inline int32_t pair16(int32_t lo, int32_t hi)
{
    return (int32_t)(((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16));
}

/* element e of the row in slot s */
static inline int32_t elem(const int8_t *buf, int32_t s, int32_t e)
{
    const uint32_t v = (uint32_t)ld32(buf, 3 * (e >> 1) + s);
    return (int32_t)(int16_t)(uint16_t)((e & 1) ? v >> 16 : v);
}

/* Writes an input row into the slot whose first word is buf[0] (words 0, 3,
 * 6, ...): element e holds src[(e - pad) * in_cs] for 0 <= e - pad < n_in,
 * else the zero point; src == NULL: a row outside the image. */
static void fill_row(int8_t *buf, const int8_t *src, int32_t in_cs, int32_t n_in, int32_t pad, int32_t n_words,
                     int32_t zp)
{
    const int32_t zz = pair16(zp, zp), end_in = pad + n_in;
    int32_t j = 0;
    if (src == NULL) {
        for (; j < n_words; ++j) st32(buf, 3 * j, zz);
        return;
    }
    for (; j < n_words && 2 * j + 1 < pad; ++j) st32(buf, 3 * j, zz);
    if (j < n_words && 2 * j < pad) {
        /* the word straddling the left edge: element 2j + 1 is x = 0 */
        st32(buf, 3 * j, pair16(zp, n_in > 0 ? src[0] : zp));
        ++j;
    }
    {
        /* whole words inside the image */
        const int32_t end = mcu_min_s32(n_words, end_in >> 1);
        if (j < end) {
            const int8_t *x = src + (2 * j - pad) * in_cs;
            for (; j < end; ++j) {
                st32(buf, 3 * j, pair16(x[0], x[in_cs]));
                x += 2 * in_cs;
            }
        }
    }
    for (; j < n_words; ++j) {
        const int32_t e = 2 * j;
        st32(buf, 3 * j, pair16(e < end_in ? src[(e - pad) * in_cs] : zp, zp));
    }
}

/* Per-row constants, in the order the row loops read them: for slots 0, 1,
 * 2 the int16 weight pairs (w0, w1), (w1, w2) of the kernel row that slot
 * holds, then bias and the requantization triple. */
enum { KT_BIAS = 6, KT_M = 7, KT_SH = 8, KT_ADD = 9, KT_N = 10 };

/* One output row in C (any stride): the reference for the assembly loops
 * and the whole path elsewhere. */
static void row_c(const int8_t *buf, const int32_t *kt, int32_t ow, int32_t sw, int8_t *out, int32_t out_cs,
                  int32_t lo, int32_t hi)
{
    int32_t ox, s;
    for (ox = 0; ox < ow; ++ox) {
        const int32_t e = ox * sw;
        int32_t acc = kt[KT_BIAS];
        for (s = 0; s < 3; ++s) {
            const int32_t w01 = kt[2 * s], w12 = kt[2 * s + 1];
            const int32_t w0 = (int16_t)(uint16_t)(uint32_t)w01, w1 = (int16_t)(uint16_t)((uint32_t)w01 >> 16);
            const int32_t w2 = (int16_t)(uint16_t)((uint32_t)w12 >> 16);
            acc += elem(buf, s, e) * w0 + elem(buf, s, e + 1) * w1 + elem(buf, s, e + 2) * w2;
        }
        *out = mcu_requant3_s8(kt[KT_M], kt[KT_SH], kt[KT_ADD], acc, lo, hi);
        out += out_cs;
    }
}

#if defined(MCU_DSP_ASM)
/* rows of slot s at [p, #4s] (pair j) and [p, #12 + 4s] (pair j + 1) */
#define DW_TAPS1(S, W)                                         \
    "ldrd   %[wa], %[wb], [%[kt], #" W "]\n\t"                 \
    "ldr    %[u], [%[p], #" S "*4]\n\t"                        \
    "ldr    %[v], [%[p], #12+" S "*4]\n\t"                     \
    "smlad  %[s0], %[u], %[wa], %[s0]\n\t"                     \
    "smlabt %[s0], %[v], %[wb], %[s0]\n\t"                     \
    "smlatb %[s1], %[u], %[wa], %[s1]\n\t"                     \
    "smlad  %[s1], %[v], %[wb], %[s1]\n\t"

#define DW_RQ(S) MCU_ASM_RQ(S, "wa", "wb", "t", "u", "v")

/* n2 pairs of outputs, stride 1: out[x] takes (r[x], r[x+1]) and r[x+2],
 * out[x+1] takes r[x+1] and (r[x+2], r[x+3]) */
static MCU_ALWAYS_INLINE void row_s1_asm(const int8_t *p, const int32_t *kt, int32_t n2, int8_t *out, int32_t out_cs)
{
    int32_t s0, s1, u, v, wa, wb, t;
    __asm__ volatile(
        "1:\n\t"
        "ldr    %[s0], [%[kt], #24]\n\t"
        "mov    %[s1], %[s0]\n\t"
        DW_TAPS1("0", "0") DW_TAPS1("1", "8") DW_TAPS1("2", "16")
        "ldrd   %[wa], %[wb], [%[kt], #28]\n\t"
        "ldr    %[t], [%[kt], #36]\n\t"
        DW_RQ("s0") DW_RQ("s1")
        "strb   %[s1], [%[out], %[cs]]\n\t"
        "strb   %[s0], [%[out]]\n\t"
        "add    %[out], %[out], %[cs], lsl #1\n\t"
        "add    %[p], %[p], #12\n\t"
        "subs   %[n], %[n], #1\n\t"
        "bne    1b\n\t"
        : [s0] "=&r"(s0), [s1] "=&r"(s1), [u] "=&r"(u), [v] "=&r"(v), [wa] "=&r"(wa), [wb] "=&r"(wb), [t] "=&r"(t),
          [p] "+r"(p), [out] "+r"(out), [n] "+r"(n2)
        : [kt] "r"(kt), [cs] "r"(out_cs)
        : "cc", "memory");
}

/* stride 2, one output per pass: (r[2x], r[2x+1]) and r[2x+2] */
#define DW_TAPS2(S, W)                                         \
    "ldrd   %[wa], %[wb], [%[kt], #" W "]\n\t"                 \
    "ldr    %[u], [%[p], #" S "*4]\n\t"                        \
    "ldr    %[v], [%[p], #12+" S "*4]\n\t"                     \
    "smlad  %[s0], %[u], %[wa], %[s0]\n\t"                     \
    "smlabt %[s0], %[v], %[wb], %[s0]\n\t"

static MCU_ALWAYS_INLINE void row_s2_asm(const int8_t *p, const int32_t *kt, int32_t n, int8_t *out, int32_t out_cs)
{
    int32_t s0, u, v, wa, wb, t;
    __asm__ volatile(
        "1:\n\t"
        "ldr    %[s0], [%[kt], #24]\n\t"
        DW_TAPS2("0", "0") DW_TAPS2("1", "8") DW_TAPS2("2", "16")
        "ldrd   %[wa], %[wb], [%[kt], #28]\n\t"
        "ldr    %[t], [%[kt], #36]\n\t"
        DW_RQ("s0")
        "strb   %[s0], [%[out]]\n\t"
        "add    %[out], %[out], %[cs]\n\t"
        "add    %[p], %[p], #12\n\t"
        "subs   %[n], %[n], #1\n\t"
        "bne    1b\n\t"
        : [s0] "=&r"(s0), [u] "=&r"(u), [v] "=&r"(v), [wa] "=&r"(wa), [wb] "=&r"(wb), [t] "=&r"(t), [p] "+r"(p),
          [out] "+r"(out), [n] "+r"(n)
        : [kt] "r"(kt), [cs] "r"(out_cs)
        : "cc", "memory");
}
#endif

void mcu_depthwise_conv_3x3_s8(const mcu_dw_conv_params_s8 *p, const int8_t *in, const int8_t *w,
                               const int32_t *bias, int8_t *out, int8_t *scratch)
{
    const int32_t c_n = p->in_c, T = p->transposed;
    /* the problem in processing orientation: rows x cols, element steps */
    const int32_t rows = T ? p->out_w : p->out_h, cols = T ? p->out_h : p->out_w;
    const int32_t in_rows = T ? p->in_w : p->in_h, in_cols = T ? p->in_h : p->in_w;
    const int32_t sr = T ? p->stride_w : p->stride_h, sc = T ? p->stride_h : p->stride_w;
    const int32_t pr = T ? p->pad_w : p->pad_h, pc = T ? p->pad_h : p->pad_w;
    const int32_t in_rs = T ? c_n : p->in_w * c_n, in_cs = T ? p->in_w * c_n : c_n;
    const int32_t out_rs = T ? c_n : p->out_w * c_n, out_cs = T ? p->out_w * c_n : c_n;
    const int32_t n_words = MCU_DW3X3_WORDS(cols, sc), zp = p->input_zp, lo = p->act_min, hi = p->act_max;
#if defined(MCU_DSP_ASM)
    const int32_t asm_ok = p->rq_fast && lo == -128 && hi == 127; /* the loops clamp with SSAT */
#endif
    int8_t *buf = scratch;
    int32_t b, c, oy, j;

    for (b = 0; b < p->batches; ++b) {
        const int8_t *img = in + b * p->in_h * p->in_w * c_n;
        int8_t *out_img = out + b * p->out_h * p->out_w * c_n;
        for (c = 0; c < c_n; ++c) {
            const int8_t *k = w + 9 * c;
            /* kt[r]: the constants for output rows whose first input row is
             * r mod 3, i.e. slot j holds kernel row (j - r) mod 3 */
            int32_t kc[6], kt[3][KT_N];
            int32_t next = -pr, slot = ((-pr % 3) + 3) % 3, rot = slot, r;
            for (j = 0; j < 3; ++j) {
                kc[2 * j] = pair16(k[3 * j], k[3 * j + 1]);
                kc[2 * j + 1] = pair16(k[3 * j + 1], k[3 * j + 2]);
            }
            for (r = 0; r < 3; ++r) {
                for (j = 0; j < 3; ++j) {
                    const int32_t kr = j - r < 0 ? j - r + 3 : j - r;
                    kt[r][2 * j] = kc[2 * kr];
                    kt[r][2 * j + 1] = kc[2 * kr + 1];
                }
                kt[r][KT_BIAS] = bias[c];
                kt[r][KT_M] = p->rq[3 * c];
                kt[r][KT_SH] = p->rq[3 * c + 1];
                kt[r][KT_ADD] = p->rq[3 * c + 2];
            }
            for (oy = 0; oy < rows; ++oy) {
                const int32_t iy0 = oy * sr - pr;
                const int32_t *kr = kt[rot];
                int8_t *dst = out_img + oy * out_rs + c;
                for (; next <= iy0 + 2; ++next) {
                    fill_row(buf + 4 * slot, (next >= 0 && next < in_rows) ? img + next * in_rs + c : NULL, in_cs,
                             in_cols, pc, n_words, zp);
                    slot = slot == 2 ? 0 : slot + 1;
                }
                rot += sr;
                while (rot >= 3) rot -= 3;
#if defined(MCU_DSP_ASM)
                if (asm_ok && sc == 1) {
                    const int32_t n2 = cols >> 1;
                    if (n2 > 0) row_s1_asm(buf, kr, n2, dst, out_cs);
                    /* an odd last output: the stride-2 loop's formula is the same */
                    if (cols & 1) row_s2_asm(buf + 12 * n2, kr, 1, dst + 2 * n2 * out_cs, out_cs);
                    continue;
                }
                if (asm_ok && sc == 2) {
                    row_s2_asm(buf, kr, cols, dst, out_cs);
                    continue;
                }
#endif
                row_c(buf, kr, cols, sc, dst, out_cs, lo, hi);
            }
        }
    }
}
