"""`.tflite` flatbuffer -> mcugen IR.

Parsing uses the `tflite` schema package. A corrupt flatbuffer can make the
generated accessors raise almost anything or loop over absurd vector
lengths, so every length is checked against the file size before it is
iterated and every failure becomes one ModelFormatError.
"""

from __future__ import annotations

import os

import numpy as np
import tflite
from tflite.BuiltinOperator import BuiltinOperator
from tflite.TensorType import TensorType

from .. import ir
from ..errors import McugenError, ModelFormatError, UnsupportedModelError

SUPPORTED_OPS = (
    "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV",
    "AVERAGE_POOL_2D", "MAX_POOL_2D", "MEAN",
    "ADD", "SUB", "MUL",
    "CONCATENATION", "SPLIT", "SPLIT_V", "STRIDED_SLICE", "PAD", "PADV2",
    "RESHAPE", "SQUEEZE",
    "SOFTMAX", "LOGISTIC", "TANH", "RELU", "RELU6", "LEAKY_RELU", "HARD_SWISH",
    "QUANTIZE", "DEQUANTIZE",
)

_OP_NAMES = {v: k for k, v in vars(BuiltinOperator).items() if not k.startswith("_")}
_TYPE_NAMES = {v: k for k, v in vars(TensorType).items() if not k.startswith("_")}
_DTYPE_OF = {
    TensorType.INT8: "int8", TensorType.UINT8: "uint8", TensorType.INT16: "int16",
    TensorType.INT32: "int32", TensorType.INT64: "int64", TensorType.FLOAT32: "float32",
    TensorType.BOOL: "bool",
}
_PADDING = {0: "SAME", 1: "VALID"}
_ACTIVATION = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT"}

FULL_INT8_HINT = (
    "mcugen needs a full-integer int8 model: convert it with "
    "converter.optimizations = [tf.lite.Optimize.DEFAULT], a representative_dataset, and "
    "converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8] "
    "(inference_input_type/inference_output_type may stay float32 or be tf.int8)"
)


def load(path: str | os.PathLike) -> ir.Graph:
    """Reads a .tflite file into the IR; every failure is a McugenError."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            buf = f.read()
    except FileNotFoundError:
        raise ModelFormatError(f"model file '{path}' does not exist") from None
    except IsADirectoryError:
        raise ModelFormatError(f"'{path}' is a directory; give the path of a .tflite file") from None
    except OSError as e:
        raise ModelFormatError(f"cannot read model file '{path}': {e.strerror}") from None
    name = os.path.splitext(os.path.basename(path))[0]
    return parse(buf, name=name, origin=path)


def parse(buf: bytes, name: str = "model", origin: str = "<bytes>") -> ir.Graph:
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise ModelFormatError(
            f"'{origin}' is not a TensorFlow Lite model (no 'TFL3' flatbuffer identifier); "
            "give a .tflite file written by the TFLite converter")
    try:
        graph = _Reader(buf, name).graph()
    except McugenError:
        raise
    except RecursionError:
        raise ModelFormatError(f"'{origin}' is corrupt: the flatbuffer nests without end; re-export the model") from None
    except Exception as e:  # corrupt offsets surface as any of struct/Index/Value/Unicode errors
        raise ModelFormatError(
            f"'{origin}' is truncated or corrupt ({type(e).__name__} while reading the flatbuffer); "
            "re-export or re-download the model") from None
    ir.validate(graph)
    return graph


class _Reader:
    def __init__(self, buf: bytes, name: str):
        self.buf = buf
        self.name = name
        self.model = tflite.Model.GetRootAsModel(buf, 0)

    def _count(self, n: int, what: str) -> int:
        # each vector element takes at least one byte; more than the file
        # holds means a corrupt length that would otherwise loop for ages
        if n < 0 or n > len(self.buf):
            raise ModelFormatError(f"model is corrupt: {what} claims {n} entries in a {len(self.buf)}-byte file")
        return n

    def graph(self) -> ir.Graph:
        m = self.model
        if self._count(m.SubgraphsLength(), "subgraph list") < 1:
            raise ModelFormatError("model has no subgraph; re-export it with the TFLite converter")
        if m.SubgraphsLength() > 1:
            raise UnsupportedModelError(
                f"model has {m.SubgraphsLength()} subgraphs (control flow: WHILE/IF or multiple signatures); "
                "mcugen compiles single-subgraph models: remove control flow before conversion")
        sg = m.Subgraphs(0)
        self.opcodes = [self._opcode(m.OperatorCodes(i)) for i in range(self._count(m.OperatorCodesLength(), "operator code list"))]
        nb = self._count(m.BuffersLength(), "buffer list")
        tensors = [self._tensor(sg.Tensors(i), nb) for i in range(self._count(sg.TensorsLength(), "tensor list"))]
        self.tensors = tensors
        inputs = [int(i) for i in self._ints(sg.InputsAsNumpy(), sg.InputsLength())]
        outputs = [int(i) for i in self._ints(sg.OutputsAsNumpy(), sg.OutputsLength())]
        ops = [self._operator(k, sg.Operators(k)) for k in range(self._count(sg.OperatorsLength(), "operator list"))]
        g = ir.Graph(tensors=tensors, operators=ops, inputs=inputs, outputs=outputs, name=self.name)
        _check_integer_only(g)
        return g

    def _ints(self, arr, n):
        self._count(n, "index vector")
        return [] if n == 0 else list(arr)

    def _opcode(self, oc) -> str:
        code = max(int(oc.BuiltinCode()), int(oc.DeprecatedBuiltinCode()))
        if code == BuiltinOperator.CUSTOM:
            custom = oc.CustomCode()
            return "CUSTOM:" + (custom.decode("utf-8", "replace") if custom else "?")
        return _OP_NAMES.get(code, f"BUILTIN_{code}")

    def _tensor(self, t, nbuffers: int) -> ir.Tensor:
        name = (t.Name() or b"").decode("utf-8", "replace")
        ttype = t.Type()
        dtype = _DTYPE_OF.get(ttype)
        shape = tuple(int(d) for d in self._ints(t.ShapeAsNumpy(), t.ShapeLength()))
        if dtype is None:
            # unknown types are only an error if an operator uses the tensor
            dtype = "unsupported:" + _TYPE_NAMES.get(ttype, str(ttype))
        quant = None
        q = t.Quantization()
        if q is not None and not q.ScaleIsNone() and q.ScaleLength() > 0:
            self._count(q.ScaleLength(), "quantization scales")
            scale = np.asarray(q.ScaleAsNumpy(), dtype=np.float32).copy()
            zp = np.asarray(q.ZeroPointAsNumpy() if q.ZeroPointLength() else np.zeros_like(scale), dtype=np.int64)
            if zp.size == 1 and scale.size > 1:
                zp = np.full(scale.shape, int(zp[0]), dtype=np.int64)
            axis = int(q.QuantizedDimension()) if scale.size > 1 else None
            quant = ir.Quant(scale=scale, zero_point=zp.copy(), axis=axis)
        data = None
        b = t.Buffer()
        if b != 0:
            if not 0 < b < nbuffers:
                raise ModelFormatError(f"model is corrupt: tensor '{name}' refers to buffer {b} of {nbuffers}")
            raw = self._buffer_bytes(b)
            if raw is not None and len(raw) > 0:
                if not dtype in ir.DTYPES:
                    raise UnsupportedModelError(f"constant tensor '{name}' has type {dtype.split(':')[1]}; mcugen handles int8/int16/int32/float32 constants")
                npd = np.dtype(ir.DTYPES[dtype]).newbyteorder("<")
                count = int(np.prod(shape, dtype=np.int64)) if shape else 1
                if len(raw) != count * npd.itemsize:
                    raise ModelFormatError(
                        f"model is corrupt: constant tensor '{name}' of shape {list(shape)} ({dtype}) "
                        f"has {len(raw)} bytes of data instead of {count * npd.itemsize}")
                data = np.frombuffer(raw, dtype=npd).astype(ir.DTYPES[dtype]).reshape(shape)
        return ir.Tensor(name=name, shape=shape, dtype=dtype, quant=quant, data=data)

    def _buffer_bytes(self, index: int) -> bytes | None:
        buffer = self.model.Buffers(index)
        offset, size = int(buffer.Offset()), int(buffer.Size())
        if offset > 1:  # models over 2 GB keep data after the flatbuffer
            if offset + size > len(self.buf):
                raise ModelFormatError("model is truncated: a weight buffer ends past the end of the file")
            return self.buf[offset:offset + size]
        n = self._count(buffer.DataLength(), "buffer data")
        if n == 0:
            return None
        return buffer.DataAsNumpy().tobytes()

    # -- operators ---------------------------------------------------------

    def _operator(self, index: int, op) -> ir.Operator:
        opcode_index = op.OpcodeIndex()
        if not 0 <= opcode_index < len(self.opcodes):
            raise ModelFormatError(f"model is corrupt: operator {index} uses opcode {opcode_index} of {len(self.opcodes)}")
        kind = self.opcodes[opcode_index]
        if kind not in SUPPORTED_OPS:
            raise UnsupportedModelError(
                f"operator {index} is {kind}, which mcugen does not support. "
                f"Supported operators: {', '.join(SUPPORTED_OPS)}. "
                "Replace it in the source model or file an issue with the model attached")
        inputs = [int(i) for i in self._ints(op.InputsAsNumpy(), op.InputsLength())]
        outputs = [int(i) for i in self._ints(op.OutputsAsNumpy(), op.OutputsLength())]
        n = len(self.tensors)
        for i in inputs + outputs:
            if not -1 <= i < n:
                raise ModelFormatError(f"model is corrupt: operator {index} ({kind}) refers to tensor {i} of {n}")
        for i in inputs + outputs:
            if i >= 0 and self.tensors[i].dtype.startswith("unsupported:"):
                raise UnsupportedModelError(
                    f"operator {index} ({kind}) uses tensor '{self.tensors[i].name}' of type "
                    f"{self.tensors[i].dtype.split(':')[1]}; {FULL_INT8_HINT}")
        options = _options(kind, op, inputs, self.tensors, index)
        name = self.tensors[outputs[0]].name if outputs else f"op{index}"
        return ir.Operator(kind=kind, inputs=inputs, outputs=outputs, options=options, name=name)


def _opt(op, cls):
    table = op.BuiltinOptions()
    o = cls()
    if table is not None:
        o.Init(table.Bytes, table.Pos)
        return o
    return None


def _act(code: int, index: int, kind: str) -> str:
    a = _ACTIVATION.get(code)
    if a not in ir.ACTIVATIONS:
        raise UnsupportedModelError(f"operator {index} ({kind}) has fused activation {a or code}; mcugen supports NONE, RELU, RELU6, RELU_N1_TO_1")
    return a


def _const(tensors, i, index, kind, what):
    if i < 0 or tensors[i].data is None:
        raise UnsupportedModelError(f"operator {index} ({kind}) needs a constant {what}; mcugen compiles static graphs only")
    return tensors[i].data


def _options(kind: str, op, inputs: list[int], tensors: list[ir.Tensor], index: int):
    if kind in ("CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV"):
        cls = {"CONV_2D": tflite.Conv2DOptions, "DEPTHWISE_CONV_2D": tflite.DepthwiseConv2DOptions,
               "TRANSPOSE_CONV": tflite.TransposeConvOptions}[kind]
        o = _opt(op, cls)
        opts = ir.ConvOptions()
        if o is not None:
            opts.padding = _PADDING.get(o.Padding(), "VALID")
            opts.stride_h, opts.stride_w = int(o.StrideH()), int(o.StrideW())
            opts.activation = _act(o.FusedActivationFunction(), index, kind)
            if kind != "TRANSPOSE_CONV":
                opts.dilation_h, opts.dilation_w = int(o.DilationHFactor()), int(o.DilationWFactor())
            if kind == "DEPTHWISE_CONV_2D":
                opts.depth_multiplier = int(o.DepthMultiplier())
        if min(opts.stride_h, opts.stride_w, opts.dilation_h, opts.dilation_w) < 1:
            raise ModelFormatError(f"model is corrupt: operator {index} ({kind}) has stride or dilation < 1")
        if kind == "TRANSPOSE_CONV":
            _const(tensors, inputs[0], index, kind, "output_shape input")
        return opts
    if kind in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        o = _opt(op, tflite.Pool2DOptions)
        if o is None:
            raise ModelFormatError(f"model is corrupt: operator {index} ({kind}) has no pooling options")
        opts = ir.PoolOptions(filter_h=int(o.FilterHeight()), filter_w=int(o.FilterWidth()),
                              stride_h=int(o.StrideH()), stride_w=int(o.StrideW()),
                              padding=_PADDING.get(o.Padding(), "VALID"),
                              activation=_act(o.FusedActivationFunction(), index, kind))
        if min(opts.filter_h, opts.filter_w, opts.stride_h, opts.stride_w) < 1:
            raise ModelFormatError(f"model is corrupt: operator {index} ({kind}) has a filter or stride < 1")
        return opts
    if kind == "FULLY_CONNECTED":
        o = _opt(op, tflite.FullyConnectedOptions)
        if o is None:
            return ir.FullyConnectedOptions()
        if o.WeightsFormat() != 0:
            raise UnsupportedModelError(f"operator {index} (FULLY_CONNECTED) uses shuffled weights; only the default format is supported")
        return ir.FullyConnectedOptions(activation=_act(o.FusedActivationFunction(), index, kind),
                                        keep_num_dims=bool(o.KeepNumDims()))
    if kind in ("ADD", "SUB", "MUL"):
        cls = {"ADD": tflite.AddOptions, "SUB": tflite.SubOptions, "MUL": tflite.MulOptions}[kind]
        o = _opt(op, cls)
        return ir.ElementwiseOptions(activation=_act(o.FusedActivationFunction(), index, kind) if o else "NONE")
    if kind == "CONCATENATION":
        o = _opt(op, tflite.ConcatenationOptions)
        rank = len(tensors[inputs[0]].shape)
        axis = int(o.Axis()) if o else 0
        return ir.ConcatOptions(axis=axis % rank if rank else 0,
                                activation=_act(o.FusedActivationFunction(), index, kind) if o else "NONE")
    if kind == "SPLIT":
        o = _opt(op, tflite.SplitOptions)
        axis = int(np.asarray(_const(tensors, inputs[0], index, kind, "axis")).ravel()[0])
        rank = len(tensors[inputs[1]].shape)
        return ir.AxisOptions(axis=axis % rank, num_splits=int(o.NumSplits()) if o else len(op.OutputsAsNumpy()))
    if kind == "SPLIT_V":
        o = _opt(op, tflite.SplitVOptions)
        sizes = [int(s) for s in np.asarray(_const(tensors, inputs[1], index, kind, "size_splits")).ravel()]
        axis = int(np.asarray(_const(tensors, inputs[2], index, kind, "axis")).ravel()[0])
        rank = len(tensors[inputs[0]].shape)
        axis %= rank
        if -1 in sizes:
            k = sizes.index(-1)
            sizes[k] = tensors[inputs[0]].shape[axis] - (sum(sizes) + 1)
        return ir.AxisOptions(axis=axis, num_splits=int(o.NumSplits()) if o else len(sizes), size_splits=tuple(sizes))
    if kind == "MEAN":
        o = _opt(op, tflite.ReducerOptions)
        rank = len(tensors[inputs[0]].shape)
        axes = sorted({int(a) % rank for a in np.asarray(_const(tensors, inputs[1], index, kind, "axis")).ravel()})
        return ir.ReduceOptions(axes=tuple(axes), keep_dims=bool(o.KeepDims()) if o else False)
    if kind == "STRIDED_SLICE":
        return _strided_slice(op, inputs, tensors, index)
    if kind in ("PAD", "PADV2"):
        pads = np.asarray(_const(tensors, inputs[1], index, kind, "paddings")).reshape(-1, 2)
        return ir.PadOptions(paddings=tuple((int(a), int(b)) for a, b in pads))
    if kind == "SOFTMAX":
        o = _opt(op, tflite.SoftmaxOptions)
        return ir.SoftmaxOptions(beta=float(o.Beta()) if o else 1.0)
    if kind == "LEAKY_RELU":
        o = _opt(op, tflite.LeakyReluOptions)
        return ir.LeakyReluOptions(alpha=float(o.Alpha()) if o else 0.2)
    return ir.NoOptions()


def _strided_slice(op, inputs, tensors, index) -> ir.StridedSliceOptions:
    kind = "STRIDED_SLICE"
    o = _opt(op, tflite.StridedSliceOptions)
    shape = tensors[inputs[0]].shape
    begin = [int(v) for v in np.asarray(_const(tensors, inputs[1], index, kind, "begin")).ravel()]
    end = [int(v) for v in np.asarray(_const(tensors, inputs[2], index, kind, "end")).ravel()]
    strides = [int(v) for v in np.asarray(_const(tensors, inputs[3], index, kind, "strides")).ravel()] if len(inputs) > 3 else [1] * len(begin)
    bm = int(o.BeginMask()) if o else 0
    em = int(o.EndMask()) if o else 0
    elm = int(o.EllipsisMask()) if o else 0
    nam = int(o.NewAxisMask()) if o else 0
    sam = int(o.ShrinkAxisMask()) if o else 0
    offset = bool(o.Offset()) if o else False
    if elm or nam:
        raise UnsupportedModelError(f"operator {index} (STRIDED_SLICE) uses ellipsis/new-axis masks, which TFLM does not support either")
    if 0 in strides:
        raise ModelFormatError(f"model is corrupt: operator {index} (STRIDED_SLICE) has a zero stride")
    n = len(shape)
    # dimensions not named by begin/end are taken whole
    begin += [0] * (n - len(begin))
    end += [0] * (n - len(end))
    strides += [1] * (n - len(strides))
    bm |= ((1 << n) - 1) & ~((1 << len(begin)) - 1)
    rb, re = [], []
    for a in range(n):
        size, s = shape[a], strides[a]
        # TFLM's StartForAxis / StopForAxis
        start = begin[a]
        if bm & (1 << a):
            start = 0 if s > 0 else size - 1
        elif start < 0:
            start += size
        start = min(max(start, 0), size) if s > 0 else min(max(start, -1), size - 1)
        if sam & (1 << a):
            stop = start + 1
        else:
            stop = end[a]  # TFLM ignores the offset flag; params reject models that set it
            if em & (1 << a):
                stop = size if s > 0 else -1
            elif stop < 0:
                stop += size
            stop = min(max(stop, 0), size) if s > 0 else min(max(stop, -1), size - 1)
        rb.append(start)
        re.append(stop)
    return ir.StridedSliceOptions(begin=tuple(rb), end=tuple(re), strides=tuple(strides), shrink_axis_mask=sam,
                                  begin_mask=bm, end_mask=em, ellipsis_mask=elm, new_axis_mask=nam, offset=offset)


def _check_integer_only(g: ir.Graph) -> None:
    """Rejects float and dynamic-range models with the remedy spelled out.

    Float32 is allowed only at the edges: the float side of an input
    QUANTIZE or an output DEQUANTIZE.
    """
    # int8 weights beside float activations: weight-only (dynamic-range) quantization
    dynamic = any(t.is_const and t.dtype == "int8" for t in g.tensors)
    for k, op in enumerate(g.operators):
        for i in op.inputs + op.outputs:
            if i < 0:
                continue
            t = g.tensors[i]
            if t.dtype == "float32":
                edge = (op.kind == "QUANTIZE" and i == op.inputs[0]) or (op.kind == "DEQUANTIZE" and i == op.outputs[0])
                if not edge:
                    how = "a dynamic-range (weight-only) quantized" if dynamic else "a float"
                    raise UnsupportedModelError(
                        f"this is {how} model: operator {k} ({op.kind}) has float32 tensor '{t.name}'. {FULL_INT8_HINT}")
            elif t.dtype in ("int8", "int16", "uint8") and t.quant is None and op.kind not in ("RESHAPE", "SQUEEZE"):
                if not (t.is_const and t.dtype == "int32"):
                    raise UnsupportedModelError(f"operator {k} ({op.kind}): tensor '{t.name}' ({t.dtype}) has no quantization parameters. {FULL_INT8_HINT}")
        act_types = {g.tensors[i].dtype for i in op.outputs}
        if "int16" in act_types or "uint8" in act_types:
            raise UnsupportedModelError(
                f"operator {k} ({op.kind}) has {'/'.join(sorted(act_types))} activations; mcugen supports int8 activations "
                "(int16x8 and legacy uint8 models are not supported). " + FULL_INT8_HINT)
