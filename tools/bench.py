#!/usr/bin/env python3
"""`make bench`: the MLPerf Tiny models through mcugen, measured.

For each shared model and each emulated core (M4 mps2-an386, M55 mps3-an547,
M7 mps2-an500): exact guest instructions per inference under QEMU (TCG
plugin), instructions per MAC, flash and RAM of the model library, arena
beside TFLM's, and bit-exactness against the numpy reference (itself
bit-exact with TFLM). Then the same generated C on the x86 host under
callgrind beside the tflite-micro wheel's interpreter, and a per-layer
profile on M4. Writes BENCHMARKS.md and the summary block of README.md.

Then the compressed-weight formats: every compressed fixture
(tests/fixtures/compressed) and the shared models in a set of formats
(one storage on every layer, and what --optimize picks), each with its
weight bytes, arena bytes and exact M4 instructions per inference.

usage: tools/bench.py --shared DIR --out BENCHMARKS.md --readme README.md
       tools/bench.py --compressed-only --out BENCHMARKS_COMPRESSED.md   (just the formats section)
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mcugen import batch as batch_io, frontend, reference  # noqa: E402
from mcugen.boards import get_board  # noqa: E402
from mcugen.codegen.generate import build as generate_build  # noqa: E402
from mcugen.harness import firmware, qemu  # noqa: E402
from mcugen.plan import formats as wf  # noqa: E402
from mcugen.report_compression import compression_report  # noqa: E402

MODELS = [("ad01", "ad01_int8"), ("ic01", "ic01_resnet8_int8"), ("kws01", "kws01_dscnn_int8"),
          ("vww01", "vww01_mobilenet_int8")]
CORES = [("M4", "MPS2-AN386"), ("M55", "MPS3-AN547"), ("M7", "MPS2-AN500")]
PROFILE_CORE = "M4"
PROFILE_MODEL = "vww01"  # most layers and layer classes; full per-layer table
N_SAMPLES = 5
SEED = 0

# From ../shared/models/README.md (measured by the project with CMSIS-NN
# 99f736a6 called layer by layer, gcc 12.2 -O2, QEMU 7.2, same counting method).
CMSIS_NN = {
    "M4": {"ad01": 579_813, "ic01": 29_858_330, "kws01": 7_695_174, "vww01": 24_091_954},
    "M55": {"ad01": 146_831, "ic01": 4_906_440, "kws01": 1_810_833, "vww01": 6_547_691},
    "M7": {"ad01": 580_073, "ic01": 30_021_192, "kws01": 7_640_939, "vww01": 24_015_480},
}
CMSIS_NN_FLASH_M4 = {"ad01": 278_420, "ic01": 103_108, "kws01": 53_924, "vww01": 270_412}
CMSIS_NN_RAM_M4 = {"ad01": 848, "ic01": 51_552, "kws01": 16_352, "vww01": 56_560}
TFLM_ARENA = {"ad01": 3_984, "ic01": 55_984, "kws01": 24_272, "vww01": 103_680}
TFLM_HOST_README = {"ad01": 2_505_760, "ic01": 135_406_806, "kws01": 51_015_774, "vww01": 121_997_412}
TFLM_INVOKE = "tflite::micro::MicroInterpreter::Invoke()"


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def n(v) -> str:
    return f"{v:,}" if isinstance(v, int) else str(v)


def ratio(a, b, digits=2) -> str:
    return f"{a / b:.{digits}f}" if isinstance(a, (int, float)) and b else "-"


def md_table(headers: list[str], rows: list[list], right: set[int] | None = None) -> str:
    right = right if right is not None else set(range(1, len(headers)))
    out = ["| " + " | ".join(headers) + " |",
           "|" + "|".join("---:" if j in right else "---" for j in range(len(headers))) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def _short(e: Exception) -> str:
    return str(e).splitlines()[0][:160]


# --- QEMU ---------------------------------------------------------------------------

def measure_core(graph, gen, board: str, batch, ref) -> dict:
    fw = firmware.build_model_firmware(graph, board, gen=gen)
    outs, counts = firmware.run_model_firmware(fw, batch)
    exact = all(np.array_equal(o, r) for o, r in zip(outs, ref))
    t = counts.total_per_inference
    return {"instr": t[0], "mean": sum(t) / len(t), "min": min(t), "max": max(t), "exact": exact,
            "model_sizes": fw.model_sizes, "sizes": fw.sizes, "flash": fw.model_flash, "ram": fw.model_ram}


def layer_class(graph, op) -> str:
    if op.kind == "CONV_2D":
        w = graph.t(op.inputs[1])
        kh, kw, cin = w.shape[1], w.shape[2], w.shape[3]
        if cin <= 4:
            return f"conv {kh}x{kw}, {cin} input channel" + ("s" if cin > 1 else "")
        return "conv 1x1" if (kh, kw) == (1, 1) else f"conv {kh}x{kw}"
    if op.kind == "DEPTHWISE_CONV_2D":
        w = graph.t(op.inputs[1])
        s = op.options.stride_h
        return f"depthwise {w.shape[1]}x{w.shape[2]}" + (f" stride {s}" if s != 1 else "")
    return op.kind.lower().replace("_", " ")


def profile_model(graph, gen, board: str, batch) -> dict:
    fw = firmware.build_model_firmware(graph, board, gen=gen, profile=True)
    _, counts = firmware.run_model_firmware(fw, [x[:1] for x in batch])
    layers, overhead = firmware.split_profile(fw, counts)
    rows = []
    for l, c, op in zip(fw.report["layers"], layers[0], graph.operators):
        rows.append({"index": l["index"], "op": l["op"], "kernel": l["kernel"], "macs": l["macs"], "instr": c,
                     "cls": layer_class(graph, op)})
    return {"rows": rows, "total": counts.total_per_inference[0], "overhead": overhead[0], "fw": fw}


# --- compressed weight formats ------------------------------------------------------

COMPRESSED_DIR = ROOT / "tests" / "fixtures" / "compressed"
COMPRESSED_CORE = "M4"
# one storage on every layer (N: the narrowest LUT width each layer allows), then the chooser's picks
COMPRESSED_TEMPLATES = ["csr4", "csr8", "lutNpc", "csr4+lutNpc"]
COMPRESSED_CHOICES = [("balanced", "auto"), ("speed", "auto"), ("size", "auto"), ("size", "init")]
COMPRESSED_SAMPLES = 2


def compressed_runs(graph, shared: bool = False) -> list[tuple[str, dict]]:
    """(label, formats) pairs to measure for one model, duplicates dropped."""
    st = wf.analyze(graph)
    runs = [("dense", {})]
    for t in ([] if shared else COMPRESSED_TEMPLATES):
        fm = {k: wf.instantiate(t, x) for k, x in st.items()}
        if all(f is not None for f in fm.values()):
            runs.append((f"all {t}", fm))
    for opt, huff in COMPRESSED_CHOICES:
        label = f"--optimize {opt}" + (f" --huffman {huff}" if huff != "auto" else "")
        runs.append((label, wf.choose_formats(graph, opt, huffman=huff)))
    out: dict[tuple, list] = {}  # one run per distinct choice, all its labels
    for label, fm in runs:
        key = tuple(sorted((k, str(f)) for k, f in fm.items() if f != wf.DENSE))
        if key in out:
            out[key][0] += f" = {label}"
        else:
            out[key] = [label, fm]
    return [(label, fm) for label, fm in out.values()]


def measure_formats(graph, fm: dict, batch, want, board: str) -> dict:
    gen = generate_build(graph, formats=fm)
    comp = compression_report(graph, gen)
    fw = firmware.build_model_firmware(graph, board, gen=gen)
    outs, counts = firmware.run_model_firmware(fw, batch)
    t = counts.total_per_inference
    h = comp["totals"].get("huffman")
    return {"formats": wf.summarize(fm), "weights": gen.report["weight_bytes"], "arena": gen.report["arena_bytes"],
            "init_ram": gen.report.get("ram_weight_bytes", 0), "flash": fw.model_flash, "ram": fw.model_ram,
            "instr": t[-1], "first": t[0], "exact": all(np.array_equal(o, w) for o, w in zip(outs, want)),
            "int8": comp["totals"]["int8_bytes"], "stored": comp["totals"]["weight_bytes"],
            "entropy": comp["totals"]["entropy_bound_bytes"], "huffman": h}


def bench_compressed(shared_dir: Path | None) -> dict:
    board = dict(CORES)[COMPRESSED_CORE]
    models = [(p.stem, p, False) for p in sorted(COMPRESSED_DIR.glob("*.tflite"))]
    if shared_dir is not None:
        models += [(key, shared_dir / f"{fname}.tflite", True) for key, fname in MODELS]
    out = {}
    for key, path, shared in models:
        rows = out[key] = []
        try:
            graph = frontend.load(path)
            npz = path.with_suffix(".npz")
            if npz.is_file():
                z = np.load(npz)
                batch = [z["input_0"][:COMPRESSED_SAMPLES]]
                want = [z["output_0"][:COMPRESSED_SAMPLES]]
            else:
                batch = batch_io.random_inputs(graph, COMPRESSED_SAMPLES, seed=SEED)
                want = reference.run_batch(graph, batch)
            runs = compressed_runs(graph, shared)
        except Exception as e:
            log(f"{key}: {e}")
            rows.append({"label": "-", "error": _short(e)})
            continue
        for label, fm in runs:
            log(f"{key}: {label} on {COMPRESSED_CORE}")
            try:
                rows.append({"label": label, **measure_formats(graph, fm, batch, want, board)})
            except Exception as e:
                log(f"{key} {label}: {e}")
                rows.append({"label": label, "error": _short(e)})
    return out


def compressed_section(res: dict) -> list[str]:
    L = [f"## Compressed weights on {COMPRESSED_CORE} ({dict(CORES)[COMPRESSED_CORE]})\n"]
    L.append("Each model in a set of weight formats: one storage on every layer with weights (`all csr4` …; "
             "`lutNpc` = per-output-channel codebooks, each layer with the narrowest width its values allow), "
             "then what `--optimize balanced|speed|size` picks. \"weights\" = the generated constant tables "
             "(Huffman code tables and folded biases included), \"int8 → stored\" = the weight tables alone "
             "against the model's int8 weights (`mcugen_report.json` \"compression\"), \"init RAM\" = tables "
             "a Huffman-init build decodes into static RAM, flash/RAM = the model library measured from the ELF. "
             "Instructions: exact QEMU count per inference (after the first, which in Huffman-init builds also "
             f"decodes the tables: \"first\"); bit-exact against TFLM's outputs (fixtures) or the reference "
             f"(shared models) on {COMPRESSED_SAMPLES} samples.\n")
    for key, rows in res.items():
        L.append(f"### {key}\n")
        dense = next((r for r in rows if r.get("label", "").startswith("dense") and "error" not in r), None)
        table = []
        for r in rows:
            if "error" in r:
                table.append([r["label"], "failed: " + r["error"]] + [""] * 9)
                continue
            table.append([r["label"], r["formats"], n(r["weights"]), f"{n(r['int8'])} → {n(r['stored'])} "
                          f"({ratio(r['int8'], r['stored'])}×)", n(r["flash"]), n(r["arena"]), n(r["init_ram"]),
                          n(r["instr"]), ratio(r["instr"], dense["instr"]) if dense else "-",
                          n(r["first"]) if r["first"] != r["instr"] else "", "yes" if r["exact"] else "**NO**"])
        L.append(md_table(["run", "formats", "weights B", "int8 → stored B", "flash B", "arena B", "init RAM B",
                           "instr", "÷ dense", "first", "bit-exact"], table, right={2, 4, 5, 6, 7, 8, 9}) + "\n")
        hs = [r for r in rows if "error" not in r and r["huffman"]]
        if hs:
            L.append("Huffman-coded tables: " + "; ".join(
                f"{r['label']}: {r['huffman']['coded_bytes']:,.0f} B of codes for an entropy bound of "
                f"{r['huffman']['entropy_bytes']:,.0f} B ({100 * r['huffman']['over_entropy']:+.2f}%), plus "
                f"{r['huffman']['code_table_bytes']:,} B of code tables" for r in hs) + "\n")
    return L


# --- calibrating the format chooser's cost model ---------------------------------------

CALIBRATION_RUNS = [
    ("mlp_prune50", ["all=dense", "all=csr4", "all=csr8"]),
    ("mlp_prune92_cluster32", ["all=csr4", "all=csr8", "all=csr4+lutNpc", "all=csr8+lutNpc", "all=lutNpc"]),
    ("mlp_cluster4", ["all=lutNpc", "all=lutN"]),
    ("lenet_prune80", ["all=dense", "all=csr4", "all=csr8"]),
    ("lenet_cluster16", ["all=lutNpc", "all=csr4+lutNpc"]),
    ("lenet_prune92", ["all=csr4", "all=csr8"]),
    ("kws01", ["all=dense", "all=csr4", "all=lutNpc", "all=csr8+lutNpc"]),
    ("vww01", ["all=dense", "all=csr4"]),
]


def calibrate(shared_dir: Path | None) -> str:
    """Exact M4 counts of every weight layer in several formats, fitted per
    (op kind, format kind, per-channel LUT) to instructions = a * executed
    MACs + b * outputs + c * gathered input bytes (formats.cost_features;
    non-negative, relative least squares); and the .text bytes of each
    runtime source. Prints formats.INSTR_MODEL / CODE_BYTES."""
    board = dict(CORES)[COMPRESSED_CORE]
    data = {}
    for key, specs in CALIBRATION_RUNS:
        path = COMPRESSED_DIR / f"{key}.tflite"
        if not path.is_file():
            fname = dict(MODELS).get(key)
            if not fname or shared_dir is None:
                continue
            path = shared_dir / f"{fname}.tflite"
        graph = frontend.load(path)
        st = wf.analyze(graph)
        batch = batch_io.random_inputs(graph, 1, seed=SEED)
        for spec in specs:
            t = spec.split("=", 1)[1]
            fm = {k: wf.instantiate(t, x) or wf.DENSE for k, x in st.items()}
            log(f"calibrating: {key} {spec}")
            gen = generate_build(graph, formats=fm)
            fw = firmware.build_model_firmware(graph, board, gen=gen, profile=True)
            _, counts = firmware.run_model_firmware(fw, batch)
            layers, _ = firmware.split_profile(fw, counts)
            for k in st:
                f, op = fm[k], graph.operators[k]
                data.setdefault((op.kind, f.kind, f.lut_per_channel), []).append(
                    (*wf.cost_features(graph, k, gen.calls[k].macs), layers[0][k]))
    lines = ["INSTR_MODEL = {"]
    for key, rows in sorted(data.items()):
        X = np.array([r[:3] for r in rows], float)
        y = np.array([r[3] for r in rows], float)
        A, b = X / y[:, None], np.ones(len(y))
        active = [j for j in range(3) if X[:, j].any()]
        while True:
            c = np.linalg.lstsq(A[:, active], b, rcond=None)[0]
            if (c >= 0).all() or len(active) == 1:
                break
            active.pop(int(np.argmin(c)))
        coef = np.zeros(3)
        coef[active] = np.maximum(c, 0)
        err = np.abs(X @ coef - y) / y
        lines.append(f"    {key!r}: ({coef[0]:.2f}, {coef[1]:.1f}, {coef[2]:.2f}),  # {len(rows)} layers, "
                     f"median error {100 * np.median(err):.0f}%")
    lines.append("}")
    code = {}
    for src in sorted((ROOT / "runtime_c" / "src").glob("*.c")):
        with tempfile.TemporaryDirectory() as d:
            o = Path(d) / "x.o"
            r = subprocess.run([qemu.CROSS_CC, *get_board(board).cflags, "-O2", "-std=c99", "-ffunction-sections",
                                f"-I{ROOT / 'runtime_c/include'}", f"-I{ROOT / 'runtime_c/src'}", "-c", str(src),
                                "-o", str(o)], capture_output=True, text=True)
            if r.returncode == 0:
                code[src.name] = qemu.size_of(o)["text"]
    lines.append("CODE_BYTES = {" + ", ".join(f"{k!r}: {v}" for k, v in code.items()) + "}")
    return "\n".join(lines)


# --- host (callgrind) ---------------------------------------------------------------

HOST_RUNNER = """\
#include <stdio.h>
#include "{name}.h"
static unsigned char in_buf[{in_bytes}], out_buf[{out_bytes}];
int main(int argc, char **argv)
{{
    const void *ins[{n_in}] = {{{ins}}};
    void *outs[{n_out}] = {{{outs}}};
    FILE *f = fopen(argv[1], "rb");
    if (argc != 3 || !f || fread(in_buf, 1, sizeof in_buf, f) != sizeof in_buf) return 2;
    fclose(f);
    for (int i = 0; i < 3; i++)
        if ({name}_invoke_multi(ins, outs) != 0) return 3;
    f = fopen(argv[2], "wb");
    if (!f || fwrite(out_buf, 1, sizeof out_buf, f) != sizeof out_buf) return 4;
    return fclose(f) != 0;
}}
"""


def _offsets(sizes):
    at, offs = 0, []
    for s in sizes:
        offs.append(at)
        at += s
    return offs, at


def _callgrind(cmd: list[str], fn: str, work: Path, timeout: float) -> list[int]:
    """Instructions of each call of `fn` (one dump per return)."""
    out = work / "cg.out"
    full = ["valgrind", "--tool=callgrind", "--collect-atstart=no", f"--toggle-collect={fn}", f"--dump-after={fn}",
            f"--callgrind-out-file={out}", *cmd]
    r = subprocess.run(full, capture_output=True, text=True, timeout=timeout, cwd=work)
    if r.returncode != 0:
        raise RuntimeError(f"valgrind {' '.join(cmd[:2])} failed: {r.stderr.strip()[-800:]}")
    parts = []
    for p in work.glob("cg.out.*"):
        text = p.read_text(errors="replace")
        part = re.search(r"^part: (\d+)", text, re.M)
        total = re.search(r"^summary: (\d+)", text, re.M)
        if part and total:
            parts.append((int(part.group(1)), int(total.group(1))))
    return [t for _, t in sorted(parts)]


def host_ours(graph, gen, batch, ref) -> dict:
    in_sizes = [graph.t(i).nbytes for i in graph.inputs]
    out_sizes = [graph.t(i).nbytes for i in graph.outputs]
    ioffs, in_bytes = _offsets(in_sizes)
    ooffs, out_bytes = _offsets(out_sizes)
    with tempfile.TemporaryDirectory(prefix="mcugen-bench-") as d:
        work = Path(d)
        for rel, data in gen.files.items():
            p = work / "gen" / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        (work / "runner.c").write_text(HOST_RUNNER.format(
            name=gen.name, in_bytes=in_bytes, out_bytes=out_bytes, n_in=len(in_sizes), n_out=len(out_sizes),
            ins=", ".join(f"in_buf + {o}" for o in ioffs), outs=", ".join(f"out_buf + {o}" for o in ooffs)))
        g = work / "gen"
        srcs = [g / f"{gen.name}.c", g / f"{gen.name}_weights.c", work / "runner.c"] + \
            [g / "runtime/src" / s for s in gen.report["runtime_sources"]]
        cc = os.environ.get("CC", "gcc")
        r = subprocess.run([cc, "-std=c99", "-O2", "-g", f"-I{g}", f"-I{g / 'runtime/include'}",
                            f"-I{g / 'runtime/src'}", *map(str, srcs), "-o", str(work / "runner"), "-lm"],
                           capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            raise RuntimeError(f"host build failed: {r.stderr.strip()[-800:]}")
        (work / "in.bin").write_bytes(b"".join(np.ascontiguousarray(x[0]).tobytes() for x in batch))
        calls = _callgrind([str(work / "runner"), "in.bin", "out.bin"], f"{gen.name}_invoke_multi", work, 600)
        raw = (work / "out.bin").read_bytes()
    exact = raw == b"".join(np.ascontiguousarray(y[0]).tobytes() for y in ref)
    if len(calls) != 3:
        raise RuntimeError(f"callgrind saw {len(calls)} invokes, expected 3")
    return {"instr": calls[1], "exact": exact}


TFLM_SCRIPT = """\
import sys
import numpy as np
from tflite_micro.python.tflite_micro import runtime
for path, inp in zip(sys.argv[1::2], sys.argv[2::2]):
    it = runtime.Interpreter.from_file(path)
    x = np.load(inp)
    for _ in range(3):
        it.set_input(x, 0)
        it.invoke()
"""


def host_tflm(models: list[tuple[str, Path, np.ndarray]]) -> dict[str, int]:
    """TFLM wheel instructions per invoke (second of three), all models in one
    valgrind run of Python."""
    with tempfile.TemporaryDirectory(prefix="mcugen-bench-tflm-") as d:
        work = Path(d)
        (work / "tflm.py").write_text(TFLM_SCRIPT)
        args = []
        for key, path, x in models:
            np.save(work / f"{key}.npy", x)
            args += [str(path), str(work / f"{key}.npy")]
        calls = _callgrind([sys.executable, str(work / "tflm.py"), *args], TFLM_INVOKE, work, 3600)
    if len(calls) != 3 * len(models):
        raise RuntimeError(f"callgrind saw {len(calls)} TFLM invokes, expected {3 * len(models)}")
    return {key: calls[3 * j + 1] for j, (key, _, _) in enumerate(models)}


# --- report -------------------------------------------------------------------------

def machine_text() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def first_line(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.splitlines()[0].strip()
        except (OSError, IndexError, subprocess.SubprocessError):
            return "?"

    try:
        tflm_v = importlib.metadata.version("tflite-micro")
    except importlib.metadata.PackageNotFoundError:
        tflm_v = "?"
    return (f"{platform.system()} {platform.release()} {platform.machine()}, {cpu}, {os.cpu_count()} CPUs; "
            f"Python {platform.python_version()}; {first_line([qemu.CROSS_CC, '--version'])}; "
            f"{first_line([qemu.QEMU, '--version'])}; host {first_line([os.environ.get('CC', 'gcc'), '--version'])}; "
            f"{first_line(['valgrind', '--version'])}; tflite-micro {tflm_v}")


def cell(res: dict | None, key: str):
    if res is None:
        return "-"
    if "error" in res:
        return "failed"
    return res[key]


def summary_table(results, cores) -> str:
    """The README block: one row per model."""
    rows = []
    for key, _ in MODELS:
        r = results[key]
        row = [key, n(r.get("macs", "-"))]
        for c in cores:
            m = r["cores"].get(c)
            instr = cell(m, "instr")
            row += [n(instr), ratio(instr, r.get("macs")), ratio(instr, CMSIS_NN[c][key])]
        m4 = r["cores"].get("M4")
        row += [n(cell(m4, "flash")), n(cell(m4, "ram")), f"{n(r.get('arena', '-'))} / {n(TFLM_ARENA[key])}",
                r.get("exact_text", "-")]
        rows.append(row)
    headers = ["model", "MACs"]
    for c in cores:
        headers += [f"{c} instr", f"{c} instr/MAC", f"{c} ÷ CMSIS-NN"]
    headers += ["flash B (M4)", "RAM B (M4)", "arena / TFLM arena B", "bit-exact"]
    return md_table(headers, rows, right=set(range(1, len(headers) - 1)))


def write_benchmarks(path: Path, results, cores, host, profiles, started, elapsed, compressed: dict | None = None) -> None:
    L = []
    L.append("# mcugen benchmarks: MLPerf Tiny int8 models\n")
    L.append(f"Generated by `make bench` (`tools/bench.py`) on {started:%Y-%m-%d %H:%M} UTC in {elapsed:.0f} s.  ")
    L.append(f"Machine: {machine_text()}.\n")
    L.append("## Summary\n")
    L.append("Guest instructions for one inference under QEMU, counted exactly (not cycles). "
             "\"÷ CMSIS-NN\" is ours divided by the CMSIS-NN figure for the same core from "
             "`../shared/models/README.md`: below 1.00 means fewer instructions than CMSIS-NN. "
             "Flash and RAM are the model library alone on M4; TFLM's arena is its own allocation for the "
             "same model (reference kernels).\n")
    L.append(summary_table(results, cores) + "\n")

    L.append("## Instructions per inference by core\n")
    rows = []
    for key, _ in MODELS:
        r = results[key]
        for c in cores:
            m = r["cores"].get(c)
            if m is None:
                continue
            if "error" in m:
                rows.append([key, c, "failed: " + m["error"], "", "", "", "", ""])
                continue
            spread = "same for all" if m["min"] == m["max"] else f"{m['min']:,} – {m['max']:,}"
            rows.append([key, c, n(m["instr"]), spread, ratio(m["instr"], r["macs"]), n(CMSIS_NN[c][key]),
                         ratio(m["instr"], CMSIS_NN[c][key]), "yes" if m["exact"] else "**NO**"])
    L.append(md_table(["model", "core", "instr (sample 0)", f"range over {N_SAMPLES} samples", "instr/MAC",
                       "CMSIS-NN instr", "ours ÷ CMSIS-NN", f"bit-exact ({N_SAMPLES} samples)"], rows,
                      right={2, 4, 5, 6}) + "\n")

    L.append("## Memory (model library, M4 build)\n")
    rows = []
    for key, _ in MODELS:
        r = results[key]
        m = r["cores"].get("M4")
        if not m or "error" in m:
            rows.append([key, "failed"] + [""] * 9)
            continue
        s = m["model_sizes"]
        rows.append([key, n(s["text"]), n(r["weights"]), n(max(s["rodata"] - r["weights"], 0)), n(s["data"]),
                     n(m["flash"]), n(CMSIS_NN_FLASH_M4[key]), n(r["arena"]), n(m["ram"]), n(CMSIS_NN_RAM_M4[key]),
                     n(TFLM_ARENA[key])])
    L.append(md_table(["model", "code", "weights", "other const", ".data", "flash total", "CMSIS-NN flash",
                       "arena", "RAM (.data+.bss)", "CMSIS-NN RAM", "TFLM arena"], rows) + "\n")
    L.append("Flash = .text + .rodata + .data of the model library: the firmware ELF minus a harness-only ELF "
             "built with the same flags (so newlib's memcpy, used by the harness too, is not counted). "
             "\"weights\" are the generated constant tables (`.rodata.mcugen_weights`, folded biases "
             "included); \"other const\" are parameter structs and lookup tables. RAM = .data + .bss of the "
             "library, i.e. the arena plus any other static state; the stack is not included. CMSIS-NN "
             "figures are whole-firmware .data+.bss and flash from the shared README; TFLM's arena total "
             "includes its interpreter bookkeeping.\n")

    L.append("## Host x86-64 (callgrind)\n")
    if host.get("error"):
        L.append(f"Not measured: {host['error']}\n")
    else:
        rows = []
        for key, _ in MODELS:
            o, t = host["ours"].get(key, {}), host["tflm"].get(key)
            mac = results[key].get("macs")
            oi = o.get("instr", "failed")
            rows.append([key, n(oi), ratio(oi, mac), n(t if t is not None else "-"), ratio(t, mac),
                         ratio(oi, t, 3), n(TFLM_HOST_README[key]), "yes" if o.get("exact") else "**NO**"])
        L.append(md_table(["model", "mcugen C instr", "instr/MAC", "TFLM wheel instr", "instr/MAC",
                           "mcugen ÷ TFLM", "TFLM (shared README)", "bit-exact"], rows) + "\n")
        L.append(f"`valgrind --tool=callgrind --collect-atstart=no --toggle-collect=FN --dump-after=FN`, "
                 f"second invoke of three on the first random sample, in the same bench run: FN is "
                 f"`NAME_invoke_multi` for the generated C (host gcc -O2 -std=c99, default x86-64 target, "
                 f"no SIMD intrinsics) and `{TFLM_INVOKE}` for the tflite-micro wheel (Python under valgrind). "
                 f"The TFLM column of the shared README is the same measurement on another input.\n")

    L.append(f"## Per-layer profile on {PROFILE_CORE} ({dict(CORES)[PROFILE_CORE]})\n")
    L.append("Profile builds call a marker before each layer (`-DMCUGEN_PROFILE`); the plugin splits the "
             "count there, so a layer's figure is its kernel call plus its marker call (a few instructions). "
             "Sample 0 only.\n")
    cls = {}
    for key, p in profiles.items():
        if "error" in p:
            L.append(f"- {key}: profile failed: {p['error']}\n")
            continue
        for row in p["rows"]:
            c = cls.setdefault(row["cls"], {"instr": 0, "macs": 0, "layers": 0, "models": set()})
            c["instr"] += row["instr"]
            c["macs"] += row["macs"]
            c["layers"] += 1
            c["models"].add(key)
    grand = sum(c["instr"] for c in cls.values()) or 1
    rows = [[name, c["layers"], ", ".join(sorted(c["models"])), n(c["macs"]), n(c["instr"]),
             ratio(c["instr"], c["macs"]), f"{100.0 * c['instr'] / grand:.1f}%"]
            for name, c in sorted(cls.items(), key=lambda kv: -kv[1]["instr"])]
    L.append("### Instructions per MAC by layer class (all four models)\n")
    L.append(md_table(["layer class", "layers", "models", "MACs", "instructions", "instr/MAC", "share of all"],
                      rows, right={1, 3, 4, 5, 6}) + "\n")
    L.append("For comparison, CMSIS-NN on M4 (shared README): depthwise 3x3 7.8–8.1 instr/MAC, first "
             "convolution with 3 input channels 4.8–6.1, 1x1 convolutions 2.1–2.4 (up to 6.6 with few "
             "channels), k×k convolutions 2.1; the floor is about 0.5 (two MACs per SMLAD).\n")
    L.append("### Most expensive layers per model\n")
    rows = []
    for key, p in profiles.items():
        if "error" in p:
            continue
        for row in sorted(p["rows"], key=lambda r: -r["instr"])[:3]:
            rows.append([key, row["index"], row["cls"], row["kernel"], n(row["macs"]), n(row["instr"]),
                         ratio(row["instr"], row["macs"]), f"{100.0 * row['instr'] / p['total']:.1f}%"])
    L.append(md_table(["model", "#", "class", "kernel", "MACs", "instructions", "instr/MAC", "share"], rows,
                      right={1, 4, 5, 6, 7}) + "\n")
    p = profiles.get(PROFILE_MODEL)
    if p and "error" not in p:
        L.append(f"### {PROFILE_MODEL}, every layer\n")
        rows = [[r["index"], r["op"], r["cls"], r["kernel"], n(r["macs"]), n(r["instr"]), ratio(r["instr"], r["macs"]),
                 f"{100.0 * r['instr'] / p['total']:.1f}%"] for r in p["rows"]]
        entry, exit_ = p["overhead"]
        rows.append(["", "(entry and exit: call, input/output copies)", "", "", "", n(entry + exit_), "", ""])
        rows.append(["", "total (profile build)", "", "", n(results[PROFILE_MODEL]["macs"]), n(p["total"]),
                     ratio(p["total"], results[PROFILE_MODEL]["macs"]), "100.0%"])
        L.append(md_table(["#", "op", "class", "kernel", "MACs", "instructions", "instr/MAC", "share"], rows,
                          right={0, 4, 5, 6, 7}) + "\n")

    if compressed:
        L += compressed_section(compressed)

    L.append("## How measured\n")
    L.append(
        f"- Each model is generated by mcugen (`codegen.generate.build`), compiled with arm-none-eabi-gcc `-O2` "
        f"and the board profile's flags (`boards/*.toml`: "
        + "; ".join(f"{c} {b} `{' '.join(get_board(b).cflags)}`" for c, b in CORES if c in cores)
        + f"), linked with the bare-metal harness in "
        f"`boards/qemu/` and run on the QEMU machine named in the table (`mcugen/harness/firmware.py`).\n"
        f"- Instructions: the TCG plugin `boards/qemu/insn_count.c` counts every guest instruction from the "
        f"harness's `mcugen_bench_begin` marker to `mcugen_bench_end`, i.e. the call of `NAME_invoke_multi` "
        f"including its input and output copies. Plain (non-profile) builds; {N_SAMPLES} uniform random int8 "
        f"inputs (seed {SEED}); the table gives sample 0 and the range (counts vary slightly with the data: "
        f"clamping and softmax branches).\n"
        f"- Bit-exact: the firmware outputs of all {N_SAMPLES} samples equal the numpy reference's, which is "
        f"bit-exact with TFLM (tests/test_reference_shared_models.py).\n"
        f"- CMSIS-NN and TFLM figures are quoted from `../shared/models/README.md` (same QEMU, compiler "
        f"and counting method).\n")
    path.write_text("\n".join(L))


def update_readme(path: Path, block: str) -> None:
    if not path.is_file():
        raise SystemExit(f"bench: {path} does not exist")
    text = path.read_text()
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    i, j = text.find(start), text.find(end)
    if i < 0 or j < i:
        raise SystemExit(f"bench: {path} lacks the {start} … {end} block; not touching it")
    new = text[:i + len(start)] + "\n" + block.rstrip() + "\n" + text[j:]
    path.write_text(new)


def readme_block(results, cores, host, started) -> str:
    rows = []
    for key, _ in MODELS:
        r = results[key]
        row = [key, n(r.get("macs", "-"))]
        for c in ("M4", "M55"):
            if c not in cores:
                continue
            m = r["cores"].get(c)
            instr = cell(m, "instr")
            row += [n(instr), f"{ratio(instr, CMSIS_NN[c][key])}×" if isinstance(instr, int) else "-"]
        m4 = r["cores"].get("M4")
        row += [n(r.get("weights", "-")), n(cell(m4, "flash")), n(cell(m4, "ram")),
                f"{n(r.get('arena', '-'))} / {n(TFLM_ARENA[key])}"]
        o = host.get("ours", {}).get(key, {}) if not host.get("error") else {}
        t = host.get("tflm", {}).get(key) if not host.get("error") else None
        row.append(ratio(o.get("instr"), t, 3) + "×" if o.get("instr") and t else "-")
        row.append(r.get("exact_text", "-"))
        rows.append(row)
    headers = ["model", "MACs"]
    for c in ("M4", "M55"):
        if c in cores:
            headers += [f"{c} instr", "vs CMSIS-NN"]
    headers += ["weights B", "flash B", "RAM B", "arena / TFLM arena", "x86 vs TFLM", "bit-exact"]
    t = md_table(headers, rows, right=set(range(1, len(headers) - 1)))
    return (f"{t}\n\nInstructions per inference under QEMU (exact count; M4 = mps2-an386, M55 = mps3-an547 "
            f"built with -mcpu=cortex-m55: Helium dot products in the convolutions and fully connected layers and Helium 3x3 depthwise, the DSP code elsewhere); \"vs CMSIS-NN\" = ours ÷ CMSIS-NN's count on the same core (below 1 is better). "
            f"Weights: the generated constant tables (folded biases included). "
            f"Flash/RAM: model library on M4 (RAM = arena + static data, no stack). x86: generated C vs the "
            f"tflite-micro interpreter under callgrind. Measured {started:%Y-%m-%d}.")


# --- main ---------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", help="folder with the four MLPerf Tiny .tflite files (needed unless --compressed-only)")
    ap.add_argument("--out", default="BENCHMARKS.md")
    ap.add_argument("--readme", help="README.md whose bench block to replace")
    ap.add_argument("--cores", default=",".join(c for c, _ in CORES), help="subset of M4,M55,M7")
    ap.add_argument("--no-host", action="store_true", help="skip the callgrind measurements")
    ap.add_argument("--no-compressed", action="store_true", help="skip the compressed weight formats")
    ap.add_argument("--compressed-only", action="store_true",
                    help="only the compressed weight formats section (shared models too with --shared)")
    ap.add_argument("--calibrate", action="store_true",
                    help="refit the format chooser's instruction and code-size estimates (mcugen/plan/formats.py)")
    args = ap.parse_args(argv)
    if not args.shared and not (args.compressed_only or args.calibrate):
        ap.error("--shared is required (or --compressed-only / --calibrate)")

    why = qemu.toolchain_missing(count=True)
    if why:
        log(f"cannot measure: {why}")
        return 2
    if args.calibrate:
        print(calibrate(Path(args.shared).resolve() if args.shared else None))
        return 0
    if args.compressed_only:
        t0 = time.time()
        comp = bench_compressed(Path(args.shared).resolve() if args.shared else None)
        text = ["# mcugen benchmarks: compressed weight formats\n",
                f"Generated by `tools/bench.py --compressed-only` in {time.time() - t0:.0f} s. "
                f"Machine: {machine_text()}.\n"] + compressed_section(comp)
        Path(args.out).write_text("\n".join(text))
        log(f"wrote {args.out}")
        bad = [k for k, rows in comp.items() for r in rows if "error" in r or not r.get("exact", True)]
        return 1 if bad else 0
    cores = [c for c in args.cores.split(",") if c]
    boards = dict(CORES)
    started = datetime.datetime.now(datetime.timezone.utc)
    t0 = time.time()
    shared = Path(args.shared).resolve()
    results, profiles, graphs = {}, {}, {}
    failed = False
    for key, fname in MODELS:
        path = shared / f"{fname}.tflite"
        r = results[key] = {"cores": {}}
        try:
            graph = frontend.load(path)
            batch = batch_io.random_inputs(graph, N_SAMPLES, seed=SEED)
            ref = reference.run_batch(graph, batch)
            gen = generate_build(graph, source=path.name)
        except Exception as e:  # keep measuring the other models
            log(f"{key}: {e}")
            r["exact_text"] = "failed: " + _short(e)
            failed = True
            continue
        graphs[key] = (path, graph, gen, batch, ref)
        r.update(macs=gen.report["macs"], arena=gen.report["arena_bytes"], weights=gen.report["weight_bytes"])
        for c in cores:
            log(f"{key} on {c} ({boards[c]})")
            try:
                r["cores"][c] = measure_core(graph, gen, boards[c], batch, ref)
            except Exception as e:
                log(f"{key} on {c}: {e}")
                r["cores"][c] = {"error": _short(e)}
                failed = True
        ok = [c for c, m in r["cores"].items() if "error" not in m and m["exact"]]
        bad = [c for c in r["cores"] if c not in ok]
        failed |= bool(bad)
        r["exact_text"] = f"yes ({N_SAMPLES}/{N_SAMPLES}, {', '.join(ok)})" if not bad else "**NO**: " + ", ".join(bad)
        if PROFILE_CORE in cores:
            log(f"{key}: per-layer profile on {PROFILE_CORE}")
            try:
                profiles[key] = profile_model(graph, gen, boards[PROFILE_CORE], batch)
            except Exception as e:
                log(f"{key} profile: {e}")
                profiles[key] = {"error": _short(e)}

    host: dict = {"ours": {}, "tflm": {}}
    if args.no_host:
        host = {"error": "skipped (--no-host)"}
    elif shutil.which("valgrind") is None:
        host = {"error": "valgrind is not installed"}
    else:
        for key, (path, graph, gen, batch, ref) in graphs.items():
            log(f"{key}: host callgrind")
            try:
                host["ours"][key] = host_ours(graph, gen, batch, ref)
                failed |= not host["ours"][key]["exact"]
            except Exception as e:
                log(f"{key} host: {e}")
                host["ours"][key] = {"error": _short(e)}
                failed = True
        log("tflite-micro wheel under callgrind (Python under valgrind, takes a while)")
        try:
            host["tflm"] = host_tflm([(k, v[0], v[3][0][0]) for k, v in graphs.items()])
        except Exception as e:
            log(f"tflm host: {e}")
            host["tflm"] = {}

    compressed = None
    if not args.no_compressed:
        compressed = bench_compressed(shared)
        failed |= any("error" in r or not r.get("exact", True) for rows in compressed.values() for r in rows)

    elapsed = time.time() - t0
    out = Path(args.out)
    write_benchmarks(out, results, cores, host, profiles, started, elapsed, compressed)
    log(f"wrote {out}")
    if args.readme:
        update_readme(Path(args.readme), readme_block(results, cores, host, started))
        log(f"updated the bench block of {args.readme}")
    print(summary_table(results, cores))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
