"""`mcugen` command line: inspect, run, generate, verify, boards."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from . import __version__, batch as batch_io, frontend, reference, stats
from .errors import EXIT_CODE, BudgetError, McugenError

ENGINES = ("reference", "tflm", "c", "qemu")


def _progress(msg: str) -> None:
    print(f"mcugen: {msg}", file=sys.stderr, flush=True)


def _board(name: str | None):
    if name is None:
        return None
    from .boards import get_board

    return get_board(name)


def cmd_inspect(args) -> int:
    graph = frontend.load(args.model)
    print(stats.inspect_text(graph))
    return 0


def choose_formats(args, graph, board=None) -> dict:
    """The weight format of every layer from --optimize, --format, --huffman
    and the board (mcugen.plan.formats); logs the compressed ones."""
    from .plan.formats import DENSE, choose, summarize

    choice = choose(graph, optimize=args.optimize, board=board, overrides=args.format, huffman=args.huffman,
                    rounding=args.rounding)
    formats = choice.formats
    args.format_notes = [n for n in choice.notes if "do not make it fit" in n]
    chosen = {k: f for k, f in formats.items() if f != DENSE}
    if chosen:
        _progress(f"weight formats (--optimize {args.optimize}): {summarize(chosen)}; other layers dense")
    return formats


def run_engine(engine: str, model: str, graph, batch, *, board=None, rounding="double", sanitize=False,
               profile=False, workdir: Path | None = None, name: str | None = None, formats: dict | None = None):
    """Runs `batch` through one engine; returns (outputs, extra info dict).
    `formats`: operator index -> WeightFormat for the c and qemu engines."""
    if engine == "reference":
        return reference.run_batch(graph, batch, rounding=rounding), {}
    if engine == "tflm":
        from .harness import tflm

        return tflm.run_batch(model, batch, len(graph.outputs)), {}
    if engine == "c":
        from .codegen.generate import generate
        from .harness.host import HostModel

        with tempfile.TemporaryDirectory(prefix="mcugen-c-") as d:
            gen_dir = Path(workdir or d) / "gen"
            generate(graph, gen_dir, name=name, source=Path(model).name, force=True, rounding=rounding,
                     formats=formats, compression=False)
            m = HostModel(gen_dir, mode="sanitize" if sanitize else "release")
            return m.run_batch(batch), {}
    if engine == "qemu":
        if board is None:
            raise McugenError("--engine qemu needs --board (see `mcugen boards` for the emulated ones)")
        from .codegen.generate import build
        from .harness import firmware

        gen = build(graph, name=name, source=Path(model).name if model else "model", rounding=rounding,
                    formats=formats)
        return firmware.run_batch(graph, model, batch, board, profile=profile, name=name, gen=gen)
    raise McugenError(f"unknown engine '{engine}'; choose one of {', '.join(ENGINES)}")


def cmd_run(args) -> int:
    if args.engine == "qemu" and not args.board:
        raise McugenError("--engine qemu needs --board (see `mcugen boards` for the emulated ones)")
    if args.engine != "qemu" and (args.board or args.profile):
        raise McugenError(f"--{'board' if args.board else 'profile'} applies to --engine qemu only, not {args.engine}")
    if args.sanitize and args.engine != "c":
        raise McugenError(f"--sanitize applies to --engine c only, not {args.engine}")
    batch_io.check_output_path(args.out, args.inputs)
    board = _board(args.board)
    if args.engine == "qemu":
        from .harness.firmware import emulated_board

        emulated_board(board)
    graph = frontend.load(args.model)
    batch = batch_io.read_inputs(graph, args.inputs)
    n = len(batch[0])
    _progress(f"running {n} sample(s) of {graph.name} on the {args.engine} engine")
    formats = choose_formats(args, graph, board) if args.engine in ("c", "qemu") else None
    outs, info = run_engine(args.engine, args.model, graph, batch, board=board, rounding=args.rounding,
                            sanitize=args.sanitize, profile=args.profile, formats=formats)
    batch_io.write_outputs(args.out, outs)
    if info.get("profile_text"):
        print(info["profile_text"])
    elif info.get("instructions"):
        print(_instructions_line(info, graph))
    _progress(f"wrote {len(outs)} output array(s) of {n} sample(s) to {args.out}")
    return 0


def _instructions_line(info: dict, graph) -> str:
    counts = info["instructions"]
    macs = sum(stats.macs(graph, op) for op in graph.operators)
    per_mac = f", {counts[0] / macs:.2f} per MAC" if macs else ""
    spread = f" (min {min(counts):,}, max {max(counts):,} over {len(counts)} samples)" if len(set(counts)) > 1 else ""
    return (f"{info.get('board', '')} ({info.get('qemu_machine', '')}): {counts[0]:,} instructions per inference{per_mac}"
            f"{spread}; guest instructions counted exactly, not cycles")


def cmd_generate(args) -> int:
    from .codegen.generate import build, generate
    from .report_compression import compression_table

    graph = frontend.load(args.model)
    board = _board(args.board)
    _progress(f"generating C for {graph.name} ({len(graph.operators)} operators) into {args.output}")
    formats = choose_formats(args, graph, board)
    gen = build(graph, name=args.name, source=Path(args.model).name, rounding=args.rounding, formats=formats)
    extra = {"optimize": args.optimize, "huffman": args.huffman, "format_overrides": list(args.format or [])}
    if board is not None:
        from .budget import check_budget

        try:
            fit = check_budget(graph, board, name=args.name, gen=gen)
        except BudgetError as e:
            raise BudgetError(" ".join([str(e)] + [n[0].upper() + n[1:] + "." for n in args.format_notes])) from None
        print(fit.table)
        extra["board"] = fit.as_dict()
    gen = generate(graph, args.output, force=args.force, extra_report=extra, rounding=args.rounding, gen=gen)
    print(report_table(gen.report))
    if gen.report["compression"]["layers"]:
        print()
        print(compression_table(gen.report["compression"]))
    _progress(f"wrote {len(gen.files) + 1} files to {args.output}")
    return 0


def report_table(report: dict) -> str:
    rows = []
    for l in report["layers"]:
        outs = l["output"][0]
        rows.append([l["index"], l["op"], l["kernel"], "x".join(map(str, outs["shape"])), f"{l['macs']:,}",
                     f"{l['weight_bytes']:,}", f"{l['scratch_bytes']:,}", outs["arena_offset"], f"{outs['bytes']:,}"])
    t = stats.format_table(["#", "op", "kernel", "output", "MACs", "weight B", "scratch B", "arena off", "out B"], rows,
                           right={0, 4, 5, 6, 7, 8})
    ram = f" (+{report['ram_weight_bytes']:,} bytes of RAM for weights decoded at init)" if report.get("ram_weight_bytes") else ""
    return (f"{t}\n\narena {report['arena_bytes']:,} bytes, weights {report['weight_bytes']:,} bytes{ram}, "
            f"{report['macs']:,} MACs per inference")


def cmd_verify(args) -> int:
    from .verify import compare

    if args.n < 1:
        raise McugenError(f"--n {args.n}: give at least one sample")
    board = _board(args.board)
    if board is not None:
        from .harness.firmware import emulated_board

        emulated_board(board)  # fail before TFLM and the host build, not after
    graph = frontend.load(args.model)
    if args.inputs:
        batch = batch_io.read_inputs(graph, args.inputs)
    else:
        batch = batch_io.random_inputs(graph, args.n, seed=args.seed)
    n = len(batch[0])
    _progress(f"verifying {graph.name} on {n} sample(s)")
    formats = choose_formats(args, graph, board)
    ref = reference.run_batch(graph, batch, rounding=args.rounding)
    results = []
    if not args.no_tflm and args.rounding == "double":  # TFLM itself rounds twice
        _progress("running TFLM (tflite-micro)")
        results.append(compare("reference", ref, "tflm", run_engine("tflm", args.model, graph, batch)[0]))
    _progress("generating and building C for the host" + (" with ASan/UBSan" if args.sanitize else ""))
    c_out, _ = run_engine("c", args.model, graph, batch, sanitize=args.sanitize, rounding=args.rounding,
                          formats=formats)
    results.append(compare("c (host" + (", asan+ubsan" if args.sanitize else "") + ")", c_out, "reference", ref))
    if board is not None:
        _progress(f"building firmware for {board.name} and running it under QEMU")
        q_out, info = run_engine("qemu", args.model, graph, batch, board=board, rounding=args.rounding,
                                 formats=formats)
        results.append(compare(f"qemu ({board.name})", q_out, "reference", ref))
        print(_instructions_line(info, graph))
    rows = [[r.engine, r.against, f"{r.samples - r.mismatched_samples}/{r.samples}", r.differing_elements,
             f"{r.max_abs_diff:g}", "bit-exact" if r.ok else "MISMATCH"] for r in results]
    print(stats.format_table(["engine", "against", "samples equal", "elements differing", "max diff", "result"], rows))
    bad = [r for r in results if not r.ok]
    if bad:
        locate = next((r for r in bad if r.engine.startswith("c")), None)
        if locate is not None:
            print(_locate_c_mismatch(graph, args.model, batch, ref, c_out, args.rounding, formats))
        print(f"FAILED: {len(bad)} comparison(s) differ", file=sys.stderr)
        return 1
    print(f"OK: all {len(results)} comparisons bit-exact on {n} sample(s)")
    return 0


def _locate_c_mismatch(graph, model, batch, ref, c_out, rounding, formats=None) -> str:
    from .codegen.generate import generate
    from .harness.host import HostModel
    from .verify import first_difference

    s = next(s for s in range(len(batch[0])) if any((c[s] != r[s]).any() for c, r in zip(c_out, ref)))
    with tempfile.TemporaryDirectory(prefix="mcugen-trace-") as d:
        generate(graph, Path(d) / "gen", source=Path(model).name, force=True, rounding=rounding, formats=formats,
                 compression=False)
        m = HostModel(Path(d) / "gen", mode="trace")
        _, traced = m.trace([x[s] for x in batch])
    diff = first_difference(graph, traced, [x[s] for x in batch], rounding=rounding)
    return f"sample {s}: " + (str(diff) if diff else "no operator output differs in the trace build (the difference is in input/output copies)")


def cmd_boards(args) -> int:
    from .boards import list_boards

    rows = [[b.name, b.core, f"{b.flash_bytes // 1024:,} KiB", f"{b.ram_bytes // 1024:,} KiB",
             f"{b.clock_hz / 1e6:g} MHz" if b.clock_hz else "-", b.qemu_machine or "-"] for b in list_boards()]
    print(stats.format_table(["board", "core", "flash", "RAM", "clock", "QEMU machine"], rows))
    return 0


def _format_args(s) -> None:
    from .plan.formats import HUFFMAN_CHOICES, OPTIMIZE

    s.add_argument("--optimize", choices=OPTIMIZE, default="balanced",
                   help="weight formats: least flash (size), fewest instructions (speed) or, by default, compressed "
                        "only where it saves more memory than it costs time (balanced)")
    s.add_argument("--format", action="append", metavar="LAYER=FORMAT",
                   help="store layer LAYER (operator index, or 'all') as FORMAT: dense, csr4, csr8, lutN, lutNpc, "
                        "csr4+lutN[pc], … each optionally +huffman[-init|-stream] (repeatable; wins over --optimize)")
    s.add_argument("--huffman", choices=HUFFMAN_CHOICES, default="auto",
                   help="Huffman-code weight tables: auto (where --optimize says it pays), off, or init / stream "
                        "(every layer: decode once into RAM, or before each layer into the arena)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mcugen", description="Compile int8 TFLite models to bit-exact C for Cortex-M.")
    p.add_argument("--version", action="version", version=f"mcugen {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("inspect", help="per-layer table of a model")
    s.add_argument("model")
    s.set_defaults(fn=cmd_inspect)

    s = sub.add_parser("run", help="run a batch of inputs through an engine")
    s.add_argument("model")
    s.add_argument("--inputs", required=True, help=".npz with input_0… (or tensor names), each [N, *shape]")
    s.add_argument("--out", required=True, help=".npz to write output_0…")
    s.add_argument("--engine", choices=ENGINES, default="reference")
    s.add_argument("--board", help="board for --engine qemu")
    s.add_argument("--rounding", choices=reference.interpreter.ROUNDINGS, default="double",
                   help="reference rounding: double (TFLM) or single (newer TFLite/LiteRT)")
    s.add_argument("--sanitize", action="store_true", help="--engine c: build with ASan and UBSan")
    s.add_argument("--profile", action="store_true", help="--engine qemu: per-layer instruction counts")
    _format_args(s)
    s.set_defaults(fn=cmd_run)

    s = sub.add_parser("generate", help="write a C library for the model")
    s.add_argument("model")
    s.add_argument("-o", "--output", required=True, help="output directory")
    s.add_argument("--name", help="C name prefix (default: from the model file name)")
    s.add_argument("--board", help="check the model fits this board (see `mcugen boards`)")
    s.add_argument("--force", action="store_true", help="write into a directory holding other files")
    s.add_argument("--rounding", choices=reference.interpreter.ROUNDINGS, default="double",
                   help="requantization rounding: double (TFLM, default) or single (newer TFLite/LiteRT)")
    _format_args(s)
    s.set_defaults(fn=cmd_generate)

    s = sub.add_parser("verify", help="generate, build and compare C vs reference vs TFLM")
    s.add_argument("model")
    s.add_argument("--inputs", help=".npz batch (default: random inputs)")
    s.add_argument("--n", type=int, default=10, help="random samples (default 10)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--board", help="also run the firmware under QEMU for this board")
    s.add_argument("--sanitize", action="store_true", help="build the host C with ASan and UBSan")
    s.add_argument("--no-tflm", action="store_true", help="skip the TFLM comparison")
    s.add_argument("--rounding", choices=reference.interpreter.ROUNDINGS, default="double")
    _format_args(s)
    s.set_defaults(fn=cmd_verify)

    s = sub.add_parser("boards", help="list board profiles")
    s.set_defaults(fn=cmd_boards)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except McugenError as e:
        print(f"mcugen: error: {e}", file=sys.stderr)
        return EXIT_CODE
    except KeyboardInterrupt:
        print("mcugen: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `mcugen inspect … | head`: the reader left; say nothing more
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0


if __name__ == "__main__":
    sys.exit(main())
