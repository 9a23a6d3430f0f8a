"""The fixture zoo: small converter-made models with TFLM's outputs.

Every model in tests/fixtures/zoo runs through mcugen.reference and must
match TFLM bit-exactly. The zoo's README.md says what each model covers;
tools/make_fixtures.py regenerates it (with TensorFlow, never imported here).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mcugen import ir
from mcugen.frontend import SUPPORTED_OPS, load
from mcugen.reference import run

ZOO = Path(__file__).parent / "fixtures" / "zoo"
NAMES = sorted(p.stem for p in ZOO.glob("*.tflite"))

# Operators the TFLite converter never emits for an int8 model, so the zoo
# cannot hold a converter-made example. Empty: every supported op has one.
NOT_EMITTED_BY_CONVERTER: set[str] = set()


def _arrays(name: str) -> dict[str, np.ndarray]:
    with np.load(ZOO / f"{name}.npz") as data:
        return {k: data[k] for k in data.files}


def test_zoo_is_complete_and_small():
    assert len(NAMES) >= 35, f"only {len(NAMES)} models in {ZOO}"
    missing = [n for n in NAMES if not (ZOO / f"{n}.npz").exists()]
    assert not missing, f"models without reference outputs: {missing}"
    sizes = {n: (ZOO / f"{n}.tflite").stat().st_size for n in NAMES}
    big = {n: s for n, s in sizes.items() if s >= 100_000}
    assert not big, f"fixtures must stay under 100 KB: {big}"
    readme = (ZOO / "README.md").read_text()
    undocumented = [n for n in NAMES if f"| {n} |" not in readme]
    assert not undocumented, f"README.md has no row for {undocumented}"


def test_zoo_covers_every_supported_operator():
    kinds: set[str] = set()
    for name in NAMES:
        kinds |= {op.kind for op in load(ZOO / f"{name}.tflite").operators}
    missing = set(SUPPORTED_OPS) - kinds - NOT_EMITTED_BY_CONVERTER
    assert not missing, f"no zoo model contains {sorted(missing)}"


@pytest.mark.parametrize("name", NAMES)
def test_samples_match_model_signature(name):
    graph = load(ZOO / f"{name}.tflite")
    data = _arrays(name)
    expected = {f"input_{k}" for k in range(len(graph.inputs))} | {f"output_{k}" for k in range(len(graph.outputs))}
    assert set(data) == expected
    counts = {len(a) for a in data.values()}
    assert len(counts) == 1 and counts.pop() >= 1
    for prefix, indices in (("input", graph.inputs), ("output", graph.outputs)):
        for k, i in enumerate(indices):
            t = graph.tensors[i]
            a = data[f"{prefix}_{k}"]
            assert a.shape[1:] == tuple(t.shape), f"{prefix}_{k}: npz {a.shape[1:]} vs model {t.shape}"
            assert a.dtype == ir.DTYPES[t.dtype], f"{prefix}_{k}: npz {a.dtype} vs model {t.dtype}"


@pytest.mark.parametrize("name", NAMES)
def test_reference_bit_exact_against_tflm(name):
    graph = load(ZOO / f"{name}.tflite")
    data = _arrays(name)
    n_in, n_out = len(graph.inputs), len(graph.outputs)
    problems = []
    for s in range(len(data["input_0"])):
        got = run(graph, [data[f"input_{k}"][s] for k in range(n_in)])
        for k in range(n_out):
            want = data[f"output_{k}"][s]
            out = np.asarray(got[k])
            where = f"sample {s}, output_{k} ('{graph.tensors[graph.outputs[k]].name}')"
            if out.shape != want.shape or out.dtype != want.dtype:
                problems.append(f"{where}: got {out.dtype}{list(out.shape)}, TFLM gives {want.dtype}{list(want.shape)}")
                continue
            differ = out != want
            if differ.any():
                worst = np.max(np.abs(out.astype(np.float64) - want.astype(np.float64)))
                problems.append(f"{where}: {int(differ.sum())} of {want.size} elements differ from TFLM, max |diff| {worst:g}")
    assert not problems, f"{name}:\n" + "\n".join(problems)
