import re

import pytest

from mcugen.boards import CORES, Board, get_board, list_boards, load_board
from mcugen.errors import McugenError
from mcugen.resources import data_dir

QEMU_MACHINES = ("mps2-an385", "mps2-an386", "mps2-an500", "mps2-an505", "mps3-an547", "microbit")


def test_required_boards_present():
    names = {b.name for b in list_boards()}
    for required in ("NUCLEO-L4R5ZI", "NUCLEO-H7A3ZI-Q", "NUCLEO-F746ZG", "nRF52840-DK", "RPI-PICO",
                     "BLUEPILL-F103C8", "NUCLEO-L552ZE-Q", "ALIF-E7-HP",
                     "MPS2-AN385", "MPS2-AN386", "MPS2-AN500", "MPS2-AN505", "MPS3-AN547", "MICROBIT"):
        assert required in names
    assert {b.qemu_machine for b in list_boards() if b.kind == "qemu"} == set(QEMU_MACHINES)


def test_lookup_is_case_insensitive_and_knows_aliases():
    assert get_board("nucleo-l4r5zi").name == "NUCLEO-L4R5ZI"
    assert get_board("  Bluepill ").name == "BLUEPILL-F103C8"
    assert get_board("pico").core == "cortex-m0plus"
    b = get_board("MPS3-AN547")
    assert get_board(b) is b


def test_unknown_board_error_lists_known_names():
    with pytest.raises(McugenError) as e:
        get_board("arduino-uno")
    msg = str(e.value)
    assert "arduino-uno" in msg
    for b in list_boards():
        assert b.name in msg


def test_board_facts():
    bp = get_board("BLUEPILL-F103C8")
    assert (bp.core, bp.flash_bytes, bp.ram_bytes, bp.fpu) == ("cortex-m3", 64 * 1024, 20 * 1024, False)
    l4 = get_board("NUCLEO-L4R5ZI")
    assert l4.fpu and l4.dsp and not l4.mve and "-mfpu=fpv4-sp-d16" in l4.cflags
    assert l4.ram_bytes == 640 * 1024 and l4.max_contiguous_ram == 640 * 1024
    f7 = get_board("NUCLEO-F746ZG")
    assert f7.max_contiguous_ram == 320 * 1024 and f7.ram_bytes == 336 * 1024
    m55 = get_board("ALIF-E7-HP")
    assert m55.mve and m55.fpu_double and m55.qemu_machine == "mps3-an547"
    assert get_board("RPI-PICO").qemu_machine is None


@pytest.mark.parametrize("board", list_boards(), ids=lambda b: b.name)
def test_profile_is_consistent(board: Board):
    assert board.core in CORES
    assert f"-mcpu={board.core}" in board.cflags and "-mthumb" in board.cflags
    assert board.fpu == ("-mfloat-abi=hard" in board.cflags)
    assert board.flash_bytes > 0 and board.ram_bytes > 0 and board.clock_hz > 0
    # Regions of one board never overlap.
    regions = sorted(board.memory, key=lambda r: r.origin)
    for a, b in zip(regions, regions[1:]):
        assert a.end <= b.origin, (a.name, b.name)
    # A hardware board runs on a QEMU machine of the same core.
    if board.qemu_machine and board.kind == "hardware":
        ref = next(b for b in list_boards() if b.kind == "qemu" and b.qemu_machine == board.qemu_machine)
        assert ref.core == board.core


def _ld_memory(machine: str) -> dict[str, tuple[int, int]]:
    text = (data_dir("boards") / "qemu" / "ld" / f"{machine}.ld").read_text()
    out = {}
    for name, origin, length, unit in re.findall(
            r"(\w+)\s*\([rwx]+\)\s*:\s*ORIGIN\s*=\s*(0x[0-9a-fA-F]+),\s*LENGTH\s*=\s*(\d+)([KM]?)", text):
        out[name] = (int(origin, 16), int(length) * {"": 1, "K": 1024, "M": 1 << 20}[unit])
    return out


@pytest.mark.parametrize("machine", QEMU_MACHINES)
def test_qemu_profile_matches_linker_script(machine):
    board = next(b for b in list_boards() if b.kind == "qemu" and b.qemu_machine == machine)
    mem = _ld_memory(machine)
    (code,) = board.flash_regions
    (ram,) = board.ram_regions
    assert mem["CODE"] == (code.origin, code.size)
    assert mem["RAM"] == (ram.origin, ram.size)


def test_bad_profile_is_reported_with_file_name(tmp_path):
    p = tmp_path / "broken.toml"
    p.write_text('name = "X"\nkind = "hardware"\ndescription = "x"\ncore = "cortex-m9"\n'
                 'fpu = false\nfpu_double = false\ndsp = false\nmve = false\n'
                 'cflags = ["-mcpu=cortex-m9", "-mthumb"]\nclock_hz = 1\n'
                 '[[memory]]\nname = "F"\nkind = "flash"\norigin = 0\nsize = 1024\n'
                 '[[memory]]\nname = "R"\nkind = "ram"\norigin = 0x20000000\nsize = 1024\n')
    with pytest.raises(McugenError, match=r"broken\.toml.*core"):
        load_board(p)
    p.write_text("name = ")
    with pytest.raises(McugenError, match=r"broken\.toml.*cannot read"):
        load_board(p)
