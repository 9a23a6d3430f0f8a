/* MUL on int8 with broadcasting, bit-exact with TFLM's MulElementwise:
 * MultiplyByQuantizedMultiplier((a + off1) * (b + off2)) + zp, clamped.
 * Reads an element before writing the same index, so the output may alias
 * a same-shaped input. */
#include "mcu_nn_misc.h"
#include "mcu_misc_internal.h"

typedef struct {
    int32_t off1, off2, m, s, zp, lo, hi;
} mul_q_t;

static inline int8_t mul_one(int32_t a, int32_t b, const mul_q_t *q)
{
    return mcu_requantize_s8((a + q->off1) * (b + q->off2), q->m, q->s, q->zp, q->lo, q->hi);
}

/* One output row; sa, sb are 1 or 0 (broadcast), never both 0 (see
 * mcu_add_s8.c). */
static void mul_row(const int8_t *a, int32_t sa, const int8_t *b, int32_t sb, int8_t *o, int32_t n,
                    const mul_q_t *q)
{
    int32_t i = 0;
    if (sa == 1 && sb == 1) {
        for (; i + 4 <= n; i += 4) {
            const int32_t a0 = a[i], a1 = a[i + 1], a2 = a[i + 2], a3 = a[i + 3];
            const int32_t b0 = b[i], b1 = b[i + 1], b2 = b[i + 2], b3 = b[i + 3];
            o[i] = mul_one(a0, b0, q);
            o[i + 1] = mul_one(a1, b1, q);
            o[i + 2] = mul_one(a2, b2, q);
            o[i + 3] = mul_one(a3, b3, q);
        }
        for (; i < n; i++) {
            o[i] = mul_one(a[i], b[i], q);
        }
    } else if (sa == 1) { /* sb == 0 */
        const int32_t cb = b[0];
        for (; i < n; i++) {
            o[i] = mul_one(a[i], cb, q);
        }
    } else { /* sa == 0, sb == 1 */
        const int32_t ca = a[0];
        for (; i < n; i++) {
            o[i] = mul_one(ca, b[i], q);
        }
    }
}

void mcu_mul_s8(const int8_t *in1, const int8_t *in2, int8_t *out, const mcu_mul_params_t *p)
{
    const int32_t *d = p->dims, *s1 = p->step1, *s2 = p->step2;
    const int32_t n = d[4];
    mul_q_t q;
    int32_t i0, i1, i2, i3;
    q.off1 = p->input1_offset;
    q.off2 = p->input2_offset;
    q.m = p->output_multiplier;
    q.s = p->output_shift;
    q.zp = p->output_offset;
    q.lo = p->act_min;
    q.hi = p->act_max;
    for (i0 = 0; i0 < d[0]; i0++) {
        for (i1 = 0; i1 < d[1]; i1++) {
            for (i2 = 0; i2 < d[2]; i2++) {
                for (i3 = 0; i3 < d[3]; i3++) {
                    const int32_t o1 = i0 * s1[0] + i1 * s1[1] + i2 * s1[2] + i3 * s1[3];
                    const int32_t o2 = i0 * s2[0] + i1 * s2[1] + i2 * s2[2] + i3 * s2[3];
                    mul_row(in1 + o1, s1[4], in2 + o2, s2[4], out, n, &q);
                    out += n;
                }
            }
        }
    }
}
