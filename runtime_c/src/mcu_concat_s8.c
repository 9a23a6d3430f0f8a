/* CONCATENATION: TFLM's int8 kernel copies bytes, ignoring any difference
 * between input and output quantization. */
#include <string.h>

#include "mcu_nn_misc.h"

void mcu_concat_s8(const int8_t *const *in, int8_t *out, const mcu_concat_params_t *p)
{
    int32_t o, k;
    for (o = 0; o < p->outer; o++) {
        for (k = 0; k < p->n_inputs; k++) {
            const int32_t n = p->in_row[k];
            memcpy(out, in[k] + o * n, (size_t)n);
            out += n;
        }
    }
}
