"""The C kernels of mcu_nn_misc.h against the reference interpreter, bit for bit.

Each case is a random one-operator graph: lower it with lower_misc, run the
KernelCall through a shared library of the kernels (cffi glue below, one
build per rounding mode), compare with mcugen.reference. Kernels that
declare inplace_input are run a second time with the output written over
that input. Separately: the generated code of every zoo fixture made of
these operators against TFLM's outputs, one all-kernels model under
ASan/UBSan, and the Cortex-M4 cross build.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import cffi
import numpy as np
import pytest

from conftest import FIXTURES, ROOT
from mcugen import ir
from mcugen.codegen import lower_misc
from mcugen.codegen.lower_misc import LOWER
from mcugen.reference import interpreter
from single_op import activation, make_graph, quant

INC = ROOT / "runtime_c" / "include"
SRC = ROOT / "runtime_c" / "src"
SOURCES = sorted({s for s in (
    "mcu_avgpool_s8.c", "mcu_maxpool_s8.c", "mcu_mean_s8.c", "mcu_add_s8.c", "mcu_mul_s8.c", "mcu_lut_s8.c",
    "mcu_softmax_s8.c", "mcu_quantize_s8.c", "mcu_dequantize_s8.c", "mcu_copy_s8.c", "mcu_concat_s8.c",
    "mcu_split_s8.c", "mcu_strided_slice_s8.c", "mcu_pad_s8.c")})
CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-Wpedantic"]
ACTS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")
_CTYPE = {np.dtype(np.int8): "int8_t", np.dtype(np.int32): "int32_t", np.dtype(np.float32): "float"}


# ---- cffi glue: a KernelCall run against numpy buffers ------------------------------


def _cdef() -> str:
    text = (INC / "mcu_nn_misc.h").read_text()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"#ifdef __cplusplus.*?#endif", "", text, flags=re.S)
    defines = dict(re.findall(r"#define (MCU_\w+) (\d+)", text))
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    for k, v in defines.items():
        body = body.replace(k, v)
    return body


class Kernels:
    def __init__(self, lib_path: Path):
        self.ffi = cffi.FFI()
        self.ffi.cdef(_cdef() + SHIM_CDEF)
        self.lib = self.ffi.dlopen(str(lib_path))

    def run(self, call, arrays: dict[int, np.ndarray], outputs: dict[int, np.ndarray]) -> None:
        """Executes `call`; arrays/outputs map tensor index -> buffer."""
        ffi, keep = self.ffi, []

        def ptr(a: np.ndarray):
            keep.append(a)
            return ffi.cast(_CTYPE[a.dtype] + " *", ffi.from_buffer(a))

        consts = {c.name: c.data for c in call.consts}
        params = None
        if call.params_type:
            params = ffi.new(call.params_type + " *")
            for field, v in call.params_init.items():
                if isinstance(v, str):
                    v = [int(x) for x in v.strip("{}").split(",")]
                setattr(params, field, v)

        def arg(a: str):
            m = re.fullmatch(r"\((?:const )?int8_t \*const\[\]\)\{\{(.*)\}\}", a)
            if m:
                items = [arg(x.strip()) for x in m.group(1).split(",")]
                arr = ffi.new("int8_t *[]", [ffi.cast("int8_t *", x) for x in items])
                keep.append(arr)
                return arr
            m = re.fullmatch(r"\{(in|out)(\d+)\}", a)
            if m:
                idx = (call.inputs if m.group(1) == "in" else call.outputs)[int(m.group(2))]
                return ptr(arrays[idx] if m.group(1) == "in" else outputs[idx])
            if a == "{params}":
                return params
            if a in consts:
                return ptr(np.ascontiguousarray(consts[a]))
            return int(a)

        args = [arg(a) for a in call.args]
        getattr(self.lib, call.func)(*args)


# exposes the kernels' private arithmetic (mcu_misc_internal.h) to the tests
SHIM = r"""
#include "mcu_misc_internal.h"
void shim_rq(const int32_t *x, int32_t *y, int32_t n, int32_t m, int32_t e)
{
    const mcu_mi_rq_t r = mcu_mi_rq_init(m, e);
    int32_t i;
    for (i = 0; i < n; i++) y[i] = mcu_mi_rq(2 * x[i] - r.thr2, &r);
}
void shim_div(const uint32_t *a, uint32_t *q, int32_t n, uint32_t d)
{
    const mcu_mi_divisor_t dv = mcu_mi_divisor(d);
    int32_t i;
    for (i = 0; i < n; i++) q[i] = mcu_mi_div(a[i], dv);
}
"""
SHIM_CDEF = """
void shim_rq(const int32_t *x, int32_t *y, int32_t n, int32_t m, int32_t e);
void shim_div(const uint32_t *a, uint32_t *q, int32_t n, uint32_t d);
"""


def _build(out: Path, extra: list[str]) -> Path:
    shim = out.with_suffix(".shim.c")
    shim.write_text(SHIM)
    cmd = ["gcc", "-O2", "-shared", "-fPIC", *CFLAGS, *extra, f"-I{INC}", f"-I{SRC}",
           *[str(SRC / s) for s in SOURCES], str(shim), "-o", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture(scope="module")
def kernels(tmp_path_factory):
    d = tmp_path_factory.mktemp("misc_kernels")
    return {"double": Kernels(_build(d / "libdouble.so", [])),
            "single": Kernels(_build(d / "libsingle.so", ["-DMCU_SINGLE_ROUNDING"]))}


def check(kernels, rounding: str, graph: ir.Graph, inputs: list[np.ndarray], rng) -> None:
    """One graph: C output == reference output, also in place when allowed."""
    op = graph.operators[0]
    want = interpreter.run(graph, inputs, rounding=rounding)
    call = LOWER[op.kind](graph, op, 0, rounding=rounding)
    k = kernels[rounding]
    arrays = dict(zip(graph.inputs, [np.ascontiguousarray(x).copy() for x in inputs]))

    def fresh_outputs():
        # garbage, so an element the kernel forgets to write shows up
        return {i: rng.integers(0, 256, graph.t(i).nbytes, dtype=np.uint8).view(ir.DTYPES[graph.t(i).dtype])
                .reshape(graph.t(i).shape) for i in op.outputs}

    outs = fresh_outputs()
    k.run(call, arrays, outs)
    for i, w in zip(op.outputs, want):
        assert np.array_equal(outs[i], w), _diff(graph, op, outs[i], w)
    if call.inplace_input is not None:
        src = op.inputs[call.inplace_input]
        assert not graph.t(src).is_const and graph.t(src).nbytes == graph.t(op.outputs[0]).nbytes
        arrays2 = {i: a.copy() for i, a in arrays.items()}
        shared = arrays2[src]
        k.run(call, arrays2, {op.outputs[0]: shared.view(want[0].dtype).reshape(want[0].shape)})
        assert np.array_equal(shared.view(want[0].dtype).reshape(want[0].shape), want[0]), \
            "in place: " + _diff(graph, op, shared.view(want[0].dtype).reshape(want[0].shape), want[0])


def _diff(graph, op, got, want) -> str:
    bad = np.flatnonzero(got.ravel() != want.ravel())
    shapes = [list(graph.t(i).shape) for i in op.inputs if i >= 0]
    return (f"{op.kind} {shapes} -> {list(want.shape)} {op.options}: {bad.size} of {want.size} differ, "
            f"first at {bad[:4]}: got {got.ravel()[bad[:4]]} want {want.ravel()[bad[:4]]}")


# ---- random operator graphs ----------------------------------------------------------


def _scale(rng, lo=0.004, hi=0.08) -> float:
    return float(np.float32(np.exp(rng.uniform(np.log(lo), np.log(hi)))))


def _zp(rng) -> int:
    return int(rng.integers(-128, 128))


def _act(rng, name, shape, scale=None, zp=None):
    return activation(name, shape, _scale(rng) if scale is None else scale, _zp(rng) if zp is None else zp)


def _int8(rng, shape) -> np.ndarray:
    return rng.integers(-128, 128, size=shape, dtype=np.int64).astype(np.int8)


def _const_i32(name, values) -> ir.Tensor:
    a = np.asarray(values, dtype=np.int32)
    return ir.Tensor(name, a.shape, "int32", None, a)


def _shape(rng, rank, hi=6) -> tuple[int, ...]:
    return tuple(int(d) for d in rng.integers(1, hi + 1, size=rank))


def pool_case(rng, kind: str, big: bool = False):
    n = int(rng.integers(1, 3))
    c = int(rng.integers(1, 10))
    if big:  # a global pool: window = the whole image, up to 2304 taps
        h, w = (int(rng.integers(20, 49)), int(rng.integers(3, 49)))
        fh, fw, sh, sw, pad = h, w, 1, 1, "VALID"
    else:
        h, w = int(rng.integers(1, 13)), int(rng.integers(1, 13))
        pad = "SAME" if rng.random() < 0.5 else "VALID"
        fh, fw = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        if pad == "VALID":
            fh, fw = min(fh, h), min(fw, w)
        sh, sw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    oh, ow = ir.conv_output_size(h, fh, sh, 1, pad), ir.conv_output_size(w, fw, sw, 1, pad)
    s, z = _scale(rng), _zp(rng)
    opts = ir.PoolOptions(filter_h=fh, filter_w=fw, stride_h=sh, stride_w=sw, padding=pad,
                          activation=ACTS[int(rng.integers(4))])
    g = make_graph(kind, [activation("x", (n, h, w, c), s, z)], [activation("y", (n, oh, ow, c), s, z)], opts)
    x = _int8(rng, (n, h, w, c))
    if big and rng.random() < 0.5:  # the extremes of the exact division's range
        x = np.full(x.shape, rng.choice([-128, 127]), dtype=np.int8)
    return g, [x]


def mean_case(rng):
    rank = int(rng.integers(1, 5))
    shape = _shape(rng, rank, 7)
    axes = tuple(sorted(int(a) for a in rng.choice(rank, size=int(rng.integers(1, rank + 1)), replace=False)))
    keep = bool(rng.random() < 0.5)
    out = tuple(1 if a in axes else d for a, d in enumerate(shape)) if keep else \
        tuple(d for a, d in enumerate(shape) if a not in axes)
    s_in = _scale(rng)
    s_out = float(np.float32(s_in * np.exp(rng.uniform(-1.0, 1.0))))
    g = make_graph("MEAN", [_act(rng, "x", shape, s_in), _const_i32("axes", axes)],
                   [_act(rng, "y", out, s_out)], ir.ReduceOptions(axes=axes, keep_dims=keep))
    return g, [_int8(rng, shape)]


def _broadcast_shapes(rng):
    rank = int(rng.integers(1, 6))
    out = _shape(rng, rank, 5)
    pick = lambda: tuple(d if rng.random() < 0.6 else 1 for d in out)  # noqa: E731
    a, b = pick(), pick()
    if rng.random() < 0.3:
        a = out
        b = out if rng.random() < 0.5 else b
    b = b[int(rng.integers(0, rank)):] if rng.random() < 0.3 else b  # lower rank
    out = tuple(max(x, y) for x, y in zip(a, (1,) * (rank - len(b)) + b))
    return a, b, out


def binary_case(rng, kind: str):
    a, b, out = _broadcast_shapes(rng)
    sa, sb = _scale(rng), _scale(rng)
    za, zb = _zp(rng), _zp(rng)
    if rng.random() < 0.2:  # one table shared by both inputs
        sb, zb = sa, za
    if kind == "MUL":
        s_out = float(np.float32(sa * sb * 74 * 74 / 60 * rng.uniform(0.5, 2)))
    else:
        s_out = float(np.float32(max(sa, sb) * rng.uniform(0.7, 2.5)))
    ta, tb = activation("a", a, sa, za), activation("b", b, sb, zb)
    xa, xb = _int8(rng, a), _int8(rng, b)
    const = rng.random() < 0.2
    if const:
        tb = ir.Tensor("b", tb.shape, "int8", tb.quant, xb)
    g = make_graph(kind, [ta, tb], [_act(rng, "y", out, s_out)],
                   ir.ElementwiseOptions(activation=ACTS[int(rng.integers(4))]))
    return g, [xa] if const else [xa, xb]


def unary_case(rng, kind: str):
    shape = _shape(rng, int(rng.integers(1, 5)))
    s_in = _scale(rng, 0.01, 0.2)
    out_q = {"LOGISTIC": (1 / 256, -128), "TANH": (1 / 128, 0), "RELU6": (s_in, None)}.get(kind)
    s_out, z_out = out_q if out_q else (_scale(rng, 0.01, 0.2), None)
    z_in = _zp(rng)
    if kind == "RELU6":
        z_out = z_in
    opts = ir.LeakyReluOptions(alpha=float(rng.choice([0.1, 0.2, 0.3, -0.5]))) if kind == "LEAKY_RELU" else ir.NoOptions()
    g = make_graph(kind, [activation("x", shape, s_in, z_in)], [_act(rng, "y", shape, s_out, z_out)], opts)
    return g, [_int8(rng, shape)]


def softmax_case(rng):
    rank = int(rng.integers(1, 4))
    shape = _shape(rng, rank - 1, 3) + (int(rng.choice([1, 2, 3, 10, 37, 300, 1000])),)
    s_in = _scale(rng, 0.01, 0.3)
    beta = float(np.float32(rng.choice([1.0, 0.5, 2.0, 1.7])))
    g = make_graph("SOFTMAX", [activation("x", shape, s_in, _zp(rng))], [activation("y", shape, 1 / 256, -128)],
                   ir.SoftmaxOptions(beta=beta))
    x = _int8(rng, shape)
    # TFLM aborts on rows with more than ~256 values near the max (its
    # reciprocal exponent passes 31), so ties and narrow rows stay short
    mode = rng.random()
    if mode < 0.2 and shape[-1] <= 200:  # ties at the max
        x[...] = rng.integers(-128, 128)
    elif mode < 0.4 and shape[-1] <= 37:  # narrow spread: many terms in the sum
        x = (x // 32).astype(np.int8)
    return g, [x]


def quantize_case(rng):
    shape = _shape(rng, int(rng.integers(1, 4)))
    s = _scale(rng)
    z = _zp(rng)
    x_in = ir.Tensor("x", shape, "float32")
    g = make_graph("QUANTIZE", [x_in], [activation("y", shape, s, z)], ir.NoOptions())
    # values on and next to the .5 rounding boundaries, and beyond the int8 range
    k = rng.integers(-300, 300, size=shape).astype(np.float32)
    x = (k + np.float32(0.5)) * np.float32(s)
    jitter = rng.choice([-1, 0, 0, 1], size=shape)
    x = np.nextafter(x, np.where(jitter > 0, np.inf, -np.inf).astype(np.float32)).astype(np.float32) \
        * (jitter != 0) + x * (jitter == 0)
    return g, [x.astype(np.float32)]


def requantize_case(rng):
    shape = _shape(rng, int(rng.integers(1, 4)))
    g = make_graph("QUANTIZE", [_act(rng, "x", shape)], [_act(rng, "y", shape)], ir.NoOptions())
    return g, [_int8(rng, shape)]


def dequantize_case(rng):
    shape = _shape(rng, int(rng.integers(1, 4)))
    g = make_graph("DEQUANTIZE", [_act(rng, "x", shape)], [ir.Tensor("y", shape, "float32")], ir.NoOptions())
    return g, [_int8(rng, shape)]


def concat_case(rng):
    rank = int(rng.integers(1, 5))
    base = _shape(rng, rank, 4)
    axis = int(rng.integers(rank))
    n = int(rng.integers(1, 6))
    s, z = _scale(rng), _zp(rng)
    ins, xs = [], []
    for k in range(n):
        shape = base[:axis] + (int(rng.integers(1, 5)),) + base[axis + 1:]
        x = _int8(rng, shape)
        q = quant(s, z)
        const = k > 0 and rng.random() < 0.2
        ins.append(ir.Tensor(f"x{k}", shape, "int8", q, x if const else None))
        if not const:
            xs.append(x)
    out = base[:axis] + (sum(t.shape[axis] for t in ins),) + base[axis + 1:]
    g = make_graph("CONCATENATION", ins, [activation("y", out, s, z)], ir.ConcatOptions(axis=axis))
    return g, xs


def split_case(rng, kind: str):
    rank = int(rng.integers(1, 5))
    shape = _shape(rng, rank, 5)
    axis = int(rng.integers(rank))
    s, z = _scale(rng), _zp(rng)
    if kind == "SPLIT":
        n = int(rng.integers(1, 5))
        shape = shape[:axis] + (shape[axis] * n,) + shape[axis + 1:]
        sizes = [shape[axis] // n] * n
    else:
        sizes = [int(v) for v in rng.integers(1, 4, size=int(rng.integers(1, 5)))]
        shape = shape[:axis] + (sum(sizes),) + shape[axis + 1:]
    x = activation("x", shape, s, z)
    outs = [activation(f"y{k}", shape[:axis] + (n_,) + shape[axis + 1:], s, z) for k, n_ in enumerate(sizes)]
    if kind == "SPLIT":
        g = make_graph(kind, [_const_i32("axis", [axis]), x], outs, ir.AxisOptions(axis=axis, num_splits=len(sizes)))
    else:
        g = make_graph(kind, [x, _const_i32("sizes", sizes), _const_i32("axis", [axis])], outs,
                       ir.AxisOptions(axis=axis, num_splits=len(sizes), size_splits=tuple(sizes)))
    return g, [_int8(rng, shape)]


def strided_slice_case(rng):
    rank = int(rng.integers(1, 6))
    shape = _shape(rng, rank, 7)
    begin, end, strides, counts = [], [], [], []
    shrink = 0
    for a, d in enumerate(shape):
        s = int(rng.choice([1, 1, 2, 3, -1, -2]))
        b = int(rng.integers(0, d))
        if s > 0:
            e = int(rng.integers(b + 1, d + 1))
        else:
            e = int(rng.integers(-1, b))
        r = rng.random()
        if r < 0.4:  # the whole axis, forwards or reversed: long contiguous runs
            b, e, s = (0, d, 1) if r < 0.3 else (d - 1, -1, -1)
        elif r < 0.5:  # shrink: one element
            s, e = 1, b + 1
            shrink |= 1 << a
        begin.append(b)
        end.append(e)
        strides.append(s)
        counts.append(len(range(b, e, s)))
    out = tuple(c for a, c in enumerate(counts) if not shrink & (1 << a))
    s_, z = _scale(rng), _zp(rng)
    opts = ir.StridedSliceOptions(begin=tuple(begin), end=tuple(end), strides=tuple(strides), shrink_axis_mask=shrink)
    g = make_graph("STRIDED_SLICE", [activation("x", shape, s_, z), _const_i32("b", begin), _const_i32("e", end),
                                     _const_i32("s", strides)], [activation("y", out, s_, z)], opts)
    return g, [_int8(rng, shape)]


def pad_case(rng, kind: str):
    rank = int(rng.integers(1, 6))
    shape = _shape(rng, rank, 5)
    pads = tuple((int(rng.integers(0, 3)) * (rng.random() < 0.6), int(rng.integers(0, 3)) * (rng.random() < 0.6))
                 for _ in range(rank))
    out = tuple(d + b + a for d, (b, a) in zip(shape, pads))
    s, z = _scale(rng), _zp(rng)
    ins = [activation("x", shape, s, z), _const_i32("paddings", pads)]
    if kind == "PADV2":
        ins.append(ir.Tensor("value", (), "int8", quant(s, z), np.array(rng.integers(-128, 128), dtype=np.int8)))
    g = make_graph(kind, ins, [activation("y", out, s, z)], ir.PadOptions(paddings=pads))
    return g, [_int8(rng, shape)]


def reshape_case(rng, kind: str):
    shape = _shape(rng, 3, 5)
    out = (shape[0] * shape[1], shape[2]) if kind == "RESHAPE" else shape
    if kind == "SQUEEZE":
        shape = shape[:1] + (1,) + shape[1:]
    s, z = _scale(rng), _zp(rng)
    g = make_graph(kind, [activation("x", shape, s, z), _const_i32("shape", out)], [activation("y", out, s, z)],
                   ir.NoOptions())
    return g, [_int8(rng, shape)]


CASES = {
    "AVERAGE_POOL_2D": (lambda r: pool_case(r, "AVERAGE_POOL_2D"), 120),
    "AVERAGE_POOL_2D global": (lambda r: pool_case(r, "AVERAGE_POOL_2D", big=True), 12),
    "MAX_POOL_2D": (lambda r: pool_case(r, "MAX_POOL_2D"), 80),
    "MEAN": (mean_case, 120),
    "ADD": (lambda r: binary_case(r, "ADD"), 200),
    "SUB": (lambda r: binary_case(r, "SUB"), 100),
    "MUL": (lambda r: binary_case(r, "MUL"), 150),
    **{k: ((lambda kind: lambda r: unary_case(r, kind))(k), 6)
       for k in ("RELU", "RELU6", "LEAKY_RELU", "LOGISTIC", "TANH", "HARD_SWISH")},
    "SOFTMAX": (softmax_case, 80),
    "QUANTIZE float": (quantize_case, 30),
    "QUANTIZE int8": (requantize_case, 10),
    "DEQUANTIZE": (dequantize_case, 10),
    "CONCATENATION": (concat_case, 80),
    "SPLIT": (lambda r: split_case(r, "SPLIT"), 50),
    "SPLIT_V": (lambda r: split_case(r, "SPLIT_V"), 50),
    "STRIDED_SLICE": (strided_slice_case, 150),
    "PAD": (lambda r: pad_case(r, "PAD"), 80),
    "PADV2": (lambda r: pad_case(r, "PADV2"), 30),
    "RESHAPE": (lambda r: reshape_case(r, "RESHAPE"), 3),
    "SQUEEZE": (lambda r: reshape_case(r, "SQUEEZE"), 3),
}


@pytest.mark.parametrize("rounding", ["double", "single"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_random_cases_bit_exact(kernels, case, rounding):
    make, n = CASES[case]
    rng = np.random.default_rng([ord(c) for c in case + rounding])  # stable across runs
    for _ in range(n):
        graph, inputs = make(rng)
        check(kernels, rounding, graph, inputs, rng)


@pytest.mark.parametrize("rounding", ["double", "single"])
def test_one_multiply_requantization_at_ties(kernels, rounding):
    """mcu_add_s8's output stage (mcu_mi_rq) against MultiplyByQuantizedMultiplier,
    on values whose intermediate sits exactly on, or next to, a rounding tie
    of either stage, on both signs: random tensors almost never reach them."""
    from mcugen import fixedpoint as fp

    k = kernels[rounding]
    rng = np.random.default_rng(5)
    for _ in range(60):
        m = int(rng.integers(1 << 30, 1 << 31)) if rng.random() < 0.8 else int(rng.integers(1, 1 << 31))
        e = int(rng.integers(3, 32))
        v = rng.integers(-(1 << 12), 1 << 12, size=3000, dtype=np.int64) * (1 << e) + (1 << (e - 1))
        v = v[np.abs(v) < (1 << 29)]
        x = np.concatenate([(v * (1 << 31)) // m + d for d in (-2, -1, 0, 1, 2)]
                           + [rng.integers(-(1 << 29), 1 << 29, size=2000, dtype=np.int64), np.arange(-64, 64)])
        x = x[np.abs(x) < (1 << 29)].astype(np.int32)
        y = np.zeros_like(x)
        k.lib.shim_rq(k.ffi.from_buffer("int32_t[]", x), k.ffi.from_buffer("int32_t[]", y), x.size, m, e)
        want = fp.multiply_by_quantized_multiplier(x, m, -e, rounding)
        assert np.array_equal(y, want), (m, e, x[y != want][:4], y[y != want][:4], want[y != want][:4])


def test_exact_division_by_window_size(kernels):
    """The multiply-shift divider of AVERAGE_POOL_2D, at every multiple of d
    and its neighbours up to 129 d."""
    k = kernels["double"]
    for d in list(range(2, 300)) + [625, 1000, 2304, 4095, 65536, (1 << 23) - 1, 1 << 23]:
        q = np.arange(0, 130, dtype=np.int64) * d
        a = np.unique(np.concatenate([q - 1, q, q + 1, q + d // 2]))
        a = a[(a >= 0) & (a <= 129 * d)].astype(np.uint32)
        got = np.zeros_like(a)
        k.lib.shim_div(k.ffi.from_buffer("uint32_t[]", a), k.ffi.from_buffer("uint32_t[]", got), a.size, d)
        assert np.array_equal(got, a // d), d


def test_lowering_choices():
    """What the generator is promised: in-place flags, table sharing,
    broadcast folding, compound-literal pointer lists."""
    rng = np.random.default_rng(7)
    q = (0.02, 3)
    a, b = activation("a", (1, 4, 4, 8), *q), activation("b", (1, 4, 4, 8), *q)
    g = make_graph("ADD", [a, b], [activation("y", (1, 4, 4, 8), 0.03, -1)], ir.ElementwiseOptions())
    call = LOWER["ADD"](g, g.operators[0], 5)
    assert call.inplace_input == 0 and [c.name for c in call.consts] == ["l5_tab1"]
    assert call.args[3] == call.args[4] == "l5_tab1"
    assert call.params_init["dims"] == "{1, 1, 1, 1, 128}"
    # broadcast [1,4,4,8] + [1,1,1,8]: no in place on the small input, rows of 8
    g = make_graph("ADD", [activation("a", (1, 1, 1, 8), *q), activation("b", (1, 4, 4, 8), 0.01, 0)],
                   [activation("y", (1, 4, 4, 8), 0.03, -1)], ir.ElementwiseOptions())
    call = LOWER["ADD"](g, g.operators[0], 0)
    assert call.inplace_input == 1
    assert (call.params_init["dims"], call.params_init["step1"], call.params_init["step2"]) == \
        ("{1, 1, 1, 16, 8}", "{0, 0, 0, 0, 1}", "{0, 0, 0, 8, 1}")
    g, _ = concat_case(rng)
    call = LOWER["CONCATENATION"](g, g.operators[0], 0)
    assert call.args[0].startswith("(const int8_t *const[]){{") and call.args[0].endswith("}}")
    g, _ = reshape_case(rng, "RESHAPE")
    call = LOWER["RESHAPE"](g, g.operators[0], 0)
    assert call.func == "mcu_copy_s8" and call.inplace_input == 0
    for kind in ("LOGISTIC", "TANH", "HARD_SWISH", "LEAKY_RELU", "RELU", "RELU6"):
        g, _ = unary_case(rng, kind)
        call = LOWER[kind](g, g.operators[0], 0)
        assert call.func == "mcu_lut_s8" and call.inplace_input == 0 and call.consts[0].data.size == 256


def test_softmax_table_matches_tflm_skip():
    """Entries past diff_min are zero; entry 0 (the row max) is exp(0) = 1."""
    rng = np.random.default_rng(3)
    g, _ = softmax_case(rng)
    from mcugen.params import activation as PA
    p = PA.softmax_params(g, g.operators[0])
    tab = lower_misc.softmax_exp_table(p)
    assert tab[0] == 2**31 - 1
    d = np.arange(256)
    assert np.all(tab[-d < p.diff_min] == 0) and np.all(tab[-d >= p.diff_min] > 0)
    assert np.all(np.diff(tab.astype(np.int64)) <= 0)


# ---- generated code: zoo fixtures against TFLM, sanitizers, Cortex-M4 ---------------------


def _zoo_misc_models() -> list[str]:
    from mcugen.frontend import load

    names = []
    for p in sorted((FIXTURES / "zoo").glob("*.tflite")):
        g = load(p)
        if all(op.kind in LOWER for op in g.operators):
            names.append(p.stem)
    return names


def test_generated_zoo_models_match_tflm(tmp_path):
    """Every zoo fixture made only of these operators, generated to C and
    run on the host, against the outputs TFLM computed."""
    from mcugen.codegen import generate
    from mcugen.frontend import load
    from mcugen.harness.host import HostModel

    names = _zoo_misc_models()
    assert len(names) >= 20
    for n in names:
        g = load(FIXTURES / "zoo" / f"{n}.tflite")
        ref = np.load(FIXTURES / "zoo" / f"{n}.npz")
        d = tmp_path / n
        generate.generate(g, d, name="m")
        outs = HostModel(d).run_batch([ref[f"input_{k}"] for k in range(len(g.inputs))])
        for k, o in enumerate(outs):
            want = ref[f"output_{k}"]
            assert np.array_equal(o, want), f"{n} output {k}: {int(np.sum(o != want))} of {want.size} differ"


def _merge(graphs: list[ir.Graph]) -> ir.Graph:
    """Independent one-operator graphs side by side in one graph."""
    tensors, ops, ins, outs = [], [], [], []
    for g in graphs:
        base = len(tensors)
        tensors += [ir.Tensor(f"g{len(ops)}_{t.name}", t.shape, t.dtype, t.quant, t.data) for t in g.tensors]
        for op in g.operators:
            ops.append(ir.Operator(op.kind, [i + base if i >= 0 else -1 for i in op.inputs],
                                   [i + base for i in op.outputs], op.options, f"g{len(ops)}"))
        ins += [i + base for i in g.inputs]
        outs += [i + base for i in g.outputs]
    g = ir.Graph(tensors, ops, ins, outs, name="all_misc")
    ir.validate(g)
    return g


def test_all_kernels_under_asan_ubsan(tmp_path):
    """One model holding every kernel (random shapes, some run in place by
    the planner) built with -fsanitize=address,undefined."""
    from mcugen.codegen import generate
    from mcugen.harness.host import HostModel

    rng = np.random.default_rng(11)
    graphs, samples = [], []
    for case in sorted(CASES):
        for _ in range(2):
            g, x = CASES[case][0](rng)
            graphs.append(g)
            samples.append(x)
    g = _merge(graphs)
    gen = generate.generate(g, tmp_path / "m", name="allmisc")
    assert any(c.inplace_input is not None for c in gen.calls)
    batch = [np.stack([x]) for xs in samples for x in xs]
    got = HostModel(tmp_path / "m", mode="sanitize").run_batch(batch)
    want = interpreter.run(g, [b[0] for b in batch])
    for k, (o, w) in enumerate(zip(got, want)):
        assert np.array_equal(o[0], w), f"output {k} ({g.t(g.outputs[k]).name})"


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc is not installed")
def test_cortex_m4_build_is_warning_free():
    configs = (["-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"], ["-mfloat-abi=soft", "-DMCU_SINGLE_ROUNDING"])
    with tempfile.TemporaryDirectory() as d:
        for extra in configs:
            for s in SOURCES:
                cmd = ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", *extra, "-O2", *CFLAGS,
                       f"-I{INC}", f"-I{SRC}", "-c", str(SRC / s), "-o", str(Path(d) / (s + ".o"))]
                r = subprocess.run(cmd, capture_output=True, text=True)
                assert r.returncode == 0, f"{s} {extra}: {r.stderr}"
