"""Executes the IR operator by operator with TFLM's reference arithmetic.

Kernels live in small modules by operator family; each exports KERNELS, a
dict from TFLite operator name to `fn(ctx, inputs) -> list[np.ndarray]`.
`inputs` holds one array per operator input (constant data or a computed
activation, None for an absent optional input), each with the tensor's
full shape and dtype.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import ir
from ..errors import InputError, UnsupportedModelError
from . import activations, conv, elementwise, pooling, quantize, shape_ops

ROUNDINGS = ("double", "single")

KERNELS: dict = {}
for _module in (conv, pooling, elementwise, activations, quantize, shape_ops):
    KERNELS.update(_module.KERNELS)


@dataclass
class KernelContext:
    graph: ir.Graph
    op: ir.Operator
    # "double": TFLM's MultiplyByQuantizedMultiplier (two roundings);
    # "single": TFLITE_SINGLE_ROUNDING as in newer TFLite/LiteRT builds.
    rounding: str = "double"

    def tin(self, k: int) -> ir.Tensor | None:
        i = self.op.inputs[k] if k < len(self.op.inputs) else -1
        return self.graph.tensors[i] if i >= 0 else None

    def tout(self, k: int = 0) -> ir.Tensor:
        return self.graph.tensors[self.op.outputs[k]]


def run(graph: ir.Graph, inputs: list[np.ndarray], rounding: str = "double",
        keep_intermediates: bool = False):
    """One sample. Returns the list of outputs, plus a dict tensor index ->
    value of every tensor computed when keep_intermediates is set."""
    if rounding not in ROUNDINGS:
        raise InputError(f"rounding must be one of {ROUNDINGS}, not '{rounding}'")
    if len(inputs) != len(graph.inputs):
        raise InputError(f"model has {len(graph.inputs)} inputs, {len(inputs)} given")
    values: dict[int, np.ndarray] = {}
    for i, x in zip(graph.inputs, inputs):
        t = graph.tensors[i]
        x = np.asarray(x)
        if x.shape != tuple(t.shape):
            raise InputError(f"input '{t.name}' needs shape {list(t.shape)}, got {list(x.shape)}")
        values[i] = x.astype(ir.DTYPES[t.dtype], copy=False)
    for op in graph.operators:
        kernel = KERNELS.get(op.kind)
        if kernel is None:
            raise UnsupportedModelError(f"the reference interpreter has no kernel for {op.kind}")
        args = []
        for i in op.inputs:
            if i < 0:
                args.append(None)
            elif graph.tensors[i].is_const:
                args.append(graph.tensors[i].data)
            else:
                args.append(values[i])
        outs = kernel(KernelContext(graph, op, rounding), args)
        for i, y in zip(op.outputs, outs):
            t = graph.tensors[i]
            assert y.shape == tuple(t.shape) and y.dtype == ir.DTYPES[t.dtype], (op.kind, t.name, y.shape, y.dtype, t.shape, t.dtype)
            values[i] = y
    outputs = [values[i] if i in values else graph.tensors[i].data for i in graph.outputs]
    if keep_intermediates:
        return outputs, values
    return outputs


def run_batch(graph: ir.Graph, batch: list[np.ndarray], rounding: str = "double") -> list[np.ndarray]:
    """`batch[k]` stacks N samples of input k on a new first axis; returns
    the outputs stacked the same way."""
    n = {len(b) for b in batch}
    if len(n) != 1:
        raise InputError(f"every input needs the same number of samples, got {sorted(n)}")
    per_sample = [run(graph, [b[s] for b in batch], rounding) for s in range(n.pop())]
    return [np.stack([o[k] for o in per_sample]) for k in range(len(graph.outputs))]
