"""Does a generated model fit a board? Flash and RAM needed against what the
board has, with a clear refusal when it does not.

Flash = weights + other constants (parameter structs, lookup tables) + code
+ the .data load image; RAM = .data + .bss (which holds the arena) + a stack
estimate. With the cross compiler installed, the library is compiled for the
board's core and every figure except the stack is measured from the objects
(before --gc-sections, so slightly pessimistic); without it the code size is
an estimate and said to be one. The arena must sit in one piece, so RAM is
compared with the largest contiguous RAM run, flash with the largest flash run.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from . import ir
from .boards import Board, get_board, list_boards
from .errors import BudgetError, BuildError

# Without a toolchain: typical -O2 Thumb-2 sizes of the runtime kernels.
EST_CODE_PER_SOURCE = 1200
EST_CODE_PER_LAYER = 48  # one call with its arguments
EST_PARAMS_PER_LAYER = 64
# Above the deepest measured frames: the application's caller and one
# exception frame with FP context (26 words).
STACK_MARGIN = 256
EST_STACK = 1024


@dataclass
class Fit:
    model: str
    board: Board
    weights: int
    code: int
    other_const: int
    data: int
    bss_other: int  # .bss and .data besides the arena (buffers, state)
    arena: int
    stack: int
    measured: bool  # code/constant sizes from compiled objects, not estimated
    how: str
    flash_layers: list[tuple[int, str, int]] = field(default_factory=list)  # (index, op, weight bytes)
    ram_layers: list[tuple[int, str, int]] = field(default_factory=list)  # (index, op, output + scratch bytes)

    @property
    def flash_needed(self) -> int:
        return self.weights + self.code + self.other_const + self.data

    @property
    def flash_available(self) -> int:
        return self.board.max_contiguous_flash

    @property
    def ram_needed(self) -> int:
        return self.arena + self.data + self.bss_other + self.stack

    @property
    def ram_available(self) -> int:
        return self.board.max_contiguous_ram

    @property
    def fits(self) -> bool:
        return self.flash_needed <= self.flash_available and self.ram_needed <= self.ram_available

    @property
    def table(self) -> str:
        from .stats import format_table

        est = "" if self.measured else " (estimate)"

        def pct(need, have):
            return f"{100.0 * need / have:.1f}%"

        rows = [
            ["flash", "weights", f"{self.weights:,}", "", ""],
            ["", "code" + est, f"{self.code:,}", "", ""],
            ["", "other constants" + est, f"{self.other_const:,}", "", ""],
            ["", ".data load image", f"{self.data:,}", "", ""],
            ["", "total", f"{self.flash_needed:,}", f"{self.flash_available:,}", pct(self.flash_needed, self.flash_available)],
            ["RAM", "arena", f"{self.arena:,}", "", ""],
            ["", ".data + other .bss", f"{self.data + self.bss_other:,}", "", ""],
            ["", "stack (estimate)", f"{self.stack:,}", "", ""],
            ["", "total", f"{self.ram_needed:,}", f"{self.ram_available:,}", pct(self.ram_needed, self.ram_available)],
        ]
        t = format_table(["memory", "part", "bytes", f"{self.board.name} has", "used"], rows, right={2, 3, 4})
        verdict = "fits" if self.fits else "DOES NOT FIT"
        return f"{self.model} on {self.board.name} ({self.board.core}): {verdict}\n{t}\n{self.how}"

    def message(self) -> str:
        """Why it does not fit, by how much, what dominates and what to do."""
        parts = []
        if self.flash_needed > self.flash_available:
            over = self.flash_needed - self.flash_available
            top = ", ".join(f"layer {k} {op} {b:,} B" for k, op, b in self.flash_layers)
            parts.append(f"flash: needs {self.flash_needed:,} bytes (weights {self.weights:,} + code "
                         f"{self.code:,}{'' if self.measured else ' estimated'} + other {self.other_const + self.data:,}), "
                         f"the largest flash region holds {self.flash_available:,}: {over:,} bytes over. "
                         f"Largest weights: {top}")
        if self.ram_needed > self.ram_available:
            over = self.ram_needed - self.ram_available
            top = ", ".join(f"layer {k} {op} {b:,} B" for k, op, b in self.ram_layers)
            parts.append(f"RAM: needs {self.ram_needed:,} bytes (arena {self.arena:,} + data/bss "
                         f"{self.data + self.bss_other:,} + stack ~{self.stack:,}), the largest contiguous RAM holds "
                         f"{self.ram_available:,}: {over:,} bytes over. Largest activations (output + scratch): {top}")
        bigger = [b.name for b in sorted(list_boards(), key=lambda b: (b.flash_bytes + b.ram_bytes, b.name))
                  if b.max_contiguous_flash >= self.flash_needed and b.max_contiguous_ram >= self.ram_needed
                  and b.kind == "hardware"]
        advice = ("use a smaller model (fewer or narrower layers), compress it (mcugen's compression options "
                  "are planned), or pick a bigger board"
                  + (f" (these fit: {', '.join(bigger[:4])})" if bigger else "") + "; `mcugen boards` lists them")
        return (f"{self.model} does not fit {self.board.name}. " + " | ".join(parts) + f". To fix: {advice}.")

    def as_dict(self) -> dict:
        return {
            "board": self.board.name, "core": self.board.core, "fits": self.fits, "measured": self.measured,
            "flash": {"needed": self.flash_needed, "available": self.flash_available, "weights": self.weights,
                      "code": self.code, "other_const": self.other_const, "data": self.data},
            "ram": {"needed": self.ram_needed, "available": self.ram_available, "arena": self.arena,
                    "data": self.data, "bss_other": self.bss_other, "stack_estimate": self.stack},
            "how": self.how,
        }


def _top_layers(report: dict) -> tuple[list[tuple[int, str, int]], list[tuple[int, str, int]]]:
    layers = report["layers"]
    by_w = sorted(layers, key=lambda l: (-l["weight_bytes"], l["index"]))[:3]
    by_r = sorted(layers, key=lambda l: (-(sum(o["bytes"] for o in l["output"]) + l["scratch_bytes"]), l["index"]))[:3]
    return ([(l["index"], l["op"], l["weight_bytes"]) for l in by_w],
            [(l["index"], l["op"], sum(o["bytes"] for o in l["output"]) + l["scratch_bytes"]) for l in by_r])


def fit_from_sizes(graph: ir.Graph, board: Board, report: dict, sizes: dict[str, int] | None, measured: bool,
                   stack: int | None = None, how: str = "") -> Fit:
    """A Fit from the library's section sizes (text/rodata/data/bss, as
    qemu.size_of gives them), or from the report alone when sizes is None."""
    weights = int(report["weight_bytes"])
    arena = int(report["arena_bytes"])
    n_layers = len(report["layers"])
    if sizes is None:
        code = EST_CODE_PER_SOURCE * len(report["runtime_sources"]) + EST_CODE_PER_LAYER * n_layers + 512
        other, data, bss_other = EST_PARAMS_PER_LAYER * n_layers, 0, 0
        measured = False
        how = how or ("code and constants besides weights are estimates: arm-none-eabi-gcc is not installed "
                      "(tools/install_toolchain.sh)")
    else:
        code = sizes["text"]
        other = max(sizes["rodata"] - weights, 0)
        data = sizes["data"]
        bss_other = max(sizes["bss"] - arena, 0)
        how = how or "sizes measured from the linked firmware minus a harness-only build"
    fl, rl = _top_layers(report)
    return Fit(model=report.get("model", graph.name), board=board, weights=weights, code=code, other_const=other,
               data=data, bss_other=bss_other, arena=arena, stack=stack if stack is not None else EST_STACK,
               measured=measured, how=how, flash_layers=fl, ram_layers=rl)


# --- compiling the library for the board -------------------------------------------

def _stack_estimate(su_texts: dict[str, str], model_name: str) -> int:
    """Frames of the generated entry points plus the two largest runtime frames
    (a kernel calling one helper), from gcc -fstack-usage, plus a margin."""
    model, runtime = [], []
    for fname, text in su_texts.items():
        for line in text.splitlines():
            m = re.match(r".*:(\w+)\s+(\d+)\s+(\w+)", line)
            if not m:
                continue
            (model if fname.startswith(model_name) else runtime).append(int(m.group(2)))
    return sum(model) + sum(sorted(runtime, reverse=True)[:2]) + STACK_MARGIN


def cross_compiler_missing() -> bool:
    from .harness import qemu

    return shutil.which(qemu.CROSS_CC) is None


def library_sizes(gen, board: Board, opt: str = "-O2") -> tuple[dict[str, int], int] | None:
    """Section sizes of the generated library compiled for `board` (summed over
    its objects) and a stack estimate; None without the cross compiler."""
    from .harness import firmware, qemu

    if cross_compiler_missing():
        return None
    files = {f"gen/{rel}": data for rel, data in gen.files.items() if rel.endswith((".c", ".h"))}
    srcs = [f"{gen.name}.c", f"{gen.name}_weights.c"] + [f"runtime/src/{s}" for s in gen.report["runtime_sources"]]
    flags = [*board.cflags, opt, "-ffunction-sections", "-fdata-sections", "-fstack-usage", "-std=c99"]

    def make(d: Path):
        gd = d / "gen"
        cmd = [qemu.CROSS_CC, *flags, f"-I{gd}", f"-I{gd / 'runtime/include'}", f"-I{gd / 'runtime/src'}", "-c",
               *(str(gd / s) for s in srcs)]
        res = qemu._run(cmd, f"compiling {gen.name} for {board.name}", 600, cwd=d)
        if res.returncode != 0:
            raise BuildError(f"arm-none-eabi-gcc failed compiling {gen.name} for {board.name}:\n"
                             f"{qemu._tail(res.stderr)}")

    key = [firmware._cc_version().encode(), repr(flags).encode(), b"library-objects"]
    d = firmware._cached_build(key, files, make)
    total = {"text": 0, "rodata": 0, "data": 0, "bss": 0}
    for o in sorted(d.glob("*.o")):
        for k, v in qemu.size_of(o).items():
            total[k] += v
    su = {p.name: p.read_text() for p in d.glob("*.su")}
    return total, _stack_estimate(su, gen.name)


def check_budget(graph: ir.Graph, board: str | Board, name: str | None = None, gen=None) -> Fit:
    """Fit of `graph` on `board`; raises BudgetError when it does not fit."""
    from .codegen.generate import build

    board = get_board(board)
    gen = gen or build(graph, name=name)
    measured = library_sizes(gen, board)
    if measured is None:
        fit = fit_from_sizes(graph, board, gen.report, None, measured=False)
    else:
        sizes, stack = measured
        how = (f"code and constants: arm-none-eabi-gcc -O2 objects for {board.core} (before --gc-sections); "
               f"stack: gcc -fstack-usage frames + {STACK_MARGIN} B margin")
        fit = fit_from_sizes(graph, board, gen.report, sizes, measured=True, stack=stack, how=how)
    if not fit.fits:
        raise BudgetError(fit.message())
    return fit
