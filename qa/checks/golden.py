"""Golden checks: for fixed prompts and seeds, today's picture is still the blessed one."""

from __future__ import annotations

import datetime

import numpy as np

from qa.config import Case
from qa.errors import QAUsageError
from qa.golden.store import GoldenStore, device_class
from qa.measure.fingerprint import package_version
from qa.models.profiles import LoadedModel
from qa.picture import checked_picture
from qa.session import GateSession
from qa.verdict import Verdict


def golden_store(gate: GateSession, model: LoadedModel) -> GoldenStore:
    gpu = None if model.device == "cpu" else gate.device_name()
    profile = gate.spec.profile if gate.variant == "eager" else f"{gate.spec.profile}+{gate.variant}"
    return GoldenStore(gate.options.golden_dir, profile, device_class(gpu))


def generate(model: LoadedModel, case: Case, guidance: float) -> np.ndarray:
    """One picture; a NaN, black or flat one raises InvalidPicture with that diagnosis."""
    image = model.generate(case.prompt, case.width, case.height, case.steps, case.seed, guidance)
    return np.asarray(checked_picture(model, image, case.id))


def golden_verdict(gate: GateSession, model: LoadedModel, store: GoldenStore, case: Case) -> Verdict:
    from qa.golden.gate import GoldenAction, check_golden, save_artifacts
    from qa.golden.record import GoldenCase, Provenance
    from qa.golden.thresholds import Thresholds

    if not gate.spec.judged_for_looks:
        return Verdict.not_run("golden images do not apply to the synthetic profile (random weights)")
    image = generate(model, case, gate.config.guidance)
    golden_case = GoldenCase(case.id, case.width, case.height, case.prompt, case.seed, case.steps)
    thresholds = Thresholds.from_mapping(dict(gate.config.thresholds_for(gate.spec.profile).golden))
    versions = {name: package_version(name) or "" for name in ("torch", "diffusers", "transformers")}
    provenance = Provenance(model=gate.spec.label, device=gate.device_name(),
                            date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                            versions=versions)  # fmt: skip
    try:
        result = check_golden(store, golden_case, image, provenance, thresholds, gate.options.update_golden)
    except QAUsageError as exc:  # a corrupt record, an invalid (black, flat, NaN) picture to bless
        return Verdict.failed(str(exc))
    values = {m.name: m.value for m in result.verdict.measures} if result.verdict is not None else {}
    if result.action is GoldenAction.NO_SET:
        return Verdict.not_run(result.message, **values)
    if not result.passed:
        artefacts = save_artifacts(gate.options.report_dir, case.id, image, store.load(case.id))
        return Verdict.failed(result.message, **values, action=result.action.value).with_artefacts(
            **artefacts
        )
    return Verdict.passed(result.message, **values, action=result.action.value)


def determinism_verdict(gate: GateSession, model: LoadedModel) -> Verdict:
    """The same case twice in one session: distance 0, or the failure names the nondeterminism."""
    from qa.golden.measures import measure

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
