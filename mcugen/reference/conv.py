"""CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and TRANSPOSE_CONV with TFLM's
int8 reference arithmetic.

Accumulators are formed with float64 matrix products: every term is an int8
times an offset int8 (|term| <= 255 * 128 < 2^15), so any sum shorter than
2^38 terms is an exact integer in a double and converts back losslessly;
BLAS makes that far faster than numpy's int64 matmul. TFLM accumulates in
int32 and adds the bias in int32, so the sum is wrapped to int32 before the
requantization to keep even overflowing models bit-exact.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import fixedpoint as fp
from ..params import nn as P


def requantize(acc, multiplier, shift, offset: int, act_min: int, act_max: int, rounding: str) -> np.ndarray:
    """MultiplyByQuantizedMultiplier per output channel (last axis), then
    offset and clamp, as every TFLM int8 conv-like kernel ends."""
    y = fp.multiply_by_quantized_multiplier(acc, multiplier, shift, rounding) + offset
    return np.clip(y, act_min, act_max).astype(np.int8)


def _offset_padded(x: np.ndarray, offset: int, top: int, left: int, height: int, width: int) -> np.ndarray:
    """(x + offset) as float64 inside a zero frame: out-of-image taps then
    contribute nothing, exactly like TFLM skipping them."""
    n, h, w, c = x.shape
    xp = np.zeros((n, max(height, top + h), max(width, left + w), c), dtype=np.float64)
    xp[:, top:top + h, left:left + w, :] = x.astype(np.float64) + offset
    return xp


def _windows(xp: np.ndarray, p, kh: int, kw: int) -> np.ndarray:
    """View (N, OH, OW, KH, KW, C) of the padded input; no copy."""
    n, _, _, c = xp.shape
    _, oh, ow, _ = p.output_shape
    s0, s1, s2, s3 = xp.strides
    return as_strided(xp, shape=(n, oh, ow, kh, kw, c),
                      strides=(s0, s1 * p.stride_h, s2 * p.stride_w, s1 * p.dilation_h, s2 * p.dilation_w, s3),
                      writeable=False)


def _padded_extent(p, kh: int, kw: int) -> tuple[int, int]:
    _, oh, ow, _ = p.output_shape
    return (oh - 1) * p.stride_h + (kh - 1) * p.dilation_h + 1, (ow - 1) * p.stride_w + (kw - 1) * p.dilation_w + 1


def conv_2d(ctx, inputs):
    p = P.conv_params(ctx.graph, ctx.op, ctx.rounding)
    x, w = inputs[0], inputs[1]
    oc, kh, kw, cg = p.filter_shape
    n, oh, ow, _ = p.output_shape
    height, width = _padded_extent(p, kh, kw)
    xp = _offset_padded(x, p.input_offset, p.pad_h, p.pad_w, height, width)
    win = _windows(xp, p, kh, kw)
    per_group = oc // p.groups
    acc = np.empty((n * oh * ow, oc), dtype=np.float64)
    for g in range(p.groups):
        cols = win[..., g * cg:(g + 1) * cg].reshape(n * oh * ow, kh * kw * cg)
        wg = w[g * per_group:(g + 1) * per_group].reshape(per_group, kh * kw * cg).astype(np.float64)
        acc[:, g * per_group:(g + 1) * per_group] = cols @ wg.T
    acc = fp.wrap_int32(acc.astype(np.int64) + p.bias)
    return [requantize(acc, p.multiplier, p.shift, p.output_offset, p.act_min, p.act_max, ctx.rounding)
            .reshape(p.output_shape)]


def depthwise_conv_2d(ctx, inputs):
    p = P.conv_params(ctx.graph, ctx.op, ctx.rounding)
    x, w = inputs[0], inputs[1]
    _, kh, kw, oc = p.filter_shape
    n, oh, ow, _ = p.output_shape
    height, width = _padded_extent(p, kh, kw)
    xp = _offset_padded(x, p.input_offset, p.pad_h, p.pad_w, height, width).astype(np.int64)
    if p.depth_multiplier > 1:
        # output channel c * dm + m reads input channel c
        xp = np.repeat(xp, p.depth_multiplier, axis=3)
    w = w.astype(np.int64)
    acc = np.zeros((n, oh, ow, oc), dtype=np.int64)
    for ky in range(kh):
        y0 = ky * p.dilation_h
        for kx in range(kw):
            x0 = kx * p.dilation_w
            tap = xp[:, y0:y0 + (oh - 1) * p.stride_h + 1:p.stride_h, x0:x0 + (ow - 1) * p.stride_w + 1:p.stride_w, :]
            acc += tap * w[0, ky, kx, :]
    acc = fp.wrap_int32(acc + p.bias)
    return [requantize(acc, p.multiplier, p.shift, p.output_offset, p.act_min, p.act_max, ctx.rounding)]


def fully_connected(ctx, inputs):
    p = P.fully_connected_params(ctx.graph, ctx.op, ctx.rounding)
    x, w = inputs[0], inputs[1]
    xs = x.reshape(p.batches, p.accum_depth).astype(np.float64) + p.input_offset
    ws = w.reshape(-1, p.accum_depth)[:p.output_depth].astype(np.float64) + p.weights_offset
    acc = fp.wrap_int32((xs @ ws.T).astype(np.int64) + p.bias)
    y = requantize(acc, p.multiplier, p.shift, p.output_offset, p.act_min, p.act_max, ctx.rounding)
    return [y.reshape(p.output_shape)]


def transpose_conv(ctx, inputs):
    p = P.transpose_conv_params(ctx.graph, ctx.op, ctx.rounding)
    w, x = inputs[1], inputs[2]
    oc, kh, kw, ic = p.filter_shape
    n, ih, iw, _ = p.input_shape
    _, oh, ow, _ = p.output_shape
    sh, sw = p.stride_h, p.stride_w
    # scatter into a canvas whose origin is output pixel (-pad_h, -pad_w)
    ch = max((ih - 1) * sh + kh, p.pad_h + oh)
    cw = max((iw - 1) * sw + kw, p.pad_w + ow)
    canvas = np.zeros((n, ch, cw, oc), dtype=np.float64)
    xs = x.reshape(n * ih * iw, ic).astype(np.float64) + p.input_offset
    wf = w.astype(np.float64)
    for ky in range(kh):
        for kx in range(kw):
            contrib = (xs @ wf[:, ky, kx, :].T).reshape(n, ih, iw, oc)
            canvas[:, ky:ky + (ih - 1) * sh + 1:sh, kx:kx + (iw - 1) * sw + 1:sw, :] += contrib
    acc = canvas[:, p.pad_h:p.pad_h + oh, p.pad_w:p.pad_w + ow, :].astype(np.int64)
    # the int32 scratch wraps as it accumulates; wrapping the exact total is the same
    acc = fp.wrap_int32(fp.wrap_int32(acc) + p.bias)
    return [requantize(acc, p.multiplier, p.shift, p.output_offset, p.act_min, p.act_max, ctx.rounding)]


KERNELS = {
    "CONV_2D": conv_2d,
    "DEPTHWISE_CONV_2D": depthwise_conv_2d,
    "FULLY_CONNECTED": fully_connected,
    "TRANSPOSE_CONV": transpose_conv,
}
