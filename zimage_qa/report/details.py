"""What each family's record values mean on the page: the typed pieces a row shows (stage split,
roofline, GPU state, VRAM by stage, golden measures, glyph readings) and its measured and budget cells.

Values come from records written by other code, possibly older or hand-made: every reader here
tolerates a missing or malformed value and then shows nothing, never raises.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from zimage_qa.measure.units import format_bytes, format_ms, format_seconds
from zimage_qa.records import CheckRecord, Family

STAGES = ("text_encode", "denoise", "vae_decode")
VRAM_STAGES = (
    ("idle", "idle"),
    ("loaded", "after load"),
    ("peak", "during generation (peak)"),
    ("after", "after generation"),
)


def number(value: object) -> float | None:
    """A finite float, or None for anything else (bools, strings, NaN)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _bytes(value: object) -> str:
    n = number(value)
    return format_bytes(n) if n is not None else "n/a"


@dataclass(frozen=True)
class StageSplit:
    """Median stage times (ms) of one scenario and the end-to-end median they are part of."""

    stages: tuple[tuple[str, float], ...]
    total_ms: float

    @property
    def other_ms(self) -> float:
        """Time outside the three stages (scheduler, tokenizer, post-processing)."""
        return max(0.0, self.total_ms - sum(ms for _, ms in self.stages))


def stage_split(values: Mapping[str, Any]) -> StageSplit | None:
    raw = _mapping(values.get("stages_ms"))
    stages = tuple((name, ms) for name in STAGES if (ms := number(raw.get(name))) is not None)
    if not stages:
        return None
    median_s = number(values.get("median_s"))
    total = median_s * 1000.0 if median_s is not None else 0.0
    return StageSplit(stages, max(total, sum(ms for _, ms in stages)))


@dataclass(frozen=True)
class RooflineView:
    achieved_tflops: float
    peak_tflops: float
    fraction: float
    denoise_ms: float | None
    floor_ms: float | None
    tflop_per_forward: float | None
    nfe: int | None

    @property
    def percent(self) -> float:
        return max(0.0, min(100.0, self.fraction * 100.0))


def roofline(values: Mapping[str, Any]) -> RooflineView | None:
    raw = _mapping(values.get("roofline"))
    achieved, peak = number(raw.get("achieved_tflops")), number(raw.get("peak_tflops"))
    if achieved is None or peak is None or peak <= 0:
        return None
    fraction = number(raw.get("fraction_of_peak"))
    flops, nfe = number(raw.get("flops_per_forward")), number(raw.get("nfe"))
    return RooflineView(
        achieved,
        peak,
        fraction if fraction is not None else achieved / peak,
        number(raw.get("denoise_ms")),
        number(raw.get("floor_ms")),
        flops / 1e12 if flops is not None else None,
        int(nfe) if nfe is not None else None,
    )


def gpu_line(values: Mapping[str, Any]) -> str | None:
    """'NVIDIA H100 (clean): 61 °C, SM 1965/1980 MHz, 650/700 W; clock events: sw power cap'."""
    raw = _mapping(values.get("gpu_state"))
    if not raw:
        return None
    parts = []
    if (t := number(raw.get("temperature_c"))) is not None:
        parts.append(f"{t:.0f} °C")
    if (clock := number(raw.get("sm_clock_mhz"))) is not None:
        top = number(raw.get("max_sm_clock_mhz"))
        parts.append(f"SM {clock:.0f}" + (f"/{top:.0f}" if top is not None else "") + " MHz")
    if (power := number(raw.get("power_w"))) is not None:
        limit = number(raw.get("power_limit_w"))
        parts.append(f"{power:.0f}" + (f"/{limit:.0f}" if limit is not None else "") + " W")
    reasons = raw.get("clock_event_reason_names")
    if isinstance(reasons, list) and reasons:
        parts.append("clock events: " + ", ".join(str(r) for r in reasons))
    if number(raw.get("other_processes")):
        parts.append(f"{raw.get('other_processes')} other process(es)")
    return f"{raw.get('name', 'GPU')} ({raw.get('verdict', 'unknown')}): " + ", ".join(parts)


def card_line(values: Mapping[str, Any]) -> str | None:
    """'GPU 1 (NVIDIA H200), shard 2/2, concurrent' for a record of a multi-GPU run (`zqa gate`), else None."""
    card = values.get("card")
    if not isinstance(card, str) or not card:
        return None
    name, share, mode = values.get("card_name"), values.get("shard"), values.get("mode")
    text = f"{card} ({name})" if isinstance(name, str) and name else card
    text += f", shard {share}" if isinstance(share, str) and share and share != "all" else ""
    return text + (f", {mode}" if isinstance(mode, str) and mode else "")


@dataclass(frozen=True)
class VramRow:
    stage: str
    allocated: str
    reserved: str
    device: str


def vram_rows(values: Mapping[str, Any]) -> tuple[VramRow, ...]:
    """The by-stage table from `values['stages']` (MemorySnapshot.to_dict())."""
    stages = _mapping(values.get("stages"))
    rows = []
    for key, label in VRAM_STAGES:
        raw = _mapping(stages.get(key))
        if not raw:
            continue
        prefix = "peak_" if key == "peak" else ""
        device = raw.get("peak_nvml_bytes") if key == "peak" else raw.get("nvml_used_bytes")
        rows.append(
            VramRow(
                label,
                _bytes(raw.get(f"{prefix}allocated_bytes")),
                _bytes(raw.get(f"{prefix}reserved_bytes")),
                _bytes(device),
            )
        )
    return tuple(rows)


def context_bytes(values: Mapping[str, Any]) -> str | None:
    raw = _mapping(values.get("stages")).get("cuda_context_bytes", values.get("cuda_context_bytes"))
    return format_bytes(n) if (n := number(raw)) is not None else None


GOLDEN_SKIP = frozenset({"action", "max_abs_diff"})


def golden_measures(values: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """(measure, value) of a golden comparison, as the record noted them."""
    return tuple(
        (str(k), f"{n:.4g}")
        for k, v in values.items()
        if k not in GOLDEN_SKIP and (n := number(v)) is not None
    )


@dataclass(frozen=True)
class GlyphView:
    expected: str
    read: str
    status: str
    precision: float | None
    recall: float | None
    ned: float | None
    reason: str
    doubts: tuple[str, ...]
    full_read: str
    engine: str


def glyph_view(values: Mapping[str, Any]) -> GlyphView | None:
    if "expected" not in values and "read" not in values:
        return None
    engine = _mapping(values.get("engine_info")) or _mapping(values.get("engine"))
    doubts = values.get("doubts")
    return GlyphView(
        str(values.get("expected", "")),
        str(values.get("read", "")),
        str(values.get("status", "")),
        number(values.get("precision")),
        number(values.get("recall")),
        number(values.get("ned")),
        str(values.get("reason", "")),
        tuple(str(d) for d in doubts) if isinstance(doubts, list) else (),
        str(values.get("full_read", "")),
        " ".join(str(engine.get(k, "")) for k in ("name", "version")).strip(),
    )


def budget(record: CheckRecord) -> str:
    """The budget cell: what the record noted as its budget, or a dash."""
    raw = record.values.get("budget")
    if isinstance(raw, Mapping):
        return ", ".join(f"{k} {v}" for k, v in raw.items())
    return str(raw) if raw not in (None, "") else "—"


def measured(record: CheckRecord) -> str:
    """The measured cell: the family's headline numbers, or a few scalar values."""
    v = record.values
    reader = _MEASURED.get(record.family)
    text = reader(v) if reader is not None else None
    return text or _scalars(v)


def _latency(v: Mapping[str, Any]) -> str | None:
    if (median := number(v.get("median_s"))) is not None:
        worst, nfe = number(v.get("worst_s")), number(v.get("nfe"))
        text = f"median {format_seconds(median)}"
        text += f", worst {format_seconds(worst)}" if worst is not None else ""
        return text + (f", {nfe:.0f} DiT forwards" if nfe is not None else "")
    if (load := number(v.get("load_s"))) is not None:
        first = number(v.get("first_image_s"))
        return f"load {format_seconds(load)}" + (
            f", first image {format_seconds(first)}" if first is not None else ""
        )
    if isinstance(v.get("times_s"), list):
        jitter = number(v.get("max_jitter_ms"))
        creep = number(v.get("creep"))
        return (
            f"{len(v['times_s'])} images"
            + (f", creep {creep * 100:+.1f} %" if creep is not None else "")
            + (f", max jitter {format_ms(jitter)}" if jitter is not None else "")
        )
    return None


def _vram(v: Mapping[str, Any]) -> str | None:
    peaks = [
        (label, number(v.get(key)))
        for label, key in (
            ("allocated", "peak_allocated_bytes"),
            ("reserved", "peak_reserved_bytes"),
            ("device", "peak_nvml_bytes"),
        )
    ]
    shown = [f"{label} {format_bytes(n)}" for label, n in peaks if n is not None]
    if shown:
        return "peak " + ", ".join(shown)
    readings = v.get("readings_bytes")
    if isinstance(readings, list) and readings:
        return f"{len(readings)} generations, last {_bytes(readings[-1])} allocated"
    return None


def _golden(v: Mapping[str, Any]) -> str | None:
    shown = [f"{k} {value}" for k, value in golden_measures(v) if k in ("phash", "colour shift", "structure")]
    action = v.get("action")
    return "; ".join(([str(action)] if action else []) + shown) or None


def _glyph(v: Mapping[str, Any]) -> str | None:
    view = glyph_view(v)
    if view is None:
        return None
    score = f" (NED {view.ned:.2f})" if view.ned is not None else ""
    return f"read {view.read!r}{score}"


_MEASURED = {Family.LATENCY: _latency, Family.VRAM: _vram, Family.GOLDEN: _golden, Family.GLYPH: _glyph}


def _scalars(values: Mapping[str, Any], limit: int = 4) -> str:
    items = [
        (k, v)
        for k, v in values.items()
        if isinstance(v, (int, float, bool)) or (isinstance(v, str) and len(v) <= 40)
    ]
    shown = [f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in items[:limit]]
    return ", ".join(shown) or "—"
