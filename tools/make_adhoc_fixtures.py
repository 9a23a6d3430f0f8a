"""Dev-only: builds tests/fixtures/adhoc, small int8 models that pin the
activation, quantization and data-movement kernels to TFLM bit for bit.

Each model is a tf.function converted by the real TFLite converter (full
integer int8, seeded representative data); a few are then edited in the
flatbuffer to reach corners the converter never writes (softmax beta != 1
and huge beta, concatenation inputs with foreign scales). TFLM (the
`tflite_micro` package, also installed in the TF venv) computes the
reference outputs, saved as NAME.npz beside NAME.tflite:
in{k} / out{k} hold N samples stacked on a new first axis.

    /tmp/tfvenv/bin/python tools/make_adhoc_fixtures.py [NAME ...]

Tests never import this module or TensorFlow.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "adhoc"
N_RANDOM = 6
N_REP = 48

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

CASES = {}


def case(name, specs, ranges, io="int8", edit=None, rejected=False):
    """specs: input shapes; ranges: (lo, hi) of the representative data per input."""
    def wrap(fn):
        CASES[name] = dict(fn=fn, specs=specs, ranges=ranges, io=io, edit=edit, rejected=rejected)
        return fn
    return wrap


# ---- models -------------------------------------------------------------------------
# Each builder receives the tensorflow module and returns a tf.function body.

@case("softmax", [(1, 10), (1, 3, 16), (2, 5)], [(-0.5, 0.5), (-20, 20), (-200, 200)])
def _softmax(tf):
    return lambda a, b, c: (tf.nn.softmax(a), tf.nn.softmax(b), tf.nn.softmax(c))


def _edit_softmax_beta(model, fbu, schema):
    # beta 0.5 on a small scale, 3 on a medium one, 100 on a large one (the
    # last saturates PreprocessSoftmaxScaling's multiplier cap)
    betas = iter([0.5, 3.0, 100.0])
    for op in _ops(model, schema, "SOFTMAX"):
        op.builtinOptions.beta = next(betas)


@case("softmax_long_rows", [(4, 300), (1, 1, 2, 1000)], [(-6, 6), (-1, 1)])
def _softmax_long(tf):
    return lambda a, b: (tf.nn.softmax(a), tf.nn.softmax(b))


@case("softmax_beta", [(1, 10), (1, 3, 16), (2, 5)], [(-0.5, 0.5), (-20, 20), (-200, 200)], edit=_edit_softmax_beta)
def _softmax_beta(tf):
    return _softmax(tf)


@case("sigmoid_tanh", [(1, 8, 8), (1, 64), (1, 4, 4, 4)], [(-1, 1), (-8, 8), (-60, 60)])
def _sigmoid_tanh(tf):
    return lambda a, b, c: (tf.math.sigmoid(a), tf.math.tanh(a), tf.math.sigmoid(b), tf.math.tanh(b),
                            tf.math.sigmoid(c), tf.math.tanh(c))


@case("hard_swish", [(1, 40), (1, 5, 8), (1, 2, 3, 16)], [(-0.5, 0.5), (-5, 5), (-50, 60)])
def _hard_swish(tf):
    hs = lambda x: x * tf.nn.relu6(x + 3.0) / 6.0  # noqa: E731  (the converter fuses it)
    return lambda a, b, c: (hs(a), hs(b), hs(c))


@case("leaky_relu", [(1, 6, 6), (1, 30), (1, 2, 2, 8)], [(-4, 4), (-30, 10), (-2, 6)])
def _leaky_relu(tf):
    return lambda a, b, c: (tf.nn.leaky_relu(a, 0.2), tf.nn.leaky_relu(b, 0.01), tf.nn.leaky_relu(c, 1.5))


def _edit_leaky_alpha(model, fbu, schema):
    # a negative alpha makes a negative alpha multiplier
    _ops(model, schema, "LEAKY_RELU")[1].builtinOptions.alpha = -0.3


@case("leaky_relu_negative_alpha", [(1, 6, 6), (1, 30), (1, 2, 2, 8)], [(-4, 4), (-30, 10), (-2, 6)],
      edit=_edit_leaky_alpha)
def _leaky_relu_neg(tf):
    return _leaky_relu(tf)


@case("relu_relu6", [(1, 16), (1, 4, 8), (1, 3, 3, 4), (1, 20)], [(-2, 2), (1, 5), (-10, 10), (-3, 3)])
def _relu_relu6(tf):
    return lambda a, b, c, d: (tf.nn.relu(a), tf.nn.relu(b), tf.nn.relu6(c), tf.nn.relu6(d))


@case("quantize_float_io", [(1, 32), (1, 4, 6)], [(-4, 4), (-100, 50)], io="float32")
def _quantize_float_io(tf):
    return lambda a, b: (tf.nn.relu(a), tf.math.tanh(b))


@case("concat", [(1, 4, 4, 3), (1, 4, 4, 5), (1, 2, 6), (1, 3, 6)], [(-1, 1), (-10, 10), (-3, 3), (-3, 3)])
def _concat(tf):
    return lambda a, b, c, d: (tf.concat([a, b], axis=-1), tf.concat([c, d], axis=1), tf.concat([d, d, c], axis=1))


@case("requantize", [(1, 8), (1, 8), (1, 3, 5)], [(-4, 4), (-10, 10), (-2, 2)])
def _requantize(tf):
    # a fixed-scale producer (LOGISTIC: 1/256) feeding a concatenation with a
    # wider input makes the converter insert int8 -> int8 QUANTIZE ops
    return lambda a, b, c: (tf.concat([tf.math.sigmoid(a), b], axis=1),
                            tf.concat([tf.math.tanh(c), tf.nn.relu(c)], axis=2))


def _edit_concat_scales(model, fbu, schema):
    # give the first concatenation's inputs foreign scales and zero points:
    # TFLM's Prepare rejects that, and so must we (no .npz for this model)
    sg = model.subgraphs[0]
    op = _ops(model, schema, "CONCATENATION")[0]
    for k, t in enumerate(op.inputs):
        q = sg.tensors[t].quantization
        q.scale = [float(np.float32(q.scale[0] * (1.7 + k)))]
        q.zeroPoint = [int(q.zeroPoint[0]) + 5 * (k + 1)]


@case("concat_foreign_scales", [(1, 4, 4, 3), (1, 4, 4, 5), (1, 2, 6), (1, 3, 6)],
      [(-1, 1), (-10, 10), (-3, 3), (-3, 3)], edit=_edit_concat_scales, rejected=True)
def _concat_foreign(tf):
    return _concat(tf)


@case("split", [(1, 6, 4, 6), (2, 10)], [(-2, 2), (-1, 1)])
def _split(tf):
    def f(a, b):
        s1 = tf.split(a, 3, axis=1)
        s2 = tf.split(a, 2, axis=3)
        s3 = tf.split(a, [1, -1, 2], axis=3)
        s4 = tf.split(b, [3, 7], axis=1)
        s5 = tf.split(b, 2, axis=0)
        return tuple(s1) + tuple(s2) + tuple(s3) + tuple(s4) + tuple(s5)
    return f


@case("strided_slice", [(1, 6, 8, 4), (3, 10)], [(-2, 2), (-1, 1)])
def _strided_slice(tf):
    def f(a, b):
        return (a[:, ::-1, 1:7:2, :],
                a[:, 2, :, -3:],
                a[:, -2:0:-2, ::-3, 1],
                a[0, :, 5, ::2],
                a[:, 1:100, -100:3, :],
                a[:, 5:1:-1, -1:-9:-3, 3:0:-2],
                b[::-1, 2:9:3],
                b[1, ::-1],
                b[-1:, :-2])
    return f


@case("pad", [(1, 5, 5, 3), (1, 7), (1, 2, 3, 4)], [(-1, 3), (-5, 1), (-2, 2)])
def _pad(tf):
    return lambda a, b, c: (tf.pad(a, [[0, 0], [1, 2], [2, 1], [0, 0]]),
                            tf.pad(b, [[0, 0], [3, 0]]),
                            tf.pad(c, [[1, 0], [0, 2], [1, 1], [0, 1]], constant_values=1.5),
                            tf.pad(a, [[0, 0], [0, 0], [3, 0], [0, 2]], constant_values=-0.75))


@case("reshape_squeeze", [(1, 4, 1, 6), (1, 1, 12)], [(-1, 1), (-2, 2)])
def _reshape_squeeze(tf):
    return lambda a, b: (tf.nn.relu(tf.squeeze(a, axis=2)), tf.reshape(tf.nn.relu(a), (1, 24)),
                         tf.nn.relu(tf.reshape(b, (1, 3, 4))), tf.squeeze(tf.nn.relu(b), axis=[0, 1]))


# ---- conversion ---------------------------------------------------------------------


def _ops(model, schema, kind):
    code = getattr(schema.BuiltinOperator, kind)
    out = []
    for op in model.subgraphs[0].operators:
        oc = model.operatorCodes[op.opcodeIndex]
        if max(oc.builtinCode, oc.deprecatedBuiltinCode) == code:
            out.append(op)
    return out


def convert(tf, name, spec) -> bytes:
    body = spec["fn"](tf)
    specs = spec["specs"]
    sig = [tf.TensorSpec(s, tf.float32, name=f"in{k}") for k, s in enumerate(specs)]
    fn = tf.function(body, input_signature=sig)
    conv = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], fn)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    rng = np.random.default_rng(sum(map(ord, name)))

    def rep():
        for _ in range(N_REP):
            yield [rng.uniform(lo, hi, s).astype(np.float32) for s, (lo, hi) in zip(specs, spec["ranges"])]

    conv.representative_dataset = rep
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if spec["io"] == "int8":
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    buf = conv.convert()
    if spec["edit"] is not None:
        from tensorflow.lite.python import schema_py_generated as schema
        from tensorflow.lite.tools import flatbuffer_utils as fbu
        model = fbu.convert_bytearray_to_object(bytearray(buf))
        spec["edit"](model, fbu, schema)
        buf = bytes(fbu.convert_object_to_bytearray(model))
    return buf


def _input_info(buf: bytes):
    """(shape, numpy dtype, scale) per graph input; a float input takes the
    scale of the QUANTIZE that consumes it."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils as fbu

    model = fbu.convert_bytearray_to_object(bytearray(buf))
    sg = model.subgraphs[0]
    info = []
    for i in sg.inputs:
        t = sg.tensors[i]
        q = t.quantization
        scale = float(q.scale[0]) if q is not None and q.scale is not None and len(q.scale) else None
        if scale is None:
            for op in _ops(model, schema, "QUANTIZE"):
                if op.inputs[0] == i:
                    scale = float(sg.tensors[op.outputs[0]].quantization.scale[0])
        dtype = np.int8 if t.type == schema.TensorType.INT8 else np.float32
        info.append((tuple(int(d) for d in t.shape), dtype, scale))
    return info, len(sg.outputs)


def _inputs(info, rng, k):
    """Sample k: a ramp over the whole int8 range first, then uniform random;
    float models get exact rounding ties and huge values first, then values
    around and beyond the quantization range."""
    xs = []
    for shape, dtype, scale in info:
        n = int(np.prod(shape))
        if dtype == np.int8:
            if k == 0:
                x = (np.arange(n) % 256 - 128).astype(np.int8)
            else:
                x = rng.integers(-128, 128, n).astype(np.int8)
        else:
            if k == 0:  # ties: (j + 0.5) * scale, both signs, plus huge values
                j = np.arange(n) - n // 2
                x = ((j + 0.5) * np.float32(scale)).astype(np.float32)
                x[:4] = np.array([1e6, -1e6, 3e38, -3e38], np.float32)[: min(4, n)]
            else:
                x = (rng.standard_normal(n) * 100 * scale).astype(np.float32)
        xs.append(x.reshape(shape))
    return xs


def run_tflm(path: Path, n: int):
    from tflite_micro.python.tflite_micro import runtime

    info, n_out = _input_info(path.read_bytes())
    it = runtime.Interpreter.from_file(str(path), arena_size=1 << 21)
    rng = np.random.default_rng(1234)
    ins, outs = [], []
    for k in range(n):
        xs = _inputs(info, rng, k)
        for j, x in enumerate(xs):
            it.set_input(x, j)
        it.invoke()
        ins.append(xs)
        outs.append([np.array(it.get_output(j)) for j in range(n_out)])
    arrays = {}
    for j in range(len(ins[0])):
        arrays[f"in{j}"] = np.stack([s[j] for s in ins])
    for j in range(n_out):
        arrays[f"out{j}"] = np.stack([s[j] for s in outs])
    return arrays


def main(names):
    import tensorflow as tf

    OUT.mkdir(parents=True, exist_ok=True)
    for name in names or list(CASES):
        spec = CASES[name]
        path = OUT / f"{name}.tflite"
        path.write_bytes(convert(tf, name, spec))
        if spec.get("rejected"):
            print(f"{name}: {path.stat().st_size} B, TFLM must reject it")
            continue
        arrays = run_tflm(path, N_RANDOM)
        np.savez_compressed(OUT / f"{name}.npz", **arrays)
        print(f"{name}: {path.stat().st_size} B, {len([k for k in arrays if k.startswith('out')])} outputs")


if __name__ == "__main__":
    main(sys.argv[1:])
