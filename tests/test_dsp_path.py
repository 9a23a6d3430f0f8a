"""Firmware for DSP cores runs the SMLAD/SXTB16 path, Helium cores add VMLADAVA; cores without DSP get the plain C fallback."""
import shutil
import subprocess

import pytest

from conftest import shared_model
from mcugen import frontend
from mcugen.harness.firmware import build_model_firmware


def _disassembly(elf) -> str:
    return subprocess.run(["arm-none-eabi-objdump", "-d", str(elf)], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("board,dsp", [("NUCLEO-L4R5ZI", True), ("NUCLEO-F746ZG", True), ("NUCLEO-L552ZE-Q", True),
                                       ("MPS2-AN385", False)])
def test_dsp_instructions_present_exactly_on_dsp_cores(board, dsp):
    if shutil.which("arm-none-eabi-objdump") is None:
        pytest.skip("arm-none-eabi binutils missing: run tools/install_toolchain.sh")
    g = frontend.load(shared_model("kws01_dscnn_int8"))
    fw = build_model_firmware(g, board)
    text = _disassembly(fw.elf)
    has = ("smlad" in text) and ("sxtb16" in text)
    assert has == dsp, f"{board}: SMLAD/SXTB16 {'missing' if dsp else 'present'}"


@pytest.mark.parametrize("board,mve", [("MPS3-AN547", True), ("NUCLEO-L4R5ZI", False)])
def test_helium_dot_products_exactly_on_mve_cores(board, mve):
    if shutil.which("arm-none-eabi-objdump") is None:
        pytest.skip("arm-none-eabi binutils missing: run tools/install_toolchain.sh")
    g = frontend.load(shared_model("kws01_dscnn_int8"))
    # objdump shows MVE encodings as UNDEFINED unless told the architecture
    text = subprocess.run(["arm-none-eabi-objdump", "-d", "-m", "armv8.1-m.main", str(build_model_firmware(g, board).elf)],
                          capture_output=True, text=True, check=True).stdout
    has = ("vmlava.s8" in text or "vmladava.s8" in text) and "vld20.32" in text  # VMLAVA: VMLADAVA's alias
    assert has == mve, f"{board}: VMLADAVA/VLD2 {'missing' if mve else 'present'}"
