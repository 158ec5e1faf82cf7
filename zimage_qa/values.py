"""The typed values a verdict and its record carry, per family, read from their flat JSON form.

A check writes its measurements as one flat JSON-able mapping (`Verdict.values`, `CheckRecord.values`):
that mapping is what `results.json` and the JUnit properties hold, so files written by older versions
still load. `FamilyValues.read` turns it into frozen dataclasses (latency, memory, golden, glyph,
placement and budget), which the report reads by attribute. Readers here tolerate a missing or
malformed value (a record may be old or hand-made): the field is then None or empty, never an error.

Families not typed here (guard, baseline comparison, drift's creep intervals, upgrade A/B, memory
growth, cold start's compile time) stay in the generic mapping: the report shows them as plain values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

VRAM_STAGE_KEYS = ("idle", "loaded", "peak", "after")  # MemorySnapshot.to_dict(), in order
GOLDEN_NOT_MEASURES = frozenset({"action", "max_abs_diff"})  # numbers in a golden record that are no measure


def number(value: object) -> float | None:
    """A finite float, or None for anything else (bools, strings, NaN)."""
    finite = _finite(value)
    return float(finite) if finite is not None else None


def _finite(value: object) -> int | float | None:
    """The value itself when it is a finite int or float (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if math.isfinite(value) else None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _numbers(value: object) -> tuple[float | None, ...] | None:
    """A JSON list of numbers, each None where it is not one; None when `value` is no list."""
    return tuple(number(v) for v in value) if isinstance(value, list) else None


@dataclass(frozen=True)
class Roofline:
    """How close the denoiser ran to the GPU's peak (`values['roofline']`)."""

    achieved_tflops: float | None = None
    peak_tflops: float | None = None
    fraction_of_peak: float | None = None
    denoise_ms: float | None = None
    floor_ms: float | None = None
    flops_per_forward: float | None = None
    nfe: float | None = None

    @classmethod
    def read(cls, raw: object) -> Roofline | None:
        m = _mapping(raw)
        if not m:
            return None
        return cls(
            *(
                number(m.get(name))
                for name in (
                    "achieved_tflops",
                    "peak_tflops",
                    "fraction_of_peak",
                    "denoise_ms",
                    "floor_ms",
                    "flops_per_forward",
                    "nfe",
                )
            )
        )


@dataclass(frozen=True)
class GpuState:
    """The GPU's state while the scenario ran (`values['gpu_state']`, `GpuState.to_dict()`)."""

    name: str
    verdict: str
    temperature_c: float | None = None
    sm_clock_mhz: float | None = None
    max_sm_clock_mhz: float | None = None
    power_w: float | None = None
    power_limit_w: float | None = None
    clock_event_reasons: tuple[str, ...] = ()
    other_processes: int | float | None = None  # as recorded, so that a count prints as written

    @classmethod
    def read(cls, raw: object) -> GpuState | None:
        m = _mapping(raw)
        if not m:
            return None
        reasons = m.get("clock_event_reason_names")
        return cls(
            str(m.get("name", "GPU")),
            str(m.get("verdict", "unknown")),
            number(m.get("temperature_c")),
            number(m.get("sm_clock_mhz")),
            number(m.get("max_sm_clock_mhz")),
            number(m.get("power_w")),
            number(m.get("power_limit_w")),
            tuple(str(r) for r in reasons) if isinstance(reasons, list) else (),
            _finite(m.get("other_processes")),
        )


@dataclass(frozen=True)
class Timing:
    """The latency family: a scenario's times (median, worst, stages, roofline, GPU state), a cold start
    (load and first image) or a drift run (per-image times, creep, jitter)."""

    median_s: float | None = None
    worst_s: float | None = None
    nfe: float | None = None
    stages_ms: tuple[tuple[str, float], ...] = ()  # each numeric stage, as recorded
    roofline: Roofline | None = None
    gpu_state: GpuState | None = None
    load_s: float | None = None
    first_image_s: float | None = None
    times_s: tuple[float | None, ...] | None = None  # drift: one time per image
    creep: float | None = None
    max_jitter_ms: float | None = None

    @classmethod
    def read(cls, values: Mapping[str, Any]) -> Timing:
        stages = _mapping(values.get("stages_ms"))
        return cls(
            number(values.get("median_s")),
            number(values.get("worst_s")),
            number(values.get("nfe")),
            tuple((str(k), ms) for k, v in stages.items() if (ms := number(v)) is not None),
            Roofline.read(values.get("roofline")),
            GpuState.read(values.get("gpu_state")),
            number(values.get("load_s")),
            number(values.get("first_image_s")),
            _numbers(values.get("times_s")),
            number(values.get("creep")),
            number(values.get("max_jitter_ms")),
        )


@dataclass(frozen=True)
class StageMemory:
    """Memory at one stage of a generation; at the peak stage, the peak readings."""

    allocated_bytes: float | None
    reserved_bytes: float | None
    device_bytes: float | None  # NVML: what the whole device has in use

    @classmethod
    def read(cls, key: str, raw: object) -> StageMemory | None:
        m = _mapping(raw)
        if not m:
            return None
        if key == "peak":
            return cls(
                number(m.get("peak_allocated_bytes")),
                number(m.get("peak_reserved_bytes")),
                number(m.get("peak_nvml_bytes")),
            )
        return cls(
            number(m.get("allocated_bytes")),
            number(m.get("reserved_bytes")),
            number(m.get("nvml_used_bytes")),
        )


@dataclass(frozen=True)
class Memory:
    """The VRAM family: the peaks of a scenario, memory by stage, the CUDA context, a leak's readings."""

    peak_allocated_bytes: float | None = None
    peak_reserved_bytes: float | None = None
    peak_nvml_bytes: float | None = None
    stages: tuple[tuple[str, StageMemory], ...] = ()  # (key of VRAM_STAGE_KEYS, memory), those recorded
    cuda_context_bytes: float | None = None
    readings_bytes: tuple[float | None, ...] | None = None  # one allocated reading per generation

    @classmethod
    def read(cls, values: Mapping[str, Any]) -> Memory:
        stages = _mapping(values.get("stages"))
        by_stage = ((key, StageMemory.read(key, stages.get(key))) for key in VRAM_STAGE_KEYS)
        return cls(
            number(values.get("peak_allocated_bytes")),
            number(values.get("peak_reserved_bytes")),
            number(values.get("peak_nvml_bytes")),
            tuple((k, s) for k, s in by_stage if s is not None),
            number(stages.get("cuda_context_bytes", values.get("cuda_context_bytes"))),
            _numbers(values.get("readings_bytes")),
        )


@dataclass(frozen=True)
class Golden:
    """The golden family: what the check did with the record, and each measure against it."""

    action: str = ""  # GoldenAction's value; empty where none was noted
    measures: tuple[tuple[str, float], ...] = ()  # (measure name, value), in the order written
    max_abs_diff: float | None = None  # determinism: largest pixel difference of one case generated twice
    record_written: str = ""  # the path of the record an update wrote

    @classmethod
    def read(cls, values: Mapping[str, Any]) -> Golden:
        action = values.get("action")
        written = values.get("record_written")
        return cls(
            str(action) if action else "",
            tuple(
                (str(k), n)
                for k, v in values.items()
                if k not in GOLDEN_NOT_MEASURES and (n := number(v)) is not None
            ),
            number(values.get("max_abs_diff")),
            str(written) if written else "",
        )

    def to_values(self) -> dict[str, Any]:
        """The flat form a verdict carries and results.json holds: measures, then what else was noted."""
        values: dict[str, Any] = dict(self.measures)
        if self.max_abs_diff is not None:
            values["max_abs_diff"] = self.max_abs_diff
        if self.record_written:
            values["record_written"] = self.record_written
        if self.action:
            values["action"] = self.action
        return values


@dataclass(frozen=True)
class Glyph:
    """The glyph family: the text asked for, what the engine read, and how they compare."""

    expected: str
    read: str
    status: str
    precision: float | None
    recall: float | None
    ned: float | None
    reason: str
    doubts: tuple[str, ...]
    full_read: str
    engine: str  # "name version" of the OCR engine

    @classmethod
    def read_from(cls, values: Mapping[str, Any]) -> Glyph | None:
        if "expected" not in values and "read" not in values:
            return None
        engine = _mapping(values.get("engine_info")) or _mapping(values.get("engine"))
        doubts = values.get("doubts")
        return cls(
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


@dataclass(frozen=True)
class Placement:
    """Where a record of a multi-GPU run (`zqa gate`) ran: its card, the card's name, its share, the mode."""

    card: str = ""
    card_name: str = ""
    shard: str = ""
    mode: str = ""

    @classmethod
    def read(cls, values: Mapping[str, Any]) -> Placement:
        return cls(*(_text(values.get(k)) for k in ("card", "card_name", "shard", "mode")))


Budget = tuple[tuple[str, str], ...] | str | None  # limits by name, one sentence, or none noted


def read_budget(raw: object) -> Budget:
    if isinstance(raw, Mapping):
        return tuple((str(k), str(v)) for k, v in raw.items())
    return str(raw) if raw not in (None, "") else None


@dataclass(frozen=True)
class FamilyValues:
    """Every family's typed view of one flat mapping; a family the mapping does not hold reads as empty."""

    timing: Timing
    memory: Memory
    golden: Golden
    glyph: Glyph | None
    placement: Placement
    budget: Budget

    @classmethod
    def read(cls, values: Mapping[str, Any]) -> FamilyValues:
        return cls(
            Timing.read(values),
            Memory.read(values),
            Golden.read(values),
            Glyph.read_from(values),
            Placement.read(values),
            read_budget(values.get("budget")),
        )
