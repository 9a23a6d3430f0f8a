/* mcu_cw_internal.h - internal: readers of compressed weight streams
 * (mcu_nn_compressed.h) and the loops the compressed kernels share.
 *
 * A kernel walks the rows (output channels) of its weight matrix in stream
 * order; a row walker decodes one row and multiplies each stored weight
 * with one input column (pix 1) or with four (pix 4). Four-column walks
 * read the columns from scratch, where they are gathered once per pass as
 * int16 pairs, column j at words 2j (columns 0 and 1) and 2j + 1 (2 and 3):
 * one LDRD fetches the four values a decoded weight multiplies, so the
 * decode cost of a weight is shared by four MACs. Convolutions gather four
 * output pixels' windows, FULLY_CONNECTED four batch rows.
 *
 * The walkers are generic code instantiated with constant flags (index
 * width, kind of values, one or four columns) inside small out-of-line
 * functions: each inner loop gets the register file to itself instead of
 * competing with the driver's loop state. The drivers are inlined into each
 * kernel with a constant `mode`, so a kernel file only contains the
 * walkers of its own format and a firmware links only what its layers use.
 *
 * Accumulation is int32 with wrap-around, as TFLM's: sums are kept in
 * uint32_t (or DSP multiply-accumulates, which wrap), and the bias is added
 * with a wrapping add at the end.
 *
 * With gcc on Thumb-2 cores with the DSP extension (MCU_CW_ASM) the hot
 * loops are inline assembly: CSR rows with int8 values (a halfword of
 * index codes an iteration), CSR+LUT rows against one column, LUT rows of
 * any code width, and depthwise four-pixel tap loops. gcc's allocator
 * otherwise keeps copies of the accumulators and spills inside them. The
 * C loops beside them compute the same sums and are what hosts (and their
 * sanitizers) and other cores run; the QEMU Cortex-M4 tests run the
 * assembly against the same reference outputs.
 */
#ifndef MCU_CW_INTERNAL_H
#define MCU_CW_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "mcu_fixedpoint.h"
#include "mcu_nn_compressed.h"

#if defined(__GNUC__) || defined(__clang__)
#define MCU_CW_INLINE static inline __attribute__((always_inline))
#define MCU_CW_ROW static __attribute__((noinline, unused))
#define MCU_CW_LIKELY(x) __builtin_expect(!!(x), 1)
#define MCU_CW_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define MCU_CW_INLINE static inline
#define MCU_CW_ROW static
#define MCU_CW_LIKELY(x) (x)
#define MCU_CW_UNLIKELY(x) (x)
#endif

#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "mcugen's weight streams are little-endian"
#endif

/* __ssat needs arm_acle.h on cores with SSAT but no DSP extension (M3) too */
#if defined(__ARM_FEATURE_SAT) && !defined(MCU_NO_DSP)
#include <arm_acle.h>
#endif

/* ---- 16-bit multiply-accumulates --------------------------------------------------
 * acc + w * (bottom or top int16 half of v), wrapping. With the DSP
 * extension each is one SMLABB / SMLABT; elsewhere plain C. */
#if defined(__ARM_FEATURE_DSP) && !defined(MCU_NO_DSP)
#include <arm_acle.h>
#define MCU_CW_DSP 1
MCU_CW_INLINE uint32_t mcu_cw_mlab(int32_t w, int32_t v, uint32_t acc) { return (uint32_t)__smlabb(w, v, (int32_t)acc); }
MCU_CW_INLINE uint32_t mcu_cw_mlat(int32_t w, int32_t v, uint32_t acc) { return (uint32_t)__smlabt(w, v, (int32_t)acc); }
MCU_CW_INLINE uint32_t mcu_cw_mlad(int32_t a, int32_t b, uint32_t acc) { return (uint32_t)__smlad(a, b, (int32_t)acc); }
MCU_CW_INLINE int32_t mcu_cw_sxtb16(int32_t x) { return __sxtb16(x); }
#if defined(__GNUC__) && !defined(__clang__)
MCU_CW_INLINE int32_t mcu_cw_sxtb16_ror8(int32_t x)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
#else
MCU_CW_INLINE int32_t mcu_cw_sxtb16_ror8(int32_t x) { return __sxtb16((int32_t)(((uint32_t)x >> 8) | ((uint32_t)x << 24))); }
#endif
#else
#define MCU_CW_DSP 0
MCU_CW_INLINE uint32_t mcu_cw_mlab(int32_t w, int32_t v, uint32_t acc)
{
    return acc + (uint32_t)(w * (int32_t)(int16_t)(uint16_t)(uint32_t)v);
}
MCU_CW_INLINE uint32_t mcu_cw_mlat(int32_t w, int32_t v, uint32_t acc)
{
    return acc + (uint32_t)(w * (int32_t)(int16_t)(uint16_t)((uint32_t)v >> 16));
}
#endif

/* An int16 pair: a in the bottom half, b in the top. */
MCU_CW_INLINE int32_t mcu_cw_pack16(int32_t a, int32_t b)
{
    return (int32_t)(((uint32_t)a & 0xFFFFu) | ((uint32_t)b << 16));
}

MCU_CW_INLINE int32_t mcu_cw_read32(const void *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

enum { MCU_CW_CSR = 0, MCU_CW_CSR_LUT = 1, MCU_CW_LUT = 2 };

typedef struct {
    int32_t idx_bits;
    const uint8_t *row_len8;
    const uint16_t *row_len16;
    const uint32_t *row_len32;
    const uint8_t *idx;
    const int8_t *values;
    int32_t lut_bits;
    const uint8_t *codes;
    const int8_t *codebook;
    const uint8_t *book_len;
    int32_t book_n;
    int32_t cols;
    const uint8_t *col_map;
    int32_t col_pairs;
    /* multi-pass kernels: the per-row books (LUT) or decode tables
     * (CSR+LUT), decoded into scratch on the first pass; NULL: rebuilt
     * every pass */
    int8_t *cache;
    int32_t cache_ready;
} mcu_cw_t;

#define MCU_CW_LOAD(cw, p)                 \
    do {                                   \
        (cw).idx_bits = (p)->idx_bits;     \
        (cw).row_len8 = (p)->row_len8;     \
        (cw).row_len16 = (p)->row_len16;   \
        (cw).row_len32 = (p)->row_len32;   \
        (cw).idx = (p)->idx;               \
        (cw).values = (p)->values;         \
        (cw).lut_bits = (p)->lut_bits;     \
        (cw).codes = (p)->codes;           \
        (cw).codebook = (p)->codebook;     \
        (cw).book_len = (p)->book_len;     \
        (cw).book_n = (p)->book_n;         \
        (cw).cols = (p)->cols;             \
        (cw).col_map = (p)->col_map;       \
        (cw).col_pairs = (p)->col_pairs;   \
        (cw).cache = 0;                    \
        (cw).cache_ready = 0;              \
    } while (0)

/* Position in the weight streams. Rows are visited in order, so one pass
 * is a straight walk; the next pass restarts with mcu_cw_start. */
typedef struct {
    const uint8_t *idx;  /* CSR codes */
    const int8_t *val;   /* CSR values */
    const uint8_t *cp;   /* LUT code bits: next byte */
    uint32_t buf, nbits; /* bits read but not used yet, low first */
    const int8_t *book;  /* the current row's book */
    const int8_t *next_book;
    uint32_t w, mask;    /* code width */
    const int32_t *tab;  /* CSR+LUT: the decode table (per tensor, or the current row's) */
    int8_t *cache_at;    /* the current row's place in cw->cache */
    union {
        int8_t book[128]; /* LUT: a per-row book, rebuilt from its deltas */
        int32_t tab[128]; /* CSR+LUT: value << 16 | code length, by the next w stream bits */
    } row;
} mcu_cw_rd_t;

/* CSR+LUT values decode through a table indexed by the next w stream bits
 * whose entries are value << 16 | code length: one lookup, no branch, and
 * SMLATB takes the value straight from the top half. Per-row books use
 * truncated-binary codes: the u = 2^w - n short codes (book index i < u,
 * w - 1 bits) own the two entries i and i + 2^(w-1), every other index i
 * the one entry i (i < 2^(w-1)) or i + u. A per-tensor book has plain
 * w-bit codes (entry i is book[i]). */
MCU_CW_INLINE int32_t mcu_cw_tab_entry(uint32_t v, uint32_t len)
{
    return (int32_t)(((uint32_t)(int32_t)(int8_t)(uint8_t)v << 16) | len);
}

MCU_CW_ROW void mcu_cw_build_tab(int32_t *tab, const int8_t *d, uint32_t n, uint32_t w)
{
    /* the running value in the top byte: an arithmetic shift by 8 is then
     * the entry's sign-extended value << 16 */
    const uint32_t half = (1u << w) >> 1, u = (1u << w) - n;
    uint32_t i, v = 0;
    for (i = 0; i < u; ++i) {
        const int32_t e = (int32_t)((uint32_t)((int32_t)(v += (uint32_t)(uint8_t)d[i] << 24) >> 8) | (w - 1u));
        tab[i] = e;
        tab[i + half] = e;
    }
    for (; i < half; ++i) tab[i] = (int32_t)((uint32_t)((int32_t)(v += (uint32_t)(uint8_t)d[i] << 24) >> 8) | w);
    for (; i < n; ++i) tab[i + u] = (int32_t)((uint32_t)((int32_t)(v += (uint32_t)(uint8_t)d[i] << 24) >> 8) | w);
}

MCU_CW_ROW void mcu_cw_build_tab_pt(int32_t *tab, const int8_t *book, uint32_t n, uint32_t w)
{
    uint32_t i;
    for (i = 0; i < (1u << w); ++i) tab[i] = mcu_cw_tab_entry(i < n ? (uint8_t)book[i] : 0u, w); /* codes >= n never occur */
}

MCU_CW_ROW void mcu_cw_build_book(int8_t *book, const int8_t *d, uint32_t n)
{
    uint32_t i, v = 0;
    for (i = 0; i < n; ++i) {
        v += (uint8_t)d[i];
        book[i] = (int8_t)(uint8_t)v;
    }
}

MCU_CW_INLINE void mcu_cw_start(mcu_cw_rd_t *rd, const mcu_cw_t *cw)
{
    rd->idx = cw->idx;
    rd->val = cw->values;
    rd->cp = cw->codes;
    rd->buf = 0;
    rd->nbits = 0;
    rd->book = cw->codebook;
    rd->next_book = cw->codebook;
    rd->w = (uint32_t)cw->lut_bits;
    rd->mask = (1u << rd->w) - 1u;
    rd->tab = rd->row.tab;
    rd->cache_at = cw->cache;
    if (cw->idx != NULL && cw->codes != NULL && cw->book_len == NULL)
        mcu_cw_build_tab_pt(rd->row.tab, cw->codebook, (uint32_t)cw->book_n, rd->w); /* CSR+LUT, one book */
}

MCU_CW_INLINE void mcu_cw_row(mcu_cw_rd_t *rd, const mcu_cw_t *cw, int32_t r, const int mode)
{
    if (mode != MCU_CW_CSR && cw->book_len != NULL) {
        const uint32_t n = cw->book_len[r];
        const uint32_t w = (uint32_t)(n > 1u) + (n > 2u) + (n > 4u) + (n > 8u) + (n > 16u) + (n > 32u) + (n > 64u);
        if (mode == MCU_CW_CSR_LUT) {
            if (n != 0u) mcu_cw_build_tab(rd->row.tab, rd->next_book, n, w); /* an empty row reads no code */
        } else if (cw->cache != NULL) {
            /* LUT books kept over passes, each n bytes rounded up to even */
            int8_t *at = rd->cache_at;
            if (!cw->cache_ready) mcu_cw_build_book(at, rd->next_book, n);
            rd->book = at;
            rd->cache_at = at + ((n + 1u) & ~1u);
        } else {
            mcu_cw_build_book(rd->row.book, rd->next_book, n);
            rd->book = rd->row.book;
        }
        rd->next_book += n;
        rd->w = w;
        rd->mask = (1u << w) - 1u;
    }
}

/* idx bytes of row r */
MCU_CW_INLINE int32_t mcu_cw_row_bytes(const mcu_cw_t *cw, int32_t r)
{
    if (cw->row_len8 != NULL) return cw->row_len8[r];
    if (cw->row_len16 != NULL) return cw->row_len16[r];
    return (int32_t)cw->row_len32[r];
}

/* ---- values of stored weights --------------------------------------------------------- */

/* The next code's book value, on locals. A code is at most 7 bits, so one
 * byte always refills enough (and the refill never reads past the byte
 * holding the code's last bit). */
#define MCU_CW_NEXT_CODE(wv)                             \
    do {                                                 \
        if (nb < w) {                                    \
            buf |= (uint32_t)*cp++ << nb;                \
            nb += 8u;                                    \
        }                                                \
        (wv) = book[buf & mask];                         \
        buf >>= w;                                       \
        nb -= w;                                         \
    } while (0)

/* The next CSR+LUT value, through the decode table. Refilling whenever
 * fewer than 7 bits are buffered may read one byte past the last code:
 * the encoder ends these streams with spare zero bytes. */
#define MCU_CW_NEXT_TAB(wv)                              \
    do {                                                 \
        int32_t e_;                                      \
        if (nb < 7u) {                                   \
            buf |= (uint32_t)*cp++ << nb;                \
            nb += 8u;                                    \
        }                                                \
        e_ = tab[buf & mask];                            \
        (wv) = e_ >> 16;                                 \
        buf >>= (uint32_t)e_ & 255u;                     \
        nb -= (uint32_t)e_ & 255u;                       \
    } while (0)

/* vals: 0 int8 values, 1 codes through the decode table */
#define MCU_CW_VALUE(wv)            \
    do {                            \
        if (vals)                   \
            MCU_CW_NEXT_TAB(wv);    \
        else                        \
            (wv) = *vp++;           \
    } while (0)

/* ---- MACs of one decoded weight ---------------------------------------------------------
 * pix 1: s0 += w * x[c]. pix 4: the four columns' int16 values of column c
 * (word pair xs[2c], xs[2c + 1]). */
#define MCU_CW_MAC(wv, col)                                          \
    do {                                                             \
        if (pix == 1) {                                              \
            s0 += (uint32_t)((wv) * x[col]);                         \
        } else {                                                     \
            const int32_t *q_ = xs + 2 * (col);                      \
            const int32_t a_ = q_[0], b_ = q_[1];                    \
            s0 = mcu_cw_mlab((wv), a_, s0);                          \
            s1 = mcu_cw_mlat((wv), a_, s1);                          \
            s2 = mcu_cw_mlab((wv), b_, s2);                          \
            s3 = mcu_cw_mlat((wv), b_, s3);                          \
        }                                                            \
    } while (0)

#define MCU_CW_ACC_OUT()              \
    do {                              \
        acc[0] = (int32_t)s0;         \
        if (pix == 4) {               \
            acc[1] = (int32_t)s1;     \
            acc[2] = (int32_t)s2;     \
            acc[3] = (int32_t)s3;     \
        }                             \
    } while (0)

/* ---- CSR rows ----------------------------------------------------------------------------- */

/* One CSR code k: a filler (0) moves esc columns on; any other code moves
 * k columns on to the next stored value. The column is an integer, so a
 * filler past the row end forms no pointer. */
#define MCU_CW_TAKE(k, esc)                        \
    do {                                           \
        if (MCU_CW_LIKELY((k) != 0u)) {            \
            int32_t wv;                            \
            c += (int32_t)(k);                     \
            MCU_CW_VALUE(wv);                      \
            MCU_CW_MAC(wv, c);                     \
        } else {                                   \
            c += (esc);                            \
        }                                          \
    } while (0)

#if MCU_CW_DSP && defined(__GNUC__) && !defined(__clang__) && defined(__OPTIMIZE__) && defined(__thumb2__)
#define MCU_CW_ASM 1
/* The int8-value CSR rows in assembly: gcc's allocator otherwise keeps
 * copies of the accumulators and spills inside the loop. Fillers branch
 * out of line. pix 4: p walks the column pairs, 8 bytes a column. */
/* Halfword-unrolled bodies (four 4-bit or two 8-bit codes an iteration):
 * each code's shift folds into the address add; fillers branch out of line. */
#define MCU_CW_CSR_H4_P4 \
    "1:\n\t" \
    "ldrh   %[b], [%[ix]], #2\n\t" \
    "ands   %[k], %[b], #15\n\t" \
    "beq    30f\n\t" \
    "add    %[p], %[p], %[k], lsl #3\n\t" \
    "ldrsb  %[w], [%[vp]], #1\n\t" \
    "ldrd   %[a], %[e], [%[p]]\n\t" \
    "smlabb %[s0], %[w], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[w], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[w], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[w], %[e], %[s3]\n\t" \
    "40:\n\t" \
    "ands   %[k], %[b], #240\n\t" \
    "beq    31f\n\t" \
    "add    %[p], %[p], %[k], lsr #1\n\t" \
    "ldrsb  %[w], [%[vp]], #1\n\t" \
    "ldrd   %[a], %[e], [%[p]]\n\t" \
    "smlabb %[s0], %[w], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[w], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[w], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[w], %[e], %[s3]\n\t" \
    "41:\n\t" \
    "ands   %[k], %[b], #3840\n\t" \
    "beq    32f\n\t" \
    "add    %[p], %[p], %[k], lsr #5\n\t" \
    "ldrsb  %[w], [%[vp]], #1\n\t" \
    "ldrd   %[a], %[e], [%[p]]\n\t" \
    "smlabb %[s0], %[w], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[w], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[w], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[w], %[e], %[s3]\n\t" \
    "42:\n\t" \
    "lsrs   %[k], %[b], #12\n\t" \
    "beq    33f\n\t" \
    "add    %[p], %[p], %[k], lsl #3\n\t" \
    "ldrsb  %[w], [%[vp]], #1\n\t" \
    "ldrd   %[a], %[e], [%[p]]\n\t" \
    "smlabb %[s0], %[w], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[w], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[w], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[w], %[e], %[s3]\n\t" \
    "43:\n\t" \
    "cmp    %[ix], %[end]\n\t" \
    "bne    1b\n\t" \
    "b      9f\n\t" \
    "30:\n\t" \
    "add    %[p], %[p], #120\n\t" \
    "b      40b\n\t" \
    "31:\n\t" \
    "add    %[p], %[p], #120\n\t" \
    "b      41b\n\t" \
    "32:\n\t" \
    "add    %[p], %[p], #120\n\t" \
    "b      42b\n\t" \
    "33:\n\t" \
    "add    %[p], %[p], #120\n\t" \
    "b      43b\n\t" \
    "9:\n\t"

#define MCU_CW_CSR_H4_P1 \
    "1:\n\t" \
    "ldrh   %[b], [%[ix]], #2\n\t" \
    "ands   %[k], %[b], #15\n\t" \
    "beq    30f\n\t" \
    "add    %[p], %[p], %[k]\n\t" \
    "ldrsb  %[w], [%[vp]], #1\n\t" \
    "ldrsb  %[a], [%[p]]\n\t" \
    "smlabb %[s0], %[w], %[a], %[s0]\n\t" \
    "40:\n\t" \
    "ands   %[k], %[b], #240\n\t" \
    "beq    31f\n\t" \
    "add    %[p], %[p], %[k], lsr #4\n\t" \
    "ldrsb  %[w], [%[vp]], #1\n\t" \
    "ldrsb  %[a], [%[p]]\n\t" \
    "smlabb %[s0], %[w], %[a], %[s0]\n\t" \
    "41:\n\t" \
    "ands   %[k], %[b], #3840\n\t" \
    "beq    32f\n\t" \
    "add    %[p], %[p], %[k], lsr #8\n\t" \
    "ldrsb  %[w], [%[vp]], #1\n\t" \
    "ldrsb  %[a], [%[p]]\n\t" \
    "smlabb %[s0], %[w], %[a], %[s0]\n\t" \
    "42:\n\t" \
    "lsrs   %[k], %[b], #12\n\t" \
    "beq    33f\n\t" \
    "add    %[p], %[p], %[k]\n\t" \
    "ldrsb  %[w], [%[vp]], #1\n\t" \
    "ldrsb  %[a], [%[p]]\n\t" \
    "smlabb %[s0], %[w], %[a], %[s0]\n\t" \
    "43:\n\t" \
    "cmp    %[ix], %[end]\n\t" \
    "bne    1b\n\t" \
    "b      9f\n\t" \
    "30:\n\t" \
    "add    %[p], %[p], #15\n\t" \
    "b      40b\n\t" \
    "31:\n\t" \
    "add    %[p], %[p], #15\n\t" \
    "b      41b\n\t" \
    "32:\n\t" \
    "add    %[p], %[p], #15\n\t" \
    "b      42b\n\t" \
    "33:\n\t" \
    "add    %[p], %[p], #15\n\t" \
    "b      43b\n\t" \
    "9:\n\t"

#define MCU_CW_CSR_H8_P4 \
    "1:\n\t" \
    "ldrh   %[b], [%[ix]], #2\n\t" \
    "ands   %[k], %[b], #255\n\t" \
    "beq    30f\n\t" \
    "add    %[p], %[p], %[k], lsl #3\n\t" \
    "ldrsb  %[w], [%[vp]], #1\n\t" \
    "ldrd   %[a], %[e], [%[p]]\n\t" \
    "smlabb %[s0], %[w], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[w], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[w], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[w], %[e], %[s3]\n\t" \
    "40:\n\t" \
    "lsrs   %[k], %[b], #8\n\t" \
    "beq    31f\n\t" \
    "add    %[p], %[p], %[k], lsl #3\n\t" \
    "ldrsb  %[w], [%[vp]], #1\n\t" \
    "ldrd   %[a], %[e], [%[p]]\n\t" \
    "smlabb %[s0], %[w], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[w], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[w], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[w], %[e], %[s3]\n\t" \
    "41:\n\t" \
    "cmp    %[ix], %[end]\n\t" \
    "bne    1b\n\t" \
    "b      9f\n\t" \
    "30:\n\t" \
    "add    %[p], %[p], #2040\n\t" \
    "b      40b\n\t" \
    "31:\n\t" \
    "add    %[p], %[p], #2040\n\t" \
    "b      41b\n\t" \
    "9:\n\t"

#define MCU_CW_CSR_H8_P1 \
    "1:\n\t" \
    "ldrh   %[b], [%[ix]], #2\n\t" \
    "ands   %[k], %[b], #255\n\t" \
    "beq    30f\n\t" \
    "add    %[p], %[p], %[k]\n\t" \
    "ldrsb  %[w], [%[vp]], #1\n\t" \
    "ldrsb  %[a], [%[p]]\n\t" \
    "smlabb %[s0], %[w], %[a], %[s0]\n\t" \
    "40:\n\t" \
    "lsrs   %[k], %[b], #8\n\t" \
    "beq    31f\n\t" \
    "add    %[p], %[p], %[k]\n\t" \
    "ldrsb  %[w], [%[vp]], #1\n\t" \
    "ldrsb  %[a], [%[p]]\n\t" \
    "smlabb %[s0], %[w], %[a], %[s0]\n\t" \
    "41:\n\t" \
    "cmp    %[ix], %[end]\n\t" \
    "bne    1b\n\t" \
    "b      9f\n\t" \
    "30:\n\t" \
    "add    %[p], %[p], #255\n\t" \
    "b      40b\n\t" \
    "31:\n\t" \
    "add    %[p], %[p], #255\n\t" \
    "b      41b\n\t" \
    "9:\n\t"

/* One index byte: a row's odd byte. */
#define MCU_CW_CSR_B4_P4 \
    "ldrb   %[b], [%[ix]], #1\n\t" \
    "ands   %[k], %[b], #15\n\t" \
    "beq    50f\n\t" \
    "add    %[p], %[p], %[k], lsl #3\n\t" \
    "ldrsb  %[w], [%[vp]], #1\n\t" \
    "ldrd   %[a], %[e], [%[p]]\n\t" \
    "smlabb %[s0], %[w], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[w], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[w], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[w], %[e], %[s3]\n\t" \
    "60:\n\t" \
    "lsrs   %[k], %[b], #4\n\t" \
    "beq    51f\n\t" \
    "add    %[p], %[p], %[k], lsl #3\n\t" \
    "ldrsb  %[w], [%[vp]], #1\n\t" \
    "ldrd   %[a], %[e], [%[p]]\n\t" \
    "smlabb %[s0], %[w], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[w], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[w], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[w], %[e], %[s3]\n\t" \
    "61:\n\t" \
    "b      69f\n\t" \
    "50:\n\t" \
    "add    %[p], %[p], #120\n\t" \
    "b      60b\n\t" \
    "51:\n\t" \
    "add    %[p], %[p], #120\n\t" \
    "b      61b\n\t" \
    "69:\n\t"

#define MCU_CW_CSR_B4_P1 \
    "ldrb   %[b], [%[ix]], #1\n\t" \
    "ands   %[k], %[b], #15\n\t" \
    "beq    50f\n\t" \
    "add    %[p], %[p], %[k]\n\t" \
    "ldrsb  %[w], [%[vp]], #1\n\t" \
    "ldrsb  %[a], [%[p]]\n\t" \
    "smlabb %[s0], %[w], %[a], %[s0]\n\t" \
    "60:\n\t" \
    "lsrs   %[k], %[b], #4\n\t" \
    "beq    51f\n\t" \
    "add    %[p], %[p], %[k]\n\t" \
    "ldrsb  %[w], [%[vp]], #1\n\t" \
    "ldrsb  %[a], [%[p]]\n\t" \
    "smlabb %[s0], %[w], %[a], %[s0]\n\t" \
    "61:\n\t" \
    "b      69f\n\t" \
    "50:\n\t" \
    "add    %[p], %[p], #15\n\t" \
    "b      60b\n\t" \
    "51:\n\t" \
    "add    %[p], %[p], #15\n\t" \
    "b      61b\n\t" \
    "69:\n\t"

#define MCU_CW_CSR_B8_P4 \
    "ldrb   %[b], [%[ix]], #1\n\t" \
    "ands   %[k], %[b], #255\n\t" \
    "beq    50f\n\t" \
    "add    %[p], %[p], %[k], lsl #3\n\t" \
    "ldrsb  %[w], [%[vp]], #1\n\t" \
    "ldrd   %[a], %[e], [%[p]]\n\t" \
    "smlabb %[s0], %[w], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[w], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[w], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[w], %[e], %[s3]\n\t" \
    "60:\n\t" \
    "b      69f\n\t" \
    "50:\n\t" \
    "add    %[p], %[p], #2040\n\t" \
    "b      60b\n\t" \
    "69:\n\t"

#define MCU_CW_CSR_B8_P1 \
    "ldrb   %[b], [%[ix]], #1\n\t" \
    "ands   %[k], %[b], #255\n\t" \
    "beq    50f\n\t" \
    "add    %[p], %[p], %[k]\n\t" \
    "ldrsb  %[w], [%[vp]], #1\n\t" \
    "ldrsb  %[a], [%[p]]\n\t" \
    "smlabb %[s0], %[w], %[a], %[s0]\n\t" \
    "60:\n\t" \
    "b      69f\n\t" \
    "50:\n\t" \
    "add    %[p], %[p], #255\n\t" \
    "b      60b\n\t" \
    "69:\n\t"

#define MCU_CW_CSR_ASM(body)                                                                               \
    __asm__ volatile(body                                                                                  \
                     : [ix] "+&r"(ix), [vp] "+&r"(vp), [p] "+&r"(p), [s0] "+&r"(s0), [s1] "+&r"(s1),          \
                       [s2] "+&r"(s2), [s3] "+&r"(s3), [b] "=&r"(b), [k] "=&r"(k), [w] "=&r"(w), [a] "=&r"(a), \
                       [e] "=&r"(e)                                                                        \
                     : [end] "r"(end)                                                                      \
                     : "cc", "memory")
MCU_CW_INLINE void mcu_cw_csr_asm(const uint8_t **pix_, const uint8_t *end, const int8_t **pvp, const void *cols,
                                  const int idx4, const int pix, uint32_t *s)
{
    const uint8_t *ix = *pix_;
    const int8_t *vp = *pvp;
    uint32_t s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3], b, k, w, a, e;
    const int8_t *p = (const int8_t *)cols;
    if (ix == end) return;
    /* to column -1 (never read): in assembly, where it forms no C pointer */
    if (pix == 4)
        __asm__("sub    %0, %0, #8" : "+r"(p));
    else
        __asm__("sub    %0, %0, #1" : "+r"(p));
    if ((end - ix) & 1) {
        if (pix == 4 && idx4)
            MCU_CW_CSR_ASM(MCU_CW_CSR_B4_P4);
        else if (pix == 4)
            MCU_CW_CSR_ASM(MCU_CW_CSR_B8_P4);
        else if (idx4)
            MCU_CW_CSR_ASM(MCU_CW_CSR_B4_P1);
        else
            MCU_CW_CSR_ASM(MCU_CW_CSR_B8_P1);
    }
    if (ix != end) {
        if (pix == 4 && idx4)
            MCU_CW_CSR_ASM(MCU_CW_CSR_H4_P4);
        else if (pix == 4)
            MCU_CW_CSR_ASM(MCU_CW_CSR_H8_P4);
        else if (idx4)
            MCU_CW_CSR_ASM(MCU_CW_CSR_H4_P1);
        else
            MCU_CW_CSR_ASM(MCU_CW_CSR_H8_P1);
    }
    *pix_ = ix;
    *pvp = vp;
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
}
#endif

#ifdef MCU_CW_ASM
/* 4-bit LUT codes, whole bytes of them, against four columns (pix 4):
 * each code's book value multiplies one LDRD of column pairs. */
#define MCU_CW_LUT_MAC4                                     \
    "ldrsb  %[k], [%[book], %[k]]\n\t"                      \
    "ldrd   %[a], %[e], [%[p]], #8\n\t"                     \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t"                   \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t"                   \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t"                   \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t"
#define MCU_CW_LUT_ASM(load, body)                                                                             \
    __asm__ volatile("1:\n\t" load body "cmp    %[cp], %[end]\n\t"                                                \
                     "bne    1b\n\t"                                                                          \
                     : [cp] "+&r"(cp), [p] "+&r"(p), [s0] "+&r"(s0), [s1] "+&r"(s1), [s2] "+&r"(s2),           \
                       [s3] "+&r"(s3), [b] "=&r"(b), [k] "=&r"(k), [a] "=&r"(a), [e] "=&r"(e)                  \
                     : [end] "r"(end), [book] "r"(book)                                                       \
                     : "cc", "memory")
#define MCU_CW_LB "ldrb   %[b], [%[cp]], #1\n\t"
#define MCU_CW_LH "ldrh   %[b], [%[cp]], #2\n\t"
#define MCU_CW_X(lsb, w) "ubfx   %[k], %[b], #" #lsb ", #" #w "\n\t" MCU_CW_LUT_MAC4
/* nbytes bytes of codes: an odd byte first, then halfwords (unaligned
 * LDRH is fine on every core with the DSP extension) */
MCU_CW_INLINE void mcu_cw_lut_asm4(const uint8_t **pcp, int32_t nbytes, const int8_t *book, const int32_t *xs,
                                   uint32_t w, uint32_t *s)
{
    const uint8_t *cp = *pcp, *end = cp + (nbytes & 1);
    const int32_t *p = xs;
    uint32_t s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3], b, k, a, e;
    (void)w; /* 4-bit codes only */
    if (cp != end) MCU_CW_LUT_ASM(MCU_CW_LB, MCU_CW_X(0, 4) MCU_CW_X(4, 4));
    end = cp + (nbytes & ~1);
    if (cp != end) MCU_CW_LUT_ASM(MCU_CW_LH, MCU_CW_X(0, 4) MCU_CW_X(4, 4) MCU_CW_X(8, 4) MCU_CW_X(12, 4));
    *pcp = cp;
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
}
#endif

#ifdef MCU_CW_ASM
/* CSR+LUT against one column: per stored value, the next code's table
 * entry (value << 16 | length) feeds SMLATB directly. 4-bit indices
 * refill 16 code bits at each index byte that finds fewer than 14 (two
 * values' worth), 8-bit ones a byte when fewer than 7. */
#define MCU_CW_TAB_VALUE                                   \
    "and    %[k], %[buf], %[mask]\n\t"                     \
    "ldr    %[e], [%[tab], %[k], lsl #2]\n\t"              \
    "ldrsb  %[xv], [%[p]]\n\t"                             \
    "uxtb   %[k], %[e]\n\t"                                \
    "lsr    %[buf], %[buf], %[k]\n\t"                      \
    "sub    %[nb], %[nb], %[k]\n\t"                        \
    "smlatb %[s0], %[e], %[xv], %[s0]\n\t"
MCU_CW_INLINE void mcu_cw_csr_tab_asm1(mcu_cw_rd_t *rd, const uint8_t *end, const int idx4, const int8_t *x,
                                       uint32_t *s)
{
    const uint8_t *ix = rd->idx, *cp = rd->cp;
    const int32_t *tab = rd->tab;
    const int8_t *p = x;
    uint32_t buf = rd->buf, nb = rd->nbits, mask = rd->mask, s0 = 0, b, k, e, xv;
    if (ix != end) {
        if (idx4) {
            __asm__ volatile(
                "sub    %[p], %[p], #1\n\t"
                "1:\n\t"
                "ldrb   %[b], [%[ix]], #1\n\t"
                "cmp    %[nb], #14\n\t"
                "bhs    2f\n\t"
                "ldrh   %[k], [%[cp]], #2\n\t"
                "lsl    %[k], %[k], %[nb]\n\t"
                "orr    %[buf], %[buf], %[k]\n\t"
                "add    %[nb], %[nb], #16\n\t"
                "2:\n\t"
                "ands   %[k], %[b], #15\n\t"
                "beq    3f\n\t"
                "add    %[p], %[p], %[k]\n\t" MCU_CW_TAB_VALUE
                "4:\n\t"
                "lsrs   %[k], %[b], #4\n\t"
                "beq    5f\n\t"
                "add    %[p], %[p], %[k]\n\t" MCU_CW_TAB_VALUE
                "6:\n\t"
                "cmp    %[ix], %[end]\n\t"
                "bne    1b\n\t"
                "b      7f\n\t"
                "3:\n\t"
                "add    %[p], %[p], #15\n\t"
                "b      4b\n\t"
                "5:\n\t"
                "add    %[p], %[p], #15\n\t"
                "b      6b\n\t"
                "7:\n\t"
                : [ix] "+&r"(ix), [cp] "+&r"(cp), [buf] "+&r"(buf), [nb] "+&r"(nb), [p] "+&r"(p), [s0] "+&r"(s0),
                  [b] "=&r"(b), [k] "=&r"(k), [e] "=&r"(e), [xv] "=&r"(xv)
                : [end] "r"(end), [tab] "r"(tab), [mask] "r"(mask)
                : "cc", "memory");
        } else {
            __asm__ volatile(
                "sub    %[p], %[p], #1\n\t"
                "1:\n\t"
                "ldrb   %[b], [%[ix]], #1\n\t"
                "cmp    %[b], #0\n\t"
                "beq    3f\n\t"
                "add    %[p], %[p], %[b]\n\t"
                "cmp    %[nb], #7\n\t"
                "bhs    2f\n\t"
                "ldrb   %[k], [%[cp]], #1\n\t"
                "lsl    %[k], %[k], %[nb]\n\t"
                "orr    %[buf], %[buf], %[k]\n\t"
                "add    %[nb], %[nb], #8\n\t"
                "2:\n\t" MCU_CW_TAB_VALUE
                "4:\n\t"
                "cmp    %[ix], %[end]\n\t"
                "bne    1b\n\t"
                "b      7f\n\t"
                "3:\n\t"
                "add    %[p], %[p], #255\n\t"
                "b      4b\n\t"
                "7:\n\t"
                : [ix] "+&r"(ix), [cp] "+&r"(cp), [buf] "+&r"(buf), [nb] "+&r"(nb), [p] "+&r"(p), [s0] "+&r"(s0),
                  [b] "=&r"(b), [k] "=&r"(k), [e] "=&r"(e), [xv] "=&r"(xv)
                : [end] "r"(end), [tab] "r"(tab), [mask] "r"(mask)
                : "cc", "memory");
        }
    }
    rd->idx = ix;
    rd->cp = cp;
    rd->buf = buf;
    rd->nbits = nb;
    s[0] = s0;
}
#endif

#ifdef MCU_CW_ASM
/* LUT codes of width 4 (a halfword: four codes) or 2 (a byte: four codes)
 * against one column: book values (0, 2) and (1, 3) paired as int16 meet
 * SXTB16's even and odd input bytes in two SMLADs. */
#define MCU_CW_LUT1_BODY(load, x0, x1, x2, x3)                      \
    load                                                            \
    x0 "ldrsb  %[w0], [%[book], %[k]]\n\t"                          \
    x2 "ldrsb  %[w1], [%[book], %[k]]\n\t"                          \
    "pkhbt  %[we], %[w0], %[w1], lsl #16\n\t"                       \
    x1 "ldrsb  %[w0], [%[book], %[k]]\n\t"                          \
    x3 "ldrsb  %[w1], [%[book], %[k]]\n\t"                          \
    "pkhbt  %[wo], %[w0], %[w1], lsl #16\n\t"                       \
    "ldr    %[xv], [%[xp]], #4\n\t"                                 \
    "sxtb16 %[xe], %[xv]\n\t"                                       \
    "sxtb16 %[xv], %[xv], ror #8\n\t"                               \
    "smlad  %[s0], %[we], %[xe], %[s0]\n\t"                         \
    "smlad  %[s0], %[wo], %[xv], %[s0]\n\t"
MCU_CW_INLINE uint32_t mcu_cw_lut_asm1(const uint8_t **pcp, int32_t quads, const int8_t *book, const int8_t *x,
                                       uint32_t w)
{
    const uint8_t *cp = *pcp;
    const uint8_t *const end = cp + (w == 4u ? 2 * quads : quads);
    const int8_t *xp = x;
    uint32_t s0 = 0, h, k, w0, w1, we, wo, xv, xe;
    if (w == 4u) {
        __asm__ volatile("1:\n\t" MCU_CW_LUT1_BODY(
                             "ldrh   %[h], [%[cp]], #2\n\t", "and    %[k], %[h], #15\n\t",
                             "ubfx   %[k], %[h], #4, #4\n\t", "ubfx   %[k], %[h], #8, #4\n\t",
                             "lsr    %[k], %[h], #12\n\t") "cmp    %[cp], %[end]\n\t"
                                                          "bne    1b\n\t"
                         : [cp] "+&r"(cp), [xp] "+&r"(xp), [s0] "+&r"(s0), [h] "=&r"(h), [k] "=&r"(k),
                           [w0] "=&r"(w0), [w1] "=&r"(w1), [we] "=&r"(we), [wo] "=&r"(wo), [xv] "=&r"(xv),
                           [xe] "=&r"(xe)
                         : [end] "r"(end), [book] "r"(book)
                         : "cc", "memory");
    } else {
        __asm__ volatile("1:\n\t" MCU_CW_LUT1_BODY(
                             "ldrb   %[h], [%[cp]], #1\n\t", "and    %[k], %[h], #3\n\t",
                             "ubfx   %[k], %[h], #2, #2\n\t", "ubfx   %[k], %[h], #4, #2\n\t",
                             "lsr    %[k], %[h], #6\n\t") "cmp    %[cp], %[end]\n\t"
                                                         "bne    1b\n\t"
                         : [cp] "+&r"(cp), [xp] "+&r"(xp), [s0] "+&r"(s0), [h] "=&r"(h), [k] "=&r"(k),
                           [w0] "=&r"(w0), [w1] "=&r"(w1), [we] "=&r"(we), [wo] "=&r"(wo), [xv] "=&r"(xv),
                           [xe] "=&r"(xe)
                         : [end] "r"(end), [book] "r"(book)
                         : "cc", "memory");
    }
    *pcp = cp;
    return s0;
}
#endif

#ifdef MCU_CW_ASM
/* LUT codes of any width W from the bit buffer: refill 16 bits when fewer
 * than K W are left, then K codes with immediate-width UBFX. A refill
 * happens only when the next K codes need at least one more byte, so it
 * reads at most one byte past them: LUT code streams end with a spare. */
/* K codes of W bits an iteration (K W <= 16), per width: MCU_CW_LUTW_K */
#define MCU_CW_LUTW_K(W) ((W) == 1 ? 8 : (W) == 2 ? 8 : (W) == 3 ? 5 : (W) == 4 ? 4 : (W) == 5 ? 3 : 2)
#define MCU_CW_LUTW1_P4 \
    "1:\n\t" \
    "cmp    %[nb], #8\n\t" \
    "bhs    2f\n\t" \
    "ldrh   %[k], [%[cp]], #2\n\t" \
    "lsl    %[k], %[k], %[nb]\n\t" \
    "orr    %[buf], %[buf], %[k]\n\t" \
    "add    %[nb], %[nb], #16\n\t" \
    "2:\n\t" \
    "ubfx   %[k], %[buf], #0, #1\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "ubfx   %[k], %[buf], #1, #1\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "ubfx   %[k], %[buf], #2, #1\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "ubfx   %[k], %[buf], #3, #1\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "ubfx   %[k], %[buf], #4, #1\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "ubfx   %[k], %[buf], #5, #1\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "ubfx   %[k], %[buf], #6, #1\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "ubfx   %[k], %[buf], #7, #1\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "lsr    %[buf], %[buf], #8\n\t" \
    "sub    %[nb], %[nb], #8\n\t" \
    "ldr    %[k], %[end]\n\t" \
    "cmp    %[p], %[k]\n\t" \
    "bne    1b\n\t"

#define MCU_CW_LUTW2_P4 \
    "1:\n\t" \
    "cmp    %[nb], #16\n\t" \
    "bhs    2f\n\t" \
    "ldrh   %[k], [%[cp]], #2\n\t" \
    "lsl    %[k], %[k], %[nb]\n\t" \
    "orr    %[buf], %[buf], %[k]\n\t" \
    "add    %[nb], %[nb], #16\n\t" \
    "2:\n\t" \
    "ubfx   %[k], %[buf], #0, #2\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "ubfx   %[k], %[buf], #2, #2\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "ubfx   %[k], %[buf], #4, #2\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "ubfx   %[k], %[buf], #6, #2\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "ubfx   %[k], %[buf], #8, #2\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "ubfx   %[k], %[buf], #10, #2\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "ubfx   %[k], %[buf], #12, #2\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "ubfx   %[k], %[buf], #14, #2\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "lsr    %[buf], %[buf], #16\n\t" \
    "sub    %[nb], %[nb], #16\n\t" \
    "ldr    %[k], %[end]\n\t" \
    "cmp    %[p], %[k]\n\t" \
    "bne    1b\n\t"

#define MCU_CW_LUTW3_P4 \
    "1:\n\t" \
    "cmp    %[nb], #15\n\t" \
    "bhs    2f\n\t" \
    "ldrh   %[k], [%[cp]], #2\n\t" \
    "lsl    %[k], %[k], %[nb]\n\t" \
    "orr    %[buf], %[buf], %[k]\n\t" \
    "add    %[nb], %[nb], #16\n\t" \
    "2:\n\t" \
    "ubfx   %[k], %[buf], #0, #3\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "ubfx   %[k], %[buf], #3, #3\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "ubfx   %[k], %[buf], #6, #3\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "ubfx   %[k], %[buf], #9, #3\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "ubfx   %[k], %[buf], #12, #3\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "lsr    %[buf], %[buf], #15\n\t" \
    "sub    %[nb], %[nb], #15\n\t" \
    "ldr    %[k], %[end]\n\t" \
    "cmp    %[p], %[k]\n\t" \
    "bne    1b\n\t"

#define MCU_CW_LUTW4_P4 \
    "1:\n\t" \
    "cmp    %[nb], #16\n\t" \
    "bhs    2f\n\t" \
    "ldrh   %[k], [%[cp]], #2\n\t" \
    "lsl    %[k], %[k], %[nb]\n\t" \
    "orr    %[buf], %[buf], %[k]\n\t" \
    "add    %[nb], %[nb], #16\n\t" \
    "2:\n\t" \
    "ubfx   %[k], %[buf], #0, #4\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "ubfx   %[k], %[buf], #4, #4\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "ubfx   %[k], %[buf], #8, #4\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "ubfx   %[k], %[buf], #12, #4\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "lsr    %[buf], %[buf], #16\n\t" \
    "sub    %[nb], %[nb], #16\n\t" \
    "ldr    %[k], %[end]\n\t" \
    "cmp    %[p], %[k]\n\t" \
    "bne    1b\n\t"

#define MCU_CW_LUTW5_P4 \
    "1:\n\t" \
    "cmp    %[nb], #15\n\t" \
    "bhs    2f\n\t" \
    "ldrh   %[k], [%[cp]], #2\n\t" \
    "lsl    %[k], %[k], %[nb]\n\t" \
    "orr    %[buf], %[buf], %[k]\n\t" \
    "add    %[nb], %[nb], #16\n\t" \
    "2:\n\t" \
    "ubfx   %[k], %[buf], #0, #5\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "ubfx   %[k], %[buf], #5, #5\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "ubfx   %[k], %[buf], #10, #5\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "lsr    %[buf], %[buf], #15\n\t" \
    "sub    %[nb], %[nb], #15\n\t" \
    "ldr    %[k], %[end]\n\t" \
    "cmp    %[p], %[k]\n\t" \
    "bne    1b\n\t"

#define MCU_CW_LUTW6_P4 \
    "1:\n\t" \
    "cmp    %[nb], #12\n\t" \
    "bhs    2f\n\t" \
    "ldrh   %[k], [%[cp]], #2\n\t" \
    "lsl    %[k], %[k], %[nb]\n\t" \
    "orr    %[buf], %[buf], %[k]\n\t" \
    "add    %[nb], %[nb], #16\n\t" \
    "2:\n\t" \
    "ubfx   %[k], %[buf], #0, #6\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "ubfx   %[k], %[buf], #6, #6\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "lsr    %[buf], %[buf], #12\n\t" \
    "sub    %[nb], %[nb], #12\n\t" \
    "ldr    %[k], %[end]\n\t" \
    "cmp    %[p], %[k]\n\t" \
    "bne    1b\n\t"

#define MCU_CW_LUTW7_P4 \
    "1:\n\t" \
    "cmp    %[nb], #14\n\t" \
    "bhs    2f\n\t" \
    "ldrh   %[k], [%[cp]], #2\n\t" \
    "lsl    %[k], %[k], %[nb]\n\t" \
    "orr    %[buf], %[buf], %[k]\n\t" \
    "add    %[nb], %[nb], #16\n\t" \
    "2:\n\t" \
    "ubfx   %[k], %[buf], #0, #7\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "ubfx   %[k], %[buf], #7, #7\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrd   %[a], %[e], [%[p]], #8\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "smlabt %[s1], %[k], %[a], %[s1]\n\t" \
    "smlabb %[s2], %[k], %[e], %[s2]\n\t" \
    "smlabt %[s3], %[k], %[e], %[s3]\n\t" \
    "lsr    %[buf], %[buf], #14\n\t" \
    "sub    %[nb], %[nb], #14\n\t" \
    "ldr    %[k], %[end]\n\t" \
    "cmp    %[p], %[k]\n\t" \
    "bne    1b\n\t"

#define MCU_CW_LUTW1_P1 \
    "1:\n\t" \
    "cmp    %[nb], #8\n\t" \
    "bhs    2f\n\t" \
    "ldrh   %[k], [%[cp]], #2\n\t" \
    "lsl    %[k], %[k], %[nb]\n\t" \
    "orr    %[buf], %[buf], %[k]\n\t" \
    "add    %[nb], %[nb], #16\n\t" \
    "2:\n\t" \
    "ubfx   %[k], %[buf], #0, #1\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "ubfx   %[k], %[buf], #1, #1\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "ubfx   %[k], %[buf], #2, #1\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "ubfx   %[k], %[buf], #3, #1\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "ubfx   %[k], %[buf], #4, #1\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "ubfx   %[k], %[buf], #5, #1\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "ubfx   %[k], %[buf], #6, #1\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "ubfx   %[k], %[buf], #7, #1\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "lsr    %[buf], %[buf], #8\n\t" \
    "sub    %[nb], %[nb], #8\n\t" \
    "ldr    %[k], %[end]\n\t" \
    "cmp    %[p], %[k]\n\t" \
    "bne    1b\n\t"

#define MCU_CW_LUTW2_P1 \
    "1:\n\t" \
    "cmp    %[nb], #16\n\t" \
    "bhs    2f\n\t" \
    "ldrh   %[k], [%[cp]], #2\n\t" \
    "lsl    %[k], %[k], %[nb]\n\t" \
    "orr    %[buf], %[buf], %[k]\n\t" \
    "add    %[nb], %[nb], #16\n\t" \
    "2:\n\t" \
    "ubfx   %[k], %[buf], #0, #2\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "ubfx   %[k], %[buf], #2, #2\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "ubfx   %[k], %[buf], #4, #2\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "ubfx   %[k], %[buf], #6, #2\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "ubfx   %[k], %[buf], #8, #2\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "ubfx   %[k], %[buf], #10, #2\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "ubfx   %[k], %[buf], #12, #2\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "ubfx   %[k], %[buf], #14, #2\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "lsr    %[buf], %[buf], #16\n\t" \
    "sub    %[nb], %[nb], #16\n\t" \
    "ldr    %[k], %[end]\n\t" \
    "cmp    %[p], %[k]\n\t" \
    "bne    1b\n\t"

#define MCU_CW_LUTW3_P1 \
    "1:\n\t" \
    "cmp    %[nb], #15\n\t" \
    "bhs    2f\n\t" \
    "ldrh   %[k], [%[cp]], #2\n\t" \
    "lsl    %[k], %[k], %[nb]\n\t" \
    "orr    %[buf], %[buf], %[k]\n\t" \
    "add    %[nb], %[nb], #16\n\t" \
    "2:\n\t" \
    "ubfx   %[k], %[buf], #0, #3\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "ubfx   %[k], %[buf], #3, #3\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "ubfx   %[k], %[buf], #6, #3\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "ubfx   %[k], %[buf], #9, #3\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "ubfx   %[k], %[buf], #12, #3\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "lsr    %[buf], %[buf], #15\n\t" \
    "sub    %[nb], %[nb], #15\n\t" \
    "ldr    %[k], %[end]\n\t" \
    "cmp    %[p], %[k]\n\t" \
    "bne    1b\n\t"

#define MCU_CW_LUTW4_P1 \
    "1:\n\t" \
    "cmp    %[nb], #16\n\t" \
    "bhs    2f\n\t" \
    "ldrh   %[k], [%[cp]], #2\n\t" \
    "lsl    %[k], %[k], %[nb]\n\t" \
    "orr    %[buf], %[buf], %[k]\n\t" \
    "add    %[nb], %[nb], #16\n\t" \
    "2:\n\t" \
    "ubfx   %[k], %[buf], #0, #4\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "ubfx   %[k], %[buf], #4, #4\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "ubfx   %[k], %[buf], #8, #4\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "ubfx   %[k], %[buf], #12, #4\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "lsr    %[buf], %[buf], #16\n\t" \
    "sub    %[nb], %[nb], #16\n\t" \
    "ldr    %[k], %[end]\n\t" \
    "cmp    %[p], %[k]\n\t" \
    "bne    1b\n\t"

#define MCU_CW_LUTW5_P1 \
    "1:\n\t" \
    "cmp    %[nb], #15\n\t" \
    "bhs    2f\n\t" \
    "ldrh   %[k], [%[cp]], #2\n\t" \
    "lsl    %[k], %[k], %[nb]\n\t" \
    "orr    %[buf], %[buf], %[k]\n\t" \
    "add    %[nb], %[nb], #16\n\t" \
    "2:\n\t" \
    "ubfx   %[k], %[buf], #0, #5\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "ubfx   %[k], %[buf], #5, #5\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "ubfx   %[k], %[buf], #10, #5\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "lsr    %[buf], %[buf], #15\n\t" \
    "sub    %[nb], %[nb], #15\n\t" \
    "ldr    %[k], %[end]\n\t" \
    "cmp    %[p], %[k]\n\t" \
    "bne    1b\n\t"

#define MCU_CW_LUTW6_P1 \
    "1:\n\t" \
    "cmp    %[nb], #12\n\t" \
    "bhs    2f\n\t" \
    "ldrh   %[k], [%[cp]], #2\n\t" \
    "lsl    %[k], %[k], %[nb]\n\t" \
    "orr    %[buf], %[buf], %[k]\n\t" \
    "add    %[nb], %[nb], #16\n\t" \
    "2:\n\t" \
    "ubfx   %[k], %[buf], #0, #6\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "ubfx   %[k], %[buf], #6, #6\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "lsr    %[buf], %[buf], #12\n\t" \
    "sub    %[nb], %[nb], #12\n\t" \
    "ldr    %[k], %[end]\n\t" \
    "cmp    %[p], %[k]\n\t" \
    "bne    1b\n\t"

#define MCU_CW_LUTW7_P1 \
    "1:\n\t" \
    "cmp    %[nb], #14\n\t" \
    "bhs    2f\n\t" \
    "ldrh   %[k], [%[cp]], #2\n\t" \
    "lsl    %[k], %[k], %[nb]\n\t" \
    "orr    %[buf], %[buf], %[k]\n\t" \
    "add    %[nb], %[nb], #16\n\t" \
    "2:\n\t" \
    "ubfx   %[k], %[buf], #0, #7\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "ubfx   %[k], %[buf], #7, #7\n\t" \
    "ldrsb  %[k], [%[book], %[k]]\n\t" \
    "ldrsb  %[a], [%[p]], #1\n\t" \
    "smlabb %[s0], %[k], %[a], %[s0]\n\t" \
    "lsr    %[buf], %[buf], #14\n\t" \
    "sub    %[nb], %[nb], #14\n\t" \
    "ldr    %[k], %[end]\n\t" \
    "cmp    %[p], %[k]\n\t" \
    "bne    1b\n\t"

#define MCU_CW_LUTW_ASM(body)                                                                               \
    __asm__ volatile(body                                                                                   \
                     : [cp] "+&r"(cp), [buf] "+&r"(buf), [nb] "+&r"(nb), [p] "+&r"(p), [s0] "+&r"(s0),         \
                       [s1] "+&r"(s1), [s2] "+&r"(s2), [s3] "+&r"(s3), [k] "=&r"(k), [a] "=&r"(a), [e] "=&r"(e)    \
                     : [book] "r"(book), [end] "m"(end)                                                     \
                     : "cc", "memory")
#define MCU_CW_LUTW_CASE(W, pix)                                       \
    case W:                                                            \
        MCU_CW_LUTW_ASM(MCU_CW_LUTW##W##_P##pix);                     \
        break;
/* groups of K codes of the current row (rd's bit buffer) against the
 * columns from `cols`; returns the codes taken */
MCU_CW_INLINE int32_t mcu_cw_lutw_asm(mcu_cw_rd_t *rd, int32_t groups, const int8_t *book, const void *cols,
                                      const int pix, uint32_t *s)
{
    const uint8_t *cp = rd->cp;
    uint32_t buf = rd->buf, nb = rd->nbits, s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3], k, a, e;
    const int8_t *p = (const int8_t *)cols;
    const uint32_t w = rd->w;
    /* the loops end on the column pointer (a stack slot, not a 13th
     * register: with a counter gcc could not allocate them at -Os, nor on
     * Cortex-M7 at -O2) */
    const int8_t *const end = p + groups * (int32_t)MCU_CW_LUTW_K(w) * (pix == 4 ? 8 : 1);
    if (groups <= 0) return 0;
    if (pix == 4) {
        switch (w) {
            MCU_CW_LUTW_CASE(1, 4)
            MCU_CW_LUTW_CASE(2, 4)
            MCU_CW_LUTW_CASE(3, 4)
            MCU_CW_LUTW_CASE(4, 4)
            MCU_CW_LUTW_CASE(5, 4)
            MCU_CW_LUTW_CASE(6, 4)
            default:
                MCU_CW_LUTW_ASM(MCU_CW_LUTW7_P4);
        }
    } else {
        switch (w) {
            MCU_CW_LUTW_CASE(1, 1)
            MCU_CW_LUTW_CASE(2, 1)
            MCU_CW_LUTW_CASE(3, 1)
            MCU_CW_LUTW_CASE(4, 1)
            MCU_CW_LUTW_CASE(5, 1)
            MCU_CW_LUTW_CASE(6, 1)
            default:
                MCU_CW_LUTW_ASM(MCU_CW_LUTW7_P1);
        }
    }
    rd->cp = cp;
    rd->buf = buf;
    rd->nbits = nb;
    s[0] = s0, s[1] = s1, s[2] = s2, s[3] = s3;
    return groups * (int32_t)MCU_CW_LUTW_K(w);
}
#endif

/* acc[0..pix) = the CSR row of n idx bytes . the columns. */
MCU_CW_INLINE void mcu_cw_csr_walk(mcu_cw_rd_t *rd, int32_t n, const int idx4, const int vals, const int pix,
                                   const void *cols, int32_t *acc)
{
#ifdef MCU_CW_ASM
    if (vals == 1 && pix == 1) {
        uint32_t s[1];
        mcu_cw_csr_tab_asm1(rd, rd->idx + n, idx4, (const int8_t *)cols, s);
        acc[0] = (int32_t)s[0];
        return;
    }
    if (vals == 0) {
        const uint8_t *ix = rd->idx;
        const int8_t *vp = rd->val;
        uint32_t s[4] = {0, 0, 0, 0};
        mcu_cw_csr_asm(&ix, ix + n, &vp, cols, idx4, pix, s);
        rd->idx = ix;
        rd->val = vp;
        acc[0] = (int32_t)s[0];
        if (pix == 4) {
            acc[1] = (int32_t)s[1];
            acc[2] = (int32_t)s[2];
            acc[3] = (int32_t)s[3];
        }
        return;
    }
#endif
    {
    const int8_t *const x = (const int8_t *)cols;
    const int32_t *const xs = (const int32_t *)cols;
    const uint8_t *ix = rd->idx, *const end = ix + n, *cp = rd->cp;
    const int8_t *vp = rd->val, *book = rd->book;
    const int32_t *tab = rd->tab;
    uint32_t buf = rd->buf, nb = rd->nbits;
    const uint32_t w = rd->w, mask = rd->mask;
    uint32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int32_t c = -1;
    (void)x, (void)xs, (void)book, (void)tab, (void)w, (void)mask, (void)s1, (void)s2, (void)s3;
    if (idx4) {
        while (ix != end) {
            const uint32_t byte = *ix++;
            MCU_CW_TAKE(byte & 15u, 15);
            MCU_CW_TAKE(byte >> 4, 15);
        }
    } else {
        while (ix != end) {
            const uint32_t k = *ix++;
            MCU_CW_TAKE(k, 255);
        }
    }
    rd->idx = ix;
    rd->val = vp;
    rd->cp = cp;
    rd->buf = buf;
    rd->nbits = nb;
    MCU_CW_ACC_OUT();
    }
}

/* ---- LUT rows ------------------------------------------------------------------------------ */

/* acc[0..pix) = the LUT row of len codes . the columns. Widths 4, 2 and 1
 * on a byte boundary decode whole bytes straight from the stream; a
 * one-value book multiplies the column sum. */
MCU_CW_INLINE void mcu_cw_lut_walk(mcu_cw_rd_t *rd, int32_t len, const int pix, const void *cols, int32_t *acc)
{
    const int8_t *const x = (const int8_t *)cols;
    const int32_t *const xs = (const int32_t *)cols;
    const uint8_t *cp = rd->cp;
    const int8_t *book = rd->book;
    uint32_t buf = rd->buf, nb = rd->nbits;
    const uint32_t w = rd->w, mask = rd->mask;
    uint32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int32_t c = 0;
    (void)x, (void)xs, (void)s1, (void)s2, (void)s3;
    if (w == 0u) {
        const int32_t b0 = book[0];
        for (; c < len; ++c) MCU_CW_MAC(b0, c);
        MCU_CW_ACC_OUT();
        return;
    }
#ifdef MCU_CW_ASM
    {
        /* 4-bit (and, one column, 2-bit) codes on a byte boundary: whole
         * bytes; any other run: the bit-buffer loop of the code width */
        uint32_t sv[4];
        if (nb == 0u && (w == 4u || (w == 2u && pix == 1))) {
            if (pix == 4) {
                const int32_t nbytes = (len - c) >> 1;
                sv[0] = sv[1] = sv[2] = sv[3] = 0;
                if (nbytes > 0) mcu_cw_lut_asm4(&cp, nbytes, book, xs, w, sv);
                s0 = sv[0], s1 = sv[1], s2 = sv[2], s3 = sv[3];
                c = 2 * nbytes;
            } else if (len >= 4) {
                const int32_t quads = len >> 2;
                s0 = mcu_cw_lut_asm1(&cp, quads, book, x, w);
                c = 4 * quads;
            }
        } else {
            sv[0] = sv[1] = sv[2] = sv[3] = 0;
            rd->cp = cp, rd->buf = buf, rd->nbits = nb;
            c = mcu_cw_lutw_asm(rd, len / (int32_t)MCU_CW_LUTW_K(w), book, cols, pix, sv);
            cp = rd->cp, buf = rd->buf, nb = rd->nbits;
            s0 = sv[0], s1 = sv[1], s2 = sv[2], s3 = sv[3];
        }
    }
#else
    if ((w == 4u || w == 2u || w == 1u) && (nb & (w - 1u)) == 0u) {
        /* use up the buffered codes, then whole bytes */
        for (; nb != 0u && c < len; ++c) {
            const int32_t wv = book[buf & mask];
            buf >>= w;
            nb -= w;
            MCU_CW_MAC(wv, c);
        }
        if (w == 4u) {
            for (; c + 2 <= len; c += 2) {
                const uint32_t byte = *cp++;
                const int32_t w0 = book[byte & 15u], w1 = book[byte >> 4];
                MCU_CW_MAC(w0, c);
                MCU_CW_MAC(w1, c + 1);
            }
        } else if (w == 2u) {
            for (; c + 4 <= len; c += 4) {
                const uint32_t byte = *cp++;
                const int32_t w0 = book[byte & 3u], w1 = book[(byte >> 2) & 3u];
                const int32_t w2 = book[(byte >> 4) & 3u], w3 = book[byte >> 6];
                MCU_CW_MAC(w0, c);
                MCU_CW_MAC(w1, c + 1);
                MCU_CW_MAC(w2, c + 2);
                MCU_CW_MAC(w3, c + 3);
            }
        } else {
            for (; c + 8 <= len; c += 8) {
                uint32_t byte = *cp++;
                int32_t j;
                for (j = 0; j < 8; ++j, byte >>= 1) {
                    const int32_t wv = book[byte & 1u];
                    MCU_CW_MAC(wv, c + j);
                }
            }
        }
    }
#endif
    for (; c < len; ++c) {
        int32_t wv;
        MCU_CW_NEXT_CODE(wv);
        MCU_CW_MAC(wv, c);
    }
    rd->cp = cp;
    rd->buf = buf;
    rd->nbits = nb;
    MCU_CW_ACC_OUT();
}

/* ---- requantization ----------------------------------------------------------------------
 * fast (the params' rq_fast: the lowering saw that every triple of the
 * layer has mcu_fixedpoint.h's fast form): one SMLAL, an add and a shift,
 * no branch. */
MCU_CW_INLINE int32_t mcu_cw_rq_fast(int32_t m, int32_t sh, int32_t add, int32_t acc)
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

MCU_CW_INLINE int8_t mcu_cw_requant(int32_t fast, int32_t m, int32_t sh, int32_t add, int32_t acc, int32_t lo,
                                    int32_t hi)
{
    if (fast) return (int8_t)mcu_clamp_s32(mcu_cw_rq_fast(m, sh, add, acc), lo, hi);
    return mcu_requant3_s8(m, sh, add, acc, lo, hi);
}

/* Output channel r of np (1..4) pixels or batch rows, d[j * stride], from
 * the accumulators a[j] (+ t[j] when t is not NULL). */
MCU_CW_INLINE void mcu_cw_out(int8_t *d, int32_t stride, const int32_t *a, const int32_t *t, int32_t np,
                              const int32_t *q, int32_t bs, int32_t fast, int32_t lo, int32_t hi)
{
    const int32_t m = q[0], sh = q[1], add = q[2];
    int32_t j;
    for (j = 0; j < np; ++j) {
        const int32_t acc = mcu_wrap_add_s32(bs, t != NULL ? mcu_wrap_add_s32(a[j], t[j]) : a[j]);
        d[j * stride] = mcu_cw_requant(fast, m, sh, add, acc, lo, hi);
    }
}

/* Four outputs, fast form: out of line, where they get the registers the
 * row walk has just used. */
MCU_CW_ROW void mcu_cw_out4_fast(int8_t *d, int32_t stride, const int32_t *a, const int32_t *q, int32_t bs, int32_t lo,
                                 int32_t hi)
{
    const int32_t m = q[0], sh = q[1], add = q[2];
    const int32_t y0 = mcu_cw_rq_fast(m, sh, add, mcu_wrap_add_s32(bs, a[0]));
    const int32_t y1 = mcu_cw_rq_fast(m, sh, add, mcu_wrap_add_s32(bs, a[1]));
    const int32_t y2 = mcu_cw_rq_fast(m, sh, add, mcu_wrap_add_s32(bs, a[2]));
    const int32_t y3 = mcu_cw_rq_fast(m, sh, add, mcu_wrap_add_s32(bs, a[3]));
#if defined(__ARM_FEATURE_SAT) && !defined(MCU_NO_DSP)
    if (lo == -128 && hi == 127) {
        /* the whole int8 range: one SSAT each */
        d[0] = (int8_t)__ssat(y0, 8);
        d[stride] = (int8_t)__ssat(y1, 8);
        d[2 * stride] = (int8_t)__ssat(y2, 8);
        d[3 * stride] = (int8_t)__ssat(y3, 8);
        return;
    }
#endif
    d[0] = (int8_t)mcu_clamp_s32(y0, lo, hi);
    d[stride] = (int8_t)mcu_clamp_s32(y1, lo, hi);
    d[2 * stride] = (int8_t)mcu_clamp_s32(y2, lo, hi);
    d[3 * stride] = (int8_t)mcu_clamp_s32(y3, lo, hi);
}

/* ---- passes: the out-of-line instances ---------------------------------------------------
 * One pass walks rows [r0, r1) against one set of columns (one pixel or
 * batch row, or four) and writes each row's requantized outputs. There is
 * one instance per (format, index width, columns), so the walk is inlined
 * with constant flags and the per-row work stays out of the driver's frame. */
typedef struct {
    const void *cols;  /* int8 column vector (pix 1), or int16 pairs (pix 4) */
    int8_t *dst;       /* row r0's output of the first pixel */
    int32_t stride;    /* between the pixels' outputs */
    int32_t np;        /* pixels with an output: 1..4 */
    int32_t r0, r1;
    const int32_t *rq; /* row r's triple at rq + r * rq_step */
    int32_t rq_step;
    const int32_t *bias;
    const int32_t *t;  /* per pixel terms added to the accumulators, or NULL */
    int32_t fast, lo, hi;
} mcu_cw_pass_t;

typedef void (*mcu_cw_pass_fn)(mcu_cw_rd_t *rd, const mcu_cw_t *cw, const mcu_cw_pass_t *ps);

MCU_CW_INLINE void mcu_cw_pass(mcu_cw_rd_t *rd, const mcu_cw_t *cw, const mcu_cw_pass_t *ps, const int mode,
                               const int idx4, const int vals, const int pix)
{
    /* locals: the int8 output stores could alias *ps */
    const void *const cols = ps->cols;
    int8_t *d = ps->dst;
    const int32_t stride = ps->stride, np = pix == 1 ? 1 : ps->np, r1 = ps->r1, rq_step = ps->rq_step;
    const int32_t *const rq = ps->rq, *const bias = ps->bias, *const t = ps->t;
    const int32_t fast = ps->fast, lo = ps->lo, hi = ps->hi;
    const int quick = pix == 4 && fast && np == 4 && t == NULL;
    const uint8_t *const rl8 = cw->row_len8;
    const uint16_t *const rl16 = cw->row_len16;
    const uint32_t *const rl32 = cw->row_len32;
    int32_t r;
    for (r = ps->r0; r < r1; ++r, ++d) {
        int32_t a[4];
        const int32_t *q = rq + r * rq_step;
        const int32_t n = mode == MCU_CW_LUT ? 0 : rl8 != NULL ? rl8[r] : rl16 != NULL ? rl16[r] : (int32_t)rl32[r];
        mcu_cw_row(rd, cw, r, mode);
        if (mode == MCU_CW_LUT)
            mcu_cw_lut_walk(rd, cw->cols, pix, cols, a);
        else
            mcu_cw_csr_walk(rd, n, idx4, vals, pix, cols, a);
        if (quick) {
            mcu_cw_out4_fast(d, stride, a, q, bias[r], lo, hi);
        } else {
            mcu_cw_out(d, stride, a, t, np, q, bias[r], fast, lo, hi);
        }
    }
}

#define MCU_CW_PASS(name, mode, idx4, vals, pix)                                                 \
    MCU_CW_ROW void name(mcu_cw_rd_t *rd, const mcu_cw_t *cw, const mcu_cw_pass_t *ps)          \
    {                                                                                            \
        mcu_cw_pass(rd, cw, ps, mode, idx4, vals, pix);                                          \
    }
MCU_CW_PASS(mcu_cw_csr4_1, MCU_CW_CSR, 1, 0, 1)
MCU_CW_PASS(mcu_cw_csr4_4, MCU_CW_CSR, 1, 0, 4)
MCU_CW_PASS(mcu_cw_csr8_1, MCU_CW_CSR, 0, 0, 1)
MCU_CW_PASS(mcu_cw_csr8_4, MCU_CW_CSR, 0, 0, 4)
MCU_CW_PASS(mcu_cw_csr4_lut_1, MCU_CW_CSR_LUT, 1, 1, 1)
MCU_CW_PASS(mcu_cw_csr4_lut_4, MCU_CW_CSR_LUT, 1, 1, 4)
MCU_CW_PASS(mcu_cw_csr8_lut_1, MCU_CW_CSR_LUT, 0, 1, 1)
MCU_CW_PASS(mcu_cw_csr8_lut_4, MCU_CW_CSR_LUT, 0, 1, 4)
MCU_CW_PASS(mcu_cw_lut_1, MCU_CW_LUT, 0, 0, 1)
MCU_CW_PASS(mcu_cw_lut_4, MCU_CW_LUT, 0, 0, 4)

/* The pass of a format for one or four columns. */
MCU_CW_INLINE mcu_cw_pass_fn mcu_cw_passer(const mcu_cw_t *cw, const int mode, int32_t pix)
{
    const int idx4 = cw->idx_bits == 4, four = pix == 4;
    if (mode == MCU_CW_LUT) return four ? mcu_cw_lut_4 : mcu_cw_lut_1;
    if (mode == MCU_CW_CSR_LUT)
        return idx4 ? (four ? mcu_cw_csr4_lut_4 : mcu_cw_csr4_lut_1) : (four ? mcu_cw_csr8_lut_4 : mcu_cw_csr8_lut_1);
    return idx4 ? (four ? mcu_cw_csr4_4 : mcu_cw_csr4_1) : (four ? mcu_cw_csr8_4 : mcu_cw_csr8_1);
}

/* ---- gathering the columns ------------------------------------------------------------------ */

/* The stored columns of src (all of them, or those col_map keeps) to dst. */
MCU_CW_INLINE void mcu_cw_compact(int8_t *dst, const int8_t *src, const mcu_cw_t *cw)
{
    int32_t k;
    if (cw->col_map == NULL) {
        memcpy(dst, src, (size_t)cw->cols);
        return;
    }
    for (k = 0; k < cw->col_pairs; ++k) {
        const int32_t run = cw->col_map[2 * k + 1];
        src += cw->col_map[2 * k];
        memmove(dst, src, (size_t)run); /* may be in place (dst <= src) */
        dst += run;
        src += run;
    }
}

/* n columns of four sources as int16 pairs: xs[2t] = (s0[t], s1[t]),
 * xs[2t + 1] = (s2[t], s3[t]); a NULL source reads zp everywhere. */
MCU_CW_ROW void mcu_cw_pack4(int32_t *xs, const int8_t *const *src, int32_t n, int32_t zp)
{
    const int8_t *s0 = src[0], *s1 = src[1], *s2 = src[2], *s3 = src[3];
    int32_t t = 0;
    if (s0 == NULL || s1 == NULL || s2 == NULL || s3 == NULL) {
        /* a window that leaves the image: per value */
        for (; t < n; ++t, xs += 2) {
            xs[0] = mcu_cw_pack16(s0 ? s0[t] : zp, s1 ? s1[t] : zp);
            xs[1] = mcu_cw_pack16(s2 ? s2[t] : zp, s3 ? s3[t] : zp);
        }
        return;
    }
#if MCU_CW_DSP
    /* four columns a pass: SXTB16 splits each source word into its even
     * and odd bytes as int16 pairs, PKHBT / PKHTB pair them across sources */
    for (; t + 4 <= n; t += 4, xs += 8) {
        const int32_t a = mcu_cw_read32(s0 + t), b = mcu_cw_read32(s1 + t);
        const int32_t c = mcu_cw_read32(s2 + t), d = mcu_cw_read32(s3 + t);
        const int32_t ae = mcu_cw_sxtb16(a), be = mcu_cw_sxtb16(b), ce = mcu_cw_sxtb16(c), de = mcu_cw_sxtb16(d);
        const int32_t ao = mcu_cw_sxtb16_ror8(a), bo = mcu_cw_sxtb16_ror8(b);
        const int32_t co = mcu_cw_sxtb16_ror8(c), dd = mcu_cw_sxtb16_ror8(d);
        xs[0] = mcu_cw_pack16(ae, be);
        xs[1] = mcu_cw_pack16(ce, de);
        xs[2] = mcu_cw_pack16(ao, bo);
        xs[3] = mcu_cw_pack16(co, dd);
        xs[4] = (int32_t)(((uint32_t)be & 0xFFFF0000u) | ((uint32_t)ae >> 16));
        xs[5] = (int32_t)(((uint32_t)de & 0xFFFF0000u) | ((uint32_t)ce >> 16));
        xs[6] = (int32_t)(((uint32_t)bo & 0xFFFF0000u) | ((uint32_t)ao >> 16));
        xs[7] = (int32_t)(((uint32_t)dd & 0xFFFF0000u) | ((uint32_t)co >> 16));
    }
#endif
    for (; t < n; ++t, xs += 2) {
        xs[0] = mcu_cw_pack16(s0[t], s1[t]);
        xs[1] = mcu_cw_pack16(s2[t], s3[t]);
    }
}

/* The stored columns of four column vectors (rows of `depth` values, the
 * q-th starting at src[q]) into xs as int16 pairs. */
MCU_CW_INLINE void mcu_cw_gather_rows4(int32_t *xs, const int8_t *const *src, const mcu_cw_t *cw)
{
    const int8_t *s[4];
    int32_t k, q;
    if (cw->col_map == NULL) {
        mcu_cw_pack4(xs, src, cw->cols, 0);
        return;
    }
    for (q = 0; q < 4; ++q) s[q] = src[q];
    for (k = 0; k < cw->col_pairs; ++k) {
        const int32_t run = cw->col_map[2 * k + 1];
        for (q = 0; q < 4; ++q) s[q] += cw->col_map[2 * k];
        mcu_cw_pack4(xs, s, run, 0);
        for (q = 0; q < 4; ++q) s[q] += run;
        xs += 2 * run;
    }
}

/* ---- CSR+LUT values decoded once ----------------------------------------------------------
 * A kernel that passes over the weights several times (pix 4) with
 * row_cache set decodes every stored value of rows [0, rows) into dst
 * once, then runs as plain CSR with dst as its values. */
MCU_CW_ROW void mcu_cw_decode_values(const mcu_cw_t *cw, int32_t rows, int8_t *dst)
{
    mcu_cw_rd_t rd;
    int32_t r;
    mcu_cw_start(&rd, cw);
    for (r = 0; r < rows; ++r) {
        const uint8_t *ix = rd.idx, *const end = ix + mcu_cw_row_bytes(cw, r);
        const uint8_t *cp;
        const int32_t *tab;
        uint32_t buf, nb, mask;
        mcu_cw_row(&rd, cw, r, MCU_CW_CSR_LUT);
        cp = rd.cp, tab = rd.tab, buf = rd.buf, nb = rd.nbits, mask = rd.mask;
        for (; ix != end; ++ix) {
            const uint32_t byte = *ix;
            int32_t wv;
            if (cw->idx_bits == 4) {
                if ((byte & 15u) != 0u) {
                    MCU_CW_NEXT_TAB(wv);
                    *dst++ = (int8_t)wv;
                }
                if ((byte >> 4) != 0u) {
                    MCU_CW_NEXT_TAB(wv);
                    *dst++ = (int8_t)wv;
                }
            } else if (byte != 0u) {
                MCU_CW_NEXT_TAB(wv);
                *dst++ = (int8_t)wv;
            }
        }
        rd.idx = end;
        rd.cp = cp, rd.buf = buf, rd.nbits = nb;
    }
}

/* pix 4 CSR+LUT with a value cache: decode, then walk as CSR. The mode
 * the passes run in. */
MCU_CW_INLINE int mcu_cw_values_once(mcu_cw_t *cw, int32_t rows, int8_t *cache, const int mode)
{
    if (mode != MCU_CW_CSR_LUT || cache == NULL) return mode;
    mcu_cw_decode_values(cw, rows, cache);
    cw->values = cache;
    cw->codes = NULL;
    return MCU_CW_CSR;
}

/* ---- FULLY_CONNECTED ---------------------------------------------------------------- */

MCU_CW_INLINE int32_t mcu_cw_fc_row_term(const mcu_fc_cw_params_s8 *p, const int8_t *x)
{
    uint32_t s = 0;
    int32_t k;
    if (p->weights_offset == 0) return 0;
    for (k = 0; k < p->in_depth; ++k) s += (uint32_t)(int32_t)x[k];
    return mcu_wrap_mul_s32((int32_t)s, p->weights_offset);
}

/* 4-byte aligned start of the four-column scratch */
MCU_CW_INLINE int32_t *mcu_cw_align4(int8_t *scratch)
{
    return (int32_t *)(void *)(scratch + ((4u - ((uintptr_t)scratch & 3u)) & 3u));
}

MCU_CW_INLINE void mcu_cw_fc(const mcu_fc_cw_params_s8 *p, const int8_t *in, const int32_t *bias, int8_t *out,
                             int8_t *scratch, const int mode)
{
    const int32_t depth = p->in_depth, n = p->out_depth, pix = p->pix;
    int pmode = mode;
    mcu_cw_t cw;
    mcu_cw_rd_t rd;
    mcu_cw_pass_t ps;
    mcu_cw_pass_fn pass;
    int32_t b, j;

    MCU_CW_LOAD(cw, p);
    if (pix == 4 && p->row_cache) {
        int8_t *cache = (int8_t *)(mcu_cw_align4(scratch) + 2 * cw.cols);
        if (mode == MCU_CW_CSR_LUT)
            pmode = mcu_cw_values_once(&cw, n, cache, mode);
        else
            cw.cache = cache;
    }
    pass = mcu_cw_passer(&cw, pmode, pix);
    ps.stride = n;
    ps.r0 = 0;
    ps.r1 = n;
    ps.rq = p->rq;
    ps.rq_step = p->per_channel ? 3 : 0;
    ps.bias = bias;
    ps.fast = p->rq_fast;
    ps.lo = p->act_min;
    ps.hi = p->act_max;
    for (b = 0; b < p->batches; b += pix) {
        const int8_t *xr[4];
        int32_t t[4];
        ps.np = mcu_min_s32(pix, p->batches - b);
        for (j = 0; j < pix; ++j) {
            xr[j] = in + (b + mcu_min_s32(j, ps.np - 1)) * depth; /* missing rows repeat the last */
            t[j] = mcu_cw_fc_row_term(p, xr[j]);
        }
        ps.t = p->weights_offset != 0 ? t : NULL;
        if (pix == 4) {
            int32_t *xs = mcu_cw_align4(scratch);
            mcu_cw_gather_rows4(xs, xr, &cw);
            ps.cols = xs;
        } else if (cw.col_map != NULL) {
            mcu_cw_compact(scratch, xr[0], &cw);
            ps.cols = scratch;
        } else {
            ps.cols = xr[0];
        }
        ps.dst = out + b * n;
        mcu_cw_start(&rd, &cw);
        pass(&rd, &cw, &ps);
        cw.cache_ready = cw.cache != NULL;
    }
}

/* ---- CONV_2D ------------------------------------------------------------------------ */

MCU_CW_INLINE void mcu_cw_copy(int8_t *dst, const int8_t *src, int32_t n)
{
    for (; n >= 4; n -= 4, src += 4, dst += 4) {
        int32_t v;
        memcpy(&v, src, 4);
        memcpy(dst, &v, 4);
    }
    for (; n > 0; --n) *dst++ = *src++;
}

/* The window of group channels [c_off, c_off + cg) whose top-left tap is
 * (iy0, ix0), in (ky, kx, c) order; taps outside the image hold input_zp. */
MCU_CW_ROW void mcu_cw_im2col(const mcu_conv2d_cw_params_s8 *p, const int8_t *img, int32_t c_off, int32_t iy0,
                              int32_t ix0, int8_t *dst)
{
    const int32_t cg = p->in_c / p->groups;
    int32_t ky, kx;
    for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t iy = iy0 + ky * p->dil_h;
        for (kx = 0; kx < p->k_w; ++kx, dst += cg) {
            const int32_t ix = ix0 + kx * p->dil_w;
            if (iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w)
                mcu_cw_copy(dst, img + (iy * p->in_w + ix) * p->in_c + c_off, cg);
            else
                memset(dst, (int8_t)p->input_zp, (size_t)cg);
        }
    }
}

/* Column vector (all depth taps) of output pixel (oy, ox), group channels
 * from c_off: in place for 1x1 kernels, else gathered into tmp. */
MCU_CW_INLINE const int8_t *mcu_cw_window(const mcu_conv2d_cw_params_s8 *p, const int8_t *img, int32_t c_off,
                                         int32_t oy, int32_t ox, int8_t *tmp)
{
    if (p->k_h == 1 && p->k_w == 1) return img + (oy * p->stride_h * p->in_w + ox * p->stride_w) * p->in_c + c_off;
    mcu_cw_im2col(p, img, c_off, oy * p->stride_h - p->pad_h, ox * p->stride_w - p->pad_w, tmp);
    return tmp;
}

/* The stored columns of four output pixels' windows (group channels from
 * c_off) into xs as int16 pairs, straight from the image: each stretch of
 * kept columns inside one tap is one mcu_cw_pack4 of the four pixels'
 * input pixels (NULL where the tap falls outside the image). */
MCU_CW_ROW void mcu_cw_gather_conv4(const mcu_conv2d_cw_params_s8 *p, const mcu_cw_t *cw, const int8_t *img,
                                    int32_t c_off, const int32_t *oy, const int32_t *ox, int32_t *xs)
{
    const int32_t cg = p->in_c / p->groups, kw = p->k_w, depth = p->k_h * kw * cg;
    const int row_run = p->groups == 1 && p->dil_w == 1;
    int32_t iy0[4], ix0[4], q;
    for (q = 0; q < 4; ++q) {
        iy0[q] = oy[q] * p->stride_h - p->pad_h;
        ix0[q] = ox[q] * p->stride_w - p->pad_w;
    }
    {
        int32_t v = 0, pair = 0, keep = cw->col_map == NULL ? depth : 0;
        for (;;) {
            int32_t tap, c, ky, kx, n;
            const int8_t *src[4];
            if (keep == 0) {
                if (cw->col_map == NULL || pair == cw->col_pairs) break;
                v += cw->col_map[2 * pair];
                keep = cw->col_map[2 * pair + 1];
                ++pair;
                continue;
            }
            tap = v / cg;
            c = v - tap * cg;
            ky = tap / kw;
            kx = tap - ky * kw;
            n = cg - c;
            for (q = 0; q < 4; ++q) {
                const int32_t iy = iy0[q] + ky * p->dil_h, ix = ix0[q] + kx * p->dil_w;
                src[q] = (iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w)
                             ? img + (iy * p->in_w + ix) * p->in_c + c_off + c
                             : NULL;
            }
            if (row_run && src[0] && src[1] && src[2] && src[3]) {
                /* all channels, no dilation: the rest of the window row
                 * is contiguous wherever all four stay inside the image */
                int32_t last = kw - 1;
                for (q = 0; q < 4; ++q) last = mcu_min_s32(last, p->in_w - 1 - ix0[q]);
                if (last > kx) n += (last - kx) * cg;
            }
            n = mcu_min_s32(keep, n);
            mcu_cw_pack4(xs, src, n, p->input_zp);
            xs += 2 * n;
            v += n;
            keep -= n;
        }
    }
}

/* Pixels pix0 .. pix0 + 3 of the output (those past the last repeat it). */
MCU_CW_INLINE void mcu_cw_pixels(int32_t pix0, int32_t np, int32_t ow, int32_t *oy, int32_t *ox)
{
    int32_t j, y = pix0 / ow, x = pix0 - y * ow;
    for (j = 0; j < 4; ++j) {
        oy[j] = y;
        ox[j] = x;
        if (j + 1 < np && ++x == ow) {
            x = 0;
            ++y;
        }
    }
}

MCU_CW_INLINE void mcu_cw_conv(const mcu_conv2d_cw_params_s8 *p, const int8_t *in, const int32_t *bias, int8_t *out,
                               int8_t *scratch, const int mode)
{
    const int32_t cg = p->in_c / p->groups, og = p->out_c / p->groups, oc = p->out_c;
    const int32_t n_pix = p->out_h * p->out_w, pix = p->pix;
    int pmode = mode;
    mcu_cw_t cw;
    mcu_cw_rd_t rd;
    mcu_cw_pass_t ps;
    mcu_cw_pass_fn pass;
    int32_t *xs = 0;
    int32_t b, pix0, g;

    MCU_CW_LOAD(cw, p);
    if (pix == 4) {
        xs = mcu_cw_align4(scratch);
        if (p->row_cache) {
            int8_t *cache = (int8_t *)(xs + 2 * cw.cols);
            if (mode == MCU_CW_CSR_LUT)
                pmode = mcu_cw_values_once(&cw, oc, cache, mode);
            else
                cw.cache = cache;
        }
    }
    pass = mcu_cw_passer(&cw, pmode, pix);
    ps.stride = oc;
    ps.rq = p->rq;
    ps.rq_step = 3;
    ps.bias = bias;
    ps.t = NULL;
    ps.fast = p->rq_fast;
    ps.lo = p->act_min;
    ps.hi = p->act_max;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *img = in + b * p->in_h * p->in_w * p->in_c;
        int8_t *dst = out + b * n_pix * oc;
        for (pix0 = 0; pix0 < n_pix; pix0 += pix) {
            int32_t oy[4], ox[4];
            ps.np = mcu_min_s32(pix, n_pix - pix0);
            mcu_cw_pixels(pix0, ps.np, p->out_w, oy, ox);
            mcu_cw_start(&rd, &cw);
            for (g = 0; g < p->groups; ++g) {
                if (pix == 4) {
                    mcu_cw_gather_conv4(p, &cw, img, g * cg, oy, ox, xs);
                    ps.cols = xs;
                } else {
                    const int8_t *c0 = mcu_cw_window(p, img, g * cg, oy[0], ox[0], scratch);
                    if (cw.col_map != NULL) {
                        mcu_cw_compact(scratch, c0, &cw); /* in place when c0 is scratch */
                        c0 = scratch;
                    }
                    ps.cols = c0;
                }
                ps.r0 = g * og;
                ps.r1 = ps.r0 + og;
                ps.dst = dst + pix0 * oc + ps.r0;
                pass(&rd, &cw, &ps);
            }
            cw.cache_ready = cw.cache != NULL;
        }
    }
}

/* ---- DEPTHWISE_CONV_2D ------------------------------------------------------------------ */

/* One code of the current row through the reader struct (channel
 * decoding, off the hot path); tab: CSR+LUT per-row table codes. */
MCU_CW_INLINE int32_t mcu_cw_code(mcu_cw_rd_t *rd, const int tab_codes)
{
    const uint8_t *cp = rd->cp;
    const int8_t *book = rd->book;
    const int32_t *tab = rd->tab;
    uint32_t buf = rd->buf, nb = rd->nbits;
    const uint32_t w = rd->w, mask = rd->mask;
    int32_t wv;
    if (tab_codes)
        MCU_CW_NEXT_TAB(wv);
    else
        MCU_CW_NEXT_CODE(wv);
    rd->cp = cp;
    rd->buf = buf;
    rd->nbits = nb;
    return wv;
}

/* A channel's list of non-zero taps: value, input offset inside the
 * image, kernel position (for windows that leave the image). */
typedef struct {
    const int8_t *wv;
    const int32_t *off;
    const uint8_t *ty, *tx;
    int32_t m;
} mcu_cw_taps_t;

/* Valid taps of one kernel axis for a window starting at i0 (image size
 * n, dilation d, k taps): [lo, lo + cnt). */
MCU_CW_INLINE void mcu_cw_tap_range(int32_t i0, int32_t n, int32_t d, int32_t k, int32_t *lo, int32_t *cnt)
{
    int32_t a = 0, z = k;
    if (i0 < 0) a = (-i0 + d - 1) / d;
    if (i0 + (k - 1) * d >= n) z = n - 1 - i0 < 0 ? 0 : (n - 1 - i0) / d + 1;
    if (z < a) z = a;
    *lo = a;
    *cnt = z - a;
}

/* The taps of a list inside a window that may leave the image: those in
 * kernel rows [ky_lo, ky_lo + ky_n) and columns [kx_lo, kx_lo + kx_n).
 * The others read input_zp: their products are the constant zsum. Kept
 * while consecutive pixels share the ranges (key). */
typedef struct {
    int8_t *wv;
    int32_t *off;
    int32_t m, zsum;
    uint32_t key;
} mcu_cw_sub_t;

MCU_CW_INLINE void mcu_cw_sub(mcu_cw_sub_t *sub, const mcu_cw_taps_t *t, int32_t ky_lo, int32_t ky_n, int32_t kx_lo,
                              int32_t kx_n, int32_t zp)
{
    const uint32_t key = (uint32_t)ky_lo | (uint32_t)ky_n << 8 | (uint32_t)kx_lo << 16 | (uint32_t)kx_n << 24;
    uint32_t out = 0;
    int32_t e, m = 0;
    if (key == sub->key) return;
    for (e = 0; e < t->m; ++e) {
        if ((uint32_t)(t->ty[e] - ky_lo) < (uint32_t)ky_n && (uint32_t)(t->tx[e] - kx_lo) < (uint32_t)kx_n) {
            sub->wv[m] = t->wv[e];
            sub->off[m++] = t->off[e];
        } else {
            out += (uint32_t)(t->wv[e] * zp);
        }
    }
    sub->m = m;
    sub->zsum = (int32_t)out;
    sub->key = key;
}

/* Output pixels [x0, x1) of one output row (x: the input under pixel x0's
 * window origin; the window origin may be outside the image, but every
 * listed tap reads inside), four per pass over the taps. */
MCU_CW_INLINE void mcu_cw_dw_run(const mcu_cw_sub_t *sub, const int8_t *img, int32_t bi, int32_t x_step, int8_t *dst,
                                 int32_t oc, int32_t n, const int32_t *q, int32_t bs, int32_t fast, int32_t lo,
                                 int32_t hi)
{
    const int8_t *wv = sub->wv;
    const int32_t *off = sub->off;
    const int32_t m = sub->m, z = sub->zsum;
    int32_t j = 0, e;
    for (; j + 4 <= n; j += 4, dst += 4 * oc, bi += 4 * x_step) {
        uint32_t s0 = (uint32_t)z, s1 = (uint32_t)z, s2 = (uint32_t)z, s3 = (uint32_t)z;
        int32_t sv[4];
#ifdef MCU_CW_ASM
        if (m > 0) {
            const int8_t *wp = wv, *const wend = wv + m, *base = img;
            const int32_t *op = off;
            uint32_t t, w, a, c;
            /* base + bi: the window origin, maybe outside the image (no C pointer is formed) */
            __asm__("add    %0, %0, %1" : "+r"(base) : "r"(bi));
            __asm__ volatile(
                "1:\n\t"
                "ldr    %[t], [%[op]], #4\n\t"
                "ldrsb  %[w], [%[wp]], #1\n\t"
                "add    %[t], %[t], %[base]\n\t"
                "ldrsb  %[a], [%[t]]\n\t"
                "ldrsb  %[c], [%[t], %[st]]\n\t"
                "smlabb %[s0], %[w], %[a], %[s0]\n\t"
                "smlabb %[s1], %[w], %[c], %[s1]\n\t"
                "add    %[t], %[t], %[st], lsl #1\n\t"
                "ldrsb  %[a], [%[t]]\n\t"
                "ldrsb  %[c], [%[t], %[st]]\n\t"
                "smlabb %[s2], %[w], %[a], %[s2]\n\t"
                "smlabb %[s3], %[w], %[c], %[s3]\n\t"
                "cmp    %[wp], %[wend]\n\t"
                "bne    1b\n\t"
                : [op] "+&r"(op), [wp] "+&r"(wp), [s0] "+&r"(s0), [s1] "+&r"(s1), [s2] "+&r"(s2), [s3] "+&r"(s3),
                  [t] "=&r"(t), [w] "=&r"(w), [a] "=&r"(a), [c] "=&r"(c)
                : [wend] "r"(wend), [base] "r"(base), [st] "r"(x_step)
                : "cc", "memory");
        }
#else
        for (e = 0; e < m; ++e) {
            const int32_t w = wv[e], i = bi + off[e];
            s0 += (uint32_t)(w * img[i]);
            s1 += (uint32_t)(w * img[i + x_step]);
            s2 += (uint32_t)(w * img[i + 2 * x_step]);
            s3 += (uint32_t)(w * img[i + 3 * x_step]);
        }
#endif
        sv[0] = (int32_t)s0, sv[1] = (int32_t)s1, sv[2] = (int32_t)s2, sv[3] = (int32_t)s3;
        if (fast)
            mcu_cw_out4_fast(dst, oc, sv, q, bs, lo, hi);
        else
            mcu_cw_out(dst, oc, sv, NULL, 4, q, bs, 0, lo, hi);
    }
    for (; j < n; ++j, dst += oc, bi += x_step) {
        uint32_t s0 = (uint32_t)z;
        for (e = 0; e < m; ++e) s0 += (uint32_t)(wv[e] * img[bi + off[e]]);
        *dst = mcu_cw_requant(fast, q[0], q[1], q[2], mcu_wrap_add_s32(bs, (int32_t)s0), lo, hi);
    }
}

/* Every output pixel of channel r (all batches), row by row: the pixels
 * whose windows share their valid tap ranges (the whole run of columns
 * inside the image horizontally, then each border column) run from one
 * sub-list of the channel's taps. */
MCU_CW_ROW void mcu_cw_dw_channel(const mcu_dw_conv_cw_params_s8 *p, const int8_t *in, const int32_t *bias,
                                  int8_t *out, int32_t r, const mcu_cw_taps_t *t, mcu_cw_sub_t *subs)
{
    const int32_t in_c = p->in_c, in_w = p->in_w, oc = p->out_c, ow = p->out_w, sw = p->stride_w;
    const int32_t kw = p->k_w, dil_w = p->dil_w, pad_w = p->pad_w, zp = p->input_zp;
    const int32_t *q = p->rq + 3 * r;
    const int32_t bs = bias[r], lo = p->act_min, hi = p->act_max, fast = p->rq_fast;
    /* output columns whose window is inside the image horizontally: [x_lo, x_hi) */
    const int32_t right = in_w - 1 - (kw - 1) * dil_w + pad_w;
    const int32_t x_lo = mcu_min_s32((pad_w + sw - 1) / sw, ow);
    const int32_t x_hi = mcu_max_s32(right < 0 ? 0 : mcu_min_s32(right / sw + 1, ow), x_lo);
    const int32_t x_step = sw * in_c;
    int32_t b, oy, ox, j;

    for (j = 0; j < 3; ++j) subs[j].key = 0xFFFFFFFFu; /* a new channel: no list yet */
    for (b = 0; b < p->batches; ++b) {
        const int8_t *img = in + b * p->in_h * in_w * in_c + r / p->depth_mult;
        int8_t *dst = out + b * p->out_h * ow * oc + r;
        for (oy = 0; oy < p->out_h; ++oy, dst += ow * oc) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            int32_t ky_lo, ky_n, kx_lo, kx_n;
            mcu_cw_tap_range(iy0, p->in_h, p->dil_h, p->k_h, &ky_lo, &ky_n);
            /* subs[0]: the run inside horizontally, [1]: left border columns, [2]: right */
            if (x_hi > x_lo) {
                mcu_cw_sub(&subs[0], t, ky_lo, ky_n, 0, kw, zp);
                mcu_cw_dw_run(&subs[0], img, (iy0 * in_w + x_lo * sw - pad_w) * in_c, x_step, dst + x_lo * oc, oc,
                              x_hi - x_lo, q, bs, fast, lo, hi);
            }
            for (ox = 0; ox < ow; ++ox) {
                mcu_cw_sub_t *sub;
                if (ox == x_lo) ox = x_hi;
                if (ox >= ow) break;
                sub = &subs[ox < x_lo ? 1 : 2];
                mcu_cw_tap_range(ox * sw - pad_w, in_w, dil_w, kw, &kx_lo, &kx_n);
                mcu_cw_sub(sub, t, ky_lo, ky_n, kx_lo, kx_n, zp);
                mcu_cw_dw_run(sub, img, (iy0 * in_w + ox * sw - pad_w) * in_c, x_step, dst + ox * oc, oc, 1, q, bs,
                              fast, lo, hi);
            }
        }
    }
}

/* Channel by channel: list the channel's non-zero taps once, then run all
 * its output pixels from the list. */
MCU_CW_INLINE void mcu_cw_dw(const mcu_dw_conv_cw_params_s8 *p, const int8_t *in, const int32_t *bias, int8_t *out,
                             int8_t *scratch, const int mode)
{
    const int32_t kw = p->k_w, taps = p->k_h * p->k_w, oc = p->out_c;
    const int32_t row_step = p->dil_h * p->in_w * p->in_c, col_step = p->dil_w * p->in_c;
    int32_t *off = mcu_cw_align4(scratch);
    int32_t *soff = off + taps; /* three sub-lists' offsets, then their values */
    int8_t *wv = (int8_t *)(soff + 3 * taps);
    int8_t *swv = wv + taps;
    uint8_t *ty = (uint8_t *)(swv + 3 * taps), *tx = ty + taps;
    mcu_cw_sub_t subs[3];
    mcu_cw_taps_t list;
    int32_t j;
    mcu_cw_t cw;
    mcu_cw_rd_t rd;
    int32_t r;

    MCU_CW_LOAD(cw, p);
    mcu_cw_start(&rd, &cw);
    list.wv = wv;
    list.off = off;
    list.ty = ty;
    list.tx = tx;
    for (j = 0; j < 3; ++j) {
        subs[j].off = soff + j * taps;
        subs[j].wv = swv + j * taps;
    }
    for (r = 0; r < oc; ++r) {
        int32_t m = 0, t, e;
        /* the stored taps' indices (of the kept taps when col_map is set) into off first */
        mcu_cw_row(&rd, &cw, r, mode);
        if (mode == MCU_CW_LUT) {
            for (t = 0; t < cw.cols; ++t) {
                const int32_t v = mcu_cw_code(&rd, 0);
                if (v != 0) {
                    wv[m] = (int8_t)v;
                    off[m++] = t;
                }
            }
        } else {
            const int32_t nb = mcu_cw_row_bytes(&cw, r);
            const int idx4 = cw.idx_bits == 4;
            const int32_t n = idx4 ? 2 * nb : nb;
            int32_t j;
            t = -1;
            for (j = 0; j < n; ++j) {
                const uint32_t k = idx4 ? (uint32_t)(rd.idx[j >> 1] >> ((j & 1) * 4)) & 15u : rd.idx[j];
                if (k == 0u) {
                    t += idx4 ? 15 : 255;
                    continue;
                }
                t += (int32_t)k;
                wv[m] = (int8_t)(mode == MCU_CW_CSR_LUT ? mcu_cw_code(&rd, 1) : *rd.val++);
                off[m++] = t;
            }
            rd.idx += nb;
        }
        if (cw.col_map != NULL) {
            /* kept-tap index -> tap index: run k keeps the kept taps from
             * `first` on, taps from `base` on (indices ascend: one walk) */
            int32_t k = 0, first = 0, base = cw.col_map[0];
            for (e = 0; e < m; ++e) {
                while (off[e] >= first + cw.col_map[2 * k + 1]) {
                    first += cw.col_map[2 * k + 1];
                    base += cw.col_map[2 * k + 1];
                    ++k;
                    base += cw.col_map[2 * k];
                }
                off[e] = base + off[e] - first;
            }
        }
        for (e = 0; e < m; ++e) {
            ty[e] = (uint8_t)(off[e] / kw);
            tx[e] = (uint8_t)(off[e] % kw);
        }
        for (e = 0; e < m; ++e) off[e] = ty[e] * row_step + tx[e] * col_step;
        list.m = m;
        mcu_cw_dw_channel(p, in, bias, out, r, &list, subs);
    }
}

#endif /* MCU_CW_INTERNAL_H */
