"""Per-operator folded integer parameters, shared by reference and codegen.

Each module exports PARAMS = {"OP_KIND": fn(graph, op) -> dataclass}; a fn
whose integers differ under TFLITE_SINGLE_ROUNDING also takes rounding=.
"""

from __future__ import annotations

import importlib.util
import inspect

from .. import ir
from ..errors import UnsupportedModelError
from . import nn

PARAMS: dict = dict(nn.PARAMS)
# activation/quantize parameters live in their own module, which may not be
# written yet; a module that exists but fails to import must still fail loudly
if importlib.util.find_spec(__name__ + ".activation") is not None:
    from . import activation

    PARAMS.update(activation.PARAMS)


def op_params(graph: ir.Graph, op: ir.Operator, rounding: str = "double"):
    fn = PARAMS.get(op.kind)
    if fn is None:
        raise UnsupportedModelError(f"no parameter derivation for operator {op.kind}")
    # only derivations whose integers depend on the rounding build take it
    if "rounding" in inspect.signature(fn).parameters:
        return fn(graph, op, rounding=rounding)
    return fn(graph, op)
