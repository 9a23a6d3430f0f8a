"""gemmlowp's fixed-point arithmetic (fixedpoint/fixedpoint.h), vectorised.

TFLM's int8 SOFTMAX, LOGISTIC and TANH evaluate exp, 1/(1+x) and tanh with
these routines, so matching TFLM bit for bit means repeating every rounding
step here. Values are numpy int64 arrays holding int32 raw values; a
FixedPoint<int32, k> is just its raw value plus the integer-bit count `k`
passed alongside. Plain additions wrap to int32 as the two's-complement
hardware running TFLM does (gemmlowp leaves overflow undefined).
"""

from __future__ import annotations

import numpy as np

from ..fixedpoint import INT32_MAX, saturating_rounding_doubling_high_mul
from ..fixedpoint import wrap_int32 as wrap32


def _i64(x) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


def wrap16(x) -> np.ndarray:
    x = _i64(x)
    return ((x + (1 << 15)) & 0xFFFF) - (1 << 15)


def _div_pow2_trunc(x: np.ndarray, n: int) -> np.ndarray:
    """C integer division by 2**n (truncates towards zero)."""
    return np.where(x >= 0, x >> n, -((-x) >> n))


# ---- primitives --------------------------------------------------------------


def saturating_rounding_doubling_high_mul16(a, b) -> np.ndarray:
    """The int16 specialisation (HARD_SWISH works in 16-bit fixed point)."""
    a, b = _i64(a), _i64(b)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 14, 1 - (1 << 14))
    out = wrap16(_div_pow2_trunc(ab + nudge, 15))
    return np.where((a == b) & (a == -(1 << 15)), (1 << 15) - 1, out)


def saturating_doubling_high_mul16(a, b) -> np.ndarray:
    """SQDMULH on int16: like the rounding version but truncating (hard_swish.h)."""
    a, b = _i64(a), _i64(b)
    out = wrap16(_div_pow2_trunc(a * b, 15))
    return np.where((a == b) & (a == -(1 << 15)), (1 << 15) - 1, out)


def rounding_divide_by_pot(x, exponent: int, bits: int = 32) -> np.ndarray:
    """Rounding arithmetic right shift, ties away from zero.

    `bits` is the raw type's width: gemmlowp builds the mask as a value of
    that type, which only matters for int16 with exponent >= 16.
    """
    x = _i64(x)
    exponent = int(exponent)
    if not 0 <= exponent <= 63:
        raise ValueError(f"rounding_divide_by_pot: exponent {exponent} out of range")
    mask = (1 << exponent) - 1
    if bits == 16:
        mask = int(wrap16(mask))
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0).astype(np.int64)
    return (x >> exponent) + (remainder > threshold).astype(np.int64)


def saturating_rounding_multiply_by_pot(x, exponent: int, bits: int = 32) -> np.ndarray:
    """x * 2**exponent: saturating left shift, or rounding right shift."""
    x = _i64(x)
    if exponent == 0:
        return x
    if exponent < 0:
        return rounding_divide_by_pot(x, -exponent, bits)
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    threshold = (1 << (bits - 1 - exponent)) - 1
    shifted = x << exponent
    if bits == 32:
        shifted = wrap32(shifted)
    else:
        shifted = wrap16(shifted)
    return np.where(x > threshold, hi, np.where(x < -threshold, lo, shifted))


def rescale(x, src_integer_bits: int, dst_integer_bits: int) -> np.ndarray:
    """gemmlowp::Rescale<dst>(FixedPoint<int32, src>)."""
    return saturating_rounding_multiply_by_pot(x, src_integer_bits - dst_integer_bits)


def rounding_half_sum(a, b) -> np.ndarray:
    s = _i64(a) + _i64(b)
    sign = np.where(s >= 0, 1, -1)
    return _div_pow2_trunc(s + sign, 1)


def one(integer_bits: int) -> int:
    """FixedPoint<int32, k>::One(): exact 1.0, or INT32_MAX for Q0.31."""
    return INT32_MAX if integer_bits == 0 else 1 << (31 - integer_bits)


def constant_pot(integer_bits: int, exponent: int) -> int:
    return 1 << (31 - integer_bits + exponent)


def count_leading_zeros32(x) -> np.ndarray:
    """CountLeadingZeros(uint32) of non-negative int32 values (32 for 0)."""
    x = _i64(x)
    # frexp is exact for |x| < 2**53 and returns the bit length as exponent
    _, e = np.frexp(x.astype(np.float64))
    return np.where(x == 0, 32, 32 - e).astype(np.int64)


def _mul(a, b):
    return saturating_rounding_doubling_high_mul(a, b)


# ---- functions -----------------------------------------------------------------


def exp_on_interval_between_negative_one_quarter_and_0_excl(a) -> np.ndarray:
    """exp(a) for a in [-1/4, 0), both Q0.31: Taylor expansion around -1/8."""
    constant_term = 1895147668  # exp(-1/8)
    constant_1_over_3 = 715827883
    x = wrap32(_i64(a) + constant_pot(0, -3))
    x2 = _mul(x, x)
    x3 = _mul(x2, x)
    x4 = _mul(x2, x2)
    x4_over_4 = saturating_rounding_multiply_by_pot(x4, -2)
    poly = saturating_rounding_multiply_by_pot(
        wrap32(_mul(wrap32(x4_over_4 + x3), constant_1_over_3) + x2), -1)
    return wrap32(constant_term + _mul(constant_term, wrap32(x + poly)))


# exp(-2**k) in Q0.31 for the barrel shifter, k = -2 … 4
_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
               (2, 39332535), (3, 720401), (4, 242))


def exp_on_negative_values(a, integer_bits: int) -> np.ndarray:
    """exp(a) for a <= 0 given as Q(integer_bits); result Q0.31."""
    a = _i64(a)
    fractional_bits = 31 - integer_bits
    one_quarter = constant_pot(integer_bits, -2)
    mask = one_quarter - 1
    a_mod_quarter_minus_one_quarter = wrap32((a & mask) - one_quarter)
    result = exp_on_interval_between_negative_one_quarter_and_0_excl(
        rescale(a_mod_quarter_minus_one_quarter, integer_bits, 0))
    remainder = wrap32(a_mod_quarter_minus_one_quarter - a)
    for exponent, multiplier in _EXP_BARREL:
        if integer_bits > exponent:
            bit = 1 << (fractional_bits + exponent)
            result = np.where((remainder & bit) != 0, _mul(result, multiplier), result)
    if integer_bits > 5:
        clamp = -(1 << (36 - integer_bits))  # -32.0
        result = np.where(a < clamp, 0, result)
    return np.where(a == 0, one(0), result)


def one_over_one_plus_x_for_x_in_0_1(a) -> np.ndarray:
    """1/(1+a) for a in [0, 1), Q0.31 in and out: Newton-Raphson division."""
    half_denominator = rounding_half_sum(a, one(0))
    x = wrap32(1515870810 + _mul(half_denominator, -1010580540))  # 48/17 - 32/17*d in Q2.29
    for _ in range(3):
        half_denominator_times_x = _mul(half_denominator, x)
        one_minus = wrap32(one(2) - half_denominator_times_x)
        x = wrap32(x + rescale(_mul(x, one_minus), 4, 2))
    # ExactMulByPot<-1> relabels Q2 as Q1 without touching the raw value
    return rescale(x, 1, 0)


def one_minus_x_over_one_plus_x_for_x_in_0_1(a) -> np.ndarray:
    """(1-a)/(1+a) for a in [0, 1), Q0.31 in and out."""
    half_denominator = rounding_half_sum(a, one(0))
    x = wrap32(1515870810 + _mul(half_denominator, -1010580540))
    for _ in range(3):
        half_denominator_times_x = _mul(half_denominator, x)
        one_minus = wrap32(one(2) - half_denominator_times_x)
        x = wrap32(x + rescale(_mul(x, one_minus), 4, 2))
    return rescale(wrap32(x - one(2)), 2, 0)


def logistic(a, integer_bits: int) -> np.ndarray:
    """1/(1+exp(-a)) for any a in Q(integer_bits); result Q0.31."""
    a = _i64(a)
    positive = a > 0
    abs_input = np.where(positive, a, wrap32(-a))
    result_if_positive = one_over_one_plus_x_for_x_in_0_1(
        exp_on_negative_values(wrap32(-abs_input), integer_bits))
    result_if_negative = wrap32(one(0) - result_if_positive)
    return np.where(a == 0, 1 << 30, np.where(positive, result_if_positive, result_if_negative))


def tanh(a, integer_bits: int) -> np.ndarray:
    """tanh(a) for any a in Q(integer_bits); result Q0.31."""
    a = _i64(a)
    negative = a < 0
    n = np.where(negative, a, wrap32(-a))
    # ExactMulByPot<1>: the same raw value read with one more integer bit is 2n
    t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(n, integer_bits + 1))
    return np.where(a == 0, 0, np.where(negative, wrap32(-t), t))


def get_reciprocal(x, x_integer_digits: int) -> tuple[np.ndarray, np.ndarray]:
    """TFLite's GetReciprocal: (1/x as Q0.31 scaled into [0.5, 1), num_bits_over_unit)."""
    x = _i64(x)
    headroom_plus_one = count_leading_zeros32(x)
    num_bits_over_unit = x_integer_digits - headroom_plus_one
    shifted = (x.astype(np.uint64) << headroom_plus_one.astype(np.uint64)) & 0xFFFFFFFF
    shifted_sum_minus_one = wrap32(shifted.astype(np.int64) - (1 << 31))
    return one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one), num_bits_over_unit
