"""IR -> a self-contained C99 library folder.

Lower each operator to a KernelCall (in the weight format chosen for it),
Huffman-code the 8-bit tables of layers whose format asks for it, plan
memory from the calls' scratch and in-place needs, then render the
templates. All arithmetic and layout is decided here in Python; the
templates only print it.

Huffman modes (mcu_huffman.h decodes both):
- init: the table becomes a static RAM buffer of the same name; NAME_init()
  decodes it once (the first invoke calls NAME_init when it has not
  succeeded yet), using the arena for the decoder's lookup table;
- stream: the table is decoded before its layer runs into that layer's
  arena scratch (decoded tables first, then the kernel's own scratch, which
  the decoder's lookup table shares), and the call reads it there.
A table that fails to decode makes invoke return NAME_ERROR_WEIGHTS.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import numpy as np

from .. import __version__, ir, stats
from ..errors import McugenError, UnsupportedModelError
from ..formats import huffman
from ..plan.formats import DENSE, WeightFormat
from ..plan.memory import ALIAS_OPS, MemoryPlan, plan_memory
from ..resources import data_dir
from . import outdir as outdir_mod
from .lowering import ConstArray, KernelCall

WEIGHTS_SECTION = ".rodata.mcugen_weights"
_CTYPE = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "int32": "int32_t", "float32": "float"}
_LOWERING_MODULES = ("lower_conv", "lower_misc")
# Huffman-code 8-bit tables of at least this many bytes, when coding saves flash
HUFF_MIN_BYTES = 64
HUFF_CTYPES = ("int8_t", "uint8_t")
HUFF_SOURCE = "mcu_huffman_decode.c"
SCRATCH_ALIGN = 4


def lowering_table() -> dict:
    table = {}
    for mod in _LOWERING_MODULES:
        try:
            m = importlib.import_module(f"{__package__}.{mod}")
        except ModuleNotFoundError as e:
            if e.name != f"{__package__}.{mod}":
                raise
            continue
        table.update(m.LOWER)
    return table


def compressed_lowering_table() -> dict:
    """F2's LOWER_FORMATS: (op kind, format kind) -> lowering fn, {} without it."""
    try:
        m = importlib.import_module(f"{__package__}.lower_compressed")
    except ModuleNotFoundError as e:
        if e.name != f"{__package__}.lower_compressed":
            raise
        return {}
    return dict(getattr(m, "LOWER_FORMATS", {}))


def lowering_fn(op: ir.Operator, fmt: WeightFormat, table: dict | None = None, compressed: dict | None = None):
    """The lowering function for `op` stored in `fmt` (Huffman is not the lowering's business)."""
    if fmt.kind == "dense":
        table = lowering_table() if table is None else table
        if op.kind not in table:
            raise UnsupportedModelError(f"operator {op.kind} has no C kernel in this version of mcugen; "
                                        f"C kernels exist for: {', '.join(sorted(table))}")
        return table[op.kind]
    compressed = compressed_lowering_table() if compressed is None else compressed
    fn = compressed.get((op.kind, fmt.kind))
    if fn is None:
        have = sorted(k for o, k in compressed if o == op.kind)
        raise McugenError(f"{op.kind} has no {fmt.kind} kernel" + (f" (it has: dense, {', '.join(have)})" if have else
                                                                   " (only dense, optionally +huffman)"))
    return fn


def _call_lowering(fn, graph: ir.Graph, op: ir.Operator, k: int, **hints) -> KernelCall:
    # lowering functions take the hints they understand (rounding, scratch_limit, fmt, …)
    params = inspect.signature(fn).parameters
    return fn(graph, op, k, **{h: v for h, v in hints.items() if h in params})


def lower_layer(graph: ir.Graph, k: int, fmt: WeightFormat = DENSE, rounding: str = "double", **hints) -> KernelCall:
    """One operator in one weight format (for the format chooser's sizes)."""
    op = graph.operators[k]
    hints = dict(hints, fmt=fmt) if fmt.kind != "dense" else hints
    return _call_lowering(lowering_fn(op, fmt), graph, op, k, rounding=rounding, **hints)


def lower(graph: ir.Graph, rounding: str = "double", formats: dict[int, WeightFormat] | None = None) -> list[KernelCall]:
    """Lowers every operator, then re-lowers those whose scratch would raise
    the arena above what the activations alone need, asking for a variant
    that fits in the bytes free at that step."""
    formats = formats or {}
    table = lowering_table()
    compressed = compressed_lowering_table() if any(f.kind != "dense" for f in formats.values()) else {}
    for k, op in enumerate(graph.operators):
        if op.kind not in table and formats.get(k, DENSE).kind == "dense":
            raise UnsupportedModelError(f"operator {k} ({op.kind}) has no C kernel in this version of mcugen; "
                                        f"C kernels exist for: {', '.join(sorted(table))}")
    fns, hints = [], []
    for k, op in enumerate(graph.operators):
        f = formats.get(k, DENSE)
        fns.append(lowering_fn(op, f, table, compressed))
        hints.append({"fmt": f} if f.kind != "dense" else {})
    calls = [_call_lowering(fns[k], graph, op, k, rounding=rounding, **hints[k]) for k, op in enumerate(graph.operators)]
    inplace = {k: c.inplace_input for k, c in enumerate(calls) if c.inplace_input is not None}
    base = plan_memory(graph, inplace=inplace)
    live = _live_bytes(base, len(graph.operators))
    for k, c in enumerate(calls):
        slack = base.arena_bytes - live[k]
        if c.scratch_bytes > slack:
            calls[k] = _call_lowering(fns[k], graph, graph.operators[k], k, rounding=rounding,
                                      scratch_limit=max(slack, 0), **hints[k])
    return calls


# ---- Huffman-coded tables ------------------------------------------------------------


@dataclass
class CodedTable:
    const: ConstArray  # the table as the kernel reads it
    mode: str  # "init" or "stream"
    stream: huffman.HuffmanStream
    offset: int = 0  # stream mode: where it is decoded, from the start of its layer's scratch

    @property
    def name(self) -> str:
        return self.const.name

    @property
    def decoded_bytes(self) -> int:
        return int(self.const.data.nbytes)

    @property
    def flash_bytes(self) -> int:
        return self.stream.total_bytes


def coded_tables(call: KernelCall, fmt: WeightFormat) -> list[CodedTable]:
    """The call's 8-bit tables that `fmt`'s Huffman mode codes: those of at
    least HUFF_MIN_BYTES where codes plus code table take less flash."""
    if not fmt.huffman:
        return []
    out = []
    for c in call.consts:
        if c.ctype not in HUFF_CTYPES or c.data.nbytes < HUFF_MIN_BYTES:
            continue
        st = huffman.encode(c.data)
        if st.total_bytes < c.data.nbytes:
            out.append(CodedTable(c, fmt.huffman, st))
    return out


def _align(n: int, a: int) -> int:
    return (n + a - 1) // a * a


def stream_layout(call: KernelCall, coded: list[CodedTable]) -> tuple[int, int]:
    """Places a layer's stream-mode tables at the start of its scratch; returns
    (bytes they take, the layer's whole scratch): the kernel's own scratch
    follows them and shares its bytes with the decoder's lookup table."""
    at, work = 0, 0
    for c in coded:
        if c.mode == "stream":
            c.offset = at
            at = _align(at + c.decoded_bytes, SCRATCH_ALIGN)
            work = max(work, c.stream.work_bytes)
    if not work:
        return 0, call.scratch_bytes
    return at, at + max(call.scratch_bytes, work)


def _live_bytes(plan: MemoryPlan, nops: int) -> list[int]:
    return [sum(b.size for b in plan.buffers if b.first <= k <= b.last) for k in range(nops)]


@dataclass
class Generated:
    name: str
    files: dict[str, bytes]
    report: dict
    plan: MemoryPlan
    calls: list[KernelCall] = field(default_factory=list)
    formats: dict[int, WeightFormat] = field(default_factory=dict)  # non-dense layers only
    coded: dict[int, list[CodedTable]] = field(default_factory=dict)  # Huffman-coded tables per layer


def check_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name):
        raise McugenError(f"--name '{name}' is not a C identifier: use letters, digits and '_', not starting with a digit")
    return name


def default_name(graph: ir.Graph) -> str:
    n = re.sub(r"[^A-Za-z0-9_]", "_", graph.name) or "model"
    return ("m_" + n) if n[0].isdigit() else n


def build(graph: ir.Graph, name: str | None = None, source: str = "model", rounding: str = "double",
          formats: dict[int, WeightFormat] | None = None) -> Generated:
    """Renders everything in memory; nothing touches the disk. `formats`:
    operator index -> weight format (missing ones are dense)."""
    name = check_name(name or default_name(graph))
    formats = {k: f for k, f in (formats or {}).items() if f != DENSE}
    calls = lower(graph, rounding=rounding, formats=formats)
    coded = {k: coded_tables(calls[k], f) for k, f in formats.items() if f.huffman}
    coded = {k: v for k, v in sorted(coded.items()) if v}
    scratch, stream_bytes = {}, {}
    for k, c in enumerate(calls):
        stream_bytes[k], total = stream_layout(c, coded.get(k, []))
        if total:
            scratch[k] = total
    inplace = {k: c.inplace_input for k, c in enumerate(calls) if c.inplace_input is not None}
    plan = plan_memory(graph, scratch=scratch, inplace=inplace)
    init_tables = [t for k in coded for t in coded[k] if t.mode == "init"]
    # init decoding borrows the arena for the decoder's lookup table
    arena_bytes = max([plan.arena_bytes] + [t.stream.work_bytes for t in init_tables])

    consts: list[ConstArray] = [c for call in calls for c in call.consts]
    seen = set()
    for c in consts:
        if c.name in seen:
            raise AssertionError(f"two constant tables named {c.name}")
        seen.add(c.name)
    coded_by_name = {t.name: t for v in coded.values() for t in v}
    plain = [c for c in consts if c.name not in coded_by_name]
    weight_consts, huff_ctx = [], []
    for c in consts:
        t = coded_by_name.get(c.name)
        if t is None:
            weight_consts.append(c)
            continue
        st = t.stream
        weight_consts += [ConstArray(f"{c.name}_hc", "uint8_t", st.data, align=4),
                          ConstArray(f"{c.name}_hn", "uint16_t", st.count.astype(np.uint16), align=4),
                          ConstArray(f"{c.name}_hs", "uint8_t", st.symbols, align=4)]
        huff_ctx.append(dict(name=c.name, struct=f"{c.name}_huff", ctype=c.ctype, count=int(c.data.size),
                             align=c.align, mode=t.mode, nbits=st.nbits, data=f"{c.name}_hc", data_bytes=st.coded_bytes,
                             count_name=f"{c.name}_hn", symbols=f"{c.name}_hs", num_symbols=int(st.symbols.size),
                             fast_bits=st.fast_bits))

    layers = []
    for k, (op, call) in enumerate(zip(graph.operators, calls)):
        layers.append(_layer_context(graph, plan, k, op, call, coded.get(k, []), stream_bytes[k]))
    io_in = [_io_context(graph, plan, i) for i in graph.inputs]
    io_out = [_io_context(graph, plan, i) for i in graph.outputs]

    sources = sorted({s for c, l in zip(calls, layers) if l["call"] for s in c.sources} | ({HUFF_SOURCE} if coded else set()))
    rows = stats.layer_stats(graph)
    layer_flash = [int(sum(c.data.nbytes for c in call.consts if c.name not in coded_by_name))
                   + sum(t.flash_bytes for t in coded.get(k, [])) for k, call in enumerate(calls)]
    weight_bytes = sum(layer_flash)
    init_bytes = sum(t.decoded_bytes for t in init_tables)
    ctx = dict(
        name=name, NAME=name.upper(), guard=f"MCUGEN_{name.upper()}_H", version=__version__, source=source,
        arena_bytes=arena_bytes, arena_alloc=max(arena_bytes, 1), inputs=io_in, outputs=io_out,
        layers=layers, ops=graph.operators, total_macs=sum(r.macs for r in rows),
        consts=[_const_context(c) for c in plain], weight_consts=[_const_context(c) for c in weight_consts],
        weight_bytes=weight_bytes, section=WEIGHTS_SECTION, runtime_sources=sources, rounding=rounding,
        huffman=huff_ctx, huffman_init=[h for h in huff_ctx if h["mode"] == "init"], huffman_init_bytes=init_bytes,
        huffman_stream=any(h["mode"] == "stream" for h in huff_ctx),
    )
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(data_dir("templates"))),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    files: dict[str, bytes] = {}
    for tmpl, out in (("model.h.j2", f"{name}.h"), ("model.c.j2", f"{name}.c"),
                      ("model_weights.c.j2", f"{name}_weights.c"), ("CMakeLists.txt.j2", "CMakeLists.txt"),
                      ("mcugen.mk.j2", "mcugen.mk")):
        files[out] = env.get_template(tmpl).render(**ctx).encode()
    rt = data_dir("runtime_c")
    for h in sorted((rt / "include").glob("*.h")):
        files[f"runtime/include/{h.name}"] = h.read_bytes()
    files["runtime/include/mcu_config.h"] = env.get_template("mcu_config.h.j2").render(**ctx).encode()
    for h in sorted((rt / "src").glob("*.h")):
        files[f"runtime/src/{h.name}"] = h.read_bytes()
    for s in sources:
        p = rt / "src" / s
        if not p.is_file():
            raise AssertionError(f"lowering names runtime source {s}, which runtime_c/src lacks")
        files[f"runtime/src/{s}"] = p.read_bytes()

    report = {
        "model": graph.name, "name": name, "generator": f"mcugen {__version__}",
        "arena_bytes": arena_bytes, "weight_bytes": weight_bytes, "rounding": rounding,
        "macs": sum(r.macs for r in rows),
        "inputs": [{k: v for k, v in d.items() if k in ("tensor_name", "shape", "ctype", "nbytes", "scale", "zero_point")} for d in io_in],
        "outputs": [{k: v for k, v in d.items() if k in ("tensor_name", "shape", "ctype", "nbytes", "scale", "zero_point")} for d in io_out],
        "runtime_sources": sources,
        "layers": [
            {"index": k, "op": op.kind, "kernel": layer["call"].split("(")[0] if layer["call"] else "(alias)", "macs": rows[k].macs,
             "weight_bytes": layer_flash[k],
             "scratch_bytes": scratch.get(k, 0),
             "output": [{"tensor": graph.t(i).name, "shape": list(graph.t(i).shape),
                         "arena_offset": plan.tensor_offset[i], "bytes": graph.t(i).nbytes} for i in op.outputs]}
            for k, (op, call, layer) in enumerate(zip(graph.operators, calls, layers))
        ],
    }
    if formats:
        report["ram_weight_bytes"] = init_bytes
        for k, f in formats.items():
            report["layers"][k]["format"] = str(f)
        report["huffman"] = [
            {"layer": k, "table": t.name, "mode": t.mode, "decoded_bytes": t.decoded_bytes,
             "coded_bytes": t.stream.coded_bytes, "code_table_bytes": t.stream.table_bytes, "bits": t.stream.nbits,
             "entropy_bits": round(t.stream.entropy_bits, 1), "max_code_bits": t.stream.max_len,
             "fast_bits": t.stream.fast_bits, "scratch_offset": t.offset if t.mode == "stream" else None}
            for k in coded for t in coded[k]]
    return Generated(name=name, files=files, report=report, plan=plan, calls=calls, formats=dict(formats), coded=coded)


def generate(graph: ir.Graph, outdir: str | Path, name: str | None = None, source: str = "model",
             force: bool = False, extra_report: dict | None = None, rounding: str = "double",
             formats: dict[int, WeightFormat] | None = None, compression: bool = True,
             gen: Generated | None = None) -> Generated:
    """build() (or take `gen`, a build() result) and write the folder, with
    mcugen_report.json (and, when `compression`, its per-layer compression
    table, see report_compression)."""
    outdir_mod.check_writable(Path(outdir), force)
    gen = gen or build(graph, name=name, source=source, rounding=rounding, formats=formats)
    if compression:
        from ..report_compression import compression_report

        gen.report["compression"] = compression_report(graph, gen, rounding=rounding)
    if extra_report:
        gen.report.update(extra_report)
    gen.files["mcugen_report.json"] = (json.dumps(gen.report, indent=1) + "\n").encode()
    outdir_mod.write_tree(Path(outdir), gen.files, force=force)
    return gen


# ---- template contexts ---------------------------------------------------------


def _ptr(graph: ir.Graph, plan: MemoryPlan, i: int) -> str:
    t = graph.t(i)
    return f"(({_CTYPE[t.dtype]} *)(arena + {plan.tensor_offset[i]}))"


def _layer_context(graph: ir.Graph, plan: MemoryPlan, k: int, op: ir.Operator, call: KernelCall,
                   coded: list[CodedTable] = (), stream_bytes: int = 0) -> dict:
    subs = {f"in{j}": _ptr(graph, plan, i) for j, i in enumerate(call.inputs)}
    subs.update({f"out{j}": _ptr(graph, plan, i) for j, i in enumerate(call.outputs)})
    base = plan.scratch_offset.get(k)
    subs["scratch"] = f"((int8_t *)(arena + {base + stream_bytes}))" if call.scratch_bytes else "((int8_t *)0)"
    pname = f"l{k}_params"
    subs["params"] = f"&{pname}"
    # stream-mode tables: the call reads them where they are decoded
    moved = {t.name: f"(({t.const.ctype} *)(arena + {base + t.offset}))" for t in coded if t.mode == "stream"}

    def relocate(text: str) -> str:
        for nm, expr in moved.items():
            text = re.sub(rf"\b{re.escape(nm)}\b", expr, text)
        return text

    decode = [dict(struct=f"{t.name}_huff", offset=base + t.offset, count=t.decoded_bytes, work=base + stream_bytes)
              for t in coded if t.mode == "stream"]
    text = None
    aliased = op.kind in ALIAS_OPS and all(plan.tensor_offset[i] == plan.tensor_offset[o] for i, o in zip(call.inputs, call.outputs))
    if call.func and not aliased:
        args = [relocate(a.format(**subs)) for a in call.args]
        text = f"{call.func}({', '.join(args)})"
    shapes = " -> ".join("x".join(map(str, graph.t(i).shape)) for i in [op.inputs[0]] + [op.outputs[0]] if i >= 0)
    params_init = [(f, _c_value(v)) for f, v in call.params_init.items()]
    if moved:
        params_init = [(f, relocate(v)) for f, v in params_init]
    return dict(
        index=k, kind=op.kind, summary=f"{shapes}, {call.macs:,} MACs" if call.macs else shapes,
        call=text, params_type=call.params_type if text else None, params_name=pname,
        params_init=params_init, decode=decode if text else [],
        outputs=[dict(offset=plan.tensor_offset[i], nbytes=graph.t(i).nbytes) for i in op.outputs],
    )


def _io_context(graph: ir.Graph, plan: MemoryPlan, i: int) -> dict:
    t = graph.t(i)
    q = t.quant
    return dict(tensor_name=t.name.replace("*/", "* /"), shape=list(t.shape), ctype=_CTYPE[t.dtype], size=t.size,
                nbytes=t.nbytes, offset=plan.tensor_offset[i],
                scale=(repr(float(q.s)) if q is not None and not q.per_channel and t.dtype != "float32" else None),
                zero_point=(q.zp if q is not None and not q.per_channel else None))


def _c_value(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    if isinstance(v, (int, np.integer)):
        return _c_int(int(v))
    if isinstance(v, (float, np.floating)):
        return _c_float(float(v))
    return str(v)


def _c_int(v: int) -> str:
    # -2147483648 is unary minus on a long literal in C; spell it so it stays int32
    if v == -(2**31):
        return "(-2147483647 - 1)"
    return str(v)


def _c_float(v: float) -> str:
    r = repr(float(np.float32(v)))
    if "inf" in r or "nan" in r:
        raise AssertionError(f"non-finite float constant {v}")
    return (r if ("e" in r or "." in r) else r + ".0") + "f"


def _const_context(c: ConstArray) -> dict:
    data = np.asarray(c.data).ravel()
    if data.dtype.kind == "f":
        vals = [_c_float(x) for x in data.tolist()]
    else:
        vals = [_c_int(x) for x in data.tolist()]
    per = 16 if data.dtype.itemsize == 1 else 8
    lines = [", ".join(vals[j:j + per]) + "," for j in range(0, len(vals), per)] or ["0,"]
    return dict(name=c.name, ctype=c.ctype, count=max(len(vals), 1), align=c.align, lines=lines,
                comment=f"{c.name}: {len(vals)} x {c.ctype}")
