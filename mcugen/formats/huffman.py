"""Canonical, length-limited Huffman coding of byte streams.

mcugen Huffman-codes the 8-bit constant tables a layer's kernel reads
(dense weights, CSR values and index deltas, packed LUT indices): whatever
the storage format, the decoder restores exactly those bytes, so Huffman
is one stage on top of any format and the kernels never see it.

Codes are limited to MAX_BITS bits (package-merge, optimal under the limit)
so the C decoder (runtime_c/src/mcu_huffman_decode.c) can decode the first
`fast_bits` bits of a code with one table lookup and the rest by canonical
order with a bounded loop. A stream is stored as the code lengths
(`count[l]` = number of codes of length l) plus the symbols in canonical
order (by length, then value), and the bits MSB first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_BITS = 12  # mcu_huffman.h MCU_HUFF_MAX_BITS
FAST_BITS = 8  # narrowest lookup table the generator picks (work table 2 << 8 = 512 bytes) …
FAST_BITS_MAX = 10  # … and widest (MCU_HUFF_FAST_BITS_MAX: 2 KiB), when narrower ones miss codes
FAST_COVER = 0.98  # share of the symbols a lookup table should decode in one step
# sizeof(mcu_huffman_stream_t) on a 32-bit target: 4 pointers/words x 5 + uint16 + uint8 + pad
STRUCT_BYTES = 24


# the C decoder's return codes (mcu_huffman.h)
OK, ERR_ARG, ERR_TABLE, ERR_CODE, ERR_LENGTH = 0, 1, 2, 3, 4


class HuffmanError(ValueError):
    """A coded stream that does not decode; .code is mcu_huffman_decode's return code."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


# ---- entropy ------------------------------------------------------------------------


def histogram(data) -> np.ndarray:
    """Occurrences of each byte value 0..255."""
    b = np.ascontiguousarray(data).view(np.uint8).ravel()
    return np.bincount(b, minlength=256).astype(np.int64)


def entropy_bits(data=None, counts=None) -> float:
    """The empirical (zero-order) entropy bound of a symbol stream, in bits for
    the whole stream: n * H(p) with p the symbols' observed frequencies. No
    prefix code of the individual symbols can be shorter."""
    c = histogram(data) if counts is None else np.asarray(counts, dtype=np.int64)
    c = c[c > 0]
    n = int(c.sum())
    if n == 0:
        return 0.0
    return float(-(c * np.log2(c / n)).sum())


def entropy_per_symbol(data) -> float:
    n = np.asarray(data).size
    return entropy_bits(data) / n if n else 0.0


# ---- code construction --------------------------------------------------------------


def code_lengths(counts, max_bits: int = MAX_BITS) -> np.ndarray:
    """Optimal prefix-code lengths with no code longer than `max_bits`
    (package-merge, Larmore & Hirschberg). Unused symbols get 0; a lone
    symbol gets length 1 (the decoder reads one bit per symbol)."""
    counts = np.asarray(counts, dtype=np.int64)
    lengths = np.zeros(len(counts), dtype=np.int64)
    syms = np.flatnonzero(counts > 0)
    if len(syms) == 0:
        return lengths
    if len(syms) == 1:
        lengths[syms[0]] = 1
        return lengths
    if len(syms) > (1 << max_bits):
        raise ValueError(f"{len(syms)} symbols cannot have codes of at most {max_bits} bits")
    order = syms[np.argsort(counts[syms], kind="stable")]
    n = len(order)
    leaf_w = counts[order]
    leaf_v = np.eye(n, dtype=np.int32)  # how often each leaf is inside an item
    cur_w, cur_v = leaf_w, leaf_v
    for _ in range(max_bits - 1):
        m = len(cur_w) // 2
        pk_w = cur_w[0:2 * m:2] + cur_w[1:2 * m:2]
        pk_v = cur_v[0:2 * m:2] + cur_v[1:2 * m:2]
        all_w = np.concatenate([leaf_w, pk_w])
        all_v = np.concatenate([leaf_v, pk_v])
        o = np.argsort(all_w, kind="stable")
        cur_w, cur_v = all_w[o], all_v[o]
    lengths[order] = cur_v[:2 * n - 2].sum(axis=0)
    return lengths


def canonical_codes(lengths) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(codes per symbol, count per length 0..MAX_BITS, symbols in canonical
    order). Canonical: shorter codes first, within a length by symbol value,
    each code the previous plus one (shifted left when the length grows)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    if lengths.max(initial=0) > MAX_BITS:
        raise ValueError(f"code length {int(lengths.max())} exceeds {MAX_BITS}")
    count = np.bincount(lengths, minlength=MAX_BITS + 1)[:MAX_BITS + 1].astype(np.int64)
    count[0] = 0
    syms = np.flatnonzero(lengths > 0)
    canon = syms[np.lexsort((syms, lengths[syms]))]
    codes = np.zeros(len(lengths), dtype=np.int64)
    code = 0
    first = np.zeros(MAX_BITS + 1, dtype=np.int64)
    for l in range(1, MAX_BITS + 1):
        code = (code + count[l - 1]) << 1
        first[l] = code
    nxt = first.copy()
    for s in canon:
        l = lengths[s]
        codes[s] = nxt[l]
        nxt[l] += 1
    return codes, count.astype(np.uint16), canon.astype(np.uint8)


def coded_bits(counts, max_bits: int = MAX_BITS) -> int:
    """Bits of the coded stream (without tables) for these symbol counts."""
    counts = np.asarray(counts, dtype=np.int64)
    return int((counts * code_lengths(counts, max_bits)).sum())


# ---- streams ------------------------------------------------------------------------


@dataclass(frozen=True)
class HuffmanStream:
    """One coded table: what the generator writes to flash for it."""

    data: np.ndarray  # uint8, the code bits MSB first, zero-padded to a byte
    nbits: int
    n: int  # decoded bytes
    count: np.ndarray  # uint16[MAX_BITS + 1]: codes of each length
    symbols: np.ndarray  # uint8, canonical order
    fast_bits: int
    entropy_bits: float  # empirical entropy of the decoded bytes (whole stream)

    @property
    def coded_bytes(self) -> int:
        return int(self.data.size)

    @property
    def table_bytes(self) -> int:
        """Flash for the code description: counts, symbols and the stream struct."""
        return 2 * (MAX_BITS + 1) + int(self.symbols.size) + STRUCT_BYTES

    @property
    def total_bytes(self) -> int:
        return self.coded_bytes + self.table_bytes

    @property
    def work_bytes(self) -> int:
        """RAM the decoder needs for its lookup table while it runs."""
        return work_bytes(self.fast_bits)

    @property
    def max_len(self) -> int:
        nz = np.flatnonzero(self.count)
        return int(nz[-1]) if nz.size else 0


def work_bytes(fast_bits: int) -> int:
    return 2 << fast_bits  # MCU_HUFF_WORK_BYTES


def pick_fast_bits(counts, lengths) -> int:
    """The narrowest lookup table (FAST_BITS..FAST_BITS_MAX bits, no wider
    than the longest code) through which FAST_COVER of the symbols decode in
    one step: codes longer than the table take the slower canonical search."""
    counts, lengths = np.asarray(counts), np.asarray(lengths)
    max_len = int(lengths.max(initial=1))
    total = max(int(counts.sum()), 1)
    for k in range(min(FAST_BITS, max_len), min(FAST_BITS_MAX, max_len) + 1):
        if counts[lengths <= k].sum() >= FAST_COVER * total:
            return max(k, 1)
    return max(min(FAST_BITS_MAX, max_len), 1)


def encode(data, max_bits: int = MAX_BITS, fast_bits: int | None = None) -> HuffmanStream:
    """Codes the bytes of `data` (any dtype, its raw bytes in memory order);
    fast_bits None picks the lookup-table width (pick_fast_bits)."""
    b = np.ascontiguousarray(data).view(np.uint8).ravel()
    counts = histogram(b)
    lengths = code_lengths(counts, max_bits)
    codes, count, canon = canonical_codes(lengths)
    sl = lengths[b]
    total = int(sl.sum())
    if total:
        sc = codes[b]
        starts = np.cumsum(sl) - sl
        owner = np.repeat(np.arange(b.size), sl)
        j = np.arange(total) - starts[owner]
        bits = ((sc[owner] >> (sl[owner] - 1 - j)) & 1).astype(np.uint8)
        packed = np.packbits(bits)
    else:
        packed = np.zeros(0, np.uint8)
    max_len = int(lengths.max(initial=0))
    fb = pick_fast_bits(counts, lengths) if fast_bits is None else max(1, min(fast_bits, max_len, FAST_BITS_MAX))
    return HuffmanStream(data=packed, nbits=total, n=int(b.size), count=count, symbols=canon, fast_bits=fb,
                         entropy_bits=entropy_bits(counts=counts))


def size(data, max_bits: int = MAX_BITS) -> tuple[int, int]:
    """(coded bytes, table bytes) of encode(data) without building the stream."""
    counts = histogram(data)
    return (coded_bits(counts, max_bits) + 7) // 8, 2 * (MAX_BITS + 1) + int((counts > 0).sum()) + STRUCT_BYTES


def decode(s: HuffmanStream) -> np.ndarray:
    """Python mirror of mcu_huffman_decode: the same checks in the same order,
    the same error codes (HuffmanError.code)."""
    count = np.asarray(s.count, dtype=np.int64)
    data = np.asarray(s.data, dtype=np.uint8)
    if count.size != MAX_BITS + 1:
        raise HuffmanError(ERR_ARG, f"code table: {count.size} counts, not {MAX_BITS + 1}")
    if s.nbits > 8 * data.size:
        raise HuffmanError(ERR_ARG, "stream: more bits declared than bytes stored")
    if not 1 <= s.fast_bits <= FAST_BITS_MAX:
        raise HuffmanError(ERR_TABLE, "code table: fast_bits out of range")
    nsym = int(np.asarray(s.symbols).size)
    if not 1 <= nsym <= 256 or count[0] != 0:
        raise HuffmanError(ERR_TABLE, "code table: 1..256 symbols and count[0] == 0 needed")
    code, first, first_idx, idx = 0, {}, {}, 0
    for l in range(1, MAX_BITS + 1):
        code <<= 1
        first[l], first_idx[l] = code, idx
        if count[l] > (1 << l) - code:
            raise HuffmanError(ERR_TABLE, "code table: over-subscribed code lengths")
        code += int(count[l])
        idx += int(count[l])
    if idx != nsym:
        raise HuffmanError(ERR_TABLE, "code table: counts do not add up to the number of symbols")
    # one entry per MAX_BITS-bit window: code length << 8 | symbol, 0 = no code
    table = np.zeros(1 << MAX_BITS, dtype=np.int64)
    for l in range(1, MAX_BITS + 1):
        for j in range(int(count[l])):
            lo = (first[l] + j) << (MAX_BITS - l)
            table[lo:lo + (1 << (MAX_BITS - l))] = (l << 8) | int(s.symbols[first_idx[l] + j])
    bits = np.unpackbits(data)
    bits = np.concatenate([bits, np.zeros(MAX_BITS, np.uint8)])  # the C decoder reads zeros past the end
    nb = bits.size - MAX_BITS
    win = np.zeros(nb, dtype=np.int64)  # the value of the MAX_BITS bits starting at each position
    for j in range(MAX_BITS):
        win = (win << 1) | bits[j:j + nb]
    entries = table[win] if nb else win
    out = np.zeros(s.n, dtype=np.uint8)
    pos = 0
    for i in range(s.n):
        # past the data the C decoder reads zeros, where the first canonical code (all zeros) always matches
        e = int(entries[pos]) if pos < nb else int(table[0])
        if e == 0:
            raise HuffmanError(ERR_CODE, "stream: a bit pattern that is no code")
        pos += e >> 8
        if pos > s.nbits:
            raise HuffmanError(ERR_LENGTH, "stream: ran out of bits")
        out[i] = e & 0xFF
    if pos != s.nbits:
        raise HuffmanError(ERR_LENGTH, "stream: bits left over after the last symbol")
    return out


def redundancy(s: HuffmanStream) -> float:
    """Coded bits over the entropy bound, minus one (0.02 = 2 % above)."""
    return s.nbits / s.entropy_bits - 1.0 if s.entropy_bits > 0 else math.inf
