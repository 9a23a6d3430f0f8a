"""Board budget: `mcugen generate --board` refuses a model that cannot fit,
with one clear message, and prints a fit table when it does."""

import dataclasses
import json
import os
import shutil
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
    if not budget.cross_compiler_missing():
        assert "(estimate)" not in msg and " estimated" not in msg  # the linked figure


def test_fitting_model_passes_with_table(tmp_path, capsys):
    model = shared_model("kws01_dscnn_int8")
    out = tmp_path / "kws"
    assert cli.main(["generate", str(model), "-o", str(out), "--board", "bluepill"]) == 0
    text = capsys.readouterr().out
    assert "kws01_dscnn_int8 on BLUEPILL-F103C8 (cortex-m3): fits" in text
    assert "weights" in text and "arena" in text and "65,536" in text and "20,480" in text
    if not budget.cross_compiler_missing():
        assert "total (linked, exact)" in text and "linked, exact: kws01_dscnn_int8_invoke_multi linked alone" in text
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
def test_linked_figure_counts_helpers_and_a_call_tree_stack():
    graph = frontend.load(shared_model("kws01_dscnn_int8"))
    gen = build(graph)
    fit = budget.check_budget(graph, "NUCLEO-L4R5ZI", gen=gen)
    assert fit.measured and "total (linked, exact)" in fit.table and "(estimate)" not in fit.table.split("\n")[4]
    assert fit.as_dict()["method"] == "linked, exact"
    link = budget.link_library(gen, "NUCLEO-L4R5ZI")
    # 64-bit divisions in the kernels pull in libgcc, and the copies newlib's memcpy: all of it is counted
    assert {"_aeabi_uldivmod", "_udivmoddi4", "memcpy"} <= set(link.helpers)
    assert fit.code == link.sizes["text"] > sum(link.helpers.values()) > 1_000
    assert fit.weights + fit.other_const == link.sizes["rodata"]
    # the stack: invoke_multi down to the deepest kernel, frames as gcc reports them, one exception frame on top
    names = [n for n, _ in link.stack_path]
    assert names[0] == "kws01_dscnn_int8_invoke_multi" and any(n.startswith("mcu_") for n in names[1:])
    assert fit.stack == link.stack == sum(b for _, b in link.stack_path) + budget.EXC_FRAME_FP
    assert "deepest call path kws01_dscnn_int8_invoke_multi" in fit.how and not link.stack_notes
    # cached by content: the same C links nothing again, other C (another name) is another link
    mtime = link.elf.stat().st_mtime_ns
    again = budget.link_library(gen, "NUCLEO-L4R5ZI")
    assert again.elf == link.elf and again.elf.stat().st_mtime_ns == mtime and again.sizes == link.sizes
    other = budget.link_library(build(graph, name="kws_other"), "NUCLEO-L4R5ZI")
    assert other.elf != link.elf and other.stack_path[0][0] == "kws_other_invoke_multi"


@needs_cross
@pytest.mark.skipif(shutil.which(budget.OBJDUMP) is None, reason="arm-none-eabi-objdump is not installed")
@pytest.mark.parametrize("board", ["NUCLEO-L4R5ZI", "MICROBIT"])
def test_frames_read_from_the_code_match_gcc(board):
    # library helpers have no .su file: their frames come from their pushes and sp decrements;
    # that reading must give gcc's own figure on every function gcc compiled
    from mcugen.harness import firmware

    graph = frontend.load(shared_model("ic01_resnet8_int8"))
    gen = build(graph)
    link = budget.link_library(gen, board)
    lib_dir, objs = firmware.compile_library(gen, get_board(board))
    su = budget._stack_usage(lib_dir, objs)
    sections, _ = budget.parse_map(link.elf.with_name("budget.map").read_text())
    frames = budget.code_frames(link.elf)
    assert len(frames) > len(su) // 2
    checked = 0
    names = [fn for _, fn in su]
    for (obj, fn), (size, _) in su.items():
        if fn in frames and names.count(fn) == 1:  # static helpers may share a name across files
            assert frames[fn] == size, (obj, fn)
            checked += 1
    assert checked >= 5
    assert {s.file for s in sections if budget.is_member(s.file)}  # libgcc/newlib members were linked


def test_estimate_without_toolchain_is_marked(tmp_path):
    # no arm-none-eabi-gcc on PATH: the estimate, labelled as one on every row it touches
    empty = tmp_path / "bin"
    empty.mkdir()
    out = tmp_path / "kws"
    env = {**os.environ, "PATH": str(empty)}
    r = subprocess.run([sys.executable, "-m", "mcugen", "generate", str(shared_model("kws01_dscnn_int8")), "-o",
                        str(out), "--board", "NUCLEO-L4R5ZI"], capture_output=True, text=True, cwd=ROOT,
                       timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    for row in ("code (estimate)", "other constants (estimate)", "total (estimate)", "stack (estimate)"):
        assert row in r.stdout
    assert "linked, exact" not in r.stdout and "not installed" in r.stdout
    fit = json.loads((out / "mcugen_report.json").read_text())["board"]
    assert fit["measured"] is False and fit["method"] == "estimate"


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


MAP = """\
Archive member included to satisfy reference by file (symbol)

Discarded input sections

 .text.unused   0x00000000       0x40 /c/ab12/mcugen_obj/m.o

Memory Configuration

Linker script and memory map

.text           0x00000000      0x200
 .text.main     0x00000000       0x20 /tmp/cc1.o
 .text.m_invoke_multi
                0x00000020       0x30 /c/ab12.tmp77/mcugen_obj/m.o
                0x00000020                m_invoke_multi
 *fill*         0x00000050        0x4
 .text          0x00000054       0x30 /usr/lib/gcc/x/libgcc.a(_aeabi_uldivmod.o)
 .text          0x00000084       0x2bc /usr/lib/gcc/x/libgcc.a(_udivmoddi4.o)
 .text          0x00000340       0xdc /usr/lib/x/libg_nano.a(lib_a-strlen.o)
 .text          0x0000041c       0x34 /usr/lib/x/libg_nano.a(lib_a-memcpy.o)

.rodata         0x00000450       0x10
 .rodata.w      0x00000450       0x10 /c/ab12.tmp77/mcugen_obj/runtime/src/k.o

.bss            0x20000000      0x120 load address 0x00000460
 .bss.in_buf    0x20000000       0x20 /tmp/cc1.o
 .bss.arena     0x20000020      0x100 /c/ab12.tmp77/mcugen_obj/m.o

Cross Reference Table

Symbol                                            File
__aeabi_uldivmod                                  /usr/lib/gcc/x/libgcc.a(_aeabi_uldivmod.o)
                                                  /c/ab12.tmp77/mcugen_obj/runtime/src/k.o
__udivmoddi4                                      /usr/lib/gcc/x/libgcc.a(_udivmoddi4.o)
                                                  /usr/lib/gcc/x/libgcc.a(_aeabi_uldivmod.o)
a_symbol_name_long_enough_to_push_the_file_to_the_next_line
                                                  /usr/lib/x/libg_nano.a(lib_a-memcpy.o)
                                                  /tmp/cc1.o
                                                  /c/ab12.tmp77/mcugen_obj/m.o
strlen                                            /usr/lib/x/libg_nano.a(lib_a-strlen.o)
                                                  /tmp/cc1.o
"""


def test_map_reading_and_the_models_share():
    sections, cref = budget.parse_map(MAP)
    got = {(s.out, s.name, s.file): s.size for s in sections}
    assert got[(".text", ".text.m_invoke_multi", "mcugen_obj/m.o")] == 0x30  # name on its own line
    assert (".text", ".text.unused", "mcugen_obj/m.o") not in got  # discarded by --gc-sections
    assert not any(s.name.startswith("*") for s in sections)
    assert cref["__udivmoddi4"] == ["libgcc.a(_udivmoddi4.o)", "libgcc.a(_aeabi_uldivmod.o)"]
    keep = budget.model_closure(cref)
    # memcpy, used by harness and model alike, is the model's; strlen (harness only) is not;
    # __udivmoddi4 comes in through another member the model pulls in
    assert {"libgcc.a(_aeabi_uldivmod.o)", "libgcc.a(_udivmoddi4.o)", "libg_nano.a(lib_a-memcpy.o)"} <= keep
    assert "libg_nano.a(lib_a-strlen.o)" not in keep and "/tmp/cc1.o" not in keep
    kinds = {".text": "text", ".rodata": "rodata", ".bss": "bss"}
    sizes = budget._sum_sizes(sections, kinds, lambda f: f in keep or budget.is_model_object(f))
    assert sizes == {"text": 0x30 + 0x30 + 0x2bc + 0x34, "rodata": 0x10, "data": 0, "bss": 0x100}
