/* Table-driven unary int8 operators: RELU, RELU6, LEAKY_RELU, LOGISTIC,
 * TANH, HARD_SWISH and int8 -> int8 QUANTIZE. An int8 input has 256
 * possible values, so the generator runs TFLM's reference arithmetic on all
 * of them; the table is bit-exact by construction and the loop is two loads
 * and a store per element. Each element is read before its own index is
 * written, so the output may alias the input. */
#include "mcu_nn_misc.h"

void mcu_lut_s8(const int8_t *in, int8_t *out, const int8_t *lut, int32_t n)
{
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint8_t a = (uint8_t)in[i], b = (uint8_t)in[i + 1];
        const uint8_t c = (uint8_t)in[i + 2], d = (uint8_t)in[i + 3];
        out[i] = lut[a];
        out[i + 1] = lut[b];
        out[i + 2] = lut[c];
        out[i + 3] = lut[d];
    }
    for (; i < n; i++) {
        out[i] = lut[(uint8_t)in[i]];
    }
}
