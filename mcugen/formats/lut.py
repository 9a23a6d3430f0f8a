"""Shared-weight (lookup-table) storage of an int8 weight matrix.

Rows are output channels (see mcugen.formats.weight_matrix). Each weight is
replaced by a code into an int8 codebook of the distinct values:

  per tensor   one codebook of at most 2^b values, every code b bits
               (b = lut_bits, 1..7).
  per channel  one book per row holding that row's n_r distinct values
               (n_r <= 2^lut_bits), codes width(n_r) = ceil(log2 n_r) bits
               (0 bits for a row with one value).

Per-channel books are what clustered per-channel-quantized layers need:
clustering shares float centroids across the tensor, but each channel's
scale maps them to its own int8 values, so the tensor holds far more
distinct int8 values than any one row. Sizing every row's book and codes
to that row (not to 2^lut_bits) cuts the codebooks by ~40% and the codes by
~25% on the pruned+clustered fixtures.

Layout, as the runtime_c LUT kernels read it:
  codebook  per tensor: int8 [n], sorted ascending.
            per channel: the rows' books one after another, each sorted
            ascending and delta-coded: its first value, then each value
            minus the previous one (1..255, stored mod 256 in the int8
            array); small steps make the table ~17% smaller once Huffman
            coded, and the kernels rebuild a row's book in a few cycles.
  book_len  uint8 [rows], per channel only: n_r (the kernel derives the
            row's code width and where the next book starts).
  codes     uint8: the codes of the row-major matrix as one bit stream,
            least significant bit first (a code of w bits at stream bit k
            occupies bits k .. k+w-1), rows not padded; spare bits of the
            last byte are 0, and CODE_SPARE zero bytes follow (the
            decoders read ahead).

`pack_bits` / `unpack_bits` are that bit stream and are shared with CSR+LUT,
whose per-channel codes are truncated binary (`tb_*`, see there).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_BITS = 7
# zero bytes after the codes: the C decoders refill their bit buffer 16
# bits at a time when the next codes need at least one more byte, so they
# may read one byte past the last code's
CODE_SPARE = 1


@dataclass
class LUT:
    shape: tuple[int, int]  # rows, cols
    bits: int  # per tensor: the code width; per channel: the widest row's bound
    per_channel: bool
    codebook: np.ndarray  # int8, 1-D (per channel: the delta-coded books one after another)
    book_len: np.ndarray | None  # uint8 [rows] per channel, None per tensor
    codes: np.ndarray  # uint8, packed bit stream
    colmap: np.ndarray | None = None  # as mcugen.formats.csr.CSR.colmap
    in_cols: int = 0


def width(n) -> np.ndarray:
    """Code bits for a book of n values: ceil(log2 n), 0 for n <= 1."""
    n = np.asarray(n, dtype=np.int64)
    return np.where(n > 1, np.ceil(np.log2(np.maximum(n, 1))).astype(np.int64), 0)


def pack_bits(codes: np.ndarray, bits) -> np.ndarray:
    """Unsigned codes as one LSB-first bit stream, in whole bytes. `bits` is
    one width for all codes or one per code (0 allowed)."""
    codes = np.asarray(codes, dtype=np.int64).ravel()
    bits = np.broadcast_to(np.asarray(bits, dtype=np.int64), codes.shape)
    if codes.size and (codes.min() < 0 or np.any(codes >= (np.int64(1) << bits))):
        raise ValueError("codes do not fit their widths")
    total = int(bits.sum())
    starts = np.cumsum(bits) - bits
    planes = np.zeros(-(-total // 8) * 8, dtype=np.uint8)
    for j in range(int(bits.max(initial=0))):
        sel = bits > j
        planes[starts[sel] + j] = (codes[sel] >> j) & 1
    return np.packbits(planes, bitorder="little")


def unpack_bits(stream: np.ndarray, bits, count: int) -> np.ndarray:
    bits = np.broadcast_to(np.asarray(bits, dtype=np.int64), (count,))
    planes = np.unpackbits(np.asarray(stream, dtype=np.uint8), bitorder="little")
    total = int(bits.sum())
    if planes.size < total:
        raise ValueError(f"bit stream holds {planes.size} bits, its codes need {total}")
    starts = np.cumsum(bits) - bits
    out = np.zeros(count, dtype=np.int64)
    for j in range(int(bits.max(initial=0))):
        sel = bits > j
        out[sel] |= planes[starts[sel] + j].astype(np.int64) << j
    return out


def packed_bytes(total_bits: int) -> int:
    return (int(total_bits) + 7) // 8


def check_bits(bits: int) -> None:
    if not 1 <= bits <= MAX_BITS:
        raise ValueError(f"LUT code width must be 1..{MAX_BITS} bits, got {bits}")


def row_distinct(w2d: np.ndarray, nonzero_only: bool = False) -> np.ndarray:
    """Distinct values in each row (int64 [rows])."""
    w2d = np.asarray(w2d)
    s = np.sort(w2d, axis=1)
    new = np.ones(s.shape, dtype=bool)
    new[:, 1:] = s[:, 1:] != s[:, :-1]
    if nonzero_only:
        new &= s != 0
    return new.sum(axis=1).astype(np.int64)


def distinct(w2d: np.ndarray, per_channel: bool, nonzero_only: bool = False) -> int:
    """Entries of the largest book."""
    w2d = np.asarray(w2d)
    if per_channel:
        return int(row_distinct(w2d, nonzero_only).max(initial=0))
    v = np.unique(w2d)
    return int(np.count_nonzero(v) if nonzero_only else v.size)


def min_bits(w2d: np.ndarray, per_channel: bool, nonzero_only: bool = False) -> int | None:
    """Narrowest lut_bits that holds every book (nonzero_only: the books
    CSR+LUT uses); None when a book needs more than 2^7 values."""
    b = max(1, int(width(distinct(w2d, per_channel, nonzero_only))))
    return b if b <= MAX_BITS else None


def books(w2d: np.ndarray, per_channel: bool, nonzero_only: bool = False) -> list[np.ndarray]:
    """Each book's values, sorted ascending."""
    w2d = np.asarray(w2d, dtype=np.int8)
    rows = list(w2d) if per_channel else [w2d.ravel()]
    return [np.unique(r[r != 0] if nonzero_only else r) for r in rows]


def check_fits(n_max: int, bits: int, per_channel: bool, nonzero_only: bool) -> None:
    check_bits(bits)
    if n_max > 1 << bits:
        raise ValueError(f"{n_max} distinct {'non-zero ' if nonzero_only else ''}values "
                         f"{'in a row' if per_channel else 'in the tensor'} need more than {bits}-bit codes")


def pack_books(bks: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-row books (each sorted ascending) -> (delta-coded int8 codebook, uint8 book_len)."""
    parts = []
    for b in bks:
        b = np.asarray(b, dtype=np.int64)
        if b.size:
            parts.append(np.concatenate([b[:1], np.diff(b)]))
    flat = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    return (flat & 0xFF).astype(np.uint8).view(np.int8), np.array([b.size for b in bks], dtype=np.uint8)


def unpack_books(codebook: np.ndarray, book_len: np.ndarray) -> np.ndarray:
    """The delta-coded books back as int8 values, one after another."""
    raw = np.asarray(codebook).view(np.uint8).astype(np.int64)
    out = np.zeros(raw.size, dtype=np.int64)
    at = 0
    for n in np.asarray(book_len, dtype=np.int64).tolist():
        out[at:at + n] = np.cumsum(raw[at:at + n])  # mod 256 below: the first value is stored as uint8
        at += n
    return (out & 0xFF).astype(np.uint8).view(np.int8)


# ---- truncated binary codes (CSR+LUT per channel) -------------------------------------
#
# A row of n values has w = width(n) and u = 2^w - n: book indices below u
# take w - 1 bits, the others w bits. The decoder peeks w bits t, v = the
# low w - 1 of them: v < u is index v (w - 1 bits used); otherwise the index
# is t - e * u with e = t's top bit (w bits used). Power-of-two books
# (u = 0) are plain w-bit codes. Against plain ceil(log2 n)-bit codes this
# saves ~10% on the pruned+clustered fixtures, for a compare per value in a
# walker that decodes code by code anyway.


def tb_encode(index: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, widths) of book indices `index` in books of n values."""
    index, n = np.asarray(index, dtype=np.int64), np.asarray(n, dtype=np.int64)
    w = width(n)
    u = (np.int64(1) << w) - n
    half = np.where(w > 0, np.int64(1) << np.maximum(w - 1, 0), 0)
    short = index < u
    code = np.where(short, index, np.where(index < half, index, index + u))
    return code, np.where(short, w - 1, w)


def tb_lengths(index: np.ndarray, n: np.ndarray) -> np.ndarray:
    return tb_encode(index, n)[1]


def tb_decode(stream: np.ndarray, n_per_value: np.ndarray) -> np.ndarray:
    """Book indices of len(n_per_value) truncated-binary codes, as the C walker reads them."""
    planes = np.unpackbits(np.asarray(stream, dtype=np.uint8), bitorder="little").astype(np.int64)
    planes = np.concatenate([planes, np.zeros(8, dtype=np.int64)])  # peeking past the end reads 0
    out = np.zeros(len(n_per_value), dtype=np.int64)
    pos = 0
    for k, n in enumerate(np.asarray(n_per_value, dtype=np.int64).tolist()):
        w = int(width(n))
        u = (1 << w) - n
        t = int((planes[pos:pos + w] << np.arange(w)).sum())
        v = t & ((1 << max(w - 1, 0)) - 1)
        if v < u:
            out[k], pos = v, pos + w - 1
        else:
            out[k], pos = t - (t >> max(w - 1, 0)) * u if w else 0, pos + w
    if pos > len(planes) - 8:
        raise ValueError("truncated-binary stream ends inside a code")
    return out


def encode(w2d: np.ndarray, bits: int, per_channel: bool = False) -> LUT:
    w2d = np.asarray(w2d, dtype=np.int8)
    if w2d.ndim != 2:
        raise ValueError("LUT encodes a 2-D [rows, cols] matrix")
    bks = books(w2d, per_channel)
    check_fits(max(b.size for b in bks), bits, per_channel, False)
    spare = np.zeros(CODE_SPARE, np.uint8)
    if per_channel:
        codes = np.stack([np.searchsorted(b, r) for b, r in zip(bks, w2d)])
        cb, n = pack_books(bks)
        widths = np.repeat(width(n), w2d.shape[1])
        return LUT(shape=w2d.shape, bits=bits, per_channel=True, codebook=cb, book_len=n,
                   codes=np.concatenate([pack_bits(codes, widths), spare]))
    codes = np.searchsorted(bks[0], w2d)
    return LUT(shape=w2d.shape, bits=bits, per_channel=False, codebook=bks[0].astype(np.int8), book_len=None,
               codes=np.concatenate([pack_bits(codes, bits), spare]))


def decode(lut: LUT) -> np.ndarray:
    rows, cols = lut.shape
    if not lut.per_channel:
        codes = unpack_bits(lut.codes, lut.bits, rows * cols).reshape(rows, cols)
        return lut.codebook[codes].astype(np.int8)
    n = lut.book_len.astype(np.int64)
    codes = unpack_bits(lut.codes, np.repeat(width(n), cols), rows * cols).reshape(rows, cols)
    start = np.cumsum(n) - n
    if np.any(codes >= n[:, None]):
        raise ValueError("a LUT code points past its row's book")
    return unpack_books(lut.codebook, n)[start[:, None] + codes].astype(np.int8)


def sizes(w2d: np.ndarray, bits: int, per_channel: bool = False) -> dict:
    """Bytes of each part without encoding. Keys: codes, codebook, book_len,
    total (bytes); codebook_entries (all books), max_book (largest book).
    Raises ValueError when a book needs more than 2^bits values."""
    w2d = np.asarray(w2d)
    rows, cols = w2d.shape
    if per_channel:
        n = row_distinct(w2d)
        check_fits(int(n.max(initial=0)), bits, True, False)
        s = {"codes": packed_bytes(cols * int(width(n).sum())) + CODE_SPARE, "codebook": int(n.sum()),
             "book_len": rows}
        n_max = int(n.max(initial=0))
    else:
        n_max = distinct(w2d, False)
        check_fits(n_max, bits, False, False)
        s = {"codes": packed_bytes(rows * cols * bits) + CODE_SPARE, "codebook": n_max, "book_len": 0}
    return {**s, "total": sum(s.values()), "codebook_entries": s["codebook"], "max_book": n_max}
