"""Does a generated model fit a board? Flash and RAM needed against what the
board has, with a clear refusal when it does not.

Flash = weights + other constants (parameter structs, lookup tables) + code
+ the .data load image; RAM = .data + .bss (which holds the arena) + the
stack. With the cross compiler installed the figures are "linked, exact"
(link_library): the library's objects, compiled with the board's flags exactly
as the QEMU firmware compiles them, are linked on their own with
NAME_invoke_multi as the only root, -Wl,--gc-sections, libgcc and newlib-nano,
and the kept input sections are summed from the link map: every byte the model
brings into a firmware (64-bit division helpers, memcpy/memset included),
nothing of any harness. The stack is the deepest call path from
NAME_invoke_multi (gcc -fstack-usage frames; library helpers' frames from
their prologues) plus one exception frame. Without the cross compiler, code
and constants are estimates and labelled so. The arena must sit in one piece,
so RAM is compared with the largest contiguous RAM run, flash with the largest
flash run.
"""

from __future__ import annotations

import bisect
import json
import re
import shutil
import struct
from dataclasses import dataclass, field
from pathlib import Path

from . import ir
from .boards import Board, get_board, list_boards
from .errors import BudgetError, BuildError

# Without a toolchain: typical -O2 Thumb-2 sizes of the runtime kernels.
EST_CODE_PER_SOURCE = 1200
EST_CODE_PER_LAYER = 48  # one call with its arguments
EST_PARAMS_PER_LAYER = 64
EST_STACK = 1024
# An interrupt taken at the deepest point stacks 8 words, 26 with FP context.
EXC_FRAME, EXC_FRAME_FP = 32, 104
OBJDUMP = "arm-none-eabi-objdump"
# Bump when what link_library stores in its cached result.json changes.
_LINK_VERSION = b"budget-link-v1"


@dataclass
class LinkedLibrary:
    """The model library linked alone for a board (link_library)."""

    sizes: dict[str, int]  # text/rodata/data/bss: kept input sections, summed
    stack: int  # deepest call path from NAME_invoke_multi + one exception frame
    stack_path: list[tuple[str, int]]  # that path: (function, frame bytes)
    stack_notes: list[str]  # what makes the stack figure less than exact
    helpers: dict[str, int]  # libgcc/newlib members linked in: flash bytes each
    elf: Path = field(default=Path())


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
    measured: bool  # flash and static RAM from a link, not estimated
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

        est = " (estimate)"
        exact = " (linked, exact)" if self.measured else est
        part = "" if self.measured else est

        def pct(need, have):
            return f"{100.0 * need / have:.1f}%"

        rows = [
            ["flash", "weights", f"{self.weights:,}", "", ""],
            ["", "code" + part, f"{self.code:,}", "", ""],
            ["", "other constants" + part, f"{self.other_const:,}", "", ""],
            ["", ".data load image", f"{self.data:,}", "", ""],
            ["", "total" + exact, f"{self.flash_needed:,}", f"{self.flash_available:,}",
             pct(self.flash_needed, self.flash_available)],
            ["RAM", "arena", f"{self.arena:,}", "", ""],
            ["", ".data + other .bss", f"{self.data + self.bss_other:,}", "", ""],
            ["", "stack (call tree)" if self.measured else "stack (estimate)", f"{self.stack:,}", "", ""],
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
            parts.append(f"flash: needs {self.flash_needed:,} bytes{'' if self.measured else ' (estimate)'} "
                         f"(weights {self.weights:,} + code {self.code:,}{'' if self.measured else ' estimated'} "
                         f"+ other {self.other_const + self.data:,}), "
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
        shrink = ("prune or cluster the weights (tensorflow-model-optimization) so that mcugen's sparse, "
                  "lookup-table and Huffman compression formats can shrink them (`--optimize size`), "
                  if self.flash_needed > self.flash_available else "")
        advice = ("use a smaller model (fewer or narrower layers), " + shrink + "or pick a bigger board"
                  + (f" (these fit: {', '.join(bigger[:4])})" if bigger else "") + "; `mcugen boards` lists them")
        return (f"{self.model} does not fit {self.board.name}. " + " | ".join(parts) + f". To fix: {advice}.")

    def as_dict(self) -> dict:
        return {
            "board": self.board.name, "core": self.board.core, "fits": self.fits, "measured": self.measured,
            "method": "linked, exact" if self.measured else "estimate",
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
    """A Fit from the library's section sizes (text/rodata/data/bss), or an
    estimate from the report alone when sizes is None."""
    weights = int(report["weight_bytes"])
    arena = int(report["arena_bytes"])
    n_layers = len(report["layers"])
    if sizes is None:
        code = EST_CODE_PER_SOURCE * len(report["runtime_sources"]) + EST_CODE_PER_LAYER * n_layers + 512
        other, data, bss_other = EST_PARAMS_PER_LAYER * n_layers, 0, 0
        measured = False
        how = how or ("estimate: code, constants besides weights and stack are typical sizes, not measured, "
                      "because arm-none-eabi-gcc is not installed (tools/install_toolchain.sh installs it; "
                      "then the figures come from a link)")
    else:
        code = sizes["text"]
        other = max(sizes["rodata"] - weights, 0)
        data = sizes["data"]
        bss_other = max(sizes["bss"] - arena, 0)
    fl, rl = _top_layers(report)
    return Fit(model=report.get("model", graph.name), board=board, weights=weights, code=code, other_const=other,
               data=data, bss_other=bss_other, arena=arena, stack=stack if stack is not None else EST_STACK,
               measured=measured, how=how, flash_layers=fl, ram_layers=rl)


def fit_from_link(graph: ir.Graph, board: Board, report: dict, link: LinkedLibrary | None) -> Fit:
    """The Fit every command reports: from link_library, or the labelled
    estimate when the cross compiler is missing (link is None)."""
    if link is None:
        return fit_from_sizes(graph, board, report, None, measured=False)
    helpers = sum(link.helpers.values())
    path = sum(b for _, b in link.stack_path)
    how = (f"flash and static RAM linked, exact: {report.get('model', graph.name)}_invoke_multi linked alone for "
           f"{board.core} (-O2, --gc-sections, libgcc, newlib-nano; no harness); code includes {helpers:,} B of "
           f"libgcc/newlib helpers ({', '.join(sorted(link.helpers)) or 'none'}); alignment fill between sections "
           f"(a few bytes, set by the firmware around it) is not counted. Stack: deepest call path "
           f"{' > '.join(f'{n} {b}' for n, b in link.stack_path)} = {path:,} B (gcc -fstack-usage frames) "
           f"+ {link.stack - path} B for one exception frame"
           + (f"; {'; '.join(link.stack_notes)}" if link.stack_notes else ""))
    return fit_from_sizes(graph, board, report, link.sizes, measured=True, stack=link.stack, how=how)


# --- link maps ------------------------------------------------------------------------

@dataclass(frozen=True)
class InputSection:
    out: str  # output section (.text, .rodata …)
    name: str  # input section (.text.mcu_conv2d_s8 …)
    addr: int
    size: int
    file: str  # object_key of the file it came from


def object_key(path: str) -> str:
    """Names a file of a link map the same way in every link: the model's
    objects by their path below OBJ_DIR, library members as libgcc.a(member.o)."""
    from .harness.firmware import OBJ_DIR

    m = re.match(r"(.*?)([^/]+\.a)\((.+)\)$", path)
    if m:
        return f"{m.group(2)}({m.group(3)})"
    marker = f"/{OBJ_DIR}/"
    if marker in path:
        return OBJ_DIR + "/" + path.rsplit(marker, 1)[1]
    return path


def is_model_object(key: str) -> bool:
    from .harness.firmware import OBJ_DIR

    return key.startswith(OBJ_DIR + "/")


def is_member(key: str) -> bool:
    return key.endswith(")") and ".a(" in key


_IN_FULL = re.compile(r"^ (\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
_IN_NAME = re.compile(r"^ ([^\s*]\S*)$")
_IN_REST = re.compile(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
_OUT = re.compile(r"^(\.\S+)")


def parse_map(text: str) -> tuple[list[InputSection], dict[str, list[str]]]:
    """Input sections placed in the output (with their addresses) and the
    cross reference table (symbol -> [defining file, referencing files…]) of
    a GNU ld map written with -Map and --cref."""
    sections: list[InputSection] = []
    lines = text.splitlines()
    try:
        start = lines.index("Linker script and memory map")
    except ValueError:
        raise BuildError("linker map has no memory map") from None
    out, pending = "", None
    i = start
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if line.startswith("Cross Reference Table"):
            break
        if _OUT.match(line):
            out, pending = _OUT.match(line).group(1), None
            continue
        m = _IN_FULL.match(line)
        if m and not m.group(1).startswith("*"):
            sections.append(InputSection(out, m.group(1), int(m.group(2), 16), int(m.group(3), 16),
                                         object_key(m.group(4).strip())))
            pending = None
            continue
        m = _IN_NAME.match(line)
        if m:
            pending = m.group(1)
            continue
        m = _IN_REST.match(line)
        if m and pending:
            sections.append(InputSection(out, pending, int(m.group(1), 16), int(m.group(2), 16),
                                         object_key(m.group(3).strip())))
        pending = None
    cref: dict[str, list[str]] = {}
    sym = None
    for line in lines[i + 1:]:
        if not line.strip() or line.startswith("Symbol "):
            continue
        if not line[0].isspace():
            parts = line.split(None, 1)
            sym = parts[0]
            cref[sym] = [object_key(parts[1].strip())] if len(parts) > 1 else []
        elif sym is not None:
            cref[sym].append(object_key(line.strip()))
    return sections, cref


def _section_kinds(elf: Path) -> dict[str, str]:
    """Output section name -> text/rodata/data/bss, as qemu.size_of counts them."""
    from .harness import qemu

    kinds = {}
    for name, typ, flags, _, _ in qemu._read_elf(elf)[0]:
        if not flags & qemu._SHF_ALLOC:
            continue
        kinds[name] = ("bss" if typ == qemu._SHT_NOBITS else "text" if flags & qemu._SHF_EXECINSTR
                       else "data" if flags & qemu._SHF_WRITE else "rodata")
    return kinds


def _sum_sizes(sections: list[InputSection], kinds: dict[str, str], keep) -> dict[str, int]:
    sizes = {"text": 0, "rodata": 0, "data": 0, "bss": 0}
    for s in sections:
        if s.out in kinds and keep(s.file):
            sizes[kinds[s.out]] += s.size
    return sizes


def model_closure(cref: dict[str, list[str]]) -> set[str]:
    """The model's objects and the library members they pull in, directly or
    through other members (not through harness objects)."""
    files = {f for refs in cref.values() for f in refs}
    keep = {f for f in files if is_model_object(f)}
    grew = True
    while grew:
        grew = False
        for refs in cref.values():
            if refs and is_member(refs[0]) and refs[0] not in keep and any(r in keep for r in refs[1:]):
                keep.add(refs[0])
                grew = True
    return keep


def model_part(map_path: Path, elf: Path) -> dict[str, int]:
    """Bytes of the model in a firmware linked with --cref: the input sections
    of its objects and of the libgcc/newlib members it pulls in, by kind."""
    sections, cref = parse_map(Path(map_path).read_text())
    keep = model_closure(cref)
    return _sum_sizes(sections, _section_kinds(elf), lambda f: f in keep or is_model_object(f))


# --- the stack ------------------------------------------------------------------------

_STT_FUNC = 2
_INSN = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$")
_TARGET = re.compile(r"^([0-9a-f]+) <([^>+]+)>")
_BRANCH = re.compile(r"^(bl|blx|b)(eq|ne|cs|hs|cc|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le)?(\.w|\.n)?$")
_REGS = re.compile(r"\{([^}]*)\}")


def _functions(elf: Path) -> dict[int, str]:
    """Start address -> name of the STT_FUNC symbols (Thumb bit cleared)."""
    data = elf.read_bytes()
    (shoff,) = struct.unpack_from("<I", data, 0x20)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x2E)
    raw = [struct.unpack_from("<10I", data, shoff + i * shentsize) for i in range(shnum)]
    out: dict[int, str] = {}
    for h in raw:
        if h[1] != 2:  # SHT_SYMTAB
            continue
        str_off = raw[h[6]][4]
        for k in range(h[5] // 16):
            name, value, size, info, _, _ = struct.unpack_from("<IIIBBH", data, h[4] + k * 16)
            if info & 0xF == _STT_FUNC and name:
                out.setdefault(value & ~1, data[str_off + name:data.index(b"\0", str_off + name)].decode())
    return out


def _count_regs(spec: str) -> int:
    n = 0
    for part in spec.split(","):
        part = part.strip()
        if "-" in part:
            a, b = part.split("-")
            n += int(re.sub(r"\D", "", b)) - int(re.sub(r"\D", "", a)) + 1
        elif part:
            n += 1
    return n


def _pushed(mnemonic: str, ops: str) -> int:
    """Bytes one instruction moves the stack pointer down by."""
    m = mnemonic.split(".")[0]
    if m == "push" or (m in ("stmdb", "stmfd") and ops.startswith("sp!")):
        return 4 * _count_regs(_REGS.search(ops).group(1))
    if m == "vpush" or (m in ("vstmdb", "vstmfd") and ops.startswith("sp!")):
        regs = _REGS.search(ops).group(1)
        return (8 if "d" in regs else 4) * _count_regs(regs)
    if m in ("sub", "subw") and re.match(r"sp,\s*(sp,\s*)?#\d+", ops):
        return int(re.search(r"#(\d+)", ops).group(1))
    pre = re.search(r"\[sp, #-(\d+)\]!", ops)
    return int(pre.group(1)) if pre else 0


def _stack_usage(lib_dir: Path, objs: list[str]) -> dict[tuple[str, str], tuple[int, str]]:
    """(object key, function) -> (bytes, qualifier) from gcc's .su files."""
    out = {}
    for o in objs:
        su = lib_dir / (o[:-2] + ".su")
        if not su.is_file():
            continue
        for line in su.read_text().splitlines():
            m = re.match(r".*:(\S+)\t(\d+)\t(\S+)", line)
            if m:
                out[(o, m.group(1))] = (int(m.group(2)), m.group(3))
    return out


@dataclass
class _Code:
    funcs: dict[int, str]  # start address -> name
    pushed: dict[int, int]  # start -> bytes its instructions move sp down by, all paths summed
    calls: dict[int, set[int]]  # start -> starts it calls or tail-calls
    indirect: set[int]  # starts that call through a register


def _disassemble(elf: Path) -> _Code:
    from .harness import qemu

    res = qemu._run([OBJDUMP, "-d", "--no-show-raw-insn", str(elf)], "disassembling the model library", 300)
    if res.returncode != 0:
        raise BuildError(f"{OBJDUMP} failed on {elf.name}:\n{qemu._tail(res.stderr)}")
    funcs = _functions(elf)
    starts = sorted(funcs)
    code = _Code(funcs, {}, {}, set())
    for line in res.stdout.decode(errors="replace").splitlines():
        m = _INSN.match(line)
        if not m:
            continue
        k = bisect.bisect_right(starts, int(m.group(1), 16)) - 1
        if k < 0:
            continue
        f = starts[k]
        mnem, ops = m.group(2), m.group(3).split("@")[0].strip()
        code.pushed[f] = code.pushed.get(f, 0) + _pushed(mnem, ops)
        if _BRANCH.match(mnem):
            t = _TARGET.match(ops)
            if t and int(t.group(1), 16) in funcs and int(t.group(1), 16) != f:
                code.calls.setdefault(f, set()).add(int(t.group(1), 16))
            elif mnem.startswith("blx") and re.match(r"r\d+|ip|lr", ops):
                code.indirect.add(f)
    return code


def code_frames(elf: Path) -> dict[str, int]:
    """Frame bytes per function as read from the code (the library-helper method)."""
    code = _disassemble(elf)
    return {n: code.pushed.get(a, 0) for a, n in code.funcs.items()}


def stack_depth(elf: Path, sections: list[InputSection], su: dict[tuple[str, str], tuple[int, str]],
                entry: str) -> tuple[int, list[tuple[str, int]], list[str]]:
    """Deepest path of the call tree below `entry` in a linked ELF, summing
    frames: gcc's -fstack-usage figure for compiled functions, the pushes and
    sp decrements of the code for library helpers (all of them, whatever the
    path: an upper bound). Calls and tail calls from the disassembly."""
    code = _disassemble(elf)
    funcs, pushed, calls, indirect = code.funcs, code.pushed, code.calls, code.indirect
    placed = sorted((s.addr, s.addr + s.size, s.file) for s in sections if s.size)
    placed_starts = [p[0] for p in placed]

    def file_of(addr: int) -> str:
        k = bisect.bisect_right(placed_starts, addr) - 1
        return placed[k][2] if k >= 0 and addr < placed[k][1] else ""

    notes: set[str] = set()

    def frame(f: int) -> int:
        got = su.get((file_of(f), funcs[f]))
        if got is None:
            return pushed.get(f, 0)
        if got[1] != "static":
            notes.add(f"{funcs[f]} has a {got[1]} frame (gcc -fstack-usage), counted as {got[0]} B")
        return got[0]

    best: dict[int, tuple[int, list[int]]] = {}

    def deepest(f: int, on_path: tuple[int, ...]) -> tuple[int, list[int]]:
        if f in best:
            return best[f]
        if f in indirect:
            notes.add(f"{funcs[f]} calls through a pointer: its callees are not counted")
        below = (0, [])
        for c in sorted(calls.get(f, ())):
            if c in on_path:
                notes.add(f"{funcs[f]} and {funcs[c]} are recursive: counted once")
                continue
            d = deepest(c, on_path + (c,))
            if d[0] > below[0]:
                below = d
        best[f] = (frame(f) + below[0], [f] + below[1])
        return best[f]

    root = next((a for a, n in funcs.items() if n == entry), None)
    if root is None:
        raise BuildError(f"{entry} is not in the linked library {elf}")
    total, path = deepest(root, (root,))
    return total, [(funcs[f], frame(f)) for f in path], sorted(notes)


# --- linking the library alone --------------------------------------------------------

def cross_compiler_missing() -> bool:
    from .harness import qemu

    return shutil.which(qemu.CROSS_CC) is None


_LINK_SCRIPT = """/* mcugen budget link: room for any model, the firmware's section layout. */
MEMORY
{
    CODE (rx)  : ORIGIN = 0x00000000, LENGTH = 0x40000000
    RAM  (rwx) : ORIGIN = 0x40000000, LENGTH = 0x40000000
}
__stack_size = 0;
INCLUDE sections.ld
"""


def link_library(gen, board: str | Board, opt: str = "-O2") -> LinkedLibrary | None:
    """The model library as it lands in any firmware for `board`: its objects
    (firmware.compile_library, the same ones the QEMU firmware links) linked
    with NAME_invoke_multi as the only root, --gc-sections, libgcc and
    newlib-nano, the firmware's section layout and no harness. Sizes sum the
    kept input sections by kind; cached by content. None without the cross
    compiler."""
    from .harness import firmware, qemu

    if cross_compiler_missing():
        return None
    board = get_board(board)
    lib_dir, objs = firmware.compile_library(gen, board, opt)
    entry = f"{gen.name}_invoke_multi"
    flags = [*firmware.library_cflags(board, opt), "-nostartfiles", "--specs=nano.specs",
             "-Wl,--gc-sections", f"-Wl,--entry={entry}", "-Wl,--cref"]
    ld_dir = qemu.harness_dir() / "ld"

    def make(d: Path):
        cmd = [qemu.CROSS_CC, *flags, *(str(lib_dir / o) for o in objs), f"-L{ld_dir}", f"-T{d / 'budget.ld'}",
               f"-Wl,-Map={d / 'budget.map'}", "-lm", "-o", str(d / "budget.elf")]
        res = qemu._run(cmd, f"linking {gen.name} for {board.name}", 600, cwd=d)
        if res.returncode != 0:
            raise BuildError(f"arm-none-eabi-gcc failed linking {gen.name} alone for {board.name}:\n"
                             f"{qemu._tail(res.stderr)}")
        elf = d / "budget.elf"
        sections, _ = parse_map((d / "budget.map").read_text())
        kinds = _section_kinds(elf)
        sizes = _sum_sizes(sections, kinds, lambda f: True)
        helpers: dict[str, int] = {}
        for s in sections:
            if is_member(s.file) and kinds.get(s.out) in firmware.FLASH_KINDS and s.size:
                name = s.file[s.file.index("(") + 1:-1].removeprefix("lib_a-").removesuffix(".o")
                helpers[name] = helpers.get(name, 0) + s.size
        if shutil.which(OBJDUMP):
            depth, path, notes = stack_depth(elf, sections, _stack_usage(lib_dir, objs), entry)
        else:  # binutils without objdump: the entry's frame and the largest one, said so
            su = _stack_usage(lib_dir, objs)
            depth = su.get((objs[0], entry), (0, ""))[0] + max((v[0] for v in su.values()), default=0)
            path, notes = [(entry, depth)], [f"{OBJDUMP} missing: entry frame + the largest frame only"]
        exc = EXC_FRAME_FP if board.fpu else EXC_FRAME
        (d / "result.json").write_text(json.dumps({
            "sizes": sizes, "stack": depth + exc, "stack_path": path, "stack_notes": notes, "helpers": helpers}))

    key = [_LINK_VERSION, firmware._cc_version().encode(), repr(flags).encode(),
           (ld_dir / "sections.ld").read_bytes(), lib_dir.name.encode()]
    d = firmware._cached_build(key, {"budget.ld": _LINK_SCRIPT.encode()}, make)
    r = json.loads((d / "result.json").read_text())
    return LinkedLibrary(sizes=r["sizes"], stack=r["stack"], stack_path=[tuple(p) for p in r["stack_path"]],
                         stack_notes=r["stack_notes"], helpers=r["helpers"], elf=d / "budget.elf")


def check_budget(graph: ir.Graph, board: str | Board, name: str | None = None, gen=None) -> Fit:
    """Fit of `graph` on `board`; raises BudgetError when it does not fit."""
    from .codegen.generate import build

    board = get_board(board)
    gen = gen or build(graph, name=name)
    fit = fit_from_link(graph, board, gen.report, link_library(gen, board))
    if not fit.fits:
        raise BudgetError(fit.message())
    return fit
