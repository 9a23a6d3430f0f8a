"""Board profiles: the boards/*.toml files shipped with mcugen.

A profile says what the compiler must target (core, FPU/DSP/MVE, gcc flags),
how much flash and RAM the board has (per region, as the memory budget needs)
and, when QEMU emulates the same core, which QEMU machine runs its firmware.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

from mcugen.errors import McugenError
from mcugen.resources import data_dir

CORES = ("cortex-m0", "cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55")
BOARD_KINDS = ("hardware", "qemu")
MEMORY_KINDS = ("flash", "ram")


@dataclass(frozen=True)
class MemoryRegion:
    name: str
    kind: str  # "flash" or "ram"
    origin: int
    size: int

    @property
    def end(self) -> int:
        return self.origin + self.size


@dataclass(frozen=True)
class Board:
    name: str
    kind: str  # "hardware" or "qemu"
    description: str
    core: str
    fpu: bool
    fpu_double: bool
    dsp: bool
    mve: bool
    cflags: tuple[str, ...]
    clock_hz: int
    memory: tuple[MemoryRegion, ...]
    qemu_machine: str | None = None
    aliases: tuple[str, ...] = ()
    path: Path | None = None

    @property
    def flash_regions(self) -> tuple[MemoryRegion, ...]:
        return tuple(r for r in self.memory if r.kind == "flash")

    @property
    def ram_regions(self) -> tuple[MemoryRegion, ...]:
        return tuple(r for r in self.memory if r.kind == "ram")

    @property
    def flash_bytes(self) -> int:
        return sum(r.size for r in self.flash_regions)

    @property
    def ram_bytes(self) -> int:
        return sum(r.size for r in self.ram_regions)

    @property
    def largest_ram_run(self) -> tuple[int, int]:
        """(origin, size) of the largest run of adjacent RAM regions: where the
        biggest single buffer (the tensor arena) can go."""
        return max(_contiguous_runs(self.ram_regions), key=lambda run: run[1])

    @property
    def max_contiguous_ram(self) -> int:
        return self.largest_ram_run[1]

    @property
    def max_contiguous_flash(self) -> int:
        return max(size for _, size in _contiguous_runs(self.flash_regions))

    @property
    def can_run_in_qemu(self) -> bool:
        return self.qemu_machine is not None


def _contiguous_runs(regions: tuple[MemoryRegion, ...]) -> list[tuple[int, int]]:
    """Merge regions that touch into (origin, size) runs."""
    runs: list[list[int]] = []
    for r in sorted(regions, key=lambda r: r.origin):
        if runs and runs[-1][0] + runs[-1][1] == r.origin:
            runs[-1][1] += r.size
        else:
            runs.append([r.origin, r.size])
    return [(o, n) for o, n in runs]


def boards_dir() -> Path:
    return data_dir("boards")


def _fail(path: Path, why: str) -> McugenError:
    return McugenError(f"board profile {path.name}: {why}")


def _req(doc: dict, key: str, typ, path: Path):
    if key not in doc:
        raise _fail(path, f"missing key '{key}'")
    val = doc[key]
    # bool is an int subclass: a size written as `true` must not pass as 1.
    if not isinstance(val, typ) or (typ is int and isinstance(val, bool)):
        raise _fail(path, f"'{key}' must be {typ.__name__}, got {val!r}")
    return val


def _parse_region(raw: dict, path: Path) -> MemoryRegion:
    region = MemoryRegion(
        name=_req(raw, "name", str, path),
        kind=_req(raw, "kind", str, path),
        origin=_req(raw, "origin", int, path),
        size=_req(raw, "size", int, path),
    )
    if region.kind not in MEMORY_KINDS:
        raise _fail(path, f"memory region {region.name}: kind must be one of {MEMORY_KINDS}")
    if region.size <= 0 or region.origin < 0 or region.end > 1 << 32:
        raise _fail(path, f"memory region {region.name}: bad origin/size")
    return region


def load_board(path: Path) -> Board:
    """Parse and check one profile file."""
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise _fail(path, f"cannot read: {e}") from e

    raw_memory = doc.get("memory")
    if not isinstance(raw_memory, list) or not raw_memory:
        raise _fail(path, "needs at least one [[memory]] region")
    qemu_machine = doc.get("qemu_machine")
    if qemu_machine is not None and not isinstance(qemu_machine, str):
        raise _fail(path, "'qemu_machine' must be a string")
    board = Board(
        name=_req(doc, "name", str, path),
        kind=_req(doc, "kind", str, path),
        description=_req(doc, "description", str, path),
        core=_req(doc, "core", str, path),
        fpu=_req(doc, "fpu", bool, path),
        fpu_double=_req(doc, "fpu_double", bool, path),
        dsp=_req(doc, "dsp", bool, path),
        mve=_req(doc, "mve", bool, path),
        cflags=tuple(_req(doc, "cflags", list, path)),
        clock_hz=_req(doc, "clock_hz", int, path),
        memory=tuple(_parse_region(r, path) for r in raw_memory),
        qemu_machine=qemu_machine,
        aliases=tuple(doc.get("aliases", ())),
        path=path,
    )

    if board.kind not in BOARD_KINDS:
        raise _fail(path, f"kind must be one of {BOARD_KINDS}")
    if board.core not in CORES:
        raise _fail(path, f"core must be one of {CORES}, got {board.core!r}")
    if f"-mcpu={board.core}" not in board.cflags or "-mthumb" not in board.cflags:
        raise _fail(path, f"cflags must contain -mcpu={board.core} and -mthumb")
    hard = "-mfloat-abi=hard" in board.cflags
    if board.fpu != hard:
        raise _fail(path, "fpu = true goes with -mfloat-abi=hard, fpu = false with soft")
    if (board.mve or board.fpu_double) and not board.fpu:
        raise _fail(path, "mve/fpu_double need fpu = true")
    if not board.flash_regions or not board.ram_regions:
        raise _fail(path, "needs at least one flash and one ram region")
    if board.kind == "qemu" and board.qemu_machine is None:
        raise _fail(path, "a qemu board needs qemu_machine")
    if board.clock_hz <= 0:
        raise _fail(path, "clock_hz must be positive")
    return board


@functools.lru_cache(maxsize=None)
def _load_all(directory: Path) -> tuple[Board, ...]:
    boards = tuple(load_board(p) for p in sorted(directory.glob("*.toml")))
    seen: dict[str, Path] = {}
    for b in boards:
        for key in (b.name, *b.aliases):
            k = key.lower()
            if k in seen:
                raise _fail(b.path, f"name or alias '{key}' is also used by {seen[k].name}")
            seen[k] = b.path
    return boards


def list_boards() -> list[Board]:
    """Every shipped profile, sorted by name."""
    return sorted(_load_all(boards_dir()), key=lambda b: b.name.lower())


def board_names() -> list[str]:
    return [b.name for b in list_boards()]


def get_board(name: str | Board) -> Board:
    """Profile by name or alias, case-insensitive; a Board passes through."""
    if isinstance(name, Board):
        return name
    key = name.strip().lower()
    for b in list_boards():
        if key == b.name.lower() or key in (a.lower() for a in b.aliases):
            return b
    raise McugenError(f"unknown board '{name}'; known boards: {', '.join(board_names())}")
