"""The qemu engine: generated models as firmware under QEMU, bit-exact against
the reference on every emulated core, with exact instruction counts."""

import functools
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import SHARED_MODELS, shared_model
from mcugen import batch as batch_io, cli, frontend, reference
from mcugen.codegen.generate import build
from mcugen.errors import BudgetError, McugenError
from mcugen.harness import firmware, qemu

ROOT = Path(__file__).resolve().parents[1]
ZOO = ROOT / "tests" / "fixtures" / "zoo"
N = 3

# Every shared model on every core QEMU emulates with room for it; M3 (no DSP
# instructions) for the two smaller ones. The micro:bit (M0, 16 KiB RAM) holds
# none of them: kws01's arena alone is 16,048 bytes (test_kws01_does_not_fit_microbit).
CASES = [(m, b) for m in SHARED_MODELS for b in ("MPS2-AN386", "MPS2-AN500", "MPS2-AN505", "MPS3-AN547")]
CASES += [("ad01_int8", "MPS2-AN385"), ("kws01_dscnn_int8", "MPS2-AN385")]


@pytest.fixture(scope="session")
def toolchain():
    script = ROOT / "tools" / "install_toolchain.sh"
    if script.is_file():
        subprocess.run(["bash", str(script)], check=False, timeout=1200)
    why = qemu.toolchain_missing()
    if why:
        pytest.skip(f"firmware toolchain unavailable after tools/install_toolchain.sh: {why}")


@functools.lru_cache(maxsize=None)
def _model(path: str):
    graph = frontend.load(path)
    batch = batch_io.random_inputs(graph, N, seed=7)
    return graph, batch, reference.run_batch(graph, batch)


@functools.lru_cache(maxsize=None)
def _firmware(path: str, board: str, profile: bool = False):
    graph, _, _ = _model(path)
    return firmware.build_model_firmware(graph, board, profile=profile, source=Path(path).name)


@pytest.mark.parametrize("model,board", CASES)
def test_shared_model_bit_exact_on_board(toolchain, model, board):
    path = str(shared_model(model))
    graph, batch, ref = _model(path)
    outs, info = firmware.run_batch(graph, path, batch, board)
    assert len(outs) == len(ref)
    for got, want in zip(outs, ref):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    macs = sum(l["macs"] for l in _firmware(path, board).report["layers"])
    assert len(info["instructions"]) == N
    # Somewhere between the M4 floor (0.5/MAC, two MACs per SMLAD) and a naive loop.
    assert all(0.1 * macs < c < 40 * macs for c in info["instructions"])
    # The model library's flash holds all its weights; its RAM holds the arena.
    gen_report = _firmware(path, board).report
    assert info["model_flash_bytes"] >= gen_report["weight_bytes"]
    assert info["model_ram_bytes"] >= gen_report["arena_bytes"]
    assert info["sizes"]["rodata"] >= info["model_sizes"]["rodata"]


def test_counts_reproducible_and_build_cached(toolchain):
    path = str(shared_model("kws01_dscnn_int8"))
    graph, batch, _ = _model(path)
    gen = build(graph, source=Path(path).name)
    fw = firmware.build_model_firmware(graph, "MPS2-AN386", gen=gen)
    mtime = fw.elf.stat().st_mtime_ns
    _, c1 = firmware.run_model_firmware(fw, batch)
    _, c2 = firmware.run_model_firmware(fw, batch)
    assert c1.total_per_inference == c2.total_per_inference
    again = firmware.build_model_firmware(graph, "MPS2-AN386", gen=build(graph, source=Path(path).name))
    assert again.elf == fw.elf and again.elf.stat().st_mtime_ns == mtime  # cache hit, not rebuilt
    # another name is other C: another build
    other = firmware.build_model_firmware(graph, "MPS2-AN386", gen=build(graph, name="kws_other"))
    assert other.elf != fw.elf


def test_profile_layers_sum_to_total(toolchain):
    path = str(shared_model("kws01_dscnn_int8"))
    graph, batch, ref = _model(path)
    outs, info = firmware.run_batch(graph, path, batch, "MPS2-AN386", profile=True)
    for got, want in zip(outs, ref):
        np.testing.assert_array_equal(got, want)
    n_layers = len(graph.operators)
    report = _firmware(path, "MPS2-AN386").report
    assert len(info["per_layer"]) == N
    for total, layers, (entry, exit_) in zip(info["instructions"], info["per_layer"], info["profile_overhead"]):
        assert len(layers) == n_layers
        assert sum(layers) + entry + exit_ == total
        assert 0 < entry + exit_ < 0.01 * total  # copies in and out, not compute
        # each layer's count is its own: a MAC layer costs at least MACs / 4
        # (the M4 floor is 0.5), a shape-only alias next to nothing
        for layer, row in zip(layers, report["layers"]):
            if row["macs"]:
                assert layer > row["macs"] // 4
            if row["kernel"] == "(alias)":
                assert layer < 16
    # Markers add a few instructions per layer, not more.
    plain = firmware.run_model_firmware(_firmware(path, "MPS2-AN386"), batch)[1].total_per_inference
    for p, q in zip(info["instructions"], plain):
        assert abs(p - q) <= 16 * (n_layers + 1)
    text = info["profile_text"]
    for op in ("CONV_2D", "DEPTHWISE_CONV_2D", "SOFTMAX", "total"):
        assert op in text
    assert f"{info['instructions'][0]:,}" in text


def test_multi_io_float_model(toolchain):
    # two float inputs, two float outputs: packing and dtypes of the glue
    path = str(ZOO / "two_in_two_out.tflite")
    graph, batch, ref = _model(path)
    outs, _ = firmware.run_batch(graph, path, batch, "MPS2-AN505")
    assert [o.dtype for o in outs] == [np.float32, np.float32]
    for got, want in zip(outs, ref):
        np.testing.assert_array_equal(got, want)


def test_cortex_m0_runs_a_small_model(toolchain):
    path = str(ZOO / "tiny_cnn_classifier.tflite")
    graph, batch, ref = _model(path)
    outs, info = firmware.run_batch(graph, path, batch, "MICROBIT")
    np.testing.assert_array_equal(outs[0], ref[0])
    assert info["qemu_machine"] == "microbit"


def test_kws01_does_not_fit_microbit(toolchain):
    path = str(shared_model("kws01_dscnn_int8"))
    graph, batch, _ = _model(path)
    with pytest.raises(BudgetError) as e:
        firmware.run_batch(graph, path, batch, "MICROBIT")
    msg = str(e.value)
    assert "does not fit MICROBIT" in msg and "RAM" in msg and "bytes over" in msg
    arena = _firmware(path, "MPS2-AN386").report["arena_bytes"]
    assert arena > 16_000 and f"arena {arena:,}" in msg


def test_hardware_board_is_checked_against_its_own_memory(toolchain):
    # the Blue Pill is emulated on mps2-an385, which has room; the board has not
    path = str(shared_model("ad01_int8"))
    graph, batch, _ = _model(path)
    with pytest.raises(BudgetError, match="does not fit BLUEPILL-F103C8.*flash"):
        firmware.run_batch(graph, path, batch, "BLUEPILL-F103C8")


def test_board_without_qemu_machine_names_alternatives():
    path = str(ZOO / "tiny_mlp.tflite")
    graph, batch, _ = _model(path)
    with pytest.raises(McugenError, match=r"RPI-PICO has no QEMU machine.*cortex-m0plus.*MICROBIT \(cortex-m0\)"):
        firmware.run_batch(graph, path, batch, "RPI-PICO")
    b = firmware.emulated_board("NUCLEO-F746ZG")  # hardware board with an emulated core
    assert b.qemu_machine == "mps2-an500"


def test_cli_run_qemu_profile(toolchain, tmp_path, capsys):
    path = shared_model("kws01_dscnn_int8")
    graph, batch, ref = _model(str(path))
    np.savez(tmp_path / "in.npz", input_0=batch[0])
    rc = cli.main(["run", str(path), "--inputs", str(tmp_path / "in.npz"), "--out", str(tmp_path / "out.npz"),
                   "--engine", "qemu", "--board", "mps2-an386", "--profile"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "instr/MAC" in out and "MPS2-AN386" in out
    with np.load(tmp_path / "out.npz") as z:
        np.testing.assert_array_equal(z["output_0"], ref[0])


def test_cli_verify_board(toolchain, capsys):
    path = shared_model("ad01_int8")
    rc = cli.main(["verify", str(path), "--n", "2", "--no-tflm", "--board", "mps3-an547"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "qemu (MPS3-AN547)" in out and "MISMATCH" not in out
