"""Lowering of pooling, elementwise, activation, quantization and
data-movement operators to the runtime_c kernels of mcu_nn_misc.h.

Every number comes from the parameter dataclasses (mcugen.params), and
every table from the reference arithmetic itself, so C and reference
cannot drift apart:
- unary int8 operators (RELU, RELU6, LEAKY_RELU, LOGISTIC, TANH,
  HARD_SWISH, int8 QUANTIZE) become a 256-entry table made by running the
  reference kernel on all 256 int8 values: bit-exact by construction;
- ADD/SUB tabulate each input's rescaling stage (256 int32 per input);
- SOFTMAX tabulates exp of the 256 possible (row max - x) differences.

RESHAPE/SQUEEZE lower to mcu_copy_s8 with inplace_input=0: the memory
planner aliases their output onto the input, and the copy then returns at
once (it still copies if a planner ever keeps them apart).

Each fn takes `rounding` ("double" = TFLM, "single" =
TFLITE_SINGLE_ROUNDING); "single" code must be compiled with
-DMCU_SINGLE_ROUNDING.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .. import fixedpoint as fp
from .. import ir
from ..errors import UnsupportedModelError
from ..params import activation as PA
from ..params import nn as PN
from ..reference import gemmlowp as gl
from .lowering import ConstArray, KernelCall

MAX_DIMS = 5
CONCAT_MAX_INPUTS = 16  # mcu_nn_misc.h
SPLIT_MAX_OUTPUTS = 16
ALL_INT8 = np.arange(256, dtype=np.int64).astype(np.uint8).view(np.int8)  # entry u holds x = (int8)u


# ---- helpers -------------------------------------------------------------------


def _c_array(values) -> str:
    """A brace initializer for a params_init array field."""
    return "{" + ", ".join(str(int(v)) for v in values) + "}"


def _strides(shape) -> list[int]:
    out, acc = [], 1
    for d in reversed(shape):
        out.append(acc)
        acc *= int(d)
    return out[::-1]


def _pad_front(rows: list[list[int]], fill: list[int], what: str, op: ir.Operator) -> list[list[int]]:
    if len(rows) > MAX_DIMS:
        raise UnsupportedModelError(f"{op.kind} '{op.name}': {what} needs {len(rows)} dimensions after folding; "
                                    f"the C kernel handles {MAX_DIMS}")
    return [list(fill) for _ in range(MAX_DIMS - len(rows))] + rows


class _Operands:
    """Binds operator inputs to placeholders ({inK}) or, for constant
    inputs, to a constant table emitted with the call."""

    def __init__(self, graph: ir.Graph, op: ir.Operator, index: int):
        self.graph, self.op, self.index = graph, op, index
        self.inputs: list[int] = []
        self.consts: list[ConstArray] = []

    def ref(self, k: int) -> str:
        i = self.op.inputs[k]
        t = self.graph.t(i)
        if t.is_const:
            if t.dtype != "int8":
                raise UnsupportedModelError(f"{self.op.kind} '{self.op.name}': constant input '{t.name}' is {t.dtype}, not int8")
            name = f"l{self.index}_in{k}"
            self.consts.append(ConstArray(name, "int8_t", np.asarray(t.data, dtype=np.int8).ravel().copy()))
            return name
        self.inputs.append(i)
        return "{in%d}" % (len(self.inputs) - 1)


def _need_int8(op: ir.Operator, *tensors: ir.Tensor) -> None:
    for t in tensors:
        if t.dtype != "int8":
            raise UnsupportedModelError(f"{op.kind} '{op.name}': tensor '{t.name}' is {t.dtype}; this kernel is int8 only")


def _lut_call(graph, op, index, table: np.ndarray) -> KernelCall:
    opnd = _Operands(graph, op, index)
    src = opnd.ref(0)
    name = f"l{index}_lut"
    return KernelCall(
        func="mcu_lut_s8", args=[src, "{out0}", name, str(graph.t(op.outputs[0]).size)],
        inputs=opnd.inputs, outputs=list(op.outputs),
        consts=opnd.consts + [ConstArray(name, "int8_t", table.astype(np.int8))],
        sources=["mcu_lut_s8.c"], inplace_input=0 if opnd.inputs else None)


def reference_table(graph: ir.Graph, op: ir.Operator, rounding: str = "double") -> np.ndarray:
    """The int8 outputs of the reference kernel of unary `op` for all 256
    int8 inputs (entry u for x = (int8)u)."""
    from ..reference.interpreter import KERNELS, KernelContext

    tin, tout = graph.t(op.inputs[0]), graph.t(op.outputs[0])
    _need_int8(op, tin, tout)
    tensors = [replace(tin, shape=(256,), data=None), replace(tout, shape=(256,), data=None)]
    one = ir.Operator(kind=op.kind, inputs=[0], outputs=[1], options=op.options, name=op.name)
    g = ir.Graph(tensors=tensors, operators=[one], inputs=[0], outputs=[1], name=graph.name)
    y = KERNELS[op.kind](KernelContext(g, one, rounding), [ALL_INT8.copy()])[0]
    y = np.asarray(y).reshape(256)
    assert y.dtype == np.int8
    return y


# ---- unary table-driven operators -----------------------------------------------


def lower_lut(graph: ir.Graph, op: ir.Operator, index: int, rounding: str = "double") -> KernelCall:
    return _lut_call(graph, op, index, reference_table(graph, op, rounding))


def lower_quantize(graph: ir.Graph, op: ir.Operator, index: int, rounding: str = "double") -> KernelCall:
    p = PA.quantize_params(graph, op, rounding=rounding)
    if p.kind == "requantize":
        return _lut_call(graph, op, index, reference_table(graph, op, rounding))
    tin = graph.t(op.inputs[0])
    if tin.is_const:
        raise UnsupportedModelError(f"QUANTIZE '{op.name}' of a constant: fold it before code generation")
    return KernelCall(
        func="mcu_quantize_f32_s8", args=["{in0}", "{out0}", str(tin.size), "{params}"],
        inputs=[op.inputs[0]], outputs=list(op.outputs),
        params_type="mcu_quantize_params_t",
        params_init={"scale": float(np.float32(p.output_scale)), "zero_point": p.output_zero_point},
        sources=["mcu_quantize_s8.c"])


def lower_dequantize(graph: ir.Graph, op: ir.Operator, index: int, rounding: str = "double") -> KernelCall:
    p = PA.dequantize_params(graph, op, rounding=rounding)
    tin = graph.t(op.inputs[0])
    if tin.is_const:
        raise UnsupportedModelError(f"DEQUANTIZE '{op.name}' of a constant: fold it before code generation")
    return KernelCall(
        func="mcu_dequantize_s8_f32", args=["{in0}", "{out0}", str(tin.size), "{params}"],
        inputs=[op.inputs[0]], outputs=list(op.outputs),
        params_type="mcu_dequantize_params_t",
        params_init={"scale": float(np.float32(p.scale)), "zero_point": p.zero_point},
        sources=["mcu_dequantize_s8.c"])


# ---- SOFTMAX ------------------------------------------------------------------


def softmax_exp_table(p: PA.SoftmaxParams, rounding: str = "double") -> np.ndarray:
    """exp_tab[d] for d = row max - x in 0..255, as reference_ops::Softmax
    computes exp for that difference (0 where the element is skipped)."""
    diff = -np.arange(256, dtype=np.int64)
    rescaled = fp.multiply_by_quantized_multiplier_greater_than_one(diff, p.input_multiplier, p.input_left_shift, rounding)
    e = gl.exp_on_negative_values(rescaled, PA.SOFTMAX_SCALED_DIFF_INTEGER_BITS)
    return np.where(diff >= p.diff_min, e, 0).astype(np.int32)


def lower_softmax(graph: ir.Graph, op: ir.Operator, index: int, rounding: str = "double") -> KernelCall:
    p = PA.softmax_params(graph, op, rounding=rounding)
    tin = graph.t(op.inputs[0])
    depth = int(tin.shape[-1]) if tin.shape else 1
    opnd = _Operands(graph, op, index)
    src = opnd.ref(0)
    name = f"l{index}_exp"
    return KernelCall(
        func="mcu_softmax_s8", args=[src, "{out0}", name, "{params}"],
        inputs=opnd.inputs, outputs=list(op.outputs),
        params_type="mcu_softmax_params_t", params_init={"rows": tin.size // depth, "depth": depth},
        consts=opnd.consts + [ConstArray(name, "int32_t", softmax_exp_table(p, rounding))],
        sources=["mcu_softmax_s8.c"], inplace_input=0 if opnd.inputs else None)


# ---- pooling and MEAN -----------------------------------------------------------


def lower_pool(graph: ir.Graph, op: ir.Operator, index: int, rounding: str = "double") -> KernelCall:
    p = PN.pool_params(graph, op, rounding=rounding)
    n, h, w, c = p.input_shape
    _, oh, ow, _ = p.output_shape
    if p.filter_h * p.filter_w > (1 << 23):
        raise UnsupportedModelError(f"{op.kind} '{op.name}': a {p.filter_h}x{p.filter_w} window is too large")
    opnd = _Operands(graph, op, index)
    src = opnd.ref(0)
    avg = op.kind == "AVERAGE_POOL_2D"
    return KernelCall(
        func="mcu_avgpool_s8" if avg else "mcu_maxpool_s8", args=[src, "{out0}", "{params}"],
        inputs=opnd.inputs, outputs=list(op.outputs), params_type="mcu_pool_params_t",
        params_init=dict(batches=n, in_h=h, in_w=w, channels=c, out_h=oh, out_w=ow,
                         filter_h=p.filter_h, filter_w=p.filter_w, stride_h=p.stride_h, stride_w=p.stride_w,
                         pad_h=p.pad_h, pad_w=p.pad_w, act_min=p.act_min, act_max=p.act_max),
        consts=opnd.consts, sources=["mcu_avgpool_s8.c" if avg else "mcu_maxpool_s8.c"])


def mean_groups(shape, axes) -> tuple[list[list[int]], list[list[int]]]:
    """Kept and reduced axis groups [extent, input stride], in memory order,
    adjacent axes of one kind merged, size-1 axes dropped."""
    groups: list[list] = []  # [extent, stride, reduced]
    for a, (d, s) in enumerate(zip(shape, _strides(shape))):
        if d == 1:
            continue
        red = a in axes
        if groups and groups[-1][2] == red:
            groups[-1][0] *= int(d)
            groups[-1][1] = s
        else:
            groups.append([int(d), s, red])
    kept = [[d, s] for d, s, r in groups if not r]
    reduced = [[d, s] for d, s, r in groups if r]
    return kept, reduced


def lower_mean(graph: ir.Graph, op: ir.Operator, index: int, rounding: str = "double") -> KernelCall:
    p = PN.mean_params(graph, op, rounding=rounding)
    tin, tout = graph.t(op.inputs[0]), graph.t(op.outputs[0])
    _need_int8(op, tin, tout)
    kept, reduced = mean_groups(tuple(p.input_shape), set(p.axes))
    if len(kept) > 3 or len(reduced) > 3:
        raise UnsupportedModelError(f"MEAN '{op.name}' over axes {list(p.axes)} of {list(p.input_shape)} is too fragmented")
    kept = [[1, 0]] * (3 - len(kept)) + kept
    reduced = [[1, 0]] * (3 - len(reduced)) + reduced
    if p.count > (1 << 23):
        raise UnsupportedModelError(f"MEAN '{op.name}' averages {p.count} values; the int32 sum could overflow")
    opnd = _Operands(graph, op, index)
    src = opnd.ref(0)
    return KernelCall(
        func="mcu_mean_s8", args=[src, "{out0}", "{params}"],
        inputs=opnd.inputs, outputs=list(op.outputs), params_type="mcu_mean_params_t",
        params_init=dict(kept=_c_array(d for d, _ in kept), kept_step=_c_array(s for _, s in kept),
                         red=_c_array(d for d, _ in reduced), red_step=_c_array(s for _, s in reduced),
                         zp_count=int(fp.wrap_int32(p.input_zp * p.count)),
                         multiplier=p.multiplier, shift=p.shift, output_zp=p.output_zp),
        consts=opnd.consts, sources=["mcu_mean_s8.c"])


# ---- ADD / SUB / MUL -------------------------------------------------------------


def broadcast_steps(shape1, shape2, out_shape) -> tuple[list[int], list[int], list[int]]:
    """Output extents and each input's element step per output axis (0 where
    it broadcasts), size-1 output axes dropped and contiguous runs merged,
    padded at the front to 5-D by the caller."""
    rank = len(out_shape)
    if len(shape1) > rank or len(shape2) > rank:
        raise ValueError("input rank above output rank")
    s1 = (1,) * (rank - len(shape1)) + tuple(shape1)
    s2 = (1,) * (rank - len(shape2)) + tuple(shape2)
    st1, st2 = _strides(s1), _strides(s2)
    rows = []  # [extent, step1, step2]
    for a in range(rank):
        d = int(out_shape[a])
        if s1[a] not in (1, d) or s2[a] not in (1, d):
            raise ValueError(f"shapes {list(shape1)} and {list(shape2)} do not broadcast to {list(out_shape)}")
        if d == 1:
            continue
        step1 = st1[a] if s1[a] == d else 0
        step2 = st2[a] if s2[a] == d else 0
        if rows and rows[-1][1] == step1 * d and rows[-1][2] == step2 * d:
            rows[-1] = [rows[-1][0] * d, step1, step2]
        else:
            rows.append([d, step1, step2])
    if not rows:
        rows = [[1, 1, 1]]
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


def _binary(graph, op, shape1, shape2, out_shape):
    try:
        dims, step1, step2 = broadcast_steps(shape1, shape2, out_shape)
    except ValueError as e:
        raise UnsupportedModelError(f"{op.kind} '{op.name}': {e}") from None
    rows = _pad_front([list(r) for r in zip(dims, step1, step2)], [1, 0, 0], "broadcasting", op)
    size = int(np.prod(out_shape, dtype=np.int64)) if len(out_shape) else 1
    # in place on an input that already has the output's size (no broadcast)
    inplace = None
    for k in (0, 1):
        t = graph.t(op.inputs[k])
        if not t.is_const and t.size == size:
            inplace = k
            break
    init = dict(dims=_c_array(r[0] for r in rows), step1=_c_array(r[1] for r in rows),
                step2=_c_array(r[2] for r in rows))
    return init, inplace


def add_sub_tables(p: PN.AddSubParams, rounding: str = "double") -> tuple[np.ndarray, np.ndarray]:
    """AddFunc's scaled_input*_val for all 256 int8 inputs (SUB's second
    one negated), in the form mcu_add_s8's requantization takes (see
    mcu_mi_rq in mcu_misc_internal.h): doubled, plus floor(2^30 / output
    multiplier) under double rounding, so the sum of two entries is
    2 * raw_sum - thr2."""
    x = ALL_INT8.astype(np.int64)

    def scaled(offset, mult, shift):
        return fp.multiply_by_quantized_multiplier_smaller_than_one_exp((x + offset) << p.left_shift, mult, shift, rounding)

    t1 = scaled(p.input1_offset, p.input1_multiplier, p.input1_shift)
    t2 = scaled(p.input2_offset, p.input2_multiplier, p.input2_shift)
    if p.kind == "SUB":
        t2 = -t2
    # the kernel's requantization needs |2 * raw_sum| < 2^30
    assert np.abs(t1).max() + np.abs(t2).max() < (1 << 29)
    off = (1 << 30) // p.output_multiplier if rounding == "double" else 0
    return (2 * t1 + off).astype(np.int32), (2 * t2 + off).astype(np.int32)


def lower_add_sub(graph: ir.Graph, op: ir.Operator, index: int, rounding: str = "double") -> KernelCall:
    p = PN.add_sub_params(graph, op, rounding=rounding)
    _need_int8(op, graph.t(op.inputs[0]), graph.t(op.inputs[1]), graph.t(op.outputs[0]))
    if p.output_shift > -3 or p.output_multiplier <= 0 or p.input1_shift > 0 or p.input2_shift > 0:
        # the kernel folds the output rounding into one shift of >= 34 bits;
        # output_shift > -3 needs an output scale 2^16 times finer than the
        # inputs', which no converter produces
        raise UnsupportedModelError(f"{op.kind} '{op.name}': the output scale {float(graph.t(op.outputs[0]).quant.s):g} "
                                    "is implausibly small against the input scales")
    init, inplace = _binary(graph, op, p.input1_shape, p.input2_shape, p.output_shape)
    opnd = _Operands(graph, op, index)
    a, b = opnd.ref(0), opnd.ref(1)
    t1, t2 = add_sub_tables(p, rounding)
    n1 = f"l{index}_tab1"
    consts = [ConstArray(n1, "int32_t", t1)]
    n2 = n1  # inputs quantized alike share one table
    if not np.array_equal(t1, t2):
        n2 = f"l{index}_tab2"
        consts.append(ConstArray(n2, "int32_t", t2))
    init.update(output_multiplier=p.output_multiplier, output_shift=p.output_shift,
                output_offset=p.output_offset, act_min=p.act_min, act_max=p.act_max)
    return KernelCall(
        func="mcu_add_s8", args=[a, b, "{out0}", n1, n2, "{params}"],
        inputs=opnd.inputs, outputs=list(op.outputs), params_type="mcu_add_params_t", params_init=init,
        consts=opnd.consts + consts, sources=["mcu_add_s8.c"], inplace_input=inplace)


def lower_mul(graph: ir.Graph, op: ir.Operator, index: int, rounding: str = "double") -> KernelCall:
    p = PN.mul_params(graph, op, rounding=rounding)
    _need_int8(op, graph.t(op.inputs[0]), graph.t(op.inputs[1]), graph.t(op.outputs[0]))
    init, inplace = _binary(graph, op, p.input1_shape, p.input2_shape, p.output_shape)
    opnd = _Operands(graph, op, index)
    a, b = opnd.ref(0), opnd.ref(1)
    init.update(input1_offset=p.input1_offset, input2_offset=p.input2_offset,
                output_multiplier=p.output_multiplier, output_shift=p.output_shift,
                output_offset=p.output_offset, act_min=p.act_min, act_max=p.act_max)
    return KernelCall(
        func="mcu_mul_s8", args=[a, b, "{out0}", "{params}"],
        inputs=opnd.inputs, outputs=list(op.outputs), params_type="mcu_mul_params_t", params_init=init,
        consts=opnd.consts, sources=["mcu_mul_s8.c"], inplace_input=inplace)


# ---- data movement -------------------------------------------------------------


def lower_concat(graph: ir.Graph, op: ir.Operator, index: int, rounding: str = "double") -> KernelCall:
    p = PA.concatenation_params(graph, op, rounding=rounding)
    tout = graph.t(op.outputs[0])
    _need_int8(op, tout, *[graph.t(i) for i in op.inputs])
    if len(op.inputs) > CONCAT_MAX_INPUTS:
        raise UnsupportedModelError(f"CONCATENATION '{op.name}' has {len(op.inputs)} inputs; the C kernel takes {CONCAT_MAX_INPUTS}")
    inner = int(np.prod(tout.shape[p.axis + 1:], dtype=np.int64))
    opnd = _Operands(graph, op, index)
    refs = [opnd.ref(k) for k in range(len(op.inputs))]
    # a C99 compound literal; "{{"/"}}" survive the renderer's str.format
    ptrs = "(const int8_t *const[]){{" + ", ".join(refs) + "}}"
    return KernelCall(
        func="mcu_concat_s8", args=[ptrs, "{out0}", "{params}"],
        inputs=opnd.inputs, outputs=list(op.outputs), params_type="mcu_concat_params_t",
        params_init=dict(outer=int(np.prod(tout.shape[:p.axis], dtype=np.int64)), n_inputs=len(refs),
                         in_row=_c_array(s * inner for s in p.sizes)),
        consts=opnd.consts, sources=["mcu_concat_s8.c"])


def lower_split(graph: ir.Graph, op: ir.Operator, index: int, rounding: str = "double") -> KernelCall:
    p = PA.PARAMS[op.kind](graph, op, rounding=rounding)
    tin = graph.t(op.inputs[p.data_input])
    _need_int8(op, tin, *[graph.t(i) for i in op.outputs])
    if len(op.outputs) > SPLIT_MAX_OUTPUTS:
        raise UnsupportedModelError(f"{op.kind} '{op.name}' has {len(op.outputs)} outputs; the C kernel takes {SPLIT_MAX_OUTPUTS}")
    inner = int(np.prod(tin.shape[p.axis + 1:], dtype=np.int64))
    opnd = _Operands(graph, op, index)
    src = opnd.ref(p.data_input)
    ptrs = "(int8_t *const[]){{" + ", ".join("{out%d}" % k for k in range(len(op.outputs))) + "}}"
    return KernelCall(
        func="mcu_split_s8", args=[src, ptrs, "{params}"],
        inputs=opnd.inputs, outputs=list(op.outputs), params_type="mcu_split_params_t",
        params_init=dict(outer=int(np.prod(tin.shape[:p.axis], dtype=np.int64)), n_outputs=len(op.outputs),
                         out_row=_c_array(s * inner for s in p.sizes)),
        consts=opnd.consts, sources=["mcu_split_s8.c"])


def strided_slice_steps(in_shape, begin, strides, counts) -> tuple[int, list[int], list[int]]:
    """Start offset, output extents and input steps, folded."""
    ist = _strides(in_shape)
    start = sum(int(b) * s for b, s in zip(begin, ist))
    rows = []  # [extent, step]
    for c, st, s in zip(counts, strides, ist):
        if c == 1:
            continue
        step = int(st) * s
        if rows and rows[-1][1] == step * c:
            rows[-1] = [rows[-1][0] * c, step]
        else:
            rows.append([int(c), step])
    if not rows:
        rows = [[1, 1]]
    return start, [r[0] for r in rows], [r[1] for r in rows]


def lower_strided_slice(graph: ir.Graph, op: ir.Operator, index: int, rounding: str = "double") -> KernelCall:
    p = PA.strided_slice_params(graph, op, rounding=rounding)
    tin = graph.t(op.inputs[0])
    _need_int8(op, tin, graph.t(op.outputs[0]))
    start, dims, steps = strided_slice_steps(tin.shape, p.begin, p.strides, p.counts)
    rows = _pad_front([[d, s] for d, s in zip(dims, steps)], [1, 0], "the slice", op)
    opnd = _Operands(graph, op, index)
    src = opnd.ref(0)
    return KernelCall(
        func="mcu_strided_slice_s8", args=[src, "{out0}", "{params}"],
        inputs=opnd.inputs, outputs=list(op.outputs), params_type="mcu_strided_slice_params_t",
        params_init=dict(dims=_c_array(r[0] for r in rows), step=_c_array(r[1] for r in rows), start=start),
        consts=opnd.consts, sources=["mcu_strided_slice_s8.c"])


def pad_folds(in_shape, paddings) -> list[list[int]]:
    """[extent, before, after] per axis; an axis merges into the one outside
    it when it is not padded itself, unpadded size-1 axes vanish."""
    rows: list[list[int]] = []
    for d, (b, a) in zip(in_shape, paddings):
        d, b, a = int(d), int(b), int(a)
        if d == 1 and b == 0 and a == 0:
            continue
        if rows and b == 0 and a == 0:
            rows[-1] = [rows[-1][0] * d, rows[-1][1] * d, rows[-1][2] * d]
        else:
            rows.append([d, b, a])
    return rows or [[1, 0, 0]]


def lower_pad(graph: ir.Graph, op: ir.Operator, index: int, rounding: str = "double") -> KernelCall:
    p = PA.pad_params(graph, op, rounding=rounding)
    tin = graph.t(op.inputs[0])
    _need_int8(op, tin, graph.t(op.outputs[0]))
    rows = _pad_front(pad_folds(tin.shape, p.paddings), [1, 0, 0], "padding", op)
    opnd = _Operands(graph, op, index)
    src = opnd.ref(0)
    return KernelCall(
        func="mcu_pad_s8", args=[src, "{out0}", "{params}"],
        inputs=opnd.inputs, outputs=list(op.outputs), params_type="mcu_pad_params_t",
        params_init=dict(in_dims=_c_array(r[0] for r in rows), before=_c_array(r[1] for r in rows),
                         after=_c_array(r[2] for r in rows), value=int(np.int8(p.pad_value))),
        consts=opnd.consts, sources=["mcu_pad_s8.c"])


def lower_reshape(graph: ir.Graph, op: ir.Operator, index: int, rounding: str = "double") -> KernelCall:
    tin, tout = graph.t(op.inputs[0]), graph.t(op.outputs[0])
    _need_int8(op, tin, tout)
    opnd = _Operands(graph, op, index)
    src = opnd.ref(0)
    return KernelCall(
        func="mcu_copy_s8", args=[src, "{out0}", str(tout.nbytes)],
        inputs=opnd.inputs, outputs=list(op.outputs), consts=opnd.consts,
        sources=["mcu_copy_s8.c"], inplace_input=0 if opnd.inputs else None)


LOWER = {
    "AVERAGE_POOL_2D": lower_pool,
    "MAX_POOL_2D": lower_pool,
    "MEAN": lower_mean,
    "ADD": lower_add_sub,
    "SUB": lower_add_sub,
    "MUL": lower_mul,
    "CONCATENATION": lower_concat,
    "SPLIT": lower_split,
    "SPLIT_V": lower_split,
    "STRIDED_SLICE": lower_strided_slice,
    "PAD": lower_pad,
    "PADV2": lower_pad,
    "RESHAPE": lower_reshape,
    "SQUEEZE": lower_reshape,
    "SOFTMAX": lower_softmax,
    "LOGISTIC": lower_lut,
    "TANH": lower_lut,
    "HARD_SWISH": lower_lut,
    "LEAKY_RELU": lower_lut,
    "RELU": lower_lut,
    "RELU6": lower_lut,
    "QUANTIZE": lower_quantize,
    "DEQUANTIZE": lower_dequantize,
}
