"""Hand-checked corner cases of TFLM's fixed-point arithmetic (mcugen.fixedpoint)."""

import numpy as np
import pytest

from mcugen import fixedpoint as fp

I32_MIN, I32_MAX = fp.INT32_MIN, fp.INT32_MAX


# ---- QuantizeMultiplier ---------------------------------------------------------


@pytest.mark.parametrize("real, mult, shift", [
    (0.5, 1 << 30, 0),
    (1.0, 1 << 30, 1),
    (0.75, 1610612736, 0),
    (3.0, 1610612736, 2),
    (-0.75, -1610612736, 0),
    (0.0, 0, 0),
    # q * 2^31 rounds up to exactly 2^31: renormalised to 2^30 with shift + 1
    (1.0 - 2.0 ** -40, 1 << 30, 1),
    # q * 2^31 = 1610612736.5: std::round goes away from zero (banker's would give ...736)
    (1610612736.5 / 2.0 ** 31, 1610612737, 0),
    (-1610612736.5 / 2.0 ** 31, -1610612737, 0),
    # the smallest exponents that survive, and the first one flushed to zero
    (2.0 ** -32, 1 << 30, -31),
    (2.0 ** -33, 0, 0),
    # the default (double-rounding) build does not clamp large shifts
    (2.0 ** 40, 1 << 30, 41),
])
def test_quantize_multiplier(real, mult, shift):
    m, s = fp.quantize_multiplier(real)
    assert (int(m), int(s)) == (mult, shift)


def test_quantize_multiplier_single_rounding_saturates_shift_above_30():
    m, s = fp.quantize_multiplier(2.0 ** 40, rounding="single")
    assert (int(m), int(s)) == (I32_MAX, 30)
    m, s = fp.quantize_multiplier(2.0 ** 30, rounding="single")  # shift 31 -> clamped too
    assert (int(m), int(s)) == (I32_MAX, 30)
    m, s = fp.quantize_multiplier(2.0 ** 29, rounding="single")  # shift 30 is allowed
    assert (int(m), int(s)) == (1 << 30, 30)


def test_quantize_multiplier_vectorised():
    m, s = fp.quantize_multiplier(np.array([0.5, 0.75, 0.0]))
    assert m.tolist() == [1 << 30, 1610612736, 0] and s.tolist() == [0, 0, 0]


def test_smaller_than_one_exp_rejects_one():
    with pytest.raises(ValueError):
        fp.quantize_multiplier_smaller_than_one_exp(1.0)


def test_fc_per_tensor_product_is_float32():
    # TFLM's GetQuantizedConvolutionMultipler multiplies the float scales as
    # float before widening; per-channel derivation widens first. These three
    # scales give multipliers that differ by 24.
    a, b, c = np.float32("0.051670343"), np.float32("0.009554173"), np.float32("0.037390325")
    m_fc, s_fc = fp.fc_per_tensor_multiplier(a, b, c)
    m_pc, s_pc = fp.conv_multipliers(a, [b], c)
    assert (int(m_fc), int(s_fc)) == (1814617220, -6)
    assert (int(m_pc[0]), int(s_pc[0])) == (1814617244, -6)


# ---- gemmlowp primitives ------------------------------------------------------------


@pytest.mark.parametrize("a, b, expect", [
    (I32_MIN, I32_MIN, I32_MAX),  # the only overflowing product saturates
    (I32_MIN, I32_MAX, -I32_MAX),
    (1 << 30, 1 << 30, 1 << 29),
    (1 << 15, 1 << 15, 1),  # +0.5 -> 1
    (-(1 << 15), 1 << 15, 0),  # -0.5 -> 0: the negative nudge rounds ties toward +inf
    (-3 * (1 << 15), 1 << 15, -1),  # -1.5 -> -1
    (-(1 << 15) - 1, 1 << 15, -1),  # just below -0.5 -> -1
    (3, 1 << 30, 2),  # 1.5 -> 2
])
def test_saturating_rounding_doubling_high_mul(a, b, expect):
    assert int(fp.saturating_rounding_doubling_high_mul(a, b)) == expect


@pytest.mark.parametrize("x, e, expect", [
    (5, 1, 3), (-5, 1, -3),  # ties away from zero
    (6, 2, 2), (-6, 2, -2),  # 1.5 -> 2, -1.5 -> -2
    (7, 2, 2), (-7, 2, -2),  # 1.75 -> 2
    (-5, 2, -1),  # -1.25 -> -1
    (-4, 1, -2),
    (12345, 0, 12345),
    (I32_MIN, 31, -1),
    (-(1 << 30), 31, -1),  # -0.5 -> -1
    (1 << 30, 31, 1),  # 0.5 -> 1
    ((1 << 30) - 1, 31, 0),
])
def test_rounding_divide_by_pot(x, e, expect):
    assert int(fp.rounding_divide_by_pot(x, e)) == expect


def test_rounding_divide_by_pot_per_element_exponents():
    assert fp.rounding_divide_by_pot([5, 5, 5], [0, 1, 2]).tolist() == [5, 3, 1]


# ---- MultiplyByQuantizedMultiplier ------------------------------------------------------


@pytest.mark.parametrize("rounding", ["double", "single"])
@pytest.mark.parametrize("x, m, shift, expect", [
    (3, 1 << 30, 0, 2),  # 1.5
    (-3, 1 << 30, 0, -1),  # -1.5: both builds round this tie toward +inf
    (-1, 1 << 30, 0, 0),  # -0.5
    (3, 1 << 30, 2, 6),  # left shift
    (100, 1 << 30, -1, 25),
    (-101, 1 << 30, -2, -13),  # -12.625
    (0, I32_MAX, -31, 0),
])
def test_multiply_by_quantized_multiplier_agreeing_cases(rounding, x, m, shift, expect):
    assert int(fp.multiply_by_quantized_multiplier(x, m, shift, rounding)) == expect


def test_double_rounding_differs_from_single():
    # exact 1 * 0.65 / 2 = 0.325: the double build first rounds 0.65 -> 1,
    # then 1 / 2 = 0.5 -> 1; the single build rounds 0.325 once -> 0
    x, m, shift = 1, 1395864371, -1
    assert int(fp.multiply_by_quantized_multiplier(x, m, shift, "double")) == 1
    assert int(fp.multiply_by_quantized_multiplier(x, m, shift, "single")) == 0


def test_left_shift_wraps_in_int32_in_double_build():
    # TFLM computes x * (1 << left_shift) in int32: 2^30 << 1 wraps to INT32_MIN
    assert int(fp.multiply_by_quantized_multiplier(1 << 30, 1 << 30, 1, "double")) == -(1 << 30)
    # the single build multiplies in int64 and gets the true 2^30
    assert int(fp.multiply_by_quantized_multiplier(1 << 30, 1 << 30, 1, "single")) == 1 << 30


def test_per_channel_broadcast():
    acc = np.array([[100, 100], [-100, 7]])
    y = fp.multiply_by_quantized_multiplier(acc, [1 << 30, 1610612736], [-1, 0])
    assert y.tolist() == [[25, 75], [-25, 5]]  # 7 * 0.75 = 5.25


def test_smaller_than_one_exp():
    assert int(fp.multiply_by_quantized_multiplier_smaller_than_one_exp(100, 1 << 30, -1)) == 25
    # double build: no left-shift stage, so the 0.65 -> 1 -> 0.5 -> 1 double rounding applies
    assert int(fp.multiply_by_quantized_multiplier_smaller_than_one_exp(1, 1395864371, -1, "double")) == 1
    assert int(fp.multiply_by_quantized_multiplier_smaller_than_one_exp(1, 1395864371, -1, "single")) == 0


def test_int64_overload_uses_15_bit_multiplier():
    # x beyond int32 is the point of this overload: (2^31 + 11) * 0.5 = 2^30 + 5.5 -> 2^30 + 6
    assert int(fp.multiply_by_quantized_multiplier_int64((1 << 31) + 11, 1 << 30, 0)) == (1 << 30) + 6
    # 0x7FFF0000 and above saturate the reduced multiplier at 0x7FFF
    assert int(fp.multiply_by_quantized_multiplier_int64(1 << 20, I32_MAX, 0)) == (((1 << 20) * 0x7FFF + (1 << 14)) >> 15)


# ---- helpers ---------------------------------------------------------------------------


def test_round_half_away():
    vals = [0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999999999999994, -0.49999999999999994, 3.0]
    assert fp.round_half_away(vals).tolist() == [1, -1, 2, -2, 3, -3, 0, 0, 3]


def test_trunc_div_and_wrap():
    assert fp.trunc_div([7, -7, 7, -7], [2, 2, -2, -2]).tolist() == [3, -3, -3, 3]
    assert fp.wrap_int32([I32_MAX + 1, I32_MIN - 1, 5]).tolist() == [I32_MIN, I32_MAX, 5]


def test_activation_range_divides_in_float32():
    # 1.0f / 0.4f is exactly 2.5 in float32 (2.4999999627 in double), so
    # TFLM's RELU_N1_TO_1 bounds round to +-3, not +-2
    assert fp.activation_range_quantized("RELU_N1_TO_1", np.float32(0.4), 0) == (-3, 3)
    assert fp.activation_range_quantized("RELU6", np.float32(6 / 255), -128) == (-128, 127)
    assert fp.activation_range_quantized("RELU", np.float32(0.1), 5) == (5, 127)
    assert fp.activation_range_quantized("NONE", np.float32(0.1), 5) == (-128, 127)
