/* mcugen runtime: int8 pooling, elementwise, activation, quantization and
 * data-movement kernels. Bit-exact with TFLM's reference kernels.
 *
 * Every shape, multiplier and table is folded in by the generator
 * (mcugen/codegen/lower_misc.py); the kernels only loop. Argument order is
 * inputs, outputs, constant tables, then the params struct (or a count).
 * Tables indexed by an int8 value x are read at [(uint8_t)x], i.e. entry u
 * holds the value for x = (int8_t)u.
 *
 * Kernels marked "in place" are correct when the output buffer is exactly
 * the (same-sized) input buffer; the others need disjoint buffers.
 */
#ifndef MCU_NN_MISC_H
#define MCU_NN_MISC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MCU_MAX_DIMS 5
#define MCU_CONCAT_MAX_INPUTS 16
#define MCU_SPLIT_MAX_OUTPUTS 16

/* ---- pooling (NHWC) --------------------------------------------------- */

typedef struct {
    int32_t batches, in_h, in_w, channels;
    int32_t out_h, out_w;
    int32_t filter_h, filter_w;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w; /* leading padding; taps outside the image are skipped */
    int32_t act_min, act_max;
} mcu_pool_params_t;

/* AVERAGE_POOL_2D: round-half-away(sum / taps), taps = in-image window size. */
void mcu_avgpool_s8(const int8_t *in, int8_t *out, const mcu_pool_params_t *p);
/* MAX_POOL_2D. */
void mcu_maxpool_s8(const int8_t *in, int8_t *out, const mcu_pool_params_t *p);

/* ---- MEAN --------------------------------------------------------------- */

/* The input is seen as up to 3 kept and 3 reduced axis groups (size 1 when
 * unused); output elements run over the kept groups, outermost first. */
typedef struct {
    int32_t kept[3], kept_step[3]; /* extents and input element strides */
    int32_t red[3], red_step[3];
    int32_t zp_count;   /* input zero point * count (elements per output), wrapped to int32 */
    int32_t multiplier; /* 1/count already folded in (TFLM's QuantizedMeanOrSum) */
    int32_t shift;
    int32_t output_zp;
} mcu_mean_params_t;

void mcu_mean_s8(const int8_t *in, int8_t *out, const mcu_mean_params_t *p);

/* ---- ADD / SUB / MUL with broadcasting ----------------------------------- */

/* Output folded to 5-D (outermost first); step1/step2 are the inputs'
 * element strides along each output axis, 0 where an input broadcasts. */
typedef struct {
    int32_t dims[MCU_MAX_DIMS];
    int32_t step1[MCU_MAX_DIMS];
    int32_t step2[MCU_MAX_DIMS];
    int32_t output_multiplier, output_shift, output_offset;
    int32_t act_min, act_max;
} mcu_add_params_t;

/* ADD and SUB: tab1[u] / tab2[u] hold each input's offset, shifted and
 * rescaled int32 value (TFLM's scaled_input*_val; SUB: tab2's negated),
 * doubled and, for double rounding, plus floor(2^30 / output_multiplier):
 * the output requantization is then one multiply-accumulate per element
 * (see mcu_misc_internal.h). Needs output_shift <= -3. Both tables may be
 * the same array. In place for either input when it has the output's
 * shape. */
void mcu_add_s8(const int8_t *in1, const int8_t *in2, int8_t *out,
                const int32_t *tab1, const int32_t *tab2, const mcu_add_params_t *p);

typedef struct {
    int32_t dims[MCU_MAX_DIMS];
    int32_t step1[MCU_MAX_DIMS];
    int32_t step2[MCU_MAX_DIMS];
    int32_t input1_offset, input2_offset;
    int32_t output_multiplier, output_shift, output_offset;
    int32_t act_min, act_max;
} mcu_mul_params_t;

/* MUL. In place like mcu_add_s8. */
void mcu_mul_s8(const int8_t *in1, const int8_t *in2, int8_t *out, const mcu_mul_params_t *p);

/* ---- table-driven unary ops ----------------------------------------------- */

/* out[i] = lut[(uint8_t)in[i]]: RELU, RELU6, LEAKY_RELU, LOGISTIC, TANH,
 * HARD_SWISH and int8 -> int8 QUANTIZE, whose 256 possible results the
 * generator computes with the reference arithmetic. In place. */
void mcu_lut_s8(const int8_t *in, int8_t *out, const int8_t *lut, int32_t n);

/* ---- SOFTMAX (last axis) ---------------------------------------------------- */

typedef struct {
    int32_t rows, depth;
} mcu_softmax_params_t;

/* exp_tab[d], d = row max - x in 0..255: gemmlowp's exp of the rescaled
 * difference as Q0.31, 0 where TFLM skips the element (d beyond diff_min).
 * In place. */
void mcu_softmax_s8(const int8_t *in, int8_t *out, const int32_t *exp_tab, const mcu_softmax_params_t *p);

/* ---- QUANTIZE / DEQUANTIZE of float model I/O ------------------------------- */

typedef struct {
    float scale; /* output scale: q = round(x / scale) + zero_point in float32 */
    int32_t zero_point;
} mcu_quantize_params_t;

void mcu_quantize_f32_s8(const float *in, int8_t *out, int32_t n, const mcu_quantize_params_t *p);

typedef struct {
    float scale; /* input scale: x = scale * (q - zero_point) in float32 */
    int32_t zero_point;
} mcu_dequantize_params_t;

void mcu_dequantize_s8_f32(const int8_t *in, float *out, int32_t n, const mcu_dequantize_params_t *p);

/* ---- data movement ------------------------------------------------------------ */

/* RESHAPE / SQUEEZE: a copy that does nothing when the planner aliased the
 * output onto the input (out == in). */
void mcu_copy_s8(const int8_t *in, int8_t *out, int32_t n);

/* CONCATENATION: TFLM copies int8 bytes without requantizing. in[k] is the
 * k-th input; one outer slice of input k is in_row[k] bytes. */
typedef struct {
    int32_t outer;     /* product of the extents before the axis */
    int32_t n_inputs;
    int32_t in_row[MCU_CONCAT_MAX_INPUTS];
} mcu_concat_params_t;

void mcu_concat_s8(const int8_t *const *in, int8_t *out, const mcu_concat_params_t *p);

/* SPLIT / SPLIT_V. */
typedef struct {
    int32_t outer;
    int32_t n_outputs;
    int32_t out_row[MCU_SPLIT_MAX_OUTPUTS];
} mcu_split_params_t;

void mcu_split_s8(const int8_t *in, int8_t *const *out, const mcu_split_params_t *p);

/* STRIDED_SLICE: output folded to 5-D; step[d] is the (possibly negative)
 * input element step per output step along axis d. */
typedef struct {
    int32_t dims[MCU_MAX_DIMS];
    int32_t step[MCU_MAX_DIMS];
    int32_t start; /* input element index of the first output element */
} mcu_strided_slice_params_t;

void mcu_strided_slice_s8(const int8_t *in, int8_t *out, const mcu_strided_slice_params_t *p);

/* PAD / PADV2: input folded to 5-D with per-axis leading/trailing padding. */
typedef struct {
    int32_t in_dims[MCU_MAX_DIMS];
    int32_t before[MCU_MAX_DIMS];
    int32_t after[MCU_MAX_DIMS];
    int32_t value; /* raw int8 pad byte */
} mcu_pad_params_t;

void mcu_pad_s8(const int8_t *in, int8_t *out, const mcu_pad_params_t *p);

#ifdef __cplusplus
}
#endif

#endif /* MCU_NN_MISC_H */
