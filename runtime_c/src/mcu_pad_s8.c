/* PAD / PADV2 on int8 up to 5-D: whole padded blocks are memset at the
 * outermost level they occur; each input row is a memset, a memcpy and a
 * memset. */
#include <string.h>

#include "mcu_nn_misc.h"

void mcu_pad_s8(const int8_t *in, int8_t *out, const mcu_pad_params_t *p)
{
    const int32_t *n = p->in_dims, *b = p->before, *a = p->after;
    const int v = (int)(int8_t)p->value;
    int32_t od[MCU_MAX_DIMS], block[MCU_MAX_DIMS];
    int32_t i0, i1, i2, i3, k;
    for (k = 0; k < MCU_MAX_DIMS; k++) {
        od[k] = b[k] + n[k] + a[k];
    }
    block[4] = 1;
    for (k = 3; k >= 0; k--) {
        block[k] = block[k + 1] * od[k + 1];
    }
    for (i0 = 0; i0 < od[0]; i0++) {
        if (i0 < b[0] || i0 >= b[0] + n[0]) {
            memset(out, v, (size_t)block[0]);
            out += block[0];
            continue;
        }
        for (i1 = 0; i1 < od[1]; i1++) {
            if (i1 < b[1] || i1 >= b[1] + n[1]) {
                memset(out, v, (size_t)block[1]);
                out += block[1];
                continue;
            }
            for (i2 = 0; i2 < od[2]; i2++) {
                if (i2 < b[2] || i2 >= b[2] + n[2]) {
                    memset(out, v, (size_t)block[2]);
                    out += block[2];
                    continue;
                }
                for (i3 = 0; i3 < od[3]; i3++) {
                    if (i3 < b[3] || i3 >= b[3] + n[3]) {
                        memset(out, v, (size_t)block[3]);
                        out += block[3];
                        continue;
                    }
                    memset(out, v, (size_t)b[4]);
                    out += b[4];
                    memcpy(out, in, (size_t)n[4]);
                    out += n[4];
                    in += n[4];
                    memset(out, v, (size_t)a[4]);
                    out += a[4];
                }
            }
        }
    }
}
