"""TFLM, through the `tflite-micro` wheel: the oracle deployed firmware must match."""

from __future__ import annotations

import os

import numpy as np

from ..errors import McugenError


def run_batch(model_path: str | os.PathLike, batch: list[np.ndarray], n_outputs: int) -> list[np.ndarray]:
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError:
        raise McugenError("the tflm engine needs the 'tflite-micro' package: pip install tflite-micro") from None
    interp = runtime.Interpreter.from_file(os.fspath(model_path))
    n = len(batch[0]) if batch else 0
    outs: list[list[np.ndarray]] = []
    for s in range(n):
        for k, x in enumerate(batch):
            interp.set_input(x[s], k)
        interp.invoke()
        row = [np.array(interp.get_output(k)) for k in range(n_outputs)]
        outs.append(row)
    return [np.stack([row[k] for row in outs]) for k in range(n_outputs)]
