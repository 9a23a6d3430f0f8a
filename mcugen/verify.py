"""Compares engines on one batch and locates the first operator that differs."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import ir, reference


@dataclass
class Comparison:
    engine: str
    against: str
    samples: int
    mismatched_samples: int
    differing_elements: int
    max_abs_diff: float
    first_bad: str = ""  # first differing operator, when located

    @property
    def ok(self) -> bool:
        return self.mismatched_samples == 0


def compare(engine: str, got: list[np.ndarray], against: str, want: list[np.ndarray]) -> Comparison:
    n = len(got[0]) if got else 0
    bad = np.zeros(n, dtype=bool)
    elems, maxd = 0, 0.0
    for g, w in zip(got, want):
        g64, w64 = g.astype(np.float64), w.astype(np.float64)
        diff = g64 != w64
        bad |= diff.reshape(n, -1).any(axis=1)
        elems += int(diff.sum())
        if diff.any():
            maxd = max(maxd, float(np.abs(g64 - w64)[diff].max()))
    return Comparison(engine, against, n, int(bad.sum()), elems, maxd)


@dataclass
class LayerDiff:
    index: int
    kind: str
    tensor: str
    differing: int
    size: int
    max_abs_diff: int

    def __str__(self) -> str:
        return (f"first differing operator: {self.index} ({self.kind}), output '{self.tensor}': "
                f"{self.differing} of {self.size} elements differ, largest difference {self.max_abs_diff}")


def first_difference(graph: ir.Graph, traced: dict[tuple[int, int], bytes], sample: list[np.ndarray],
                     rounding: str = "double") -> LayerDiff | None:
    """Walks operators in order, comparing a trace build's outputs with the
    reference's intermediates."""
    _, values = reference.run(graph, sample, rounding=rounding, keep_intermediates=True)
    for k, op in enumerate(graph.operators):
        for j, i in enumerate(op.outputs):
            t = graph.t(i)
            if (k, j) not in traced:
                continue
            got = np.frombuffer(traced[(k, j)], dtype=ir.DTYPES[t.dtype]).reshape(t.shape)
            want = values[i]
            d = got != want
            if d.any():
                return LayerDiff(k, op.kind, t.name, int(d.sum()), t.size,
                                 int(np.abs(got.astype(np.int64) - want.astype(np.int64))[d].max()))
    return None
