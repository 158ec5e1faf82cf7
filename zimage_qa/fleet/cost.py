"""What a piece of the gate costs in wall time, estimated before anything runs: seconds per generation
from the picture size and step count, and the fixed price every gate process pays (load, first image).

The figures are the full-size architecture on one H100 (DESIGN.md, reference figures): 512x512 0.48 s,
768x768 0.82 s, 1024x768 1.07 s, 1024x1024 1.39 s, 2048x2048 6.5 s at 8 steps, fitted by
`GEN_CONSTANT_S + steps/8 * (GEN_LINEAR_S * MP + GEN_QUADRATIC_S * MP^2)` within 4 %. Only ratios
matter for sharding, so a faster card or the tiny reference model shifts all figures alike.
"""

from __future__ import annotations

from dataclasses import dataclass

MEGAPIXEL = 2**20
GEN_CONSTANT_S = 0.193  # text encode, scheduler, launch overhead: paid whatever the size
GEN_LINEAR_S = 1.067  # per megapixel at 8 steps
GEN_QUADRATIC_S = 0.129  # attention's quadratic share, per megapixel squared at 8 steps
REFERENCE_STEPS = 8
WARM_FACTOR = 1.5  # the first generation at a new size (allocator growth, kernel selection) vs a warm one
LOAD_S = 15.0  # 13-16 s of load per process, measured on nvidia-h200
OCR_S = 1.0  # one OCR reading on the CPU, per glyph case


@dataclass(frozen=True)
class CostModel:
    """Estimated seconds; every figure can be replaced (e.g. from a measured run) without touching the
    sharding."""

    constant_s: float = GEN_CONSTANT_S
    linear_s: float = GEN_LINEAR_S
    quadratic_s: float = GEN_QUADRATIC_S
    warm_factor: float = WARM_FACTOR
    load_s: float = LOAD_S
    ocr_s: float = OCR_S

    def generation_s(self, width: int, height: int, steps: int = REFERENCE_STEPS) -> float:
        """One warm generation at `width`x`height` with `steps` DiT forwards."""
        mp = width * height / MEGAPIXEL
        return self.constant_s + steps / REFERENCE_STEPS * (self.linear_s * mp + self.quadratic_s * mp * mp)

    def warm_s(self, width: int, height: int, steps: int = REFERENCE_STEPS) -> float:
        """The untimed warm-up a process pays once per size it generates at."""
        return self.warm_factor * self.generation_s(width, height, steps)
