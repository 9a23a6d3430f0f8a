/* AVERAGE_POOL_2D, int8 NHWC, as TFLM's reference_integer_ops::AveragePool:
 * the raw int8 taps inside the image are summed, then
 * acc > 0 ? (acc + n/2) / n : (acc - n/2) / n (C division), clamped.
 * The division is an exact multiply-shift by a reciprocal computed once
 * per distinct window size (border windows are smaller). */
#include "mcu_nn_misc.h"
#include "mcu_misc_internal.h"

void mcu_avgpool_s8(const int8_t *in, int8_t *out, const mcu_pool_params_t *p)
{
    const int32_t in_h = p->in_h, in_w = p->in_w, ch = p->channels;
    const int32_t row = in_w * ch;
    const int32_t act_min = p->act_min, act_max = p->act_max;
    int32_t last_n = 0;
    mcu_mi_divisor_t dv = {0u, 0};
    int32_t b, oy, ox, c;

    for (b = 0; b < p->batches; b++) {
        const int8_t *img = in + (int32_t)b * in_h * row;
        for (oy = 0; oy < p->out_h; oy++) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            const int32_t fy0 = y0 < 0 ? -y0 : 0;
            const int32_t fy1 = p->filter_h < in_h - y0 ? p->filter_h : in_h - y0;
            const int32_t wh = fy1 - fy0;
            for (ox = 0; ox < p->out_w; ox++) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                const int32_t fx0 = x0 < 0 ? -x0 : 0;
                const int32_t fx1 = p->filter_w < in_w - x0 ? p->filter_w : in_w - x0;
                const int32_t ww = fx1 - fx0;
                const int32_t n = wh * ww;
                const int32_t half = n / 2;
                const int8_t *win;
                if (wh <= 0 || ww <= 0) {
                    /* TFLM fails the whole op here; a valid model never gets here */
                    for (c = 0; c < ch; c++) {
                        out[c] = 0;
                    }
                    out += ch;
                    continue;
                }
                win = img + (y0 + fy0) * row + (x0 + fx0) * ch;
                if (n != last_n && n > 1) {
                    dv = mcu_mi_divisor((uint32_t)n);
                    last_n = n;
                }
                for (c = 0; c < ch; c++) {
                    /* offsets, not pointer bumps: a pointer stepped past the
                     * last tap would leave the array (UB even unread) */
                    int32_t acc = 0, y, x;
                    for (y = 0; y < wh; y++) {
                        const int8_t *r = win + y * row + c;
                        const int32_t end = ww * ch;
                        int32_t o = 0;
                        for (x = 0; x + 4 <= ww; x += 4) {
                            acc += r[o] + r[o + ch] + r[o + 2 * ch] + r[o + 3 * ch];
                            o += 4 * ch;
                        }
                        for (; o < end; o += ch) {
                            acc += r[o];
                        }
                    }
                    if (n > 1) {
                        if (acc > 0) {
                            acc = (int32_t)mcu_mi_div((uint32_t)(acc + half), dv);
                        } else {
                            acc = -(int32_t)mcu_mi_div((uint32_t)(half - acc), dv);
                        }
                    }
                    out[c] = (int8_t)mcu_clamp_s32(acc, act_min, act_max);
                }
                out += ch;
            }
        }
    }
}
