"""The `qemu` engine: a generated model built as bare-metal firmware for a
board and run under QEMU, with exact instruction counts.

The generated library is compiled once per board into objects
(compile_library); those very objects, plus a few lines of glue
(mcugen_harness_invoke -> NAME_invoke_multi), are linked with the harness in
boards/qemu, and linked alone for the board budget (budget.link_library), so
the model's flash and RAM reported here, by `generate --board` and by the
benchmarks are one figure. Builds are cached by a hash of everything that goes
into them (generated files, glue, harness, linker scripts, flags, compiler
version), so a second run of the same model on the same board only starts QEMU.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import ir, stats
from ..boards import Board, get_board, list_boards
from ..errors import BudgetError, BuildError, InputError, McugenError
from . import qemu

# ".rodata.mcugen_weights" lands in .rodata; both are flash.
FLASH_KINDS = ("text", "rodata", "data")
RAM_KINDS = ("data", "bss")
# Folder of the model library's objects: link maps name them by it.
OBJ_DIR = "mcugen_obj"


def cache_root() -> Path:
    base = os.environ.get("MCUGEN_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "mcugen")
    return Path(base) / "firmware"


@functools.lru_cache(maxsize=None)
def _cc_version() -> str:
    try:
        return qemu._run([qemu.CROSS_CC, "--version"], "querying the cross compiler", 30).stdout.decode()
    except BuildError:
        return "?"


def _harness_fingerprint() -> bytes:
    h = hashlib.sha256()
    d = qemu.harness_dir()
    for p in sorted(list(d.glob("*.c")) + list(d.glob("*.h")) + list((d / "ld").glob("*.ld"))):
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.digest()


# --- board selection ------------------------------------------------------------

def emulated_board(board: str | Board) -> Board:
    """The board if firmware for it can run under QEMU, else a McugenError that
    names the emulated boards with the same core."""
    board = get_board(board)
    if board.qemu_machine:
        return board
    emulated = [b for b in list_boards() if b.qemu_machine]
    same = [b.name for b in emulated if b.core == board.core]
    if same:
        hint = f"emulated boards with its core ({board.core}): {', '.join(same)}"
    else:
        hint = (f"no emulated board has its core ({board.core}); emulated boards: "
                + ", ".join(f"{b.name} ({b.core})" for b in emulated if b.kind == "qemu"))
    raise McugenError(f"board {board.name} has no QEMU machine, so --engine qemu cannot run it; {hint}")


# --- building -------------------------------------------------------------------

@dataclass
class Firmware:
    """A built model firmware and what the runs need to know about it."""

    elf: Path
    board: Board
    name: str
    report: dict  # the generator's report (layers, MACs, arena …)
    in_specs: list[tuple[tuple[int, ...], np.dtype, int]]  # per model input: shape, dtype, bytes
    out_specs: list[tuple[tuple[int, ...], np.dtype, int]]
    profile: bool
    sizes: dict[str, int]  # whole firmware (size_of)
    # The model library as shipped (no profile marks), linked alone: budget.link_library.
    model_sizes: dict[str, int]
    # The same kinds measured in this ELF's link map: the input sections of the
    # model's objects and of the libgcc/newlib members they pull in.
    firmware_model_sizes: dict[str, int] = field(default_factory=dict)
    link: object = None  # budget.LinkedLibrary behind model_sizes
    build_dir: Path = field(default=Path())

    @property
    def in_bytes(self) -> int:
        return sum(s[2] for s in self.in_specs)

    @property
    def out_bytes(self) -> int:
        return sum(s[2] for s in self.out_specs)

    @property
    def model_flash(self) -> int:
        return sum(self.model_sizes[k] for k in FLASH_KINDS)

    @property
    def model_ram(self) -> int:
        """Static RAM (.data + .bss, the arena included); the stack is in link.stack."""
        return sum(self.model_sizes[k] for k in RAM_KINDS)


def _specs(graph: ir.Graph, indices: list[int]):
    out = []
    for i in indices:
        t = graph.t(i)
        out.append((tuple(t.shape), np.dtype(ir.DTYPES[t.dtype]), t.nbytes))
    return out


def glue_source(name: str, in_sizes: list[int], out_sizes: list[int]) -> str:
    """mcugen_harness_invoke over the model's inputs and outputs, each packed
    back to back in model order in the harness's buffers."""
    def ptrs(sizes):
        at, offs = 0, []
        for n in sizes:
            offs.append(at)
            at += n
        return offs

    ins = ", ".join(f"in + {o}" for o in ptrs(in_sizes))
    outs = ", ".join(f"out + {o}" for o in ptrs(out_sizes))
    return (
        "/* Generated by mcugen: binds the QEMU harness to the model. */\n"
        "#include <stdint.h>\n\n"
        '#include "mcugen_harness.h"\n'
        f'#include "{name}.h"\n\n'
        "int mcugen_harness_invoke(const int8_t *in, int8_t *out)\n"
        "{\n"
        f"    const void *ins[{len(in_sizes)}] = {{{ins}}};\n"
        f"    void *outs[{len(out_sizes)}] = {{{outs}}};\n"
        f"    return {name}_invoke_multi(ins, outs);\n"
        "}\n"
    )


def _cached_build(key_parts: list[bytes], files: dict[str, bytes], build) -> Path:
    """Directory holding `files` and whatever `build(dir)` made there, keyed by
    content; built once (into a private folder, then renamed, so parallel
    workers never see a half-built one)."""
    h = hashlib.sha256()
    for part in key_parts:
        h.update(hashlib.sha256(part).digest())
    for rel in sorted(files):
        h.update(rel.encode() + b"\0" + hashlib.sha256(files[rel]).digest())
    final = cache_root() / h.hexdigest()[:24]
    if (final / "done").is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f"{final.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        for rel, data in files.items():
            p = tmp / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        build(tmp)
        (tmp / "done").write_text("ok\n")
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / "done").is_file():  # a stale unfinished folder: replace it
                shutil.rmtree(final, ignore_errors=True)
                os.rename(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def _common_key(board: Board, defines: dict, opt: str) -> list[bytes]:
    return [_cc_version().encode(), _harness_fingerprint(), repr(board.cflags).encode(),
            str(board.qemu_machine).encode(), repr(sorted(defines.items())).encode(), opt.encode()]


def library_cflags(board: Board, opt: str = "-O2") -> list[str]:
    """What qemu.build_firmware compiles with, so the objects are the firmware's."""
    return [*board.cflags, opt, "-g", "-masm-syntax-unified", "-ffunction-sections", "-fdata-sections", "-Wall"]


def library_sources(gen) -> list[str]:
    return [f"{gen.name}.c", f"{gen.name}_weights.c"] + [f"runtime/src/{s}" for s in gen.report["runtime_sources"]]


def compile_library(gen, board: str | Board, opt: str = "-O2", defines: dict | None = None
                    ) -> tuple[Path, list[str]]:
    """The generated library compiled for `board`: a cached folder holding gen/
    (the sources) and OBJ_DIR/<source>.o with its gcc -fstack-usage .su file;
    returns the folder and the objects' paths inside it."""
    board = get_board(board)
    files = {f"gen/{rel}": data for rel, data in gen.files.items() if rel.endswith((".c", ".h"))}
    srcs = library_sources(gen)
    flags = library_cflags(board, opt) + qemu._define_flags(defines) + ["-fstack-usage"]
    objs = [f"{OBJ_DIR}/{s[:-2]}.o" for s in srcs]

    def make(d: Path):
        gd = d / "gen"
        inc = [f"-I{gd}", f"-I{gd / 'runtime/include'}", f"-I{gd / 'runtime/src'}"]
        # one gcc per output folder: objects and .su files land in its cwd
        by_dir: dict[Path, list[str]] = {}
        for s, o in zip(srcs, objs):
            by_dir.setdefault((d / o).parent, []).append(str(gd / s))
        for cwd, group in by_dir.items():
            cwd.mkdir(parents=True, exist_ok=True)
            # the build folder is renamed when done: keep its name out of the debug info
            cmd = [qemu.CROSS_CC, *flags, f"-fdebug-prefix-map={d}=.", *inc, "-c", *group]
            res = qemu._run(cmd, f"compiling {gen.name} for {board.name}", 600, cwd=cwd)
            if res.returncode != 0:
                raise BuildError(f"arm-none-eabi-gcc failed compiling {gen.name} for {board.name}:\n"
                                 f"{qemu._tail(res.stderr)}")

    d = _cached_build([_cc_version().encode(), repr(flags).encode(), b"library-objects-v2"], files, make)
    return d, objs


def build_model_firmware(graph: ir.Graph, board: str | Board, *, profile: bool = False, name: str | None = None,
                         source: str = "model", opt: str = "-O2", gen=None) -> Firmware:
    """Generate C for `graph` (or use `gen`, a codegen.generate.Generated) and
    build it for `board`'s QEMU machine. Raises BudgetError when the model
    cannot fit the QEMU machine's memory (_board_fit checks the board's own)."""
    from .. import budget
    from ..codegen.generate import build as generate_build

    board = emulated_board(board)
    why = qemu.toolchain_missing(count=True)
    if why:
        raise BuildError(f"cannot build firmware: {why}")
    gen = gen or generate_build(graph, name=name, source=source)
    in_specs, out_specs = _specs(graph, graph.inputs), _specs(graph, graph.outputs)
    in_bytes, out_bytes = sum(s[2] for s in in_specs), sum(s[2] for s in out_specs)

    defines = {"MCUGEN_IN_BYTES": in_bytes, "MCUGEN_OUT_BYTES": out_bytes}
    if profile:
        defines["MCUGEN_PROFILE"] = None
    lib_dir, objs = compile_library(gen, board, opt, {"MCUGEN_PROFILE": None} if profile else None)
    files = {f"gen/{rel}": data for rel, data in gen.files.items() if rel.endswith(".h")}
    files.update({o: (lib_dir / o).read_bytes() for o in objs})
    files["gen/mcugen_glue.c"] = glue_source(gen.name, [s[2] for s in in_specs], [s[2] for s in out_specs]).encode()

    def make(d: Path):
        # --cref: budget.model_part follows which library members the model pulls in
        qemu.build_firmware(board, [d / o for o in objs] + [d / "gen/mcugen_glue.c"],
                            include_dirs=[d / "gen", d / "gen/runtime/include"],
                            defines=defines, out_dir=d, name="firmware", opt=opt, extra_cflags=["-Wl,--cref"])

    try:
        d = _cached_build(_common_key(board, defines, opt) + [b"objects-v2"], files, make)
    except BuildError as e:
        if "do not fit" in str(e) or "overflow" in str(e):
            # the QEMU machine itself is too small: say so in budget terms
            budget.check_budget(graph, board, name=gen.name, gen=gen)
        raise
    elf = d / "firmware.elf"
    link = budget.link_library(gen, board, opt)
    return Firmware(elf=elf, board=board, name=gen.name, report=gen.report, in_specs=in_specs, out_specs=out_specs,
                    profile=profile, sizes=qemu.size_of(elf), model_sizes=dict(link.sizes),
                    firmware_model_sizes=budget.model_part(d / "firmware.map", elf), link=link, build_dir=d)


# --- running --------------------------------------------------------------------

def _pack(fw: Firmware, batch: list[np.ndarray]) -> tuple[bytes, int]:
    if len(batch) != len(fw.in_specs):
        raise InputError(f"model {fw.name} has {len(fw.in_specs)} input(s), the batch has {len(batch)}")
    n = len(batch[0]) if batch else 0
    arrays = []
    for k, (x, (shape, dtype, _)) in enumerate(zip(batch, fw.in_specs)):
        x = np.asarray(x)
        if x.shape != (n, *shape):
            raise InputError(f"batch input {k} has shape {list(x.shape)}; the model needs [{n}, "
                             f"{', '.join(map(str, shape))}]")
        arrays.append(np.ascontiguousarray(x, dtype=dtype).reshape(n, -1).view(np.uint8))
    if n == 0:
        raise InputError("the batch holds no samples")
    return np.concatenate(arrays, axis=1).tobytes(), n


def _unpack(fw: Firmware, raw: bytes, n: int) -> list[np.ndarray]:
    flat = np.frombuffer(raw, dtype=np.uint8).reshape(n, fw.out_bytes)
    outs, at = [], 0
    for shape, dtype, nbytes in fw.out_specs:
        part = np.ascontiguousarray(flat[:, at:at + nbytes])
        outs.append(part.view(dtype).reshape(n, *shape).copy())
        at += nbytes
    return outs


def run_model_firmware(fw: Firmware, batch: list[np.ndarray], timeout: float | None = None
                       ) -> tuple[list[np.ndarray], qemu.InsnCounts]:
    data, n = _pack(fw, batch)
    # QEMU runs tens of millions of guest instructions a second; this is a hang guard.
    timeout = timeout or 60.0 + 20.0 * n
    raw, counts = qemu.run_firmware(fw.board, fw.elf, data, n, fw.out_bytes, count=True, timeout=timeout)
    return _unpack(fw, raw, n), counts


def split_profile(fw: Firmware, counts: qemu.InsnCounts) -> tuple[list[list[int]], list[tuple[int, int]]]:
    """Per inference: the count of each layer, and (entry, exit) overhead:
    entry is the call and input copies before layer 0's mark, exit the output
    copies after the last layer (the generated code marks once more there)."""
    n_layers = len(fw.report["layers"])
    layers, overhead = [], []
    for total, marks in zip(counts.total_per_inference, counts.per_layer):
        if len(marks) != n_layers + 1:
            raise BuildError(f"profile build of {fw.name} reported {len(marks)} marks per inference, "
                             f"expected {n_layers + 1} (one per layer and one after the last)")
        layers.append(marks[:n_layers])
        overhead.append((total - sum(marks), marks[n_layers]))
    return layers, overhead


def _fmt_ratio(instr: int, macs: int) -> str:
    return f"{instr / macs:.2f}" if macs else "-"


def profile_table(fw: Firmware, counts: qemu.InsnCounts, sample: int = 0) -> str:
    """Per layer of one inference: op, kernel, MACs, instructions, instructions
    per MAC and share of the total."""
    layers, overhead = split_profile(fw, counts)
    total = counts.total_per_inference[sample]
    rows = []
    for l, c in zip(fw.report["layers"], layers[sample]):
        rows.append([l["index"], l["op"], l["kernel"], f"{l['macs']:,}", f"{c:,}", _fmt_ratio(c, l["macs"]),
                     f"{100.0 * c / total:.1f}%"])
    entry, exit_ = overhead[sample]
    rows.append(["", "(entry: call, input copy)", "", "", f"{entry:,}", "", f"{100.0 * entry / total:.1f}%"])
    rows.append(["", "(exit: output copy, return)", "", "", f"{exit_:,}", "", f"{100.0 * exit_ / total:.1f}%"])
    macs = fw.report["macs"]
    rows.append(["", "total", "", f"{macs:,}", f"{total:,}", _fmt_ratio(total, macs), "100.0%"])
    table = stats.format_table(["#", "op", "kernel", "MACs", "instructions", "instr/MAC", "share"], rows,
                               right={0, 3, 4, 5, 6})
    totals = counts.total_per_inference
    spread = ""
    if len(totals) > 1:
        spread = (f"; totals over {len(totals)} samples: min {min(totals):,}, max {max(totals):,}"
                  if min(totals) != max(totals) else f"; all {len(totals)} samples give the same total")
    return (f"profile of {fw.name} on {fw.board.name} ({fw.board.core}, QEMU {fw.board.qemu_machine}), "
            f"sample {sample}, guest instructions counted exactly{spread}\n{table}")


def _board_fit(graph: ir.Graph, fw: Firmware) -> None:
    """Refuse to report a run on a board the model cannot fit (a hardware
    board emulated on a bigger QEMU machine)."""
    from ..budget import fit_from_link

    fit = fit_from_link(graph, fw.board, fw.report, fw.link)
    if not fit.fits:
        raise BudgetError(fit.message())


def run_batch(graph: ir.Graph, model_path, batch: list[np.ndarray], board: str | Board, profile: bool = False,
              name: str | None = None, gen=None) -> tuple[list[np.ndarray], dict]:
    """The qemu engine of `mcugen run`/`verify`: outputs as [N, *shape] per model
    output, and info with per-inference instruction counts, firmware and
    model-library sizes and, with profile=True, per-layer counts and a table.
    gen: the generated library to run (codegen.generate.Generated, e.g. with
    weight formats or single rounding); default: the model as build() makes it."""
    source = Path(model_path).name if model_path else "model"
    fw = build_model_firmware(graph, board, profile=profile, name=name, source=source, gen=gen)
    _board_fit(graph, fw)
    outs, counts = run_model_firmware(fw, batch)
    info = {
        "board": fw.board.name, "qemu_machine": fw.board.qemu_machine,
        "instructions": list(counts.total_per_inference),
        "sizes": dict(fw.sizes),
        "model_sizes": dict(fw.model_sizes),
        "model_flash_bytes": fw.model_flash, "model_ram_bytes": fw.model_ram,
        "model_stack_bytes": fw.link.stack, "firmware_model_sizes": dict(fw.firmware_model_sizes),
        "arena_bytes": fw.report["arena_bytes"], "macs": fw.report["macs"],
        "elf": str(fw.elf),
    }
    if profile:
        layers, overhead = split_profile(fw, counts)
        info["per_layer"] = layers
        info["profile_overhead"] = overhead
        info["profile_text"] = profile_table(fw, counts)
    return outs, info
