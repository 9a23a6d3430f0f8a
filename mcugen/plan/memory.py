"""Static memory plan: every activation, and every operator's scratch, gets a
fixed offset in one arena.

Buffers are alias groups of tensors that share bytes: a RESHAPE/SQUEEZE
output is its input, and an operator that may run in place (the caller says
which, from the kernel chosen) writes over an input that dies there.
Offsets come from TFLM-style greedy placement: largest buffer first, each at
the lowest-waste gap among the buffers whose lifetimes overlap its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import ir

ALIAS_OPS = ("RESHAPE", "SQUEEZE")


@dataclass
class Buffer:
    tensors: list[int]  # tensor indices sharing these bytes (empty for scratch)
    size: int
    first: int  # first operator step that writes it (-1: graph input)
    last: int  # last operator step that reads it (len(ops): graph output)
    offset: int = -1
    scratch_of: int | None = None  # operator index, for scratch buffers


@dataclass
class MemoryPlan:
    arena_bytes: int
    buffers: list[Buffer]
    tensor_offset: dict[int, int] = field(default_factory=dict)  # tensor index -> arena offset
    scratch_offset: dict[int, int] = field(default_factory=dict)  # op index -> arena offset
    alignment: int = 4

    def offset_of(self, tensor: int) -> int:
        return self.tensor_offset[tensor]


def _align(n: int, a: int) -> int:
    return (n + a - 1) // a * a


def plan_memory(graph: ir.Graph, scratch: dict[int, int] | None = None,
                inplace: dict[int, int] | None = None, alignment: int = 4) -> MemoryPlan:
    """`scratch`: operator index -> scratch bytes it needs while it runs.
    `inplace`: operator index -> input position k whose buffer the output
    may reuse (legal only if that input dies at this operator and has the
    output's size; checked here)."""
    scratch = scratch or {}
    inplace = inplace or {}
    nops = len(graph.operators)

    # alias groups, union-find over tensor indices
    parent: dict[int, int] = {}

    def find(i: int) -> int:
        while parent.get(i, i) != i:
            i = parent[i]
        return i

    def union(keep: int, other: int) -> None:
        parent[find(other)] = find(keep)

    acts = graph.activation_tensors()
    for i in acts:
        parent[i] = i
    first = {i: nops for i in acts}
    last = {i: -1 for i in acts}
    for i in graph.inputs:
        first[i] = -1
    for k, op in enumerate(graph.operators):
        for i in op.inputs:
            if i in last:
                last[i] = max(last[i], k)
        for i in op.outputs:
            first[i] = min(first[i], k)
    for i in graph.outputs:
        if i in last:
            last[i] = nops

    def group_last(root: int) -> int:
        return max(last[i] for i in acts if find(i) == root)

    def group_first(root: int) -> int:
        return min(first[i] for i in acts if find(i) == root)

    for k, op in enumerate(graph.operators):
        src = op.inputs[0] if op.inputs else -1
        out = op.outputs[0] if op.outputs else -1
        if src < 0 or src not in parent or out not in parent:
            continue
        if op.kind in ALIAS_OPS:
            if graph.t(src).nbytes == graph.t(out).nbytes:
                union(src, out)
            continue
        if k in inplace:
            src = op.inputs[inplace[k]]
            if (src in parent and graph.t(src).nbytes == graph.t(out).nbytes
                    and group_last(find(src)) == k and group_first(find(src)) >= -1
                    and find(src) != find(out)):
                union(src, out)

    groups: dict[int, list[int]] = {}
    for i in acts:
        groups.setdefault(find(i), []).append(i)
    buffers = []
    for root, members in groups.items():
        size = max(graph.t(i).nbytes for i in members)
        buffers.append(Buffer(tensors=sorted(members), size=size,
                              first=min(first[i] for i in members), last=max(last[i] for i in members)))
    for k, nbytes in scratch.items():
        if nbytes > 0:
            buffers.append(Buffer(tensors=[], size=nbytes, first=k, last=k, scratch_of=k))

    _place(buffers, alignment)
    arena = max((b.offset + b.size for b in buffers), default=0)
    plan = MemoryPlan(arena_bytes=_align(arena, alignment), buffers=buffers, alignment=alignment)
    for b in buffers:
        for i in b.tensors:
            plan.tensor_offset[i] = b.offset
        if b.scratch_of is not None:
            plan.scratch_offset[b.scratch_of] = b.offset
    check_plan(graph, plan)
    return plan


# Greedy placement is order-sensitive: largest-first wins on residual nets,
# first-use-first on long chains (MobileNet). Plans are cheap, so try each
# order and keep the smallest; stop early at the live-set lower bound.
_ORDERS = (
    lambda b: (-b.size, b.first),
    lambda b: (b.first, -b.size),
    lambda b: (-b.size * (b.last - b.first + 1), b.first),
    lambda b: (-(b.last - b.first), -b.size),
)


def live_peak(buffers: list[Buffer]) -> int:
    """The largest total size of buffers alive at one step: no plan beats it."""
    steps = {s for b in buffers for s in (b.first, b.last)}
    return max((sum(b.size for b in buffers if b.first <= s <= b.last) for s in steps), default=0)


def _place(buffers: list[Buffer], alignment: int) -> None:
    bound = live_peak(buffers)
    best_offsets, best_end = None, None
    for key in _ORDERS:
        order = sorted(range(len(buffers)), key=lambda j: (key(buffers[j]), j))
        end = _place_in_order(buffers, order, alignment)
        if best_end is None or end < best_end:
            best_end, best_offsets = end, [b.offset for b in buffers]
        if end <= bound:
            break
    for b, off in zip(buffers, best_offsets or []):
        b.offset = off


def _place_in_order(buffers: list[Buffer], order: list[int], alignment: int) -> int:
    placed: list[Buffer] = []
    for j in order:
        b = buffers[j]
        live = sorted((p for p in placed if p.first <= b.last and b.first <= p.last), key=lambda p: p.offset)
        best, best_waste, cursor = None, None, 0
        for p in live:
            gap = p.offset - cursor
            if gap >= b.size and (best_waste is None or gap - b.size < best_waste):
                best, best_waste = cursor, gap - b.size
            cursor = max(cursor, _align(p.offset + p.size, alignment))
        b.offset = best if best is not None else cursor
        placed.append(b)
    return max((b.offset + b.size for b in buffers), default=0)


def check_plan(graph: ir.Graph, plan: MemoryPlan) -> None:
    """No two buffers alive at the same step overlap in the arena."""
    bs = plan.buffers
    for a in range(len(bs)):
        for c in range(a + 1, len(bs)):
            x, y = bs[a], bs[c]
            if x.first <= y.last and y.first <= x.last:
                if x.offset < y.offset + y.size and y.offset < x.offset + x.size:
                    raise AssertionError(f"memory plan overlap: {x} / {y}")
