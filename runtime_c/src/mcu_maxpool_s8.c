/* MAX_POOL_2D, int8 NHWC, as TFLM's reference_integer_ops::MaxPool: the
 * running max starts at -128 and covers the in-image taps only. */
#include "mcu_nn_misc.h"
#include "mcu_misc_internal.h"

void mcu_maxpool_s8(const int8_t *in, int8_t *out, const mcu_pool_params_t *p)
{
    const int32_t in_h = p->in_h, in_w = p->in_w, ch = p->channels;
    const int32_t row = in_w * ch;
    const int32_t act_min = p->act_min, act_max = p->act_max;
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
                const int8_t *win = img;
                if (wh > 0 && ww > 0) {
                    win += (y0 + fy0) * row + (x0 + fx0) * ch;
                }
                for (c = 0; c < ch; c++) {
                    int32_t m = -128, y, o;
                    for (y = 0; y < wh; y++) {
                        const int8_t *r = win + y * row + c;
                        const int32_t end = ww * ch;
                        for (o = 0; o < end; o += ch) {
                            m = r[o] > m ? r[o] : m;
                        }
                    }
                    out[c] = (int8_t)mcu_clamp_s32(m, act_min, act_max);
                }
                out += ch;
            }
        }
    }
}
