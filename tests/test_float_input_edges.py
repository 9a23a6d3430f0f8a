"""Float model inputs that TFLM's int cast leaves undefined (NaN, inf, |x/scale| >= 2^31) give the same
bits in every mcugen engine: reference, TFLM wheel, host C and Cortex-M firmware."""
import shutil

import numpy as np
import pytest

from conftest import FIXTURES
from mcugen import frontend, reference
from mcugen.codegen.generate import generate
from mcugen.harness import tflm
from mcugen.harness.host import HostModel

MODEL = FIXTURES / "adhoc" / "quantize_float_io.tflite"


def _batch(g):
    rng = np.random.default_rng(4)
    batch = []
    for i in g.inputs:
        t = g.t(i)
        if t.dtype == "float32":
            x = rng.standard_normal((3, *t.shape)).astype(np.float32)
            x[0].flat[:6] = [np.nan, np.inf, -np.inf, 2.2e9, -3e38, 1e6]
            x[1].flat[:2] = [-np.nan, 3e38]
        else:
            x = rng.integers(-128, 128, (3, *t.shape)).astype(np.int8)
        batch.append(x)
    return batch


def test_all_engines_agree_on_undefined_float_inputs(tmp_path):
    g = frontend.load(MODEL)
    b = _batch(g)
    want = tflm.run_batch(MODEL, b, len(g.outputs))
    ref = reference.run_batch(g, b)
    generate(g, tmp_path / "g")
    c = HostModel(tmp_path / "g", "sanitize").run_batch(b)
    for k in range(len(want)):
        np.testing.assert_array_equal(ref[k], want[k])
        np.testing.assert_array_equal(c[k], want[k])


def test_firmware_agrees_on_undefined_float_inputs():
    if shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None:
        pytest.skip("cross toolchain or QEMU missing: run tools/install_toolchain.sh")
    from mcugen.harness import firmware

    g = frontend.load(MODEL)
    b = _batch(g)
    ref = reference.run_batch(g, b)
    out, _ = firmware.run_batch(g, MODEL, b, "MPS2-AN386")
    for k in range(len(ref)):
        np.testing.assert_array_equal(out[k], ref[k])
