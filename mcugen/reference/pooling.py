"""AVERAGE_POOL_2D, MAX_POOL_2D and MEAN with TFLM's int8 reference arithmetic."""

from __future__ import annotations

import numpy as np

from .. import fixedpoint as fp
from ..params import nn as P


def _taps(xp: np.ndarray, p):
    """Yields the (N, OH, OW, C) slice of the padded input under each filter tap."""
    _, oh, ow, _ = p.output_shape
    for ky in range(p.filter_h):
        for kx in range(p.filter_w):
            yield xp[:, ky:ky + (oh - 1) * p.stride_h + 1:p.stride_h, kx:kx + (ow - 1) * p.stride_w + 1:p.stride_w, :]


def _padded(x: np.ndarray, p, fill) -> np.ndarray:
    n, h, w, c = x.shape
    _, oh, ow, _ = p.output_shape
    height = max((oh - 1) * p.stride_h + p.filter_h, p.pad_h + h)
    width = max((ow - 1) * p.stride_w + p.filter_w, p.pad_w + w)
    xp = np.full((n, height, width, c), fill, dtype=x.dtype)
    xp[:, p.pad_h:p.pad_h + h, p.pad_w:p.pad_w + w, :] = x
    return xp


def average_pool_2d(ctx, inputs):
    p = P.pool_params(ctx.graph, ctx.op, ctx.rounding)
    x = inputs[0].astype(np.int64)
    xs = _padded(x, p, 0)
    valid = _padded(np.ones((1,) + x.shape[1:3] + (1,), dtype=np.int64), p, 0)
    total = sum(_taps(xs, p))
    count = sum(_taps(valid, p))  # in-image taps only: TFLM clamps the window
    # TFLM: acc > 0 ? (acc + n/2) / n : (acc - n/2) / n, C truncating division
    half = count // 2
    avg = fp.trunc_div(np.where(total > 0, total + half, total - half), count)
    return [np.clip(avg, p.act_min, p.act_max).astype(np.int8)]


def max_pool_2d(ctx, inputs):
    p = P.pool_params(ctx.graph, ctx.op, ctx.rounding)
    # padding with int8's lowest value is the same as skipping those taps,
    # since TFLM starts its running max at -128
    xp = _padded(inputs[0], p, np.iinfo(np.int8).min)
    out = None
    for tap in _taps(xp, p):
        out = tap.copy() if out is None else np.maximum(out, tap)
    return [np.clip(out, p.act_min, p.act_max).astype(np.int8)]


def mean(ctx, inputs):
    """TFLM's QuantizedMeanOrSum: the int32 sum over the reduced axes, less
    input_zp * count, requantized by a multiplier that already holds 1/count."""
    p = P.mean_params(ctx.graph, ctx.op, ctx.rounding)
    x = inputs[0].astype(np.int64)
    total = fp.wrap_int32(x.sum(axis=p.axes, keepdims=True)) if p.axes else x
    shifted = fp.wrap_int32(total - p.input_zp * p.count)
    y = fp.multiply_by_quantized_multiplier(shifted, p.multiplier, p.shift, ctx.rounding) + p.output_zp
    return [np.clip(y, -128, 127).astype(np.int8).reshape(p.output_shape)]


KERNELS = {
    "AVERAGE_POOL_2D": average_pool_2d,
    "MAX_POOL_2D": max_pool_2d,
    "MEAN": mean,
}
