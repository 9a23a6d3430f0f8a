/* QUANTIZE float32 -> int8 of a float model input, as TFLM's
 * AffineQuantize: round(x / scale) in float32, halves away from zero
 * (std::round), plus the zero point, clamped. (int8 -> int8 QUANTIZE is
 * table-driven: mcu_lut_s8.) */
#include "mcu_nn_misc.h"

/* std::round for float without <math.h>: truncate, then look at the exact
 * fraction (x + 0.5f would round 0.49999997f up). */
static int32_t round_half_away(float v)
{
    int32_t t;
    float frac;
    if (v > 1.0e6f) {
        return 1000000; /* clamps to 127 after any int8 zero point */
    }
    if (v < -1.0e6f) {
        return -1000000;
    }
    t = (int32_t)v;
    frac = v - (float)t; /* exact: |v| < 2^23 keeps the integer part exact */
    if (frac >= 0.5f) {
        t += 1;
    } else if (frac <= -0.5f) {
        t -= 1;
    }
    return t;
}

/* NaN and |x/scale| >= 2^31 are undefined behaviour in TFLM's int cast. The
 * oracle mcugen checks against (the tflite-micro build on the host) yields
 * INT32_MIN there, plus the zero point with int32 wrap-around: -128 for a
 * zero point >= 0, 127 below. Doing the same everywhere keeps every mcugen
 * engine bit-identical on such inputs. */
static int8_t out_of_range(int32_t zp)
{
    return (int8_t)(zp < 0 ? 127 : -128);
}

void mcu_quantize_f32_s8(const float *in, int8_t *out, int32_t n, const mcu_quantize_params_t *p)
{
    const float scale = p->scale;
    const int32_t zp = p->zero_point;
    int32_t i;
    for (i = 0; i < n; i++) {
        const float v = in[i] / scale;
        int32_t q;
        if (!(v >= -2147483648.0f && v < 2147483648.0f)) { /* also NaN */
            out[i] = out_of_range(zp);
            continue;
        }
        q = round_half_away(v) + zp;
        q = q < -128 ? -128 : (q > 127 ? 127 : q);
        out[i] = (int8_t)q;
    }
}
