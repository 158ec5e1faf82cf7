"""The review page's view model: rows per family in review order (failures first), counts, stage bars
scaled per family, images resolved against the report folder. Templates only read it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zimage_qa.measure.units import format_bytes
from zimage_qa.records import CheckRecord, Family
from zimage_qa.report.artifacts import ImageRef, image_ref
from zimage_qa.report.details import (
    GlyphView,
    RooflineView,
    StageSplit,
    VramRow,
    budget,
    card_line,
    context_bytes,
    glyph_view,
    golden_measures,
    gpu_line,
    measured,
    number,
    roofline,
    stage_split,
    vram_rows,
)
from zimage_qa.storage import safe_name
from zimage_qa.verdict import Status

NOT_RECORDED = "not recorded"  # an environment value the run could not find (no GPU driver, no modelscope)
NONE = "—"  # a value that is absent, in a cell or a list of values

OUTCOME_ORDER = (Status.FAILED, Status.UNSTABLE, Status.NOT_RUN, Status.PASSED)
ROLE_ORDER = ("diff", "obtained", "annotated")  # golden | obtained | heat map panel first
ROLE_LABELS = {"diff": "golden | obtained | difference", "obtained": "obtained", "annotated": "OCR boxes"}
VALUE_CHARS = 800


def rank(outcome: Status) -> int:
    return OUTCOME_ORDER.index(outcome)


@dataclass(frozen=True)
class Segment:
    name: str
    ms: float
    percent: float  # of the family's longest bar


@dataclass(frozen=True)
class StageBar:
    segments: tuple[Segment, ...]
    total_ms: float


@dataclass(frozen=True)
class CaseRow:
    record: CheckRecord
    anchor: str
    measured: str
    budget: str
    images: tuple[ImageRef, ...]
    stage_bar: StageBar | None
    roofline: RooflineView | None
    gpu: str | None
    vram: tuple[VramRow, ...]
    context: str | None
    golden: tuple[tuple[str, str], ...]
    glyph: GlyphView | None
    values: tuple[tuple[str, str], ...]
    card: str | None = None  # the GPU that ran the check, when one report holds several (zqa gate)

    @property
    def outcome(self) -> str:
        return self.record.outcome.value

    @property
    def css(self) -> str:
        return "o-" + self.record.outcome.name.lower()

    @property
    def has_more(self) -> bool:
        """Whether the row has a detail line under it (images, readings, tables, values)."""
        return bool(self.glyph or self.golden or self.images or self.vram or self.gpu or self.values)

    @staticmethod
    def label(role: str) -> str:
        return ROLE_LABELS.get(role, role)


@dataclass(frozen=True)
class FamilyView:
    family: Family
    rows: tuple[CaseRow, ...]

    @property
    def name(self) -> str:
        return self.family.value

    @property
    def counts(self) -> dict[Status, int]:
        return {o: sum(1 for r in self.rows if r.record.outcome is o) for o in OUTCOME_ORDER}

    @property
    def count_line(self) -> str:
        return ", ".join(f"{n} {o.value}" for o, n in self.counts.items() if n)

    @property
    def worst(self) -> int:
        return min((rank(r.record.outcome) for r in self.rows), default=len(OUTCOME_ORDER))

    @property
    def has_stage_bars(self) -> bool:
        return any(r.stage_bar is not None for r in self.rows)

    @property
    def rooflines(self) -> tuple[CaseRow, ...]:
        return tuple(r for r in self.rows if r.roofline is not None)

    @property
    def stage_tables(self) -> tuple[CaseRow, ...]:
        return tuple(r for r in self.rows if r.vram)


@dataclass(frozen=True)
class ReportView:
    header: tuple[tuple[str, str], ...]
    fingerprint: tuple[tuple[str, str], ...]
    gpus: tuple[tuple[str, str, str, str], ...]
    families: tuple[FamilyView, ...]
    written: str

    @property
    def rows(self) -> tuple[CaseRow, ...]:
        return tuple(r for f in self.families for r in f.rows)

    def with_outcome(self, outcome: Status) -> tuple[CaseRow, ...]:
        return tuple(r for r in self.rows if r.record.outcome is outcome)

    @property
    def failures(self) -> tuple[CaseRow, ...]:
        return self.with_outcome(Status.FAILED)

    @property
    def unstable(self) -> tuple[CaseRow, ...]:
        return self.with_outcome(Status.UNSTABLE)

    @property
    def not_run(self) -> tuple[CaseRow, ...]:
        return self.with_outcome(Status.NOT_RUN)

    @property
    def totals(self) -> dict[Status, int]:
        return {o: sum(f.counts[o] for f in self.families) for o in OUTCOME_ORDER}

    @property
    def headline(self) -> str:
        totals = self.totals
        return ", ".join(f"{n} {o.value}" for o, n in totals.items() if n) or "no gate checks ran"

    @property
    def verdict(self) -> str:
        """bad (a failure), warn (unstable or not run, no failure), good (all passed), none."""
        totals = self.totals
        if totals[Status.FAILED]:
            return "bad"
        if totals[Status.UNSTABLE] or totals[Status.NOT_RUN]:
            return "warn"
        return "good" if totals[Status.PASSED] else "none"


def build_view(
    records: Iterable[CheckRecord],
    report_dir: Path,
    *,
    fingerprint: Mapping[str, Any] | None = None,
    header: Mapping[str, object] | None = None,
    written: str = "",
) -> ReportView:
    by_family: dict[Family, list[CheckRecord]] = {f: [] for f in Family}
    for record in records:
        by_family[record.family].append(record)
    families: list[FamilyView] = []
    for family, items in by_family.items():
        items.sort(key=lambda r: (rank(r.outcome), r.case, r.test_id, r.typed.placement.card))
        start = sum(len(f.rows) for f in families)
        families.append(FamilyView(family, _rows(items, report_dir, start)))
    order = list(Family)
    shown = sorted((f for f in families if f.rows), key=lambda f: (f.worst, order.index(f.family)))
    fp = dict(fingerprint or {})
    return ReportView(
        tuple((str(k), str(v)) for k, v in (header or {}).items() if v not in (None, "")),
        tuple((k, _text(v, missing=NOT_RECORDED)) for k, v in fp.items() if k != "gpus"),
        _gpus(fp.get("gpus")),
        tuple(shown),
        written,
    )


def _rows(records: Sequence[CheckRecord], report_dir: Path, start: int) -> tuple[CaseRow, ...]:
    splits = [stage_split(r.typed.timing) for r in records]
    scale = max((s.total_ms for s in splits if s is not None), default=0.0)
    bars = [_bar(s, scale) if s is not None else None for s in splits]
    return tuple(
        _row(r, f"c{start + i}", bar, report_dir)
        for i, (r, bar) in enumerate(zip(records, bars, strict=True))
    )


def _row(r: CheckRecord, anchor: str, bar: StageBar | None, report_dir: Path) -> CaseRow:
    return CaseRow(
        record=r,
        anchor=f"{anchor}-{safe_name(r.test_id, max_len=60)}",
        measured=measured(r),
        budget=budget(r),
        images=_images(r, report_dir),
        stage_bar=bar,
        roofline=roofline(r.typed.timing.roofline),
        gpu=gpu_line(r.typed.timing.gpu_state),
        vram=vram_rows(r.typed.memory),
        context=context_bytes(r.typed.memory) if r.family is Family.VRAM else None,
        golden=golden_measures(r.typed.golden) if r.family is Family.GOLDEN else (),
        glyph=glyph_view(r.typed) if r.family is Family.GLYPH else None,
        values=tuple((str(k), _text(v)) for k, v in r.values.items()),
        card=card_line(r.typed.placement),
    )


def _bar(split: StageSplit, scale_ms: float) -> StageBar:
    parts = [*split.stages, ("other", split.other_ms)]
    segments = tuple(Segment(name, ms, ms / scale_ms * 100.0 if scale_ms > 0 else 0.0) for name, ms in parts)
    return StageBar(segments, split.total_ms)


def _images(record: CheckRecord, report_dir: Path) -> tuple[ImageRef, ...]:
    roles = sorted(record.artifacts, key=lambda r: (ROLE_ORDER.index(r) if r in ROLE_ORDER else 99, r))
    return tuple(image_ref(role, str(record.artifacts[role]), report_dir) for role in roles)


def _gpus(raw: object) -> tuple[tuple[str, str, str, str], ...]:
    if not isinstance(raw, list):
        return ()
    gpus = []
    for gpu in raw:
        if isinstance(gpu, Mapping):
            memory = number(gpu.get("memory_bytes"))
            index, name = _text(gpu.get("index")), _text(gpu.get("name"), missing=NOT_RECORDED)
            capability = _text(gpu.get("compute_capability"))
            gpus.append((index, name, capability, format_bytes(memory) if memory else NONE))
    return tuple(gpus)


def _text(value: object, missing: str = NONE) -> str:
    """`value` as the page shows it: strings as they are, None (or "") as `missing`, the rest as JSON."""
    if value is None or value == "":
        return missing
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= VALUE_CHARS else text[:VALUE_CHARS] + f"… ({len(text)} characters)"
