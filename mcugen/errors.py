"""One exception family for every user-facing failure.

The CLI catches McugenError, prints its message on one line and exits with
EXIT_CODE; anything else is a bug in mcugen and keeps its traceback.
"""

EXIT_CODE = 2


class McugenError(Exception):
    """A failure the user can act on: the message names cause and remedy."""


class ModelFormatError(McugenError):
    """The file is not a readable TFLite flatbuffer."""


class UnsupportedModelError(McugenError):
    """A readable model that mcugen cannot compile (operator, type, quantization)."""


class InputError(McugenError):
    """Inputs given to `run`/`verify` do not match the model."""


class BuildError(McugenError):
    """Generated code failed to compile or run."""


class BudgetError(McugenError):
    """The model does not fit the chosen board."""
