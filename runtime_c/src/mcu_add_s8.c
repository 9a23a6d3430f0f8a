/* ADD and SUB on int8 with broadcasting, bit-exact with TFLM's AddFunc /
 * SubElementwise. Each input's stage (offset, << 20, rescale to the common
 * grid) depends on the int8 value alone, so the generator tabulates it:
 * tab[u] = 2 * scaled value of x = (int8_t)u + floor(2^30 / output
 * multiplier) (SUB negates the scaled value of tab2; single rounding drops
 * the floor term), the form mcu_mi_rq takes, and only the output
 * requantization runs here, as one multiply-accumulate. Reads an element
 * before writing the same index, so the output may alias a same-shaped
 * input. */
#include "mcu_nn_misc.h"
#include "mcu_misc_internal.h"

typedef struct {
    mcu_mi_rq_t rq;
    int32_t zp, lo, hi;
} add_out_t;

/* MultiplyByQuantizedMultiplierSmallerThanOneExp + offset + clamp, from
 * twice the raw sum. */
static inline int8_t add_out(int32_t raw2, const add_out_t *q)
{
    int32_t y = mcu_mi_rq(raw2, &q->rq) + q->zp;
    /* max then min: gcc makes two IT-predicated moves, not branches */
    y = y < q->lo ? q->lo : y;
    y = y > q->hi ? q->hi : y;
    return (int8_t)y;
}

/* One output row. The generator folds shapes so the innermost axis is
 * contiguous in every input that has it: sa, sb are 1 or 0 (broadcast),
 * never both 0. */
static void add_row(const int8_t *a, int32_t sa, const int8_t *b, int32_t sb, int8_t *o, int32_t n,
                    const int32_t *t1, const int32_t *t2, const add_out_t *q)
{
    int32_t i = 0;
    if (sa == 1 && sb == 1) {
        for (; i + 4 <= n; i += 4) {
            o[i] = add_out(t1[(uint8_t)a[i]] + t2[(uint8_t)b[i]], q);
            o[i + 1] = add_out(t1[(uint8_t)a[i + 1]] + t2[(uint8_t)b[i + 1]], q);
            o[i + 2] = add_out(t1[(uint8_t)a[i + 2]] + t2[(uint8_t)b[i + 2]], q);
            o[i + 3] = add_out(t1[(uint8_t)a[i + 3]] + t2[(uint8_t)b[i + 3]], q);
        }
        for (; i < n; i++) {
            o[i] = add_out(t1[(uint8_t)a[i]] + t2[(uint8_t)b[i]], q);
        }
    } else if (sa == 1 && sb == 0) {
        const int32_t cb = t2[(uint8_t)b[0]];
        for (; i + 4 <= n; i += 4) {
            o[i] = add_out(t1[(uint8_t)a[i]] + cb, q);
            o[i + 1] = add_out(t1[(uint8_t)a[i + 1]] + cb, q);
            o[i + 2] = add_out(t1[(uint8_t)a[i + 2]] + cb, q);
            o[i + 3] = add_out(t1[(uint8_t)a[i + 3]] + cb, q);
        }
        for (; i < n; i++) {
            o[i] = add_out(t1[(uint8_t)a[i]] + cb, q);
        }
    } else { /* sa == 0, sb == 1 */
        const int32_t ca = t1[(uint8_t)a[0]];
        for (; i + 4 <= n; i += 4) {
            o[i] = add_out(ca + t2[(uint8_t)b[i]], q);
            o[i + 1] = add_out(ca + t2[(uint8_t)b[i + 1]], q);
            o[i + 2] = add_out(ca + t2[(uint8_t)b[i + 2]], q);
            o[i + 3] = add_out(ca + t2[(uint8_t)b[i + 3]], q);
        }
        for (; i < n; i++) {
            o[i] = add_out(ca + t2[(uint8_t)b[i]], q);
        }
    }
}

void mcu_add_s8(const int8_t *in1, const int8_t *in2, int8_t *out,
                const int32_t *tab1, const int32_t *tab2, const mcu_add_params_t *p)
{
    const int32_t *d = p->dims, *s1 = p->step1, *s2 = p->step2;
    const int32_t n = d[4];
    add_out_t q;
    int32_t i0, i1, i2, i3;
    /* the generator guarantees output_shift <= -3 */
    q.rq = mcu_mi_rq_init(p->output_multiplier, -p->output_shift);
    q.zp = p->output_offset;
    q.lo = p->act_min;
    q.hi = p->act_max;
    for (i0 = 0; i0 < d[0]; i0++) {
        for (i1 = 0; i1 < d[1]; i1++) {
            for (i2 = 0; i2 < d[2]; i2++) {
                for (i3 = 0; i3 < d[3]; i3++) {
                    const int32_t o1 = i0 * s1[0] + i1 * s1[1] + i2 * s1[2] + i3 * s1[3];
                    const int32_t o2 = i0 * s2[0] + i1 * s2[1] + i2 * s2[2] + i3 * s2[3];
                    add_row(in1 + o1, s1[4], in2 + o2, s2[4], out, n, tab1, tab2, &q);
                    out += n;
                }
            }
        }
    }
}
