"""Builds a generated folder with the host gcc and runs batches through it.

Release and trace builds are shared libraries loaded with cffi (ABI mode),
so a batch runs in-process. Sanitizer builds (ASan + UBSan) are a small
executable instead: the sanitizer runtimes cannot be loaded into a Python
process that was not started with them, and a subprocess also turns any
sanitizer report into a clean failure.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cffi
import jinja2
import numpy as np

from ..errors import BuildError, McugenError
from ..resources import data_dir

CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-Wno-unused-function"]
MODES = {
    "release": ["-O2"],
    "trace": ["-O2", "-DMCUGEN_TRACE"],
    "sanitize": ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"],
}
_NP = {"int8_t": np.int8, "uint8_t": np.uint8, "int16_t": np.int16, "int32_t": np.int32, "float": np.float32}


def cache_root() -> Path:
    base = os.environ.get("MCUGEN_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "mcugen")
    return Path(base) / "host"


@dataclass
class IOSpec:
    shape: list[int]
    dtype: np.dtype
    nbytes: int


def _read_report(gen_dir: Path) -> dict:
    try:
        return json.loads((gen_dir / "mcugen_report.json").read_text())
    except (OSError, ValueError):
        raise McugenError(f"'{gen_dir}' is not a folder written by `mcugen generate` (no readable mcugen_report.json)") from None


def _compile(gen_dir: Path, report: dict, mode: str, extra_sources: list[Path] = (), shared: bool = True) -> Path:
    name = report["name"]
    srcs = [gen_dir / f"{name}.c", gen_dir / f"{name}_weights.c"] + [gen_dir / "runtime" / "src" / s for s in report["runtime_sources"]]
    srcs += list(extra_sources)
    flags = CFLAGS + MODES[mode] + [f"-I{gen_dir}", f"-I{gen_dir / 'runtime' / 'include'}", f"-I{gen_dir / 'runtime' / 'src'}"]
    if shared:
        flags += ["-shared", "-fPIC"]
    cc = os.environ.get("CC", "gcc")
    h = hashlib.sha256(" ".join([cc, *flags]).encode())
    for f in sorted(gen_dir.rglob("*")):
        if f.is_file() and f.suffix in (".c", ".h"):
            h.update(str(f.relative_to(gen_dir)).encode())
            h.update(f.read_bytes())
    for f in extra_sources:
        h.update(Path(f).read_bytes())
    out = cache_root() / h.hexdigest()[:24] / (f"lib{name}.so" if shared else f"{name}_runner")
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp" + str(os.getpid()))
    cmd = [cc, *flags, *map(str, srcs), "-o", str(tmp)]
    if not shared:
        cmd.append("-lm")
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except FileNotFoundError:
        raise BuildError(f"the host C compiler '{cc}' is not installed; install gcc (apt-get install gcc)") from None
    if r.returncode != 0:
        raise BuildError(f"host build of '{gen_dir}' failed ({mode}):\n{r.stderr.strip()[-4000:]}")
    os.replace(tmp, out)
    return out


class HostModel:
    """A generated library built for the host."""

    def __init__(self, gen_dir: str | os.PathLike, mode: str = "release"):
        if mode not in MODES:
            raise ValueError(mode)
        self.dir = Path(gen_dir)
        self.report = _read_report(self.dir)
        self.name = self.report["name"]
        self.mode = mode
        self.inputs = [IOSpec(d["shape"], np.dtype(_NP[d["ctype"]]), d["nbytes"]) for d in self.report["inputs"]]
        self.outputs = [IOSpec(d["shape"], np.dtype(_NP[d["ctype"]]), d["nbytes"]) for d in self.report["outputs"]]
        if mode == "sanitize":
            self._runner = self._build_runner()
        else:
            lib = _compile(self.dir, self.report, mode)
            self.ffi = cffi.FFI()
            self.ffi.cdef(f"int {self.name}_invoke_multi(const void *const *inputs, void *const *outputs);")
            if mode == "trace":
                self.ffi.cdef(f"typedef void (*trace_fn)(int32_t, int32_t, const void *, int32_t);"
                              f"void {self.name}_set_trace(trace_fn hook);")
            self.lib = self.ffi.dlopen(str(lib))

    def _build_runner(self) -> Path:
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(data_dir("templates"))), undefined=jinja2.StrictUndefined)
        at, ins = 0, []
        for s in self.inputs:
            ins.append(dict(at=at)); at += s.nbytes
        in_bytes, at, outs = at, 0, []
        for s in self.outputs:
            outs.append(dict(at=at)); at += s.nbytes
        text = env.get_template("host_runner.c.j2").render(name=self.name, inputs=ins, outputs=outs,
                                                           in_bytes=max(in_bytes, 1), out_bytes=max(at, 1))
        h = hashlib.sha256(text.encode()).hexdigest()[:16]
        src = cache_root() / "runners" / f"{self.name}_{h}.c"
        src.parent.mkdir(parents=True, exist_ok=True)
        if not src.exists():
            src.write_text(text)
        return _compile(self.dir, self.report, "sanitize", extra_sources=[src], shared=False)

    def _check_batch(self, batch: list[np.ndarray]) -> int:
        if len(batch) != len(self.inputs):
            raise McugenError(f"model has {len(self.inputs)} inputs, batch has {len(batch)}")
        n = len(batch[0])
        for x, s in zip(batch, self.inputs):
            if x.shape != (n, *s.shape) or x.dtype != s.dtype:
                raise McugenError(f"batch input {x.dtype}{list(x.shape)} does not match {s.dtype}[N, {s.shape}]")
        return n

    def run_batch(self, batch: list[np.ndarray]) -> list[np.ndarray]:
        n = self._check_batch(batch)
        if self.mode == "sanitize":
            return self._run_runner(batch, n)
        outs = [np.zeros((n, *s.shape), dtype=s.dtype) for s in self.outputs]
        for s in range(n):
            self._invoke([np.ascontiguousarray(x[s]) for x in batch], [o[s] for o in outs])
        return outs

    def _invoke(self, ins: list[np.ndarray], outs: list[np.ndarray]) -> None:
        ffi = self.ffi
        in_ptrs = ffi.new("void *[]", [ffi.from_buffer(x) for x in ins])
        out_ptrs = ffi.new("void *[]", [ffi.from_buffer(o) for o in outs])
        rc = getattr(self.lib, f"{self.name}_invoke_multi")(in_ptrs, out_ptrs)
        if rc != 0:
            raise BuildError(f"{self.name}_invoke_multi returned {rc}")

    def trace(self, sample: list[np.ndarray]) -> tuple[list[np.ndarray], dict[tuple[int, int], bytes]]:
        """One sample through a trace build: outputs plus every operator's
        output bytes, keyed (operator index, output index)."""
        if self.mode != "trace":
            raise ValueError("trace() needs mode='trace'")
        seen: dict[tuple[int, int], bytes] = {}

        @self.ffi.callback("void(int32_t, int32_t, const void *, int32_t)")
        def hook(op, j, data, nbytes):
            seen[(op, j)] = bytes(self.ffi.buffer(data, nbytes))

        getattr(self.lib, f"{self.name}_set_trace")(hook)
        outs = [np.zeros(s.shape, dtype=s.dtype) for s in self.outputs]
        try:
            self._invoke([np.ascontiguousarray(x) for x in sample], outs)
        finally:
            getattr(self.lib, f"{self.name}_set_trace")(self.ffi.NULL)
        return outs, seen

    def _run_runner(self, batch: list[np.ndarray], n: int) -> list[np.ndarray]:
        with tempfile.TemporaryDirectory(prefix="mcugen-run-") as d:
            fin, fout = Path(d) / "in.bin", Path(d) / "out.bin"
            with open(fin, "wb") as f:
                for s in range(n):
                    for x in batch:
                        f.write(np.ascontiguousarray(x[s]).tobytes())
            env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:abort_on_error=0", UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
            r = subprocess.run([str(self._runner), str(fin), str(fout), str(n)], capture_output=True, text=True, env=env, timeout=1200)
            if r.returncode != 0:
                raise BuildError(f"sanitizer build of {self.name} failed (exit {r.returncode}):\n{r.stderr.strip()[-4000:]}")
            raw = fout.read_bytes()
        per = sum(s.nbytes for s in self.outputs)
        if len(raw) != per * n:
            raise BuildError(f"runner wrote {len(raw)} bytes, expected {per * n}")
        outs = [np.zeros((n, *s.shape), dtype=s.dtype) for s in self.outputs]
        for s in range(n):
            at = s * per
            for o, spec in zip(outs, self.outputs):
                o[s] = np.frombuffer(raw[at:at + spec.nbytes], dtype=spec.dtype).reshape(spec.shape)
                at += spec.nbytes
        return outs


def clear_cache() -> None:
    shutil.rmtree(cache_root(), ignore_errors=True)
