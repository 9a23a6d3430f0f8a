/* mcu_nn_conv.h - int8 convolution-family kernels (CONV_2D, DEPTHWISE_CONV_2D,
 * FULLY_CONNECTED, TRANSPOSE_CONV) with TFLM's arithmetic, bit for bit.
 *
 * Tensors are NHWC int8. Everything that TFLM computes at Prepare time is
 * fixed by the code generator (mcugen/codegen/lower_conv.py) and passed in
 * a const params struct or the weight tables:
 *  - bias: int32 per output channel with the input offset already folded in
 *    (bias + input_offset * sum of the channel's weights). Padded taps are
 *    fed the input zero point, or their products added back, which makes
 *    the fold exact at the borders.
 *  - requantization triples per output channel (multiplier, shift and
 *    output zero point, encoded as mcu_fixedpoint.h's mcu_requant_tab_s8
 *    reads them; rq_fast says all take the fast form), and the fused
 *    activation's clamp.
 * Weights (with biases and triples, for some kernels) are laid out in the
 * order each kernel reads them (see each function). Weight tables need
 * 4-byte alignment (the generator gives 16), activations their natural one,
 * scratch what each function says. Outputs must not overlap inputs, except
 * where a function says it runs in place.
 *
 * On Cortex-M cores with the DSP extension, built by gcc with optimization,
 * the inner loops are inline assembly (mcu_dot_s8.h); the same code in C
 * gives the same bits everywhere else.
 */
#ifndef MCU_NN_CONV_H
#define MCU_NN_CONV_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* CONV_2D. Output channel o of group g reads input channels
 * [g * in_c / groups, (g + 1) * in_c / groups).
 *
 * Weights, biases and requantization come as one stream per group, in the
 * order the kernels use them (the GEMM core's stream, mcu_dot_s8.h): per
 * output channel pair the two int32 biases, the two weight rows interleaved
 * by 4-byte words ("pair layout"), the two requantization triples; an odd
 * last channel as bias, row, triple. A row is the channel's OHWI weights,
 * zero-padded to depth bytes (depth: see each kernel); a group's stream is
 * MCU_CONV_STREAM_BYTES(out_c / groups, depth) = (out_c / groups) *
 * (depth + 16) bytes. int32 values are little-endian; the stream must be
 * 4-byte aligned. */
typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w; /* leading (top, left) padding */
    int32_t groups;
    int32_t col_len;      /* mcu_conv2d_s8: weight row / column bytes (see there) */
    int32_t input_zp;     /* value of padded taps */
    int32_t act_min, act_max;
    int32_t rq_fast;      /* 1: every triple in the fast form (mcu_fixedpoint.h) */
    /* mcu_conv2d_direct_s8's border classes (else NULL): pixel (oy, ox) is in
     * class y_cls[oy] + x_cls[ox], and cls_corr[class][o] is what that
     * class's skipped taps add to channel o */
    const int16_t *y_cls, *x_cls;
    const int32_t *cls_corr;
} mcu_conv2d_params_s8;

#define MCU_CONV_STREAM_BYTES(rows, depth) ((rows) * ((depth) + 16))

/* Any kernel size, stride, dilation, padding and group count, by im2col + GEMM.
 * depth = col_len: k_h * k_w * in_c / groups rounded up to a multiple of 4,
 * except for 1xN kernels (k_h == 1, dil_w == 1, groups == 1), which keep the
 * exact length so inner columns can be read in place. scratch: 2 * col_len
 * bytes (NULL when every column is read in place). */
void mcu_conv2d_s8(const mcu_conv2d_params_s8 *p, const int8_t *in, const int8_t *w, int8_t *out, int8_t *scratch);

/* 1x1, any stride, no padding, groups == 1: a GEMM straight on the input
 * pixels, no scratch. depth = in_c. */
void mcu_conv2d_1x1_s8(const mcu_conv2d_params_s8 *p, const int8_t *in, const int8_t *w, int8_t *out);

/* groups == 1, dil_w == 1 or k_w == 1, in_c % 4 == 0; any kernel, stride,
 * dil_h and padding; no scratch. Windows inside the image are read in place
 * (k_h runs of k_w * in_c bytes); border windows are clipped to the image
 * and cls_corr adds back input_zp * (sum of the skipped taps' weights),
 * wrapped to int32, per output channel. depth = k_h * k_w * in_c. */
void mcu_conv2d_direct_s8(const mcu_conv2d_params_s8 *p, const int8_t *in, const int8_t *w, int8_t *out);

/* DEPTHWISE_CONV_2D. Output channel c * depth_mult + m reads input channel c. */
typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c; /* out_c = in_c * depth_mult */
    int32_t depth_mult;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;
    int32_t input_zp;
    int32_t act_min, act_max;
    const int32_t *rq;    /* [out_c][3] */
    int32_t rq_fast;      /* as mcu_conv2d_params_s8 */
    int32_t transposed;   /* 3x3 kernels: image columns are processed as rows (see there) */
    int32_t group_chunk;  /* mcu_depthwise_conv_3x3_ch4_s8: groups of 4 channels per line buffer */
} mcu_dw_conv_params_s8;

/* Any kernel, stride, dilation, depth multiplier. w: [k_h][k_w][out_c]
 * (TFLite's layout). No scratch. */
void mcu_depthwise_conv_s8(const mcu_dw_conv_params_s8 *p, const int8_t *in, const int8_t *w,
                           const int32_t *bias, int8_t *out);

/* 3x3, depth_mult == 1, no dilation, any stride and padding. One channel at
 * a time, one output row at a time, from a line buffer of three int16 input
 * rows, so each MAC pair is one SMLAD on the M4. Correct in place (out ==
 * in, stride 1 with out the size of in) as well as with disjoint buffers.
 * w: [in_c][9], each channel's 3x3 taps row-major - or column-major when
 * transposed == 1, which processes image columns as rows (for images
 * narrower than tall). scratch: MCU_DW3X3_S8_SCRATCH(cols, col_stride)
 * bytes, any alignment, where cols and col_stride are out_w and stride_w,
 * or out_h and stride_h when transposed. */
void mcu_depthwise_conv_3x3_s8(const mcu_dw_conv_params_s8 *p, const int8_t *in, const int8_t *w,
                               const int32_t *bias, int8_t *out, int8_t *scratch);
/* int16 pairs per buffered row: the (cols - 1) * stride + 3 input elements
 * the outputs touch, and one pair the paired loops may read past them */
#define MCU_DW3X3_WORDS(cols, stride) ((((cols) - 1) * (stride) + 4) / 2 + 1)
#define MCU_DW3X3_S8_SCRATCH(cols, stride) (12 * MCU_DW3X3_WORDS(cols, stride))

/* 3x3, depth_mult == 1, no dilation, in_c % 4 == 0, any stride and padding,
 * four channels at a time from a line buffer of three int16 input rows.
 * Correct in place as mcu_depthwise_conv_3x3_s8. w: per group of four
 * channels 136 bytes: four int32 biases (input offset folded in), for each
 * of the nine taps (row-major) the int16 pairs (w[c0], w[c2]) and (w[c1],
 * w[c3]), four requantization triples; int32 little-endian, 4-byte aligned.
 * p->rq is unused. Like mcu_depthwise_conv_3x3_s8 it can run transposed
 * (w then holds each kernel column-major). Channels go through the line
 * buffer group_chunk groups of four at a time: scratch is
 * MCU_DW3X3_CH4_S8_SCRATCH(4 * group_chunk, cols, col_stride) bytes, 4-byte
 * aligned (cols, col_stride as for mcu_depthwise_conv_3x3_s8). */
void mcu_depthwise_conv_3x3_ch4_s8(const mcu_dw_conv_params_s8 *p, const int8_t *in, const int8_t *w,
                                   int8_t *out, int8_t *scratch);
/* padded input pixels a buffered row holds */
#define MCU_DW3X3_CH4_PIXELS(out_w, stride) (((out_w) - 1) * (stride) + 3)
#define MCU_DW3X3_CH4_S8_SCRATCH(in_c, out_w, stride) (6 * (in_c) * MCU_DW3X3_CH4_PIXELS(out_w, stride))

/* FULLY_CONNECTED: out[b][n] = requant(bias[n] + w[n] . x[b] (+ weights_offset * sum x[b])).
 * w: [out_depth][in_depth] in the pair layout. Per-tensor quantization:
 * per_channel = 0 and rq holds one triple. weights_offset (-weight zero point) is 0
 * except for asymmetric per-tensor weights; the generator folds every other
 * offset product into bias. No scratch. */
typedef struct {
    int32_t batches;
    int32_t in_depth;
    int32_t out_depth;
    int32_t per_channel;
    int32_t weights_offset;
    int32_t act_min, act_max;
    const int32_t *rq;
    int32_t rq_fast;      /* as mcu_conv2d_params_s8 */
} mcu_fc_params_s8;

void mcu_fully_connected_s8(const mcu_fc_params_s8 *p, const int8_t *in, const int8_t *w, const int32_t *bias,
                            int8_t *out);

/* TRANSPOSE_CONV, computed as a gather: each output pixel sums the taps whose
 * input pixel lands on it. The input offset cannot fold into bias (how many
 * taps reach a pixel depends on the pixel), so tap_offset[o][ky][kx] =
 * input_offset * sum_i w[o][ky][kx][i] is added per contributing tap.
 * w: [out_c][k_h][k_w][in_c] (TFLite's layout). No scratch. */
typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;
    int32_t act_min, act_max;
    const int32_t *rq;         /* [out_c][3] */
    int32_t rq_fast;           /* as mcu_conv2d_params_s8 */
    const int32_t *tap_offset; /* [out_c][k_h][k_w] */
} mcu_transpose_conv_params_s8;

void mcu_transpose_conv_s8(const mcu_transpose_conv_params_s8 *p, const int8_t *in, const int8_t *w,
                           const int32_t *bias, int8_t *out);

#ifdef __cplusplus
}
#endif

#endif /* MCU_NN_CONV_H */
