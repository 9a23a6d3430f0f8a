"""TFLM's integer requantization arithmetic, vectorised over numpy int64.

Every function takes scalars or arrays (broadcast together) and returns
int64 arrays whose values lie in the int32 range, so callers can chain them
without overflow worries. Shifts follow TFLM's convention: positive = left.

Two builds of TFLite exist: the default "double" rounding (gemmlowp's
SaturatingRoundingDoublingHighMul followed by RoundingDivideByPOT) that TFLM
ships, and TFLITE_SINGLE_ROUNDING (one 64-bit multiply and one rounding
shift) used by newer TFLite/LiteRT builds and CMSIS-NN's optional mode.
Functions that differ take `rounding="double"|"single"`.
"""

from __future__ import annotations

import numpy as np

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1
ROUNDINGS = ("double", "single")


def _i64(x) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


def wrap_int32(x) -> np.ndarray:
    """Two's-complement wrap into int32, as C's int32 arithmetic does on
    every target we care about (signed overflow is UB but wraps in practice)."""
    x = _i64(x)
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def round_half_away(x) -> np.ndarray:
    """std::round / TfLiteRound on float64: halves away from zero.

    Written as trunc + exact fraction test because floor(x + 0.5) is wrong
    for 0.49999999999999994 (the addition rounds up to 1.0)."""
    x = np.asarray(x, dtype=np.float64)
    t = np.trunc(x)
    return t + np.where(np.abs(x - t) >= 0.5, np.sign(x), 0.0)


def round_half_away_f32(x) -> np.ndarray:
    """TfLiteRound on float32 values (std::round(float)); same rule, and a
    float32 value converts to float64 exactly, so reuse the float64 path."""
    return round_half_away(np.asarray(x, dtype=np.float32).astype(np.float64))


def trunc_div(a, b) -> np.ndarray:
    """C integer division (rounds toward zero); numpy's // floors."""
    a, b = _i64(a), _i64(b)
    q = np.abs(a) // np.abs(b)
    return np.where((a < 0) != (b < 0), -q, q)


# ---- multiplier derivation ---------------------------------------------------


def quantize_multiplier(real, rounding: str = "double") -> tuple[np.ndarray, np.ndarray]:
    """TFLM's QuantizeMultiplier: real ~= mult * 2^(shift - 31).

    frexp gives real = q * 2^e with q in [0.5, 1); q * 2^31 is rounded half
    away from zero. q rounding up to exactly 2^31 is renormalised; e < -31
    flushes to (0, 0). Only TFLITE_SINGLE_ROUNDING builds saturate e > 30 to
    (2^31 - 1, 30); the default build leaves large shifts alone.
    Returns (multiplier int64 array, shift int64 array), shapes of `real`.
    """
    real = np.asarray(real, dtype=np.float64)
    q, e = np.frexp(real)
    q_fixed = round_half_away(q * float(1 << 31)).astype(np.int64)
    e = e.astype(np.int64)
    top = q_fixed == (1 << 31)
    q_fixed = np.where(top, q_fixed // 2, q_fixed)
    e = np.where(top, e + 1, e)
    tiny = e < -31
    q_fixed = np.where(tiny, 0, q_fixed)
    e = np.where(tiny, 0, e)
    if rounding == "single":
        big = e > 30
        q_fixed = np.where(big, (1 << 31) - 1, q_fixed)
        e = np.where(big, 30, e)
    zero = real == 0.0
    q_fixed = np.where(zero, 0, q_fixed)
    e = np.where(zero, 0, e)
    return q_fixed, e


def quantize_multiplier_smaller_than_one_exp(real, rounding: str = "double"):
    """QuantizeMultiplierSmallerThanOneExp: TFLM CHECKs 0 < real < 1."""
    real = np.asarray(real, dtype=np.float64)
    if np.any(real <= 0) or np.any(real >= 1):
        raise ValueError(f"multiplier {real} is outside (0, 1)")
    return quantize_multiplier(real, rounding)


def conv_multipliers(input_scale, filter_scales, output_scale, rounding: str = "double"):
    """PopulateConvolutionQuantizationParams (CONV_2D, DEPTHWISE_CONV_2D,
    TRANSPOSE_CONV, per-channel FULLY_CONNECTED): every factor is widened to
    double before the product, one multiplier per filter scale."""
    eff = (np.float64(np.float32(input_scale)) * np.asarray(filter_scales, dtype=np.float32).astype(np.float64)
           / np.float64(np.float32(output_scale)))
    return quantize_multiplier(eff, rounding)


def fc_per_tensor_multiplier(input_scale, filter_scale, output_scale, rounding: str = "double"):
    """GetQuantizedConvolutionMultipler (per-tensor FULLY_CONNECTED): the
    input x filter product is taken in float32 and only then widened."""
    prod = np.float32(input_scale) * np.float32(filter_scale)  # float32 * float32 -> float32
    eff = np.float64(prod) / np.float64(np.float32(output_scale))
    return quantize_multiplier(eff, rounding)


# ---- fixed-point primitives --------------------------------------------------


def saturating_rounding_doubling_high_mul(a, b) -> np.ndarray:
    """gemmlowp SaturatingRoundingDoublingHighMul (ARM VQRDMULH): round(a*b / 2^31)
    via a +-2^30 nudge and C's truncating division, so ties go toward +inf;
    INT32_MIN * INT32_MIN, the one overflowing case, saturates to INT32_MAX."""
    a, b = _i64(a), _i64(b)
    ab = a * b
    t = ab + np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    q = np.where(t >= 0, t >> 31, -((-t) >> 31))
    return np.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, q)


def rounding_divide_by_pot(x, exponent) -> np.ndarray:
    """gemmlowp RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties
    away from zero. exponent in [0, 31], may be an array."""
    x, exponent = _i64(x), _i64(exponent)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def multiply_by_quantized_multiplier(x, multiplier, shift, rounding: str = "double") -> np.ndarray:
    """MultiplyByQuantizedMultiplier(int32 x, int32 m, int shift)."""
    x, multiplier, shift = _i64(x), _i64(multiplier), _i64(shift)
    if rounding == "single":
        total = 31 - shift
        r = (x * multiplier + (np.int64(1) << (total - 1))) >> total
        return wrap_int32(r)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    # x * (1 << left_shift) is an int32 product in C
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(wrap_int32(x << left), multiplier), right)


def multiply_by_quantized_multiplier_smaller_than_one_exp(x, multiplier, left_shift,
                                                          rounding: str = "double") -> np.ndarray:
    """ADD/SUB's requantization; left_shift <= 0. The double build skips the
    left-shift stage; the single build is plain MultiplyByQuantizedMultiplier."""
    if rounding == "single":
        return multiply_by_quantized_multiplier(x, multiplier, left_shift, "single")
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, multiplier), -_i64(left_shift))


def multiply_by_quantized_multiplier_greater_than_one(x, multiplier, left_shift,
                                                      rounding: str = "double") -> np.ndarray:
    if rounding == "single":
        return multiply_by_quantized_multiplier(x, multiplier, left_shift, "single")
    return saturating_rounding_doubling_high_mul(wrap_int32(_i64(x) << _i64(left_shift)), multiplier)


def multiply_by_quantized_multiplier_int64(x, multiplier, shift) -> np.ndarray:
    """The int64-accumulator overload (16x8 kernels): the multiplier is cut to
    15 bits first; identical in both builds."""
    x, multiplier, shift = _i64(x), _i64(multiplier), _i64(shift)
    reduced = np.where(multiplier < 0x7FFF0000, (multiplier + (1 << 15)) >> 16, 0x7FFF)
    total = 15 - shift
    return wrap_int32((x * reduced + (np.int64(1) << (total - 1))) >> total)


# ---- activation range --------------------------------------------------------


def activation_range_quantized(activation: str, scale, zero_point: int,
                               qmin: int = -128, qmax: int = 127) -> tuple[int, int]:
    """CalculateActivationRangeQuantized. The real bound is divided by the
    scale in float32 (TFLM's Quantize helper takes float), then rounded."""

    def q(v: float) -> int:
        return int(zero_point) + int(round_half_away_f32(np.float32(v) / np.float32(scale)))

    if activation == "NONE":
        return qmin, qmax
    if activation == "RELU":
        return max(qmin, q(0.0)), qmax
    if activation == "RELU6":
        return max(qmin, q(0.0)), min(qmax, q(6.0))
    if activation == "RELU_N1_TO_1":
        return max(qmin, q(-1.0)), min(qmax, q(1.0))
    raise ValueError(f"unsupported fused activation {activation}")
