/* mcu_nn_compressed.h - conv-family kernels that read compressed weights
 * directly: CSR sparse (pruned layers), lookup table (weight sharing) and
 * CSR whose values are lookup-table codes. Arithmetic as mcu_nn_conv.h: the
 * accumulator is the dense int32 accumulator bit for bit (skipped zeros add
 * nothing; the folded bias holds input_offset * the sum of all weights, and
 * padded taps read input_zp), so outputs match TFLM exactly.
 *
 * Weight matrices have one row per output channel:
 *   FULLY_CONNECTED    [out_depth][in_depth]
 *   CONV_2D            [out_c][k_h * k_w * in_c / groups] (TFLite's OHWI order)
 *   DEPTHWISE_CONV_2D  [out_c][k_h * k_w] (each channel's taps, row-major)
 * Formats (mcugen/formats/csr.py and lut.py have the full description):
 *
 * CSR (idx_bits 4 or 8, E = 2^idx_bits - 1). idx holds per row relative
 *   column codes k, walked from column -1: k > 0 moves k columns on to the
 *   next stored value; k == 0 is a filler that moves E columns on and
 *   stores nothing. 4-bit codes go two per byte, low nibble first, each row
 *   padded to an even count (so rows start on a byte). row_len8 (or
 *   row_len16, or row_len32: the one not NULL) [rows] gives each row's idx
 *   bytes. Stored values follow in row order: int8 `values` (CSR), or codes
 *   into the codebook (CSR+LUT). Only stored values are multiplied.
 * LUT. codes: one bit stream, least significant bit first, rows not padded.
 *   book_len == NULL: one codebook int8[] for the tensor, every code
 *   lut_bits wide. Otherwise row r has its own book of book_len[r] values,
 *   the books one after another in codebook, each sorted ascending and
 *   delta-coded (first value, then differences 1..255 stored mod 256); the
 *   row's codes are w = ceil(log2(book_len[r])) bits (0 for a one-value
 *   book), except CSR+LUT, whose per-row codes are truncated binary: with
 *   u = 2^w - book_len[r], peek w bits t; if its low w - 1 bits v < u the
 *   value is book[v] (w - 1 bits used), else book[t - (t >> (w - 1)) * u].
 *   LUT: a code for every weight. CSR+LUT: a code for each stored value.
 *   The decoders refill their bit buffer ahead of need, so code streams
 *   end with spare zero bytes: 1 after LUT codes, 3 after CSR+LUT codes.
 *   book_n: the entries of a single CSR+LUT codebook.
 *
 * Column map. col_map == NULL: the rows hold all columns (cols of them).
 *   Otherwise the columns that are zero in every row are left out: rows
 *   hold cols columns, the ones col_map lists as col_pairs (skip, keep)
 *   uint8 pairs read from column 0 (skip that many columns, then keep that
 *   many); columns after the last pair are left out. The kernels gather
 *   the kept input values once per input row or output pixel.
 *
 * Passes. CONV_2D (and FULLY_CONNECTED with several batch rows) decode
 *   each stored weight once for four output pixels (batch rows): pix = 4,
 *   their input columns gathered into scratch as int16 pairs. pix = 1 runs
 *   one pixel per pass (a smaller scratch). With row_cache set, what a
 *   pass decodes and the next would decode again is kept in scratch: the
 *   per-row LUT books, or every CSR+LUT value (the passes then run as
 *   plain CSR). rq_fast = 1 says every requantization triple has the fast
 *   form (mcu_fixedpoint.h), which needs no branch.
 *
 * The kernels walk the streams from the start on each pass, so any stream
 * may live in flash or RAM; nothing needs alignment beyond its type's, the
 * scratch none at all. On cores with the DSP extension and gcc, the inner
 * loops are Thumb-2 assembly (the C loops, which hosts and other cores
 * run, give the same bits). They take up to ~800 bytes of stack on a
 * Cortex-M4 (a CSR+LUT decode table of 512 bytes among it).
 */
#ifndef MCU_NN_COMPRESSED_H
#define MCU_NN_COMPRESSED_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The weight fields, the same in every params struct below; unused ones
 * are 0 / NULL. */
#define MCU_CW_FIELDS                                                        \
    int32_t idx_bits;            /* CSR: 4 or 8 */                          \
    const uint8_t *row_len8;     /* CSR: [rows] idx bytes per row, or */    \
    const uint16_t *row_len16;   /*      these when rows are longer   */    \
    const uint32_t *row_len32;                                              \
    const uint8_t *idx;          /* CSR: relative column codes */           \
    const int8_t *values;        /* CSR: the stored int8 values */          \
    int32_t lut_bits;            /* one codebook: code width */             \
    const uint8_t *codes;        /* LUT, CSR+LUT: packed codes */           \
    const int8_t *codebook;      /* LUT, CSR+LUT */                         \
    const uint8_t *book_len;     /* per-row books: [rows] lengths, or NULL */ \
    int32_t book_n;              /* one book: its entries */                \
    int32_t cols;                /* columns the rows hold */                \
    const uint8_t *col_map;      /* NULL, or the kept columns: */           \
    int32_t col_pairs;           /*   col_pairs (skip, keep) uint8 pairs */

/* Scratch of the four-column passes (pix 4): the kept columns of four
 * input rows or pixels as int16 pairs, 4-byte aligned inside; then, when
 * row_cache is set, `cache` bytes for what the kernel decodes on its first
 * pass and reuses on the others: the per-row LUT books (the sum of
 * book_len[r] rounded up to even) or every CSR+LUT value (a byte each). */
#define MCU_CW_PIX4_S8_SCRATCH(cols, cache) (8 * (cols) + 3 + (cache))

/* FULLY_CONNECTED: out[b][n] = requant(bias[n] + w[n] . x[b] (+ weights_offset * sum x[b])),
 * fields as mcu_fc_params_s8. pix 1: one batch row per pass over the
 * weights, read in place, or gathered into scratch (cols bytes) when
 * col_map is set; pix 4: four batch rows per pass (each stored weight is
 * decoded once for four MACs), scratch MCU_CW_PIX4_S8_SCRATCH. */
typedef struct {
    int32_t batches;
    int32_t in_depth;
    int32_t out_depth;
    int32_t per_channel;
    int32_t weights_offset;
    int32_t act_min, act_max;
    const int32_t *rq;
    int32_t rq_fast;             /* 1: every rq triple has the fast form */
    int32_t pix;
    int32_t row_cache;           /* pix 4: scratch holds a decoded cache (see above) */
    MCU_CW_FIELDS
} mcu_fc_cw_params_s8;

void mcu_fully_connected_csr_s8(const mcu_fc_cw_params_s8 *p, const int8_t *in, const int32_t *bias, int8_t *out,
                                int8_t *scratch);
void mcu_fully_connected_lut_s8(const mcu_fc_cw_params_s8 *p, const int8_t *in, const int32_t *bias, int8_t *out,
                                int8_t *scratch);
void mcu_fully_connected_csr_lut_s8(const mcu_fc_cw_params_s8 *p, const int8_t *in, const int32_t *bias,
                                    int8_t *out, int8_t *scratch);

/* CONV_2D, fields as mcu_conv2d_params_s8 (no col_len). pix 4: four output
 * pixels per pass over the weights (each stored weight is decoded once for
 * four MACs), their windows gathered straight from the image into scratch;
 * pix 1: one pixel per pass, its window gathered (depth bytes) unless the
 * kernel is 1x1 (window = 0), which reads pixels in place (or gathers the
 * kept channels, cols bytes, when col_map is set). Scratch, any alignment:
 * MCU_CONV_CW_S8_SCRATCH bytes. */
typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;
    int32_t groups;
    int32_t input_zp;
    int32_t act_min, act_max;
    const int32_t *rq;
    int32_t rq_fast;
    int32_t pix;
    int32_t row_cache;
    MCU_CW_FIELDS
} mcu_conv2d_cw_params_s8;

#define MCU_CONV_CW_S8_SCRATCH(pix, window, depth, cols, has_map, cache) \
    ((pix) == 4 ? MCU_CW_PIX4_S8_SCRATCH(cols, cache) : ((window) ? (depth) : ((has_map) ? (cols) : 0)))

void mcu_conv2d_csr_s8(const mcu_conv2d_cw_params_s8 *p, const int8_t *in, const int32_t *bias, int8_t *out,
                       int8_t *scratch);
void mcu_conv2d_csr_lut_s8(const mcu_conv2d_cw_params_s8 *p, const int8_t *in, const int32_t *bias, int8_t *out,
                           int8_t *scratch);
void mcu_conv2d_lut_s8(const mcu_conv2d_cw_params_s8 *p, const int8_t *in, const int32_t *bias, int8_t *out,
                       int8_t *scratch);

/* DEPTHWISE_CONV_2D, fields as mcu_dw_conv_params_s8 (no band_rows). One
 * channel at a time: its taps are decoded once into scratch (the non-zero
 * ones only, also for LUT), then every output pixel of the channel is
 * computed from sub-lists of the taps each window reads inside the image
 * (those outside read input_zp: a constant), four pixels per pass.
 * scratch: MCU_DW_CW_S8_SCRATCH bytes, any alignment; k_h and k_w at most
 * 255. */
typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t depth_mult;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;
    int32_t input_zp;
    int32_t act_min, act_max;
    const int32_t *rq;
    int32_t rq_fast;
    MCU_CW_FIELDS
} mcu_dw_conv_cw_params_s8;

#define MCU_DW_CW_S8_SCRATCH(k_h, k_w) (22 * (k_h) * (k_w) + 3)

void mcu_depthwise_conv_csr_s8(const mcu_dw_conv_cw_params_s8 *p, const int8_t *in, const int32_t *bias,
                               int8_t *out, int8_t *scratch);
void mcu_depthwise_conv_csr_lut_s8(const mcu_dw_conv_cw_params_s8 *p, const int8_t *in, const int32_t *bias,
                                   int8_t *out, int8_t *scratch);
void mcu_depthwise_conv_lut_s8(const mcu_dw_conv_cw_params_s8 *p, const int8_t *in, const int32_t *bias,
                               int8_t *out, int8_t *scratch);

#ifdef __cplusplus
}
#endif

#endif /* MCU_NN_COMPRESSED_H */
