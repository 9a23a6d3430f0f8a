"""`mcugen run`: the batch contract, engines reference and tflm, and input errors."""
import subprocess
import sys

import numpy as np
import pytest

from conftest import FIXTURES, shared_model
from mcugen import batch, frontend
from mcugen.cli import main
from mcugen.errors import EXIT_CODE

ZOO = FIXTURES / "zoo"


def mcugen(*args):
    return subprocess.run([sys.executable, "-m", "mcugen", *map(str, args)], capture_output=True, text=True)


@pytest.mark.parametrize("engine", ["reference", "tflm"])
def test_run_matches_committed_tflm_outputs(tmp_path, engine):
    # a multi-input, multi-output fixture exercises the key layout
    model = next(p for p in sorted(ZOO.glob("*.tflite"))
                 if len(frontend.load(p).inputs) > 1 and len(frontend.load(p).outputs) > 1)
    ref = np.load(model.with_suffix(".npz"))
    ins = tmp_path / "in.npz"
    np.savez(ins, **{k: ref[k] for k in ref.files if k.startswith("input_")})
    out = tmp_path / "out.npz"
    assert main(["run", str(model), "--inputs", str(ins), "--out", str(out), "--engine", engine]) == 0
    got = np.load(out)
    outs = [k for k in ref.files if k.startswith("output_")]
    assert sorted(got.files) == sorted(outs)
    for k in outs:
        np.testing.assert_array_equal(got[k], ref[k])


def test_inputs_keyed_by_tensor_name(tmp_path):
    p = shared_model("kws01_dscnn_int8")
    g = frontend.load(p)
    x = batch.random_inputs(g, 3)[0]
    np.savez(tmp_path / "a.npz", input_0=x)
    np.savez(tmp_path / "b.npz", **{g.t(g.inputs[0]).name: x})
    assert main(["run", str(p), "--inputs", str(tmp_path / "a.npz"), "--out", str(tmp_path / "oa.npz")]) == 0
    assert main(["run", str(p), "--inputs", str(tmp_path / "b.npz"), "--out", str(tmp_path / "ob.npz")]) == 0
    a, b = np.load(tmp_path / "oa.npz")["output_0"], np.load(tmp_path / "ob.npz")["output_0"]
    assert a.shape == (3, 1, 12) and a.dtype == np.int8
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("arrays,needle", [
    ({"wrong": np.zeros((2, 1, 49, 10, 1), np.int8)}, "no array 'input_0'"),
    ({"input_0": np.zeros((1, 49, 10, 1), np.int8)}, "without the leading sample axis"),
    ({"input_0": np.zeros((2, 1, 10, 49, 1), np.int8)}, "needs [N, 1, 49, 10, 1]"),
    ({"input_0": np.zeros((2, 1, 49, 10, 1), np.float32)}, "quantize it first"),
])
def test_bad_inputs_one_clear_line(tmp_path, arrays, needle):
    np.savez(tmp_path / "in.npz", **arrays)
    r = mcugen("run", shared_model("kws01_dscnn_int8"), "--inputs", tmp_path / "in.npz", "--out", tmp_path / "o.npz")
    assert r.returncode == EXIT_CODE
    assert needle in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "o.npz").exists()


def test_inputs_file_not_npz(tmp_path):
    (tmp_path / "in.npz").write_text("hello")
    r = mcugen("run", shared_model("kws01_dscnn_int8"), "--inputs", tmp_path / "in.npz", "--out", tmp_path / "o.npz")
    assert r.returncode == EXIT_CODE and "cannot read" in r.stderr and "Traceback" not in r.stderr


def _two_input_fixture():
    for p in sorted(ZOO.glob("*.tflite")):
        g = frontend.load(p)
        if len(g.inputs) == 2 and all(g.t(i).dtype == "int8" for i in g.inputs):
            return p, g
    raise AssertionError("zoo has no two-input int8 fixture")


def test_keys_by_name_never_shift_when_names_look_like_indices():
    """Keras names inputs input_1, input_2: a file keyed by those names must feed them by name."""
    from mcugen.errors import InputError

    _, g = _two_input_fixture()
    g.t(g.inputs[0]).name, g.t(g.inputs[1]).name = "input_1", "input_2"
    a = np.zeros((2, *g.t(g.inputs[0]).shape), np.int8)
    b = np.ones((2, *g.t(g.inputs[1]).shape), np.int8)
    got = batch.check_inputs(g, {"input_1": a, "input_2": b})
    assert (got[0] == 0).all() and (got[1] == 1).all()
    got = batch.check_inputs(g, {"input_0": a, "input_1": b})
    assert (got[0] == 0).all() and (got[1] == 1).all()
    with pytest.raises(InputError, match="no other arrays"):
        batch.check_inputs(g, {"input_0": a, "input_1": b, "input_2": b})
    g.t(g.inputs[0]).name, g.t(g.inputs[1]).name = "input_1", "input_0"
    with pytest.raises(InputError, match="both input indices and"):
        batch.check_inputs(g, {"input_0": a, "input_1": b})


@pytest.mark.parametrize("arrays,needle", [
    ({"input_0": np.zeros((0, 1, 49, 10, 1), np.int8)}, "holds no samples"),
    ({"input_0": np.zeros((2, 1, 49, 10, 1), bool)}, "is bool"),
    ({"input_0": np.zeros((2, 1, 49, 10, 1), np.int8), "extra": np.zeros(3)}, "no other arrays"),
])
def test_more_bad_inputs(tmp_path, arrays, needle):
    np.savez(tmp_path / "in.npz", **arrays)
    r = mcugen("run", shared_model("kws01_dscnn_int8"), "--inputs", tmp_path / "in.npz", "--out", tmp_path / "o.npz")
    assert r.returncode == EXIT_CODE and needle in r.stderr and "Traceback" not in r.stderr


def test_npy_instead_of_npz(tmp_path):
    np.save(tmp_path / "in.npy", np.zeros((2, 1, 49, 10, 1), np.int8))
    r = mcugen("run", shared_model("kws01_dscnn_int8"), "--inputs", tmp_path / "in.npy", "--out", tmp_path / "o.npz")
    assert r.returncode == EXIT_CODE and "single array (.npy)" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("extra,needle", [
    (["--out", "OUT"], "must end in .npz"),
    (["--out", "IN"], "is the inputs file"),
    (["--out", "NODIR"], "does not exist; create it first"),
    (["--out", "o.npz", "--profile"], "--profile applies to --engine qemu only"),
    (["--out", "o.npz", "--engine", "qemu"], "--engine qemu needs --board"),
    (["--out", "o.npz", "--engine", "qemu", "--board", "RPI-PICO"], "has no QEMU machine"),
])
def test_run_option_errors_before_any_work(tmp_path, extra, needle):
    g = frontend.load(shared_model("ad01_int8"))
    inp = tmp_path / "in.npz"
    np.savez(inp, input_0=batch.random_inputs(g, 1)[0])
    subst = {"OUT": str(tmp_path / "o"), "IN": str(inp), "NODIR": str(tmp_path / "no" / "o.npz")}
    args = [subst.get(a, str(tmp_path / a) if a.endswith(".npz") else a) for a in extra]
    r = mcugen("run", shared_model("ad01_int8"), "--inputs", inp, *args)
    assert r.returncode == EXIT_CODE and needle in r.stderr and "Traceback" not in r.stderr
    assert "running" not in r.stderr  # refused before loading and running anything
    assert not (tmp_path / "o.npz").exists()


def test_verify_n_zero_and_broken_pipe():
    r = mcugen("verify", shared_model("ad01_int8"), "--n", "0")
    assert r.returncode == EXIT_CODE and "at least one sample" in r.stderr and "Traceback" not in r.stderr
    p = subprocess.run(f"{sys.executable} -m mcugen inspect {shared_model('vww01_mobilenet_int8')} | head -1",
                       shell=True, capture_output=True, text=True)
    assert "Traceback" not in p.stderr and p.stdout.startswith("model vww01")
