"""int8 activation kernels: SOFTMAX, LOGISTIC, TANH, HARD_SWISH, LEAKY_RELU,
RELU, RELU6, with TFLM's reference arithmetic.

All folded numbers come from mcugen.params.activation, the same dataclasses
the C generator emits.
"""

from __future__ import annotations

import numpy as np

from .. import fixedpoint as fp
from ..params import activation as P
from . import gemmlowp as g


def _params(ctx):
    return P.PARAMS[ctx.op.kind](ctx.graph, ctx.op, rounding=ctx.rounding)


def _to_int8(x: np.ndarray, shape) -> np.ndarray:
    return np.clip(x, -128, 127).astype(np.int8).reshape(shape)


def softmax(ctx, inputs):
    """reference_ops::Softmax<int8_t, int8_t> along the last axis."""
    p = _params(ctx)
    x = inputs[0]
    depth = x.shape[-1]
    rows = x.astype(np.int64).reshape(-1, depth)
    diff = rows - rows.max(axis=1, keepdims=True)
    used = diff >= p.diff_min
    rescaled = fp.multiply_by_quantized_multiplier_greater_than_one(
        diff, p.input_multiplier, p.input_left_shift, ctx.rounding)
    exp = g.exp_on_negative_values(rescaled, P.SOFTMAX_SCALED_DIFF_INTEGER_BITS)
    acc = np.where(used, g.rescale(exp, 0, P.SOFTMAX_ACCUMULATION_INTEGER_BITS), 0)
    # a sum of int32 adds that wrap equals the int64 sum wrapped once
    sum_of_exps = g.wrap32(acc.sum(axis=1))
    shifted_scale, num_bits_over_unit = g.get_reciprocal(sum_of_exps, P.SOFTMAX_ACCUMULATION_INTEGER_BITS)
    exponent = num_bits_over_unit + 31 - 8
    if np.any((exponent < 0) | (exponent > 31)):
        raise AssertionError(f"SOFTMAX '{ctx.op.name}': reciprocal exponent out of [0, 31] (TFLM's TFLITE_CHECK)")
    unsat = fp.rounding_divide_by_pot(
        g.saturating_rounding_doubling_high_mul(shifted_scale[:, None], exp), exponent[:, None])
    out = np.where(used, np.clip(unsat - 128, -128, 127), -128)
    return [_to_int8(out, x.shape)]


def _sigmoid_like(ctx, inputs, fn, output_shift, output_zero_point):
    p = _params(ctx)
    x = inputs[0]
    inp = x.astype(np.int64) - p.input_zero_point
    q4 = fp.multiply_by_quantized_multiplier(inp, p.input_multiplier, p.input_left_shift, ctx.rounding)
    q0 = fn(q4, P.SIGMOID_INPUT_INTEGER_BITS)
    out = np.clip(g.rounding_divide_by_pot(q0, 31 - output_shift) + output_zero_point, -128, 127)
    out = np.where(inp <= -p.input_range_radius, -128, np.where(inp >= p.input_range_radius, 127, out))
    return [_to_int8(out, x.shape)]


def logistic(ctx, inputs):
    """reference_integer_ops::Logistic: Q4.27 in, Q0.31 out, scaled to 1/256 - 128."""
    return _sigmoid_like(ctx, inputs, g.logistic, 8, -128)


def tanh(ctx, inputs):
    """reference_integer_ops::Tanh: Q4.27 in, Q0.31 out, scaled to 1/128."""
    return _sigmoid_like(ctx, inputs, g.tanh, 7, 0)


def _saturating_left_shift16(x, amount: int):
    # |x| < 2**16, so any shift past 32 saturates just the same (and keeps int64 exact)
    return np.clip(x * (1 << min(amount, 32)), -(1 << 15), (1 << 15) - 1)


def hard_swish(ctx, inputs):
    """reference_ops::HardSwish<int8_t>, all in int16 fixed point."""
    p = _params(ctx)
    x = inputs[0]
    input_value = g.wrap16(x.astype(np.int64) - p.input_zero_point)
    hires = g.wrap16(input_value * (1 << 7))
    preshift_output = g.saturating_rounding_doubling_high_mul16(hires, p.output_multiplier_fixedpoint_int16)
    reluish = hires
    e = p.reluish_multiplier_exponent
    if e > 0:
        reluish = _saturating_left_shift16(reluish, e - 1)
    reluish = g.saturating_rounding_doubling_high_mul16(reluish, p.reluish_multiplier_fixedpoint_int16)
    if e > 0:
        reluish = _saturating_left_shift16(reluish, 1)
    if e < 0:
        reluish = g.rounding_divide_by_pot(reluish, -e, bits=16)
    reluish = g.wrap16((reluish + (1 << 15)) >> 1)
    out = g.saturating_doubling_high_mul16(reluish, preshift_output)
    out = g.rounding_divide_by_pot(out, -p.output_multiplier_exponent, bits=16)
    out = g.wrap16(out + p.output_zero_point)
    return [_to_int8(out, x.shape)]


def leaky_relu(ctx, inputs):
    """reference_ops::QuantizeLeakyRelu: one multiplier per sign of the input."""
    p = _params(ctx)
    x = inputs[0]
    v = x.astype(np.int64) - p.input_offset
    pos = fp.multiply_by_quantized_multiplier(v, p.output_multiplier_identity, p.output_shift_identity, ctx.rounding)
    neg = fp.multiply_by_quantized_multiplier(v, p.output_multiplier_alpha, p.output_shift_alpha, ctx.rounding)
    out = p.output_offset + np.where(v >= 0, pos, neg)
    return [_to_int8(out, x.shape)]


def relu(ctx, inputs):
    """TFLM's ReluQuantized: requantize, then clamp to [zp_out, 127]."""
    p = _params(ctx)
    x = inputs[0]
    out = p.output_offset + fp.multiply_by_quantized_multiplier(
        x.astype(np.int64) - p.input_offset, p.output_multiplier, p.output_shift, ctx.rounding)
    out = np.minimum(np.maximum(out, p.quantized_activation_min), p.quantized_activation_max)
    return [_to_int8(out, x.shape)]


def relu6(ctx, inputs):
    """TFLM's Relu6Quantized: a raw clamp in the input's quantization."""
    p = _params(ctx)
    x = inputs[0]
    out = np.where(x > p.six, p.six, np.where(x < p.zero, p.zero, x))
    return [_to_int8(out, x.shape)]


KERNELS = {
    "SOFTMAX": softmax,
    "LOGISTIC": logistic,
    "TANH": tanh,
    "HARD_SWISH": hard_swish,
    "LEAKY_RELU": leaky_relu,
    "RELU": relu,
    "RELU6": relu6,
}
