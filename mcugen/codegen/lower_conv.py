"""Lowering of CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and TRANSPOSE_CONV
to the runtime_c kernels declared in mcu_nn_conv.h.

Every shape is known here, so the kernel variant is picked per operator and
all constant work is done once: the input offset times each output
channel's weight sum is folded into the bias (padded taps read the input
zero point, or get it added back, so the fold also holds at the borders),
and weights, biases and requantization triples are written in the order
the kernel reads them.

Variants (all bit-exact with the reference):
- CONV_2D: 1x1 on the GEMM core; k x k by im2col (scratch 2 * col_len) or
  direct (no scratch: windows read in place, border windows clipped with
  per-class corrections), whichever is cheaper, or whatever fits the
  generator's scratch_limit.
- DEPTHWISE_CONV_2D 3x3: four channels at a time from a three-row line
  buffer (scratch sized by the channels per pass), one channel at a time
  (a few hundred bytes), or the general kernel (none); in place when the
  output has the input's shape; transposed for tall images.
- FULLY_CONNECTED: four output rows at a time (quad layout).
"""

from __future__ import annotations

import numpy as np

from .. import fixedpoint as fp
from .. import ir
from ..errors import UnsupportedModelError
from ..params import nn as P
from .lowering import ConstArray, KernelCall

GEMM_SRC = "mcu_nn_gemm_s8.c"


def dw3x3_scratch(cols: int, stride: int) -> int:
    """MCU_DW3X3_S8_SCRATCH: three interleaved int16 rows of the line buffer."""
    return 12 * (((cols - 1) * stride + 4) // 2 + 1)


def dw_ch4_scratch(c: int, out_w: int, stride: int) -> int:
    """MCU_DW3X3_CH4_S8_SCRATCH: three int16 rows of (out_w - 1) * stride + 3 pixels."""
    return 6 * c * ((out_w - 1) * stride + 3)


def dw_ch4_stream(taps: np.ndarray, bias: np.ndarray, rq: np.ndarray) -> np.ndarray:
    """mcu_depthwise_conv_3x3_ch4_s8's weights: per group of four channels the
    int32 biases, for each of the nine taps the int16 pairs (c0, c2) and
    (c1, c3), the four requantization triples (taps: [9][C])."""
    c = taps.shape[1]
    rq = np.asarray(rq, np.int32).reshape(c, 3)
    i32 = lambda a: np.asarray(a, "<i4").view(np.int8)
    i16 = lambda a: np.asarray(a, "<i2").view(np.int8)
    parts = []
    for g in range(0, c, 4):
        t = taps[:, g:g + 4].astype(np.int16)
        parts += [i32(bias[g:g + 4]), i16(t[:, [0, 2, 1, 3]].reshape(-1)), i32(rq[g:g + 4].reshape(-1))]
    out = np.concatenate(parts)
    assert out.size == c // 4 * 136
    return out


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


def quad_layout(w2d: np.ndarray) -> np.ndarray:
    """Rows in the quad layout (mcu_dot_s8.h): rows 4i..4i+3 interleaved by
    4-byte words, then their four depth % 4 tails; the last rows % 4 rows in
    the pair layout."""
    rows, depth = w2d.shape
    d4 = depth - depth % 4
    parts = []
    full = rows - rows % 4
    for r in range(0, full, 4):
        q = w2d[r:r + 4]
        parts.append(np.stack([q[j, :d4].reshape(-1, 4) for j in range(4)], axis=1).reshape(-1))
        parts += [q[j, d4:] for j in range(4)]
    parts.append(pair_layout(w2d[full:]))
    out = np.concatenate(parts)
    assert out.size == w2d.size
    return out.astype(np.int8)


def conv_stream(w2d: np.ndarray, bias: np.ndarray, rq: np.ndarray) -> np.ndarray:
    """The conv GEMM's stream (mcu_dot_s8.h) for one group: per row pair the
    two int32 biases, the rows in the pair layout, the two requantization
    triples; an odd last row as bias, row, triple. int32 little-endian."""
    rows, depth = w2d.shape
    rq = np.asarray(rq, np.int32).reshape(rows, 3)
    i32 = lambda a: np.asarray(a, "<i4").view(np.int8)
    parts = []
    for r in range(0, rows - 1, 2):
        parts += [i32(bias[r:r + 2]), pair_layout(w2d[r:r + 2]), i32(rq[r:r + 2].reshape(-1))]
    if rows % 2:
        parts += [i32(bias[-1:]), w2d[-1].astype(np.int8), i32(rq[-1])]
    out = np.concatenate(parts) if parts else np.zeros(0, np.int8)
    assert out.size == rows * (depth + 16)
    return out


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


def _check_requant(op: ir.Operator, mult, shift) -> None:
    mult, shift = np.asarray(mult, np.int64), np.asarray(shift, np.int64)
    # the kernels' fused rounding needs QuantizeMultiplier's range: 0 or [2^30, 2^31)
    ok = ((mult == 0) | ((mult >= 1 << 30) & (mult <= fp.INT32_MAX))) & (shift >= -31) & (shift <= 30)
    if not np.all(ok):
        k = int(np.argmin(ok))
        raise UnsupportedModelError(f"{op.kind} '{op.name}': requantization multiplier/shift {int(mult[k])}/{int(shift[k])} "
                                    "is outside TFLM's range; check the model's quantization scales")


def _requant_consts(op: ir.Operator, index: int, mult: np.ndarray, shift: np.ndarray, out_offset: int) -> list[ConstArray]:
    _check_requant(op, mult, shift)
    return [ConstArray(f"l{index}_rq", "int32_t", requant_table(mult, shift, out_offset))]


def _quant_fields(index: int, lo: int, hi: int, shift, table: bool = True) -> dict:
    """act clamp, the rq table's name, and rq_fast: 1 when every triple takes
    the fast form, which lets the kernels requantize without a branch."""
    r = -np.asarray(shift, np.int64).ravel()
    fast = bool(np.all((r >= 2) & (r <= 23)))
    f = {"act_min": int(lo), "act_max": int(hi), "rq": f"l{index}_rq", "rq_fast": int(fast)}
    if not table:
        del f["rq"]  # the triples live in the weight stream
    return f


# ---- CONV_2D -------------------------------------------------------------------


def lower_conv2d(graph: ir.Graph, op: ir.Operator, index: int, rounding: str = "double",
                 scratch_limit: int | None = None, variant: str | None = None) -> KernelCall:
    """1x1 convolutions run on the GEMM core straight from the input. Others
    run on the direct kernel when it applies (groups == 1, contiguous kernel
    rows, in_c % 4 == 0): no scratch, no copies, and border windows clipped
    rather than padded, which measures faster than im2col at every MLPerf
    Tiny shape. Else im2col (scratch 2 * col_len, whatever scratch_limit
    says: it is the only kernel for them). `variant` ("im2col", "direct")
    forces one (tests)."""
    _check_types(graph, op, [op.inputs[0]], op.inputs[1])
    p = P.conv_params(graph, op, rounding)
    n, ih, iw, ic = p.input_shape
    oc, kh, kw, cg = p.filter_shape
    _, oh, ow, _ = p.output_shape
    groups, og = p.groups, oc // p.groups
    depth = kh * kw * cg
    w = graph.t(op.inputs[1]).data.reshape(oc, depth)
    bias = fold_bias(p.bias, w, p.input_offset)
    _check_requant(op, p.multiplier, p.shift)
    rq = requant_table(p.multiplier, p.shift, p.output_offset)
    one_by_one = kh == 1 and kw == 1 and groups == 1
    in_place = kh == 1 and groups == 1 and (p.dilation_w == 1 or kw == 1)  # 1xN: columns read from the input
    direct_ok = not one_by_one and groups == 1 and (p.dilation_w == 1 or kw == 1) and ic % 4 == 0
    macs = n * oh * ow * oc * depth  # real MACs, without the rounding bytes
    params = {
        "batches": n, "in_h": ih, "in_w": iw, "in_c": ic, "out_h": oh, "out_w": ow, "out_c": oc,
        "k_h": kh, "k_w": kw, "stride_h": p.stride_h, "stride_w": p.stride_w,
        "dil_h": p.dilation_h, "dil_w": p.dilation_w, "pad_h": p.pad_h, "pad_w": p.pad_w,
        "groups": groups, "col_len": depth, "input_zp": -p.input_offset,
        **_quant_fields(index, p.act_min, p.act_max, p.shift, table=False),
        "y_cls": 0, "x_cls": 0, "cls_corr": 0,
    }
    common = dict(inputs=[op.inputs[0]], outputs=list(op.outputs), params_type="mcu_conv2d_params_s8", macs=macs)
    if one_by_one:
        assert p.pad_h == 0 and p.pad_w == 0  # a 1x1 window never needs padding
        return KernelCall(func="mcu_conv2d_1x1_s8", args=["{params}", "{in0}", f"l{index}_w", "{out0}"],
                          params_init=params, consts=[ConstArray(f"l{index}_w", "int8_t", conv_stream(w, bias, rq))],
                          sources=["mcu_conv2d_1x1_s8.c", GEMM_SRC], **common)
    # im2col columns round up to a multiple of 4 (zero weights), so the GEMM's loops
    # have no byte tail; 1xN kernels keep the exact length so inner columns are read in place
    col_len = depth if in_place else -(-depth // 4) * 4
    im2col_scratch = 0 if in_place and _all_columns_in_place(p, kh, kw, ih, iw, oh, ow) else 2 * col_len
    if variant is None:
        variant = "direct" if direct_ok else "im2col"
    if variant == "direct":
        assert direct_ok, "mcu_conv2d_direct_s8 needs groups == 1, contiguous kernel rows and in_c % 4 == 0"
        y_cls, x_cls, corr = _border_classes(p, w.reshape(oc, kh, kw, cg), ih, iw, oh, ow)
        params.update(y_cls=f"l{index}_ycls", x_cls=f"l{index}_xcls", cls_corr=f"l{index}_corr")
        consts = [ConstArray(f"l{index}_w", "int8_t", conv_stream(w, bias, rq)),
                  ConstArray(f"l{index}_ycls", "int16_t", y_cls), ConstArray(f"l{index}_xcls", "int16_t", x_cls),
                  ConstArray(f"l{index}_corr", "int32_t", corr)]
        return KernelCall(func="mcu_conv2d_direct_s8", args=["{params}", "{in0}", f"l{index}_w", "{out0}"],
                          params_init=params, consts=consts, sources=["mcu_conv2d_direct_s8.c", GEMM_SRC], **common)
    wp = np.pad(w, ((0, 0), (0, col_len - depth)))
    # rows pair up within a group: each group is its own GEMM
    stream = np.concatenate([conv_stream(wp[g * og:(g + 1) * og], bias[g * og:(g + 1) * og],
                                         rq.reshape(oc, 3)[g * og:(g + 1) * og]) for g in range(groups)])
    params["col_len"] = col_len
    return KernelCall(func="mcu_conv2d_s8", args=["{params}", "{in0}", f"l{index}_w", "{out0}", "{scratch}"],
                      params_init=params, consts=[ConstArray(f"l{index}_w", "int8_t", stream)],
                      scratch_bytes=im2col_scratch, sources=["mcu_conv2d_s8.c", GEMM_SRC], **common)


def _tap_range(o: int, d: int, n: int, size: int) -> tuple[int, int]:
    """[k0, k1): the taps k of a window starting at o (tap k at o + k * d) inside [0, size)."""
    ks = [k for k in range(n) if 0 <= o + k * d < size]
    return (ks[0], ks[-1] + 1) if ks else (0, 0)


def _border_classes(p: P.ConvParams, w4: np.ndarray, ih: int, iw: int, oh: int, ow: int):
    """mcu_conv2d_direct_s8's border tables: pixels grouped by the tap ranges
    their windows keep; y_cls[oy] + x_cls[ox] is the class, corr[class][o]
    = input_zp * (sum of the weights of the taps the class skips), wrapped
    to int32, which the kernel adds for the taps it does not read."""
    oc, kh, kw, _ = w4.shape
    ys = [_tap_range(oy * p.stride_h - p.pad_h, p.dilation_h, kh, ih) for oy in range(oh)]
    xs = [_tap_range(ox * p.stride_w - p.pad_w, p.dilation_w, kw, iw) for ox in range(ow)]
    yk, xk = sorted(set(ys)), sorted(set(xs))
    tap_sum = w4.astype(np.int64).sum(axis=3)  # [oc][kh][kw]
    corr = np.zeros((len(yk), len(xk), oc), np.int64)
    for a, (y0, y1) in enumerate(yk):
        for b, (x0, x1) in enumerate(xk):
            keep = np.zeros((kh, kw), bool)
            keep[y0:y1, x0:x1] = True
            corr[a, b] = -p.input_offset * tap_sum[:, ~keep].sum(axis=1)
    y_cls = np.array([yk.index(r) * len(xk) for r in ys], np.int16)
    x_cls = np.array([xk.index(r) for r in xs], np.int16)
    return y_cls, x_cls, fp.wrap_int32(corr).astype(np.int32).reshape(-1)


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


def lower_depthwise(graph: ir.Graph, op: ir.Operator, index: int, rounding: str = "double",
                    scratch_limit: int | None = None, transposed: bool | None = None,
                    variant: str | None = None) -> KernelCall:
    """3x3 kernels (depth multiplier 1, no dilation) run on a line-buffer
    kernel, in place when the output has the input's shape (stride 1), and
    transposed (columns as rows) when the image is taller than wide: four
    channels at a time (in_c % 4 == 0, three int16 rows of all channels) or,
    when that scratch exceeds scratch_limit, one channel at a time (three
    int16 rows of one channel). Below that, and for any other shape, the
    general kernel, which needs no scratch. `transposed` and `variant`
    ("ch4", "channel", "general") force a choice (tests)."""
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
        "input_zp": -p.input_offset, **_quant_fields(index, p.act_min, p.act_max, p.shift), "transposed": 0,
        "group_chunk": 0,
    }
    rq = _requant_consts(op, index, p.multiplier, p.shift, p.output_offset)
    macs = n * oh * ow * oc * kh * kw
    fast = kh == 3 and kw == 3 and p.depth_multiplier == 1 and p.dilation_h == 1 and p.dilation_w == 1
    same = tuple(p.input_shape) == tuple(p.output_shape) and p.stride_h == 1 and p.stride_w == 1
    if fast and ic % 4 == 0 and variant in (None, "ch4"):
        # four channels at a time, the fastest: rows along the longer side (fewer,
        # longer rows), as many channels per pass over the rows as the scratch allows
        groups = ic // 4
        orients = [oh > ow, oh <= ow] if transposed is None else [bool(transposed)]
        per_group = {t: dw_ch4_scratch(4, oh, p.stride_h) if t else dw_ch4_scratch(4, ow, p.stride_w) for t in orients}
        fits = [(t, min(groups, groups if scratch_limit is None else scratch_limit // per_group[t])) for t in orients]
        fits = [(t, c) for t, c in fits if c >= 1] or ([(orients[0], 1)] if variant == "ch4" else [])
        if fits:
            t, chunk = fits[0]
            chunk = -(-groups // -(-groups // chunk))  # as many passes, chunks as equal as can be
            taps = w.reshape(3, 3, oc)
            if t:
                taps = taps.transpose(1, 0, 2)
            rqt = requant_table(p.multiplier, p.shift, p.output_offset)
            params.update(rq=0, transposed=int(t), group_chunk=chunk)
            return KernelCall(func="mcu_depthwise_conv_3x3_ch4_s8",
                              args=["{params}", "{in0}", f"l{index}_w", "{out0}", "{scratch}"],
                              inputs=[op.inputs[0]], outputs=list(op.outputs), params_type="mcu_dw_conv_params_s8",
                              params_init=params,
                              consts=[ConstArray(f"l{index}_w", "int8_t", dw_ch4_stream(taps.reshape(9, oc), bias, rqt))],
                              scratch_bytes=chunk * per_group[t], sources=["mcu_depthwise_conv_3x3_ch4_s8.c"],
                              macs=macs, inplace_input=0 if same else None)
    if fast and variant in (None, "channel"):
        orients = [oh > ow, oh <= ow] if transposed is None else [bool(transposed)]
        sizes = {t: dw3x3_scratch(oh, p.stride_h) if t else dw3x3_scratch(ow, p.stride_w) for t in orients}
        fits = [t for t in orients if scratch_limit is None or sizes[t] <= scratch_limit]
        if fits or variant == "channel":
            t = fits[0] if fits else orients[0]
            # channel-major: each channel's nine taps together, row-major or (transposed) column-major
            taps = w.T.reshape(oc, 3, 3)
            if t:
                taps = taps.transpose(0, 2, 1)
            consts = [ConstArray(f"l{index}_w", "int8_t", np.ascontiguousarray(taps).reshape(-1).astype(np.int8)),
                      ConstArray(f"l{index}_bias", "int32_t", bias), *rq]
            params["transposed"] = int(t)
            return KernelCall(func="mcu_depthwise_conv_3x3_s8",
                              args=["{params}", "{in0}", f"l{index}_w", f"l{index}_bias", "{out0}", "{scratch}"],
                              inputs=[op.inputs[0]], outputs=list(op.outputs), params_type="mcu_dw_conv_params_s8",
                              params_init=params, consts=consts, scratch_bytes=sizes[t],
                              sources=["mcu_depthwise_conv_3x3_s8.c"], macs=macs, inplace_input=0 if same else None)
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
        "weights_offset": p.weights_offset, **_quant_fields(index, p.act_min, p.act_max, shift),
    }
    consts = [ConstArray(f"l{index}_w", "int8_t", quad_layout(w)), ConstArray(f"l{index}_bias", "int32_t", bias),
              *_requant_consts(op, index, mult, shift, p.output_offset)]
    return KernelCall(func="mcu_fully_connected_s8",
                      args=["{params}", "{in0}", f"l{index}_w", f"l{index}_bias", "{out0}"],
                      inputs=[op.inputs[0]], outputs=list(op.outputs), params_type="mcu_fc_params_s8",
                      params_init=params, consts=consts, sources=["mcu_fully_connected_s8.c"],
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
        **_quant_fields(index, p.act_min, p.act_max, p.shift), "tap_offset": f"l{index}_tapoff",
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
