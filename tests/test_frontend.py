"""The frontend reads real models into the IR and turns every bad input into one clear McugenError."""
import random
import subprocess
import sys

import numpy as np
import pytest

from conftest import FIXTURES, SHARED_MODELS, shared_model
from mcugen import frontend, ir
from mcugen.errors import EXIT_CODE, McugenError, ModelFormatError, UnsupportedModelError

BAD = FIXTURES / "bad"


@pytest.mark.parametrize("name", SHARED_MODELS)
def test_shared_models_load(name):
    g = frontend.load(shared_model(name))
    ir.validate(g)
    assert len(g.inputs) == 1 and len(g.outputs) == 1
    assert g.t(g.inputs[0]).dtype == "int8"
    convs = [op for op in g.operators if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    for op in convs:
        w = g.t(op.inputs[1])
        assert w.dtype == "int8" and w.data is not None and w.quant.per_channel
        assert g.t(op.inputs[2]).dtype == "int32"


def test_kws_layer_options():
    g = frontend.load(shared_model("kws01_dscnn_int8"))
    first = g.operators[0]
    assert first.kind == "CONV_2D"
    assert (first.options.stride_h, first.options.stride_w, first.options.padding, first.options.activation) == (2, 2, "SAME", "RELU")
    pool = g.operators[9]
    assert pool.kind == "AVERAGE_POOL_2D" and (pool.options.filter_h, pool.options.filter_w) == (25, 5)


def test_float_model_rejected_with_remedy():
    with pytest.raises(UnsupportedModelError) as e:
        frontend.load(BAD / "float32.tflite")
    msg = str(e.value)
    assert "float model" in msg and "TFLITE_BUILTINS_INT8" in msg and "representative_dataset" in msg


def test_dynamic_range_model_rejected_with_remedy():
    with pytest.raises(UnsupportedModelError) as e:
        frontend.load(BAD / "dynamic_range.tflite")
    assert "dynamic-range" in str(e.value) and "TFLITE_BUILTINS_INT8" in str(e.value)


def test_unsupported_operator_named_with_index_and_list():
    with pytest.raises(UnsupportedModelError) as e:
        frontend.load(BAD / "unsupported_exp.tflite")
    msg = str(e.value)
    assert "operator 1 is EXP" in msg and "Supported operators: CONV_2D" in msg and "HARD_SWISH" in msg


def test_not_a_tflite_file(tmp_path):
    p = tmp_path / "x.tflite"
    p.write_bytes(b"PK\x03\x04 definitely a zip file, not a model")
    with pytest.raises(ModelFormatError, match="not a TensorFlow Lite model"):
        frontend.load(p)
    p.write_bytes(b"")
    with pytest.raises(ModelFormatError, match="not a TensorFlow Lite model"):
        frontend.load(p)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ModelFormatError, match="does not exist"):
        frontend.load(tmp_path / "nope.tflite")
    with pytest.raises(ModelFormatError, match="is a directory"):
        frontend.load(tmp_path)


def _mutants(buf: bytes, n: int, seed: int):
    rng = random.Random(seed)
    for k in range(n):
        b = bytearray(buf)
        how = k % 4
        if how == 0:  # truncate anywhere past the identifier
            yield bytes(b[: rng.randrange(8, len(b))])
        elif how == 1:  # flip random bytes
            for _ in range(rng.randint(1, 16)):
                b[rng.randrange(8, len(b))] ^= 1 << rng.randrange(8)
            yield bytes(b)
        elif how == 2:  # overwrite a random word with an extreme value (offsets/lengths)
            at = rng.randrange(8, len(b) - 4) & ~3
            b[at:at + 4] = rng.choice([b"\xff\xff\xff\x7f", b"\x00\x00\x00\x80", b"\xff\xff\xff\xff", b"\x00\x00\x00\x00"])
            yield bytes(b)
        else:  # splice a chunk from elsewhere
            a, c = sorted(rng.randrange(8, len(b)) for _ in range(2))
            d = rng.randrange(8, len(b))
            chunk = b[a:c][:64]
            b[d:d + len(chunk)] = chunk
            yield bytes(b[: len(buf)])


@pytest.mark.parametrize("model", ["good_int8", "kws01"])
def test_fuzz_mutated_models_never_crash(model):
    """Every mutant either loads into a valid IR or raises McugenError - never
    another exception, a crash or a hang (each parse is bounded by the file size)."""
    path = BAD / "good_int8.tflite" if model == "good_int8" else shared_model("kws01_dscnn_int8")
    buf = path.read_bytes()
    outcomes = {"ok": 0, "error": 0}
    for m in _mutants(buf, 400 if model == "good_int8" else 150, seed=7):
        try:
            g = frontend.parse(m, origin="mutant")
        except McugenError as e:
            assert str(e) and "\n" not in str(e)
            outcomes["error"] += 1
            continue
        ir.validate(g)
        outcomes["ok"] += 1
    assert outcomes["error"] > 0  # the mutations did reach the checks


def test_cli_reports_one_line_and_exit_code(tmp_path):
    p = tmp_path / "bad.tflite"
    p.write_bytes(shared_model("ad01_int8").read_bytes()[:5000])
    r = subprocess.run([sys.executable, "-m", "mcugen", "inspect", str(p)], capture_output=True, text=True)
    assert r.returncode == EXIT_CODE
    assert "Traceback" not in r.stderr
    assert r.stderr.startswith("mcugen: error: ") and "truncated or corrupt" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_cli_inspect_table():
    r = subprocess.run([sys.executable, "-m", "mcugen", "inspect", str(shared_model("kws01_dscnn_int8"))],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "DEPTHWISE_CONV_2D" in r.stdout and "2,656,768 MACs" in r.stdout
