"""What each family's record values mean on the page: the typed pieces a row shows (stage split,
roofline, GPU state, VRAM by stage, golden measures, glyph readings) and its measured and budget cells.

They read the record's typed values (`CheckRecord.typed`, `zimage_qa.values`), which tolerate a missing
or malformed value in an old or hand-made record: a reader here then shows nothing, never raises.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from zimage_qa.measure.units import format_bytes, format_ms, format_seconds
from zimage_qa.records import CheckRecord, Family
from zimage_qa.values import Budget, FamilyValues, GpuState, Memory, Placement, Timing, number
from zimage_qa.values import Glyph as GlyphView
from zimage_qa.values import Golden as GoldenValues
from zimage_qa.values import Roofline as RooflineValues

__all__ = ["GlyphView", "number"]  # the glyph row is the typed glyph values; `number` for the view

STAGES = ("text_encode", "denoise", "vae_decode")
VRAM_STAGES = (
    ("idle", "idle"),
    ("loaded", "after load"),
    ("peak", "during generation (peak)"),
    ("after", "after generation"),
)


def _bytes(n: float | None) -> str:
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


def stage_split(timing: Timing) -> StageSplit | None:
    recorded = dict(timing.stages_ms)
    stages = tuple((name, recorded[name]) for name in STAGES if name in recorded)
    if not stages:
        return None
    total = timing.median_s * 1000.0 if timing.median_s is not None else 0.0
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


def roofline(raw: RooflineValues | None) -> RooflineView | None:
    if raw is None:
        return None
    achieved, peak, flops = raw.achieved_tflops, raw.peak_tflops, raw.flops_per_forward
    if achieved is None or peak is None or peak <= 0:
        return None
    fraction = raw.fraction_of_peak if raw.fraction_of_peak is not None else achieved / peak
    return RooflineView(
        achieved,
        peak,
        fraction,
        raw.denoise_ms,
        raw.floor_ms,
        flops / 1e12 if flops is not None else None,
        int(raw.nfe) if raw.nfe is not None else None,
    )


def gpu_line(state: GpuState | None) -> str | None:
    """'NVIDIA H100 (clean): 61 °C, SM 1965/1980 MHz, 650/700 W; clock events: sw power cap'."""
    if state is None:
        return None
    parts = []
    if (t := state.temperature_c) is not None:
        parts.append(f"{t:.0f} °C")
    if (clock := state.sm_clock_mhz) is not None:
        top = state.max_sm_clock_mhz
        parts.append(f"SM {clock:.0f}" + (f"/{top:.0f}" if top is not None else "") + " MHz")
    if (power := state.power_w) is not None:
        limit = state.power_limit_w
        parts.append(f"{power:.0f}" + (f"/{limit:.0f}" if limit is not None else "") + " W")
    if state.clock_event_reasons:
        parts.append("clock events: " + ", ".join(state.clock_event_reasons))
    if state.other_processes:
        parts.append(f"{state.other_processes} other process(es)")
    return f"{state.name} ({state.verdict}): " + ", ".join(parts)


def card_line(placement: Placement) -> str | None:
    """'GPU 1 (NVIDIA H200), shard 2/2, concurrent' for a record of a multi-GPU run (`zqa gate`), else None."""
    if not placement.card:
        return None
    text = f"{placement.card} ({placement.card_name})" if placement.card_name else placement.card
    text += f", shard {placement.shard}" if placement.shard and placement.shard != "all" else ""
    return text + (f", {placement.mode}" if placement.mode else "")


@dataclass(frozen=True)
class VramRow:
    stage: str
    allocated: str
    reserved: str
    device: str


def vram_rows(memory: Memory) -> tuple[VramRow, ...]:
    """The by-stage table from the memory snapshot (`values['stages']`, MemorySnapshot.to_dict())."""
    labels = dict(VRAM_STAGES)
    return tuple(
        VramRow(labels[key], _bytes(m.allocated_bytes), _bytes(m.reserved_bytes), _bytes(m.device_bytes))
        for key, m in memory.stages
    )


def context_bytes(memory: Memory) -> str | None:
    n = memory.cuda_context_bytes
    return format_bytes(n) if n is not None else None


def golden_measures(golden: GoldenValues) -> tuple[tuple[str, str], ...]:
    """(measure, value) of a golden comparison, as the record noted them."""
    return tuple((name, f"{n:.4g}") for name, n in golden.measures)


def glyph_view(typed: FamilyValues) -> GlyphView | None:
    return typed.glyph


def budget(record: CheckRecord) -> str:
    """The budget cell: what the record noted as its budget, or a dash."""
    noted: Budget = record.typed.budget
    if isinstance(noted, tuple):
        return ", ".join(f"{k} {v}" for k, v in noted)
    return noted if noted is not None else "—"


def measured(record: CheckRecord) -> str:
    """The measured cell: the family's headline numbers, or a few scalar values."""
    reader = _MEASURED.get(record.family)
    text = reader(record.typed) if reader is not None else None
    return text or _scalars(record.values)


def _latency(typed: FamilyValues) -> str | None:
    t = typed.timing
    if (median := t.median_s) is not None:
        text = f"median {format_seconds(median)}"
        text += f", worst {format_seconds(t.worst_s)}" if t.worst_s is not None else ""
        return text + (f", {t.nfe:.0f} DiT forwards" if t.nfe is not None else "")
    if (load := t.load_s) is not None:
        first = t.first_image_s
        return f"load {format_seconds(load)}" + (
            f", first image {format_seconds(first)}" if first is not None else ""
        )
    if t.times_s is not None:
        creep, jitter = t.creep, t.max_jitter_ms
        return (
            f"{len(t.times_s)} images"
            + (f", creep {creep * 100:+.1f} %" if creep is not None else "")
            + (f", max jitter {format_ms(jitter)}" if jitter is not None else "")
        )
    return None


def _vram(typed: FamilyValues) -> str | None:
    m = typed.memory
    peaks = (
        ("allocated", m.peak_allocated_bytes),
        ("reserved", m.peak_reserved_bytes),
        ("device", m.peak_nvml_bytes),
    )
    shown = [f"{label} {format_bytes(n)}" for label, n in peaks if n is not None]
    if shown:
        return "peak " + ", ".join(shown)
    if m.readings_bytes:
        return f"{len(m.readings_bytes)} generations, last {_bytes(m.readings_bytes[-1])} allocated"
    return None


def _golden(typed: FamilyValues) -> str | None:
    g = typed.golden
    shown = [f"{k} {value}" for k, value in golden_measures(g) if k in ("phash", "colour shift", "structure")]
    return "; ".join(([g.action] if g.action else []) + shown) or None


def _glyph(typed: FamilyValues) -> str | None:
    view = typed.glyph
    if view is None:
        return None
    score = f" (NED {view.ned:.2f})" if view.ned is not None else ""
    return f"read {view.read!r}{score}"


_MEASURED: dict[Family, Callable[[FamilyValues], str | None]] = {
    Family.LATENCY: _latency,
    Family.VRAM: _vram,
    Family.GOLDEN: _golden,
    Family.GLYPH: _glyph,
}


def _scalars(values: Mapping[str, Any], limit: int = 4) -> str:
    """A family not typed (guard, upgrade, a cross-card comparison) shows its first few scalar values."""
    items = [
        (k, v)
        for k, v in values.items()
        if isinstance(v, (int, float, bool)) or (isinstance(v, str) and len(v) <= 40)
    ]
    shown = [f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in items[:limit]]
    return ", ".join(shown) or "—"
