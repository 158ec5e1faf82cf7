"""Golden images: for fixed prompts and seeds, today's picture is still the blessed one."""

from __future__ import annotations

import datetime

import numpy as np
import pytest

from qa.checks import Check
from qa.config import Case
from qa.errors import QAUsageError
from qa.golden.gate import GoldenAction, check_golden, save_artifacts
from qa.golden.record import GoldenCase, Provenance
from qa.golden.store import GoldenStore, device_class
from qa.golden.thresholds import Thresholds
from qa.measure.fingerprint import package_version
from qa.models.profiles import LoadedModel
from qa.session import GateSession, checked_picture

pytestmark = [pytest.mark.gpu, pytest.mark.golden]


@pytest.fixture(scope="session")
def golden_store(qa_gate: GateSession, qa_model: LoadedModel) -> GoldenStore:
    gpu = None if qa_model.device == "cpu" else qa_gate.device_name()
    return GoldenStore(qa_gate.options.golden_dir, qa_gate.spec.profile, device_class(gpu))


def provenance(gate: GateSession, model: LoadedModel) -> Provenance:
    versions = {name: package_version(name) or "" for name in ("torch", "diffusers", "transformers")}
    return Provenance(model=gate.spec.label, device=gate.device_name(),
                      date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                      versions=versions)  # fmt: skip


def generate(model: LoadedModel, case: Case, guidance: float) -> np.ndarray:
    """One picture; a NaN, black or flat one fails the check with that diagnosis (InvalidPicture)."""
    image = model.generate(case.prompt, case.width, case.height, case.steps, case.seed, guidance)
    return np.asarray(checked_picture(model, image, case.id))


def test_golden_image(
    qa_gate: GateSession,
    qa_model: LoadedModel,
    golden_store: GoldenStore,
    qa_golden_case: Case,
    qa_check: Check,
) -> None:
    if not qa_gate.spec.judged_for_looks:
        qa_check.not_run("golden images do not apply to the synthetic profile (random weights)")
    case = qa_golden_case
    image = generate(qa_model, case, qa_gate.config.guidance)
    golden_case = GoldenCase(case.id, case.width, case.height, case.prompt, case.seed, case.steps)
    thresholds = Thresholds.from_mapping(dict(qa_gate.config.thresholds_for(qa_gate.spec.profile).golden))
    try:
        result = check_golden(golden_store, golden_case, image, provenance(qa_gate, qa_model), thresholds,
                              qa_gate.options.update_golden)  # fmt: skip
    except QAUsageError as exc:  # a corrupt record, an invalid (black, flat, NaN) picture to bless
        qa_check.fail(str(exc))
    if result.verdict is not None:
        qa_check.note(**{m.name: m.value for m in result.verdict.measures})
    if result.action is GoldenAction.NO_SET:
        qa_check.not_run(result.message)
    if not result.passed:
        qa_check.artifacts.update(save_artifacts(qa_gate.options.report_dir, case.id, image,
                                                 golden_store.load(case.id)))  # fmt: skip
        qa_check.fail(result.message, action=result.action.value)
    qa_check.passed(result.message, action=result.action.value)


def test_golden_case_is_deterministic(qa_gate: GateSession, qa_model: LoadedModel, qa_check: Check) -> None:
    """The same case twice in one session: distance 0, or the failure names the nondeterminism."""
    if not qa_gate.config.golden:
        qa_check.not_run("no golden cases configured")
    case = qa_gate.config.golden[0]
    first = generate(qa_model, case, qa_gate.config.guidance)
    second = generate(qa_model, case, qa_gate.config.guidance)
    from qa.golden.measures import measure

    a, b = measure(first), measure(second)
    diff = int(np.abs(first.astype(np.int16) - second.astype(np.int16)).max())
    if diff or a != b:
        qa_check.fail(f"golden case {case.id} generated twice differs (max pixel difference {diff}; "
                      f"pHash {a.phash} vs {b.phash}): generation is nondeterministic on {qa_model.device}, "
                      "so golden comparisons measure noise", max_abs_diff=diff)  # fmt: skip
    qa_check.passed(f"{case.id} twice: identical pixels and measures", max_abs_diff=diff)
