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
        z = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise InputError(f"inputs file '{path}' does not exist; give an .npz written with numpy.savez") from None
    except IsADirectoryError:
        raise InputError(f"inputs path '{path}' is a directory; give an .npz file") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise InputError(f"cannot read '{path}' as .npz ({e}); save inputs with numpy.savez") from None
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise InputError(f"'{path}' holds a single array (.npy); save inputs with numpy.savez(path, input_0=...)")
    with z:
        try:
            arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
            raise InputError(f"cannot read '{path}' as .npz ({e}); save inputs with numpy.savez") from None
    return check_inputs(graph, arrays, origin=str(path))


def _keys(graph: ir.Graph, arrays: dict, origin: str) -> list[str]:
    """Which array feeds which input: all keyed `input_K`, or all keyed by
    tensor name. Anything else (extra keys, a mix, a name that is also
    another input's index key) is refused rather than guessed."""
    names = [graph.t(i).name for i in graph.inputs]
    by_index = [f"input_{k}" for k in range(len(names))]
    keys = set(arrays)
    if keys == set(names) and keys == set(by_index) and names != by_index:
        raise InputError(f"{origin}: keys {sorted(keys)} are both input indices and (differently ordered) tensor names; "
                         "rename the model inputs or key the arrays unambiguously")
    if keys == set(by_index):
        return by_index
    if keys == set(names) and len(set(names)) == len(names):
        return names
    missing = [k for k in range(len(names)) if by_index[k] not in keys and names[k] not in keys]
    if missing:
        k = missing[0]
        raise InputError(f"{origin} has no array '{by_index[k]}' or '{names[k]}' for model input {k}; "
                         f"it holds {sorted(keys)}")
    raise InputError(f"{origin} holds {sorted(keys)}: key every array 'input_0'… (model order) or every array by "
                     f"tensor name ({', '.join(repr(n) for n in names)}), with no other arrays")


def check_inputs(graph: ir.Graph, arrays: dict[str, np.ndarray], origin: str = "inputs") -> list[np.ndarray]:
    batch = []
    for k, key in enumerate(_keys(graph, arrays, origin)):
        t = graph.t(graph.inputs[k])
        x = np.asarray(arrays[key])
        want = tuple(t.shape)
        if x.shape[1:] != want:
            if x.shape == want:
                raise InputError(f"{origin}: '{key}' has shape {list(x.shape)}, one sample without the leading sample axis; "
                                 f"stack samples as [N, {', '.join(map(str, want))}]")
            raise InputError(f"{origin}: '{key}' has shape {list(x.shape)}; model input {k} needs [N, {', '.join(map(str, want))}]")
        if len(x) == 0:
            raise InputError(f"{origin}: '{key}' holds no samples; give at least one")
        dt = np.dtype(ir.DTYPES[t.dtype])
        if x.dtype != dt:
            if x.dtype.kind not in "iuf":
                raise InputError(f"{origin}: '{key}' is {x.dtype}; model input {k} is {t.dtype}")
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


def check_output_path(path: str | os.PathLike, inputs: str | os.PathLike | None = None) -> None:
    """Fails before any work is done if OUT.npz cannot be written as named."""
    p = os.fspath(path)
    if not p.endswith(".npz"):
        raise InputError(f"--out '{p}' must end in .npz (numpy would silently write '{p}.npz')")
    if os.path.isdir(p):
        raise InputError(f"--out '{p}' is a directory; name an .npz file")
    parent = os.path.dirname(os.path.abspath(p))
    if not os.path.isdir(parent):
        raise InputError(f"--out '{p}': folder '{parent}' does not exist; create it first")
    if inputs is not None and os.path.abspath(p) == os.path.abspath(os.fspath(inputs)):
        raise InputError(f"--out '{p}' is the inputs file; choose another name so the inputs are kept")


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
