"""Durations and sizes as people write them ('1.6s', '850ms', '24GiB') and as failure sentences print them."""

from __future__ import annotations

import math
import re

from zimage_qa.errors import QAUsageError

_NUMBER_UNIT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([A-Za-zµ]+)\s*$")

DURATION_UNITS: dict[str, float] = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0}
SIZE_UNITS: dict[str, int] = {
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_SIZE_NAMES = "B, KB, MB, GB, TB, KiB, MiB, GiB, TiB"


def _split(text: object) -> tuple[float, str] | None:
    match = _NUMBER_UNIT.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    return float(match.group(1)), match.group(2).lower()


def parse_duration(text: str) -> float:
    """'1.6s', '850ms', '2 min' -> seconds. Anything else raises QAUsageError naming the accepted forms."""
    parts = _split(text)
    if parts is None or parts[1] not in DURATION_UNITS or not math.isfinite(parts[0]):
        raise QAUsageError(
            f"bad duration {text!r}: write a number and a unit, e.g. '1.6s' or '850ms' "
            f"(units: {', '.join(DURATION_UNITS)})"
        )
    return parts[0] * DURATION_UNITS[parts[1]]


def parse_size(text: str) -> int:
    """'24GiB', '512MiB', '1.5GB' -> bytes. Anything else raises QAUsageError naming the accepted forms."""
    parts = _split(text)
    if parts is None or parts[1] not in SIZE_UNITS or not math.isfinite(parts[0]):
        raise QAUsageError(
            f"bad size {text!r}: write a number and a unit, e.g. '24GiB', '512MiB' or '1.5GB' "
            f"(units: {_SIZE_NAMES})"
        )
    return round(parts[0] * SIZE_UNITS[parts[1]])


def parse_percent(text: str) -> float:
    """'5%' -> 0.05 and '0.05' -> 0.05."""
    raw = text.strip() if isinstance(text, str) else ""
    scale = 0.01 if raw.endswith("%") else 1.0
    try:
        value = float(raw.rstrip("%").strip()) * scale
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise QAUsageError(
            f"bad fraction {text!r}: write a percentage such as '5%' or a fraction such as '0.05'"
        )
    return value


def format_bytes(n: float) -> str:
    """21.69 GiB, 512.0 MiB, 3.0 KiB, 12 B (binary units, as torch and nvidia-smi count)."""
    size = abs(n)
    sign = "-" if n < 0 else ""
    if size >= 2**40:
        return f"{sign}{size / 2**40:.2f} TiB"
    if size >= 2**30:
        return f"{sign}{size / 2**30:.2f} GiB"
    if size >= 2**20:
        return f"{sign}{size / 2**20:.1f} MiB"
    if size >= 2**10:
        return f"{sign}{size / 2**10:.1f} KiB"
    return f"{sign}{size:.0f} B"


def seconds_unit(*values_s: float) -> str:
    """'s' when the largest value is at least one second, else 'ms': one unit for a whole sentence."""
    return "s" if max((abs(v) for v in values_s), default=0.0) >= 1.0 else "ms"


def format_seconds(value_s: float, unit: str | None = None) -> str:
    """1.71 s, 476 ms, 3.25 ms; `unit` ('s' or 'ms') forces one unit for numbers that are compared."""
    unit = unit or seconds_unit(value_s)
    if unit == "s":
        return f"{value_s:.2f} s"
    ms = value_s * 1000.0
    return f"{ms:.0f} ms" if abs(ms) >= 10 else f"{ms:.2f} ms"


def format_ms(value_ms: float) -> str:
    return f"{value_ms:.0f} ms" if abs(value_ms) >= 10 else f"{value_ms:.2f} ms"


def format_change(relative: float) -> str:
    """0.069 -> '+6.9 %'."""
    return f"{relative * 100:+.1f} %"
