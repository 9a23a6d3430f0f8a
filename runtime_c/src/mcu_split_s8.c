/* SPLIT / SPLIT_V: each output takes its slice of every outer row. */
#include <string.h>

#include "mcu_nn_misc.h"

void mcu_split_s8(const int8_t *in, int8_t *const *out, const mcu_split_params_t *p)
{
    int32_t o, k;
    for (o = 0; o < p->outer; o++) {
        for (k = 0; k < p->n_outputs; k++) {
            const int32_t n = p->out_row[k];
            memcpy(out[k] + o * n, in, (size_t)n);
            in += n;
        }
    }
}
