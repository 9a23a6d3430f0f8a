"""Data movement: CONCATENATION, SPLIT, SPLIT_V, STRIDED_SLICE, PAD, PADV2,
RESHAPE, SQUEEZE. Raw int8 values are moved, never requantized (TFLM's
int8 kernels do not requantize either)."""

from __future__ import annotations

import numpy as np

from ..params import activation as P


def _params(ctx):
    return P.PARAMS[ctx.op.kind](ctx.graph, ctx.op, rounding=ctx.rounding)


def concatenation(ctx, inputs):
    p = _params(ctx)
    return [np.concatenate(inputs, axis=p.axis).astype(inputs[0].dtype, copy=False)]


def split(ctx, inputs):
    p = _params(ctx)
    x = inputs[p.data_input]
    cuts = np.cumsum(p.sizes)[:-1]
    return [np.ascontiguousarray(part) for part in np.split(x, cuts, axis=p.axis)]


def strided_slice(ctx, inputs):
    p = _params(ctx)
    # np.arange handles negative strides and the stop of -1 a reverse slice
    # can end at, which Python slice syntax would read as "last element"
    index = [np.arange(b, e, s) for b, e, s in zip(p.begin, p.end, p.strides)]
    out = inputs[0][np.ix_(*index)] if index else inputs[0]
    return [np.ascontiguousarray(out).reshape(ctx.tout().shape)]


def pad(ctx, inputs):
    p = _params(ctx)
    x = inputs[0]
    return [np.pad(x, p.paddings, mode="constant", constant_values=np.array(p.pad_value).astype(x.dtype))]


def reshape(ctx, inputs):
    return [np.ascontiguousarray(inputs[0]).reshape(ctx.tout().shape)]


KERNELS = {
    "CONCATENATION": concatenation,
    "SPLIT": split,
    "SPLIT_V": split,
    "STRIDED_SLICE": strided_slice,
    "PAD": pad,
    "PADV2": pad,
    "RESHAPE": reshape,
    "SQUEEZE": reshape,
}
