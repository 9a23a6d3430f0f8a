"""CSR sparse, lookup-table and CSR+LUT weights: encoders round-trip, byte
sizes match the encoded tables, and the compressed C kernels match the
numpy reference bit for bit.

The kernel test compiles ONE program per configuration holding every random
one-operator case (weights pruned and/or clustered), each rendered with
exact-size arrays so the sanitizers see any over-read; the program writes
all outputs to a file compared here with mcugen.reference. Whole models
(tests/fixtures/compressed) go through mcugen's generator with the
compressed lowering patched in and are compared with TFLM's outputs.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import single_op as so
from mcugen import formats
from mcugen.codegen import generate, lower_compressed
from mcugen.codegen.lower_compressed import LOWER_FORMATS
from mcugen.formats import csr, lut
from mcugen.plan.formats import WeightFormat
from mcugen.reference import interpreter

ROOT = Path(__file__).resolve().parents[1]
INC, SRC = ROOT / "runtime_c" / "include", ROOT / "runtime_c" / "src"
FIXTURES = ROOT / "tests" / "fixtures" / "compressed"
WARN = ["-std=c99", "-Wall", "-Wextra", "-Werror"]
CONFIGS = {
    "plain": (["-O2"], "double"),
    "sanitized": (["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                   "-fno-omit-frame-pointer"], "double"),
    "single_rounding": (["-O2", "-DMCU_SINGLE_ROUNDING"], "single"),
}
gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="no host gcc")


# ---- weights with structure ------------------------------------------------------------


def prune(rng, w: np.ndarray, density: float) -> np.ndarray:
    """Keep each weight with probability `density`; kept weights stay non-zero."""
    w = w.copy()
    w[w == 0] = 1
    w[rng.random(w.shape) >= density] = 0
    return w


def cluster(rng, w2d: np.ndarray, n: int, per_row: bool) -> np.ndarray:
    """Replace each weight by one of n distinct values (per tensor or per row);
    zeros stay zero, so n counts the non-zero values a CSR+LUT book holds."""
    out = np.zeros_like(w2d)
    for r in range(w2d.shape[0]) if per_row else [None]:
        sel = (slice(None) if r is None else r)
        book = rng.choice(np.setdiff1d(np.arange(-128, 128), [0]), size=n, replace=False)
        v = book[rng.integers(0, n, size=np.shape(w2d[sel]))]
        out[sel] = np.where(w2d[sel] != 0, v, 0)
    return out.astype(np.int8)


def set_weights(g, w2d: np.ndarray) -> None:
    """Store a [rows, cols] matrix back in the operator's weight layout."""
    op = g.operators[0]
    t = g.t(op.inputs[1])
    if op.kind == "DEPTHWISE_CONV_2D":
        t.data = np.ascontiguousarray(w2d.T).reshape(t.shape).astype(np.int8)
    else:
        t.data = w2d.reshape(t.shape).astype(np.int8)
    assert np.array_equal(formats.weight_matrix(g, op), w2d)


def structured(rng, g, density: float, n_values: int | None = None, per_row: bool = False):
    w = formats.weight_matrix(g, g.operators[0])
    w = prune(rng, w, density)
    if n_values is not None:
        w = cluster(rng, w, n_values, per_row)
    set_weights(g, w)
    return g


# ---- encoders ------------------------------------------------------------------------------


def _random_matrices(rng):
    yield np.zeros((3, 40), np.int8)  # all-zero
    yield np.zeros((1, 1), np.int8)
    w = np.zeros((4, 600), np.int8)
    w[0, [0, 599]] = [5, -7]  # gap of 598: overflows 8-bit codes twice
    w[2, 300] = 1  # rows 1 and 3 empty
    yield w
    yield rng.integers(-128, 128, size=(2, 17)).astype(np.int8)  # dense
    for _ in range(60):
        rows, cols = int(rng.integers(1, 25)), int(rng.integers(1, 400))
        w = prune(rng, rng.integers(-128, 128, size=(rows, cols)).astype(np.int8),
                  float(rng.choice([0.0, 0.01, 0.05, 0.08, 0.3, 0.9, 1.0])))
        if rng.random() < 0.3:
            w[rng.integers(rows)] = 0
        if rng.random() < 0.5:
            w = cluster(rng, w, int(rng.choice([1, 2, 3, 8, 16, 17, 100])), bool(rng.integers(2)))
        yield w


def test_csr_round_trip_and_sizes():
    rng = np.random.default_rng(1)
    for w in _random_matrices(rng):
        for bits in (4, 8):
            e = csr.encode(w, bits)
            assert np.array_equal(csr.decode(e), w)
            s = csr.sizes(w, bits)
            assert (s["row_len"], s["index"], s["values"]) == (e.row_len.nbytes, e.idx.size, e.values.size)
            assert s["total"] == e.row_len.nbytes + e.idx.size + e.values.size
            assert s["nonzeros"] == np.count_nonzero(w) and s["fillers"] == e.fillers
            assert e.idx.size == int(e.row_len.astype(np.int64).sum())


def test_csr_fillers_cover_long_gaps():
    w = np.zeros((2, 100), np.int8)
    w[0, [14, 15, 31, 99]] = [1, 2, 3, 4]  # gaps 14, 0, 15, 67
    e = csr.encode(w, 4)
    codes = lut.unpack_bits(e.idx, 4, e.n_codes).tolist()
    # code k: k columns on; 0: a filler, 15 columns on. Gap 15 = one filler
    # then code 1; gap 67 = 4 * 15 + 7: four fillers then code 8
    assert codes == [15, 1, 0, 1, 0, 0, 0, 0, 8] + [0]  # + the pad to an even count
    assert e.row_len.tolist() == [5, 0]
    assert csr.sizes(w, 8)["fillers"] == 0
    assert csr.encode(w, 8).idx.tolist() == [15, 1, 16, 68]


def test_csr_row_lengths_widen():
    w = np.ones((3, 300), np.int8)
    assert csr.encode(w, 8).row_len.dtype == np.uint16 and csr.sizes(w, 8)["row_len"] == 6
    assert csr.encode(w, 4).row_len.dtype == np.uint8 and csr.sizes(w, 4)["row_len"] == 3  # 150 bytes a row
    assert csr.encode(np.ones((1, 70000), np.int8), 8).row_len.dtype == np.uint32


def test_lut_round_trip_every_width():
    rng = np.random.default_rng(2)
    for bits in range(1, 8):
        for per_channel in (False, True):
            rows, cols = int(rng.integers(1, 12)), int(rng.integers(1, 90))
            n = 1 << bits  # a full book: the largest code occurs
            w = cluster(rng, np.ones((rows, cols), np.int8), n, per_channel)
            w[0, 0] = 0 if rng.random() < 0.5 else w[0, 0]
            for b in range(bits, 8):
                if not formats.fits(w, WeightFormat("lut", lut_bits=b, lut_per_channel=per_channel)):
                    continue
                e = lut.encode(w, b, per_channel)
                assert np.array_equal(lut.decode(e), w)
                s = lut.sizes(w, b, per_channel)
                assert (s["codes"], s["codebook"]) == (e.codes.size, e.codebook.size)
                assert s["book_len"] == (rows if per_channel else 0)
            # CSR+LUT books hold only the non-zeros
            for ib in (4, 8):
                b = lut.min_bits(w, per_channel, nonzero_only=True)
                e = csr.encode_lut(w, ib, b, per_channel)
                assert np.array_equal(csr.decode(e), w)
                s = csr.sizes_lut(w, ib, b, per_channel)
                assert (s["codes"], s["codebook"], s["index"]) == (e.codes.size, e.codebook.size, e.idx.size)
                assert 0 not in e.codebook.tolist() or not np.any(w)


def test_col_map_pairs_round_trip():
    rng = np.random.default_rng(3)
    for keep in ([True], [False, True], [True] * 300 + [False] * 10 + [True], [False] * 600 + [True] * 2,
                 [False, True] * 40 + [False] * 3):
        keep = np.array(keep)
        pairs = formats.col_map_pairs(keep)
        assert pairs.dtype == np.uint8 and pairs.size % 2 == 0
        assert np.array_equal(formats.col_map_columns(pairs), np.flatnonzero(keep))
    # runs past 255 continue in the next pair: a kept run of 300 after a skip of 600
    keep = np.array([False] * 600 + [True] * 300)
    assert formats.col_map_pairs(keep).tolist() == [255, 0, 255, 0, 90, 255, 0, 45]
    for _ in range(50):
        keep = rng.random(int(rng.integers(1, 900))) < rng.choice([0.02, 0.5, 0.98])
        assert np.array_equal(formats.col_map_columns(formats.col_map_pairs(keep)), np.flatnonzero(keep))


def test_all_zero_columns_are_left_out():
    """Every format drops the columns no row uses when that saves bytes; the
    map is counted in the sizes and decoding restores the full width."""
    rng = np.random.default_rng(4)
    for trial in range(40):
        rows, cols = int(rng.integers(1, 30)), int(rng.integers(2, 700))
        w = prune(rng, rng.integers(-128, 128, size=(rows, cols)).astype(np.int8),
                  float(rng.choice([0.05, 0.3, 1.0])))
        w[:, rng.random(cols) < rng.choice([0.0, 0.1, 0.6])] = 0
        if trial % 3 == 0:
            w[:, : cols // 3] = 0  # a long leading run
        if rng.random() < 0.5:
            w = cluster(rng, w, int(rng.choice([2, 9, 30])), bool(rng.integers(2)))
        for f in (WeightFormat("csr", index_bits=4), WeightFormat("csr", index_bits=8),
                  WeightFormat("lut", lut_bits=7, lut_per_channel=True),
                  WeightFormat("csr_lut", index_bits=4, lut_bits=7, lut_per_channel=True),
                  WeightFormat("csr_lut", index_bits=8, lut_bits=7, lut_per_channel=False)):
            if not formats.fits(w, f):
                continue
            e, s = formats.encode(w, f), formats.sizes(w, f)
            assert np.array_equal(formats.decode(e), w)
            parts = [getattr(e, a, None) for a in ("row_len", "idx", "values", "codes", "codebook", "book_len",
                                                   "colmap")]
            assert s["total"] == sum(x.nbytes for x in parts if x is not None), (f, s)
            plain = formats.sizes(w, f, strip=False)
            keep = formats.kept_columns(w)
            if e.colmap is None:
                assert s == plain
            else:
                assert keep is not None and e.shape[1] == keep.sum() and e.in_cols == cols
                assert s["col_map"] == e.colmap.size > 0
            if f.kind == "lut":
                assert s["total"] <= plain["total"]
                if trial % 3 == 0 and rows >= 4:  # a LUT row codes every column: a long zero run pays
                    assert e.colmap is not None and s["total"] < plain["total"]
            assert s["total"] <= plain["total"] + s["col_map"]


def test_mlp_first_layer_drops_its_unused_pixels():
    """145 of fc1's 784 inputs are never read by the pruned MNIST MLP: CSR
    leaves them out, which shortens the gaps (fewer fillers)."""
    graph, _, _ = _fixture("mlp_prune92_cluster32")
    op = graph.operators[0]
    w = formats.weight_matrix(graph, op)
    for f in (WeightFormat("csr", index_bits=4), WeightFormat("csr_lut", index_bits=4, lut_bits=5,
                                                               lut_per_channel=True)):
        e = formats.encode(w, f)
        assert e.shape == (300, 784 - 145) and e.in_cols == 784
        plain = formats.sizes(w, f, strip=False)
        stripped = formats.sizes(w, f)
        assert stripped["fillers"] < 0.85 * plain["fillers"]
        assert stripped["total"] <= plain["total"] - 1000
    # 8-bit codes take a byte a value either way, but their entropy falls
    e8 = formats.encode(w, WeightFormat("csr", index_bits=8))
    assert e8.colmap is not None


def test_lut_sizes_rows_to_their_own_books():
    # row 0 has 2 values (1-bit codes), row 1 has 5 (3-bit codes), row 2 one (0 bits)
    w = np.array([[1, 2, 1, 2, 1, 2, 1, 2], [-3, 4, 5, 6, 7, 7, 7, 7], [9] * 8], np.int8)
    s = lut.sizes(w, 3, per_channel=True)
    # + the spare bytes the C decoders may read ahead into
    assert s["codes"] == (8 * 1 + 8 * 3 + 0 + 7) // 8 + lut.CODE_SPARE == 5
    assert s["codebook"] == 2 + 5 + 1 and s["max_book"] == 5
    e = lut.encode(w, 3, per_channel=True)
    assert e.book_len.tolist() == [2, 5, 1] and np.array_equal(lut.decode(e), w)
    assert lut.sizes(w, 3)["codebook"] == 8  # per tensor: {-3, 1, 2, 4, 5, 6, 7, 9}
    with pytest.raises(ValueError):
        lut.sizes(w, 2)
    with pytest.raises(ValueError):
        lut.encode(w, 2, per_channel=True)
    assert not formats.fits(w, WeightFormat("lut", lut_bits=2, lut_per_channel=True))
    assert formats.sizes(w, WeightFormat("csr_lut", index_bits=4, lut_bits=3, lut_per_channel=True))["codebook"] == 8


# ---- kernels ---------------------------------------------------------------------------


def _fmt(kind, rng, w2d, per_channel=None, index_bits=None):
    pc = bool(rng.integers(2)) if per_channel is None else per_channel
    ib = int(rng.choice([4, 8])) if index_bits is None else index_bits
    if kind == "csr":
        return WeightFormat("csr", index_bits=ib)
    b = lut.min_bits(w2d, pc, nonzero_only=kind == "csr_lut")
    b = int(rng.integers(b, 8)) if rng.random() < 0.3 else b  # sometimes wider than needed
    return WeightFormat(kind, index_bits=ib if kind == "csr_lut" else 0, lut_bits=b, lut_per_channel=pc)


def _cases():
    """(name, graph, WeightFormat)."""
    rng = np.random.default_rng(20250101)
    C = []
    fc, conv, dw = so.fully_connected, so.conv2d, so.depthwise

    def add(name, g, kind, density=1.0, n_values=None, per_row=False, empty_rows=(), zero_cols=(), limit=None,
            **fmt_kw):
        g = structured(rng, g, density, n_values, per_row)
        w = formats.weight_matrix(g, g.operators[0])
        if len(empty_rows) or len(zero_cols):
            w = w.copy()
            w[list(empty_rows)] = 0
            w[:, list(zero_cols)] = 0
            set_weights(g, w)
        fmt = _fmt(kind, rng, w, **fmt_kw)
        if limit == "pix4_no_cache":  # room for four columns but not for the decoded cache
            limit = lower_compressed.pix4_scratch(formats.encode(w, fmt).shape[1])
        if limit is not None:
            LIMITS[name] = limit
        C.append((name, g, fmt))

    def gain(d):
        return 1.0 / np.sqrt(max(d, 0.02))  # outputs keep their spread when most weights are pruned

    # fixed cases for the edges
    add("fc_csr4_long_gaps", fc(rng, in_depth=300, out_depth=12, gain=gain(0.02)), "csr", 0.02, index_bits=4)
    add("fc_csr8_overflow", fc(rng, in_depth=700, out_depth=3, gain=gain(0.004)), "csr", 0.004, index_bits=8)
    add("fc_csr_all_zero", fc(rng, in_depth=40, out_depth=5), "csr", 0.0)
    add("fc_csr_dense", fc(rng, in_depth=33, out_depth=7, batches=3), "csr", 1.0, index_bits=4)
    add("fc_csr_weight_zp", fc(rng, batches=3, in_depth=29, out_depth=6, weight_zp=5, gain=gain(0.3)), "csr", 0.3)
    add("fc_csr_4d_input", fc(rng, in_depth=24, out_depth=6, input_shape=(1, 2, 3, 4)), "csr", 0.5)
    add("fc_csr_rowlen16", fc(rng, in_depth=800, out_depth=9, gain=1.0), "csr", 1.0, index_bits=8)
    add("fc_csr_rowlen32", fc(rng, in_depth=66000, out_depth=1, gain=0.5), "csr", 1.0, index_bits=8)
    add("fc_lut4_pc_fast", fc(rng, in_depth=64, out_depth=9, per_channel=True), "lut", 1.0, 16, True, per_channel=True)
    add("fc_lut4_pt_odd", fc(rng, batches=2, in_depth=31, out_depth=5), "lut", 1.0, 15, False, per_channel=False)
    add("fc_lut1_pt", fc(rng, in_depth=50, out_depth=4, gain=0.5), "lut", 1.0, 2, False, per_channel=False)
    add("fc_lut7_pc", fc(rng, in_depth=200, out_depth=6, per_channel=True), "lut", 1.0, 128, True, per_channel=True)
    add("fc_lut_pc_mixed", fc(rng, in_depth=20, out_depth=8, per_channel=True), "lut", 0.4, 3, True, per_channel=True)
    add("fc_lut6_pt", fc(rng, in_depth=70, out_depth=5), "lut", 1.0, 40, False, per_channel=False)
    add("fc_lut3_pc_odd", fc(rng, in_depth=13, out_depth=7), "lut", 1.0, 5, True, per_channel=True)
    add("fc_csrlut6_pc", fc(rng, in_depth=150, out_depth=6, gain=gain(0.5)), "csr_lut", 0.5, 33, True,
        per_channel=True)
    add("fc_csrlut2_pt", fc(rng, batches=2, in_depth=40, out_depth=5, gain=gain(0.3)), "csr_lut", 0.3, 3, False,
        per_channel=False)
    add("fc_csrlut_mlp_like", fc(rng, in_depth=300, out_depth=20, per_channel=True, gain=gain(0.08)), "csr_lut",
        0.08, 17, True, per_channel=True, index_bits=4)
    add("fc_csrlut_empty_rows", fc(rng, batches=3, in_depth=90, out_depth=6, gain=gain(0.03)), "csr_lut", 0.03, 5,
        False, per_channel=True)
    add("fc_csrlut_last_row_empty", fc(rng, in_depth=40, out_depth=5, gain=gain(0.4)), "csr_lut", 0.4, 6, True,
        empty_rows=(0, 4), per_channel=True)
    add("dw_csrlut_last_channel_empty", dw(rng, in_hw=(5, 6), in_c=4), "csr_lut", 0.6, 3, True, empty_rows=(3,),
        per_channel=True)
    add("conv_csr_last_channel_empty", conv(rng, in_hw=(5, 5), in_c=3, out_c=4), "csr", 0.5, empty_rows=(3,))
    add("conv1x1_csr", conv(rng, in_hw=(5, 7), in_c=24, out_c=16, kernel=(1, 1), gain=gain(0.2)), "csr", 0.2)
    add("conv1x1_s2_csrlut", conv(rng, in_hw=(7, 5), in_c=9, out_c=5, kernel=(1, 1), stride=(2, 2)), "csr_lut",
        0.5, 6, True)
    add("conv3x3_csr4_pad", conv(rng, in_hw=(9, 8), in_c=6, out_c=8, gain=gain(0.1)), "csr", 0.1, index_bits=4)
    add("conv3x3_zp_edges", conv(rng, in_hw=(5, 5), in_c=3, out_c=4, in_zp=-128, out_zp=127), "csr", 0.6)
    add("conv5x5_valid_lut", conv(rng, in_hw=(10, 9), in_c=2, out_c=6, kernel=(5, 5), padding="VALID"), "lut",
        1.0, 9, True)
    add("conv_grouped_csr", conv(rng, in_hw=(6, 6), in_c=8, out_c=6, groups=2, gain=gain(0.3)), "csr", 0.3)
    add("conv_grouped_1x1_lut", conv(rng, in_hw=(4, 5), in_c=6, out_c=9, kernel=(1, 1), groups=3), "lut", 1.0, 4)
    add("conv_dilated_csrlut", conv(rng, in_hw=(9, 9), in_c=3, out_c=4, dilation=(2, 2)), "csr_lut", 0.4, 7, False)
    add("conv_1xN_csr", conv(rng, in_hw=(2, 13), in_c=5, out_c=3, kernel=(1, 3), stride=(1, 2)), "csr", 0.5)
    add("conv_batch2_lut1", conv(rng, batches=2, in_hw=(4, 3), in_c=4, out_c=3, gain=0.4), "lut", 1.0, 2, False)
    add("dw3x3_csr", dw(rng, in_hw=(7, 9), in_c=8, gain=gain(0.3)), "csr", 0.3)
    add("dw3x3_s2_lut_pc", dw(rng, in_hw=(10, 9), in_c=5, stride=(2, 2)), "lut", 0.7, 4, True, per_channel=True)
    add("dw5x5_csrlut", dw(rng, in_hw=(8, 7), in_c=6, kernel=(5, 5)), "csr_lut", 0.3, 3, True)
    add("dw_dm2_csr8", dw(rng, in_hw=(6, 6), in_c=3, depth_multiplier=2), "csr", 0.5, index_bits=8)
    add("dw_dilated_lut", dw(rng, in_hw=(9, 9), in_c=5, dilation=(2, 2)), "lut", 1.0, 8, False)
    add("dw_all_zero_csr", dw(rng, in_hw=(4, 4), in_c=3), "csr", 0.0)
    # random shapes, densities, books
    kinds = ("csr", "lut", "csr_lut")
    for k in range(12):
        d = float(rng.choice([0.0, 0.01, 0.05, 0.1, 0.3, 0.7, 1.0]))
        kind = kinds[k % 3]
        nv = None if kind == "csr" else int(rng.choice([1, 2, 3, 5, 16, 30, 64]))
        add(f"fc_rand{k}", fc(rng, batches=int(rng.integers(1, 4)), in_depth=int(rng.integers(1, 200)),
                              out_depth=int(rng.integers(1, 20)), per_channel=bool(rng.integers(2)),
                              bias=bool(rng.integers(4)), gain=gain(d)), kind, d, nv, bool(rng.integers(2)))
    for k in range(9):
        d = float(rng.choice([0.0, 0.05, 0.2, 0.5, 1.0]))
        kind = kinds[k % 3]
        nv = None if kind == "csr" else int(rng.choice([1, 2, 4, 12, 33]))
        kh, kw = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        groups = int(rng.choice([1, 1, 2]))
        add(f"conv_rand{k}", conv(
            rng, batches=int(rng.integers(1, 3)), in_hw=(int(rng.integers(kh, 10)), int(rng.integers(kw, 10))),
            in_c=groups * int(rng.integers(1, 7)), out_c=groups * int(rng.integers(1, 7)), kernel=(kh, kw),
            stride=(int(rng.integers(1, 3)), int(rng.integers(1, 3))), padding=str(rng.choice(["SAME", "VALID"])),
            groups=groups, per_channel=bool(rng.integers(2)), gain=gain(d),
            activation_fn=str(rng.choice(["NONE", "RELU", "RELU6"]))), kind, d, nv, bool(rng.integers(2)))
    for k in range(9):
        d = float(rng.choice([0.0, 0.1, 0.3, 0.6, 1.0]))
        kind = kinds[k % 3]
        nv = None if kind == "csr" else int(rng.choice([1, 2, 5, 9]))
        kh, kw = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        add(f"dw_rand{k}", dw(
            rng, batches=int(rng.integers(1, 3)), in_hw=(int(rng.integers(kh, 11)), int(rng.integers(kw, 11))),
            in_c=int(rng.integers(1, 9)), depth_multiplier=int(rng.integers(1, 3)), kernel=(kh, kw),
            stride=(int(rng.integers(1, 3)), int(rng.integers(1, 3))), padding=str(rng.choice(["SAME", "VALID"])),
            per_channel=bool(rng.integers(2)), gain=gain(d)), kind, d, nv, bool(rng.integers(2)))
    # columns no row uses (left out, then gathered), and each way of passing over the weights:
    # four pixels / batch rows a pass with and without the decoded cache, or one (a small scratch limit)
    add("fc_zero_cols_csr4", fc(rng, in_depth=120, out_depth=10, gain=gain(0.3)), "csr", 0.3,
        zero_cols=[*range(20), *range(50, 61), *range(105, 120)], index_bits=4)
    add("fc_zero_runs_past_255_csr8", fc(rng, in_depth=900, out_depth=4, gain=gain(0.2)), "csr", 0.2,
        zero_cols=[*range(300), *range(330, 610)], index_bits=8)
    add("fc_zero_cols_lut_pc", fc(rng, in_depth=64, out_depth=7, per_channel=True), "lut", 1.0, 9, True,
        zero_cols=range(0, 64, 3), per_channel=True)
    add("fc_b6_zero_cols_csrlut_pc", fc(rng, batches=6, in_depth=100, out_depth=9, per_channel=True,
                                        gain=gain(0.2)), "csr_lut", 0.2, 7, True, zero_cols=range(40, 70),
        per_channel=True, index_bits=4)
    add("fc_b5_csrlut_pt", fc(rng, batches=5, in_depth=77, out_depth=6, gain=gain(0.3)), "csr_lut", 0.3, 5, False,
        per_channel=False, index_bits=8)
    add("fc_b5_lut_pc", fc(rng, batches=5, in_depth=50, out_depth=5, per_channel=True), "lut", 1.0, 4, True,
        per_channel=True)
    add("fc_b7_lut_pt", fc(rng, batches=7, in_depth=33, out_depth=4), "lut", 1.0, 6, False, per_channel=False)
    add("fc_b4_csr4", fc(rng, batches=4, in_depth=90, out_depth=5, weight_zp=-3, gain=gain(0.3)), "csr", 0.3,
        index_bits=4)
    add("fc_b3_pix1_csr", fc(rng, batches=3, in_depth=60, out_depth=5, gain=gain(0.4)), "csr", 0.4,
        zero_cols=range(10), limit=0)
    add("fc_b5_csrlut_no_cache", fc(rng, batches=5, in_depth=48, out_depth=6, per_channel=True, gain=gain(0.3)),
        "csr_lut", 0.3, 6, True, per_channel=True, limit="pix4_no_cache")
    add("conv_zero_cols_csr", conv(rng, in_hw=(7, 6), in_c=6, out_c=5, gain=gain(0.4)), "csr", 0.4,
        zero_cols=[t * 6 + c for t in range(9) for c in (1, 4)] + list(range(36, 48)))
    add("conv1x1_zero_chans_csrlut", conv(rng, in_hw=(5, 6), in_c=20, out_c=7, kernel=(1, 1), gain=gain(0.3)),
        "csr_lut", 0.3, 6, True, zero_cols=range(5, 12), per_channel=True)
    add("conv_zero_cols_lut_pc", conv(rng, in_hw=(6, 5), in_c=4, out_c=6, stride=(2, 1)), "lut", 1.0, 5, True,
        zero_cols=range(0, 36, 5), per_channel=True)
    add("dw_zero_corner_taps_csr", dw(rng, in_hw=(7, 8), in_c=6, gain=gain(0.5)), "csr", 0.5, zero_cols=(0, 2, 6, 8))
    add("dw_zero_taps_lut_pc", dw(rng, in_hw=(6, 7), in_c=5, kernel=(3, 5), padding="VALID"), "lut", 1.0, 4, True,
        zero_cols=(0, 1, 7, 14), per_channel=True)
    add("conv3x3_pix1_lut_pc", conv(rng, in_hw=(6, 7), in_c=5, out_c=6), "lut", 1.0, 6, True, per_channel=True,
        limit=0)
    add("conv1x1_pix1_zero_chans_csr", conv(rng, in_hw=(4, 5), in_c=16, out_c=6, kernel=(1, 1), gain=gain(0.3)),
        "csr", 0.3, zero_cols=range(3, 9), limit=0)
    add("conv3x3_pix1_zero_cols_csrlut", conv(rng, in_hw=(5, 6), in_c=3, out_c=5, gain=gain(0.4)), "csr_lut", 0.4,
        5, True, zero_cols=range(9, 18), per_channel=True, limit=0)
    add("conv_csrlut_no_cache", conv(rng, in_hw=(6, 6), in_c=5, out_c=6, gain=gain(0.3)), "csr_lut", 0.3, 9, True,
        per_channel=True, limit="pix4_no_cache")
    add("conv_lut_pc_no_cache", conv(rng, in_hw=(5, 7), in_c=3, out_c=7, kernel=(2, 2)), "lut", 1.0, 7, True,
        per_channel=True, limit="pix4_no_cache")
    add("conv_lut_w2_w1_aligned", conv(rng, in_hw=(6, 5), in_c=8, out_c=6, kernel=(1, 1)), "lut", 1.0, 2, True,
        per_channel=True)
    add("conv1x1_left_shift", conv(rng, in_hw=(4, 4), in_c=2, out_c=3, kernel=(1, 1), gain=60.0), "csr", 0.5)
    return C


LIMITS: dict[str, int] = {}  # case name -> scratch_limit given to the lowering
CASES = _cases()


def _lower(cases, rounding):
    calls, xs, refs = [], [], []
    rng = np.random.default_rng(5)
    for k, (name, g, fmt) in enumerate(cases):
        op = g.operators[0]
        calls.append(LOWER_FORMATS[(op.kind, fmt.kind)](g, op, k, fmt=fmt, rounding=rounding,
                                                        scratch_limit=LIMITS.get(name)))
        xs.append(so.random_input(rng, g))
        refs.append(interpreter.run(g, [xs[-1]], rounding)[0])
    return calls, xs, refs


def _c_array(ctype: str, name: str, data, const: bool = True) -> str:
    data = np.asarray(data).ravel()
    vals = ", ".join(str(int(v)) if int(v) != -(2**31) else "(-2147483647 - 1)" for v in data)
    return f"{'static const ' if const else 'static '}{ctype} {name}[{max(data.size, 1)}] = {{{vals or '0'}}};\n"


def _render(calls, xs, refs, target: str = "host") -> str:
    """host: main(argv[1]) writes every output to a file. qemu:
    mcugen_harness_invoke() for boards/qemu/main.c, layer mark k before
    case k's call and k + 1 after it."""
    glob, body = [], []
    for k, (call, x, y) in enumerate(zip(calls, xs, refs)):
        for c in call.consts:
            glob.append(_c_array(c.ctype, c.name, c.data))
        fields = "".join(f"    .{f} = {v},\n" for f, v in call.params_init.items())
        glob.append(f"static const {call.params_type} l{k}_params = {{\n{fields}}};\n")
        glob.append(_c_array("int8_t", f"in{k}", x))
        glob.append(f"static int8_t out{k}[{y.size}];\n")
        scratch = "((int8_t *)0)"
        if call.scratch_bytes:
            glob.append(f"static int8_t scratch{k}[{call.scratch_bytes}];\n")
            scratch = f"scratch{k}"
        args = [a.format(params=f"&l{k}_params", in0=f"in{k}", out0=f"out{k}", scratch=scratch) for a in call.args]
        run = f"    {call.func}({', '.join(args)});\n"
        if target == "host":
            body.append(run + f"    fwrite(out{k}, 1, {y.size}, f);\n")
        else:
            body.append(f"    MCUGEN_LAYER_MARK({2 * k});\n{run}    MCUGEN_LAYER_MARK({2 * k + 1});\n"
                        f"    memcpy(o, out{k}, {y.size});\n    o += {y.size};\n")
    if target == "host":
        return ("#include <stdint.h>\n#include <stdio.h>\n#include \"mcu_nn.h\"\n" + "".join(glob)
                + "int main(int argc, char **argv)\n{\n    FILE *f;\n    if (argc < 2) return 2;\n"
                + "    f = fopen(argv[1], \"wb\");\n    if (!f) return 3;\n" + "".join(body)
                + "    fclose(f);\n    return 0;\n}\n")
    return ("#include <stdint.h>\n#include <string.h>\n#include \"mcu_nn.h\"\n#include \"mcugen_harness.h\"\n"
            + "".join(glob) + "int mcugen_harness_invoke(const int8_t *in, int8_t *o)\n{\n    (void)in;\n"
            + "".join(body) + f"    MCUGEN_LAYER_MARK({2 * len(calls)});\n    return 0;\n}}\n")


def _split(raw: np.ndarray, refs) -> list[np.ndarray]:
    got, at = [], 0
    for y in refs:
        got.append(raw[at:at + y.size].reshape(y.shape))
        at += y.size
    assert at == raw.size
    return got


def _build_and_run(tmp: Path, flags, calls, xs, refs):
    (tmp / "main.c").write_text(_render(calls, xs, refs))
    sources = sorted({s for c in calls for s in c.sources})
    exe = tmp / "kernels"
    cmd = ["gcc", *WARN, *flags, f"-I{INC}", f"-I{SRC}", str(tmp / "main.c"), *[str(SRC / s) for s in sources],
           "-o", str(exe)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-4000:]
    r = subprocess.run([str(exe), str(tmp / "out.bin")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"test program failed ({r.returncode}):\n{r.stderr[-4000:]}"
    return _split(np.fromfile(tmp / "out.bin", dtype=np.int8), refs)


@gcc
@pytest.mark.parametrize("config", list(CONFIGS))
def test_kernels_bit_exact(config, tmp_path):
    flags, rounding = CONFIGS[config]
    calls, xs, refs = _lower(CASES, rounding)
    got = _build_and_run(tmp_path, flags, calls, xs, refs)
    _check(CASES, calls, refs, got)
    # degenerate outputs would prove little
    varied = [np.unique(y).size > 8 for (name, g, _), y in zip(CASES, refs) if y.size >= 24 and "zero" not in name]
    assert sum(varied) > 0.8 * len(varied)


def _check(cases, calls, refs, got):
    bad = []
    for (name, _, fmt), call, y, z in zip(cases, calls, refs, got):
        if not np.array_equal(y, z):
            bad.append(f"{name} ({call.func}, {fmt}): {int((y != z).sum())}/{y.size} differ")
    assert not bad, "\n".join(bad)


@pytest.fixture(scope="module")
def m4_qemu():
    from mcugen.harness import qemu
    why = qemu.toolchain_missing(count=True)
    if why:
        pytest.skip(f"no Cortex-M toolchain/QEMU: {why}")
    return qemu


def _run_m4(qemu, tmp_path, calls, xs, refs, count=False):
    (tmp_path / "cases.c").write_text(_render(calls, xs, refs, "qemu"))
    out_bytes = sum(y.size for y in refs)
    sources = [tmp_path / "cases.c", *[SRC / s for s in sorted({s for c in calls for s in c.sources})]]
    elf = qemu.build_firmware("mps2-an386", sources, include_dirs=[INC, SRC],
                              defines={"MCUGEN_IN_BYTES": 1, "MCUGEN_OUT_BYTES": out_bytes, "MCUGEN_PROFILE": None},
                              out_dir=tmp_path, extra_cflags=["-Werror", "-Wextra", "-std=c99"])
    raw, counts = qemu.run_firmware("mps2-an386", elf, b"\0", 1, out_bytes, count=count, timeout=600)
    return _split(np.frombuffer(raw, dtype=np.int8), refs), counts


def test_kernels_bit_exact_on_cortex_m4_qemu(m4_qemu, tmp_path):
    """The kernels as arm-none-eabi-gcc builds them for a Cortex-M4, on QEMU."""
    cases = [c for c in CASES if c[0] != "fc_csr_rowlen32"]  # 66000 weights: host-only
    calls, xs, refs = _lower(cases, "double")
    got, _ = _run_m4(m4_qemu, tmp_path, calls, xs, refs)
    _check(cases, calls, refs, got)


# Layers like the pruned+clustered MLP's first one and typical conv layers,
# with the most M4 instructions each may take per executed MAC (stored
# weights only for the CSR kinds and depthwise; every weight for LUT),
# ~15% above what they measure. Before the four-pixel passes and the
# assembly loops they took: FC csr4 12.4, csr8 12.0, csr4+lut5pc 22.9,
# lut4pc 6.3, lut5pc 14.5; conv 1x1 csr4 9.7, 3x3 csr4 9.1, csr4+lut4pc
# 17.1, lut4pc 5.4, lut3pc 7.1; depthwise csr4 27.5, lut4pc 15.2. (The
# dense int8 kernels take 1.4-1.9 per MAC on FULLY_CONNECTED / CONV_2D and
# ~3 on depthwise; one batch row of FULLY_CONNECTED multiplies each stored
# weight once, so decoding is never shared there.)
fc_, conv_, dw_ = so.fully_connected, so.conv2d, so.depthwise
PERF = [
    ("fc_784x300_csr4_d8", "csr4", lambda r: fc_(r, in_depth=784, out_depth=300), 0.08, None, None),
    ("fc_784x300_csr8_d8", "csr8", lambda r: fc_(r, in_depth=784, out_depth=300), 0.08, None, None),
    ("fc_784x300_csr4lut5pc_d8", "csr4+lutNpc", lambda r: fc_(r, in_depth=784, out_depth=300, per_channel=True),
     0.08, 17, None),
    ("fc_784x300_lut4pc", "lutNpc", lambda r: fc_(r, in_depth=784, out_depth=300, per_channel=True), 1.0, 16, None),
    ("fc_784x300_lut5pc", "lutNpc", lambda r: fc_(r, in_depth=784, out_depth=300, per_channel=True), 1.0, 30, None),
    ("conv1x1_64_csr4_d20", "csr4", lambda r: conv_(r, in_hw=(25, 5), in_c=64, out_c=64, kernel=(1, 1)), 0.2, None,
     None),
    ("conv3x3_16_csr4_d20", "csr4", lambda r: conv_(r, in_hw=(16, 16), in_c=16, out_c=16), 0.2, None, None),
    ("conv3x3_16_csr4lut4pc_d20", "csr4+lutNpc", lambda r: conv_(r, in_hw=(16, 16), in_c=16, out_c=16), 0.2, 12,
     None),
    ("conv3x3_16_lut4pc", "lutNpc", lambda r: conv_(r, in_hw=(16, 16), in_c=16, out_c=16), 1.0, 16, None),
    ("conv3x3_16_lut3pc", "lutNpc", lambda r: conv_(r, in_hw=(16, 16), in_c=16, out_c=16), 1.0, 7, None),
    ("conv1x1_64_lut4pc", "lutNpc", lambda r: conv_(r, in_hw=(25, 5), in_c=64, out_c=64, kernel=(1, 1)), 1.0, 16,
     None),
    ("dw3x3_32_csr4_d30", "csr4", lambda r: dw_(r, in_hw=(16, 16), in_c=32), 0.3, None, None),
    ("dw3x3_32_lut4pc", "lutNpc", lambda r: dw_(r, in_hw=(16, 16), in_c=32), 1.0, 16, None),
]
PERF_BOUNDS = {  # instructions per executed MAC
    "fc_784x300_csr4_d8": 11.1, "fc_784x300_csr8_d8": 9.8, "fc_784x300_csr4lut5pc_d8": 23.4,
    "fc_784x300_lut4pc": 5.55, "fc_784x300_lut5pc": 8.8, "conv1x1_64_csr4_d20": 5.9, "conv3x3_16_csr4_d20": 6.1,
    "conv3x3_16_csr4lut4pc_d20": 5.9, "conv3x3_16_lut4pc": 2.95, "conv3x3_16_lut3pc": 3.55,
    "conv1x1_64_lut4pc": 3.15, "dw3x3_32_csr4_d30": 23.8, "dw3x3_32_lut4pc": 10.8,
}


def test_instructions_per_mac_on_cortex_m4(m4_qemu, tmp_path):
    """Exact instruction counts (QEMU plugin) of each call against bounds, so
    a silent slow-down of an inner loop (e.g. a compiler starting to spill)
    fails here."""
    from mcugen.plan.formats import analyze_layer, instantiate
    rng = np.random.default_rng(11)
    cases = []
    for name, spec, make, density, n_values, _ in PERF:
        g = structured(rng, make(rng), density, n_values, per_row=True)
        cases.append((name, g, instantiate(spec, analyze_layer(g, 0))))
    calls, xs, refs = _lower(cases, "double")
    got, counts = _run_m4(m4_qemu, tmp_path, calls, xs, refs, count=True)
    _check(cases, calls, refs, got)
    report, over = [], []
    for k, ((name, *_), call) in enumerate(zip(PERF, calls)):
        n = counts.per_layer[0][2 * k]
        ipm = n / call.macs
        report.append(f"{name}: {ipm:.2f} instr/executed MAC, {n / call.dense_macs:.3f} per dense MAC "
                      f"(bound {PERF_BOUNDS[name]})")
        if ipm >= PERF_BOUNDS[name]:
            over.append(name)
    print("\n".join(report))
    assert not over, "\n".join(report)


def test_cases_cover_every_kernel_and_format():
    calls, _, _ = _lower(CASES, "double")
    funcs = {c.func for c in calls}
    assert len(funcs) == 9, funcs
    bits = {(f.lut_bits, f.lut_per_channel) for _, _, f in CASES if f.kind != "csr"}
    assert {b for b, _ in bits} == set(range(1, 8)) and {pc for _, pc in bits} == {False, True}
    assert {f.index_bits for _, _, f in CASES if f.kind != "lut"} == {4, 8}
    widths = {f for c in calls for f in c.params_init if f.startswith("row_len")}
    assert widths == {"row_len8", "row_len16", "row_len32"}
    for (name, g, fmt), c in zip(CASES, calls):
        w = formats.weight_matrix(g, g.operators[0])
        op = g.operators[0]
        pixels = int(np.prod(g.t(op.outputs[0]).shape[:-1]))
        assert c.dense_macs == pixels * w.size, name
        if fmt.kind != "lut" or op.kind == "DEPTHWISE_CONV_2D":
            assert c.macs == pixels * np.count_nonzero(w), name  # only the stored values are multiplied
        else:  # every weight of the kept columns
            assert c.macs == pixels * w.shape[0] * c.params_init["cols"], name
            assert c.params_init["cols"] == w.shape[1] or "col_map" in c.params_init
        stream_bytes = sum(a.data.nbytes for a in c.consts if not a.name.endswith(("_bias", "_rq")))
        assert stream_bytes == c.weight_parts["total"] == formats.sizes(w, fmt)["total"], name
        if name in LIMITS:  # within the limit, or the least scratch the kernel can run with
            assert c.scratch_bytes <= LIMITS[name] or c.params_init.get("pix") == 1, name
    # every pass kind ran: one column or four, with and without the decoded cache, columns left out or not
    passes = {(c.func.split("_")[1], c.params_init.get("pix"), c.params_init.get("row_cache")) for c in calls}
    for op in ("fully", "conv2d"):
        assert {(op, 1, 0), (op, 4, 0), (op, 4, 1)} <= passes, passes
    assert {c.func.split("_")[1] for c in calls if "col_map" in c.params_init} == {"fully", "conv2d", "depthwise"}
    assert {c.params_init["rq_fast"] for c in calls} == {0, 1}
    assert {(c.func, c.params_init.get("row_cache")) for c in calls if c.params_init.get("pix") == 4} >= {
        ("mcu_conv2d_lut_s8", 1), ("mcu_conv2d_csr_lut_s8", 1), ("mcu_conv2d_csr_lut_s8", 0),
        ("mcu_fully_connected_csr_lut_s8", 1), ("mcu_fully_connected_lut_s8", 1)}


# every core a board profile names, at -O2 (mcugen's builds) and -Os (common
# in firmware): the LUT kernels' 13-register assembly once failed to
# allocate ("impossible constraints") on Cortex-M7 at -O2 and everywhere at -Os
FPU = {"cortex-m4": ["-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"], "cortex-m7": ["-mfloat-abi=hard", "-mfpu=fpv5-d16"],
       "cortex-m33": ["-mfloat-abi=hard"], "cortex-m55": ["-mfloat-abi=hard"]}


@pytest.mark.parametrize("opt", ["-O2", "-Os"])
@pytest.mark.parametrize("cpu", ["cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55"])
def test_cross_compiles_warning_free(cpu, opt, tmp_path):
    cc = shutil.which("arm-none-eabi-gcc")
    if cc is None:
        pytest.skip("arm-none-eabi-gcc is not installed")
    srcs = sorted({c.sources[0] for c in _lower(CASES, "double")[0]})
    assert len(srcs) == 9
    for s in srcs:
        r = subprocess.run([cc, f"-mcpu={cpu}", "-mthumb", *FPU.get(cpu, []), opt, *WARN, f"-I{INC}", f"-I{SRC}",
                            "-c", str(SRC / s), "-o", str(tmp_path / (s + ".o"))], capture_output=True, text=True)
        assert r.returncode == 0, f"{s} for {cpu} {opt}:\n{r.stderr[-3000:]}"


# ---- whole models ---------------------------------------------------------------------------


def best_format(w2d: np.ndarray, per_channel_quant: bool) -> WeightFormat:
    """The smallest fitting format (a stand-in for the planner's chooser)."""
    cands = [WeightFormat("dense"), WeightFormat("csr", index_bits=4), WeightFormat("csr", index_bits=8)]
    for pc in (False, True):
        for kind in ("lut", "csr_lut"):
            b = lut.min_bits(w2d, pc, nonzero_only=kind == "csr_lut")
            if b is None:
                continue
            for ib in ((4, 8) if kind == "csr_lut" else (0,)):
                cands.append(WeightFormat(kind, index_bits=ib, lut_bits=b, lut_per_channel=pc))
    return min(cands, key=lambda f: formats.sizes(w2d, f)["total"])


MODELS = {
    "mlp_prune92_cluster32": lambda w: best_format(w, True),
    "mlp_cluster16": lambda w: best_format(w, True),
    "lenet_prune80": lambda w: WeightFormat("csr", index_bits=4),
    "lenet_prune92_cluster32": lambda w: best_format(w, True),
    "lenet_cluster4": lambda w: default_lut(w),
}


def default_lut(w):
    return lower_compressed.default_format("lut", w, per_channel=True)


def _fixture(name):
    from mcugen.frontend import tflite_reader
    p = FIXTURES / f"{name}.tflite"
    if not p.exists():
        pytest.skip(f"fixture {p} is not present")
    data = np.load(FIXTURES / f"{name}.npz")
    return tflite_reader.load(p), data["input_0"], data["output_0"]


def choose_formats(graph, choose) -> dict:
    return {k: choose(formats.weight_matrix(graph, op)) for k, op in enumerate(graph.operators)
            if op.kind in formats.MATRIX_OPS}


def run_generated(graph, fmts, tmp_path, batch, mode="release"):
    from mcugen.harness.host import HostModel
    gen = generate.generate(graph, tmp_path / "gen", name="m", formats=fmts)
    return gen, HostModel(tmp_path / "gen", mode=mode).run_batch([batch])[0]


@gcc
@pytest.mark.parametrize("name", list(MODELS))
def test_compressed_models_match_tflm(name, tmp_path):
    graph, x, y = _fixture(name)
    fmts = choose_formats(graph, MODELS[name])
    assert any(f.kind != "dense" for f in fmts.values())
    mode = "sanitize" if name == "mlp_prune92_cluster32" else "release"
    n = 6 if mode == "sanitize" else len(x)
    gen, got = run_generated(graph, fmts, tmp_path, x[:n], mode)
    assert np.array_equal(got, y[:n])
    for k, f in fmts.items():
        assert f.kind == "dense" or isinstance(gen.calls[k], lower_compressed.CompressedCall)


@gcc
def test_pruned_kws_model_matches_reference(tmp_path):
    """A real topology (DS-CNN: first conv, depthwise 3x3, 1x1, FC) with its
    weights pruned to 25% by magnitude, each layer in its smallest format."""
    from conftest import shared_model
    from mcugen.frontend import tflite_reader
    graph = tflite_reader.load(shared_model("kws01_dscnn_int8"))
    for op in graph.operators:
        if op.kind in formats.MATRIX_OPS:
            t = graph.t(op.inputs[1])
            a = np.abs(t.data.astype(np.int16))
            t.data = np.where(a >= np.quantile(a, 0.75), t.data, 0).astype(np.int8)
    fmts = choose_formats(graph, lambda w: best_format(w, True))
    assert {(graph.operators[k].kind, f.kind) for k, f in fmts.items()} >= {
        ("CONV_2D", "csr"), ("DEPTHWISE_CONV_2D", "csr"), ("FULLY_CONNECTED", "csr")}
    rng = np.random.default_rng(9)
    x = rng.integers(-128, 128, size=(3, *graph.t(graph.inputs[0]).shape)).astype(np.int8)
    want = interpreter.run_batch(graph, [x])[0]
    _, got = run_generated(graph, fmts, tmp_path, x)
    assert np.array_equal(got, want)
    assert np.unique(want).size > 5


def compression_figures(graph, choose):
    """(compressed weight bytes, dense int8 weight bytes, executed MACs, dense MACs) over the matrix operators."""
    tot = dense = macs = dmacs = 0
    for k, op in enumerate(graph.operators):
        if op.kind not in formats.MATRIX_OPS:
            continue
        w = formats.weight_matrix(graph, op)
        fmt = choose(w)
        dense += w.size
        if fmt.kind == "dense":
            tot += w.size
            m = int(np.prod(graph.t(op.outputs[0]).shape[:-1])) * w.size
            macs += m
            dmacs += m
            continue
        c = LOWER_FORMATS[(op.kind, fmt.kind)](graph, op, k, fmt=fmt)
        tot += c.weight_parts["total"]
        macs += c.macs
        dmacs += c.dense_macs
    return tot, dense, macs, dmacs


def test_pruned_clustered_mlp_figures():
    graph, _, _ = _fixture("mlp_prune92_cluster32")
    tot, dense, macs, dmacs = compression_figures(graph, lambda w: best_format(w, True))
    print(f"mlp_prune92_cluster32: {tot} / {dense} weight bytes ({tot / dense:.3f}), "
          f"{macs} / {dmacs} MACs ({macs / dmacs:.3f})")
    assert macs <= 0.15 * dmacs
    # the streams alone take 27938 B, 10.5% of the int8 bytes (29027 before fc1's 145 unused
    # input columns were left out); Huffman on top does the rest (next test)
    assert tot <= 0.106 * dense


@gcc
def test_pruned_clustered_mlp_one_tenth_with_huffman(tmp_path):
    """The acceptance figure: CSR + per-channel LUT + Huffman (decoded once
    into RAM) take at most 1/10 of the dense int8 weight bytes, and the
    generated library still matches TFLM."""
    from dataclasses import replace
    graph, x, y = _fixture("mlp_prune92_cluster32")
    fmts = {k: replace(f, huffman="init") for k, f in choose_formats(graph, lambda w: best_format(w, True)).items()}
    gen, got = run_generated(graph, fmts, tmp_path, x)
    totals = gen.report["compression"]["totals"]
    print(f"with Huffman: {totals['weight_bytes']} / {totals['int8_bytes']} bytes")
    assert totals["weight_bytes"] * 10 <= totals["int8_bytes"]
    # 25608 B: 1/10.4 (26174 before leaving fc1's unused columns out)
    assert totals["weight_bytes"] <= 25700
    assert np.array_equal(got, y)
