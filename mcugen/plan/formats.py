"""Weight formats: how each constant weight tensor is stored in flash, and
which one each layer gets.

Every format decodes to exactly the model's int8 values, so outputs stay
bit-exact. The structure that makes a format pay is read from the weights
themselves (zeros left by pruning, few distinct values left by clustering);
a cost model (flash bytes, RAM bytes, estimated instructions) then picks
one format per layer under --optimize and the board's budget, and
--format LAYER=FORMAT overrides it.

--format grammar (case-insensitive, no spaces):

    SPEC    := LAYER "=" FORMAT          LAYER := operator index | "all"
    FORMAT  := BASE [ "+huffman" [ "-init" | "-stream" ] ]
    BASE    := "dense"                   int8, as the model stores it
             | "csr" IB                  sparse rows, IB-bit relative column indices (IB = 4 or 8)
             | "lut" LB [ "pc" ]         LB-bit indices into a codebook of int8 values (LB = 1..7),
                                         one codebook per tensor, or per output channel with "pc"
                                         (then each channel's codes are as wide as its own book needs)
             | "csr" IB "+lut" LB ["pc"] both: the non-zero values as codebook indices

e.g. 0=csr4, 2=lut5pc, 1=csr4+lut5+huffman-stream, all=dense+huffman-init.
"+huffman" alone takes the mode of --huffman when that is init or stream,
else init. Huffman codes the layer's 8-bit tables (of >= 64 bytes, when
that saves flash): "init" decodes them once into RAM (NAME_init, or the
first invoke), "stream" into the layer's arena scratch before every run.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

import numpy as np

from .. import ir
from ..errors import McugenError

FORMAT_KINDS = ("dense", "csr", "lut", "csr_lut")
HUFFMAN_MODES = (None, "init", "stream")
CSR_INDEX_BITS = (4, 8)
LUT_BITS = tuple(range(1, 8))  # mcugen.formats.lut.MAX_BITS
OPTIMIZE = ("size", "speed", "balanced")
HUFFMAN_CHOICES = ("auto", "off", "init", "stream")

GRAMMAR = ("LAYER=FORMAT with LAYER an operator index or 'all', FORMAT one of dense, csr4, csr8, lutN, lutNpc, "
           "csr4+lutN[pc], csr8+lutN[pc] (N = 1..7), optionally followed by +huffman, +huffman-init or +huffman-stream")


@dataclass(frozen=True)
class WeightFormat:
    kind: str = "dense"  # one of FORMAT_KINDS
    index_bits: int = 0  # CSR: relative column index width (4 or 8), 0 for non-CSR
    lut_bits: int = 0  # LUT: bits per packed index (1..7), 0 for non-LUT
    lut_per_channel: bool = False  # LUT: one codebook per output channel instead of per tensor
    huffman: str | None = None  # None, "init" (decode once into RAM) or "stream" (decode per layer into scratch)

    def __str__(self) -> str:
        """The --format spelling (parse_format(str(f)) == f)."""
        if self.kind == "dense":
            s = "dense"
        elif self.kind == "csr":
            s = f"csr{self.index_bits}"
        else:
            s = f"lut{self.lut_bits}" + ("pc" if self.lut_per_channel else "")
            if self.kind == "csr_lut":
                s = f"csr{self.index_bits}+{s}"
        if self.huffman:
            s += f"+huffman-{self.huffman}"
        return s

    @property
    def base(self) -> "WeightFormat":
        """The same storage without Huffman coding."""
        return replace(self, huffman=None)


DENSE = WeightFormat()

_FORMAT_RE = re.compile(r"^(?:(?P<dense>dense)|csr(?P<ib>\d+)(?:\+lut(?P<clb>\d+)(?P<cpc>pc)?)?|lut(?P<lb>\d+)(?P<pc>pc)?)"
                        r"(?P<huff>\+huffman(?:-(?P<mode>[a-z]+))?)?$")


def parse_format(text: str, huffman_default: str = "init") -> WeightFormat:
    """A FORMAT of the grammar above; McugenError naming what is wrong."""
    t = text.strip().lower().replace(" ", "")
    m = _FORMAT_RE.match(t)
    if not m:
        raise McugenError(f"--format: '{text}' is not a weight format; write {GRAMMAR}")
    mode = None
    if m.group("huff"):
        mode = m.group("mode") or huffman_default
        if mode not in ("init", "stream"):
            raise McugenError(f"--format: '{text}': Huffman mode '{mode}' is neither init nor stream")
    if m.group("dense"):
        return WeightFormat(huffman=mode)
    if m.group("ib") is not None:
        ib = int(m.group("ib"))
        if ib not in CSR_INDEX_BITS:
            raise McugenError(f"--format: '{text}': CSR index width must be 4 or 8 bits, not {ib}")
        if m.group("clb") is None:
            return WeightFormat("csr", index_bits=ib, huffman=mode)
        lb, pc = int(m.group("clb")), bool(m.group("cpc"))
        kind = "csr_lut"
    else:
        ib, lb, pc, kind = 0, int(m.group("lb")), bool(m.group("pc")), "lut"
    if lb not in LUT_BITS:
        raise McugenError(f"--format: '{text}': LUT index width must be 1 to 7 bits, not {lb}")
    return WeightFormat(kind, index_bits=ib, lut_bits=lb, lut_per_channel=pc, huffman=mode)


def parse_override(spec: str, huffman_default: str = "init") -> tuple[int | str, WeightFormat]:
    """'LAYER=FORMAT' -> (operator index or 'all', format)."""
    if "=" not in spec:
        raise McugenError(f"--format: '{spec}' lacks '='; write {GRAMMAR}")
    layer, fmt = spec.split("=", 1)
    layer = layer.strip().lower()
    if layer != "all":
        if not re.fullmatch(r"\d+", layer):
            raise McugenError(f"--format: '{spec}': layer '{layer}' is not an operator index (0, 1, …) or 'all'")
        layer = int(layer)
    return layer, parse_format(fmt, huffman_default)


# ---- structure of the weights -------------------------------------------------------

# op kind -> (input position of the weights, axis of the output channels)
WEIGHT_INPUTS = {"CONV_2D": (1, 0), "DEPTHWISE_CONV_2D": (1, 3), "FULLY_CONNECTED": (1, 0), "TRANSPOSE_CONV": (1, 0)}


@dataclass
class Structure:
    """What the weights of one layer are like: the facts the formats exploit."""

    layer: int
    op: str
    tensor: str
    shape: tuple[int, ...]
    weights: int
    nonzero: int
    distinct: int  # distinct int8 values in the tensor
    distinct_per_channel: int  # the most distinct values in one output channel
    distinct_nonzero: int  # distinct non-zero values in the tensor
    distinct_nonzero_per_channel: int
    zero_channels: int  # output channels whose weights are all zero
    entropy_bits: float  # empirical entropy of the int8 values, bits per weight
    nonzero_entropy_bits: float  # … of the non-zero values, bits per non-zero

    @property
    def density(self) -> float:
        return self.nonzero / self.weights if self.weights else 0.0

    @property
    def lut_bits(self) -> int:
        """Index bits a per-tensor codebook of every value needs."""
        return _bits_for(self.distinct)

    @property
    def lut_bits_per_channel(self) -> int:
        return _bits_for(self.distinct_per_channel)

    @property
    def pruned(self) -> bool:
        return self.density <= 0.6

    @property
    def clustered(self) -> bool:
        """Few distinct values, each used many times (weight sharing), per output channel."""
        channels = self.shape[WEIGHT_INPUTS[self.op][1]]
        uses = self.nonzero / max(channels, 1) / max(self.distinct_nonzero_per_channel, 1)
        return self.distinct_nonzero_per_channel <= 64 and uses >= 4

    def as_dict(self) -> dict:
        return {"layer": self.layer, "op": self.op, "tensor": self.tensor, "shape": list(self.shape),
                "weights": self.weights, "nonzero": self.nonzero, "density": round(self.density, 6),
                "distinct": self.distinct, "distinct_per_channel": self.distinct_per_channel,
                "zero_channels": self.zero_channels, "entropy_bits": round(self.entropy_bits, 4),
                "nonzero_entropy_bits": round(self.nonzero_entropy_bits, 4)}


def _bits_for(n: int) -> int:
    return max(1, math.ceil(math.log2(max(n, 1))))


def _entropy(values: np.ndarray) -> float:
    if values.size == 0:
        return 0.0
    c = np.bincount(values.astype(np.int64).ravel() + 128, minlength=256)
    c = c[c > 0]
    p = c / values.size
    return float(-(p * np.log2(p)).sum())


def weight_tensor(graph: ir.Graph, k: int) -> ir.Tensor | None:
    """Operator k's constant int8 weight tensor, or None."""
    op = graph.operators[k]
    if op.kind not in WEIGHT_INPUTS:
        return None
    pos, _ = WEIGHT_INPUTS[op.kind]
    if pos >= len(op.inputs) or op.inputs[pos] < 0:
        return None
    t = graph.t(op.inputs[pos])
    return t if t.is_const and t.dtype == "int8" else None


def analyze_layer(graph: ir.Graph, k: int) -> Structure | None:
    t = weight_tensor(graph, k)
    if t is None:
        return None
    op = graph.operators[k]
    axis = WEIGHT_INPUTS[op.kind][1]
    w = np.asarray(t.data, dtype=np.int8)
    per_ch = np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)
    nz = w[w != 0]
    d_ch = max(len(np.unique(r)) for r in per_ch)
    dnz_ch = max(len(np.unique(r[r != 0])) for r in per_ch)
    return Structure(layer=k, op=op.kind, tensor=t.name, shape=tuple(t.shape), weights=int(w.size),
                     nonzero=int(nz.size), distinct=int(len(np.unique(w))), distinct_per_channel=int(d_ch),
                     distinct_nonzero=int(len(np.unique(nz))), distinct_nonzero_per_channel=int(dnz_ch),
                     zero_channels=int((~per_ch.any(axis=1)).sum()), entropy_bits=_entropy(w),
                     nonzero_entropy_bits=_entropy(nz))


def analyze(graph: ir.Graph) -> dict[int, Structure]:
    """Structure of every layer with constant int8 weights, by operator index."""
    out = {}
    for k in range(len(graph.operators)):
        s = analyze_layer(graph, k)
        if s is not None:
            out[k] = s
    return out


# ---- cost model -----------------------------------------------------------------------

# Estimated Cortex-M4 instructions: per multiply-accumulate the kernel
# executes (stored weights only for CSR; LUT depthwise skips zero taps too)
# and per output element, by (op kind, format kind, per-channel LUT).
# Least-squares fits (relative error) to exact QEMU counts of every layer of
# the compressed fixtures and two shared models in each format, with the
# kernels of 2026-11-23; tools/bench.py --calibrate refits them.
INSTR_MODEL = {
    ("CONV_2D", "dense", False): (1.52, 12.9),
    ("CONV_2D", "csr", False): (5.95, 68.5),
    ("CONV_2D", "lut", True): (4.05, 392.3),
    ("CONV_2D", "csr_lut", True): (11.82, 325.5),
    ("DEPTHWISE_CONV_2D", "dense", False): (3.34, 0.4),
    ("DEPTHWISE_CONV_2D", "csr", False): (0.0, 151.0),
    ("DEPTHWISE_CONV_2D", "lut", True): (12.69, 75.5),
    ("DEPTHWISE_CONV_2D", "csr_lut", True): (13.02, 74.2),
    ("FULLY_CONNECTED", "dense", False): (1.43, 28.1),
    ("FULLY_CONNECTED", "csr", False): (9.88, 82.0),
    ("FULLY_CONNECTED", "lut", False): (12.85, 102.0),
    ("FULLY_CONNECTED", "lut", True): (6.78, 228.2),
    ("FULLY_CONNECTED", "csr_lut", True): (17.73, 235.7),
    ("TRANSPOSE_CONV", "dense", False): (3.0, 20.0),
}
# .text bytes of runtime sources (arm-none-eabi-gcc 12 -O2, Cortex-M4): a
# format's kernel costs flash once per model, however many layers use it.
CODE_BYTES = {
    "mcu_add_s8.c": 1376, "mcu_avgpool_s8.c": 744, "mcu_concat_s8.c": 84, "mcu_conv2d_1x1_s8.c": 304,
    "mcu_conv2d_csr_lut_s8.c": 8616, "mcu_conv2d_csr_s8.c": 5012, "mcu_conv2d_direct_s8.c": 4212,
    "mcu_conv2d_lut_s8.c": 6932, "mcu_conv2d_s8.c": 1080, "mcu_copy_s8.c": 20,
    "mcu_depthwise_conv_3x3_ch4_s8.c": 3944, "mcu_depthwise_conv_3x3_s8.c": 2060,
    "mcu_depthwise_conv_csr_lut_s8.c": 3428, "mcu_depthwise_conv_csr_s8.c": 3092,
    "mcu_depthwise_conv_lut_s8.c": 3096, "mcu_depthwise_conv_s8.c": 1748, "mcu_dequantize_s8.c": 48,
    "mcu_fully_connected_csr_lut_s8.c": 6712, "mcu_fully_connected_csr_s8.c": 4200,
    "mcu_fully_connected_lut_s8.c": 6120, "mcu_fully_connected_s8.c": 2176, "mcu_huffman_decode.c": 876,
    "mcu_lut_s8.c": 120, "mcu_maxpool_s8.c": 372, "mcu_mean_s8.c": 452, "mcu_mul_s8.c": 1272,
    "mcu_nn_gemm_s8.c": 6528, "mcu_pad_s8.c": 372, "mcu_quantize_s8.c": 220, "mcu_softmax_s8.c": 532,
    "mcu_split_s8.c": 88, "mcu_strided_slice_s8.c": 212, "mcu_transpose_conv_s8.c": 760,
}
CODE_BYTES_OTHER = 1200  # budget.EST_CODE_PER_SOURCE
# other operators (pooling, activations, copies): instructions per output element
INSTR_PER_OTHER_OUTPUT = 4


def code_bytes(sources) -> int:
    return sum(CODE_BYTES.get(s, CODE_BYTES_OTHER) for s in set(sources))


# Huffman stream decoding (mcu_huffman_decode on M4): per decoded byte, and
# per table for building the lookup table (per entry, plus set-up)
HUFF_INSTR_PER_BYTE = 14
HUFF_INSTR_PER_ENTRY = 2
HUFF_INSTR_PER_TABLE = 300


def instr_coefficients(op_kind: str, fmt: WeightFormat) -> tuple[float, ...]:
    for key in ((op_kind, fmt.kind, fmt.lut_per_channel), (op_kind, fmt.kind, not fmt.lut_per_channel),
                (op_kind, "dense", False)):
        if key in INSTR_MODEL:
            return INSTR_MODEL[key]
    return (3.0, 20.0, 0.0)


def cost_features(graph: ir.Graph, k: int, macs: int) -> tuple[float, float, float]:
    """What a kernel's time grows with: the MACs it executes, the outputs it
    writes, and the input bytes it gathers (a convolution's window per
    output pixel, which every format pays)."""
    op = graph.operators[k]
    out = graph.t(op.outputs[0])
    outputs = sum(graph.t(i).size for i in op.outputs)
    gather = 0
    if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D") and len(op.inputs) > 1 and op.inputs[1] >= 0:
        w = graph.t(op.inputs[1]).shape
        pixels = out.size // out.shape[-1]
        if op.kind == "CONV_2D" and (w[1], w[2]) != (1, 1):
            gather = pixels * w[1] * w[2] * w[3]
        elif op.kind == "DEPTHWISE_CONV_2D":
            gather = pixels * w[1] * w[2] * w[3]
    return float(macs), float(outputs), float(gather)


@dataclass
class Cost:
    """One candidate format of one layer."""

    fmt: WeightFormat
    flash: int  # bytes of the layer's constant tables in flash (coded, with code tables)
    ram: int  # bytes of decoded tables: static RAM (init) or arena scratch during the layer (stream)
    instr: float  # estimated instructions per inference
    work: int = 0  # Huffman decoder lookup table bytes
    coded: int = 0  # tables Huffman codes (0: "+huffman" changes nothing here)
    sources: frozenset = frozenset()  # runtime_c sources its kernel (and decoder) need
    scratch: int = 0  # the kernel's own arena scratch

    def as_dict(self) -> dict:
        return {"format": str(self.fmt), "flash": self.flash, "ram": self.ram, "instr": round(self.instr)}


def estimate_instructions(graph: ir.Graph, k: int, fmt: WeightFormat, macs: int, coded=()) -> float:
    """Instructions per inference of layer k stored as fmt; `macs`: the MACs
    its kernel executes (KernelCall.macs), `coded`: its Huffman-coded tables."""
    op = graph.operators[k]
    coef = instr_coefficients(op.kind, fmt)
    instr = sum(a * x for a, x in zip(coef, cost_features(graph, k, macs)))
    if fmt.huffman == "stream":
        for t in coded:
            instr += (HUFF_INSTR_PER_BYTE * t.decoded_bytes + HUFF_INSTR_PER_ENTRY * t.stream.work_bytes // 2
                      + HUFF_INSTR_PER_TABLE)
    return float(instr)


def candidates(graph: ir.Graph, k: int, st: Structure, huffman: str = "auto",
               supported: set[str] | None = None) -> list[WeightFormat]:
    """Formats worth evaluating for layer k, from its structure. `supported`:
    the format kinds with a lowering for this op (dense always)."""
    supported = {"dense"} | (supported or set())
    base = [DENSE]
    if "csr" in supported and st.density <= 0.75:
        base += [WeightFormat("csr", index_bits=b) for b in CSR_INDEX_BITS]
    if "lut" in supported:
        if st.lut_bits <= LUT_BITS[-1]:
            base.append(WeightFormat("lut", lut_bits=st.lut_bits))
        if st.lut_bits_per_channel < min(st.lut_bits, LUT_BITS[-1] + 1):
            base.append(WeightFormat("lut", lut_bits=st.lut_bits_per_channel, lut_per_channel=True))
    if "csr_lut" in supported and st.density <= 0.75:
        bt, bc = _bits_for(st.distinct_nonzero), _bits_for(st.distinct_nonzero_per_channel)
        for ib in CSR_INDEX_BITS:
            if bt <= LUT_BITS[-1]:
                base.append(WeightFormat("csr_lut", index_bits=ib, lut_bits=bt))
            if bc < min(bt, LUT_BITS[-1] + 1):
                base.append(WeightFormat("csr_lut", index_bits=ib, lut_bits=bc, lut_per_channel=True))
    if huffman == "off":
        return base
    if huffman in ("init", "stream"):
        return [replace(f, huffman=huffman) for f in base]
    return base + [replace(f, huffman=m) for f in base for m in ("init", "stream")]


class _Evaluator:
    """Lowers each (layer, storage) once and sizes its Huffman variants."""

    def __init__(self, graph: ir.Graph, rounding: str):
        from .. import stats

        self.graph, self.rounding = graph, rounding
        self.macs = [stats.macs(graph, op) for op in graph.operators]
        self._calls: dict = {}

    def call(self, k: int, base: WeightFormat):
        from ..codegen.generate import lower_layer

        key = (k, base)
        if key not in self._calls:
            self._calls[key] = lower_layer(self.graph, k, base, rounding=self.rounding)
        return self._calls[key]

    def cost(self, k: int, fmt: WeightFormat, st: Structure) -> Cost:
        from ..codegen.generate import coded_tables

        call = self.call(k, fmt.base)
        flash = int(sum(c.data.nbytes for c in call.consts))
        ram = work = 0
        coded = coded_tables(call, fmt) if fmt.huffman else []
        for t in coded:
            flash += t.flash_bytes - t.decoded_bytes
            ram += t.decoded_bytes
            work = max(work, t.stream.work_bytes)
        instr = estimate_instructions(self.graph, k, fmt, call.macs or self.macs[k], coded)
        sources = frozenset(call.sources) | ({"mcu_huffman_decode.c"} if coded else frozenset())
        return Cost(fmt, flash, ram, instr, work, len(coded), sources, call.scratch_bytes)


def _pick(costs: list[Cost], optimize: str, dense: Cost) -> Cost:
    if optimize == "speed":
        return min(costs, key=lambda c: (c.instr, c.ram, c.flash))
    if optimize == "size":
        # among equal flash, stream decoding adds the least RAM: one scratch area reused by every layer
        return min(costs, key=lambda c: (c.flash, c.ram if c.fmt.huffman != "stream" else 0, c.instr))
    # balanced: relative memory (flash plus RAM added) and relative time weigh the same
    return min(costs, key=lambda c: ((c.flash + c.ram) / max(dense.flash, 1) + c.instr / max(dense.instr, 1.0),
                                     c.flash, c.instr))


@dataclass
class _Base:
    """What a choice of formats leaves unchanged: the layers without weights."""

    flash: int  # their constant tables
    instr: float
    sources: frozenset
    arena: int  # the dense build's arena
    live: dict  # operator index -> activation bytes alive while it runs


def _base(graph: ir.Graph, structures: dict, ev: _Evaluator) -> _Base:
    from ..codegen.generate import lower
    from .memory import plan_memory

    calls = lower(graph, rounding=ev.rounding)
    others = [k for k in range(len(calls)) if k not in structures]
    scratch = {k: c.scratch_bytes for k, c in enumerate(calls) if c.scratch_bytes}
    inplace = {k: c.inplace_input for k, c in enumerate(calls) if c.inplace_input is not None}
    plan = plan_memory(graph, inplace=inplace)
    live = {k: sum(b.size for b in plan.buffers if b.first <= k <= b.last) for k in range(len(calls))}
    return _Base(flash=sum(int(c.data.nbytes) for k in others for c in calls[k].consts),
                 instr=float(sum(INSTR_PER_OTHER_OUTPUT * sum(graph.t(i).size for i in graph.operators[k].outputs)
                                 for k in others)),
                 sources=frozenset(s for k in others for s in calls[k].sources),
                 arena=plan_memory(graph, scratch=scratch, inplace=inplace).arena_bytes, live=live)


def model_totals(chosen: dict[int, Cost], base: _Base) -> tuple[int, int, float]:
    """(flash, RAM, instructions) of a whole model: tables plus each kernel's
    code once; arena plus decoded tables (init: all of them, stream: the
    largest layer's, at worst on top of the activations); every layer."""
    sources = set(base.sources).union(*(c.sources for c in chosen.values()))
    flash = base.flash + sum(c.flash for c in chosen.values()) + code_bytes(sources)
    init = sum(c.ram for c in chosen.values() if c.fmt.huffman == "init")
    # a stream layer's scratch (decoded tables, then its kernel scratch or the decoder's table) next to
    # the activations alive then; the arena grows where that exceeds it
    need = max([base.live.get(k, 0) + c.ram + max(c.scratch, c.work)
                for k, c in chosen.items() if c.fmt.huffman == "stream"], default=0)
    return flash, max(base.arena, need) + init, base.instr + sum(c.instr for c in chosen.values())


def _objective(optimize: str, dense: tuple[int, int, float]):
    fd, rd, idn = dense

    def key(t: tuple[int, int, float]):
        flash, ram, instr = t
        if optimize == "size":
            return (flash, ram, instr)
        if optimize == "speed":
            return (instr, ram, flash)
        # balanced: relative memory (flash plus RAM beyond the dense build's) and relative time weigh the same
        return ((flash + ram - rd) / max(fd, 1) + instr / max(idn, 1.0), flash, instr)
    return key


def _descend(chosen: dict[int, Cost], costs: dict[int, list[Cost]], fixed: dict, base: _Base, key) -> dict[int, Cost]:
    """Coordinate descent: each layer in turn takes the candidate that makes
    the whole model best with the others held, until nothing changes."""
    chosen = dict(chosen)
    best = key(model_totals(chosen, base))
    for _ in range(6):
        changed = False
        for k, cs in costs.items():
            if k in fixed:
                continue
            for c in cs:
                if c is chosen[k]:
                    continue
                trial = dict(chosen)
                trial[k] = c
                v = key(model_totals(trial, base))
                if v < best:
                    best, chosen, changed = v, trial, True
        if not changed:
            break
    # one move the loop above cannot make: every Huffman layer to the other mode at once
    # (stream needs RAM for the largest layer only, init for all of them)
    for mode in ("stream", "init"):
        trial = dict(chosen)
        for k, c in chosen.items():
            if k not in fixed and c.fmt.huffman and c.fmt.huffman != mode:
                other = next((x for x in costs[k] if x.fmt == replace(c.fmt, huffman=mode)), None)
                if other is not None:
                    trial[k] = other
        v = key(model_totals(trial, base))
        if v < best:
            best, chosen = v, trial
    return chosen


def supported_kinds(op_kind: str) -> set[str]:
    from ..codegen.generate import compressed_lowering_table

    return {fk for (ok, fk) in compressed_lowering_table() if ok == op_kind}


def resolve_overrides(graph: ir.Graph, overrides: list[str] | None, huffman: str = "auto",
                      structures: dict[int, Structure] | None = None) -> dict[int, WeightFormat]:
    """--format specs -> operator index -> format, checked against the model."""
    structures = analyze(graph) if structures is None else structures
    mode = huffman if huffman in ("init", "stream") else "init"
    out: dict[int, WeightFormat] = {}
    n = len(graph.operators)
    for spec in overrides or []:
        layer, fmt = parse_override(spec, mode)
        if layer == "all":
            targets = [k for k in structures if fmt.kind == "dense" or fmt.kind in supported_kinds(graph.operators[k].kind)]
            if not targets:
                raise McugenError(f"--format {spec}: no layer of this model can be stored as {fmt.base}")
        else:
            if layer >= n:
                raise McugenError(f"--format {spec}: the model has {n} operators (0..{n - 1})")
            if layer not in structures:
                op = graph.operators[layer]
                raise McugenError(f"--format {spec}: operator {layer} ({op.kind}) has no constant int8 weights; "
                                  f"layers with weights: {', '.join(map(str, structures)) or 'none'}")
            targets = [layer]
        for k in targets:
            check_applicable(graph, k, fmt, structures[k], spec)
            out[k] = fmt
    return out


def check_applicable(graph: ir.Graph, k: int, fmt: WeightFormat, st: Structure, spec: str = "") -> None:
    op = graph.operators[k]
    where = f"--format {spec}" if spec else f"format {fmt}"
    if fmt.kind != "dense" and fmt.kind not in supported_kinds(op.kind):
        have = sorted(supported_kinds(op.kind))
        raise McugenError(f"{where}: operator {k} ({op.kind}) has no {fmt.kind} kernel; it can be stored as "
                          + ", ".join(["dense"] + have) + " (each optionally +huffman)")
    if fmt.kind in ("lut", "csr_lut"):
        if fmt.kind == "lut":
            need = st.distinct_per_channel if fmt.lut_per_channel else st.distinct
        else:
            need = st.distinct_nonzero_per_channel if fmt.lut_per_channel else st.distinct_nonzero
        if need > 1 << fmt.lut_bits:
            best = _bits_for(need)
            raise McugenError(f"{where}: operator {k} ({op.kind}) has {need} distinct "
                              f"{'non-zero ' if fmt.kind == 'csr_lut' else ''}weight values "
                              f"{'in one output channel' if fmt.lut_per_channel else 'in the tensor'}, more than "
                              f"{fmt.lut_bits}-bit indices can address; use at least {best} bits")


def instantiate(template: str, st: Structure) -> WeightFormat | None:
    """A FORMAT whose LUT width may be written N ('lutNpc', 'csr4+lutN'):
    N becomes the narrowest width layer `st`'s values allow; None when no
    LUT width does. For trying one storage on every layer (tests, bench)."""
    if "lutN" not in template:
        return parse_format(template)
    pc = "lutNpc" in template
    if template.startswith("csr"):
        need = st.distinct_nonzero_per_channel if pc else st.distinct_nonzero
    else:
        need = st.distinct_per_channel if pc else st.distinct
    bits = _bits_for(need)
    if bits > LUT_BITS[-1]:
        return None
    return parse_format(template.replace("lutN", f"lut{bits}"))


def summarize(formats: dict[int, WeightFormat]) -> str:
    """'layers 0, 1: csr4; layer 5: lut4pc' (dense layers left out)."""
    by: dict[str, list[int]] = {}
    for k, f in sorted(formats.items()):
        if f != DENSE:
            by.setdefault(str(f), []).append(k)
    if not by:
        return "all dense"
    return "; ".join(f"layer{'s' if len(ks) > 1 else ''} {', '.join(map(str, ks))}: {f}" for f, ks in by.items())


@dataclass
class Choice:
    formats: dict[int, WeightFormat]  # every layer with weights
    costs: dict[int, list[Cost]]  # evaluated candidates per layer (chosen one included)
    structures: dict[int, Structure]
    optimize: str
    notes: list[str]
    fits: bool | None = None  # with a board: whether some choice fits its estimate


def choose(graph: ir.Graph, optimize: str = "balanced", board=None, overrides: list[str] | None = None,
           huffman: str = "auto", rounding: str = "double") -> Choice:
    """choose_formats with the evidence: the candidates and their costs."""
    if optimize not in OPTIMIZE:
        raise McugenError(f"--optimize must be one of {', '.join(OPTIMIZE)}, not '{optimize}'")
    if huffman not in HUFFMAN_CHOICES:
        raise McugenError(f"--huffman must be one of {', '.join(HUFFMAN_CHOICES)}, not '{huffman}'")
    structures = analyze(graph)
    fixed = resolve_overrides(graph, overrides, huffman, structures)
    ev = _Evaluator(graph, rounding)
    chosen: dict[int, Cost] = {}
    costs: dict[int, list[Cost]] = {}
    dense_costs: dict[int, Cost] = {}
    notes: list[str] = []
    for k, st in structures.items():
        if k in fixed:
            try:
                c = ev.cost(k, fixed[k], st)
            except ValueError as e:
                raise McugenError(f"--format {k}={fixed[k]}: {e}") from None
            costs[k] = [c]
            chosen[k] = dense_costs[k] = c
            continue
        supported = supported_kinds(graph.operators[k].kind)
        cs = []
        for f in candidates(graph, k, st, huffman, supported):
            try:
                c = ev.cost(k, f, st)
            except (McugenError, ValueError) as e:  # a storage this layer's values do not allow
                notes.append(f"layer {k}: {f} not possible: {e}")
                continue
            if f.huffman and not c.coded:
                # no table worth coding: the same as without Huffman
                if huffman == "auto" or any(x.fmt == f.base for x in cs):
                    continue
                c = ev.cost(k, f.base, st)
            cs.append(c)
        dense = next((c for c in cs if c.fmt == DENSE), None) or ev.cost(k, DENSE, st)
        dense_costs[k] = dense
        costs[k] = cs
        chosen[k] = _pick(cs, optimize, dense)
    # the whole model decides: a kernel's code counts once, RAM and time are totals
    base = _base(graph, structures, ev)
    key = _objective(optimize, model_totals({k: dense_costs.get(k, c) for k, c in chosen.items()}, base))
    # from the per-layer picks, and from dense (as stored under --huffman) everywhere
    starts = [chosen, {k: next((c for c in costs[k] if c.fmt.base == DENSE), chosen[k]) for k in chosen}]
    chosen = min((_descend(s, costs, fixed, base, key) for s in starts), key=lambda c: key(model_totals(c, base)))
    fits = None
    if board is not None:
        fits = _fit_board(graph, board, chosen, costs, fixed, structures, ev, notes, base)
    return Choice(formats={k: c.fmt for k, c in chosen.items()}, costs=costs, structures=structures,
                  optimize=optimize, notes=notes, fits=fits)


def choose_formats(graph: ir.Graph, optimize: str = "balanced", board=None, overrides: list[str] | None = None,
                   huffman: str = "auto", rounding: str = "double") -> dict[int, WeightFormat]:
    """One format per layer with weights (operator index -> format).

    optimize:
    - "speed": fewest estimated instructions (then least flash);
    - "size": least flash (then least added RAM, then instructions);
    - "balanced" (default): least (flash + RAM added) / dense bytes +
      instructions / dense instructions, so a compressed format wins only
      where it saves more memory than it costs time; on unstructured
      weights that is dense, and the generated code is plain dense code.
    huffman: "auto" lets the objective decide, "off" never codes, "init" /
    "stream" code every layer in that mode (when coding saves flash).
    board: a mcugen.boards.Board (or name); when the choice would not fit
    its flash or RAM, layers move to smaller formats (the least costly
    bytes first), Huffman-init to stream when RAM is short.
    overrides: --format specs, which win over everything else.
    """
    return choose(graph, optimize, board, overrides, huffman, rounding).formats


# ---- fitting a board -----------------------------------------------------------------------


def _fit_board(graph, board, chosen: dict[int, Cost], costs: dict[int, list[Cost]], fixed: dict,
               structures: dict[int, Structure], ev: _Evaluator, notes: list[str], base: _Base) -> bool:
    """Moves layers to smaller formats until the estimate fits the board;
    False (and `chosen` as it was) when nothing fits."""
    from .. import budget
    from ..boards import get_board

    board = get_board(board)
    flash_have, ram_have = board.max_contiguous_flash, board.max_contiguous_ram
    wanted = dict(chosen)

    def totals():
        flash, ram, instr = model_totals(chosen, base)
        return flash + budget.EST_PARAMS_PER_LAYER * len(graph.operators) + 512, ram + budget.EST_STACK, instr

    flash, ram, instr = totals()
    # flash first: the bytes that cost least time and RAM first
    while flash > flash_have:
        best = None
        for k, cs in costs.items():
            if k in fixed:
                continue
            cur = chosen[k]
            for c in cs:
                chosen[k] = c
                f2, r2, i2 = totals()
                chosen[k] = cur
                saved = flash - f2
                if saved <= 0:
                    continue
                price = (max(i2 - instr, 0.0) / max(instr, 1.0) + max(r2 - ram, 0) / ram_have) / saved
                if best is None or price < best[0]:
                    best = (price, k, c)
        if best is None:
            break
        chosen[best[1]] = best[2]
        flash, ram, instr = totals()
    # then RAM: Huffman-init tables to stream, largest first
    while ram > ram_have:
        inits = sorted((k for k, c in chosen.items() if c.fmt.huffman == "init" and k not in fixed),
                       key=lambda k: -chosen[k].ram)
        if not inits:
            break
        k = inits[0]
        chosen[k] = ev.cost(k, replace(chosen[k].fmt, huffman="stream"), structures[k])
        flash, ram, instr = totals()
    if flash > flash_have or ram > ram_have:
        # report the model as asked for, not a squeezed version that fits no better
        notes.append(f"compressed weight formats do not make it fit {board.name} either: the smallest choice found "
                     f"({summarize({k: c.fmt for k, c in chosen.items()})}) needs about {flash:,} bytes of flash "
                     f"and {ram:,} of RAM")
        chosen.clear()
        chosen.update(wanted)
        return False
    return True
