"""mcugen's one intermediate representation: a graph of operators and tensors.

Every stage after the frontend (compression passes, planning, codegen, the
reference interpreter) reads and rewrites this IR only. Tensors are held in
one list and referred to by index, so a pass can add tensors (e.g. a low-rank
split adds a middle activation) without renumbering anything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import UnsupportedModelError

# Fused activations as TFLite names them.
ACTIVATIONS = ("NONE", "RELU", "RELU_N1_TO_1", "RELU6")

DTYPES = {
    "int8": np.int8,
    "uint8": np.uint8,
    "int16": np.int16,
    "int32": np.int32,
    "int64": np.int64,
    "float32": np.float32,
    "bool": np.bool_,
}


@dataclass
class Quant:
    """Affine quantization: real = scale * (q - zero_point).

    Per-tensor when `axis` is None (scale and zero_point have one element),
    per-channel along `axis` otherwise.
    """

    scale: np.ndarray  # float32, shape (1,) or (channels,)
    zero_point: np.ndarray  # int64, same shape as scale
    axis: int | None = None

    @property
    def per_channel(self) -> bool:
        return self.axis is not None

    @property
    def s(self) -> float:
        """The per-tensor scale (float32, as TFLite stores it)."""
        return self.scale[0]

    @property
    def zp(self) -> int:
        """The per-tensor zero point."""
        return int(self.zero_point[0])


@dataclass
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: str  # a key of DTYPES
    quant: Quant | None = None
    data: np.ndarray | None = None  # constant value, None for activations

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        return self.size * np.dtype(DTYPES[self.dtype]).itemsize


# ---- typed operator options -------------------------------------------------


@dataclass
class ConvOptions:
    """CONV_2D, DEPTHWISE_CONV_2D and TRANSPOSE_CONV."""

    stride_h: int = 1
    stride_w: int = 1
    padding: str = "VALID"  # "SAME" or "VALID"
    dilation_h: int = 1
    dilation_w: int = 1
    activation: str = "NONE"
    depth_multiplier: int = 1  # depthwise only


@dataclass
class PoolOptions:
    filter_h: int = 1
    filter_w: int = 1
    stride_h: int = 1
    stride_w: int = 1
    padding: str = "VALID"
    activation: str = "NONE"


@dataclass
class FullyConnectedOptions:
    activation: str = "NONE"
    keep_num_dims: bool = False


@dataclass
class ElementwiseOptions:
    """ADD, SUB, MUL."""

    activation: str = "NONE"


@dataclass
class ConcatOptions:
    axis: int = 0
    activation: str = "NONE"


@dataclass
class AxisOptions:
    """SPLIT / SPLIT_V (axis comes from a constant input, resolved here)."""

    axis: int = 0
    num_splits: int = 1
    size_splits: tuple[int, ...] = ()


@dataclass
class ReduceOptions:
    """MEAN: axes resolved from the constant axis input."""

    axes: tuple[int, ...] = ()
    keep_dims: bool = False


@dataclass
class StridedSliceOptions:
    """Resolved to plain per-dimension begin/end/stride on the input shape."""

    begin: tuple[int, ...] = ()
    end: tuple[int, ...] = ()
    strides: tuple[int, ...] = ()
    shrink_axis_mask: int = 0
    # the raw TFLite masks, kept so a writer can emit the op back unchanged
    begin_mask: int = 0
    end_mask: int = 0
    ellipsis_mask: int = 0
    new_axis_mask: int = 0
    offset: bool = False


@dataclass
class PadOptions:
    paddings: tuple[tuple[int, int], ...] = ()


@dataclass
class SoftmaxOptions:
    beta: float = 1.0


@dataclass
class LeakyReluOptions:
    alpha: float = 0.2


@dataclass
class NoOptions:
    pass


@dataclass
class Operator:
    kind: str  # TFLite builtin name, e.g. "CONV_2D"
    inputs: list[int]  # tensor indices; -1 marks an absent optional input
    outputs: list[int]
    options: Any = field(default_factory=NoOptions)
    name: str = ""  # for reports; usually the first output's name


@dataclass
class Graph:
    tensors: list[Tensor]
    operators: list[Operator]
    inputs: list[int]
    outputs: list[int]
    name: str = "model"

    def t(self, index: int) -> Tensor:
        return self.tensors[index]

    def op_inputs(self, op: Operator) -> list[Tensor | None]:
        return [self.tensors[i] if i >= 0 else None for i in op.inputs]

    def op_outputs(self, op: Operator) -> list[Tensor]:
        return [self.tensors[i] for i in op.outputs]

    def add_tensor(self, tensor: Tensor) -> int:
        self.tensors.append(tensor)
        return len(self.tensors) - 1

    def consumers(self, index: int) -> list[int]:
        """Operator indices that read tensor `index`."""
        return [k for k, op in enumerate(self.operators) if index in op.inputs]

    def producer(self, index: int) -> int | None:
        for k, op in enumerate(self.operators):
            if index in op.outputs:
                return k
        return None

    def activation_tensors(self) -> list[int]:
        """Non-constant tensors that some operator or the graph uses."""
        used = set(self.inputs) | set(self.outputs)
        for op in self.operators:
            used.update(i for i in op.inputs if i >= 0)
            used.update(op.outputs)
        return sorted(i for i in used if not self.tensors[i].is_const)


# ---- geometry helpers shared by frontend, reference and codegen -------------


def conv_output_size(size: int, kernel: int, stride: int, dilation: int, padding: str) -> int:
    effective = (kernel - 1) * dilation + 1
    if padding == "SAME":
        return (size + stride - 1) // stride
    return (size - effective + stride) // stride


def conv_padding(size: int, kernel: int, stride: int, dilation: int, padding: str) -> int:
    """Leading padding, as TFLite's ComputePaddingHeightWidth computes it."""
    out = conv_output_size(size, kernel, stride, dilation, padding)
    effective = (kernel - 1) * dilation + 1
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2


# ---- validation --------------------------------------------------------------


def validate(graph: Graph) -> None:
    """Checks the invariants every later stage relies on."""
    n = len(graph.tensors)
    for i in graph.inputs + graph.outputs:
        if not 0 <= i < n:
            raise UnsupportedModelError(f"graph input/output refers to tensor {i}, but the model has {n} tensors")
    produced = set(graph.inputs)
    for k, op in enumerate(graph.operators):
        where = f"operator {k} ({op.kind})"
        for i in op.inputs + op.outputs:
            if i >= n or i < -1:
                raise UnsupportedModelError(f"{where} refers to tensor {i}, but the model has {n} tensors")
        for i in op.inputs:
            if i >= 0 and not graph.tensors[i].is_const and i not in produced:
                raise UnsupportedModelError(f"{where} reads tensor '{graph.tensors[i].name}' before any operator writes it")
        for i in op.outputs:
            t = graph.tensors[i]
            if t.is_const:
                raise UnsupportedModelError(f"{where} writes into constant tensor '{t.name}'")
            produced.add(i)
        for t in graph.op_inputs(op) + graph.op_outputs(op):
            if t is None:
                continue
            if any(d <= 0 for d in t.shape):
                raise UnsupportedModelError(f"{where}: tensor '{t.name}' has shape {list(t.shape)}; mcugen needs static, positive shapes")
            if t.data is not None and t.data.shape != tuple(t.shape):
                raise UnsupportedModelError(f"{where}: constant '{t.name}' holds {t.data.shape} values for shape {t.shape}")
            if t.quant is not None:
                q = t.quant
                if q.scale.shape != q.zero_point.shape:
                    raise UnsupportedModelError(f"tensor '{t.name}': {q.scale.size} scales but {q.zero_point.size} zero points")
                if q.axis is not None and (q.axis >= len(t.shape) or t.shape[q.axis] != q.scale.size):
                    raise UnsupportedModelError(f"tensor '{t.name}': per-channel quantization along axis {q.axis} has {q.scale.size} scales for shape {list(t.shape)}")
                if not np.all(np.isfinite(q.scale)) or np.any(q.scale <= 0):
                    raise UnsupportedModelError(f"tensor '{t.name}' has a non-positive or non-finite quantization scale")
    for i in graph.outputs:
        if i not in produced and not graph.tensors[i].is_const:
            raise UnsupportedModelError(f"graph output '{graph.tensors[i].name}' is never written")
