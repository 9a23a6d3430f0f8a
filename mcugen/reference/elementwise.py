"""ADD, SUB and MUL on int8 with TFLM's reference arithmetic.

The arithmetic is per element, so numpy broadcasting (shapes aligned at the
trailing axis, as TFLite's NdArrayDesc extension does) gives the same
result as TFLM's broadcast loops.
"""

from __future__ import annotations

import numpy as np

from .. import fixedpoint as fp
from ..params import nn as P


def _add_sub(ctx, inputs):
    p = P.add_sub_params(ctx.graph, ctx.op, ctx.rounding)
    r = ctx.rounding

    def scaled(v, offset, mult, shift):
        shifted = (v.astype(np.int64) + offset) << p.left_shift
        return fp.multiply_by_quantized_multiplier_smaller_than_one_exp(shifted, mult, shift, r)

    a = scaled(inputs[0], p.input1_offset, p.input1_multiplier, p.input1_shift)
    b = scaled(inputs[1], p.input2_offset, p.input2_multiplier, p.input2_shift)
    raw = a + b if p.kind == "ADD" else a - b
    y = fp.multiply_by_quantized_multiplier_smaller_than_one_exp(raw, p.output_multiplier, p.output_shift, r)
    y = np.clip(y + p.output_offset, p.act_min, p.act_max).astype(np.int8)
    return [y.reshape(p.output_shape)]


def mul(ctx, inputs):
    p = P.mul_params(ctx.graph, ctx.op, ctx.rounding)
    prod = (inputs[0].astype(np.int64) + p.input1_offset) * (inputs[1].astype(np.int64) + p.input2_offset)
    y = fp.multiply_by_quantized_multiplier(prod, p.output_multiplier, p.output_shift, ctx.rounding)
    y = np.clip(y + p.output_offset, p.act_min, p.act_max).astype(np.int8)
    return [y.reshape(p.output_shape)]


KERNELS = {
    "ADD": _add_sub,
    "SUB": _add_sub,
    "MUL": mul,
}
