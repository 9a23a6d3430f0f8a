/* Private helpers of the mcu_nn_misc kernels that mcu_fixedpoint.h does
 * not have: count-leading-zeros and exact division by a small divisor. */
#ifndef MCU_MISC_INTERNAL_H
#define MCU_MISC_INTERNAL_H

#include <stdint.h>

#include "mcu_fixedpoint.h"

static inline int32_t mcu_mi_clz32(uint32_t x)
{
#if defined(__GNUC__) || defined(__clang__)
    return x ? __builtin_clz(x) : 32;
#else
    int32_t n = 0;
    if (x == 0) {
        return 32;
    }
    while (!(x & 0x80000000u)) {
        x <<= 1;
        n++;
    }
    return n;
#endif
}

/* Exact floor(a / d) by one multiply and shift, for 0 <= a <= 129 * d (the
 * range of |sum of d int8 values| + d/2) and d in [2, 2^23]: pooling and
 * MEAN divide by the window size without a division per element. */
typedef struct {
    uint32_t mult;
    int32_t shift; /* applied to the high word of the 64-bit product */
} mcu_mi_divisor_t;

static inline mcu_mi_divisor_t mcu_mi_divisor(uint32_t d)
{
    /* mult = ceil(2^s / d) = (2^s + e) / d with 0 <= e < d. Writing
     * a = q d + r, a mult / 2^s = q + (r + a e / 2^s) / d, which floors to
     * q while a e < 2^s; 2^s > amax * d guarantees that. s >= 32 lets the
     * kernel take the high word; mult < 2^32 then needs d >= 2. */
    const uint64_t need = (uint64_t)d * (uint64_t)(129u * d);
    mcu_mi_divisor_t r;
    int32_t s = 32;
    while (s < 63 && (((uint64_t)1) << s) <= need) {
        s++;
    }
    r.mult = (uint32_t)(((((uint64_t)1) << s) - 1u) / d + 1u);
    r.shift = s - 32;
    return r;
}

static inline uint32_t mcu_mi_div(uint32_t a, mcu_mi_divisor_t dv)
{
    return (uint32_t)(((uint64_t)a * dv.mult) >> 32) >> dv.shift;
}

/* MultiplyByQuantizedMultiplier(x, m, -e) for m in [1, 2^31), e in [3, 31]
 * as the high word of one multiply-accumulate (SMLAL) and one shift.
 *
 * Double rounding is floor((floor((x m + 2^30) / 2^31) + c) / 2^e) with
 * c = 2^(e-1) - [inner < 0] (gemmlowp's RoundingDivideByPOT); since
 * floor((floor(a) + c) / n) = floor((a + c) / n) for integer c, it equals
 * floor((2x m + 2^31 + c 2^32) / 2^(32+e)). The inner value is negative
 * exactly when 2x < thr2 = -2 floor(2^30 / m). The kernel is handed
 * x2 = 2x - thr2 instead, so that test is the sign of x2, and
 * thr2 m joins the constant 2^31 + 2^(e-1) 2^32 = khi 2^32 + klo.
 * Single rounding is floor((2x m + 2^(e-1) 2^32) / 2^(32+e)), thr2 = 0.
 * |x2| <= 2^30 + 4 keeps every step in range. */
typedef struct {
    int32_t m, e;
    int32_t khi;  /* >= 1 for e >= 3, so (khi - 1) << 32 | klo stays a positive int64 */
    uint32_t klo;
    int32_t thr2;
} mcu_mi_rq_t;

static inline mcu_mi_rq_t mcu_mi_rq_init(int32_t m, int32_t e)
{
    mcu_mi_rq_t r;
    int64_t k = (int64_t)(1u << (e - 1)) * 4294967296LL;
    r.m = m;
    r.e = e;
#ifdef MCU_SINGLE_ROUNDING
    r.thr2 = 0;
#else
    r.thr2 = -2 * (int32_t)((1u << 30) / (uint32_t)m);
    k += 2147483648LL + (int64_t)r.thr2 * m;
#endif
    r.khi = (int32_t)(k / 4294967296LL);
    r.klo = (uint32_t)(k - (int64_t)r.khi * 4294967296LL);
    return r;
}

/* x2 = 2x - thr2. */
static inline int32_t mcu_mi_rq(int32_t x2, const mcu_mi_rq_t *r)
{
#ifdef MCU_SINGLE_ROUNDING
    const int32_t c = r->khi;
#else
    const int32_t c = r->khi + (x2 >> 31); /* one less when the inner value is negative */
#endif
    /* built from its two words so gcc emits mov + smlal + asr */
    const int64_t k = (int64_t)(((uint64_t)(uint32_t)c << 32) | r->klo);
    const int64_t acc = k + (int64_t)x2 * r->m;
    return (int32_t)(uint32_t)((uint64_t)acc >> 32) >> r->e;
}

#endif /* MCU_MISC_INTERNAL_H */
