/* mcu_conv2d_s8.c - general CONV_2D: im2col two output pixels at a time into
 * scratch (padded taps hold the input zero point, which the folded bias
 * expects), then the shared 2 x 2 GEMM. Columns are col_len bytes: the
 * window rounded up to a multiple of 4 (zero weights, zero bytes), so the
 * GEMM never runs its byte tail; first convolutions (27 = 3x3x3) gain most. */
#include <stdint.h>
#include <string.h>

#include "mcu_dot_s8.h"
#include "mcu_nn_conv.h"

/* Small copies and fills inline: im2col moves a few bytes at a time, where
 * a library call (newlib-nano's memcpy copies bytewise) costs more than the
 * copy. */
static inline void copy_s8(int8_t *dst, const int8_t *src, int32_t n)
{
    for (; n >= 4; n -= 4) {
        int32_t v;
        memcpy(&v, src, 4);
        memcpy(dst, &v, 4);
        src += 4;
        dst += 4;
    }
    for (; n > 0; --n) *dst++ = *src++;
}

static inline void fill_s8(int8_t *dst, int8_t v, int32_t n)
{
    for (; n > 0; --n) *dst++ = v;
}

/* What im2col needs, worked out once per call. */
typedef struct {
    const int8_t *img; /* current image, at the current group's first channel */
    int32_t in_h, in_w, c, cg, k_h, k_w, dil_h, dil_w;
    int32_t row_bytes;  /* k_w * cg */
    int32_t row_step;   /* input bytes between kernel rows */
    int32_t span_h, span_w;
    int32_t contiguous; /* a kernel row is one run of input bytes */
    int32_t in_place;   /* 1xN kernel with exact col_len: inner columns need no copy */
    int8_t zp;
} geom_t;

/* Returns the im2col column of the window whose top-left input pixel is
 * (iy0, ix0): a pointer straight into the input for in-image 1xN windows,
 * otherwise `buf` filled with the window (zero point outside the image). */
static const int8_t *column(const geom_t *q, int32_t iy0, int32_t ix0, int8_t *buf)
{
    const int32_t x_inside = ix0 >= 0 && ix0 + q->span_w <= q->in_w;
    const int8_t *src = q->img + (iy0 * q->in_w + ix0) * q->c;
    int8_t *dst = buf;
    int32_t ky, kx;

    if (x_inside && q->contiguous && iy0 >= 0 && iy0 + q->span_h <= q->in_h) {
        if (q->in_place) return src;
        for (ky = q->k_h; ky > 0; --ky) {
            copy_s8(dst, src, q->row_bytes);
            dst += q->row_bytes;
            src += q->row_step;
        }
        return buf;
    }
    for (ky = 0; ky < q->k_h; ++ky, dst += q->row_bytes) {
        const int32_t iy = iy0 + ky * q->dil_h;
        if (iy < 0 || iy >= q->in_h) {
            fill_s8(dst, q->zp, q->row_bytes);
            continue;
        }
        for (kx = 0; kx < q->k_w; ++kx) {
            const int32_t ix = ix0 + kx * q->dil_w;
            if (ix < 0 || ix >= q->in_w)
                fill_s8(dst + kx * q->cg, q->zp, q->cg);
            else
                copy_s8(dst + kx * q->cg, q->img + (iy * q->in_w + ix) * q->c, q->cg);
        }
    }
    return buf;
}

void mcu_conv2d_s8(const mcu_conv2d_params_s8 *p, const int8_t *in, const int8_t *w, int8_t *out, int8_t *scratch)
{
    const int32_t cg = p->in_c / p->groups, og = p->out_c / p->groups, oc = p->out_c;
    const int32_t depth = p->col_len, ow = p->out_w, sh = p->stride_h, sw = p->stride_w;
    const int32_t n_pix = p->out_h * ow;
    /* scratch is NULL when the generator saw every column read in place */
    int8_t *buf0 = scratch, *buf1 = scratch ? scratch + depth : NULL;
    mcu_gemm_s8_t gm;
    geom_t q;
    int32_t b, g, pix;

    q.in_h = p->in_h;
    q.in_w = p->in_w;
    q.c = p->in_c;
    q.cg = cg;
    q.k_h = p->k_h;
    q.k_w = p->k_w;
    q.dil_h = p->dil_h;
    q.dil_w = p->dil_w;
    q.row_bytes = p->k_w * cg;
    q.row_step = p->dil_h * p->in_w * p->in_c;
    q.span_h = (p->k_h - 1) * p->dil_h + 1;
    q.span_w = (p->k_w - 1) * p->dil_w + 1;
    q.contiguous = p->groups == 1 && (p->dil_w == 1 || p->k_w == 1);
    q.in_place = q.contiguous && p->k_h == 1 && depth == q.row_bytes;
    q.zp = (int8_t)p->input_zp;
    if (scratch != NULL) fill_s8(scratch, 0, 2 * depth); /* the rounding bytes meet zero weights */
    gm.rows = og;
    gm.n_seg = 1;
    gm.seg_len = depth;
    gm.seg_step = 0;
    gm.act_min = p->act_min;
    gm.act_max = p->act_max;
    gm.rq_fast = p->rq_fast;
    for (b = 0; b < p->batches; ++b) {
        int8_t *dst = out + b * n_pix * oc;
        for (g = 0; g < p->groups; ++g) {
            /* output pixels in pairs; (iy, ix) walk along without divisions */
            int32_t ox = 0, iy = -p->pad_h, ix = -p->pad_w;
            q.img = in + b * p->in_h * p->in_w * p->in_c + g * cg;
            gm.w = w + g * MCU_CONV_STREAM_BYTES(og, depth);
            mcu_nn_gemm_s8_prepare(&gm);
            for (pix = 0; pix + 1 < n_pix; pix += 2) {
                const int8_t *c0 = column(&q, iy, ix, buf0), *c1;
                if (++ox == ow) {
                    ox = 0;
                    iy += sh;
                    ix = -p->pad_w;
                } else {
                    ix += sw;
                }
                c1 = column(&q, iy, ix, buf1);
                if (++ox == ow) {
                    ox = 0;
                    iy += sh;
                    ix = -p->pad_w;
                } else {
                    ix += sw;
                }
                mcu_nn_gemm_s8(&gm, c0, c1, dst + pix * oc + g * og, dst + (pix + 1) * oc + g * og);
            }
            if (pix < n_pix)
                mcu_nn_gemm_s8(&gm, column(&q, iy, ix, buf0), NULL, dst + pix * oc + g * og, NULL);
        }
    }
}
