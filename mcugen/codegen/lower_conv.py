"""Lowering of CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and TRANSPOSE_CONV
to the runtime_c kernels declared in mcu_nn_conv.h.

Every shape is known here, so the kernel variant is picked per operator and
all constant work is done once: the input offset times each output
channel's weight sum is folded into the bias (padded taps read the input
zero point, so the fold also holds at the borders), and weights are written
in the order the kernel streams them.
"""

from __future__ import annotations

import numpy as np

from .. import fixedpoint as fp
from .. import ir
from ..errors import UnsupportedModelError
from ..params import nn as P
from .lowering import ConstArray, KernelCall

GEMM_SRC = "mcu_nn_gemm_s8.c"
# scratch the 3x3 depthwise kernel may take for its row bands: taller bands
# cost fewer per-row overheads, which dominate on narrow images
DW3X3_SCRATCH_BUDGET = 2048


def dw3x3_scratch(out_w: int, stride_w: int, stride_h: int, band: int) -> int:
    """MCU_DW3X3_S8_SCRATCH."""
    row_len = ((out_w - 1) * stride_w + 3 + 1) & ~1
    return 2 * ((band - 1) * stride_h + 3) * row_len + 4 * band * out_w


def dw3x3_band(out_h: int, out_w: int, stride_w: int, stride_h: int, budget: int = DW3X3_SCRATCH_BUDGET) -> int:
    band = out_h
    while band > 1 and dw3x3_scratch(out_w, stride_w, stride_h, band) > budget:
        band -= 1
    return band


def pair_layout(w2d: np.ndarray) -> np.ndarray:
    """Rows in the GEMM core's pair layout (mcu_dot_s8.h): rows 2i and 2i+1
    interleaved by 4-byte words, then their depth % 4 tails; an odd last row
    stays as it is."""
    rows, depth = w2d.shape
    d4 = depth - depth % 4
    parts = []
    for r in range(0, rows - 1, 2):
        a, b = w2d[r], w2d[r + 1]
        parts.append(np.stack([a[:d4].reshape(-1, 4), b[:d4].reshape(-1, 4)], axis=1).reshape(-1))
        parts += [a[d4:], b[d4:]]
    if rows % 2:
        parts.append(w2d[-1])
    out = np.concatenate(parts) if parts else np.zeros(0, w2d.dtype)
    assert out.size == w2d.size
    return out.astype(np.int8)


def fold_bias(bias: np.ndarray, w2d: np.ndarray, input_offset: int) -> np.ndarray:
    """bias + input_offset * row sums, wrapped to int32 as TFLM's int32 sum wraps."""
    sums = w2d.astype(np.int64).sum(axis=1)
    return fp.wrap_int32(bias.astype(np.int64) + input_offset * sums).astype(np.int32)


def _check_types(graph: ir.Graph, op: ir.Operator, data: list[int], weights: int) -> None:
    for i in data + list(op.outputs):
        t = graph.t(i)
        if t.dtype != "int8":
            raise UnsupportedModelError(f"{op.kind} '{op.name}': tensor '{t.name}' is {t.dtype}; the C kernels take int8 activations")
    w = graph.t(weights)
    if w.dtype != "int8" or w.data is None:
        raise UnsupportedModelError(f"{op.kind} '{op.name}': weights '{w.name}' must be constant int8 (got {w.dtype}"
                                    f"{'' if w.data is not None else ', not constant'})")


def requant_table(mult, shift, out_offset: int) -> np.ndarray:
    """Per-channel requantization triples as mcu_fixedpoint.h's
    mcu_requant_tab_s8 reads them: shifts -23..-2 take the one-SMLAL form
    {m, r - 1, 2^(r-2) + out_offset * 2^(r-1)} (r = -shift); any other shift
    {m, shift - 100, out_offset}."""
    mult, shift = np.asarray(mult, np.int64).ravel(), np.asarray(shift, np.int64).ravel()
    r = -shift
    fast = (r >= 2) & (r <= 23)
    sh = np.where(fast, r - 1, shift - 100)
    add = np.where(fast, (np.int64(1) << np.clip(r - 2, 0, 62)) + out_offset * (np.int64(1) << np.clip(r - 1, 0, 62)),
                   out_offset)
    return np.stack([mult, sh, add], axis=1).reshape(-1).astype(np.int32)


def _requant_consts(op: ir.Operator, index: int, mult: np.ndarray, shift: np.ndarray, out_offset: int) -> list[ConstArray]:
    mult, shift = np.asarray(mult, np.int64), np.asarray(shift, np.int64)
    # the kernels' fused rounding needs QuantizeMultiplier's range: 0 or [2^30, 2^31)
    ok = ((mult == 0) | ((mult >= 1 << 30) & (mult <= fp.INT32_MAX))) & (shift >= -31) & (shift <= 30)
    if not np.all(ok):
        k = int(np.argmin(ok))
        raise UnsupportedModelError(f"{op.kind} '{op.name}': requantization multiplier/shift {int(mult[k])}/{int(shift[k])} "
                                    "is outside TFLM's range; check the model's quantization scales")
    return [ConstArray(f"l{index}_rq", "int32_t", requant_table(mult, shift, out_offset))]


def _quant_fields(index: int, lo: int, hi: int) -> dict:
    return {"act_min": int(lo), "act_max": int(hi), "rq": f"l{index}_rq"}


# ---- CONV_2D -------------------------------------------------------------------


def lower_conv2d(graph: ir.Graph, op: ir.Operator, index: int, rounding: str = "double") -> KernelCall:
    _check_types(graph, op, [op.inputs[0]], op.inputs[1])
    p = P.conv_params(graph, op, rounding)
    n, ih, iw, ic = p.input_shape
    oc, kh, kw, cg = p.filter_shape
    _, oh, ow, _ = p.output_shape
    groups, og = p.groups, oc // p.groups
    depth = kh * kw * cg
    w = graph.t(op.inputs[1]).data.reshape(oc, depth)
    bias = fold_bias(p.bias, w, p.input_offset)
    one_by_one = kh == 1 and kw == 1 and groups == 1
    in_place = kh == 1 and groups == 1 and (p.dilation_w == 1 or kw == 1)  # 1xN: columns read from the input
    # im2col columns round up to whole words (zero weights), so the GEMM has no byte tail
    col_len = depth if (one_by_one or in_place) else -(-depth // 4) * 4
    wp = np.pad(w, ((0, 0), (0, col_len - depth)))
    # rows pair up within a group: each group is its own GEMM
    wl = np.concatenate([pair_layout(wp[g * og:(g + 1) * og]) for g in range(groups)])
    params = {
        "batches": n, "in_h": ih, "in_w": iw, "in_c": ic, "out_h": oh, "out_w": ow, "out_c": oc,
        "k_h": kh, "k_w": kw, "stride_h": p.stride_h, "stride_w": p.stride_w,
        "dil_h": p.dilation_h, "dil_w": p.dilation_w, "pad_h": p.pad_h, "pad_w": p.pad_w,
        "groups": groups, "col_len": col_len, "input_zp": -p.input_offset,
        **_quant_fields(index, p.act_min, p.act_max),
    }
    consts = [ConstArray(f"l{index}_w", "int8_t", wl), ConstArray(f"l{index}_bias", "int32_t", bias),
              *_requant_consts(op, index, p.multiplier, p.shift, p.output_offset)]
    macs = n * oh * ow * oc * depth  # real MACs, without the rounding bytes
    if one_by_one:
        assert p.pad_h == 0 and p.pad_w == 0  # a 1x1 window never needs padding
        return KernelCall(func="mcu_conv2d_1x1_s8", args=["{params}", "{in0}", f"l{index}_w", f"l{index}_bias", "{out0}"],
                          inputs=[op.inputs[0]], outputs=list(op.outputs), params_type="mcu_conv2d_params_s8",
                          params_init=params, consts=consts, sources=["mcu_conv2d_1x1_s8.c", GEMM_SRC], macs=macs)
    scratch = 0 if in_place and _all_columns_in_place(p, kh, kw, ih, iw, oh, ow) else 2 * col_len
    return KernelCall(func="mcu_conv2d_s8",
                      args=["{params}", "{in0}", f"l{index}_w", f"l{index}_bias", "{out0}", "{scratch}"],
                      inputs=[op.inputs[0]], outputs=list(op.outputs), params_type="mcu_conv2d_params_s8",
                      params_init=params, consts=consts, scratch_bytes=scratch,
                      sources=["mcu_conv2d_s8.c", GEMM_SRC], macs=macs)


def _all_columns_in_place(p: P.ConvParams, kh: int, kw: int, ih: int, iw: int, oh: int, ow: int) -> bool:
    """True when mcu_conv2d_s8 reads every column straight from the input
    (a 1xN kernel whose windows never leave the image), so it needs no scratch."""
    if kh != 1 or p.groups != 1 or not (p.dilation_w == 1 or kw == 1):
        return False
    span = (kw - 1) * p.dilation_w + 1
    rows_ok = p.pad_h == 0 and (oh - 1) * p.stride_h < ih
    cols_ok = p.pad_w == 0 and (ow - 1) * p.stride_w + span <= iw
    return rows_ok and cols_ok


# ---- DEPTHWISE_CONV_2D -----------------------------------------------------------


def lower_depthwise(graph: ir.Graph, op: ir.Operator, index: int, rounding: str = "double") -> KernelCall:
    _check_types(graph, op, [op.inputs[0]], op.inputs[1])
    p = P.conv_params(graph, op, rounding)
    n, ih, iw, ic = p.input_shape
    _, kh, kw, oc = p.filter_shape
    _, oh, ow, _ = p.output_shape
    w = graph.t(op.inputs[1]).data.reshape(kh * kw, oc)
    bias = fold_bias(p.bias, w.T, p.input_offset)
    params = {
        "batches": n, "in_h": ih, "in_w": iw, "in_c": ic, "out_h": oh, "out_w": ow, "out_c": oc,
        "depth_mult": p.depth_multiplier, "k_h": kh, "k_w": kw, "stride_h": p.stride_h, "stride_w": p.stride_w,
        "dil_h": p.dilation_h, "dil_w": p.dilation_w, "pad_h": p.pad_h, "pad_w": p.pad_w,
        "input_zp": -p.input_offset, **_quant_fields(index, p.act_min, p.act_max),
    }
    rq = _requant_consts(op, index, p.multiplier, p.shift, p.output_offset)
    macs = n * oh * ow * oc * kh * kw
    fast = kh == 3 and kw == 3 and p.depth_multiplier == 1 and p.dilation_h == 1 and p.dilation_w == 1
    if fast:
        # channel-major: each channel's nine taps together
        consts = [ConstArray(f"l{index}_w", "int8_t", np.ascontiguousarray(w.T).reshape(-1).astype(np.int8)),
                  ConstArray(f"l{index}_bias", "int32_t", bias), *rq]
        band = dw3x3_band(oh, ow, p.stride_w, p.stride_h)
        params["band_rows"] = band
        return KernelCall(func="mcu_depthwise_conv_3x3_s8",
                          args=["{params}", "{in0}", f"l{index}_w", f"l{index}_bias", "{out0}", "{scratch}"],
                          inputs=[op.inputs[0]], outputs=list(op.outputs), params_type="mcu_dw_conv_params_s8",
                          params_init=params, consts=consts, scratch_bytes=dw3x3_scratch(ow, p.stride_w, p.stride_h, band),
                          sources=["mcu_depthwise_conv_3x3_s8.c"], macs=macs)
    consts = [ConstArray(f"l{index}_w", "int8_t", w.reshape(-1).astype(np.int8)),
              ConstArray(f"l{index}_bias", "int32_t", bias), *rq]
    return KernelCall(func="mcu_depthwise_conv_s8",
                      args=["{params}", "{in0}", f"l{index}_w", f"l{index}_bias", "{out0}"],
                      inputs=[op.inputs[0]], outputs=list(op.outputs), params_type="mcu_dw_conv_params_s8",
                      params_init=params, consts=consts, sources=["mcu_depthwise_conv_s8.c"], macs=macs)


# ---- FULLY_CONNECTED ---------------------------------------------------------------


def lower_fully_connected(graph: ir.Graph, op: ir.Operator, index: int, rounding: str = "double") -> KernelCall:
    _check_types(graph, op, [op.inputs[0]], op.inputs[1])
    p = P.fully_connected_params(graph, op, rounding)
    k, nout = p.accum_depth, p.output_depth
    w = graph.t(op.inputs[1]).data.reshape(-1, k)[:nout]
    # sum (w + wo)(x + io) = w.x + io*sum w + wo*sum x + k*wo*io; only wo*sum x is left to run time
    bias = fold_bias(p.bias, w, p.input_offset)
    bias = fp.wrap_int32(bias.astype(np.int64) + k * p.weights_offset * p.input_offset).astype(np.int32)
    mult, shift = (p.multiplier, p.shift) if p.per_channel else (p.multiplier[:1], p.shift[:1])
    params = {
        "batches": p.batches, "in_depth": k, "out_depth": nout, "per_channel": int(p.per_channel),
        "weights_offset": p.weights_offset, **_quant_fields(index, p.act_min, p.act_max),
    }
    consts = [ConstArray(f"l{index}_w", "int8_t", pair_layout(w)), ConstArray(f"l{index}_bias", "int32_t", bias),
              *_requant_consts(op, index, mult, shift, p.output_offset)]
    return KernelCall(func="mcu_fully_connected_s8",
                      args=["{params}", "{in0}", f"l{index}_w", f"l{index}_bias", "{out0}"],
                      inputs=[op.inputs[0]], outputs=list(op.outputs), params_type="mcu_fc_params_s8",
                      params_init=params, consts=consts, sources=["mcu_fully_connected_s8.c", GEMM_SRC],
                      macs=p.batches * nout * k)


# ---- TRANSPOSE_CONV ------------------------------------------------------------------


def lower_transpose_conv(graph: ir.Graph, op: ir.Operator, index: int, rounding: str = "double") -> KernelCall:
    _check_types(graph, op, [op.inputs[2]], op.inputs[1])
    p = P.transpose_conv_params(graph, op, rounding)
    n, ih, iw, ic = p.input_shape
    oc, kh, kw, _ = p.filter_shape
    _, oh, ow, _ = p.output_shape
    w = graph.t(op.inputs[1]).data
    tap_offset = fp.wrap_int32(p.input_offset * w.astype(np.int64).sum(axis=3)).astype(np.int32).reshape(-1)
    params = {
        "batches": n, "in_h": ih, "in_w": iw, "in_c": ic, "out_h": oh, "out_w": ow, "out_c": oc,
        "k_h": kh, "k_w": kw, "stride_h": p.stride_h, "stride_w": p.stride_w, "pad_h": p.pad_h, "pad_w": p.pad_w,
        **_quant_fields(index, p.act_min, p.act_max), "tap_offset": f"l{index}_tapoff",
    }
    consts = [ConstArray(f"l{index}_w", "int8_t", w.reshape(-1).astype(np.int8)),
              ConstArray(f"l{index}_bias", "int32_t", p.bias.astype(np.int32)),
              *_requant_consts(op, index, p.multiplier, p.shift, p.output_offset),
              ConstArray(f"l{index}_tapoff", "int32_t", tap_offset)]
    return KernelCall(func="mcu_transpose_conv_s8",
                      args=["{params}", "{in0}", f"l{index}_w", f"l{index}_bias", "{out0}"],
                      inputs=[op.inputs[2]], outputs=list(op.outputs), params_type="mcu_transpose_conv_params_s8",
                      params_init=params, consts=consts, sources=["mcu_transpose_conv_s8.c"],
                      macs=n * ih * iw * ic * kh * kw * oc)


LOWER = {
    "CONV_2D": lower_conv2d,
    "DEPTHWISE_CONV_2D": lower_depthwise,
    "FULLY_CONNECTED": lower_fully_connected,
    "TRANSPOSE_CONV": lower_transpose_conv,
}
