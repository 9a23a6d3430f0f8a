"""Deep-compression fixtures: pruned and clustered MLP and LeNet-5 (int8).

The models in tests/fixtures/compressed were pruned and clustered by
tensorflow-model-optimization and converted by the real TFLite converter
(tools/make_compressed_fixtures.py; TensorFlow is never imported here).
These tests pin three things: mcugen.reference matches the committed TFLM
outputs bit for bit; the weight structure mcugen's compression passes must
detect (exact zeros, few distinct values per channel) is really in the
weights mcugen's frontend reads, and equals what manifest.json records; the
int8 models still classify digits.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mcugen import ir
from mcugen.frontend import load
from mcugen.reference import run

HERE = Path(__file__).parent / "fixtures" / "compressed"
NAMES = [f"{arch}_{variant}" for arch in ("mlp", "lenet")
         for variant in ("dense", "prune50", "prune80", "prune92", "cluster32", "cluster16", "cluster4",
                         "prune92_cluster32")]
WEIGHTED = ("CONV_2D", "FULLY_CONNECTED", "DEPTHWISE_CONV_2D")
# tfmot prunes each kernel to the target exactly, up to rounding the count
DENSITY_TOL = 0.002


def _manifest() -> dict:
    return json.loads((HERE / "manifest.json").read_text())


def _arrays(name: str) -> dict[str, np.ndarray]:
    with np.load(HERE / f"{name}.npz") as d:
        return {k: d[k] for k in d.files}


def _recipe(name: str) -> tuple[float | None, int | None]:
    """(sparsity, clusters) read from the model's name, not from the manifest."""
    sparsity = clusters = None
    for part in name.split("_")[1:]:
        if part.startswith("prune"):
            sparsity = int(part[5:]) / 100
        elif part.startswith("cluster"):
            clusters = int(part[7:])
    return sparsity, clusters


def _weights(graph: ir.Graph) -> list[tuple[ir.Operator, ir.Tensor]]:
    return [(op, graph.op_inputs(op)[1]) for op in graph.operators if op.kind in WEIGHTED]


def _stats(t: ir.Tensor) -> dict:
    q = t.data
    rows = q.reshape(q.shape[0], -1)  # output channel first for CONV_2D and FULLY_CONNECTED
    return dict(
        shape=list(q.shape),
        quantization="per-channel" if t.quant.per_channel else "per-tensor",
        zero_points_all_zero=bool(np.all(t.quant.zero_point == 0)),
        int8_density=round(float(np.count_nonzero(q)) / q.size, 6),
        all_zero_channels=int(np.sum(~np.any(rows != 0, axis=1))),
        int8_distinct=int(np.unique(q).size),
        int8_max_distinct_per_channel=max(int(np.unique(r).size) for r in rows),
    )


def test_folder_is_complete_and_small():
    man = _manifest()
    readme = (HERE / "README.md").read_text()
    for name in NAMES:
        assert (HERE / f"{name}.tflite").exists() and (HERE / f"{name}.npz").exists(), name
        assert name in man["models"], f"manifest.json has no entry for {name}"
        assert f"| {name} |" in readme, f"README.md has no row for {name}"
        size = (HERE / f"{name}.tflite").stat().st_size
        assert size < 300_000 and size == man["models"][name]["bytes"], (name, size)
    total = sum(p.stat().st_size for p in HERE.iterdir())
    assert total < 3_100_000, f"fixture folder is {total} bytes"


@pytest.mark.parametrize("name", NAMES)
def test_samples_match_model(name):
    graph = load(HERE / f"{name}.tflite")
    data = _arrays(name)
    assert set(data) == {"input_0", "output_0", "label"}
    (i,), (o,) = graph.inputs, graph.outputs
    assert data["input_0"].shape == (20, *graph.tensors[i].shape) and data["input_0"].dtype == np.int8
    assert data["output_0"].shape == (20, *graph.tensors[o].shape) and data["output_0"].dtype == np.int8
    assert data["label"].shape == (20,) and set(data["label"]) <= set(range(10))


@pytest.mark.parametrize("name", NAMES)
def test_reference_bit_exact_against_tflm(name):
    graph = load(HERE / f"{name}.tflite")
    data = _arrays(name)
    bad = []
    for s, (x, want) in enumerate(zip(data["input_0"], data["output_0"])):
        got = np.asarray(run(graph, [x])[0])
        if got.dtype != want.dtype or not np.array_equal(got, want):
            diff = np.abs(got.astype(np.int32) - want.astype(np.int32))
            bad.append(f"sample {s}: {int(np.sum(diff != 0))}/{want.size} differ, max {int(diff.max())}")
    assert not bad, f"{name} vs TFLM: " + "; ".join(bad)


@pytest.mark.parametrize("name", NAMES)
def test_weight_structure_equals_manifest(name):
    graph = load(HERE / f"{name}.tflite")
    recorded = _manifest()["models"][name]["tensors"]
    weights = _weights(graph)
    assert len(weights) == len(recorded)
    for (op, t), rec in zip(weights, recorded):
        assert op.kind == rec["op"]
        got = _stats(t)
        want = {k: rec[k] for k in got}
        assert got == want, f"{name} {rec['layer']}"
        # symmetric int8 weights: a pruned (0.0) float weight can only be int8 0
        assert got["zero_points_all_zero"] and rec["float_zeros_kept"], f"{name} {rec['layer']}"


@pytest.mark.parametrize("name", NAMES)
def test_compression_structure_is_in_the_weights(name):
    sparsity, clusters = _recipe(name)
    graph = load(HERE / f"{name}.tflite")
    for op, t in _weights(graph):
        s = _stats(t)
        where = f"{name} {t.name} {s['shape']}"
        if sparsity is not None:
            assert abs(s["int8_density"] - (1 - sparsity)) <= DENSITY_TOL, where
        elif clusters is None:
            assert s["int8_density"] > 0.95, where
        if clusters is not None:
            # per-channel scales turn k float centroids into up to k int8 values per channel
            assert s["int8_max_distinct_per_channel"] <= clusters, where
        elif t.size >= 1000:
            # so the bound above is not vacuous: unclustered tensors this size have many more values
            assert s["int8_distinct"] > 32, where


def test_pruning_leaves_all_zero_channels():
    # an output channel with no weights left gets a near-zero per-channel
    # scale, hence a huge int32 bias (up to -2**30): a corner the reference,
    # the kernels and a sparse format all have to survive
    found = {}
    for name in ("mlp_prune92", "lenet_prune92"):
        graph = load(HERE / f"{name}.tflite")
        for op, t in _weights(graph):
            rows = t.data.reshape(t.data.shape[0], -1)
            dead = ~np.any(rows != 0, axis=1)
            if dead.any():
                bias = graph.op_inputs(op)[2].data
                found[f"{name} {t.name}"] = int(np.max(np.abs(bias[dead].astype(np.int64))))
                assert np.max(t.quant.scale[dead]) < 1e-6 < np.min(t.quant.scale[~dead])
    assert found and max(found.values()) >= 2**30, found


@pytest.mark.parametrize("name", NAMES)
def test_int8_accuracy_close_to_float(name):
    m = _manifest()["models"][name]
    assert m["int8_accuracy"] >= m["float_accuracy"] - 0.02, m
    assert m["int8_accuracy"] >= 0.9, m
    data = _arrays(name)
    pred = np.argmax(data["output_0"].reshape(len(data["label"]), -1), axis=1)
    assert np.sum(pred == data["label"]) >= 17, f"{name}: {pred} vs {data['label']}"


def test_pruning_costs_little_and_clustering_less():
    models = _manifest()["models"]
    for arch in ("mlp", "lenet"):
        dense = models[f"{arch}_dense"]["int8_accuracy"]
        for variant in ("prune50", "prune80", "cluster32", "cluster16", "cluster4"):
            assert models[f"{arch}_{variant}"]["int8_accuracy"] >= dense - 0.015, (arch, variant)
        for variant in ("prune92", "prune92_cluster32"):
            assert models[f"{arch}_{variant}"]["int8_accuracy"] >= dense - 0.05, (arch, variant)
