"""Generated C, built on the host, is bit-exact with TFLM's outputs on every zoo fixture and the shared models,
in release builds and under ASan + UBSan; warning-free for Cortex-M4 and M55."""
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import FIXTURES, SHARED_MODELS, shared_model
from mcugen import batch, frontend, reference
from mcugen.codegen.generate import generate
from mcugen.harness.host import HostModel

ZOO = sorted((FIXTURES / "zoo").glob("*.tflite"))


def _check(outs, ref, name):
    for k, o in enumerate(outs):
        want = ref[k]
        diff = o != want
        assert not diff.any(), f"{name}: output {k}: {int(diff.sum())} of {diff.size} differ"


@pytest.fixture(scope="module")
def gen_root(tmp_path_factory):
    return tmp_path_factory.mktemp("gen")


@pytest.mark.parametrize("path", ZOO, ids=[p.stem for p in ZOO])
def test_zoo_bit_exact_release_and_sanitized(path, gen_root):
    g = frontend.load(path)
    z = np.load(path.with_suffix(".npz"))
    ins = [z[f"input_{k}"] for k in range(len(g.inputs))]
    want = [z[f"output_{k}"] for k in range(len(g.outputs))]
    d = gen_root / path.stem
    generate(g, d)
    _check(HostModel(d, "release").run_batch(ins), want, path.stem + " (release)")
    _check(HostModel(d, "sanitize").run_batch(ins), want, path.stem + " (asan+ubsan)")


@pytest.mark.parametrize("name", SHARED_MODELS)
def test_shared_models_bit_exact_sanitized(name, gen_root):
    p = shared_model(name)
    g = frontend.load(p)
    ins = batch.random_inputs(g, 4, seed=11)
    want = reference.run_batch(g, ins)
    d = gen_root / name
    generate(g, d)
    _check(HostModel(d, "release").run_batch(ins), want, name + " (release)")
    _check(HostModel(d, "sanitize").run_batch(ins), want, name + " (asan+ubsan)")


def test_arm_cortex_m4_and_m55_compile_warning_free(gen_root, tmp_path):
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc missing: run tools/install_toolchain.sh")
    # every zoo model plus the shared ones, each file compiled with the DSP path on
    dirs = []
    for p in ZOO + [shared_model(n) for n in SHARED_MODELS]:
        d = tmp_path / p.stem
        generate(frontend.load(p), d)
        dirs.append(d)
    sources = {}
    for d in dirs:
        rep = json.loads((d / "mcugen_report.json").read_text())
        for f in [d / f"{rep['name']}.c", d / f"{rep['name']}_weights.c"] + [d / "runtime" / "src" / s for s in rep["runtime_sources"]]:
            sources.setdefault(f.name if "runtime" in str(f) else str(f), (f, d))
    # Cortex-M4 (DSP) and Cortex-M55 (DSP + Helium) take different paths through the same sources
    for cpu in (["-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16"], ["-mcpu=cortex-m55"]):
        for key, (f, d) in sources.items():
            r = subprocess.run(["arm-none-eabi-gcc", *cpu, "-mthumb", "-mfloat-abi=hard",
                                "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", "-ffreestanding",
                                f"-I{d}", f"-I{d / 'runtime' / 'include'}", f"-I{d / 'runtime' / 'src'}",
                                "-c", str(f), "-o", str(tmp_path / "x.o")], capture_output=True, text=True)
            assert r.returncode == 0, f"{cpu[0]} {f}:\n{r.stderr}"


def test_trace_locates_first_differing_operator(tmp_path):
    """Corrupt one weight of layer 2 in the generated tables: the trace build names operator 2."""
    from mcugen.verify import first_difference

    p = shared_model("kws01_dscnn_int8")
    g = frontend.load(p)
    d = tmp_path / "kws"
    gen = generate(g, d, name="kws")
    w = d / "kws_weights.c"
    text = w.read_text()
    start = text.index("const int8_t l2_w[")
    line_start = text.index("{", start) + 1
    line_end = text.index("\n", text.index("\n", line_start) + 1)
    vals = [int(v) for v in text[line_start:line_end].replace(",", " ").split()]
    bumped = [v + 100 if v < 0 else v - 100 for v in vals]  # big changes no rounding or clamp can hide
    text = text[:line_start] + "\n    " + ", ".join(map(str, bumped)) + "," + text[line_end:]
    w.write_text(text)
    x = batch.random_inputs(g, 1, seed=3)
    m = HostModel(d, "trace")
    outs, traced = m.trace([x[0][0]])
    diff = first_difference(g, traced, [x[0][0]])
    assert diff is not None and diff.index == 2 and diff.kind == "CONV_2D"
    assert 0 < diff.differing <= g.t(g.operators[2].outputs[0]).size
    assert "first differing operator: 2 (CONV_2D)" in str(diff)


def test_report_and_rerun(tmp_path):
    p = shared_model("ad01_int8")
    g = frontend.load(p)
    d = tmp_path / "ad"
    generate(g, d, name="ad")
    rep = json.loads((d / "mcugen_report.json").read_text())
    assert rep["arena_bytes"] <= 768 and rep["weight_bytes"] >= 270_000
    assert len(rep["layers"]) == 10 and rep["layers"][0]["macs"] == 640 * 128
    assert all({"op", "macs", "weight_bytes", "output"} <= set(l) for l in rep["layers"])
    assert "#define AD_ARENA_BYTES" in (d / "ad.h").read_text()
    (d / "notes.txt").write_text("mine")
    from mcugen.cli import main

    assert main(["generate", str(p), "-o", str(d), "--name", "ad"]) == 2  # foreign file: refused
    assert main(["generate", str(p), "-o", str(d), "--name", "ad", "--force"]) == 0
    assert (d / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("name", ["ad01_int8", "ic01_resnet8_int8"])
def test_single_rounding_c_matches_single_rounding_reference(name, tmp_path):
    """--rounding single: the generated C (MCU_SINGLE_ROUNDING) equals the reference's single-rounding mode,
    and on ad01 that mode really differs from TFLM's double rounding."""
    g = frontend.load(shared_model(name))
    ins = batch.random_inputs(g, 6, seed=5)
    d = tmp_path / "single"
    generate(g, d, rounding="single")
    assert "#define MCU_SINGLE_ROUNDING 1" in (d / "runtime" / "include" / "mcu_config.h").read_text()
    want = reference.run_batch(g, ins, rounding="single")
    _check(HostModel(d, "release").run_batch(ins), want, name + " single rounding")
    if name == "ad01_int8":
        double = reference.run_batch(g, batch.random_inputs(g, 40, seed=5), rounding="double")
        single = reference.run_batch(g, batch.random_inputs(g, 40, seed=5), rounding="single")
        assert any((a != b).any() for a, b in zip(double, single))
