/* STRIDED_SLICE: the generator resolves begin/end/masks into a start
 * offset and per-axis input steps (negative for reversed axes) over the
 * output extents folded to 5-D. Offsets stay integers: a pointer stepped
 * outside the input would be UB even unread. */
#include <string.h>

#include "mcu_nn_misc.h"

void mcu_strided_slice_s8(const int8_t *in, int8_t *out, const mcu_strided_slice_params_t *p)
{
    const int32_t *d = p->dims, *s = p->step;
    const int32_t n = d[4], s4 = s[4];
    int32_t i0, i1, i2, i3, i;
    for (i0 = 0; i0 < d[0]; i0++) {
        for (i1 = 0; i1 < d[1]; i1++) {
            for (i2 = 0; i2 < d[2]; i2++) {
                for (i3 = 0; i3 < d[3]; i3++) {
                    const int32_t base = p->start + i0 * s[0] + i1 * s[1] + i2 * s[2] + i3 * s[3];
                    if (s4 == 1) {
                        memcpy(out, in + base, (size_t)n);
                    } else {
                        int32_t off = base;
                        for (i = 0; i < n; i++) {
                            out[i] = in[off];
                            off += s4;
                        }
                    }
                    out += n;
                }
            }
        }
    }
}
