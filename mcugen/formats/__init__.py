"""Weight storage formats: encoders, decoders and byte sizes (CSR, LUT, Huffman).

Every format stores a layer's int8 weights as a 2-D matrix with one row per
output channel (`weight_matrix`), and decodes to exactly those values:

  csr      mcugen.formats.csr.encode / decode / sizes
  lut      mcugen.formats.lut.encode / decode / sizes
  csr_lut  mcugen.formats.csr.encode_lut / decode / sizes_lut

`sizes(w2d, fmt)` gives a WeightFormat's bytes part by part without
building the packed arrays (cheap enough to try every format on every
layer); the parts are exactly the constant tables the lowering in
mcugen.codegen.lower_compressed emits (bias and requantization tables,
which every format shares, are not counted):

  row_len   CSR index bytes per row (uint8, or uint16/uint32 for long rows)
  index     CSR relative column codes (4 or 8 bits each, fillers included)
  values    int8 weights: the dense matrix, or CSR's non-zeros
  codes     packed LUT codes (LUT: every weight; CSR+LUT: each non-zero)
  codebook  LUT books, int8 (all books together when per channel)
  book_len  per-channel LUT: one uint8 per row
  col_map   (skip, keep) uint8 run pairs of the columns stored, when
            all-zero columns are left out (see below); 0 otherwise
  total     their sum
plus counts: nonzeros and fillers (CSR kinds; MACs the sparse kernels run
per output pixel = nonzeros), codebook_entries and max_book (LUT kinds).
Unfit formats (a LUT book needing more than 2^lut_bits values, index_bits
other than 4/8) raise ValueError; `fits(w2d, fmt)` asks without raising.

Columns that are zero in every row (input pixels a pruned layer never
reads: 145 of fc1's 784 in the pruned MNIST MLP) are left out of every
format when that makes the layer smaller: the rows then cover only the
kept columns, listed by `col_map` as (zeros to skip, columns to keep)
uint8 pairs (a run longer than 255 continues in the next pair with a skip
of 0; columns after the last pair are all zero). The kernels gather the
kept input columns once per input row or pixel, so CSR gaps shrink (fewer
fillers, fewer index bytes) and LUT rows hold no codes for them. The
encoded object's `colmap` is None when nothing is left out.
"""

from __future__ import annotations

import numpy as np

from .. import ir
from . import csr, lut

MATRIX_OPS = ("FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D")


def weight_matrix(graph: ir.Graph, op: ir.Operator) -> np.ndarray:
    """The operator's int8 weights as [output channels, weights per channel],
    in the order the compressed kernels walk them: FULLY_CONNECTED [out][in],
    CONV_2D [out_c][kh * kw * in_c/groups], DEPTHWISE_CONV_2D [out_c][kh * kw]."""
    if op.kind not in MATRIX_OPS:
        raise ValueError(f"{op.kind} has no weight matrix a compressed format applies to")
    w = graph.t(op.inputs[1]).data
    if op.kind == "DEPTHWISE_CONV_2D":
        return np.ascontiguousarray(w.reshape(-1, w.shape[-1]).T)
    if op.kind == "FULLY_CONNECTED":
        nout = graph.t(op.outputs[0]).shape[-1]
        return w.reshape(-1, w.shape[-1])[:nout]
    return w.reshape(w.shape[0], -1)


def kept_columns(w2d: np.ndarray) -> np.ndarray | None:
    """bool [cols]: the columns holding a non-zero, or None when leaving the
    others out is impossible (no column kept) or pointless (all kept)."""
    w2d = np.asarray(w2d)
    if w2d.ndim != 2 or w2d.shape[1] == 0:
        return None
    keep = np.any(w2d != 0, axis=0)
    return keep if keep.any() and not keep.all() else None


def col_map_pairs(keep: np.ndarray) -> np.ndarray:
    """(skip, keep) uint8 run pairs of bool [cols] `keep` (see above)."""
    keep = np.asarray(keep, dtype=bool)
    last = int(np.flatnonzero(keep)[-1]) + 1 if keep.any() else 0
    out: list[int] = []
    at = 0
    while at < last:
        skip = 0
        while at < last and not keep[at]:
            skip += 1
            at += 1
        run = 0
        while at < last and keep[at]:
            run += 1
            at += 1
        while skip > 255:  # a skip run past 255: pairs that keep nothing
            out += [255, 0]
            skip -= 255
        while run > 255:
            out += [skip, 255]
            skip, run = 0, run - 255
        out += [skip, run]
    return np.array(out, dtype=np.uint8)


def col_map_columns(pairs: np.ndarray) -> np.ndarray:
    """The kept column indices a col_map lists, in order."""
    p = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    cols, at = [], 0
    for skip, run in p.tolist():
        at += skip
        cols.extend(range(at, at + run))
        at += run
    return np.array(cols, dtype=np.int64)


def _sizes_plain(w2d: np.ndarray, fmt) -> dict:
    if fmt.kind == "csr":
        return csr.sizes(w2d, fmt.index_bits)
    if fmt.kind == "lut":
        return lut.sizes(w2d, fmt.lut_bits, fmt.lut_per_channel)
    if fmt.kind == "csr_lut":
        return csr.sizes_lut(w2d, fmt.index_bits, fmt.lut_bits, fmt.lut_per_channel)
    raise ValueError(f"unknown weight format kind '{fmt.kind}'")


def _strip(w2d: np.ndarray, fmt) -> tuple[np.ndarray | None, dict]:
    """(kept columns or None, sizes): leave the all-zero columns out when
    that takes fewer bytes, map included, as stored or (CSR index codes,
    whose entropy falls with the gaps even where 8-bit codes take a byte
    each anyway) once Huffman coded."""
    s = _sizes_plain(w2d, fmt)
    s["col_map"] = 0
    keep = kept_columns(w2d)
    if keep is None:
        return None, s
    ws = w2d[:, keep]
    t = _sizes_plain(ws, fmt)
    t["col_map"] = int(col_map_pairs(keep).size)
    t["total"] += t["col_map"]
    if t["total"] < s["total"]:
        return keep, t
    if fmt.kind in ("csr", "csr_lut"):
        saved = csr.index_entropy_bytes(w2d, fmt.index_bits) - csr.index_entropy_bytes(ws, fmt.index_bits)
        if saved > t["total"] - s["total"]:
            return keep, t
    return None, s


def sizes(w2d: np.ndarray, fmt, strip: bool = True) -> dict:
    """Bytes of each part of `w2d` stored as WeightFormat `fmt` (keys above);
    strip=False keeps every column (what depthwise layers do)."""
    w2d = np.asarray(w2d)
    if fmt.kind == "dense":
        n = int(w2d.size)
        return {"values": n, "total": n}
    if fmt.kind not in ("csr", "lut", "csr_lut"):
        raise ValueError(f"unknown weight format kind '{fmt.kind}'")
    if not strip:
        return {**_sizes_plain(w2d, fmt), "col_map": 0}
    return _strip(w2d, fmt)[1]


def fits(w2d: np.ndarray, fmt) -> bool:
    try:
        _sizes_plain(w2d, fmt) if fmt.kind != "dense" else None
    except ValueError:
        return False
    return True


def encode(w2d: np.ndarray, fmt, strip: bool = True):
    """The encoded form (csr.CSR or lut.LUT; the dense matrix for dense);
    its `colmap` lists the columns kept when all-zero ones are left out."""
    w2d = np.asarray(w2d, dtype=np.int8)
    if fmt.kind == "dense":
        return w2d
    if fmt.kind not in ("csr", "lut", "csr_lut"):
        raise ValueError(f"unknown weight format kind '{fmt.kind}'")
    keep, _ = _strip(w2d, fmt) if strip else (None, None)
    if keep is None:
        return _encode_plain(w2d, fmt)
    enc = _encode_plain(np.ascontiguousarray(w2d[:, keep]), fmt)
    enc.colmap = col_map_pairs(keep)
    enc.in_cols = int(w2d.shape[1])
    return enc


def _encode_plain(w2d: np.ndarray, fmt):
    if fmt.kind == "csr":
        return csr.encode(w2d, fmt.index_bits)
    if fmt.kind == "lut":
        return lut.encode(w2d, fmt.lut_bits, fmt.lut_per_channel)
    if fmt.kind == "csr_lut":
        return csr.encode_lut(w2d, fmt.index_bits, fmt.lut_bits, fmt.lut_per_channel)
    raise ValueError(f"unknown weight format kind '{fmt.kind}'")


def decode(enc) -> np.ndarray:
    if isinstance(enc, (csr.CSR, lut.LUT)):
        w = csr.decode(enc) if isinstance(enc, csr.CSR) else lut.decode(enc)
        if enc.colmap is None:
            return w
        cols = col_map_columns(enc.colmap)
        if cols.size != w.shape[1] or (cols.size and cols[-1] >= enc.in_cols):
            raise ValueError(f"col_map lists {cols.size} columns for rows of {w.shape[1]}")
        out = np.zeros((w.shape[0], enc.in_cols), dtype=np.int8)
        out[:, cols] = w
        return out
    return np.asarray(enc, dtype=np.int8)
