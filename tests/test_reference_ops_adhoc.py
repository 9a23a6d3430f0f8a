"""Activation, quantization and data-movement kernels against TFLM.

tests/fixtures/adhoc holds small converter-made int8 models and, beside
each, the outputs TFLM computed for a few inputs (tools/make_adhoc_fixtures.py,
dev-only). The reference interpreter must reproduce them bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import FIXTURES
from mcugen import ir
from mcugen.errors import UnsupportedModelError
from mcugen.frontend import load
from mcugen.params import activation as P
from mcugen.reference import gemmlowp as g
from mcugen.reference import run

ADHOC = FIXTURES / "adhoc"

# fixture -> operators it must contain, so a regenerated model cannot
# silently stop covering a kernel
EXPECTED_OPS = {
    "softmax": {"SOFTMAX"},
    "softmax_beta": {"SOFTMAX"},
    "softmax_long_rows": {"SOFTMAX"},
    "sigmoid_tanh": {"LOGISTIC", "TANH"},
    "hard_swish": {"HARD_SWISH"},
    "leaky_relu": {"LEAKY_RELU"},
    "leaky_relu_negative_alpha": {"LEAKY_RELU"},
    "relu_relu6": {"RELU", "RELU6"},
    "quantize_float_io": {"QUANTIZE", "DEQUANTIZE", "RELU", "TANH"},
    "requantize": {"QUANTIZE", "CONCATENATION", "LOGISTIC", "TANH", "RELU"},
    "concat": {"CONCATENATION"},
    "split": {"SPLIT", "SPLIT_V"},
    "strided_slice": {"STRIDED_SLICE"},
    "pad": {"PAD", "PADV2"},
    "reshape_squeeze": {"RESHAPE", "RELU"},
}


@pytest.mark.parametrize("name", sorted(EXPECTED_OPS))
def test_matches_tflm(name):
    graph = load(ADHOC / f"{name}.tflite")
    assert {op.kind for op in graph.operators} >= EXPECTED_OPS[name]
    ref = np.load(ADHOC / f"{name}.npz")
    n_in, n_out = len(graph.inputs), len(graph.outputs)
    assert sorted(ref.files) == sorted([f"in{k}" for k in range(n_in)] + [f"out{k}" for k in range(n_out)])
    for s in range(ref["in0"].shape[0]):
        got = run(graph, [ref[f"in{k}"][s] for k in range(n_in)])
        for k in range(n_out):
            want = ref[f"out{k}"][s]
            assert got[k].dtype == want.dtype and got[k].shape == want.shape, (name, s, k)
            mismatch = np.flatnonzero(got[k].ravel() != want.ravel())
            assert mismatch.size == 0, f"{name} sample {s} output {k}: {mismatch.size} values differ, first at {mismatch[:5]}"


def test_fixture_inputs_reach_saturation():
    # the sigmoid fixture must exercise both saturated branches and the
    # fixed-point path, or the comparison above proves little
    graph = load(ADHOC / "sigmoid_tanh.tflite")
    ref = np.load(ADHOC / "sigmoid_tanh.npz")
    logistic_outs = [k for k, i in enumerate(graph.outputs) if graph.operators[graph.producer(i)].kind == "LOGISTIC"]
    values = np.concatenate([ref[f"out{k}"].ravel() for k in logistic_outs])
    assert values.min() == -128 and values.max() == 127
    assert np.unique(values).size > 100


def test_foreign_concat_quantization_is_rejected_like_tflm():
    # TFLM's Prepare refuses int8 concatenation inputs with another scale or
    # zero point than the output; silently copying bytes would be wrong
    graph = load(ADHOC / "concat_foreign_scales.tflite")
    x = [np.zeros(graph.tensors[i].shape, np.int8) for i in graph.inputs]
    with pytest.raises(UnsupportedModelError, match="quantized differently"):
        run(graph, x)


def test_strided_slice_resolution_matches_tflm_counts():
    # counts per axis as TFLM iterates them, for x[:, ::-1, 1:7:2, :] and
    # x[:, 5:1:-1, -1:-9:-3, 3:0:-2] on a (1, 6, 8, 4) input
    graph = load(ADHOC / "strided_slice.tflite")
    counts = {tuple(P.strided_slice_params(graph, op).counts) for op in graph.operators}
    assert (1, 6, 3, 4) in counts
    assert (1, 4, 3, 2) in counts


# ---- params on hand-made graphs ----------------------------------------------------


def _unary(kind, in_scale, in_zp, out_scale, out_zp, options=None, shape=(1, 8), out_dtype="int8", in_dtype="int8"):
    def q(s, zp):
        return None if s is None else ir.Quant(scale=np.array([s], np.float32), zero_point=np.array([zp], np.int64))

    tensors = [ir.Tensor("x", shape, in_dtype, q(in_scale, in_zp)), ir.Tensor("y", shape, out_dtype, q(out_scale, out_zp))]
    op = ir.Operator(kind, [0], [1], options or ir.NoOptions(), name="y")
    return ir.Graph(tensors, [op], [0], [1])


def test_softmax_params_follow_preprocess_softmax_scaling():
    graph = _unary("SOFTMAX", 1 / 16, 0, 1 / 256, -128, ir.SoftmaxOptions(beta=1.0))
    p = P.softmax_params(graph, graph.operators[0])
    # beta * scale * 2**26 = 2**22 exactly: multiplier 2**30, shift 23
    assert (p.input_multiplier, p.input_left_shift) == (1 << 30, 23)
    assert p.diff_min == -math.floor(31 * 2**26 / 2**23)


def test_softmax_huge_beta_keeps_only_the_maximum():
    graph = _unary("SOFTMAX", 1.5, 0, 1 / 256, -128, ir.SoftmaxOptions(beta=100.0))
    p = P.softmax_params(graph, graph.operators[0])
    assert (p.input_multiplier, p.input_left_shift, p.diff_min) == ((1 << 31) - 1, 31, 0)
    single = P.softmax_params(graph, graph.operators[0], rounding="single")
    assert single.input_left_shift <= 30  # single-rounding builds cap the multiplier lower
    x = np.array([[3, -7, 3, 100, 99, -128, 0, 1]], np.int8)
    (y,) = run(graph, [x])
    assert y.tolist() == [[-128, -128, -128, 127, -128, -128, -128, -128]]


def test_softmax_rejects_foreign_output_quantization():
    graph = _unary("SOFTMAX", 0.1, 0, 1 / 128, 0, ir.SoftmaxOptions())
    with pytest.raises(UnsupportedModelError, match="1/256"):
        P.softmax_params(graph, graph.operators[0])


def test_logistic_params_and_saturation():
    graph = _unary("LOGISTIC", 0.5, -3, 1 / 256, -128)
    p = P.logistic_params(graph, graph.operators[0])
    # 0.5 * 2**27 = 2**26: frexp gives (0.5, 27)
    assert (p.input_multiplier, p.input_left_shift) == (1 << 30, 27)
    assert p.input_range_radius == math.floor(15 * 2**27 / 2**27)  # 15 steps of 0.5 = 7.5
    x = np.array([[-128, -18, -7, -3, 1, 12, 127, 0]], np.int8)
    (y,) = run(graph, [x])
    assert y[0, 0] == -128 and y[0, 1] == -128  # input - zp <= -15 saturates
    assert y[0, 5] == 127 and y[0, 6] == 127  # input - zp >= 15 saturates
    assert y[0, 3] == 0  # logistic(0) = 0.5 -> 128 - 128
    real = 0.5 * (x[0, [2, 4, 7]].astype(float) + 3)  # -2, 2, 1.5
    assert np.abs(y[0, [2, 4, 7]] - (256 / (1 + np.exp(-real)) - 128)).max() <= 0.5 + 1e-6


def test_relu6_clamps_in_the_input_quantization():
    # TFLM never requantizes RELU6: the output scale is ignored
    graph = _unary("RELU6", 0.1, 10, 0.05, -128)
    p = P.relu6_params(graph, graph.operators[0])
    assert (p.zero, p.six, p.output_quant_ignored) == (10, 70, True)
    x = np.array([[-128, 9, 10, 11, 69, 70, 71, 127]], np.int8)
    (y,) = run(graph, [x])
    assert y.tolist() == [[10, 10, 10, 11, 69, 70, 70, 70]]


def test_hard_swish_multipliers_are_int16():
    graph = _unary("HARD_SWISH", 0.4, -12, 0.23, -126)
    p = P.hard_swish_params(graph, graph.operators[0])
    for m in (p.reluish_multiplier_fixedpoint_int16, p.output_multiplier_fixedpoint_int16):
        assert (1 << 14) <= m <= (1 << 15) - 1
    assert p.reluish_multiplier_exponent > 0 >= p.output_multiplier_exponent


def test_quantize_rounds_half_away_from_zero_in_float32():
    graph = _unary("QUANTIZE", None, 0, 0.5, 3, in_dtype="float32")
    x = np.array([[0.25, -0.25, 0.75, -0.75, 1e10, -1e10, np.inf, 0.0]], np.float32)
    (y,) = run(graph, [x])
    # 0.5 -> 1, -0.5 -> -1, 1.5 -> 2, -1.5 -> -2, then + 3. Values beyond
    # int32 convert to INT32_MIN as on x86, so even +1e10 and +inf land on
    # -128, as the TFLM wheel computes them
    assert y.tolist() == [[4, 2, 5, 1, -128, -128, -128, 3]]


def test_dequantize_is_float32_product():
    graph = _unary("DEQUANTIZE", 0.1, -5, None, 0, out_dtype="float32")
    x = np.array([[-128, -5, 0, 127, 1, 2, 3, 4]], np.int8)
    (y,) = run(graph, [x])
    assert y.dtype == np.float32
    want = np.float32(0.1) * (x.astype(np.int32) + 5).astype(np.float32)
    assert np.array_equal(y, want)


# ---- gemmlowp fixed point ----------------------------------------------------------


def test_exp_on_negative_values_is_exp():
    xs = np.linspace(-31.9, 0, 2001)
    raw = np.round(xs * 2**26).astype(np.int64)  # Q5.26
    got = g.exp_on_negative_values(raw, 5) / 2**31
    assert np.max(np.abs(got - np.exp(raw / 2**26))) < 2e-8 * 2**5
    assert g.exp_on_negative_values(np.int64(0), 5) == (1 << 31) - 1


def test_logistic_and_tanh_fixed_point():
    raw = np.arange(-(1 << 31), (1 << 31), 1 << 22, dtype=np.int64)  # all of Q4.27
    x = raw / 2**27
    lg = g.logistic(raw, 4) / 2**31
    th = g.tanh(raw, 4) / 2**31
    assert np.max(np.abs(lg - 1 / (1 + np.exp(-x)))) < 1e-6
    assert np.max(np.abs(th - np.tanh(x))) < 1e-6
    assert g.logistic(np.int64(0), 4) == 1 << 30 and g.tanh(np.int64(0), 4) == 0
    inner = raw[1:]  # -raw overflows for INT32_MIN
    assert np.array_equal(g.tanh(-inner, 4), -g.tanh(inner, 4))


def test_reciprocal_and_pot_helpers():
    sums = np.array([1 << 19, 3 << 19, (1 << 19) + 1, 1000 << 19], dtype=np.int64)  # Q12.19 values 1, 3, ~1, 1000
    scale, bits = g.get_reciprocal(sums, 12)
    approx = scale / 2**31 / 2.0**bits  # shifted_scale is 1/x scaled by 2**-num_bits_over_unit
    assert np.allclose(approx * (sums / 2**19), 1.0, rtol=1e-6)
    assert g.saturating_rounding_multiply_by_pot(np.array([1 << 29, -(1 << 29), 5]), 2).tolist() == [(1 << 31) - 1, -(1 << 31), 20]
    assert g.rounding_divide_by_pot(np.array([5, -5, 6, -6, 7]), 1).tolist() == [3, -3, 3, -3, 4]
