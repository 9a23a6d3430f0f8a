"""The contract between operators and runtime_c kernels.

Each operator lowers to one KernelCall: which C function runs it, the
constant tables it needs (already folded and laid out in the order the
kernel streams them), a parameter struct with every shape, multiplier and
offset fixed at generation time, and the scratch it needs. Lowering
functions live in lower_*.py modules, each exporting
LOWER = {"OP_KIND": fn(graph, op, index) -> KernelCall}. The renderer
substitutes buffer placeholders and writes the call; it never interprets
the arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class ConstArray:
    name: str  # unique in the model; lowering prefixes "l{index}_"
    ctype: str  # "int8_t", "int16_t", "int32_t", "uint8_t", "uint16_t", "uint32_t"
    data: np.ndarray  # 1-D, of the matching numpy dtype
    align: int = 16


@dataclass
class KernelCall:
    func: str  # C function, e.g. "mcu_conv2d_s8"
    # C argument expressions, in order. Placeholders the renderer fills:
    # {in0} {in1} … activation inputs (int8_t* into the arena), {out0} … outputs,
    # {scratch} (int8_t* scratch area, NULL when scratch_bytes == 0),
    # {params} (address of the params struct). Constant tables by their name.
    args: list[str]
    inputs: list[int]  # tensor indices bound to {in0}, {in1}, …
    outputs: list[int]  # tensor indices bound to {out0}, …
    params_type: str | None = None  # C struct type of {params}
    params_init: dict[str, object] = field(default_factory=dict)  # field -> int/str C initializer
    consts: list[ConstArray] = field(default_factory=list)
    scratch_bytes: int = 0
    sources: list[str] = field(default_factory=list)  # runtime_c/src/*.c files this call needs
    macs: int = 0
    # Output may share memory with input k (elementwise kernels that read
    # each element before writing it); None when the kernel needs separate buffers.
    inplace_input: int | None = None
