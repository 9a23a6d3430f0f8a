"""Folded integer parameters of the compute-heavy operators.

Computed once from the IR exactly as TFLM's Prepare functions do (same
float/double casts), and read by both the numpy reference kernels and the C
code generator, so the two cannot drift apart. Shifts are TFLM's: positive
means left. Per-channel arrays are int32 numpy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import fixedpoint as fp
from .. import ir
from ..errors import UnsupportedModelError


def _i32(a) -> np.ndarray:
    return np.asarray(a, dtype=np.int64).astype(np.int32)


def _quant(op: ir.Operator, t: ir.Tensor | None, what: str) -> ir.Quant:
    if t is None or t.quant is None:
        raise UnsupportedModelError(f"{op.kind} '{op.name}': the {what} tensor has no quantization parameters")
    return t.quant


def _bias(t: ir.Tensor | None, channels: int) -> np.ndarray:
    """The int32 bias per output channel, zeros when the op has none."""
    if t is None:
        return np.zeros(channels, dtype=np.int32)
    if t.data is None:
        raise UnsupportedModelError(f"bias '{t.name}' is not a constant")
    if t.dtype != "int32":
        raise UnsupportedModelError(f"bias '{t.name}' is {t.dtype}; int8 models need int32 biases")
    b = np.asarray(t.data).reshape(-1)
    if b.size != channels:
        raise UnsupportedModelError(f"bias '{t.name}' has {b.size} values for {channels} output channels")
    return b.astype(np.int32)


def _filter_scales(q: ir.Quant, channels: int) -> np.ndarray:
    s = np.asarray(q.scale, dtype=np.float32).reshape(-1)
    if s.size == 1:
        return np.full(channels, s[0], dtype=np.float32)
    if s.size != channels:
        raise UnsupportedModelError(f"filter has {s.size} scales for {channels} output channels")
    return s


def _opt_input(graph: ir.Graph, op: ir.Operator, k: int) -> ir.Tensor | None:
    i = op.inputs[k] if k < len(op.inputs) else -1
    return graph.tensors[i] if i >= 0 else None


# ---- convolutions --------------------------------------------------------------


@dataclass
class ConvParams:
    """CONV_2D and DEPTHWISE_CONV_2D (TFLM's ConvPerChannel / DepthwiseConvPerChannel).

    acc = sum over in-image taps of w * (x + input_offset)  [int32]
    acc += bias; acc = MBQM(acc, multiplier[c], shift[c]) + output_offset; clamp.
    Taps outside the image are skipped (not padded with anything).
    """

    kind: str
    input_shape: tuple[int, int, int, int]  # N, H, W, C
    filter_shape: tuple[int, int, int, int]  # conv: O, KH, KW, I/groups; depthwise: 1, KH, KW, O
    output_shape: tuple[int, int, int, int]
    stride_h: int
    stride_w: int
    dilation_h: int
    dilation_w: int
    pad_h: int  # leading padding (rows above), TFLM's padding_values.height
    pad_w: int
    depth_multiplier: int  # depthwise: output channels per input channel; 1 for conv
    groups: int  # conv: input_depth / filter_input_depth; 1 for depthwise
    input_offset: int  # -input zero point
    output_offset: int  # output zero point
    multiplier: np.ndarray  # int32 [O]
    shift: np.ndarray  # int32 [O], positive = left
    bias: np.ndarray  # int32 [O], zeros when absent
    has_bias: bool
    act_min: int
    act_max: int


def conv_params(graph: ir.Graph, op: ir.Operator, rounding: str = "double") -> ConvParams:
    x, w = graph.t(op.inputs[0]), graph.t(op.inputs[1])
    b = _opt_input(graph, op, 2)
    y = graph.t(op.outputs[0])
    o: ir.ConvOptions = op.options
    if len(x.shape) != 4 or len(w.shape) != 4 or len(y.shape) != 4:
        raise UnsupportedModelError(f"{op.kind} '{op.name}' needs 4-D input, filter and output")
    n, h, wd, c = x.shape
    depthwise = op.kind == "DEPTHWISE_CONV_2D"
    if depthwise:
        kh, kw, oc = w.shape[1], w.shape[2], w.shape[3]
        dm = oc // c if c else 0
        if dm * c != oc or y.shape[3] != oc:
            raise UnsupportedModelError(f"DEPTHWISE_CONV_2D '{op.name}': {oc} output channels for {c} input channels")
        groups = 1
    else:
        oc, kh, kw, ic = w.shape
        if ic <= 0 or c % ic or y.shape[3] != oc or oc % (c // ic):
            raise UnsupportedModelError(f"CONV_2D '{op.name}': filter depth {ic} does not divide input depth {c}")
        dm, groups = 1, c // ic
    xq, wq, yq = _quant(op, x, "input"), _quant(op, w, "filter"), _quant(op, y, "output")
    mult, shift = fp.conv_multipliers(xq.s, _filter_scales(wq, oc), yq.s, rounding)
    act_min, act_max = fp.activation_range_quantized(o.activation, yq.s, yq.zp)
    return ConvParams(
        kind=op.kind, input_shape=tuple(x.shape), filter_shape=tuple(w.shape), output_shape=tuple(y.shape),
        stride_h=o.stride_h, stride_w=o.stride_w, dilation_h=o.dilation_h, dilation_w=o.dilation_w,
        pad_h=ir.conv_padding(h, kh, o.stride_h, o.dilation_h, o.padding),
        pad_w=ir.conv_padding(wd, kw, o.stride_w, o.dilation_w, o.padding),
        depth_multiplier=dm, groups=groups,
        input_offset=-xq.zp, output_offset=yq.zp,
        multiplier=_i32(mult), shift=_i32(shift), bias=_bias(b, oc), has_bias=b is not None,
        act_min=act_min, act_max=act_max)


@dataclass
class TransposeConvParams:
    """TRANSPOSE_CONV (TFLM's reference_integer_ops::TransposeConv): every
    input pixel scatters w * (x + input_offset) into an int32 scratch the size
    of the output; then bias, per-channel requantization and clamp to the
    fused activation (current TFLM honours it; releases before 2023 did not)."""

    input_shape: tuple[int, int, int, int]
    filter_shape: tuple[int, int, int, int]  # O, KH, KW, I
    output_shape: tuple[int, int, int, int]
    stride_h: int
    stride_w: int
    pad_h: int
    pad_w: int
    input_offset: int
    output_offset: int
    multiplier: np.ndarray
    shift: np.ndarray
    bias: np.ndarray
    has_bias: bool
    act_min: int
    act_max: int


def transpose_conv_params(graph: ir.Graph, op: ir.Operator, rounding: str = "double") -> TransposeConvParams:
    # inputs: output_shape, filter, input, [bias]
    w, x = graph.t(op.inputs[1]), graph.t(op.inputs[2])
    b = _opt_input(graph, op, 3)
    y = graph.t(op.outputs[0])
    o: ir.ConvOptions = op.options
    if len(x.shape) != 4 or len(w.shape) != 4 or len(y.shape) != 4:
        raise UnsupportedModelError(f"TRANSPOSE_CONV '{op.name}' needs 4-D input, filter and output")
    oc, kh, kw, ic = w.shape
    if ic != x.shape[3] or oc != y.shape[3]:
        raise UnsupportedModelError(f"TRANSPOSE_CONV '{op.name}': filter {list(w.shape)} does not match input {list(x.shape)} / output {list(y.shape)}")
    xq, wq, yq = _quant(op, x, "input"), _quant(op, w, "filter"), _quant(op, y, "output")
    mult, shift = fp.conv_multipliers(xq.s, _filter_scales(wq, oc), yq.s, rounding)
    act_min, act_max = fp.activation_range_quantized(o.activation, yq.s, yq.zp)
    return TransposeConvParams(
        input_shape=tuple(x.shape), filter_shape=tuple(w.shape), output_shape=tuple(y.shape),
        stride_h=o.stride_h, stride_w=o.stride_w,
        # padding is derived as if the output were the input of a forward conv
        pad_h=ir.conv_padding(y.shape[1], kh, o.stride_h, 1, o.padding),
        pad_w=ir.conv_padding(y.shape[2], kw, o.stride_w, 1, o.padding),
        input_offset=-xq.zp, output_offset=yq.zp,
        multiplier=_i32(mult), shift=_i32(shift), bias=_bias(b, oc), has_bias=b is not None,
        act_min=act_min, act_max=act_max)


# ---- fully connected -------------------------------------------------------------


@dataclass
class FullyConnectedParams:
    """FULLY_CONNECTED. Per-tensor: acc = sum (w + weights_offset)(x + input_offset),
    one multiplier from a float32 scale product. Per-channel: weights_offset
    is ignored (symmetric weights) and there is one multiplier per row."""

    batches: int
    accum_depth: int
    output_depth: int
    per_channel: bool
    input_offset: int
    weights_offset: int  # -filter zero point (per-tensor only; 0 for per-channel)
    output_offset: int
    multiplier: np.ndarray  # int32 [output_depth] (repeated when per-tensor)
    shift: np.ndarray  # int32 [output_depth]
    bias: np.ndarray
    has_bias: bool
    act_min: int
    act_max: int
    output_shape: tuple[int, ...]


def fully_connected_params(graph: ir.Graph, op: ir.Operator, rounding: str = "double") -> FullyConnectedParams:
    x, w = graph.t(op.inputs[0]), graph.t(op.inputs[1])
    b = _opt_input(graph, op, 2)
    y = graph.t(op.outputs[0])
    o: ir.FullyConnectedOptions = op.options
    if len(w.shape) < 2:
        raise UnsupportedModelError(f"FULLY_CONNECTED '{op.name}' needs a 2-D weight matrix")
    depth = int(y.shape[-1]) if y.shape else 1
    accum = int(w.shape[-1])
    if depth > int(np.prod(w.shape[:-1])) or (depth and y.size % depth) or x.size % accum:
        raise UnsupportedModelError(f"FULLY_CONNECTED '{op.name}': shapes input {list(x.shape)}, weights {list(w.shape)}, output {list(y.shape)} do not agree")
    batches = y.size // depth
    if batches * accum != x.size:
        raise UnsupportedModelError(f"FULLY_CONNECTED '{op.name}': input {list(x.shape)} is not {batches} rows of {accum}")
    xq, wq, yq = _quant(op, x, "input"), _quant(op, w, "filter"), _quant(op, y, "output")
    per_channel = wq.scale.size > 1
    if per_channel:
        mult, shift = fp.conv_multipliers(xq.s, _filter_scales(wq, depth), yq.s, rounding)
        w_off = 0
    else:
        m, s = fp.fc_per_tensor_multiplier(xq.s, wq.s, yq.s, rounding)
        mult, shift = np.full(depth, int(m)), np.full(depth, int(s))
        w_off = -wq.zp
    act_min, act_max = fp.activation_range_quantized(o.activation, yq.s, yq.zp)
    return FullyConnectedParams(
        batches=batches, accum_depth=accum, output_depth=depth, per_channel=per_channel,
        input_offset=-xq.zp, weights_offset=w_off, output_offset=yq.zp,
        multiplier=_i32(mult), shift=_i32(shift), bias=_bias(b, depth), has_bias=b is not None,
        act_min=act_min, act_max=act_max, output_shape=tuple(y.shape))


# ---- pooling ---------------------------------------------------------------------


@dataclass
class PoolParams:
    """AVERAGE_POOL_2D / MAX_POOL_2D. TFLM requires equal input and output
    quantization, so no rescaling: the average is the rounded (half away from
    zero) integer division of the raw int8 sum by the number of in-image taps."""

    kind: str
    input_shape: tuple[int, int, int, int]
    output_shape: tuple[int, int, int, int]
    filter_h: int
    filter_w: int
    stride_h: int
    stride_w: int
    pad_h: int
    pad_w: int
    act_min: int
    act_max: int


def pool_params(graph: ir.Graph, op: ir.Operator, rounding: str = "double") -> PoolParams:
    x, y = graph.t(op.inputs[0]), graph.t(op.outputs[0])
    o: ir.PoolOptions = op.options
    if len(x.shape) != 4 or len(y.shape) != 4:
        raise UnsupportedModelError(f"{op.kind} '{op.name}' needs 4-D input and output")
    xq, yq = _quant(op, x, "input"), _quant(op, y, "output")
    if abs(float(xq.s) - float(yq.s)) > 1e-6 or xq.zp != yq.zp:
        raise UnsupportedModelError(
            f"{op.kind} '{op.name}' rescales (input scale/zp {float(xq.s)}/{xq.zp}, output {float(yq.s)}/{yq.zp}); "
            "TFLM requires pooling to keep the input quantization")
    act_min, act_max = fp.activation_range_quantized(o.activation, yq.s, yq.zp)
    return PoolParams(
        kind=op.kind, input_shape=tuple(x.shape), output_shape=tuple(y.shape),
        filter_h=o.filter_h, filter_w=o.filter_w, stride_h=o.stride_h, stride_w=o.stride_w,
        pad_h=ir.conv_padding(x.shape[1], o.filter_h, o.stride_h, 1, o.padding),
        pad_w=ir.conv_padding(x.shape[2], o.filter_w, o.stride_w, 1, o.padding),
        act_min=act_min, act_max=act_max)


@dataclass
class MeanParams:
    """MEAN on int8 as TFLM's reference reduce does it (QuantizedMeanOrSum):
    int32 sum over the reduced axes, minus input_zp * count, then one
    requantization whose multiplier already holds 1/count:
    multiplier = (m << s) / count (int64 truncating), shift = shift - s with
    s = min(floor(log2(count)), 32, 31 + shift). No fused activation."""

    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    axes: tuple[int, ...]
    keep_dims: bool
    count: int  # elements averaged into each output
    input_zp: int
    output_zp: int
    multiplier: int  # 1/count folded in
    shift: int
    base_multiplier: int  # input_scale / output_scale alone
    base_shift: int


def mean_params(graph: ir.Graph, op: ir.Operator, rounding: str = "double") -> MeanParams:
    x, y = graph.t(op.inputs[0]), graph.t(op.outputs[0])
    o: ir.ReduceOptions = op.options
    xq, yq = _quant(op, x, "input"), _quant(op, y, "output")
    m, s = fp.quantize_multiplier(np.float64(np.float32(xq.s)) / np.float64(np.float32(yq.s)), rounding)
    m, s = int(m), int(s)
    count = int(np.prod([x.shape[a] for a in o.axes], dtype=np.int64)) if o.axes else 1
    fm, fs = m, s
    if count > 0:
        k = min(count.bit_length() - 1, 32, 31 + s)
        if k < 0:  # C's `x << negative` is UB; only absurd scale ratios get here
            raise UnsupportedModelError(f"MEAN '{op.name}': scale ratio {float(xq.s) / float(yq.s)} is too small to requantize")
        fm = int(fp.wrap_int32((m << k) // count))  # m >= 0, so floor == C's truncation
        fs = s - k
    return MeanParams(
        input_shape=tuple(x.shape), output_shape=tuple(y.shape), axes=tuple(o.axes), keep_dims=o.keep_dims,
        count=count, input_zp=xq.zp, output_zp=yq.zp, multiplier=fm, shift=fs,
        base_multiplier=m, base_shift=s)


# ---- elementwise -------------------------------------------------------------------


@dataclass
class AddSubParams:
    """ADD / SUB (int8): both inputs are offset, shifted left by 20, scaled to
    a common 2*max(scale) grid, added or subtracted, then requantized.
    All three rescalings use MultiplyByQuantizedMultiplierSmallerThanOneExp."""

    kind: str
    input1_shape: tuple[int, ...]
    input2_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    left_shift: int
    input1_offset: int
    input2_offset: int
    output_offset: int
    input1_multiplier: int
    input1_shift: int  # <= 0
    input2_multiplier: int
    input2_shift: int
    output_multiplier: int
    output_shift: int
    act_min: int
    act_max: int


def add_sub_params(graph: ir.Graph, op: ir.Operator, rounding: str = "double") -> AddSubParams:
    a, b, y = graph.t(op.inputs[0]), graph.t(op.inputs[1]), graph.t(op.outputs[0])
    aq, bq, yq = _quant(op, a, "first input"), _quant(op, b, "second input"), _quant(op, y, "output")
    left_shift = 20
    s1, s2, so = np.float32(aq.s), np.float32(bq.s), np.float32(yq.s)
    if op.kind == "ADD":
        # add_common.cc: everything widened to double first
        twice = 2.0 * float(max(s1, s2))
        r1, r2 = float(s1) / twice, float(s2) / twice
        ro = twice / (float(1 << left_shift) * float(so))
    else:
        # sub_common.cc: the same formulas evaluated in float32, then widened
        twice32 = np.float32(2) * max(s1, s2)
        r1 = float(np.float32(s1 / twice32))
        r2 = float(np.float32(s2 / twice32))
        ro = float(np.float32(twice32 / (np.float32(1 << left_shift) * so)))
    m1, sh1 = fp.quantize_multiplier_smaller_than_one_exp(r1, rounding)
    m2, sh2 = fp.quantize_multiplier_smaller_than_one_exp(r2, rounding)
    mo, sho = fp.quantize_multiplier_smaller_than_one_exp(ro, rounding)
    act_min, act_max = fp.activation_range_quantized(op.options.activation, yq.s, yq.zp)
    return AddSubParams(
        kind=op.kind, input1_shape=tuple(a.shape), input2_shape=tuple(b.shape), output_shape=tuple(y.shape),
        left_shift=left_shift, input1_offset=-aq.zp, input2_offset=-bq.zp, output_offset=yq.zp,
        input1_multiplier=int(m1), input1_shift=int(sh1), input2_multiplier=int(m2), input2_shift=int(sh2),
        output_multiplier=int(mo), output_shift=int(sho), act_min=act_min, act_max=act_max)


@dataclass
class MulParams:
    """MUL (int8): MBQM((a + input1_offset) * (b + input2_offset)) + output_offset, clamp."""

    input1_shape: tuple[int, ...]
    input2_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    input1_offset: int
    input2_offset: int
    output_offset: int
    output_multiplier: int
    output_shift: int
    act_min: int
    act_max: int


def mul_params(graph: ir.Graph, op: ir.Operator, rounding: str = "double") -> MulParams:
    a, b, y = graph.t(op.inputs[0]), graph.t(op.inputs[1]), graph.t(op.outputs[0])
    aq, bq, yq = _quant(op, a, "first input"), _quant(op, b, "second input"), _quant(op, y, "output")
    real = float(np.float32(aq.s)) * float(np.float32(bq.s)) / float(np.float32(yq.s))
    m, s = fp.quantize_multiplier(real, rounding)
    act_min, act_max = fp.activation_range_quantized(op.options.activation, yq.s, yq.zp)
    return MulParams(
        input1_shape=tuple(a.shape), input2_shape=tuple(b.shape), output_shape=tuple(y.shape),
        input1_offset=-aq.zp, input2_offset=-bq.zp, output_offset=yq.zp,
        output_multiplier=int(m), output_shift=int(s), act_min=act_min, act_max=act_max)


PARAMS = {
    "CONV_2D": conv_params,
    "DEPTHWISE_CONV_2D": conv_params,
    "TRANSPOSE_CONV": transpose_conv_params,
    "FULLY_CONNECTED": fully_connected_params,
    "AVERAGE_POOL_2D": pool_params,
    "MAX_POOL_2D": pool_params,
    "MEAN": mean_params,
    "ADD": add_sub_params,
    "SUB": add_sub_params,
    "MUL": mul_params,
}
