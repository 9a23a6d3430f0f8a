"""Compressed sparse rows (Han et al., Deep Compression) for pruned int8
weights, and CSR whose values are lookup-table codes (CSR+LUT).

Rows are output channels (see mcugen.formats.weight_matrix). Per row, only
the non-zeros are stored, each with a narrow *relative* column code. With b
index bits (4 or 8) and E = 2^b - 1, walking a row from column -1:

  k in 1..E   the next stored non-zero is k columns further (k - 1 zeros)
  k = 0       a filler: move E columns on, nothing stored

so a gap of g zeros costs g // E fillers, then the code g % E + 1. Han's
fillers are zero values the kernel multiplies; ours carry no value, which
saves the value slot (a byte, or a LUT code), keeps zero out of a CSR+LUT
codebook, and keeps the MACs the kernels execute equal to the non-zeros.
Code 0 for the filler (not E) lets the kernels test it with one
compare-with-zero and step to the value's column with one add.

Layout, as the runtime_c sparse kernels read it:
  idx      uint8: the codes; 8-bit one per byte, 4-bit two per byte, low
           nibble first, each row padded with a filler to an even count
           so every row starts on a byte.
  row_len  [rows]: bytes of idx per row, uint8 when every row fits, else
           uint16 (uint32 past 65535). The kernels walk rows in order, so
           lengths do what row pointers would in half the bytes (and they
           Huffman-code well).
  values   CSR: int8, the non-zeros in row-major order.
           CSR+LUT: instead `codes`, one code per non-zero in the same
           order, into a codebook of the non-zero values only:
             per tensor: plain lut_bits-bit codes into int8 [n];
             per row: books as mcugen.formats.lut lays them out (delta
             coded, `book_len` uint8 [rows], 0 for an empty row) and
             truncated-binary codes (mcugen.formats.lut.tb_*), which the
             walker decodes value by value anyway.
           Either way the codes end with CODE_SPARE zero bytes (the
           decoders read ahead).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import lut as lutmod

INDEX_BITS = (4, 8)
# zero bytes after the CSR+LUT codes: the C decoders refill their bit
# buffer ahead of need (up to 16 bits when fewer than 14 are left at an
# index byte), so they may read up to 3 bytes past the last code's
CODE_SPARE = 3


@dataclass
class CSR:
    shape: tuple[int, int]  # rows, cols
    index_bits: int
    row_len: np.ndarray  # uint8/uint16/uint32 [rows]: idx bytes per row
    idx: np.ndarray  # uint8, packed relative column codes
    values: np.ndarray | None  # int8 non-zeros (CSR), None for CSR+LUT
    nonzeros: int
    # CSR+LUT only
    lut_bits: int = 0
    per_channel: bool = False
    codebook: np.ndarray | None = None  # int8, 1-D (per channel: delta-coded books one after another)
    book_len: np.ndarray | None = None  # uint8 [rows] per channel
    codes: np.ndarray | None = None  # uint8, packed codes of the non-zeros
    # set by mcugen.formats.encode when all-zero columns are left out: shape
    # is then (rows, kept columns), in_cols the matrix's full width
    colmap: np.ndarray | None = None
    in_cols: int = 0

    @property
    def n_codes(self) -> int:
        return int(self.row_len.astype(np.int64).sum()) * (2 if self.index_bits == 4 else 1)

    @property
    def fillers(self) -> int:
        return self.n_codes - self.nonzeros


def _check_index_bits(bits: int) -> None:
    if bits not in INDEX_BITS:
        raise ValueError(f"CSR index codes are 4 or 8 bits, got {bits}")


def _structure(w2d: np.ndarray, index_bits: int):
    """Per non-zero: row, column, fillers before it, its code; per row: codes.
    Vectorized: pruned layers reach hundreds of thousands of weights."""
    _check_index_bits(index_bits)
    w2d = np.asarray(w2d)
    if w2d.ndim != 2:
        raise ValueError("CSR encodes a 2-D [rows, cols] matrix")
    rows = w2d.shape[0]
    esc = (1 << index_bits) - 1
    r, c = np.nonzero(w2d)  # row-major order
    first = np.ones(r.size, dtype=bool)
    first[1:] = r[1:] != r[:-1]
    prev = np.where(first, -1, np.concatenate([[-1], c[:-1]]))
    gap = c - prev - 1
    fill = gap // esc
    per_row = np.bincount(r, weights=fill + 1, minlength=rows).astype(np.int64)
    pad = per_row % 2 if index_bits == 4 else np.zeros(rows, dtype=np.int64)
    per_row += pad
    return r, c, fill, gap - fill * esc + 1, per_row, esc


def _len_dtype(longest: int):
    return np.uint8 if longest <= 0xFF else (np.uint16 if longest <= 0xFFFF else np.uint32)


def _idx_stream(r, fill, d, per_row, index_bits) -> tuple[np.ndarray, np.ndarray]:
    start = np.cumsum(per_row) - per_row
    codes = np.zeros(int(per_row.sum()), dtype=np.int64)  # fillers and pads are code 0
    if r.size:
        # a non-zero's code sits after its row's start, the codes of the row's
        # earlier non-zeros, and its own fillers
        before = np.zeros(r.size + 1, dtype=np.int64)
        np.cumsum(fill + 1, out=before[1:])
        row_first = before[np.searchsorted(r, np.arange(per_row.size))]
        codes[start[r] + before[1:] - 1 - row_first[r]] = d
    idx = codes.astype(np.uint8) if index_bits == 8 else lutmod.pack_bits(codes, 4)
    row_len = per_row // (2 if index_bits == 4 else 1)
    return row_len.astype(_len_dtype(int(row_len.max(initial=0)))), idx


def encode(w2d: np.ndarray, index_bits: int = 4) -> CSR:
    w2d = np.asarray(w2d, dtype=np.int8)
    r, c, fill, d, per_row, esc = _structure(w2d, index_bits)
    row_len, idx = _idx_stream(r, fill, d, per_row, index_bits)
    return CSR(shape=w2d.shape, index_bits=index_bits, row_len=row_len, idx=idx, values=w2d[r, c].astype(np.int8),
               nonzeros=int(r.size))


def encode_lut(w2d: np.ndarray, index_bits: int, lut_bits: int, per_channel: bool = False) -> CSR:
    """CSR+LUT: the non-zeros as codes into books of the non-zero values."""
    w2d = np.asarray(w2d, dtype=np.int8)
    csr = encode(w2d, index_bits)
    bks = lutmod.books(w2d, per_channel, nonzero_only=True)
    lutmod.check_fits(max(b.size for b in bks), lut_bits, per_channel, True)
    r, c = np.nonzero(w2d)
    if per_channel:
        index = np.zeros(r.size, dtype=np.int64)
        for k in np.unique(r):
            sel = r == k
            index[sel] = np.searchsorted(bks[k], w2d[k, c[sel]])
        cb, n = lutmod.pack_books(bks)
        csr.book_len = n
        codes = lutmod.pack_bits(*lutmod.tb_encode(index, n.astype(np.int64)[r]))
    else:
        cb = bks[0].astype(np.int8)
        codes = lutmod.pack_bits(np.searchsorted(bks[0], w2d[r, c]), lut_bits)
    csr.codes = np.concatenate([codes, np.zeros(CODE_SPARE, np.uint8)])
    csr.values = None
    csr.lut_bits, csr.per_channel, csr.codebook = lut_bits, per_channel, cb
    return csr


def _codes(csr: CSR) -> np.ndarray:
    if csr.index_bits == 8:
        return csr.idx.astype(np.int64)
    return lutmod.unpack_bits(csr.idx, 4, csr.n_codes)


def decode(csr: CSR) -> np.ndarray:
    """The dense int8 matrix, walking the codes exactly as the C kernels do."""
    rows, cols = csr.shape
    esc = (1 << csr.index_bits) - 1
    codes = _codes(csr)
    per_row = csr.row_len.astype(np.int64) * (2 if csr.index_bits == 4 else 1)
    start = np.cumsum(per_row) - per_row
    values = csr.values
    if csr.codes is not None:
        if csr.per_channel:
            n = csr.book_len.astype(np.int64)
            book_start = np.cumsum(n) - n
            stored = [int(np.count_nonzero(codes[a:a + m])) for a, m in zip(start, per_row)]
            nnz_rows = np.repeat(np.arange(rows), stored)
            index = lutmod.tb_decode(csr.codes, n[nnz_rows])
            if np.any(index >= n[nnz_rows]):
                raise ValueError("a CSR+LUT code points past its row's book")
            values = lutmod.unpack_books(csr.codebook, n)[book_start[nnz_rows] + index]
        else:
            values = csr.codebook[lutmod.unpack_bits(csr.codes, csr.lut_bits, csr.nonzeros)]
    out = np.zeros((rows, cols), dtype=np.int8)
    k = 0
    for r in range(rows):
        col = -1
        for d in codes[start[r]:start[r] + per_row[r]]:
            if d == 0:
                col += esc
                continue
            col += int(d)
            if col >= cols:
                raise ValueError(f"CSR row {r} stores a value past column {cols}")
            out[r, col] = values[k]
            k += 1
    if k != csr.nonzeros:
        raise ValueError(f"CSR codes hold {k} values, {csr.nonzeros} are stored")
    return out


def idx_bytes(per_row_codes: int, index_bits: int) -> int:
    return per_row_codes if index_bits == 8 else per_row_codes // 2


def sizes(w2d: np.ndarray, index_bits: int = 4) -> dict:
    """Bytes of each part without encoding. Keys: row_len, index, values, total
    (bytes); nonzeros, fillers (fillers include the 4-bit row pads)."""
    _, _, _, _, per_row, _ = _structure(w2d, index_bits)
    n_codes, nnz = int(per_row.sum()), int(np.count_nonzero(w2d))
    row_bytes = per_row // (2 if index_bits == 4 else 1)
    s = {"row_len": per_row.size * np.dtype(_len_dtype(int(row_bytes.max(initial=0)))).itemsize,
         "index": idx_bytes(n_codes, index_bits), "values": nnz}
    s["total"] = s["row_len"] + s["index"] + s["values"]
    return {**s, "nonzeros": nnz, "fillers": n_codes - nnz}


def index_entropy_bytes(w2d: np.ndarray, index_bits: int = 4) -> float:
    """Zero-order entropy of the index codes, in bytes: about what the index
    stream takes once Huffman coded (mcugen.formats.huffman)."""
    _, _, fill, d, per_row, _ = _structure(w2d, index_bits)
    counts = np.bincount(d, minlength=1 << index_bits).astype(np.float64)
    counts[0] += float(per_row.sum() - d.size)  # fillers and pads are code 0
    n = counts.sum()
    c = counts[counts > 0]
    return float(-(c * np.log2(c / n)).sum()) / 8 if n else 0.0


def sizes_lut(w2d: np.ndarray, index_bits: int, lut_bits: int, per_channel: bool = False) -> dict:
    """CSR+LUT bytes without encoding. Keys: row_len, index, codes, codebook,
    book_len, total (bytes); nonzeros, fillers, codebook_entries, max_book.
    Raises ValueError when a book of non-zeros needs more than 2^lut_bits values."""
    w2d = np.asarray(w2d)
    s = sizes(w2d, index_bits)
    if per_channel:
        n = lutmod.row_distinct(w2d, nonzero_only=True)
        n_max = int(n.max(initial=0))
        lutmod.check_fits(n_max, lut_bits, True, True)
        # truncated binary: how many values each book index holds decides the bits
        code_bits = 0
        for row, nr in zip(w2d, n.tolist()):
            if nr:
                _, cnt = np.unique(row[row != 0], return_counts=True)
                code_bits += int((cnt * lutmod.tb_lengths(np.arange(nr), np.full(nr, nr))).sum())
        cb, bl = int(n.sum()), w2d.shape[0]
    else:
        n_max = lutmod.distinct(w2d, False, nonzero_only=True)
        lutmod.check_fits(n_max, lut_bits, False, True)
        code_bits, cb, bl = s["nonzeros"] * lut_bits, n_max, 0
    spare = CODE_SPARE
    out = {"row_len": s["row_len"], "index": s["index"], "codes": lutmod.packed_bytes(code_bits) + spare,
           "codebook": cb, "book_len": bl}
    out["total"] = sum(out.values())
    return {**out, "nonzeros": s["nonzeros"], "fillers": s["fillers"], "codebook_entries": cb, "max_book": n_max}
