"""Golden images: for fixed prompts and seeds, today's picture is still the blessed one."""

from __future__ import annotations

import pytest

from zimage_qa.checks.golden import GoldenRun, determinism_verdict, golden_store, golden_verdict
from zimage_qa.config import Case
from zimage_qa.golden.store import GoldenStore
from zimage_qa.golden.thresholds import Thresholds
from zimage_qa.models.profiles import LoadedModel
from zimage_qa.plugin import Conclusion
from zimage_qa.session import GateSession

pytestmark = [pytest.mark.gpu, pytest.mark.golden]


@pytest.fixture(scope="session")
def qa_golden_store(qa_gate: GateSession, qa_model: LoadedModel) -> GoldenStore:
    return golden_store(
        qa_gate.options.golden_dir, qa_gate.spec.profile, qa_gate.variant, qa_gate.device_class()
    )


@pytest.fixture(scope="session")
def qa_golden_run(qa_gate: GateSession, qa_model: LoadedModel) -> GoldenRun:
    """What the golden checks know of this run: plain values read from the session once."""
    return GoldenRun(
        qa_gate.spec.label,
        qa_gate.device_name(),
        qa_gate.config.guidance,
        Thresholds.from_mapping(dict(qa_gate.thresholds().golden)),
        qa_gate.options.report_dir,
        qa_gate.options.update_golden,
        qa_gate.record_identity(),
        qa_gate.spec.judged_for_looks,
    )


def test_golden_image(
    qa_model: LoadedModel,
    qa_golden_store: GoldenStore,
    qa_golden_run: GoldenRun,
    qa_golden_case: Case,
    qa_verdict: Conclusion,
) -> None:
    qa_verdict.conclude(golden_verdict(qa_model, qa_golden_store, qa_golden_case, qa_golden_run))


def test_golden_case_is_deterministic(
    qa_gate: GateSession, qa_model: LoadedModel, qa_verdict: Conclusion
) -> None:
    qa_verdict.conclude(determinism_verdict(qa_model, qa_gate.config.golden, qa_gate.config.guidance))
