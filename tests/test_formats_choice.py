"""Choosing weight formats: structure read from the weights, the cost model's
picks under --optimize, --format overrides and their grammar, the board
budget, and dense models left as plain dense code."""
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import FIXTURES, ROOT, shared_model
from mcugen import frontend
from mcugen.codegen.generate import build
from mcugen.errors import McugenError
from mcugen.plan import formats as F

COMPRESSED = FIXTURES / "compressed"
MANIFEST = json.loads((COMPRESSED / "manifest.json").read_text())


def _load(name):
    return frontend.load(COMPRESSED / f"{name}.tflite")


# ---- structure --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mlp_dense", "mlp_prune80", "mlp_cluster16", "lenet_prune92_cluster32", "lenet_cluster4"])
def test_structure_matches_the_fixture_facts(name):
    st = F.analyze(_load(name))
    facts = MANIFEST["models"][name]["tensors"]
    assert len(st) == len(facts)
    for s, f in zip(st.values(), facts):
        assert list(s.shape) == f["shape"]
        assert s.density == pytest.approx(f["int8_density"], abs=1e-6)
        assert s.distinct == f["int8_distinct"]
        assert s.distinct_per_channel == f["int8_max_distinct_per_channel"]
        assert s.zero_channels == f["all_zero_channels"]
        assert 0.0 <= s.entropy_bits <= 8.0


def test_structure_flags_pruned_and_clustered():
    p = F.analyze(_load("mlp_prune92"))
    c = F.analyze(_load("mlp_cluster16"))
    d = F.analyze(_load("mlp_dense"))
    assert all(s.pruned and not s.clustered for s in p.values())
    assert all(s.clustered and not s.pruned and s.lut_bits_per_channel <= 4 for s in c.values())
    assert not any(s.pruned or s.clustered for s in d.values())


# ---- the chooser ------------------------------------------------------------------------------


def test_csr_on_pruned_lut_on_clustered():
    for opt in ("size", "balanced"):
        f = F.choose_formats(_load("mlp_prune92"), opt, huffman="off")
        assert all(x.kind == "csr" for x in f.values()), (opt, f)
    f = F.choose_formats(_load("mlp_cluster16"), "size", huffman="off")
    assert all(x.kind == "lut" for x in f.values()), f
    f = F.choose_formats(_load("mlp_prune92_cluster32"), "size", huffman="off")
    assert sum(x.kind == "csr_lut" for x in f.values()) >= 2, f


@pytest.mark.parametrize("name", ["lenet_cluster4", "lenet_cluster16", "mlp_cluster4", "lenet_prune80",
                                  "mlp_prune92_cluster32"])
def test_size_stores_no_more_than_any_single_format(name):
    """--optimize size against every layer in one storage (each layer at
    the narrowest LUT width its values allow): it may trade weight bytes for
    kernel code only when the kernel is larger than the bytes saved, so its
    generated weights plus the code of its kernels are never above theirs."""
    from mcugen.plan.formats import code_bytes

    g = _load(name)
    st = F.analyze(g)

    def flash(fm):
        gen = build(g, formats=fm)
        return gen.report["weight_bytes"] + code_bytes({s for c in gen.calls for s in c.sources})

    best = flash(F.choose_formats(g, "size"))
    for t in ("dense", "csr4", "csr8", "lutNpc", "lutN", "csr4+lutNpc", "lutNpc+huffman-stream"):
        fm = {k: F.instantiate(t, x) or F.DENSE for k, x in st.items()}
        assert best <= flash(fm), (t, best, flash(fm))


def test_code_bytes_match_the_compiled_runtime(tmp_path):
    """The chooser charges each kernel's .text once per model; stale figures
    once made --optimize size keep dense+Huffman over 2-bit lookup tables
    that were 30% smaller."""
    import shutil

    from mcugen.boards import get_board
    from mcugen.harness import qemu

    if shutil.which(qemu.CROSS_CC) is None:
        pytest.skip("arm-none-eabi-gcc missing: run tools/install_toolchain.sh")
    flags = get_board("MPS2-AN386").cflags
    for src in sorted((ROOT / "runtime_c" / "src").glob("*.c")):
        o = tmp_path / (src.stem + ".o")
        subprocess.run([qemu.CROSS_CC, *flags, "-O2", "-std=c99", "-ffunction-sections",
                        f"-I{ROOT / 'runtime_c/include'}", f"-I{ROOT / 'runtime_c/src'}", "-c", str(src), "-o", str(o)],
                       check=True, capture_output=True)
        text = qemu.size_of(o)["text"]
        assert src.name in F.CODE_BYTES, f"{src.name} ({text} B) missing from formats.CODE_BYTES"
        assert abs(F.CODE_BYTES[src.name] - text) <= max(64, text // 20), (src.name, F.CODE_BYTES[src.name], text)


def test_optimize_orders_flash_and_time():
    g = _load("lenet_prune92_cluster32")
    ch = {opt: F.choose(g, opt) for opt in F.OPTIMIZE}

    def total(c, what):
        return sum(getattr(next(x for x in c.costs[k] if x.fmt == f), what) for k, f in c.formats.items())

    dense = sum(next(x for x in c if x.fmt == F.DENSE).flash for c in ch["size"].costs.values())
    assert total(ch["size"], "flash") <= total(ch["balanced"], "flash") < dense
    assert total(ch["speed"], "instr") <= total(ch["balanced"], "instr") <= total(ch["size"], "instr")
    # size is at least 5x smaller than int8 (biases and requantization tables included)
    assert total(ch["size"], "flash") * 5 < dense


def test_balanced_leaves_unstructured_models_dense_and_the_code_unchanged():
    for g in (_load("mlp_dense"), frontend.load(shared_model("kws01_dscnn_int8")),
              frontend.load(shared_model("ic01_resnet8_int8"))):
        f = F.choose_formats(g)
        assert all(x == F.DENSE for x in f.values()), f
        assert build(g, formats=f).files == build(g).files


def test_huffman_modes():
    g = _load("mlp_prune80")
    assert not any(f.huffman for f in F.choose_formats(g, "size", huffman="off").values())
    for mode in ("init", "stream"):
        f = F.choose_formats(g, "balanced", huffman=mode)
        assert mode in {x.huffman for x in f.values()} <= {mode, None}
        gen = build(g, formats=f)
        assert gen.coded and all(t.mode == mode for ts in gen.coded.values() for t in ts)
        # a layer left uncoded has no table worth coding
        for k, x in f.items():
            if x.huffman is None:
                assert not build(g, formats={k: F.WeightFormat(x.kind, x.index_bits, x.lut_bits, x.lut_per_channel,
                                                               mode)}).coded
    # auto under size codes where it saves flash, in stream mode (least RAM)
    f = F.choose_formats(g, "size")
    assert any(x.huffman == "stream" for x in f.values())


def test_overrides_win():
    g = _load("mlp_prune92_cluster32")
    f = F.choose_formats(g, "speed", overrides=["0=lut5pc", "2=dense+huffman", "1=csr8+lut5pc+huffman-stream"])
    assert str(f[0]) == "lut5pc"
    assert str(f[1]) == "csr8+lut5pc+huffman-stream"
    assert str(f[2]) == "dense+huffman-init"
    f = F.choose_formats(g, "size", overrides=["all=csr4"], huffman="stream")
    assert all(str(x) == "csr4" for x in f.values())
    f = F.choose_formats(g, overrides=["all=csr4+huffman"], huffman="stream")
    assert all(str(x) == "csr4+huffman-stream" for x in f.values())


def test_board_budget_moves_layers_to_smaller_formats():
    from mcugen.budget import check_budget
    from mcugen.errors import BudgetError

    g = _load("mlp_prune80")
    fast = F.choose_formats(g, "speed", huffman="off")
    assert all(f == F.DENSE for f in fast.values())  # 272 KB of tables: more than MICROBIT's 256 KiB of flash
    with pytest.raises(BudgetError):
        check_budget(g, "MICROBIT", gen=build(g, formats=fast))
    f = F.choose_formats(g, "speed", board="MICROBIT", huffman="off")
    assert any(x.kind == "csr" for x in f.values())
    check_budget(g, "MICROBIT", gen=build(g, formats=f))  # raises if it does not fit


# ---- grammar ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text,canon", [
    ("dense", "dense"), ("CSR4", "csr4"), ("csr8", "csr8"), ("lut3", "lut3"), ("lut5pc", "lut5pc"),
    ("csr4+lut5", "csr4+lut5"), ("csr8+lut2pc", "csr8+lut2pc"), ("dense+huffman", "dense+huffman-init"),
    ("csr4+huffman-stream", "csr4+huffman-stream"), ("csr4+lut5pc+huffman-init", "csr4+lut5pc+huffman-init"),
])
def test_format_grammar_round_trips(text, canon):
    f = F.parse_format(text)
    assert str(f) == canon
    assert F.parse_format(str(f)) == f


@pytest.mark.parametrize("text,words", [
    ("csr5", "4 or 8"), ("lut9", "1 to 7"), ("lut0", "1 to 7"), ("sparse", "not a weight format"),
    ("csr4+huffman-later", "neither init nor stream"), ("lut4+csr4", "not a weight format"),
])
def test_bad_formats_are_explained(text, words):
    with pytest.raises(McugenError, match=words):
        F.parse_format(text)


@pytest.mark.parametrize("spec,words", [
    ("0csr4", "lacks '='"), ("x=csr4", "not an operator index"), ("99=csr4", "has 8 operators"),
    ("1=csr4", r"operator 1 \(MAX_POOL_2D\) has no constant int8 weights"),
    ("5=lut3", "more than 3-bit indices can address; use at least"),
])
def test_bad_overrides_are_explained(spec, words):
    g = _load("lenet_prune50")
    with pytest.raises(McugenError, match=words):
        F.resolve_overrides(g, [spec])


@pytest.mark.parametrize("args", [["--format", "0=csr5"], ["--format", "9=dense"], ["--format", "all"],
                                  ["--optimize", "fast"], ["--huffman", "always"]])
def test_cli_bad_format_is_one_line_exit_2(tmp_path, args):
    r = subprocess.run([sys.executable, "-m", "mcugen", "generate", str(COMPRESSED / "mlp_dense.tflite"),
                        "-o", str(tmp_path / "out"), *args], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    errors = [l for l in r.stderr.splitlines() if "error:" in l]
    assert len(errors) == 1, r.stderr
    assert not (tmp_path / "out").exists()


def test_cli_generate_prints_and_reports_compression(tmp_path, capsys):
    from mcugen import cli

    out = tmp_path / "gen"
    assert cli.main(["generate", str(COMPRESSED / "mlp_prune92_cluster32.tflite"), "-o", str(out),
                     "--optimize", "size"]) == 0
    text = capsys.readouterr().out
    assert "entropy B" in text and "Huffman:" in text and "smaller" in text
    rep = json.loads((out / "mcugen_report.json").read_text())
    comp = rep["compression"]
    assert [r["layer"] for r in comp["layers"]] == [0, 1, 2]
    t = comp["totals"]
    assert t["int8_bytes"] == 784 * 300 + 300 * 100 + 100 * 10
    assert t["weight_bytes"] == sum(r["weight_bytes"] for r in comp["layers"])
    assert t["ratio"] == pytest.approx(t["int8_bytes"] / t["weight_bytes"], rel=1e-3)
    assert t["ratio"] > 7
    assert rep["optimize"] == "size"
    for r in comp["layers"]:
        assert r["format"] == rep["layers"][r["layer"]]["format"]
        assert r["density"] == pytest.approx(0.08, abs=0.001)
        b = r["bytes"]
        assert b["int8"] == r["weights"]
        stages = [v for v in (b["int8"], b["pruned"], b["quantized"], b["huffman"]) if v is not None]
        assert stages[-1] == r["weight_bytes"] < b["int8"]
        if b["huffman"] is not None:  # coding never grows a table: uncoded tables stay as they are
            assert b["huffman"] < stages[-2]
            assert r["huffman_coded_bytes"] <= 1.03 * r["huffman_entropy_bytes"]
