"""One-operator ir.Graphs with random int8 weights, int32 bias and realistic
quantization, for testing kernels on random shapes.

Scales are chosen so outputs spread over the int8 range instead of
saturating: the output scale follows the accumulator's expected size
(sqrt(depth) * input * weight spread), times `gain` (gain > 1 makes the
effective multiplier large; with a tiny depth it exceeds 1, exercising the
kernels' left-shift path).

    g = conv2d(rng, in_hw=(9, 7), in_c=5, out_c=6, kernel=(3, 3), stride=(2, 1))
    x = random_input(rng, g)
    y = interpreter.run(g, [x])[0]
"""

from __future__ import annotations

import numpy as np

from mcugen import ir

INT8_STD = 74.0  # standard deviation of uniform int8


def quant(scale, zero_point, axis=None) -> ir.Quant:
    s = np.atleast_1d(np.asarray(scale, dtype=np.float32))
    z = np.atleast_1d(np.asarray(zero_point, dtype=np.int64))
    if z.size == 1 and s.size > 1:
        z = np.full(s.shape, int(z[0]), dtype=np.int64)
    return ir.Quant(scale=s, zero_point=z, axis=axis if s.size > 1 else None)


def _zp(rng, zp):
    return int(rng.integers(-128, 128)) if zp is None else int(zp)


def _scale(rng, lo=0.005, hi=0.05) -> float:
    return float(np.float32(np.exp(rng.uniform(np.log(lo), np.log(hi)))))


def _weights(rng, shape, channels: int, axis: int, per_channel: bool, weight_zp: int = 0, weight_max: int = 127):
    w = rng.integers(-weight_max, weight_max + 1, size=shape, dtype=np.int64).astype(np.int8)
    if per_channel:
        s = np.float32(_scale(rng, 0.002, 0.02)) * rng.uniform(0.5, 2.0, channels).astype(np.float32)
        q = quant(s, np.zeros(channels, np.int64), axis=axis)
    else:
        q = quant(_scale(rng, 0.002, 0.02), weight_zp)
    return w, q


def _out_scale(rng, in_s: float, w_q: ir.Quant, depth: int, gain: float, spread: float = INT8_STD) -> float:
    acc_std = np.sqrt(max(depth, 1)) * INT8_STD * spread * float(np.mean(w_q.scale)) * in_s
    return float(np.float32(acc_std / 40.0 / gain * rng.uniform(0.7, 1.4)))


def _bias(rng, channels: int, in_s: float, w_q: ir.Quant, depth: int, bias: bool, spread: float = INT8_STD):
    if not bias:
        return None
    # a bias of the accumulator's order, as trained models have
    spread = np.sqrt(max(depth, 1)) * INT8_STD * spread
    b = rng.normal(0.0, spread / 4, channels).round().astype(np.int64).clip(-(2**31), 2**31 - 1).astype(np.int32)
    s = (np.float32(in_s) * w_q.scale).astype(np.float32)
    return b, quant(s if s.size > 1 else s[0], 0, axis=0 if s.size > 1 else None)


def make_graph(kind: str, inputs: list[ir.Tensor | None], outputs: list[ir.Tensor], options) -> ir.Graph:
    """A graph holding one operator; non-constant inputs become graph inputs."""
    tensors, op_in = [], []
    for t in inputs:
        if t is None:
            op_in.append(-1)
        else:
            op_in.append(len(tensors))
            tensors.append(t)
    op_out = list(range(len(tensors), len(tensors) + len(outputs)))
    tensors += outputs
    g = ir.Graph(tensors=tensors,
                 operators=[ir.Operator(kind=kind, inputs=op_in, outputs=op_out, options=options, name=outputs[0].name)],
                 inputs=[i for i in op_in if i >= 0 and not tensors[i].is_const], outputs=op_out, name=kind.lower())
    ir.validate(g)
    return g


def activation(name: str, shape, scale: float, zero_point: int) -> ir.Tensor:
    return ir.Tensor(name=name, shape=tuple(int(d) for d in shape), dtype="int8", quant=quant(scale, zero_point))


def random_input(rng, graph: ir.Graph, k: int = 0, spread: int | None = None) -> np.ndarray:
    """Uniform int8, or zero point +- spread (small accumulators, for
    graphs built with a small weight_max and a large gain)."""
    t = graph.t(graph.inputs[k])
    if spread is None:
        return rng.integers(-128, 128, size=t.shape, dtype=np.int64).astype(np.int8)
    zp = t.quant.zp
    return np.clip(zp + rng.integers(-spread, spread + 1, size=t.shape), -128, 127).astype(np.int8)


def conv2d(rng, *, batches=1, in_hw=(8, 8), in_c=3, out_c=8, kernel=(3, 3), stride=(1, 1), dilation=(1, 1),
           padding="SAME", activation_fn="NONE", groups=1, per_channel=True, bias=True, in_zp=None, out_zp=None,
           gain=1.0, weight_max=127) -> ir.Graph:
    kh, kw = kernel
    h, w = in_hw
    oh = ir.conv_output_size(h, kh, stride[0], dilation[0], padding)
    ow = ir.conv_output_size(w, kw, stride[1], dilation[1], padding)
    cg = in_c // groups
    in_s = _scale(rng)
    wt, wq = _weights(rng, (out_c, kh, kw, cg), out_c, 0, per_channel, weight_max=weight_max)
    depth = kh * kw * cg
    x = activation("input", (batches, h, w, in_c), in_s, _zp(rng, in_zp))
    wten = ir.Tensor("filter", wt.shape, "int8", wq, wt)
    b = _bias(rng, out_c, in_s, wq, depth, bias, weight_max * 0.58)
    bten = ir.Tensor("bias", (out_c,), "int32", b[1], b[0]) if b else None
    y = activation("output", (batches, oh, ow, out_c), _out_scale(rng, in_s, wq, depth, gain, weight_max * 0.58), _zp(rng, out_zp))
    opts = ir.ConvOptions(stride_h=stride[0], stride_w=stride[1], padding=padding, dilation_h=dilation[0],
                          dilation_w=dilation[1], activation=activation_fn)
    return make_graph("CONV_2D", [x, wten, bten], [y], opts)


def depthwise(rng, *, batches=1, in_hw=(8, 8), in_c=4, depth_multiplier=1, kernel=(3, 3), stride=(1, 1),
              dilation=(1, 1), padding="SAME", activation_fn="NONE", per_channel=True, bias=True, in_zp=None,
              out_zp=None, gain=1.0, weight_max=127) -> ir.Graph:
    kh, kw = kernel
    h, w = in_hw
    oc = in_c * depth_multiplier
    oh = ir.conv_output_size(h, kh, stride[0], dilation[0], padding)
    ow = ir.conv_output_size(w, kw, stride[1], dilation[1], padding)
    in_s = _scale(rng)
    wt, wq = _weights(rng, (1, kh, kw, oc), oc, 3, per_channel, weight_max=weight_max)
    depth = kh * kw
    x = activation("input", (batches, h, w, in_c), in_s, _zp(rng, in_zp))
    wten = ir.Tensor("filter", wt.shape, "int8", wq, wt)
    b = _bias(rng, oc, in_s, wq, depth, bias, weight_max * 0.58)
    bten = ir.Tensor("bias", (oc,), "int32", b[1], b[0]) if b else None
    y = activation("output", (batches, oh, ow, oc), _out_scale(rng, in_s, wq, depth, gain, weight_max * 0.58), _zp(rng, out_zp))
    opts = ir.ConvOptions(stride_h=stride[0], stride_w=stride[1], padding=padding, dilation_h=dilation[0],
                          dilation_w=dilation[1], activation=activation_fn, depth_multiplier=depth_multiplier)
    return make_graph("DEPTHWISE_CONV_2D", [x, wten, bten], [y], opts)


def fully_connected(rng, *, batches=1, in_depth=16, out_depth=8, per_channel=False, bias=True, weight_zp=0,
                    activation_fn="NONE", in_zp=None, out_zp=None, gain=1.0, input_shape=None, weight_max=127) -> ir.Graph:
    in_s = _scale(rng)
    wt, wq = _weights(rng, (out_depth, in_depth), out_depth, 0, per_channel, weight_zp, weight_max)
    x = activation("input", input_shape or (batches, in_depth), in_s, _zp(rng, in_zp))
    wten = ir.Tensor("weights", wt.shape, "int8", wq, wt)
    b = _bias(rng, out_depth, in_s, wq, in_depth, bias, weight_max * 0.58)
    bten = ir.Tensor("bias", (out_depth,), "int32", b[1], b[0]) if b else None
    y = activation("output", (batches, out_depth), _out_scale(rng, in_s, wq, in_depth, gain, weight_max * 0.58), _zp(rng, out_zp))
    opts = ir.FullyConnectedOptions(activation=activation_fn)
    return make_graph("FULLY_CONNECTED", [x, wten, bten], [y], opts)


def transpose_conv(rng, *, batches=1, in_hw=(5, 5), in_c=4, out_c=3, kernel=(3, 3), stride=(2, 2),
                   padding="SAME", per_channel=True, bias=True, in_zp=None, out_zp=None, gain=1.0, weight_max=127) -> ir.Graph:
    kh, kw = kernel
    h, w = in_hw
    # TFLite's output size for SAME / VALID transposed convolutions
    if padding == "SAME":
        oh, ow = h * stride[0], w * stride[1]
    else:
        oh, ow = (h - 1) * stride[0] + kh, (w - 1) * stride[1] + kw
    in_s = _scale(rng)
    wt, wq = _weights(rng, (out_c, kh, kw, in_c), out_c, 0, per_channel, weight_max=weight_max)
    depth = in_c * max(1, (kh // stride[0]) * (kw // stride[1]))
    shape_t = ir.Tensor("output_shape", (4,), "int32", None, np.array([batches, oh, ow, out_c], np.int32))
    x = activation("input", (batches, h, w, in_c), in_s, _zp(rng, in_zp))
    wten = ir.Tensor("filter", wt.shape, "int8", wq, wt)
    b = _bias(rng, out_c, in_s, wq, depth, bias, weight_max * 0.58)
    bten = ir.Tensor("bias", (out_c,), "int32", b[1], b[0]) if b else None
    y = activation("output", (batches, oh, ow, out_c), _out_scale(rng, in_s, wq, depth, gain, weight_max * 0.58), _zp(rng, out_zp))
    opts = ir.ConvOptions(stride_h=stride[0], stride_w=stride[1], padding=padding)
    return make_graph("TRANSPOSE_CONV", [shape_t, wten, x, bten], [y], opts)
