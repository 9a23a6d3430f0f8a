"""Board budget: `mcugen generate --board` refuses a model that cannot fit,
with one clear message, and prints a fit table when it does."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import shared_model
from mcugen import budget, cli, frontend
from mcugen.boards import MemoryRegion, get_board
from mcugen.codegen.generate import build
from mcugen.errors import BudgetError

ROOT = Path(__file__).resolve().parents[1]
needs_cross = pytest.mark.skipif(budget.cross_compiler_missing(),
                                 reason="arm-none-eabi-gcc is not installed")


def test_too_big_model_fails_generate_cleanly(tmp_path):
    model = shared_model("ad01_int8")
    out = tmp_path / "ad01_out"
    r = subprocess.run([sys.executable, "-m", "mcugen", "generate", str(model), "-o", str(out), "--board", "BLUEPILL-F103C8"],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert not out.exists()
    err = [line for line in r.stderr.splitlines() if line.startswith("mcugen: error:")]
    assert len(err) == 1, r.stderr
    msg = err[0]
    assert "ad01_int8 does not fit BLUEPILL-F103C8" in msg
    assert "flash" in msg and "65,536" in msg
    # 270,960 bytes of weight tables alone against 64 KiB: over by more than 205,000
    over = int(msg.split(" bytes over")[0].rsplit(": ", 1)[1].replace(",", ""))
    assert over > 270_960 - 65_536
    # the two 640x128 layers dominate, and the remedies are named
    assert "layer 9 FULLY_CONNECTED" in msg and "layer 0 FULLY_CONNECTED" in msg
    assert "smaller model" in msg and "compression" in msg and "bigger board" in msg
    assert "RAM:" not in msg  # 768 bytes of arena fit in 20 KiB


def test_fitting_model_passes_with_table(tmp_path, capsys):
    model = shared_model("kws01_dscnn_int8")
    out = tmp_path / "kws"
    assert cli.main(["generate", str(model), "-o", str(out), "--board", "bluepill"]) == 0
    text = capsys.readouterr().out
    assert "kws01_dscnn_int8 on BLUEPILL-F103C8 (cortex-m3): fits" in text
    assert "weights" in text and "arena" in text and "65,536" in text and "20,480" in text
    report = json.loads((out / "mcugen_report.json").read_text())
    fit = report["board"]
    assert fit["fits"] and fit["board"] == "BLUEPILL-F103C8"
    assert fit["flash"]["weights"] == report["weight_bytes"]
    assert fit["ram"]["arena"] == report["arena_bytes"]
    f = fit["flash"]
    assert f["needed"] == f["weights"] + f["code"] + f["other_const"] + f["data"]
    assert f["needed"] <= f["available"] == 64 * 1024
    r = fit["ram"]
    assert r["needed"] == r["arena"] + r["data"] + r["bss_other"] + r["stack_estimate"] <= r["available"]


@needs_cross
def test_measured_code_size_is_plausible():
    graph = frontend.load(shared_model("kws01_dscnn_int8"))
    fit = budget.check_budget(graph, "MPS2-AN386")
    assert fit.measured and "estimate" not in fit.table.split("\n")[3]  # the code row
    # five kernels and 13 calls: a few KiB of Thumb-2, not zero, not huge
    assert 1_000 < fit.code < 40_000
    assert 200 < fit.stack < 4_000


def test_estimate_without_toolchain_is_marked(monkeypatch):
    monkeypatch.setattr(budget, "cross_compiler_missing", lambda: True)
    graph = frontend.load(shared_model("kws01_dscnn_int8"))
    fit = budget.check_budget(graph, "NUCLEO-L4R5ZI")
    assert not fit.measured
    assert "code (estimate)" in fit.table and "not installed" in fit.table
    assert fit.as_dict()["measured"] is False


def test_ram_is_checked_against_the_largest_contiguous_region(monkeypatch):
    monkeypatch.setattr(budget, "cross_compiler_missing", lambda: True)
    graph = frontend.load(shared_model("kws01_dscnn_int8"))
    bp = get_board("BLUEPILL-F103C8")
    # 24 KiB of RAM in total but in two 12 KiB pieces: the 16 KiB arena fits neither
    split = dataclasses.replace(bp, name="SPLIT-RAM", memory=(
        bp.flash_regions[0],
        MemoryRegion("SRAM_A", "ram", 0x2000_0000, 12 * 1024),
        MemoryRegion("SRAM_B", "ram", 0x1000_0000, 12 * 1024)))
    assert split.ram_bytes > 16_048 + 2048
    with pytest.raises(BudgetError) as e:
        budget.check_budget(graph, split)
    msg = str(e.value)
    assert "does not fit SPLIT-RAM" in msg and "RAM: needs" in msg and "12,288" in msg
    assert "flash:" not in msg
    # the 8,000-byte activations (plus scratch) of the first layers dominate
    layers = build(graph).report["layers"]
    top = max(layers, key=lambda l: (l["output"][0]["bytes"] + l["scratch_bytes"], -l["index"]))
    need = top["output"][0]["bytes"] + top["scratch_bytes"]
    assert need >= 8_000 and top["index"] < 9
    assert f"Largest activations (output + scratch): layer {top['index']} {top['op']} {need:,} B" in msg
    assert "\n" not in msg  # one line for the CLI


@needs_cross
def test_microbit_ram_refusal():
    graph = frontend.load(shared_model("kws01_dscnn_int8"))
    with pytest.raises(BudgetError, match=r"does not fit MICROBIT.*RAM: needs .*16,384: [\d,]+ bytes over"):
        budget.check_budget(graph, "MICROBIT")
