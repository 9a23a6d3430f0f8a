"""The batch contract every engine shares.

IN.npz holds one array per model input, keyed `input_0`, `input_1`, … (model
order) or by tensor name, each a stack of N samples on a new first axis
(sample shape = the tensor's full shape). OUT.npz holds `output_0`, … the
same way.
"""

from __future__ import annotations

import os
import zipfile

import numpy as np

from . import ir
from .errors import InputError


def read_inputs(graph: ir.Graph, path: str | os.PathLike) -> list[np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise InputError(f"inputs file '{path}' does not exist") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise InputError(f"cannot read '{path}' as .npz ({e}); save inputs with numpy.savez") from None
    return check_inputs(graph, arrays, origin=str(path))


def check_inputs(graph: ir.Graph, arrays: dict[str, np.ndarray], origin: str = "inputs") -> list[np.ndarray]:
    batch = []
    for k, i in enumerate(graph.inputs):
        t = graph.t(i)
        key = f"input_{k}" if f"input_{k}" in arrays else t.name
        if key not in arrays:
            raise InputError(f"{origin} has no array 'input_{k}' or '{t.name}' for model input {k}; "
                             f"it holds {sorted(arrays)}")
        x = np.asarray(arrays[key])
        want = tuple(t.shape)
        if x.shape[1:] != want:
            if x.shape == want:
                raise InputError(f"{origin}: '{key}' has shape {list(x.shape)}, one sample without the leading sample axis; "
                                 f"stack samples as [N, {', '.join(map(str, want))}]")
            raise InputError(f"{origin}: '{key}' has shape {list(x.shape)}; model input {k} needs [N, {', '.join(map(str, want))}]")
        dt = np.dtype(ir.DTYPES[t.dtype])
        if x.dtype != dt:
            if dt.kind == "i" and x.dtype.kind in "iu" and (x.min(initial=0) < np.iinfo(dt).min or x.max(initial=0) > np.iinfo(dt).max):
                raise InputError(f"{origin}: '{key}' holds values outside {t.dtype}")
            if dt.kind == "i" and x.dtype.kind == "f":
                raise InputError(f"{origin}: '{key}' is {x.dtype} but model input {k} is {t.dtype}: quantize it first")
            x = x.astype(dt)
        batch.append(x)
    ns = {len(x) for x in batch}
    if len(ns) > 1:
        raise InputError(f"{origin}: inputs hold different numbers of samples {sorted(ns)}")
    return batch


def write_outputs(path: str | os.PathLike, outputs: list[np.ndarray]) -> None:
    np.savez(path, **{f"output_{k}": y for k, y in enumerate(outputs)})


def random_inputs(graph: ir.Graph, n: int, seed: int = 0) -> list[np.ndarray]:
    """N random samples per input: uniform int8, or floats spanning the
    input quantization's range for float-I/O models."""
    rng = np.random.default_rng(seed)
    batch = []
    for i in graph.inputs:
        t = graph.t(i)
        shape = (n, *t.shape)
        if t.dtype == "float32":
            # the QUANTIZE consumer's range, with a little overshoot to test clamping
            q = next((graph.t(op.outputs[0]).quant for op in graph.operators if op.kind == "QUANTIZE" and op.inputs[0] == i), None)
            lo, hi = (-1.0, 1.0) if q is None else (float(q.s) * (-128 - q.zp) * 1.05, float(q.s) * (127 - q.zp) * 1.05)
            batch.append(rng.uniform(lo, hi, size=shape).astype(np.float32))
        else:
            info = np.iinfo(ir.DTYPES[t.dtype])
            batch.append(rng.integers(info.min, info.max + 1, size=shape).astype(ir.DTYPES[t.dtype]))
    return batch
