"""Per-operator figures every report needs: MACs, constant and activation bytes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import ir


def macs(graph: ir.Graph, op: ir.Operator) -> int:
    """Multiply-accumulates of one inference of `op` (0 for non-MAC operators)."""
    if op.kind == "CONV_2D":
        w = graph.t(op.inputs[1])
        return graph.t(op.outputs[0]).size * int(np.prod(w.shape[1:]))
    if op.kind == "DEPTHWISE_CONV_2D":
        w = graph.t(op.inputs[1])
        return graph.t(op.outputs[0]).size * w.shape[1] * w.shape[2]
    if op.kind == "FULLY_CONNECTED":
        w = graph.t(op.inputs[1])
        rows = graph.t(op.inputs[0]).size // w.shape[1]
        return rows * w.shape[0] * w.shape[1]
    if op.kind == "TRANSPOSE_CONV":
        w = graph.t(op.inputs[1])  # [out_c, kh, kw, in_c]
        return graph.t(op.inputs[2]).size * w.shape[0] * w.shape[1] * w.shape[2]
    return 0


def const_bytes(graph: ir.Graph, op: ir.Operator) -> int:
    """Bytes of the constant inputs (weights, bias) the operator computes with.

    Shape-only constants (RESHAPE's shape, PAD's paddings, axes) are folded
    into code and do not count.
    """
    if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
        idx = op.inputs[1:3]
    elif op.kind == "TRANSPOSE_CONV":
        idx = op.inputs[1:2] + op.inputs[3:4]
    else:
        idx = [i for i in op.inputs if i >= 0 and graph.t(i).is_const and graph.t(i).dtype == "int8"]
    return sum(graph.t(i).nbytes for i in idx if i >= 0 and graph.t(i).is_const)


@dataclass
class LayerStats:
    index: int
    kind: str
    inputs: list[tuple[int, ...]]
    output: list[tuple[int, ...]]
    options: str
    macs: int
    weight_bytes: int
    activation_bytes: int


def _options_text(op: ir.Operator) -> str:
    o = op.options
    if isinstance(o, ir.ConvOptions):
        s = f"s{o.stride_h}x{o.stride_w} {o.padding}"
        if (o.dilation_h, o.dilation_w) != (1, 1):
            s += f" d{o.dilation_h}x{o.dilation_w}"
        if op.kind == "DEPTHWISE_CONV_2D" and o.depth_multiplier != 1:
            s += f" dm{o.depth_multiplier}"
        return s + ("" if o.activation == "NONE" else f" {o.activation}")
    if isinstance(o, ir.PoolOptions):
        return f"{o.filter_h}x{o.filter_w} s{o.stride_h}x{o.stride_w} {o.padding}" + ("" if o.activation == "NONE" else f" {o.activation}")
    if isinstance(o, (ir.FullyConnectedOptions, ir.ElementwiseOptions)):
        s = "" if o.activation == "NONE" else o.activation
        if isinstance(o, ir.FullyConnectedOptions) and o.keep_num_dims:
            s += " keep_num_dims"
        return s.strip()
    if isinstance(o, ir.ConcatOptions):
        return f"axis {o.axis}"
    if isinstance(o, ir.AxisOptions):
        return f"axis {o.axis} x{o.num_splits}"
    if isinstance(o, ir.ReduceOptions):
        return f"axes {list(o.axes)}" + (" keep_dims" if o.keep_dims else "")
    if isinstance(o, ir.SoftmaxOptions):
        return "" if o.beta == 1.0 else f"beta {o.beta:g}"
    if isinstance(o, ir.LeakyReluOptions):
        return f"alpha {o.alpha:g}"
    return ""


def layer_stats(graph: ir.Graph) -> list[LayerStats]:
    rows = []
    for k, op in enumerate(graph.operators):
        ins = [graph.t(i).shape for i in op.inputs if i >= 0 and not graph.t(i).is_const]
        outs = [graph.t(i).shape for i in op.outputs]
        rows.append(LayerStats(k, op.kind, ins, outs, _options_text(op), macs(graph, op),
                               const_bytes(graph, op), sum(graph.t(i).nbytes for i in op.outputs)))
    return rows


def format_table(headers: list[str], rows: list[list[object]], right: set[int] | None = None) -> str:
    """Plain-text table; columns in `right` are right-aligned (numbers)."""
    right = right or set()
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[j]) for r in cells) for j in range(len(headers))]
    lines = []
    for n, r in enumerate(cells):
        lines.append("  ".join(c.rjust(widths[j]) if j in right else c.ljust(widths[j]) for j, c in enumerate(r)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def inspect_text(graph: ir.Graph) -> str:
    rows = layer_stats(graph)

    def shp(shapes):
        return " ".join("x".join(str(d) for d in s) for s in shapes)

    table = format_table(
        ["#", "op", "input", "output", "options", "MACs", "weight B", "act B"],
        [[r.index, r.kind, shp(r.inputs), shp(r.output), r.options, f"{r.macs:,}", f"{r.weight_bytes:,}", f"{r.activation_bytes:,}"] for r in rows],
        right={0, 5, 6, 7})
    ins = ", ".join(f"{graph.t(i).name} {graph.t(i).dtype}{list(graph.t(i).shape)}" for i in graph.inputs)
    outs = ", ".join(f"{graph.t(i).name} {graph.t(i).dtype}{list(graph.t(i).shape)}" for i in graph.outputs)
    total_w = sum(r.weight_bytes for r in rows)
    total_m = sum(r.macs for r in rows)
    total_a = sum(r.activation_bytes for r in rows)
    return (f"model {graph.name}: {len(graph.operators)} operators, {len(graph.tensors)} tensors\n"
            f"inputs: {ins}\noutputs: {outs}\n\n{table}\n\n"
            f"total: {total_m:,} MACs, {total_w:,} weight bytes, {total_a:,} activation bytes (sum of outputs)")
