"""Golden checks: for fixed prompts and seeds, today's picture is still the blessed one."""

from __future__ import annotations

import datetime

import numpy as np

from zimage_qa.config import Case
from zimage_qa.errors import QAUsageError
from zimage_qa.golden.store import GoldenStore, device_class
from zimage_qa.measure.fingerprint import package_version
from zimage_qa.models.profiles import LoadedModel
from zimage_qa.picture import checked_picture
from zimage_qa.session import GateSession
from zimage_qa.verdict import Verdict


def golden_store(gate: GateSession, model: LoadedModel) -> GoldenStore:
    gpu = None if model.device == "cpu" else gate.device_name()
    profile = gate.spec.profile if gate.variant == "eager" else f"{gate.spec.profile}+{gate.variant}"
    return GoldenStore(gate.options.golden_dir, profile, device_class(gpu))


def generate(model: LoadedModel, case: Case, guidance: float) -> np.ndarray:
    """One picture; a NaN, black or flat one raises InvalidPicture with that diagnosis."""
    image = model.generate(case.prompt, case.width, case.height, case.steps, case.seed, guidance)
    return np.asarray(checked_picture(model, image, case.id))


def golden_verdict(gate: GateSession, model: LoadedModel, store: GoldenStore, case: Case) -> Verdict:
    """Today's picture against the record, after checking the record was made the way the case asks
    (prompt, seed, steps, size, dtype, scheduler and its settings, guidance, model); with
    --qa-update-golden, the old record is read before the new one is written, and old, new and the
    difference go to the report."""
    from zimage_qa.golden.gate import golden_verdict as judge
    from zimage_qa.golden.record import GoldenCase, Provenance, scheduler_settings
    from zimage_qa.golden.thresholds import Thresholds

    if not gate.spec.judged_for_looks:
        return Verdict.not_run("golden images do not apply to the synthetic profile (random weights)")
    image = generate(model, case, gate.config.guidance)
    scheduler = model.pipe.scheduler
    golden_case = GoldenCase(
        case.id, case.width, case.height, case.prompt, case.seed, case.steps, dtype=model.dtype_name,
        guidance=gate.config.guidance, scheduler=type(scheduler).__name__,
        scheduler_settings=scheduler_settings(scheduler), model=gate.spec.label, device_class=store.device_class,
    )  # fmt: skip
    thresholds = Thresholds.from_mapping(dict(gate.config.thresholds_for(gate.spec.profile).golden))
    versions = {name: package_version(name) or "" for name in ("torch", "diffusers", "transformers")}
    provenance = Provenance(
        model=gate.spec.label, device=gate.device_name(),
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), versions=versions,
        extra={k: v for k, v in gate.record_identity().items() if k in ("weights", "variant")},
    )  # fmt: skip
    try:
        return judge(store, golden_case, image, gate.options.report_dir, provenance, thresholds,
                     gate.options.update_golden)  # fmt: skip
    except QAUsageError as exc:  # an invalid (black, flat, NaN) picture to bless, an unwritable folder
        return Verdict.failed(str(exc))


def determinism_verdict(gate: GateSession, model: LoadedModel) -> Verdict:
    """The same case twice in one session: distance 0, or the failure names the nondeterminism."""
    from zimage_qa.golden.measures import measure

    if not gate.config.golden:
        return Verdict.not_run("no golden cases configured")
    case = gate.config.golden[0]
    first = generate(model, case, gate.config.guidance)
    second = generate(model, case, gate.config.guidance)
    a, b = measure(first), measure(second)
    diff = int(np.abs(first.astype(np.int16) - second.astype(np.int16)).max())
    if diff or a != b:
        return Verdict.failed(f"golden case {case.id} generated twice differs (max pixel difference {diff}; pHash "
                              f"{a.phash} vs {b.phash}): generation is nondeterministic on {model.device}, so golden "
                              "comparisons measure noise", max_abs_diff=diff)  # fmt: skip
    return Verdict.passed(f"{case.id} twice: identical pixels and measures", max_abs_diff=diff)
