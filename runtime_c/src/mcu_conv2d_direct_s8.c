/* mcu_conv2d_direct_s8.c - CONV_2D without im2col and without scratch
 * (groups == 1, kernel rows contiguous in the input: dil_w == 1 or k_w == 1,
 * in_c a multiple of 4).
 *
 * A window whose taps all lie in the image is k_h runs of k_w * in_c bytes
 * of the input, one per kernel row: the GEMM core reads them where they
 * are, two such pixels at a time (any two: pairs continue across output
 * rows). A window that leaves the image is computed alone over the runs
 * clipped to the image; its skipped taps would have read the input zero
 * point, whose products the folded bias already subtracts, so they are
 * added back: the code generator sorts pixels into classes by which taps
 * they skip and tabulates each class's zero_point * (sum of skipped
 * weights) per output channel.
 */
#include <stdint.h>
#include <string.h>

#include "mcu_compiler.h"
#include "mcu_dot_s8.h"
#include "mcu_nn_conv.h"

/* first k in [0, n) with o + k * d >= 0, and first with o + k * d >= size */
static inline int32_t first_in(int32_t o, int32_t d, int32_t n)
{
    int32_t k = 0;
    while (k < n && o + k * d < 0) ++k;
    return k;
}

static inline int32_t first_out(int32_t o, int32_t d, int32_t n, int32_t size)
{
    int32_t k = n;
    while (k > 0 && o + (k - 1) * d >= size) --k;
    return k;
}

/* One output pixel whose window leaves the image: its top-left tap is
 * img[at] (outside the image, never read), runs clipped to the image; corr
 * holds the pixel's class's corrections, one per output channel. */
static void border_pixel(const mcu_conv2d_params_s8 *p, const int8_t *w, const int8_t *img, int32_t at,
                         int32_t ky0, int32_t ky1, int32_t kx0, int32_t kx1, const int32_t *corr, int8_t *out)
{
    const int32_t c = p->in_c, kw = p->k_w, depth = p->k_h * kw * c, oc = p->out_c;
    const int32_t row_step = p->dil_h * p->in_w * c, len = (kx1 - kx0) * c, lo = p->act_min, hi = p->act_max;
    int32_t r, ky;

    at += kx0 * c;
    for (r = 0; r + 1 < oc; r += 2) {
        int32_t a0 = mcu_wrap_add_s32(mcu_read_s32(w), corr[r]), a1 = mcu_wrap_add_s32(mcu_read_s32(w + 4), corr[r + 1]);
        int32_t q[6];
        const int8_t *wr = w + 8;
        if (len > 0) {
            for (ky = ky0; ky < ky1; ++ky)
                mcu_dot_pair_x1(wr + 2 * (ky * kw + kx0) * c, img + (at + ky * row_step), len, &a0, &a1);
        }
        memcpy(q, wr + 2 * depth, sizeof q);
        out[r] = mcu_requant3_s8(q[0], q[1], q[2], a0, lo, hi);
        out[r + 1] = mcu_requant3_s8(q[3], q[4], q[5], a1, lo, hi);
        w += 2 * depth + 32;
    }
    if (r < oc) {
        int32_t a = mcu_wrap_add_s32(mcu_read_s32(w), corr[r]), q[3];
        const int8_t *wr = w + 4;
        if (len > 0) {
            for (ky = ky0; ky < ky1; ++ky) a = mcu_dot_1x1(wr + (ky * kw + kx0) * c, img + (at + ky * row_step), len, a);
        }
        memcpy(q, wr + depth, sizeof q);
        out[r] = mcu_requant3_s8(q[0], q[1], q[2], a, lo, hi);
    }
}

/* Two output pixels whose windows leave the image the same way (same
 * class, so the same clipped runs and corrections): the 2 x 2 blocks. */
static void border_pair(const mcu_conv2d_params_s8 *p, const int8_t *w, const int8_t *img, int32_t at0, int32_t at1,
                        int32_t ky0, int32_t ky1, int32_t kx0, int32_t kx1, const int32_t *corr, int8_t *out0,
                        int8_t *out1)
{
    const int32_t c = p->in_c, kw = p->k_w, depth = p->k_h * kw * c, oc = p->out_c;
    const int32_t row_step = p->dil_h * p->in_w * c, len = (kx1 - kx0) * c, lo = p->act_min, hi = p->act_max;
    int32_t r, ky;

    at0 += kx0 * c;
    at1 += kx0 * c;
    for (r = 0; r + 1 < oc; r += 2) {
        int32_t acc[4], q[6];
        const int8_t *wr = w + 8;
        acc[0] = mcu_wrap_add_s32(mcu_read_s32(w), corr[r]);
        acc[1] = mcu_wrap_add_s32(mcu_read_s32(w + 4), corr[r + 1]);
        acc[2] = acc[0];
        acc[3] = acc[1];
        if (len > 0) {
            for (ky = ky0; ky < ky1; ++ky)
                mcu_dot_pair_x2(wr + 2 * (ky * kw + kx0) * c, img + (at0 + ky * row_step), img + (at1 + ky * row_step),
                                len, acc);
        }
        memcpy(q, wr + 2 * depth, sizeof q);
        out0[r] = mcu_requant3_s8(q[0], q[1], q[2], acc[0], lo, hi);
        out1[r] = mcu_requant3_s8(q[0], q[1], q[2], acc[2], lo, hi);
        out0[r + 1] = mcu_requant3_s8(q[3], q[4], q[5], acc[1], lo, hi);
        out1[r + 1] = mcu_requant3_s8(q[3], q[4], q[5], acc[3], lo, hi);
        w += 2 * depth + 32;
    }
    if (r < oc) {
        int32_t a0 = mcu_wrap_add_s32(mcu_read_s32(w), corr[r]), a1 = a0, q[3];
        const int8_t *wr = w + 4;
        if (len > 0) {
            for (ky = ky0; ky < ky1; ++ky)
                mcu_dot_1x2(wr + (ky * kw + kx0) * c, img + (at0 + ky * row_step), img + (at1 + ky * row_step), len,
                            &a0, &a1);
        }
        memcpy(q, wr + depth, sizeof q);
        out0[r] = mcu_requant3_s8(q[0], q[1], q[2], a0, lo, hi);
        out1[r] = mcu_requant3_s8(q[0], q[1], q[2], a1, lo, hi);
    }
}

/* a border pixel waiting for a partner of its class (3x3 windows with
 * padding 1 have 8 border classes; pixels of further classes go alone) */
typedef struct {
    int8_t *out; /* NULL: none */
    int16_t oy, ox;
} pending_t;

#define MAX_CLASSES 12

/* the taps [k0, k1) of a window starting at o (taps at o + k * d) that lie in [0, size) */
static void tap_range(int32_t o, int32_t d, int32_t n, int32_t size, int32_t *k0, int32_t *k1)
{
    *k0 = first_in(o, d, n);
    *k1 = mcu_max_s32(*k0, first_out(o, d, n, size));
}

/* a border pixel (alone, or with the pixel of the same class waiting in q) */
static MCU_NOINLINE void border(const mcu_conv2d_params_s8 *p, const int8_t *w, const int8_t *img, int32_t oy,
                                int32_t ox, int8_t *out, const pending_t *q)
{
    const int32_t c = p->in_c, iw = p->in_w, iy0 = oy * p->stride_h - p->pad_h, ix0 = ox * p->stride_w - p->pad_w;
    const int32_t *corr = p->cls_corr + (p->y_cls[oy] + p->x_cls[ox]) * p->out_c;
    int32_t ky0, ky1, kx0, kx1;
    tap_range(iy0, p->dil_h, p->k_h, p->in_h, &ky0, &ky1);
    tap_range(ix0, 1, p->k_w, iw, &kx0, &kx1);
    if (q == NULL) {
        border_pixel(p, w, img, (iy0 * iw + ix0) * c, ky0, ky1, kx0, kx1, corr, out);
    } else {
        const int32_t at0 = ((q->oy * p->stride_h - p->pad_h) * iw + q->ox * p->stride_w - p->pad_w) * c;
        border_pair(p, w, img, at0, (iy0 * iw + ix0) * c, ky0, ky1, kx0, kx1, corr, q->out, out);
    }
}

void mcu_conv2d_direct_s8(const mcu_conv2d_params_s8 *p, const int8_t *in, const int8_t *w, int8_t *out)
{
    const int32_t c = p->in_c, oc = p->out_c, kh = p->k_h, kw = p->k_w;
    const int32_t ih = p->in_h, iw = p->in_w, oh = p->out_h, ow = p->out_w;
    const int32_t sh = p->stride_h, sw = p->stride_w, dh = p->dil_h;
    /* output columns whose windows lie inside the image: [ox_lo, ox_hi) */
    const int32_t ox_lo = mcu_min_s32(ow, (p->pad_w + sw - 1) / sw);
    const int32_t ox_hi = iw - kw + p->pad_w < 0 ? ox_lo
                                                 : mcu_max_s32(ox_lo, mcu_min_s32(ow, (iw - kw + p->pad_w) / sw + 1));
    mcu_gemm_s8_t gm;
    pending_t pend[MAX_CLASSES];
    int32_t b, oy, ox, k;

    gm.w = w;
    gm.rows = oc;
    gm.n_seg = kh;
    gm.seg_len = kw * c;
    gm.seg_step = dh * iw * c;
    gm.act_min = p->act_min;
    gm.act_max = p->act_max;
    gm.rq_fast = p->rq_fast;
    mcu_nn_gemm_s8_prepare(&gm);
    for (b = 0; b < p->batches; ++b) {
        const int8_t *img = in + b * ih * iw * c;
        int8_t *dst = out + b * oh * ow * oc;
        const int8_t *pend_x = NULL; /* an inside pixel waiting for its partner */
        int8_t *pend_out = NULL;
        for (k = 0; k < MAX_CLASSES; ++k) pend[k].out = NULL;
        for (oy = 0; oy < oh; ++oy) {
            const int32_t iy0 = oy * sh - p->pad_h;
            const int32_t row_inside = iy0 >= 0 && iy0 + (kh - 1) * dh < ih;
            for (ox = 0; ox < ow; ++ox, dst += oc) {
                const int32_t ix0 = ox * sw - p->pad_w;
                if (row_inside && ox >= ox_lo && ox < ox_hi) {
                    const int8_t *x = img + (iy0 * iw + ix0) * c;
                    if (pend_x != NULL) {
                        mcu_nn_gemm_s8(&gm, pend_x, x, pend_out, dst);
                        pend_x = NULL;
                    } else {
                        pend_x = x;
                        pend_out = dst;
                    }
                } else {
                    /* pixels of one class pair up: same clipped runs, same corrections */
                    const int32_t cls = p->y_cls[oy] + p->x_cls[ox];
                    if (cls >= MAX_CLASSES) {
                        border(p, w, img, oy, ox, dst, NULL);
                    } else if (pend[cls].out != NULL) {
                        border(p, w, img, oy, ox, dst, &pend[cls]);
                        pend[cls].out = NULL;
                    } else {
                        pend[cls].out = dst;
                        pend[cls].oy = (int16_t)oy;
                        pend[cls].ox = (int16_t)ox;
                    }
                }
            }
        }
        if (pend_x != NULL) mcu_nn_gemm_s8(&gm, pend_x, NULL, pend_out, NULL);
        for (k = 0; k < MAX_CLASSES; ++k)
            if (pend[k].out != NULL) border(p, w, img, pend[k].oy, pend[k].ox, pend[k].out, NULL);
    }
}
