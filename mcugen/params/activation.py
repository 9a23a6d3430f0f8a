"""Folded integer parameters of the activation, quantization and
data-movement operators, derived exactly as TFLM's Prepare functions do.

The reference kernels (mcugen.reference.activations/quantize/shape_ops) and
the C generator both read these dataclasses, so the numbers the firmware
uses are the numbers the numpy reference was checked with. Every float step
keeps TFLM's precision: where TFLM computes in float32 and widens to double
afterwards, so do we (np.float32 arithmetic), and vice versa.

PARAMS maps an operator kind to `fn(graph, op, rounding="double")`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import ir
from ..errors import UnsupportedModelError
from ..fixedpoint import quantize_multiplier, round_half_away, round_half_away_f32

INT32_MIN = -(1 << 31)


def _io(graph: ir.Graph, op: ir.Operator, kind: str, in_index: int = 0) -> tuple[ir.Tensor, ir.Tensor]:
    tin = graph.tensors[op.inputs[in_index]]
    tout = graph.tensors[op.outputs[0]]
    for t in (tin, tout):
        if t.dtype == "int8" and (t.quant is None or t.quant.per_channel):
            raise UnsupportedModelError(f"{kind} '{op.name}': tensor '{t.name}' needs per-tensor quantization")
    return tin, tout


def _need_int8(op: ir.Operator, *tensors: ir.Tensor) -> None:
    for t in tensors:
        if t.dtype != "int8":
            raise UnsupportedModelError(f"{op.kind} '{op.name}': tensor '{t.name}' is {t.dtype}; mcugen runs this operator on int8 only")


def _qm(real: float, rounding: str) -> tuple[int, int]:
    m, s = quantize_multiplier(real, rounding)
    return int(m), int(s)


def _frexp_multiplier(real: float) -> tuple[int, int]:
    """The inline frexp + TfLiteRound that LOGISTIC/TANH Prepare use instead of
    QuantizeMultiplier: no renormalisation when q rounds up to 2**31, so the
    int32 cast overflows (to INT32_MIN on x86, where the TFLM wheel runs)."""
    q, shift = math.frexp(real)
    m = int(round_half_away(q * float(1 << 31)))
    if m >= 1 << 31:
        m = INT32_MIN
    return m, shift


def calculate_input_radius(input_integer_bits: int, input_left_shift: int, total_signed_bits: int = 31) -> int:
    """CalculateInputRadius (the floating-point build): the largest |input|
    whose rescaled value still fits the fixed-point input format."""
    max_input_rescaled = (1.0 * ((1 << input_integer_bits) - 1) * float(1 << (total_signed_bits - input_integer_bits))
                          / 2.0 ** input_left_shift)
    # a negative shift (scale below 2**-28) would overflow TFLM's int; any
    # radius past the int8 range behaves the same
    return int(min(math.floor(max_input_rescaled), (1 << 31) - 1))


# ---- SOFTMAX -------------------------------------------------------------------

SOFTMAX_SCALED_DIFF_INTEGER_BITS = 5
SOFTMAX_ACCUMULATION_INTEGER_BITS = 12


@dataclass
class SoftmaxParams:
    """reference_ops::Softmax<int8, int8> (gemmlowp exp in Q5.26, sums in Q12.19)."""

    input_multiplier: int
    input_left_shift: int
    diff_min: int  # input differences below this contribute exp() == 0
    output_zero_point: int = -128  # TFLM requires zp -128, scale 1/256


def softmax_params(graph: ir.Graph, op: ir.Operator, rounding: str = "double") -> SoftmaxParams:
    tin, tout = _io(graph, op, "SOFTMAX")
    _need_int8(op, tin, tout)
    if tout.quant.zp != -128 or float(tout.quant.s) != 1.0 / 256:
        raise UnsupportedModelError(
            f"SOFTMAX '{op.name}': int8 output must have scale 1/256 and zero point -128 "
            f"(TFLM's requirement), got scale {float(tout.quant.s)} and zero point {tout.quant.zp}")
    beta = float(np.float32(getattr(op.options, "beta", 1.0)))
    # PreprocessSoftmaxScaling, all in double
    max_real = float((1 << 30) - 1) if rounding == "single" else float((1 << 31) - 1)
    real = min(beta * float(tin.quant.s) * float(1 << (31 - SOFTMAX_SCALED_DIFF_INTEGER_BITS)), max_real)
    if not real > 1.0:
        raise UnsupportedModelError(
            f"SOFTMAX '{op.name}': beta x input scale = {beta * float(tin.quant.s):.3g} is too small "
            "(TFLM's QuantizeMultiplierGreaterThanOne rejects it)")
    m, shift = _qm(real, rounding)
    radius = calculate_input_radius(SOFTMAX_SCALED_DIFF_INTEGER_BITS, shift)
    return SoftmaxParams(input_multiplier=m, input_left_shift=shift, diff_min=-radius)


# ---- LOGISTIC / TANH -----------------------------------------------------------

SIGMOID_INPUT_INTEGER_BITS = 4


@dataclass
class SigmoidParams:
    """reference_integer_ops::Logistic / Tanh on int8: inputs beyond
    +-input_range_radius saturate, the rest go through gemmlowp in Q4.27."""

    input_zero_point: int
    input_range_radius: int
    input_multiplier: int
    input_left_shift: int
    output_zero_point: int  # -128 (LOGISTIC, scale 1/256) or 0 (TANH, scale 1/128)


def _sigmoid_params(graph, op, kind, out_zp) -> SigmoidParams:
    tin, tout = _io(graph, op, kind)
    _need_int8(op, tin, tout)
    # The kernels write a fixed output quantization (LOGISTIC 1/256 and -128,
    # TANH 1/128 and 0) whatever the output tensor says; the converter always
    # writes those values. TFLM checks only LOGISTIC's zero point.
    if kind == "LOGISTIC" and tout.quant.zp != out_zp:
        raise UnsupportedModelError(
            f"LOGISTIC '{op.name}': int8 output must have zero point -128 (TFLM's requirement), got {tout.quant.zp}")
    real = float(tin.quant.s) * float(1 << (31 - SIGMOID_INPUT_INTEGER_BITS))
    m, shift = _frexp_multiplier(real)
    radius = calculate_input_radius(SIGMOID_INPUT_INTEGER_BITS, shift, 31)
    return SigmoidParams(input_zero_point=tin.quant.zp, input_range_radius=radius,
                         input_multiplier=m, input_left_shift=shift, output_zero_point=out_zp)


def logistic_params(graph: ir.Graph, op: ir.Operator, rounding: str = "double") -> SigmoidParams:
    return _sigmoid_params(graph, op, "LOGISTIC", -128)


def tanh_params(graph: ir.Graph, op: ir.Operator, rounding: str = "double") -> SigmoidParams:
    return _sigmoid_params(graph, op, "TANH", 0)


# ---- HARD_SWISH ----------------------------------------------------------------


@dataclass
class HardSwishParams:
    """TFLite's HardSwishParams: 16-bit fixed-point multipliers."""

    input_zero_point: int
    output_zero_point: int
    reluish_multiplier_fixedpoint_int16: int
    reluish_multiplier_exponent: int
    output_multiplier_fixedpoint_int16: int
    output_multiplier_exponent: int


def downscale_int32_to_int16_multiplier(m: int) -> int:
    """DownScaleInt32ToInt16Multiplier: round the Q31 multiplier to Q15."""
    if m >= (1 << 31) - 1 - (1 << 15):
        return (1 << 15) - 1
    return (m + (1 << 15)) >> 16


def hard_swish_params(graph: ir.Graph, op: ir.Operator, rounding: str = "double") -> HardSwishParams:
    tin, tout = _io(graph, op, "HARD_SWISH")
    _need_int8(op, tin, tout)
    # float32 arithmetic, widened to double only for QuantizeMultiplier
    hires_input_scale = np.float32(1.0 / 128.0) * np.float32(tin.quant.s)
    reluish_scale = np.float32(3.0 / 32768.0)
    output_multiplier = float(np.float32(hires_input_scale / np.float32(tout.quant.s)))
    om, oe = _qm(output_multiplier, rounding)
    if oe > 0:
        raise UnsupportedModelError(
            f"HARD_SWISH '{op.name}': output scale is too small against the input scale "
            "(TFLM requires output_multiplier_exponent <= 0)")
    reluish_multiplier = float(np.float32(hires_input_scale / reluish_scale))
    rm, re = _qm(reluish_multiplier, rounding)
    return HardSwishParams(
        input_zero_point=tin.quant.zp, output_zero_point=tout.quant.zp,
        reluish_multiplier_fixedpoint_int16=downscale_int32_to_int16_multiplier(rm),
        reluish_multiplier_exponent=re,
        output_multiplier_fixedpoint_int16=downscale_int32_to_int16_multiplier(om),
        output_multiplier_exponent=oe)


# ---- LEAKY_RELU / RELU / RELU6 -------------------------------------------------


@dataclass
class LeakyReluParams:
    input_offset: int
    output_offset: int
    output_multiplier_identity: int
    output_shift_identity: int
    output_multiplier_alpha: int  # may be negative (alpha < 0)
    output_shift_alpha: int


def leaky_relu_params(graph: ir.Graph, op: ir.Operator, rounding: str = "double") -> LeakyReluParams:
    tin, tout = _io(graph, op, "LEAKY_RELU")
    _need_int8(op, tin, tout)
    alpha = np.float32(getattr(op.options, "alpha", 0.2))
    s_in, s_out = np.float32(tin.quant.s), np.float32(tout.quant.s)
    # TFLM: static_cast<double>(input_scale * alpha / output_scale), float32 throughout
    am, ash = _qm(float(np.float32(np.float32(s_in * alpha) / s_out)), rounding)
    im, ish = _qm(float(np.float32(s_in / s_out)), rounding)
    return LeakyReluParams(input_offset=tin.quant.zp, output_offset=tout.quant.zp,
                           output_multiplier_identity=im, output_shift_identity=ish,
                           output_multiplier_alpha=am, output_shift_alpha=ash)


@dataclass
class ReluParams:
    """ReluQuantized: requantize to the output scale, then clamp at zero."""

    input_offset: int
    output_offset: int
    output_multiplier: int
    output_shift: int
    quantized_activation_min: int
    quantized_activation_max: int


def relu_params(graph: ir.Graph, op: ir.Operator, rounding: str = "double") -> ReluParams:
    tin, tout = _io(graph, op, "RELU")
    _need_int8(op, tin, tout)
    m, shift = _qm(float(tin.quant.s) / float(tout.quant.s), rounding)
    # act_min = zp + roundf(0.0f / scale) = zp; act_max is +inf -> 127
    return ReluParams(input_offset=tin.quant.zp, output_offset=tout.quant.zp,
                      output_multiplier=m, output_shift=shift,
                      quantized_activation_min=max(-128, tout.quant.zp), quantized_activation_max=127)


@dataclass
class Relu6Params:
    """TFLM's Relu6Quantized clamps raw values to [zero, six] of the INPUT
    quantization and never requantizes (it assumes output quant == input).
    The converter does write standalone RELU6 ops with a narrower output
    scale; TFLite proper requantizes those, TFLM (and so mcugen) does not."""

    zero: int
    six: int
    output_quant_ignored: bool  # output scale/zero point differ from the input's


def relu6_params(graph: ir.Graph, op: ir.Operator, rounding: str = "double") -> Relu6Params:
    tin, tout = _io(graph, op, "RELU6")
    _need_int8(op, tin, tout)
    # FloatToQuantizedType<int8_t>(6.0f, scale, zp): round(6.0f / scale) + zp, clamped
    six = int(round_half_away_f32(np.float32(6.0) / np.float32(tin.quant.s))) + tin.quant.zp
    ignored = float(tin.quant.s) != float(tout.quant.s) or tin.quant.zp != tout.quant.zp
    return Relu6Params(zero=tin.quant.zp, six=min(127, max(-128, six)), output_quant_ignored=ignored)


# ---- QUANTIZE / DEQUANTIZE -----------------------------------------------------


@dataclass
class QuantizeParams:
    """kind "affine": float32 -> int8, q = round(x / scale) + zp in float32.
    kind "requantize": int8 -> int8 with one multiplier (reference Requantize)."""

    kind: str
    output_zero_point: int
    output_scale: float  # float32 value; used by "affine"
    input_zero_point: int = 0
    multiplier: int = 0
    shift: int = 0


def quantize_params(graph: ir.Graph, op: ir.Operator, rounding: str = "double") -> QuantizeParams:
    tin, tout = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if tout.dtype != "int8" or tout.quant is None or tout.quant.per_channel:
        raise UnsupportedModelError(f"QUANTIZE '{op.name}': output must be per-tensor int8, not {tout.dtype}")
    if tin.dtype == "float32":
        return QuantizeParams(kind="affine", output_zero_point=tout.quant.zp, output_scale=float(tout.quant.s))
    if tin.dtype == "int8" and tin.quant is not None and not tin.quant.per_channel:
        m, shift = _qm(float(tin.quant.s) / float(tout.quant.s), rounding)
        return QuantizeParams(kind="requantize", output_zero_point=tout.quant.zp, output_scale=float(tout.quant.s),
                              input_zero_point=tin.quant.zp, multiplier=m, shift=shift)
    raise UnsupportedModelError(f"QUANTIZE '{op.name}' from {tin.dtype} is not supported; mcugen handles float32 -> int8 and int8 -> int8")


@dataclass
class DequantizeParams:
    """reference_ops::Dequantize: float32(scale) * (q - zp) in float32."""

    scale: float  # float32 value
    zero_point: int


def dequantize_params(graph: ir.Graph, op: ir.Operator, rounding: str = "double") -> DequantizeParams:
    tin, tout = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if tin.dtype != "int8" or tin.quant is None or tin.quant.per_channel or tout.dtype != "float32":
        raise UnsupportedModelError(f"DEQUANTIZE '{op.name}': mcugen handles per-tensor int8 -> float32 only")
    return DequantizeParams(scale=float(tin.quant.s), zero_point=tin.quant.zp)


# ---- data movement -------------------------------------------------------------


@dataclass
class ConcatParams:
    """TFLM concatenates int8 inputs as raw bytes; its Prepare rejects any
    input whose scale or zero point differs from the output's (the
    converter inserts a requantizing QUANTIZE instead)."""

    axis: int
    sizes: tuple[int, ...]  # extent of each input along axis


def concatenation_params(graph: ir.Graph, op: ir.Operator, rounding: str = "double") -> ConcatParams:
    opts = op.options
    if getattr(opts, "activation", "NONE") != "NONE":
        raise UnsupportedModelError(f"CONCATENATION '{op.name}' has fused activation {opts.activation}, which TFLM rejects")
    tout = graph.tensors[op.outputs[0]]
    ins = [graph.tensors[i] for i in op.inputs]
    axis = opts.axis
    for t in ins:
        if len(t.shape) != len(tout.shape) or t.dtype != tout.dtype:
            raise UnsupportedModelError(f"CONCATENATION '{op.name}': input '{t.name}' does not match the output's rank or type")
        if t.dtype == "int8" and (t.quant is None or tout.quant is None or float(t.quant.s) != float(tout.quant.s)
                                  or t.quant.zp != tout.quant.zp):
            raise UnsupportedModelError(
                f"CONCATENATION '{op.name}': input '{t.name}' is quantized differently from the output; "
                "TFLM (and mcugen) need every int8 input to share the output's scale and zero point. "
                "Re-convert the model with the TFLite converter, which inserts the requantization")
    sizes = tuple(t.shape[axis] for t in ins)
    if sum(sizes) != tout.shape[axis]:
        raise UnsupportedModelError(f"CONCATENATION '{op.name}': inputs add up to {sum(sizes)} along axis {axis}, output has {tout.shape[axis]}")
    return ConcatParams(axis=axis, sizes=sizes)


@dataclass
class SplitParams:
    axis: int
    sizes: tuple[int, ...]  # extent of each output along axis
    data_input: int  # which operator input holds the tensor being split


def _split_params(graph, op, data_input):
    opts = op.options
    tin = graph.tensors[op.inputs[data_input]]
    outs = [graph.tensors[i] for i in op.outputs]
    sizes = tuple(t.shape[opts.axis] for t in outs)
    if sum(sizes) != tin.shape[opts.axis]:
        raise UnsupportedModelError(f"{op.kind} '{op.name}': outputs add up to {sum(sizes)} along axis {opts.axis}, input has {tin.shape[opts.axis]}")
    if opts.size_splits and tuple(opts.size_splits) != sizes:
        raise UnsupportedModelError(f"{op.kind} '{op.name}': size_splits {list(opts.size_splits)} disagree with output shapes {list(sizes)}")
    return SplitParams(axis=opts.axis, sizes=sizes, data_input=data_input)


def split_params(graph: ir.Graph, op: ir.Operator, rounding: str = "double") -> SplitParams:
    return _split_params(graph, op, 1)  # SPLIT(axis, input)


def split_v_params(graph: ir.Graph, op: ir.Operator, rounding: str = "double") -> SplitParams:
    return _split_params(graph, op, 0)  # SPLIT_V(input, size_splits, axis)


@dataclass
class StridedSliceParams:
    """Per input axis: first index, stop (exclusive, -1 allowed for negative
    strides) and stride, as TFLM's StridedSliceStartForAxis/EndForAxis give."""

    begin: tuple[int, ...]
    end: tuple[int, ...]
    strides: tuple[int, ...]
    counts: tuple[int, ...]  # elements taken per input axis


def strided_slice_params(graph: ir.Graph, op: ir.Operator, rounding: str = "double") -> StridedSliceParams:
    o = op.options
    tin, tout = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if o.offset:
        # TFLM never reads the offset flag (its ends stay absolute), so the
        # frontend's begin + end resolution would not match it
        raise UnsupportedModelError(f"STRIDED_SLICE '{op.name}' sets 'offset', which TFLM ignores; re-export without it")
    counts = tuple(max(0, -(-(e - b) // s)) for b, e, s in zip(o.begin, o.end, o.strides))
    kept = [c for a, c in enumerate(counts) if not o.shrink_axis_mask & (1 << a)]
    if int(np.prod(counts, dtype=np.int64)) != tout.size or (tout.shape and int(np.prod(kept)) != tout.size):
        raise UnsupportedModelError(
            f"STRIDED_SLICE '{op.name}': the slice takes {list(counts)} elements per axis of {list(tin.shape)}, "
            f"but the output has shape {list(tout.shape)}")
    return StridedSliceParams(begin=tuple(o.begin), end=tuple(o.end), strides=tuple(o.strides), counts=counts)


@dataclass
class PadParams:
    paddings: tuple[tuple[int, int], ...]
    pad_value: int  # raw int8: the output zero point (PAD) or the PADV2 constant


def pad_params(graph: ir.Graph, op: ir.Operator, rounding: str = "double") -> PadParams:
    tin, tout = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    pads = tuple(op.options.paddings)
    if len(pads) != len(tin.shape) or any(a < 0 or b < 0 for a, b in pads):
        raise UnsupportedModelError(f"{op.kind} '{op.name}': paddings {list(pads)} do not fit input shape {list(tin.shape)}")
    expect = tuple(d + a + b for d, (a, b) in zip(tin.shape, pads))
    if expect != tuple(tout.shape):
        raise UnsupportedModelError(f"{op.kind} '{op.name}': padding {list(tin.shape)} by {list(pads)} gives {list(expect)}, output is {list(tout.shape)}")
    value = 0
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        c = graph.tensors[op.inputs[2]]
        if c.data is None or c.data.size != 1:
            raise UnsupportedModelError(f"{op.kind} '{op.name}': constant_values must be a constant scalar")
        value = int(c.data.ravel()[0])
    elif tout.quant is not None:
        value = tout.quant.zp
    return PadParams(paddings=pads, pad_value=value)


PARAMS = {
    "SOFTMAX": softmax_params,
    "LOGISTIC": logistic_params,
    "TANH": tanh_params,
    "HARD_SWISH": hard_swish_params,
    "LEAKY_RELU": leaky_relu_params,
    "RELU": relu_params,
    "RELU6": relu6_params,
    "QUANTIZE": quantize_params,
    "DEQUANTIZE": dequantize_params,
    "CONCATENATION": concatenation_params,
    "SPLIT": split_params,
    "SPLIT_V": split_v_params,
    "STRIDED_SLICE": strided_slice_params,
    "PAD": pad_params,
    "PADV2": pad_params,
}
