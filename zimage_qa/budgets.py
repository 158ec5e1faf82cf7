"""Per-runner budgets: where a runner's own budgets live, how they are looked up, and how
`--qa-update-budgets` writes them.

A runner's budgets sit beside its golden records, `<golden-dir>/<profile>[+variant]/<device class>/
budgets.toml`, and are committed like them. They win over the config's built-in budgets. They are
written from this run's measurements with margins that depend on how noisy the number is.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from zimage_qa.config import BudgetSet, QAConfig, read_budget_file
from zimage_qa.measure.probe import LAUNCH_BOUND_S
from zimage_qa.measure.scenario import ScenarioResult
from zimage_qa.measure.units import format_seconds
from zimage_qa.storage import confined, locked, write_text_atomic

FILE_NAME = "budgets.toml"
GIB = 2**30

# Margins. A runner's own budgets are a coarse guard (fine regressions are found against --qa-baseline),
# so they sit above the machine's own round-to-round and restart-to-restart spread.
MEDIAN_MARGIN = 1.10
LAUNCH_BOUND_MEDIAN_MARGIN = 1.25  # under LAUNCH_BOUND_S a run is CPU/launch-bound and moves more
WORST_MARGIN = 1.15  # on the worst round seen, and at least the median budget x1.10
MEMORY_MARGIN_BYTES = 1 * GIB
LOAD_MARGIN = 2.0  # load time depends on the page cache and the disk
FIRST_IMAGE_MARGIN = 1.5
COMPILE_MARGIN = 1.5


def runner_folder(golden_dir: Path, profile: str, variant: str, device_class: str) -> Path:
    return confined(golden_dir, profile if variant == "eager" else f"{profile}+{variant}", device_class)


def budget_path(golden_dir: Path, profile: str, variant: str, device_class: str) -> Path:
    return runner_folder(golden_dir, profile, variant, device_class) / FILE_NAME


def read_runner_budgets(path: Path) -> tuple[BudgetSet, ...]:
    return read_budget_file(path) if path.is_file() else ()


@dataclass(frozen=True)
class ScenarioMeasurement:
    median_s: float
    worst_s: float
    allocated_bytes: int | None = None
    reserved_bytes: int | None = None
    nvml_bytes: int | None = None


@dataclass
class BudgetDraft:
    """What this run measured, collected per check and written once at the end of the session."""

    profile: str
    variant: str
    device: str  # the exact GPU name, or cpu
    scenarios: dict[str, ScenarioMeasurement] = field(default_factory=dict)
    load_s: float | None = None
    first_image_s: float | None = None
    compile_s: float | None = None
    probe_ms: float | None = None  # the session's normal host probe

    def add_result(self, scenario_id: str, result: ScenarioResult) -> str:
        """Record one scenario's measured rounds and peaks; returns the sentence the check reports."""
        peak = result.peak
        return self.add_scenario(
            scenario_id,
            ScenarioMeasurement(
                result.summary.median,
                result.summary.max,
                peak.allocated_bytes if peak else None,
                peak.reserved_bytes if peak else None,
                peak.nvml_bytes if peak else None,
            ),
        )

    def add_cold_start(self, load_s: float, first_image_s: float, compile_s: float | None) -> None:
        self.load_s, self.first_image_s, self.compile_s = load_s, first_image_s, compile_s

    def add_scenario(self, scenario_id: str, measurement: ScenarioMeasurement) -> str:
        """Record one scenario; returns the sentence the check reports (what will be written)."""
        self.scenarios[scenario_id] = measurement
        median, worst = latency_limits(measurement)
        return f"budget for {scenario_id}: median {format_seconds(median)}, worst {format_seconds(worst)}"

    def write(self, path: Path, note: str) -> Path:
        """Merge into `path`: this profile/variant/device entry is replaced, scenarios not measured in this
        run keep their old budgets, other entries stay as they were."""
        with locked(path):
            old = read_runner_budgets(path)
            kept = [
                b
                for b in old
                if not (b.profile == self.profile and b.variant == self.variant and b.device == self.device)
            ]
            previous = next((b for b in old if b not in kept), None)
            text = render([*map(_entry_of_set, kept), self._entry(previous)], note)
            write_text_atomic(path, text)
        return path

    def _entry(self, previous: BudgetSet | None) -> dict[str, object]:
        scenarios: dict[str, dict[str, str]] = (
            dict(_scenario_limits(previous)) if previous is not None else {}
        )
        for scenario_id, m in sorted(self.scenarios.items()):
            median, worst = latency_limits(m)
            limits = {"median": _s(median), "worst": _s(worst)}
            for kind, value in (
                ("allocated", m.allocated_bytes),
                ("reserved", m.reserved_bytes),
                ("nvml", m.nvml_bytes),
            ):
                if value is not None:
                    limits[kind] = _gib(value + MEMORY_MARGIN_BYTES)
            scenarios[scenario_id] = limits
        entry: dict[str, object] = {"profile": self.profile, "device": self.device, "variant": self.variant}
        old = _entry_of_set(previous) if previous is not None else {}
        timings: tuple[tuple[str, float | None, float], ...] = (
            ("load", self.load_s, LOAD_MARGIN),
            ("first_image", self.first_image_s, FIRST_IMAGE_MARGIN),
            ("compile", self.compile_s, COMPILE_MARGIN),
            ("probe", None if self.probe_ms is None else self.probe_ms / 1000.0, 1.0),
        )
        for key, seconds, margin in timings:
            if seconds is not None:
                entry[key] = _s(seconds * margin)
            elif key in old:
                entry[key] = old[key]
        entry["scenarios"] = scenarios
        return entry


@dataclass
class RunnerBudgets:
    """This runner's budget file and, with --qa-update-budgets, the draft of what this run measured."""

    path: Path
    draft: BudgetDraft | None = None

    def lookup(self, config: QAConfig, profile: str, device: str, variant: str) -> BudgetSet | None:
        """The file's budgets for this deployment first, then the config's."""
        own = [b for b in read_runner_budgets(self.path) if b.matches(profile, device, variant)]
        return replace(own[0], own=True) if own else config.budgets_for(profile, device, variant)

    def write(self, probe_ms: float | None, note: str) -> str | None:
        """Merge the draft (with the session's normal host probe) into the file; the sentence to print,
        or None when nothing was measured for it."""
        draft = self.draft
        if draft is None or not (draft.scenarios or draft.load_s):
            return None
        draft.probe_ms = probe_ms
        path = draft.write(self.path, note)
        return (
            f"budgets: written to {path} ({len(draft.scenarios)} scenarios); review with git diff and commit"
        )


def latency_limits(m: ScenarioMeasurement) -> tuple[float, float]:
    margin = LAUNCH_BOUND_MEDIAN_MARGIN if m.median_s < LAUNCH_BOUND_S else MEDIAN_MARGIN
    median = m.median_s * margin
    return median, max(m.worst_s * WORST_MARGIN, median * 1.10)


def _s(seconds: float) -> str:
    if seconds < 0.1:
        return f"{seconds * 1000:.2f}ms"
    return f"{seconds:.3f}s" if seconds < 10 else f"{seconds:.1f}s"


def _gib(value: int) -> str:
    return f"{value / GIB:.2f}GiB"


def _entry_of_set(budget: BudgetSet) -> dict[str, object]:
    entry: dict[str, object] = {"profile": budget.profile, "device": budget.device, "variant": budget.variant}
    for key, value in (
        ("load", budget.load_s),
        ("first_image", budget.first_image_s),
        ("compile", budget.compile_s),
        ("probe", None if budget.probe_ms is None else budget.probe_ms / 1000.0),
    ):
        if value is not None:
            entry[key] = _s(value)
    entry["scenarios"] = _scenario_limits(budget)
    return entry


def _scenario_limits(budget: BudgetSet) -> dict[str, dict[str, str]]:
    scenarios: dict[str, dict[str, str]] = {}
    for scenario_id, sb in budget.scenarios.items():
        limits: dict[str, str] = {}
        if sb.latency is not None and sb.latency.median_s is not None:
            limits["median"] = _s(sb.latency.median_s)
        if sb.latency is not None and sb.latency.worst_s is not None:
            limits["worst"] = _s(sb.latency.worst_s)
        for ceiling in sb.ceilings:
            limits[ceiling.kind.value] = _gib(ceiling.limit_bytes)
        scenarios[scenario_id] = limits
    return scenarios


def render(entries: list[dict[str, object]], note: str) -> str:
    """TOML by hand: the structure is fixed and flat (strings only), so no writer library is needed."""
    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    lines = [
        "# This runner's own budgets, written by `pytest -m gpu --qa-update-budgets` (zimage-qa).",
        f"# Last written {stamp}: {note}",
        f"# Margins: median x{MEDIAN_MARGIN} (x{LAUNCH_BOUND_MEDIAN_MARGIN} under {LAUNCH_BOUND_S} s, launch-bound),",
        f"# worst = max(worst round x{WORST_MARGIN}, median budget x1.1), memory peaks +{MEMORY_MARGIN_BYTES // GIB} GiB,",
        f"# load x{LOAD_MARGIN}, first image x{FIRST_IMAGE_MARGIN}, compile x{COMPILE_MARGIN}. Review with git diff; commit.",
    ]
    for entry in entries:
        lines += ["", "[[budgets]]"]
        for key, value in entry.items():
            if key != "scenarios":
                lines.append(f"{key} = {_quote(str(value))}")
        scenarios = entry.get("scenarios", {})
        for scenario_id, limits in scenarios.items() if isinstance(scenarios, Mapping) else ():
            inner = ", ".join(f"{k} = {_quote(v)}" for k, v in limits.items())
            lines.append(f"scenarios.{_quote(scenario_id)} = {{ {inner} }}")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
