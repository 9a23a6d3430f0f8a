"""IR -> a self-contained C99 library folder.

Lower each operator to a KernelCall, plan memory from the calls' scratch and
in-place needs, then render the templates. All arithmetic and layout is
decided here in Python; the templates only print it.
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
from ..plan.memory import ALIAS_OPS, MemoryPlan, plan_memory
from ..resources import data_dir
from . import outdir as outdir_mod
from .lowering import ConstArray, KernelCall

WEIGHTS_SECTION = ".rodata.mcugen_weights"
_CTYPE = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "int32": "int32_t", "float32": "float"}
_LOWERING_MODULES = ("lower_conv", "lower_misc")


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


def _call_lowering(fn, graph: ir.Graph, op: ir.Operator, k: int, **hints) -> KernelCall:
    # lowering functions take the hints they understand (rounding, scratch_limit, …)
    params = inspect.signature(fn).parameters
    return fn(graph, op, k, **{h: v for h, v in hints.items() if h in params})


def lower(graph: ir.Graph, rounding: str = "double") -> list[KernelCall]:
    """Lowers every operator, then re-lowers those whose scratch would raise
    the arena above what the activations alone need, asking for a variant
    that fits in the bytes free at that step."""
    table = lowering_table()
    for k, op in enumerate(graph.operators):
        if op.kind not in table:
            raise UnsupportedModelError(f"operator {k} ({op.kind}) has no C kernel in this version of mcugen; "
                                        f"C kernels exist for: {', '.join(sorted(table))}")
    calls = [_call_lowering(table[op.kind], graph, op, k, rounding=rounding) for k, op in enumerate(graph.operators)]
    inplace = {k: c.inplace_input for k, c in enumerate(calls) if c.inplace_input is not None}
    base = plan_memory(graph, inplace=inplace)
    live = _live_bytes(base, len(graph.operators))
    for k, c in enumerate(calls):
        slack = base.arena_bytes - live[k]
        if c.scratch_bytes > slack:
            calls[k] = _call_lowering(table[graph.operators[k].kind], graph, graph.operators[k], k,
                                      rounding=rounding, scratch_limit=max(slack, 0))
    return calls


def _live_bytes(plan: MemoryPlan, nops: int) -> list[int]:
    return [sum(b.size for b in plan.buffers if b.first <= k <= b.last) for k in range(nops)]


@dataclass
class Generated:
    name: str
    files: dict[str, bytes]
    report: dict
    plan: MemoryPlan
    calls: list[KernelCall] = field(default_factory=list)


def check_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name):
        raise McugenError(f"--name '{name}' is not a C identifier: use letters, digits and '_', not starting with a digit")
    return name


def default_name(graph: ir.Graph) -> str:
    n = re.sub(r"[^A-Za-z0-9_]", "_", graph.name) or "model"
    return ("m_" + n) if n[0].isdigit() else n


def build(graph: ir.Graph, name: str | None = None, source: str = "model", rounding: str = "double") -> Generated:
    """Renders everything in memory; nothing touches the disk."""
    name = check_name(name or default_name(graph))
    calls = lower(graph, rounding=rounding)
    scratch = {k: c.scratch_bytes for k, c in enumerate(calls) if c.scratch_bytes}
    inplace = {k: c.inplace_input for k, c in enumerate(calls) if c.inplace_input is not None}
    plan = plan_memory(graph, scratch=scratch, inplace=inplace)

    consts: list[ConstArray] = [c for call in calls for c in call.consts]
    seen = set()
    for c in consts:
        if c.name in seen:
            raise AssertionError(f"two constant tables named {c.name}")
        seen.add(c.name)

    layers = []
    for k, (op, call) in enumerate(zip(graph.operators, calls)):
        layers.append(_layer_context(graph, plan, k, op, call))
    io_in = [_io_context(graph, plan, i) for i in graph.inputs]
    io_out = [_io_context(graph, plan, i) for i in graph.outputs]

    sources = sorted({s for c, l in zip(calls, layers) if l["call"] for s in c.sources})
    rows = stats.layer_stats(graph)
    weight_bytes = sum(int(c.data.nbytes) for c in consts)
    ctx = dict(
        name=name, NAME=name.upper(), guard=f"MCUGEN_{name.upper()}_H", version=__version__, source=source,
        arena_bytes=plan.arena_bytes, arena_alloc=max(plan.arena_bytes, 1), inputs=io_in, outputs=io_out,
        layers=layers, ops=graph.operators, total_macs=sum(r.macs for r in rows),
        consts=[_const_context(c) for c in consts], weight_bytes=weight_bytes, section=WEIGHTS_SECTION,
        runtime_sources=sources, rounding=rounding,
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
        "arena_bytes": plan.arena_bytes, "weight_bytes": weight_bytes, "rounding": rounding,
        "macs": sum(r.macs for r in rows),
        "inputs": [{k: v for k, v in d.items() if k in ("tensor_name", "shape", "ctype", "nbytes", "scale", "zero_point")} for d in io_in],
        "outputs": [{k: v for k, v in d.items() if k in ("tensor_name", "shape", "ctype", "nbytes", "scale", "zero_point")} for d in io_out],
        "runtime_sources": sources,
        "layers": [
            {"index": k, "op": op.kind, "kernel": layer["call"].split("(")[0] if layer["call"] else "(alias)", "macs": rows[k].macs,
             "weight_bytes": int(sum(c.data.nbytes for c in call.consts)),
             "scratch_bytes": call.scratch_bytes,
             "output": [{"tensor": graph.t(i).name, "shape": list(graph.t(i).shape),
                         "arena_offset": plan.tensor_offset[i], "bytes": graph.t(i).nbytes} for i in op.outputs]}
            for k, (op, call, layer) in enumerate(zip(graph.operators, calls, layers))
        ],
    }
    return Generated(name=name, files=files, report=report, plan=plan, calls=calls)


def generate(graph: ir.Graph, outdir: str | Path, name: str | None = None, source: str = "model",
             force: bool = False, extra_report: dict | None = None, rounding: str = "double") -> Generated:
    outdir_mod.check_writable(Path(outdir), force)
    gen = build(graph, name=name, source=source, rounding=rounding)
    if extra_report:
        gen.report.update(extra_report)
    gen.files["mcugen_report.json"] = (json.dumps(gen.report, indent=1) + "\n").encode()
    outdir_mod.write_tree(Path(outdir), gen.files, force=force)
    return gen


# ---- template contexts ---------------------------------------------------------


def _ptr(graph: ir.Graph, plan: MemoryPlan, i: int) -> str:
    t = graph.t(i)
    return f"(({_CTYPE[t.dtype]} *)(arena + {plan.tensor_offset[i]}))"


def _layer_context(graph: ir.Graph, plan: MemoryPlan, k: int, op: ir.Operator, call: KernelCall) -> dict:
    subs = {f"in{j}": _ptr(graph, plan, i) for j, i in enumerate(call.inputs)}
    subs.update({f"out{j}": _ptr(graph, plan, i) for j, i in enumerate(call.outputs)})
    subs["scratch"] = f"((int8_t *)(arena + {plan.scratch_offset[k]}))" if call.scratch_bytes else "((int8_t *)0)"
    pname = f"l{k}_params"
    subs["params"] = f"&{pname}"
    text = None
    aliased = op.kind in ALIAS_OPS and all(plan.tensor_offset[i] == plan.tensor_offset[o] for i, o in zip(call.inputs, call.outputs))
    if call.func and not aliased:
        args = [a.format(**subs) for a in call.args]
        text = f"{call.func}({', '.join(args)})"
    shapes = " -> ".join("x".join(map(str, graph.t(i).shape)) for i in [op.inputs[0]] + [op.outputs[0]] if i >= 0)
    return dict(
        index=k, kind=op.kind, summary=f"{shapes}, {call.macs:,} MACs" if call.macs else shapes,
        call=text, params_type=call.params_type if text else None, params_name=pname,
        params_init=[(f, _c_value(v)) for f, v in call.params_init.items()],
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
