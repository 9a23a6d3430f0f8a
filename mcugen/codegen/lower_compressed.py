"""Lowering of FULLY_CONNECTED, CONV_2D and DEPTHWISE_CONV_2D whose weights
are stored compressed (CSR sparse, lookup table, CSR+LUT; mcugen.formats)
to the runtime_c kernels of mcu_nn_compressed.h.

    call = LOWER_FORMATS[(op.kind, fmt.kind)](graph, op, index, fmt=fmt, rounding=...)

Arithmetic is the dense lowering's (lower_conv): the same folded bias
(input_offset times the sum of ALL weights; zeros add nothing, so the fold
holds for any format) and the same requantization table, so outputs are
bit-exact. The weight streams become separate constant tables, named
l{index}_rowlen, _idx, _val, _codes, _cb, _booklen, _colmap, which the
params struct points at (CompressedCall.stream_fields maps each pointer
field to its table, for a later stage that wants to move or re-encode a
stream, e.g. Huffman). fmt.huffman is not looked at here.

Columns that no row uses are left out when that saves bytes
(mcugen.formats: `_colmap` lists the kept ones, params `cols` their count);
the kernels gather the kept inputs. Convolutions (and FULLY_CONNECTED with
several batch rows) run four output pixels (batch rows) per pass over the
weights (params pix = 4), so each stored weight is decoded once for four
MACs; their columns take 8 bytes each of scratch, plus (row_cache = 1)
what the first pass decodes for the others: per-row LUT books, or every
CSR+LUT value. Under a scratch_limit the cache goes first, then the
kernels run one pixel per pass (pix = 1: at most one window's depth, or
the kept columns of one input row). FULLY_CONNECTED takes {scratch} too.

The returned CompressedCall is a KernelCall with the figures a report
needs: `macs` counts the MACs the kernel executes (stored values only for
the CSR kinds and for depthwise LUT, which drops zero taps), `dense_macs`
the dense kernel's, `weight_parts` the bytes of each stream
(mcugen.formats.sizes keys, as encoded), `dense_weight_bytes` the int8 matrix's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import fixedpoint as fp
from .. import formats
from .. import ir
from ..errors import UnsupportedModelError
from ..formats import csr as csrmod
from ..formats import lut as lutmod
from ..params import nn as P
from ..plan.formats import WeightFormat
from .lower_conv import _check_types, _requant_consts, fold_bias
from .lowering import ConstArray, KernelCall


@dataclass
class CompressedCall(KernelCall):
    dense_macs: int = 0  # MACs the dense kernel would execute for this operator
    weight_format: str = ""  # str(WeightFormat)
    weight_parts: dict = field(default_factory=dict)  # stream -> bytes, plus "total"
    dense_weight_bytes: int = 0  # the int8 weight matrix
    stream_fields: dict = field(default_factory=dict)  # params field -> constant table name


_CTYPE = {np.dtype(np.int8): "int8_t", np.dtype(np.uint8): "uint8_t", np.dtype(np.uint16): "uint16_t",
          np.dtype(np.uint32): "uint32_t"}


def _const(name: str, data: np.ndarray) -> ConstArray:
    data = np.ascontiguousarray(data).ravel()
    # natural alignment: padding between small tables would eat what compression saved
    return ConstArray(name, _CTYPE[data.dtype], data, align=data.dtype.itemsize)


def check_format(kind: str, fmt: WeightFormat) -> None:
    if fmt.kind != kind:
        raise ValueError(f"lowering for '{kind}' weights was given format '{fmt}'")
    if kind in ("csr", "csr_lut") and fmt.index_bits not in csrmod.INDEX_BITS:
        raise ValueError(f"format '{fmt}': CSR index codes are 4 or 8 bits")
    if kind in ("lut", "csr_lut"):
        lutmod.check_bits(fmt.lut_bits)


def default_format(kind: str, w2d: np.ndarray, per_channel: bool = True) -> WeightFormat:
    """4-bit CSR codes and the narrowest LUT codes that fit."""
    if kind == "csr":
        return WeightFormat(kind="csr", index_bits=4)
    b = lutmod.min_bits(w2d, per_channel, nonzero_only=kind == "csr_lut")
    if b is None:
        raise ValueError(f"more than {1 << lutmod.MAX_BITS} distinct values: no LUT format fits")
    return WeightFormat(kind=kind, index_bits=4 if kind == "csr_lut" else 0, lut_bits=b, lut_per_channel=per_channel)


def weight_streams(index: int, w2d: np.ndarray, fmt: WeightFormat, strip: bool = True):
    """(constant tables, params fields, stream_fields, stored values, bytes per part, the encoded
    form) for w2d stored as fmt."""
    enc = formats.encode(w2d, fmt, strip=strip)
    consts: list[ConstArray] = []
    fields: dict[str, object] = {}
    streams: dict[str, str] = {}

    parts: dict[str, int] = {}

    def add(field_name: str, suffix: str, part: str, data: np.ndarray) -> None:
        name = f"l{index}_{suffix}"
        consts.append(_const(name, data))
        fields[field_name] = name
        streams[field_name] = name
        parts[part] = int(data.nbytes)

    if isinstance(enc, csrmod.CSR):
        fields["idx_bits"] = enc.index_bits
        add(f"row_len{enc.row_len.dtype.itemsize * 8}", "rowlen", "row_len", enc.row_len)
        add("idx", "idx", "index", enc.idx)
        if enc.values is not None:
            add("values", "val", "values", enc.values)
        stored = enc.nonzeros
    else:
        stored = int(np.count_nonzero(w2d))
    if isinstance(enc, lutmod.LUT) or enc.codebook is not None:
        fields["lut_bits"] = enc.bits if isinstance(enc, lutmod.LUT) else enc.lut_bits
        add("codes", "codes", "codes", enc.codes)
        add("codebook", "cb", "codebook", enc.codebook)
        if enc.per_channel:
            add("book_len", "booklen", "book_len", enc.book_len)
        else:
            fields["book_n"] = int(enc.codebook.size)
    fields["cols"] = int(enc.shape[1])
    if enc.colmap is not None:
        add("col_map", "colmap", "col_map", enc.colmap)
        fields["col_pairs"] = int(enc.colmap.size // 2)
    parts["total"] = sum(parts.values())
    return consts, fields, streams, stored, parts, enc


def _finish(func: str, args: list[str], op: ir.Operator, params_type: str, params: dict, consts: list[ConstArray],
            w2d: np.ndarray, fmt: WeightFormat, streams: dict, parts: dict, macs: int, dense_macs: int,
            scratch: int = 0) -> CompressedCall:
    return CompressedCall(func=func, args=args, inputs=[op.inputs[0]], outputs=list(op.outputs),
                          params_type=params_type, params_init=params, consts=consts, scratch_bytes=scratch,
                          sources=[f"{func}.c"], macs=int(macs), dense_macs=int(dense_macs), weight_format=str(fmt),
                          weight_parts=parts, dense_weight_bytes=int(w2d.size), stream_fields=streams)


def _quant_fields(index: int, lo: int, hi: int, shift) -> dict:
    """act clamp, the rq table, and rq_fast: 1 when every triple has
    mcu_fixedpoint.h's fast form (shift -23..-2), so the kernels requantize
    without a branch."""
    r = -np.asarray(shift, np.int64).ravel()
    fast = bool(np.all((r >= 2) & (r <= 23)))
    return {"act_min": int(lo), "act_max": int(hi), "rq": f"l{index}_rq", "rq_fast": int(fast)}


def pix4_scratch(cols: int) -> int:
    """mcu_nn_compressed.h MCU_CW_PIX4_S8_SCRATCH without the cache: four columns as int16 pairs, aligned inside."""
    return 8 * cols + 3


def row_cache_bytes(enc) -> int:
    """mcu_nn_compressed.h MCU_CW_ROW_CACHE: what multi-pass kernels decode
    once and keep: per-channel LUT books, or every CSR+LUT value."""
    if isinstance(enc, csrmod.CSR):
        return enc.nonzeros if enc.codes is not None else 0
    if enc.book_len is None:
        return 0
    return int(((enc.book_len.astype(np.int64) + 1) // 2 * 2).sum())


def _pick_pix(want4: bool, scratch4: int, cache: int, scratch1: int,
              scratch_limit: int | None) -> tuple[int, int, int]:
    """(pix, row_cache, scratch bytes): four pixels a pass, with the row
    cache when it fits the limit too, else one pixel a pass (which needs
    the least scratch)."""
    if want4:
        if scratch_limit is None or scratch4 + cache <= scratch_limit:
            return 4, int(cache > 0), scratch4 + cache
        if scratch4 <= scratch_limit:
            return 4, 0, scratch4
    return 1, 0, scratch1


# ---- FULLY_CONNECTED ---------------------------------------------------------------


def _lower_fc(kind: str, graph: ir.Graph, op: ir.Operator, index: int, fmt: WeightFormat | None,
              rounding: str, scratch_limit: int | None = None) -> CompressedCall:
    _check_types(graph, op, [op.inputs[0]], op.inputs[1])
    p = P.fully_connected_params(graph, op, rounding)
    k, nout = p.accum_depth, p.output_depth
    w = formats.weight_matrix(graph, op)
    fmt = fmt or default_format(kind, w, p.per_channel)
    check_format(kind, fmt)
    # as lower_conv: every offset product but weights_offset * sum(x) is folded
    bias = fold_bias(p.bias, w, p.input_offset)
    bias = fp.wrap_int32(bias.astype(np.int64) + k * p.weights_offset * p.input_offset).astype(np.int32)
    mult, shift = (p.multiplier, p.shift) if p.per_channel else (p.multiplier[:1], p.shift[:1])
    wconsts, wfields, streams, stored, parts, enc = weight_streams(index, w, fmt)
    cols = wfields["cols"]
    # one batch row: each weight is one MAC whatever the pass, so no gather
    # unless columns are left out
    pix, cache, scratch = _pick_pix(p.batches > 1, pix4_scratch(cols), row_cache_bytes(enc),
                                    cols if "col_map" in wfields else 0, scratch_limit)
    params = {"batches": p.batches, "in_depth": k, "out_depth": nout, "per_channel": int(p.per_channel),
              "weights_offset": p.weights_offset, **_quant_fields(index, p.act_min, p.act_max, shift), "pix": pix,
              "row_cache": cache, **wfields}
    consts = [*wconsts, ConstArray(f"l{index}_bias", "int32_t", bias),
              *_requant_consts(op, index, mult, shift, p.output_offset)]
    per_pass = nout * cols if kind == "lut" else stored
    func = {"csr": "mcu_fully_connected_csr_s8", "lut": "mcu_fully_connected_lut_s8",
            "csr_lut": "mcu_fully_connected_csr_lut_s8"}[kind]
    return _finish(func, ["{params}", "{in0}", f"l{index}_bias", "{out0}", "{scratch}"], op, "mcu_fc_cw_params_s8",
                   params, consts, w, fmt, streams, parts, p.batches * per_pass, p.batches * nout * k, scratch=scratch)


# ---- CONV_2D -------------------------------------------------------------------------


def _lower_conv(kind: str, graph: ir.Graph, op: ir.Operator, index: int, fmt: WeightFormat | None,
                rounding: str, scratch_limit: int | None = None) -> CompressedCall:
    _check_types(graph, op, [op.inputs[0]], op.inputs[1])
    p = P.conv_params(graph, op, rounding)
    n, ih, iw, ic = p.input_shape
    oc, kh, kw, cg = p.filter_shape
    _, oh, ow, _ = p.output_shape
    depth = kh * kw * cg
    w = formats.weight_matrix(graph, op)
    fmt = fmt or default_format(kind, w)
    check_format(kind, fmt)
    bias = fold_bias(p.bias, w, p.input_offset)
    wconsts, wfields, streams, stored, parts, enc = weight_streams(index, w, fmt)
    cols = wfields["cols"]
    window = kh * kw > 1  # 1x1 kernels read each pixel's channels in place
    pix, cache, scratch = _pick_pix(True, pix4_scratch(cols), row_cache_bytes(enc),
                                    depth if window else (cols if "col_map" in wfields else 0), scratch_limit)
    params = {
        "batches": n, "in_h": ih, "in_w": iw, "in_c": ic, "out_h": oh, "out_w": ow, "out_c": oc,
        "k_h": kh, "k_w": kw, "stride_h": p.stride_h, "stride_w": p.stride_w,
        "dil_h": p.dilation_h, "dil_w": p.dilation_w, "pad_h": p.pad_h, "pad_w": p.pad_w,
        "groups": p.groups, "input_zp": -p.input_offset, **_quant_fields(index, p.act_min, p.act_max, p.shift),
        "pix": pix, "row_cache": cache,
        **wfields,
    }
    consts = [*wconsts, ConstArray(f"l{index}_bias", "int32_t", bias),
              *_requant_consts(op, index, p.multiplier, p.shift, p.output_offset)]
    assert window or (p.pad_h == 0 and p.pad_w == 0)  # a 1x1 window never needs padding
    pixels = n * oh * ow
    func = {"csr": "mcu_conv2d_csr_s8", "lut": "mcu_conv2d_lut_s8", "csr_lut": "mcu_conv2d_csr_lut_s8"}[kind]
    return _finish(func, ["{params}", "{in0}", f"l{index}_bias", "{out0}", "{scratch}"], op,
                   "mcu_conv2d_cw_params_s8", params, consts, w, fmt, streams, parts,
                   pixels * (oc * cols if kind == "lut" else stored), pixels * oc * depth, scratch=scratch)


# ---- DEPTHWISE_CONV_2D ------------------------------------------------------------------


def _lower_dw(kind: str, graph: ir.Graph, op: ir.Operator, index: int, fmt: WeightFormat | None,
              rounding: str, scratch_limit: int | None = None) -> CompressedCall:
    _check_types(graph, op, [op.inputs[0]], op.inputs[1])
    p = P.conv_params(graph, op, rounding)
    n, ih, iw, ic = p.input_shape
    _, kh, kw, oc = p.filter_shape
    _, oh, ow, _ = p.output_shape
    if kh > 255 or kw > 255:
        raise UnsupportedModelError(f"DEPTHWISE_CONV_2D '{op.name}': a {kh}x{kw} kernel is too large for the "
                                    "compressed depthwise kernels (at most 255 taps per side)")
    w = formats.weight_matrix(graph, op)
    fmt = fmt or default_format(kind, w)
    check_format(kind, fmt)
    bias = fold_bias(p.bias, w, p.input_offset)
    wconsts, wfields, streams, _, parts, _ = weight_streams(index, w, fmt)
    params = {
        "batches": n, "in_h": ih, "in_w": iw, "in_c": ic, "out_h": oh, "out_w": ow, "out_c": oc,
        "depth_mult": p.depth_multiplier, "k_h": kh, "k_w": kw, "stride_h": p.stride_h, "stride_w": p.stride_w,
        "dil_h": p.dilation_h, "dil_w": p.dilation_w, "pad_h": p.pad_h, "pad_w": p.pad_w,
        "input_zp": -p.input_offset, **_quant_fields(index, p.act_min, p.act_max, p.shift), **wfields,
    }
    consts = [*wconsts, ConstArray(f"l{index}_bias", "int32_t", bias),
              *_requant_consts(op, index, p.multiplier, p.shift, p.output_offset)]
    pixels = n * oh * ow
    func = {"csr": "mcu_depthwise_conv_csr_s8", "lut": "mcu_depthwise_conv_lut_s8",
            "csr_lut": "mcu_depthwise_conv_csr_lut_s8"}[kind]
    # every kind multiplies only non-zero taps (LUT drops them while decoding a channel)
    return _finish(func, ["{params}", "{in0}", f"l{index}_bias", "{out0}", "{scratch}"], op,
                   "mcu_dw_conv_cw_params_s8", params, consts, w, fmt, streams, parts,
                   pixels * int(np.count_nonzero(w)), pixels * oc * kh * kw, scratch=22 * kh * kw + 3)


def _entry(lower, kind: str):
    def fn(graph: ir.Graph, op: ir.Operator, index: int, fmt: WeightFormat | None = None,
           rounding: str = "double", scratch_limit: int | None = None) -> CompressedCall:
        return lower(kind, graph, op, index, fmt, rounding, scratch_limit)
    fn.__name__ = f"{lower.__name__}_{kind}"
    return fn


LOWER_FORMATS = {
    (op_kind, kind): _entry(lower, kind)
    for op_kind, lower in (("FULLY_CONNECTED", _lower_fc), ("CONV_2D", _lower_conv), ("DEPTHWISE_CONV_2D", _lower_dw))
    for kind in ("csr", "lut", "csr_lut")
}
