"""Compressed weight formats end to end: every compressed fixture in every
applicable format (each layer goes through each format across a few
builds) and the shared models in both Huffman modes and a representative
set of formats are bit-exact in generated C, in release builds and under
ASan + UBSan; Huffman-coded sizes sit within 3 % of the entropy bound."""
import numpy as np
import pytest

from conftest import FIXTURES, SHARED_MODELS, shared_model
from mcugen import batch, frontend, reference
from mcugen.codegen.generate import build, generate
from mcugen.harness.host import HostModel
from mcugen.plan import formats as F

COMPRESSED = FIXTURES / "compressed"
NAMES = sorted(p.stem for p in COMPRESSED.glob("*.tflite"))

# Format templates; N is filled per layer with the narrowest LUT width its values allow.
TEMPLATES = ["dense", "csr4", "csr8", "lutNpc", "lutN", "csr4+lutNpc", "csr8+lutN",
             "dense+huffman-stream", "csr4+huffman-init", "lutNpc+huffman-stream", "csr8+lutNpc+huffman-init"]


def rotations(graph, offset: int = 0) -> list[dict[int, F.WeightFormat]]:
    """Enough builds that every template stores some layer once: build j
    stores layer i as template (offset + j * layers + i) mod n (a template
    a layer's values do not allow, e.g. too many distinct values for any
    LUT, falls back to dense)."""
    st = F.analyze(graph)
    n, layers = len(TEMPLATES), len(st)
    out = []
    for j in range(-(-n // layers)):
        fm = {}
        for i, (k, s) in enumerate(st.items()):
            f = F.instantiate(TEMPLATES[(offset + j * layers + i) % n], s)
            fm[k] = f if f is not None else F.DENSE
        out.append(fm)
    return out


def _check(outs, want, what):
    for k, (o, w) in enumerate(zip(outs, want)):
        d = o != w
        assert not d.any(), f"{what}: output {k}: {int(d.sum())} of {d.size} elements differ"


def _run(g, fm, ins, want, d, what, sanitize=True):
    generate(g, d, formats=fm, force=True, compression=False)
    _check(HostModel(d, "release").run_batch(ins), want, what + " (release)")
    if sanitize:
        _check(HostModel(d, "sanitize").run_batch(ins), want, what + " (asan+ubsan)")


@pytest.mark.parametrize("name", NAMES)
def test_fixture_every_format_bit_exact(name, tmp_path):
    g = frontend.load(COMPRESSED / f"{name}.tflite")
    z = np.load(COMPRESSED / f"{name}.npz")
    ins, want = [z["input_0"]], [z["output_0"]]  # TFLM's outputs
    used = set()
    for j, fm in enumerate(rotations(g, offset=NAMES.index(name))):
        what = f"{name} [{F.summarize(fm)}]"
        _run(g, fm, ins, want, tmp_path / f"r{j}", what)
        used |= {str(f) for f in fm.values()}
    kinds = {F.parse_format(f).kind for f in used}
    assert {"dense", "csr"} <= kinds
    assert any("huffman-init" in f for f in used) and any("huffman-stream" in f for f in used)


@pytest.mark.parametrize("name", NAMES)
def test_fixture_size_choice_bit_exact(name, tmp_path):
    """What --optimize size picks (CSR/LUT with Huffman streams where they pay)."""
    g = frontend.load(COMPRESSED / f"{name}.tflite")
    z = np.load(COMPRESSED / f"{name}.npz")
    fm = F.choose_formats(g, "size")
    # release only: the rotation above runs every format under the sanitizers
    _run(g, fm, [z["input_0"]], [z["output_0"]], tmp_path / "gen", f"{name} --optimize size [{F.summarize(fm)}]",
         sanitize=False)


@pytest.mark.parametrize("name", SHARED_MODELS)
@pytest.mark.parametrize("mode", ["init", "stream"])
def test_shared_models_huffman_modes(name, mode, tmp_path):
    g = frontend.load(shared_model(name))
    ins = batch.random_inputs(g, 3, seed=5)
    want = reference.run_batch(g, ins)
    fm = F.choose_formats(g, "balanced", huffman=mode)
    gen = build(g, formats=fm)
    assert gen.coded, "no layer was Huffman-coded"
    _run(g, fm, ins, want, tmp_path / "gen", f"{name} --huffman {mode}")


# per shared model, templates given to its layers in turn (N as in TEMPLATES)
SHARED_TEMPLATES = {
    "ad01_int8": ["csr8", "lutNpc", "csr4+lutNpc", "lutNpc+huffman-stream", "csr4+huffman-init"],
    "ic01_resnet8_int8": ["csr4+huffman-stream", "lutNpc", "csr8"],
    "kws01_dscnn_int8": ["csr8", "lutNpc", "csr4+lutNpc+huffman-init", "csr4", "csr8+lutNpc"],
    "vww01_mobilenet_int8": ["csr4", "lutNpc", "csr8+lutNpc"],
}


@pytest.mark.parametrize("name", SHARED_MODELS)
def test_shared_models_formats_bit_exact(name, tmp_path):
    g = frontend.load(shared_model(name))
    ins = batch.random_inputs(g, 3, seed=6)
    want = reference.run_batch(g, ins)
    ts = SHARED_TEMPLATES[name]
    mixed = {k: F.instantiate(ts[i % len(ts)], s) or F.DENSE for i, (k, s) in enumerate(F.analyze(g).items())}
    assert sum(f.kind != "dense" for f in mixed.values()) >= len(mixed) // 2
    for j, fm in enumerate([F.choose_formats(g, "size"), mixed]):
        _run(g, fm, ins, want, tmp_path / f"s{j}", f"{name} [{F.summarize(fm)}]")


@pytest.mark.parametrize("name", NAMES)
def test_huffman_totals_within_3_percent_of_entropy(name):
    """Under --optimize size, the coded bits of all Huffman-coded tables
    against the empirical entropy of their bytes; code tables come on top
    and are reported separately."""
    g = frontend.load(COMPRESSED / f"{name}.tflite")
    gen = build(g, formats=F.choose_formats(g, "size", huffman="stream"))
    tables = [t for ts in gen.coded.values() for t in ts]
    assert tables
    bits = sum(t.stream.nbits for t in tables)
    bound = sum(t.stream.entropy_bits for t in tables)
    assert bound <= bits <= 1.03 * bound, (bits, bound)
    code_tables = sum(t.stream.table_bytes for t in tables)
    assert sum(t.flash_bytes for t in tables) == (sum(t.stream.coded_bytes for t in tables) + code_tables)


@pytest.mark.parametrize("mode", ["init", "stream"])
def test_corrupt_coded_weights_make_invoke_fail(mode, tmp_path):
    """An over-subscribed code table in the generated weights: invoke returns
    NAME_ERROR_WEIGHTS (2), in release and under the sanitizers, instead of
    running on garbage."""
    import re

    from mcugen.errors import BuildError

    g = frontend.load(COMPRESSED / "lenet_cluster4.tflite")
    z = np.load(COMPRESSED / "lenet_cluster4.npz")
    d = tmp_path / "gen"
    gen = generate(g, d, formats=F.resolve_overrides(g, [f"all=dense+huffman-{mode}"]), compression=False)
    assert f"#define {gen.name.upper()}_ERROR_WEIGHTS 2" in (d / f"{gen.name}.h").read_text()
    w = d / f"{gen.name}_weights.c"
    text, n = re.subn(r"(const uint16_t l5_w_hn\[13\][^{]*= \{\s*)0, \d+,", r"\g<1>0, 3,", w.read_text())
    assert n == 1
    w.write_text(text)
    for build_mode in ("release", "sanitize"):
        with pytest.raises(BuildError, match="returned 2|exit 72"):
            HostModel(d, build_mode).run_batch([z["input_0"][:1]])
