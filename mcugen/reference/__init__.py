"""numpy reference interpreter with TFLM's integer arithmetic."""

from .interpreter import run, run_batch

__all__ = ["run", "run_batch"]
