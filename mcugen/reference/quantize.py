"""QUANTIZE (float32 -> int8, int8 -> int8) and DEQUANTIZE (int8 -> float32)
as TFLM's reference AffineQuantize / Requantize / Dequantize compute them."""

from __future__ import annotations

import numpy as np

from .. import fixedpoint as fp
from ..params import activation as P


def _params(ctx):
    return P.PARAMS[ctx.op.kind](ctx.graph, ctx.op, rounding=ctx.rounding)


def _float_to_int32(r: np.ndarray) -> np.ndarray:
    """static_cast<int32_t>(float) as x86 and Arm compilers emit it for
    in-range values; NaN and out-of-range values give INT32_MIN (x86's
    cvttss2si; the C standard leaves them undefined)."""
    r = np.asarray(r, dtype=np.float64)
    ok = np.isfinite(r) & (r >= -2.0**31) & (r < 2.0**31)
    return np.where(ok, np.trunc(np.where(ok, r, 0.0)), -(2**31)).astype(np.int64)


def quantize(ctx, inputs):
    p = _params(ctx)
    x = inputs[0]
    if p.kind == "affine":
        # val / static_cast<float>(scale) is a float32 division, then std::round(float)
        with np.errstate(all="ignore"):
            v = x.astype(np.float32) / np.float32(p.output_scale)
            q = fp.wrap_int32(_float_to_int32(fp.round_half_away_f32(v)) + p.output_zero_point)
    else:
        q = fp.multiply_by_quantized_multiplier(
            x.astype(np.int64) - p.input_zero_point, p.multiplier, p.shift, ctx.rounding) + p.output_zero_point
    return [np.clip(q, -128, 127).astype(np.int8)]


def dequantize(ctx, inputs):
    p = _params(ctx)
    x = inputs[0]
    # float scale * int (val - zp): the int converts to float32, one float32 multiply
    diff = (x.astype(np.int32) - np.int32(p.zero_point)).astype(np.float32)
    return [(np.float32(p.scale) * diff).astype(np.float32)]


KERNELS = {"QUANTIZE": quantize, "DEQUANTIZE": dequantize}
