"""Golden checks: for fixed prompts and seeds, today's picture is still the blessed one.

The gate hands in the session model and plain values (`GoldenRun`): where the records live, the thresholds,
the update mode; the comparison and the update are `zimage_qa.golden.gate`'s.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zimage_qa.config import Case
from zimage_qa.errors import QAUsageError
from zimage_qa.golden.gate import golden_verdict as judge
from zimage_qa.golden.measures import measure
from zimage_qa.golden.outcome import GoldenUpdate
from zimage_qa.golden.record import GoldenCase, Provenance, scheduler_settings
from zimage_qa.golden.store import GoldenStore
from zimage_qa.golden.thresholds import Thresholds
from zimage_qa.golden.validity import checked_picture
from zimage_qa.measure.fingerprint import package_version
from zimage_qa.models.profiles import LoadedModel
from zimage_qa.values import Golden
from zimage_qa.verdict import Verdict


@dataclass(frozen=True)
class GoldenRun:
    """What a golden check knows of the run besides the model: the model's label and device (GPU name or
    cpu), the guidance, the thresholds, where obtained pictures go, the update mode, the record identity,
    and whether the profile's pictures can be judged at all (not the synthetic profile's random weights)."""

    label: str
    device: str
    guidance: float
    thresholds: Thresholds
    report_dir: Path
    update: GoldenUpdate = GoldenUpdate.OFF
    identity: Mapping[str, str] = field(default_factory=dict)
    judged_for_looks: bool = True


def golden_store(golden_dir: Path, profile: str, variant: str, device_slug: str) -> GoldenStore:
    """The golden set of this profile (and variant, when not eager) on this device class."""
    return GoldenStore(golden_dir, profile if variant == "eager" else f"{profile}+{variant}", device_slug)


def generate(model: LoadedModel, case: Case, guidance: float) -> np.ndarray:
    """One picture; a NaN, black or flat one raises InvalidPicture with that diagnosis."""
    image = model.generate(case.prompt, case.width, case.height, case.steps, case.seed, guidance)
    return np.asarray(checked_picture(image, case.id, model.nonfinite_output))


def golden_verdict(model: LoadedModel, store: GoldenStore, case: Case, run: GoldenRun) -> Verdict:
    """Today's picture against the record, after checking the record was made the way the case asks
    (prompt, seed, steps, size, dtype, scheduler and its settings, guidance, model); with
    --qa-update-golden, the old record is read before the new one is written, and old, new and the
    difference go to the report."""
    if not run.judged_for_looks:
        return Verdict.not_run("golden images do not apply to the synthetic profile (random weights)")
    image = generate(model, case, run.guidance)
    scheduler = model.pipe.scheduler
    golden_case = GoldenCase(
        case.id,
        case.width,
        case.height,
        case.prompt,
        case.seed,
        case.steps,
        dtype=model.dtype_name,
        guidance=run.guidance,
        scheduler=type(scheduler).__name__,
        scheduler_settings=scheduler_settings(scheduler),
        model=run.label,
        device_class=store.device_class,
    )
    versions = {name: package_version(name) or "" for name in ("torch", "diffusers", "transformers")}
    provenance = Provenance(
        model=run.label,
        device=run.device,
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        versions=versions,
        extra={k: v for k, v in run.identity.items() if k in ("weights", "variant")},
    )
    try:
        return judge(store, golden_case, image, run.report_dir, provenance, run.thresholds, run.update)
    except QAUsageError as exc:  # an invalid (black, flat, NaN) picture to bless, an unwritable folder
        return Verdict.failed(str(exc))


def determinism_verdict(model: LoadedModel, cases: Sequence[Case], guidance: float) -> Verdict:
    """The first golden case twice in one session: distance 0, or the failure names the nondeterminism."""
    if not cases:
        return Verdict.not_run("no golden cases configured")
    case = cases[0]
    first = generate(model, case, guidance)
    second = generate(model, case, guidance)
    a, b = measure(first), measure(second)
    diff = int(np.abs(first.astype(np.int16) - second.astype(np.int16)).max())
    if diff or a != b:
        return Verdict.failed(
            f"golden case {case.id} generated twice differs (max pixel difference {diff}; pHash "
            f"{a.phash} vs {b.phash}): generation is nondeterministic on {model.device}, so golden "
            "comparisons measure noise",
            **Golden(max_abs_diff=diff).to_values(),
        )
    return Verdict.passed(
        f"{case.id} twice: identical pixels and measures", **Golden(max_abs_diff=diff).to_values()
    )
