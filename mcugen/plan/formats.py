"""Weight formats: how each constant weight tensor is stored in flash.

Every format decodes to exactly the model's int8 values, so outputs stay
bit-exact. The planner picks one per operator (dense by default); lowering
turns the choice into kernel calls and constant tables.
"""

from __future__ import annotations

from dataclasses import dataclass

FORMAT_KINDS = ("dense", "csr", "lut", "csr_lut")
HUFFMAN_MODES = (None, "init", "stream")


@dataclass(frozen=True)
class WeightFormat:
    kind: str = "dense"  # one of FORMAT_KINDS
    index_bits: int = 0  # CSR: relative column index width (4 or 8), 0 for non-CSR
    lut_bits: int = 0  # LUT: bits per packed index (1..7), 0 for non-LUT
    lut_per_channel: bool = False  # LUT: one codebook per output channel instead of per tensor
    huffman: str | None = None  # None, "init" (decode once into RAM) or "stream" (decode per layer into scratch)

    def __str__(self) -> str:
        s = self.kind
        if self.index_bits:
            s += f"{self.index_bits}"
        if self.lut_bits:
            s += f"/lut{self.lut_bits}" + ("pc" if self.lut_per_channel else "")
        if self.huffman:
            s += f"+huffman-{self.huffman}"
        return s


DENSE = WeightFormat()
