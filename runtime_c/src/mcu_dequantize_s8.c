/* DEQUANTIZE int8 -> float32 of a float model output. TFLM computes
 * static_cast<float>(double(scale) * (q - zp)); that double product is
 * exact (24 x 9 bits), so one float32 multiply rounds to the same value. */
#include "mcu_nn_misc.h"

void mcu_dequantize_s8_f32(const int8_t *in, float *out, int32_t n, const mcu_dequantize_params_t *p)
{
    const float scale = p->scale;
    const int32_t zp = p->zero_point;
    int32_t i;
    for (i = 0; i < n; i++) {
        out[i] = scale * (float)(in[i] - zp);
    }
}
