"""The qemu engine: generated models as firmware under QEMU, bit-exact against
the reference on every emulated core, with exact instruction counts."""

import functools
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import SHARED_MODELS, shared_model
from mcugen import batch as batch_io, budget, cli, frontend, reference
from mcugen.codegen.generate import build
from mcugen.errors import BudgetError, McugenError
from mcugen.harness import firmware, qemu

ROOT = Path(__file__).resolve().parents[1]
ZOO = ROOT / "tests" / "fixtures" / "zoo"
N = 3

# Every shared model on every core QEMU emulates with room for it; M3 (no DSP
# instructions) for the two smaller ones. The micro:bit (M0, 16 KiB RAM) holds
# none of them: kws01's arena alone is 16,000 bytes (test_kws01_does_not_fit_microbit).
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
    # the budget link's figure is the model's part of this very firmware, to the byte
    assert info["firmware_model_sizes"] == info["model_sizes"]


def test_counts_reproducible_and_build_cached(toolchain):
    path = str(shared_model("kws01_dscnn_int8"))
    graph, batch, _ = _model(path)
    gen = build(graph, source=Path(path).name)
    fw = firmware.build_model_firmware(graph, "MPS2-AN386", gen=gen)
    mtime = fw.elf.stat().st_mtime_ns
    _, c1 = firmware.run_model_firmware(fw, batch)
    _, c2 = firmware.run_model_firmware(fw, batch)
    assert c1.total_per_inference == c2.total_per_inference
    # (the same Generated again: the kernels' sources are read when C is generated)
    again = firmware.build_model_firmware(graph, "MPS2-AN386", gen=gen)
    assert again.elf == fw.elf and again.elf.stat().st_mtime_ns == mtime  # cache hit, not rebuilt
    assert again.link.elf == fw.link.elf and again.link.elf.stat().st_mtime_ns == fw.link.elf.stat().st_mtime_ns
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
    # sizes are the library as shipped; the profile build's own objects carry the marks
    assert info["model_sizes"] == _firmware(path, "MPS2-AN386").model_sizes
    assert info["firmware_model_sizes"]["text"] > info["model_sizes"]["text"]
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
    assert arena >= 16_000 and f"arena {arena:,}" in msg  # plus a stack: more than 16 KiB


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


@pytest.mark.parametrize("model", ["kws01_dscnn_int8", "ad01_int8"])
def test_generate_budget_equals_model_part_of_firmware(toolchain, tmp_path, capsys, model):
    # `generate --board` and the qemu engine give one figure, and it is what the model
    # occupies in the linked firmware: its objects plus the libgcc/newlib members it pulls in
    path = str(shared_model(model))
    assert cli.main(["generate", path, "-o", str(tmp_path / "out"), "--board", "NUCLEO-L4R5ZI"]) == 0
    assert "total (linked, exact)" in capsys.readouterr().out
    fit = json.loads((tmp_path / "out" / "mcugen_report.json").read_text())["board"]
    assert fit["method"] == "linked, exact"
    graph, batch, _ = _model(path)
    _, info = firmware.run_batch(graph, path, [x[:1] for x in batch], "NUCLEO-L4R5ZI")
    part = info["firmware_model_sizes"]  # measured in the firmware's own link map
    flash, ram = fit["flash"], fit["ram"]
    assert flash["code"] == part["text"]
    assert flash["weights"] + flash["other_const"] == part["rodata"]
    assert flash["data"] == part["data"] == ram["data"]
    assert ram["arena"] + ram["bss_other"] == part["bss"]
    assert flash["needed"] == part["text"] + part["rodata"] + part["data"] == info["model_flash_bytes"]
    assert ram["needed"] == part["data"] + part["bss"] + ram["stack_estimate"]
    assert ram["stack_estimate"] == info["model_stack_bytes"]
    # and the harness is not in it: the firmware holds more than the model
    assert info["sizes"]["text"] > part["text"] and info["sizes"]["bss"] > part["bss"]


def test_generate_and_qemu_engine_refuse_with_the_same_figures(toolchain, tmp_path, capsys):
    path = shared_model("ad01_int8")
    graph, batch, _ = _model(str(path))
    np.savez(tmp_path / "in.npz", input_0=batch[0][:1])
    assert cli.main(["generate", str(path), "-o", str(tmp_path / "g"), "--board", "BLUEPILL-F103C8"]) == 2
    gen_err = capsys.readouterr().err
    assert cli.main(["run", str(path), "--inputs", str(tmp_path / "in.npz"), "--out", str(tmp_path / "o.npz"),
                     "--engine", "qemu", "--board", "BLUEPILL-F103C8"]) == 2
    run_err = capsys.readouterr().err

    def flash(err):
        m = re.search(r"flash: needs [\d,]+ bytes \(weights [\d,]+ \+ code [\d,]+ \+ other [\d,]+\)", err)
        assert m, err
        return m.group(0)

    assert flash(gen_err) == flash(run_err)
    assert not (tmp_path / "g").exists() and not (tmp_path / "o.npz").exists()


PAINTED_GLUE = r"""
#include <stdint.h>
#include "mcugen_harness.h"
#include "%(name)s.h"
/* Paints the stack below this frame, runs one inference and reports in
 * out[0..3] how deep the model wrote: a measured high-water mark. */
#define PAINT 0xDEADBEEFu
int mcugen_harness_invoke(const int8_t *in, int8_t *out)
{
    uint32_t sp;
    __asm__ volatile("mov %%0, sp" : "=r"(sp));
    volatile uint32_t *lo = (volatile uint32_t *)(sp - 8192);
    for (volatile uint32_t *q = lo; q < (volatile uint32_t *)(sp - 64); q++) *q = PAINT;
    const void *ins[1] = {in};
    void *outs[1] = {out};
    int r = %(name)s_invoke_multi(ins, outs);
    volatile uint32_t *q = lo;
    while (*q == PAINT) q++;
    uint32_t depth = sp - (uint32_t)q;
    for (int k = 0; k < 4; k++) out[k] = (int8_t)(depth >> (8 * k));
    return r;
}
"""


def test_stack_figure_bounds_the_measured_high_water_mark(toolchain, tmp_path):
    # the call-tree figure against the stack the model really writes under QEMU
    path = str(shared_model("kws01_dscnn_int8"))
    graph, batch, _ = _model(path)
    gen = build(graph)
    board = firmware.emulated_board("NUCLEO-L4R5ZI")
    lib, objs = firmware.compile_library(gen, board)
    (tmp_path / "glue.c").write_text(PAINTED_GLUE % {"name": gen.name})
    (tmp_path / f"{gen.name}.h").write_bytes(gen.files[f"{gen.name}.h"])
    out_bytes = graph.t(graph.outputs[0]).nbytes
    elf = qemu.build_firmware(board, [lib / o for o in objs] + [tmp_path / "glue.c"], include_dirs=[tmp_path],
                              defines={"MCUGEN_IN_BYTES": graph.t(graph.inputs[0]).nbytes,
                                       "MCUGEN_OUT_BYTES": out_bytes}, out_dir=tmp_path)
    raw, _ = qemu.run_firmware(board, elf, np.ascontiguousarray(batch[0][:2]).tobytes(), 2, out_bytes)
    measured = [int.from_bytes(raw[k * out_bytes:k * out_bytes + 4], "little") for k in range(2)]
    link = budget.link_library(gen, board)
    tree = link.stack - budget.EXC_FRAME_FP
    assert tree == sum(b for _, b in link.stack_path)
    # never below what runs (the deepest static path may hold helpers this model never calls,
    # and frames need not be written to the last word), and of the same order
    assert all(0.5 * tree <= m <= tree for m in measured), (measured, link.stack_path)


# Helium (MVE) dot blocks take 16 bytes of depth at a time and hand the rest
# to the DSP code; odd depths leave rows unaligned for VLD2/VLD4, which then
# step aside; 3x3 depthwise takes four channels per vector with a vector
# requantization. The zoo's convolutions, depthwise and fully connected
# layers and transpose convolutions cover those shapes; compare with TFLM's
# outputs on the M55.
ZOO_DOT = sorted(p for p in ZOO.glob("*.tflite")
                 if p.stem.split("_")[0] in ("conv", "dw", "fc", "tconv", "tiny", "int8"))


@pytest.mark.parametrize("path", ZOO_DOT, ids=[p.stem for p in ZOO_DOT])
def test_zoo_dot_kernels_bit_exact_on_m55(toolchain, path):
    graph = frontend.load(path)
    z = np.load(path.with_suffix(".npz"))
    ins = [z[f"input_{k}"] for k in range(len(graph.inputs))]
    outs, _ = firmware.run_batch(graph, str(path), ins, "MPS3-AN547")
    for k, got in enumerate(outs):
        np.testing.assert_array_equal(got, z[f"output_{k}"], err_msg=f"{path.stem} output {k}")


@pytest.mark.parametrize("board", ["MPS2-AN386", "MPS3-AN547"])
def test_qemu_engine_honours_single_rounding(toolchain, board):
    """--rounding single reaches the firmware build (it once fell back to
    TFLM's double rounding for dense models): ad01's outputs follow the
    single-rounding reference, which differs from the double one here."""
    path = str(shared_model("ad01_int8"))
    graph, batch, double = _model(path)
    single = reference.run_batch(graph, batch, rounding="single")
    assert any((s != d).any() for s, d in zip(single, double))
    outs, _ = cli.run_engine("qemu", path, graph, batch, board=board, rounding="single")
    for got, want in zip(outs, single):
        np.testing.assert_array_equal(got, want)
