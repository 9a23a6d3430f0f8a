"""Firmware harness on QEMU: a toy int8 network, bit-exact against numpy, with
exact instruction counts."""

import subprocess
from pathlib import Path

import numpy as np
import pytest

from mcugen.boards import get_board
from mcugen.errors import BuildError
from mcugen.harness import qemu

ROOT = Path(__file__).resolve().parents[1]
MACHINE_BOARDS = ("MPS2-AN385", "MPS2-AN386", "MPS2-AN500", "MPS2-AN505", "MPS3-AN547", "MICROBIT")

N_IN, N_HID, N_OUT = 32, 16, 8
M1, S1, M2, S2 = 1518500250, 38, 1276901417, 37
N_SAMPLES = 6


@pytest.fixture(scope="session")
def toolchain():
    script = ROOT / "tools" / "install_toolchain.sh"
    if script.is_file():
        subprocess.run(["bash", str(script)], check=False, timeout=1200)
    why = qemu.toolchain_missing()
    if why:
        pytest.skip(f"firmware toolchain unavailable after tools/install_toolchain.sh: {why}")


def _params():
    rng = np.random.default_rng(1234)
    w1 = rng.integers(-127, 128, size=(N_HID, N_IN), dtype=np.int64)
    b1 = rng.integers(-20000, 20000, size=N_HID, dtype=np.int64)
    w2 = rng.integers(-127, 128, size=(N_OUT, N_HID), dtype=np.int64)
    b2 = rng.integers(-20000, 20000, size=N_OUT, dtype=np.int64)
    return w1, b1, w2, b2


def _requant(acc, mult, shift, zp):
    v = ((acc * mult + (1 << (shift - 1))) >> shift) + zp
    return np.clip(v, -128, 127)


def toy_reference(x: np.ndarray) -> np.ndarray:
    w1, b1, w2, b2 = _params()
    h = _requant((x.astype(np.int64) + 3) @ w1.T + b1, M1, S1, -5)
    h = np.maximum(h, -5)
    return _requant((h + 5) @ w2.T + b2, M2, S2, 2).astype(np.int8)


def spin_iterations(x: np.ndarray) -> np.ndarray:
    return (x[:, 0].astype(np.uint8) & 31).astype(np.int64) + 1


def _c_array(a) -> str:
    return "{" + ", ".join(str(int(v)) for v in np.ravel(a)) + "}"


def toy_source() -> str:
    w1, b1, w2, b2 = _params()
    return f"""
#include <stdint.h>
#include "mcugen_harness.h"

static const int8_t w1[{N_HID * N_IN}] = {_c_array(w1)};
static const int32_t b1[{N_HID}] = {_c_array(b1)};
static const int8_t w2[{N_OUT * N_HID}] = {_c_array(w2)};
static const int32_t b2[{N_OUT}] = {_c_array(b2)};
static int8_t hidden[{N_HID}];

static int8_t requant(int32_t acc, int32_t mult, int shift, int32_t zp)
{{
    int64_t p = (int64_t)acc * mult + ((int64_t)1 << (shift - 1));
    int32_t v = (int32_t)(p >> shift) + zp;
    return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
}}

static void fc(const int8_t *x, int n_in, const int8_t *w, const int32_t *b, int n_out,
               int32_t in_off, int32_t mult, int shift, int32_t zp, int8_t *y)
{{
    for (int j = 0; j < n_out; j++) {{
        int32_t acc = b[j];
        for (int i = 0; i < n_in; i++)
            acc += (x[i] + in_off) * w[j * n_in + i];
        y[j] = requant(acc, mult, shift, zp);
    }}
}}

/* Exactly two instructions per iteration: the per-layer count of layer 3 is
 * an affine function of n with slope 2. */
__attribute__((noinline)) static void spin(uint32_t n)
{{
    __asm__ volatile("1: subs %0, %0, #1\\n\\tbne 1b" : "+l"(n) : : "cc");
}}

int mcugen_harness_invoke(const int8_t *in, int8_t *out)
{{
    MCUGEN_LAYER_MARK(0);
    fc(in, {N_IN}, w1, b1, {N_HID}, 3, {M1}, {S1}, -5, hidden);
    MCUGEN_LAYER_MARK(1);
    for (int i = 0; i < {N_HID}; i++)
        hidden[i] = hidden[i] < -5 ? -5 : hidden[i];
    MCUGEN_LAYER_MARK(2);
    fc(hidden, {N_HID}, w2, b2, {N_OUT}, 5, {M2}, {S2}, 2, out);
    MCUGEN_LAYER_MARK(3);
    spin(((uint8_t)in[0] & 31u) + 1u);
#ifdef TOY_FAIL
    return TOY_FAIL;
#else
    return 0;
#endif
}}
"""


@pytest.fixture(scope="session")
def toy_c(tmp_path_factory):
    path = tmp_path_factory.mktemp("toy") / "toy_model.c"
    path.write_text(toy_source())
    return path


@pytest.fixture(scope="session")
def samples():
    rng = np.random.default_rng(99)
    x = rng.integers(-128, 128, size=(N_SAMPLES, N_IN), dtype=np.int64).astype(np.int8)
    x[0, 0], x[1, 0] = 0, 31  # spin extremes: 1 and 32 iterations
    return x


def _build(board, toy_c, out_dir, profile=True, **kw):
    defines = {"MCUGEN_IN_BYTES": N_IN, "MCUGEN_OUT_BYTES": N_OUT}
    if profile:
        defines["MCUGEN_PROFILE"] = None
    defines.update(kw.pop("defines", {}))
    return qemu.build_firmware(board, [toy_c], defines=defines, out_dir=out_dir, **kw)


def test_toy_reference_exercises_saturation(samples):
    y = toy_reference(samples)
    assert (y == 127).any() or (y == -128).any()
    assert len(np.unique(y)) > 10


@pytest.mark.parametrize("board", MACHINE_BOARDS)
def test_toy_bit_exact_and_counts_reproducible(board, toolchain, toy_c, samples, tmp_path):
    elf = _build(board, toy_c, tmp_path)
    x = samples
    out1, c1 = qemu.run_firmware(board, elf, x.tobytes(), N_SAMPLES, N_OUT, count=True, timeout=60)
    got = np.frombuffer(out1, dtype=np.int8).reshape(N_SAMPLES, N_OUT)
    np.testing.assert_array_equal(got, toy_reference(x))

    out2, c2 = qemu.run_firmware(board, elf, x.tobytes(), N_SAMPLES, N_OUT, count=True, timeout=60)
    assert out2 == out1
    assert c2 == c1  # exact counts are reproducible run to run

    assert len(c1.total_per_inference) == N_SAMPLES
    assert all(len(layers) == 4 for layers in c1.per_layer)
    n = spin_iterations(x)
    for total, layers in zip(c1.total_per_inference, c1.per_layer):
        assert all(v > 0 for v in layers)
        # Only the call into invoke and its prologue precede the first mark.
        assert 0 < total - sum(layers) < 64
    # Layer 3 is n iterations of a two-instruction loop plus fixed overhead: the
    # counter is exact to the instruction.
    spin_counts = np.array([layers[3] for layers in c1.per_layer])
    assert np.all(spin_counts - 2 * n == spin_counts[0] - 2 * n[0])
    # The FC layers do the same work for every sample (up to clamp branches).
    fc1 = [layers[0] for layers in c1.per_layer]
    assert max(fc1) - min(fc1) <= 2 * N_HID


def test_count_without_profile_markers(toolchain, toy_c, samples, tmp_path):
    elf = _build("MPS2-AN386", toy_c, tmp_path, profile=False)
    out, counts = qemu.run_firmware("MPS2-AN386", elf, samples.tobytes(), N_SAMPLES, N_OUT, count=True)
    assert counts.per_layer == [[]] * N_SAMPLES
    np.testing.assert_array_equal(np.frombuffer(out, np.int8).reshape(N_SAMPLES, N_OUT), toy_reference(samples))
    # The marks cost a few calls; they also perturb register allocation, so
    # the profiled build is close to, not strictly above, the plain one.
    prof = _build("MPS2-AN386", toy_c, tmp_path / "p", profile=True)
    _, pcounts = qemu.run_firmware("MPS2-AN386", prof, samples.tobytes(), N_SAMPLES, N_OUT, count=True)
    for plain, profiled in zip(counts.total_per_inference, pcounts.total_per_inference):
        assert abs(profiled - plain) <= 4 * 8
    assert qemu.run_firmware("MPS2-AN386", elf, samples.tobytes(), N_SAMPLES, N_OUT)[1] is None


def test_hardware_board_runs_on_its_qemu_machine(toolchain, toy_c, samples, tmp_path):
    elf = _build("NUCLEO-L4R5ZI", toy_c, tmp_path)
    out, _ = qemu.run_firmware("NUCLEO-L4R5ZI", elf, samples.tobytes(), N_SAMPLES, N_OUT)
    np.testing.assert_array_equal(np.frombuffer(out, np.int8).reshape(N_SAMPLES, N_OUT), toy_reference(samples))


def test_size_of_and_board_fit(toolchain, toy_c, tmp_path):
    elf = _build("BLUEPILL-F103C8", toy_c, tmp_path, link_for="board")
    sizes = qemu.size_of(elf)
    assert set(sizes) == {"text", "rodata", "data", "bss"}
    # The toy's constants: 512 + 64 + 128 + 32 bytes of weights and biases.
    assert sizes["rodata"] >= N_HID * N_IN + 4 * N_HID + N_OUT * N_HID + 4 * N_OUT
    assert 200 < sizes["text"] < 8192
    assert sizes["bss"] >= N_IN + N_OUT + N_HID
    # 100 KiB of constants cannot fit the Blue Pill's 64 KiB flash.
    big = tmp_path / "big.c"
    big.write_text('#include <stdint.h>\nconst int8_t mcugen_big[100 * 1024] = {1};\n'
                   'int mcugen_harness_invoke(const int8_t *in, int8_t *out)\n'
                   '{ out[0] = mcugen_big[in[0] & 1023]; return 0; }\n')
    with pytest.raises(BuildError, match="(?i)overflow|will not fit"):
        qemu.build_firmware("BLUEPILL-F103C8", [big], defines={"MCUGEN_IN_BYTES": 4, "MCUGEN_OUT_BYTES": 1},
                            out_dir=tmp_path / "big", link_for="board")
    with pytest.raises(BuildError, match="not linked for QEMU machine mps2-an385"):
        qemu.run_firmware("BLUEPILL-F103C8", elf, bytes(N_IN), 1, N_OUT)


def test_board_without_qemu_builds_for_size_only(toolchain, toy_c, tmp_path):
    elf = _build("RPI-PICO", toy_c, tmp_path)
    assert qemu.size_of(elf)["rodata"] > 0
    with pytest.raises(BuildError, match="no QEMU machine"):
        qemu.run_firmware("RPI-PICO", elf, bytes(N_IN), 1, N_OUT)
    with pytest.raises(BuildError, match="no QEMU machine"):
        _build("RPI-PICO", toy_c, tmp_path, link_for="qemu")


def test_errors_are_build_errors_with_reasons(toolchain, toy_c, tmp_path):
    bad = tmp_path / "bad.c"
    bad.write_text("int mcugen_harness_invoke(const signed char *in, signed char *out) { return oops; }\n")
    with pytest.raises(BuildError, match="oops"):
        qemu.build_firmware("MPS2-AN385", [bad], defines={"MCUGEN_IN_BYTES": 1, "MCUGEN_OUT_BYTES": 1},
                            out_dir=tmp_path / "bad")

    elf = _build("MPS2-AN385", toy_c, tmp_path)
    with pytest.raises(BuildError, match="not a whole number of samples"):
        qemu.run_firmware("MPS2-AN385", elf, bytes(N_IN + 1), 1, N_OUT)
    with pytest.raises(BuildError, match="output bytes"):
        qemu.run_firmware("MPS2-AN385", elf, bytes(N_IN), 1, N_OUT + 1)

    failing = _build("MPS2-AN385", toy_c, tmp_path / "fail", defines={"TOY_FAIL": 7})
    with pytest.raises(BuildError, match="status 65: mcugen_harness_invoke returned non-zero"):
        qemu.run_firmware("MPS2-AN385", failing, bytes(N_IN), 1, N_OUT)


def test_fault_is_reported_not_hung(toolchain, tmp_path):
    src = tmp_path / "fault.c"
    # An address nothing answers on makes the bus fault; the harness must exit.
    src.write_text("#include <stdint.h>\nint mcugen_harness_invoke(const int8_t *in, int8_t *out)\n"
                   "{ out[0] = *(volatile int8_t *)0xF0000000u + in[0]; return 0; }\n")
    elf = qemu.build_firmware("MPS2-AN385", [src], defines={"MCUGEN_IN_BYTES": 1, "MCUGEN_OUT_BYTES": 1},
                              out_dir=tmp_path)
    with pytest.raises(BuildError, match="status 68"):
        qemu.run_firmware("MPS2-AN385", elf, b"\x01", 1, 1, timeout=30)


def test_sizes_from_generated_header_and_stack_check(toolchain, toy_c, samples, tmp_path):
    inc = tmp_path / "inc"
    inc.mkdir()
    (inc / "mcugen_io.h").write_text(f"#define MCUGEN_IN_BYTES {N_IN}\n#define MCUGEN_OUT_BYTES {N_OUT}\n")
    elf = qemu.build_firmware("MICROBIT", [toy_c], include_dirs=[inc], out_dir=tmp_path / "hdr")
    out, _ = qemu.run_firmware("MICROBIT", elf, samples.tobytes(), N_SAMPLES, N_OUT)
    np.testing.assert_array_equal(np.frombuffer(out, np.int8).reshape(N_SAMPLES, N_OUT), toy_reference(samples))
    # The micro:bit has 16 KiB of RAM: a 32 KiB stack must be refused at link time.
    with pytest.raises(BuildError, match="do not fit in RAM"):
        qemu.build_firmware("MICROBIT", [toy_c], include_dirs=[inc], out_dir=tmp_path / "stk",
                            stack_size=32 * 1024)
