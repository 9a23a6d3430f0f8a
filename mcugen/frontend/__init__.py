"""Model importers: each turns a file into the one IR (mcugen.ir)."""

from .tflite_reader import SUPPORTED_OPS, load, parse

__all__ = ["SUPPORTED_OPS", "load", "parse"]
