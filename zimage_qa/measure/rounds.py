"""What the first images at a shape tell: the compile time of a compiled deployment. Pure: no torch.

`compile_seconds(first, warm)` is the first call at a shape minus a warm call (torch.compile's work, or lazy
initialisation when eager); the session keeps load and first image apart. How many rounds a scenario gets
is decided while it is measured (`zimage_qa.checks.timing`), from its own warm rounds.
"""

from __future__ import annotations


def compile_seconds(first_call_s: float, warm_call_s: float) -> float:
    """What the first call at a shape cost beyond a warm one (compilation, autotuning, lazy init)."""
    return max(0.0, first_call_s - warm_call_s)
