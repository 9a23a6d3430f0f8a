"""The compression report: per layer with weights, as Deep Compression's
Table 2 gives it (Han et al., 2016), plus the entropy bound.

For each layer: the number of weights, their density (non-zero share), the
chosen format, bits per stored weight for the values and for the sparse
indices (before and after Huffman), the weight bytes after each stage
(int8 as the model stores them -> pruning (CSR) -> quantization (LUT
codebook) -> Huffman), and the empirical-entropy lower bound of the stored
8-bit symbols. A stage the format does not use keeps the previous bytes.
Totals give the compression ratio against int8.

Only the weight tables count here (values, indices, codebooks); biases and
requantization tables are the same in every format and are listed as
"other". All bytes are flash bytes; Huffman bytes include the code tables.
Value bits are per stored value (every weight, or CSR's non-zeros), index
bits per non-zero with the row pointers included. Dense convolution
tables are padded to whole words, so their "stored" bytes can exceed int8.
"""

from __future__ import annotations

import re

from . import ir, stats
from .formats import huffman as H
from .plan.formats import DENSE, WeightFormat, analyze

# table roles from the lowering's names (l{k}_<suffix>)
_OTHER = re.compile(r"_(bias|rq|tapoff|shift|mult)\d*$")
_INDEX = re.compile(r"(idx|index|col|delta|ptr|row|nnz|skip)", re.I)
_CODEBOOK = re.compile(r"(cb|codebook|centroid|book|lutv)", re.I)


def table_role(name: str) -> str:
    """'values', 'indices', 'codebook' or 'other' for a constant table name."""
    suffix = name.split("_", 1)[1] if "_" in name else name
    if _OTHER.search(name):
        return "other"
    if _CODEBOOK.search(suffix):
        return "codebook"
    if _INDEX.search(suffix):
        return "indices"
    return "values"


def _weight_bytes(call) -> int:
    return int(sum(c.data.nbytes for c in call.consts if table_role(c.name) != "other"))


def layer_row(graph: ir.Graph, k: int, fmt: WeightFormat, call, coded, st, rounding: str = "double") -> dict:
    """One row of the table for layer k stored as `fmt` (call: its lowering,
    coded: its Huffman-coded tables)."""
    from .codegen.generate import lower_layer

    by_role: dict[str, int] = {}
    for c in call.consts:
        by_role[table_role(c.name)] = by_role.get(table_role(c.name), 0) + int(c.data.nbytes)
    coded_by = {t.name: t for t in coded}
    sparse = fmt.kind in ("csr", "csr_lut")
    n_values = st.nonzero if sparse else st.weights
    # bytes after each stage (None: stage not used)
    int8 = st.weights
    pruned = quant = None
    if sparse:
        pruned = _weight_bytes(call) if fmt.kind == "csr" else _weight_bytes(
            lower_layer(graph, k, WeightFormat("csr", index_bits=fmt.index_bits), rounding=rounding))
    if fmt.kind in ("lut", "csr_lut"):
        quant = _weight_bytes(call)
    weights_now = _weight_bytes(call)
    huff = None
    bits = {"values": 0.0, "indices": 0.0}
    hbits = {"values": 0.0, "indices": 0.0}
    entropy_bits = coded_bits = code_tables = 0.0
    coded_entropy = 0.0
    for c in call.consts:
        role = table_role(c.name)
        if role == "other":
            continue
        if role in bits:
            bits[role] += 8 * c.data.nbytes
        t = coded_by.get(c.name)
        if c.ctype in ("int8_t", "uint8_t"):
            e = t.stream.entropy_bits if t is not None else H.entropy_bits(c.data)
            entropy_bits += e
        else:  # wider tables are stored as they are
            entropy_bits += 8 * c.data.nbytes
        if t is not None:
            coded_bits += t.stream.nbits
            coded_entropy += t.stream.entropy_bits
            code_tables += t.stream.table_bytes
            if role in hbits:
                hbits[role] += t.stream.nbits
        elif role in hbits:
            hbits[role] += 8 * c.data.nbytes
    if coded:
        huff = weights_now - sum(t.decoded_bytes for t in coded) + sum(t.flash_bytes for t in coded)
    final = huff if huff is not None else weights_now
    nnz = max(st.nonzero, 1)
    row = {
        "layer": k, "op": graph.operators[k].kind, "weights": st.weights, "nonzero": st.nonzero,
        "density": round(st.density, 4), "format": str(fmt),
        "value_bits": round(bits["values"] / max(n_values, 1), 3),
        "index_bits": round(bits["indices"] / nnz, 3) if sparse else None,
        "value_bits_huffman": round(hbits["values"] / max(n_values, 1), 3) if coded else None,
        "index_bits_huffman": round(hbits["indices"] / nnz, 3) if (coded and sparse) else None,
        "bytes": {"int8": int8, "pruned": pruned, "quantized": quant, "huffman": huff},
        "weight_bytes": final,
        "codebook_bytes": by_role.get("codebook", 0),
        "other_bytes": by_role.get("other", 0),
        "entropy_bound_bytes": round(entropy_bits / 8, 1),
        "huffman_coded_bytes": round(coded_bits / 8, 1) if coded else None,
        "huffman_entropy_bytes": round(coded_entropy / 8, 1) if coded else None,
        "huffman_code_table_bytes": int(code_tables) if coded else None,
        "huffman_mode": fmt.huffman,
        "ratio": round(int8 / final, 3) if final else None,
    }
    return row


def compression_report(graph: ir.Graph, gen, rounding: str = "double") -> dict:
    """The report section for a codegen.generate.Generated."""
    structures = analyze(graph)
    rows = []
    for k, st in structures.items():
        fmt = gen.formats.get(k, DENSE)
        rows.append(layer_row(graph, k, fmt, gen.calls[k], gen.coded.get(k, []), st, rounding))
    return {"layers": rows, "totals": totals(rows)}


def totals(rows: list[dict]) -> dict:
    int8 = sum(r["bytes"]["int8"] for r in rows)
    final = sum(r["weight_bytes"] for r in rows)
    coded = [r for r in rows if r["huffman_coded_bytes"] is not None]
    t = {
        "weights": sum(r["weights"] for r in rows), "nonzero": sum(r["nonzero"] for r in rows),
        "int8_bytes": int8, "weight_bytes": final,
        "other_bytes": sum(r["other_bytes"] for r in rows),
        "entropy_bound_bytes": round(sum(r["entropy_bound_bytes"] for r in rows), 1),
        "ratio": round(int8 / final, 3) if final else None,
    }
    t["density"] = round(t["nonzero"] / t["weights"], 4) if t["weights"] else None
    if coded:
        cb = sum(r["huffman_coded_bytes"] for r in coded)
        eb = sum(r["huffman_entropy_bytes"] for r in coded)
        t["huffman"] = {"coded_bytes": round(cb, 1), "entropy_bytes": round(eb, 1),
                        "over_entropy": round(cb / eb - 1.0, 4) if eb else None,
                        "code_table_bytes": sum(r["huffman_code_table_bytes"] for r in coded)}
    return t


def _b(v) -> str:
    return "-" if v is None else f"{v:,}"


def _f(v, digits=2) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def compression_table(section: dict) -> str:
    """The printed form: one row per layer with weights, then totals."""
    rows = []
    for r in section["layers"]:
        b = r["bytes"]
        vb = _f(r["value_bits"]) + (f" / {_f(r['value_bits_huffman'])}" if r["value_bits_huffman"] is not None else "")
        ib = _f(r["index_bits"]) + (f" / {_f(r['index_bits_huffman'])}" if r["index_bits_huffman"] is not None else "")
        rows.append([r["layer"], r["op"], r["format"], f"{r['weights']:,}", f"{100 * r['density']:.1f}%", vb, ib,
                     _b(b["int8"]), _b(b["pruned"]), _b(b["quantized"]), _b(b["huffman"]),
                     f"{r['entropy_bound_bytes']:,.0f}", f"{r['ratio']:.2f}x" if r["ratio"] else "-"])
    t = section["totals"]
    rows.append(["", "total", "", f"{t['weights']:,}", f"{100 * (t['density'] or 0):.1f}%", "", "",
                 _b(t["int8_bytes"]), "", "", "", f"{t['entropy_bound_bytes']:,.0f}",
                 f"{t['ratio']:.2f}x" if t["ratio"] else "-"])
    table = stats.format_table(["#", "op", "format", "weights", "density", "value bits (/+H)", "index bits (/+H)",
                                "int8 B", "pruned B", "quantized B", "huffman B", "entropy B", "ratio"], rows,
                               right={0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
    lines = [table, f"weights {t['int8_bytes']:,} B as int8 -> {t['weight_bytes']:,} B stored "
                    f"({t['ratio']:.2f}x smaller); biases and requantization tables {t['other_bytes']:,} B more"]
    h = t.get("huffman")
    if h:
        lines.append(f"Huffman: {h['coded_bytes']:,.0f} B of codes for an entropy bound of {h['entropy_bytes']:,.0f} B "
                     f"({100 * h['over_entropy']:+.2f}%), plus {h['code_table_bytes']:,} B of code tables")
    return "\n".join(lines)
