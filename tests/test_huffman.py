"""Huffman coding of weight tables: code construction (optimal, length-limited),
Python and C decoders agreeing bit for bit on valid and corrupted streams, the
C decoder fuzzed under ASan/UBSan, and coded sizes against the entropy bound."""
import heapq
import itertools
import os
import subprocess
from pathlib import Path

import cffi
import numpy as np
import pytest

from conftest import FIXTURES, ROOT
from mcugen import frontend
from mcugen.formats import huffman as H

RUNTIME = ROOT / "runtime_c"
CC = os.environ.get("CC", "gcc")


def _huffman_lengths(counts):
    """Textbook Huffman (no length limit) for comparison."""
    heap = [(c, i, [i]) for i, c in enumerate(counts) if c > 0]
    lengths = np.zeros(len(counts), np.int64)
    if len(heap) == 1:
        lengths[heap[0][1]] = 1
        return lengths
    heapq.heapify(heap)
    tie = len(counts)
    while len(heap) > 1:
        a, b = heapq.heappop(heap), heapq.heappop(heap)
        for i in a[2] + b[2]:
            lengths[i] += 1
        heapq.heappush(heap, (a[0] + b[0], tie, a[2] + b[2]))
        tie += 1
    return lengths


def _kraft(lengths):
    return sum(2.0 ** -int(l) for l in lengths if l > 0)


# ---- code construction -----------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_package_merge_is_optimal_when_the_limit_does_not_bind(seed):
    rng = np.random.default_rng(seed)
    n = [2, 3, 17, 100, 256, 256][seed]
    counts = np.zeros(256, np.int64)
    counts[rng.choice(256, n, replace=False)] = rng.integers(1, 10_000, n) if seed % 2 else rng.geometric(0.05, n)
    ref = _huffman_lengths(counts)
    got = H.code_lengths(counts, max_bits=30)
    assert (counts * got).sum() == (counts * ref).sum()
    assert _kraft(got) == pytest.approx(1.0)
    assert ((got > 0) == (counts > 0)).all()


def test_length_limit_holds_and_costs_little():
    # Fibonacci frequencies give the deepest Huffman tree: 39 bits without a limit
    fib = [1, 1]
    while len(fib) < 40:
        fib.append(fib[-1] + fib[-2])
    counts = np.zeros(256, np.int64)
    counts[:40] = fib
    assert _huffman_lengths(counts).max() == 39
    got = H.code_lengths(counts, H.MAX_BITS)
    assert got.max() == H.MAX_BITS
    assert _kraft(got) == pytest.approx(1.0)
    assert (counts * got).sum() <= 1.02 * (counts * _huffman_lengths(counts)).sum()


@pytest.mark.parametrize("limit", [3, 4, 5])
def test_length_limited_code_is_optimal_by_brute_force(limit):
    rng = np.random.default_rng(limit)
    for _ in range(4):
        counts = np.sort(rng.integers(1, 1000, 7))[::-1] ** 2
        got = H.code_lengths(counts, limit)
        best = min(sum(int(c) * l for c, l in zip(counts, ls))
                   for ls in itertools.product(range(1, limit + 1), repeat=len(counts)) if _kraft(ls) <= 1.0)
        assert (counts * got).sum() == best
        assert got.max() <= limit


def test_canonical_codes_are_prefix_free_and_ordered():
    counts = H.histogram(np.random.default_rng(3).geometric(0.1, 5000).clip(0, 255).astype(np.uint8))
    lengths = H.code_lengths(counts)
    codes, count, canon = H.canonical_codes(lengths)
    words = sorted(format(int(codes[s]), f"0{int(lengths[s])}b") for s in np.flatnonzero(lengths))
    for a, b in zip(words, words[1:]):
        assert not b.startswith(a)
    assert list(canon) == sorted(np.flatnonzero(lengths), key=lambda s: (lengths[s], s))
    assert count.sum() == (lengths > 0).sum() and count[0] == 0


# ---- streams ----------------------------------------------------------------------

def _samples():
    rng = np.random.default_rng(7)
    return {
        "gaussian int8": np.clip(np.round(rng.normal(0, 25, 20000)), -128, 127).astype(np.int8),
        "uniform bytes": rng.integers(0, 256, 5000).astype(np.uint8),
        "one symbol": np.full(300, 5, np.int8),
        "two symbols": rng.choice([0, 1], 1000, p=[0.97, 0.03]).astype(np.uint8),
        "sparse int8": (rng.normal(0, 30, 8000) * (rng.random(8000) < 0.1)).clip(-127, 127).astype(np.int8),
        "one byte": np.array([200], np.uint8),
        "all 256 values": np.arange(256).astype(np.uint8),
    }


@pytest.mark.parametrize("kind", list(_samples()))
def test_python_round_trip(kind):
    x = _samples()[kind]
    s = H.encode(x)
    assert np.array_equal(H.decode(s), x.view(np.uint8))
    assert s.nbits == int((H.histogram(x) * H.code_lengths(H.histogram(x))).sum())
    assert s.coded_bytes == (s.nbits + 7) // 8
    assert H.size(x) == (s.coded_bytes, s.table_bytes)
    assert s.max_len <= H.MAX_BITS and 1 <= s.fast_bits <= H.FAST_BITS_MAX


@pytest.fixture(scope="module")
def clib(tmp_path_factory):
    d = tmp_path_factory.mktemp("huffc")
    so = d / "libhuff.so"
    r = subprocess.run([CC, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC",
                        f"-I{RUNTIME / 'include'}", str(RUNTIME / "src" / "mcu_huffman_decode.c"), "-o", str(so)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    ffi = cffi.FFI()
    ffi.cdef("""
        typedef struct { const uint8_t *data; uint32_t data_bytes; uint32_t data_bits; const uint16_t *count;
                         const uint8_t *symbols; uint16_t num_symbols; uint8_t fast_bits; } mcu_huffman_stream_t;
        int mcu_huffman_decode(const mcu_huffman_stream_t *s, uint8_t *out, uint32_t out_len, void *work);
    """)
    return ffi, ffi.dlopen(str(so))


def _c_decode(clib, s: H.HuffmanStream, out_len=None):
    ffi, lib = clib
    data = np.ascontiguousarray(s.data, np.uint8)
    count = np.ascontiguousarray(s.count, np.uint16)
    syms = np.ascontiguousarray(s.symbols, np.uint8)
    n = s.n if out_len is None else out_len
    out = np.zeros(max(n, 1), np.uint8)
    work = np.zeros(H.work_bytes(H.FAST_BITS_MAX) // 2, np.uint16)
    st = ffi.new("mcu_huffman_stream_t *")
    keep = [ffi.from_buffer(a) for a in (data if data.size else np.zeros(1, np.uint8), count, syms)]
    st.data = ffi.cast("const uint8_t *", keep[0]) if data.size else ffi.NULL
    st.data_bytes, st.data_bits = data.size, s.nbits
    st.count = ffi.cast("const uint16_t *", keep[1])
    st.symbols = ffi.cast("const uint8_t *", keep[2])
    st.num_symbols, st.fast_bits = syms.size, s.fast_bits
    rc = lib.mcu_huffman_decode(st, ffi.cast("uint8_t *", ffi.from_buffer(out)), n, ffi.from_buffer(work))
    return rc, out[:n]


@pytest.mark.parametrize("kind", list(_samples()))
def test_c_round_trip(clib, kind):
    x = _samples()[kind]
    for fast in (1, 4, H.FAST_BITS, H.FAST_BITS_MAX):  # every split between table and canonical search
        s = H.encode(x, fast_bits=fast)
        rc, out = _c_decode(clib, s)
        assert rc == H.OK
        assert np.array_equal(out, x.view(np.uint8))


def _mutants(s: H.HuffmanStream, rng, n):
    from dataclasses import replace

    for _ in range(n):
        what = rng.integers(0, 6)
        if what <= 1 and s.data.size:
            d = s.data.copy()
            d[rng.integers(d.size)] ^= np.uint8(1 << rng.integers(8))
            yield replace(s, data=d)
        elif what == 2:
            yield replace(s, nbits=max(0, s.nbits + int(rng.integers(-9, 10))))
        elif what == 3:
            c = s.count.copy()
            c[rng.integers(1, c.size)] += np.uint16(rng.integers(1, 3))
            yield replace(s, count=c)
        elif what == 4:
            c = s.count.copy()
            l = rng.integers(1, c.size)
            c[l] = max(int(c[l]) - 1, 0)
            yield replace(s, count=c, symbols=s.symbols[:-1] if s.symbols.size > 1 else s.symbols)
        else:
            yield replace(s, n=s.n + int(rng.integers(-3, 4)))


def test_c_and_python_agree_on_corrupted_streams(clib):
    """Same return code and, when both succeed, the same bytes."""
    rng = np.random.default_rng(11)
    seen = set()
    for kind, x in _samples().items():
        base = H.encode(x)
        for m in _mutants(base, rng, 80):
            if m.n < 0:
                continue
            rc, out = _c_decode(clib, m)
            try:
                want, code = H.decode(m), H.OK
            except H.HuffmanError as e:
                want, code = None, e.code
            assert rc == code, kind
            if code == H.OK:
                assert np.array_equal(out, want)
            seen.add(code)
    assert {H.OK, H.ERR_TABLE, H.ERR_LENGTH} <= seen


def test_c_error_codes(clib):
    s = H.encode(_samples()["gaussian int8"])
    from dataclasses import replace

    assert _c_decode(clib, replace(s, nbits=8 * s.data.size + 1))[0] == H.ERR_ARG
    c = s.count.copy()
    c[1] = 3  # three 1-bit codes
    assert _c_decode(clib, replace(s, count=c))[0] == H.ERR_TABLE
    assert _c_decode(clib, replace(s, fast_bits=0))[0] == H.ERR_TABLE
    assert _c_decode(clib, replace(s, nbits=s.nbits - 1))[0] == H.ERR_LENGTH
    assert _c_decode(clib, s, out_len=s.n - 1)[0] == H.ERR_LENGTH
    # an incomplete code: one symbol of length 1 leaves the pattern "1" unused
    one = H.encode(np.zeros(16, np.uint8))
    bad = replace(one, data=np.array([0x80, 0], np.uint8))
    assert _c_decode(clib, bad)[0] == H.ERR_CODE


# ---- fuzzing under ASan/UBSan ----------------------------------------------------------


@pytest.fixture(scope="module")
def fuzzer(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz")
    exe = d / "huffman_fuzz"
    r = subprocess.run([CC, "-std=c99", "-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined",
                        "-fno-sanitize-recover=all", "-Wall", "-Wextra", "-Werror", f"-I{RUNTIME / 'include'}",
                        str(ROOT / "tests" / "huffman_fuzz.c"), str(RUNTIME / "src" / "mcu_huffman_decode.c"),
                        "-o", str(exe)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return exe


def _stream_file(path: Path, x) -> None:
    s = H.encode(x)
    raw = np.ascontiguousarray(x).view(np.uint8).ravel()
    head = np.array([s.n, s.nbits, s.coded_bytes], "<u4").tobytes() + np.array([s.symbols.size], "<u2").tobytes()
    head += bytes([s.fast_bits]) + np.asarray(s.count, "<u2").tobytes()
    path.write_bytes(head + s.symbols.tobytes() + s.data.tobytes() + raw.tobytes())


def test_fuzz_decoder_under_sanitizers(fuzzer, tmp_path):
    w = frontend.load(FIXTURES / "compressed" / "lenet_prune50.tflite").t(1)  # a real, small weight tensor
    streams = dict(_samples())
    streams["lenet conv weights"] = np.asarray(w.data if w.data is not None else np.zeros(1), np.int8).ravel()
    totals = np.zeros(5, np.int64)
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0", UBSAN_OPTIONS="print_stacktrace=1")
    for j, (kind, x) in enumerate(streams.items()):
        f = tmp_path / f"s{j}.bin"
        _stream_file(f, x)
        r = subprocess.run([str(fuzzer), str(f), "1500", str(1000 + j)], capture_output=True, text=True, env=env,
                           timeout=600)
        assert r.returncode == 0, f"{kind}: {r.stdout}{r.stderr[-3000:]}"
        totals += np.array(r.stdout.split()[1::2], np.int64)
    # thousands of mutants, and every outcome exercised
    assert totals.sum() >= 10_000
    assert (totals > 0).all(), totals


# ---- coded size against the entropy bound -------------------------------------------------


def test_coded_size_near_entropy_on_high_entropy_weights():
    """Dense int8 weights of the unpruned fixtures: within 1 % of the bound."""
    from mcugen.codegen.generate import lower_layer
    from mcugen.plan.formats import analyze

    for name in ("mlp_dense", "lenet_dense", "mlp_cluster32"):
        g = frontend.load(FIXTURES / "compressed" / f"{name}.tflite")
        bits = bound = 0.0
        for k in analyze(g):
            s = H.encode(lower_layer(g, k).consts[0].data)
            bits += s.nbits
            bound += s.entropy_bits
        assert bound <= bits <= 1.01 * bound, name
