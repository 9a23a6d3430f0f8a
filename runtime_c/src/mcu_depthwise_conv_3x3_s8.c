/* mcu_depthwise_conv_3x3_s8.c - DEPTHWISE_CONV_2D fast path for 3x3 kernels
 * with depth multiplier 1 and no dilation (any stride and padding).
 *
 * NHWC puts a channel's neighbouring pixels in_c bytes apart, which is why
 * channel-interleaved depthwise code spends ~8 instructions per MAC on an M4.
 * Here one channel is processed at a time, in bands of output rows: the
 * input rows a band needs are copied once into int16 rows (the padding
 * holds the zero point), a tap pair is then one word load and one SMLAD,
 * and the band's accumulators are requantized in one pass whose constants
 * stay in registers. With stride 1 two neighbouring outputs share their
 * loads: out[x] takes (r[x], r[x+1]) and r[x+2], out[x+1] takes r[x+1] and
 * (r[x+2], r[x+3]). The code generator sizes the bands (p->band_rows) to
 * the scratch it grants; a band as tall as the image makes each channel
 * three straight loops, which is what narrow images need.
 */
#include <stdint.h>
#include <string.h>

#include "mcu_dot_s8.h"
#include "mcu_nn_conv.h"

/* int16/int32 rows live in the int8 scratch; memcpy keeps the accesses free
 * of aliasing and alignment assumptions and compiles to single loads/stores. */
static inline int32_t ld16(const int8_t *row, int32_t j)
{
    int16_t v;
    memcpy(&v, row + 2 * j, 2);
    return v;
}

static inline int32_t ld16x2(const int8_t *row, int32_t j)
{
    int32_t v;
    memcpy(&v, row + 2 * j, 4);
    return v;
}

static inline void st16(int8_t *row, int32_t j, int32_t v)
{
    const int16_t h = (int16_t)v;
    memcpy(row + 2 * j, &h, 2);
}

static inline void st32(int8_t *buf, int32_t j, int32_t v) { memcpy(buf + 4 * j, &v, 4); }

static inline int32_t ld32(const int8_t *buf, int32_t j)
{
    int32_t v;
    memcpy(&v, buf + 4 * j, 4);
    return v;
}

static inline int32_t pair16(int32_t lo, int32_t hi)
{
    return (int32_t)(((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16));
}

/* Writes the in-image part of a row buffer: input row iy of channel c at
 * elements [pad_w, pad_w + n), or the zero point for rows outside the image.
 * The padding columns around it hold the zero point from the start. */
static void fill_row(const int8_t *img, int32_t c_n, int32_t in_w, int32_t in_h, int32_t iy, int32_t zp,
                     int8_t *row, int32_t pad_w, int32_t n)
{
    int32_t j;
    row += 2 * pad_w;
    if (iy < 0 || iy >= in_h) {
        for (j = 0; j < n; ++j) st16(row, j, zp);
        return;
    }
    img += iy * in_w * c_n;
    for (j = 0; j + 4 <= n; j += 4) {
        st16(row, j, img[0]);
        st16(row, j + 1, img[c_n]);
        st16(row, j + 2, img[2 * c_n]);
        st16(row, j + 3, img[3 * c_n]);
        img += 4 * c_n;
    }
    for (; j < n; ++j) {
        st16(row, j, *img);
        img += c_n;
    }
}

/* One output row of one channel: the MACs into the int32 row `acc`. kw holds
 * the kernel rows as int16 pairs (w0, w1), (w1, w2) for the DSP build, the
 * nine taps otherwise. */
static void mac_row(const int8_t *r0, const int8_t *r1, const int8_t *r2, const int32_t *kw, int32_t bias,
                    int32_t ow, int32_t sw, int8_t *acc)
{
    int32_t ox = 0;
#if MCU_SIMD
    const int32_t a01 = kw[0], a12 = kw[1], b01 = kw[2], b12 = kw[3], c01 = kw[4], c12 = kw[5];
    if (sw == 1) {
        for (; ox + 2 <= ow; ox += 2) {
            int32_t s0 = bias, s1 = bias, u, v;
            u = ld16x2(r0, ox);
            v = ld16x2(r0, ox + 2);
            s0 = mcu_smlad(u, a01, s0);
            s0 = mcu_smlabt(v, a12, s0);
            s1 = mcu_smlatb(u, a01, s1);
            s1 = mcu_smlad(v, a12, s1);
            u = ld16x2(r1, ox);
            v = ld16x2(r1, ox + 2);
            s0 = mcu_smlad(u, b01, s0);
            s0 = mcu_smlabt(v, b12, s0);
            s1 = mcu_smlatb(u, b01, s1);
            s1 = mcu_smlad(v, b12, s1);
            u = ld16x2(r2, ox);
            v = ld16x2(r2, ox + 2);
            s0 = mcu_smlad(u, c01, s0);
            s0 = mcu_smlabt(v, c12, s0);
            s1 = mcu_smlatb(u, c01, s1);
            s1 = mcu_smlad(v, c12, s1);
            st32(acc, ox, s0);
            st32(acc, ox + 1, s1);
        }
    }
    for (; ox < ow; ++ox) {
        const int32_t sx = ox * sw;
        int32_t s0 = bias;
        s0 = mcu_smlad(ld16x2(r0, sx), a01, s0);
        s0 = mcu_smlabt(ld16(r0, sx + 2), a12, s0);
        s0 = mcu_smlad(ld16x2(r1, sx), b01, s0);
        s0 = mcu_smlabt(ld16(r1, sx + 2), b12, s0);
        s0 = mcu_smlad(ld16x2(r2, sx), c01, s0);
        s0 = mcu_smlabt(ld16(r2, sx + 2), c12, s0);
        st32(acc, ox, s0);
    }
#else
    const int32_t k0 = kw[0], k1 = kw[1], k2 = kw[2], k3 = kw[3], k4 = kw[4], k5 = kw[5], k6 = kw[6], k7 = kw[7],
                  k8 = kw[8];
    for (; ox < ow; ++ox) {
        const int32_t sx = ox * sw;
        int32_t s0 = bias;
        s0 += ld16(r0, sx) * k0 + ld16(r0, sx + 1) * k1 + ld16(r0, sx + 2) * k2;
        s0 += ld16(r1, sx) * k3 + ld16(r1, sx + 1) * k4 + ld16(r1, sx + 2) * k5;
        s0 += ld16(r2, sx) * k6 + ld16(r2, sx + 1) * k7 + ld16(r2, sx + 2) * k8;
        st32(acc, ox, s0);
    }
#endif
}

/* n accumulators of one channel to int8, every `step` bytes of dst */
static void requant_run(const int8_t *acc, const int32_t *q, int32_t n, int32_t lo, int32_t hi, int8_t *dst,
                        int32_t step)
{
    const int32_t m = q[0], sh = q[1], add = q[2];
    int32_t j;
    if (sh > 0) {
        /* the fast form, its test hoisted out of the loop */
        for (j = 0; j < n; ++j) {
            *dst = mcu_requant3_s8(m, sh, add, ld32(acc, j), lo, hi);
            dst += step;
        }
    } else {
        for (j = 0; j < n; ++j) {
            *dst = mcu_requant3_s8(m, sh, add, ld32(acc, j), lo, hi);
            dst += step;
        }
    }
}

void mcu_depthwise_conv_3x3_s8(const mcu_dw_conv_params_s8 *p, const int8_t *in, const int8_t *w,
                               const int32_t *bias, int8_t *out, int8_t *scratch)
{
    const int32_t c_n = p->in_c, in_w = p->in_w, in_h = p->in_h;
    const int32_t oh = p->out_h, ow = p->out_w, sh = p->stride_h, sw = p->stride_w;
    const int32_t row_len = MCU_DW3X3_ROW_LEN(ow, sw), pad_w = p->pad_w, zp = p->input_zp;
    const int32_t band = p->band_rows, band_in = (band - 1) * sh + 3;
    const int32_t n_in = mcu_max_s32(0, mcu_min_s32(in_w, row_len - pad_w));
    int8_t *acc = scratch + 2 * band_in * row_len;
    int32_t b, c, oy0, j;

    for (j = 0; j < band_in * row_len; ++j) st16(scratch, j, zp);
    for (b = 0; b < p->batches; ++b) {
        const int8_t *img = in + b * in_h * in_w * c_n;
        int8_t *out_img = out + b * oh * ow * c_n;
        for (c = 0; c < c_n; ++c) {
            const int8_t *k = w + 9 * c;
            int32_t kw[9];
#if MCU_SIMD
            kw[0] = pair16(k[0], k[1]);
            kw[1] = pair16(k[1], k[2]);
            kw[2] = pair16(k[3], k[4]);
            kw[3] = pair16(k[4], k[5]);
            kw[4] = pair16(k[6], k[7]);
            kw[5] = pair16(k[7], k[8]);
#else
            for (j = 0; j < 9; ++j) kw[j] = k[j];
#endif
            for (oy0 = 0; oy0 < oh; oy0 += band) {
                const int32_t nb = mcu_min_s32(band, oh - oy0), rows = (nb - 1) * sh + 3;
                const int32_t iy0 = oy0 * sh - p->pad_h;
                const int8_t *r = scratch;
                for (j = 0; j < rows; ++j)
                    fill_row(img + c, c_n, in_w, in_h, iy0 + j, zp, scratch + 2 * j * row_len, pad_w, n_in);
                for (j = 0; j < nb; ++j) {
                    mac_row(r, r + 2 * row_len, r + 4 * row_len, kw, bias[c], ow, sw, acc + 4 * j * ow);
                    r += 2 * sh * row_len;
                }
                requant_run(acc, p->rq + 3 * c, nb * ow, p->act_min, p->act_max, out_img + oy0 * ow * c_n + c, c_n);
            }
        }
    }
}
