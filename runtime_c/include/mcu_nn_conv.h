/* mcu_nn_conv.h - int8 convolution-family kernels (CONV_2D, DEPTHWISE_CONV_2D,
 * FULLY_CONNECTED, TRANSPOSE_CONV) with TFLM's arithmetic, bit for bit.
 *
 * Tensors are NHWC int8. Everything that TFLM computes at Prepare time is
 * fixed by the code generator and passed in a const params struct:
 *  - bias: int32 per output channel with the input offset already folded in
 *    (bias + input_offset * sum of the channel's weights). Padded taps are
 *    fed the input zero point, which makes the fold exact at the borders.
 *  - rq: per output channel requantization triples (multiplier, shift and
 *    output zero point, encoded as mcu_fixedpoint.h's mcu_requant_tab_s8
 *    reads them), and the fused activation's clamp.
 * Weights are laid out in the order each kernel streams them (see each
 * function). No pointer needs more than its natural alignment; outputs
 * must not overlap inputs.
 */
#ifndef MCU_NN_CONV_H
#define MCU_NN_CONV_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* CONV_2D (general and 1x1). Output channel o of group g reads input
 * channels [g * in_c / groups, (g + 1) * in_c / groups). */
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
    const int32_t *rq;    /* [out_c][3] */
} mcu_conv2d_params_s8;

/* Any kernel size, stride, dilation, padding and group count, by im2col + GEMM.
 * w: [out_c][k_h][k_w][in_c / groups] (TFLite's OHWI), each row zero-padded
 * to col_len bytes, rows in the pair layout of mcu_dot_s8.h within each
 * group. col_len is k_h * k_w * in_c / groups rounded up to a multiple of 4,
 * except for 1xN kernels (k_h == 1, dil_w == 1, groups == 1), which keep the
 * exact length so inner columns can be read in place. scratch: 2 * col_len
 * bytes (NULL when every column is read in place). */
void mcu_conv2d_s8(const mcu_conv2d_params_s8 *p, const int8_t *in, const int8_t *w, const int32_t *bias,
                   int8_t *out, int8_t *scratch);

/* 1x1, any stride, no padding, groups == 1: a GEMM straight on the input
 * pixels, no scratch. w: [out_c][in_c] in the pair layout. */
void mcu_conv2d_1x1_s8(const mcu_conv2d_params_s8 *p, const int8_t *in, const int8_t *w, const int32_t *bias,
                       int8_t *out);

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
    int32_t band_rows;    /* 3x3 kernel: output rows per band (scratch size) */
} mcu_dw_conv_params_s8;

/* Any kernel, stride, dilation, depth multiplier. w: [k_h][k_w][out_c]
 * (TFLite's layout). No scratch. */
void mcu_depthwise_conv_s8(const mcu_dw_conv_params_s8 *p, const int8_t *in, const int8_t *w,
                           const int32_t *bias, int8_t *out);

/* 3x3, depth_mult == 1, no dilation, any stride and padding. Works one
 * channel at a time on int16 copies of three input rows, so each MAC pair
 * is one SMLAD on the M4. w: [in_c][9] (each channel's 3x3 taps row-major).
 * scratch: MCU_DW3X3_S8_SCRATCH(out_w, stride_w, stride_h, band_rows) bytes,
 * any alignment; 1 <= band_rows <= out_h. */
void mcu_depthwise_conv_3x3_s8(const mcu_dw_conv_params_s8 *p, const int8_t *in, const int8_t *w,
                               const int32_t *bias, int8_t *out, int8_t *scratch);
/* int16 elements per row copy: the padded input width the outputs touch,
 * rounded up to even. The scratch holds the (band_rows - 1) * stride_h + 3
 * input rows of a band and one int32 per output of the band. */
#define MCU_DW3X3_ROW_LEN(out_w, stride_w) ((((out_w) - 1) * (stride_w) + 3 + 1) & ~1)
#define MCU_DW3X3_S8_SCRATCH(out_w, stride_w, stride_h, band_rows) \
    (2 * (((band_rows) - 1) * (stride_h) + 3) * MCU_DW3X3_ROW_LEN(out_w, stride_w) + 4 * (band_rows) * (out_w))

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
    const int32_t *tap_offset; /* [out_c][k_h][k_w] */
} mcu_transpose_conv_params_s8;

void mcu_transpose_conv_s8(const mcu_transpose_conv_params_s8 *p, const int8_t *in, const int8_t *w,
                           const int32_t *bias, int8_t *out);

#ifdef __cplusplus
}
#endif

#endif /* MCU_NN_CONV_H */
