"""Golden images: for fixed prompts and seeds, today's picture is still the blessed one."""

from __future__ import annotations

import pytest

from zimage_qa.checks.golden import determinism_verdict, golden_store, golden_verdict
from zimage_qa.config import Case
from zimage_qa.golden.store import GoldenStore
from zimage_qa.models.profiles import LoadedModel
from zimage_qa.plugin import Conclusion
from zimage_qa.session import GateSession

pytestmark = [pytest.mark.gpu, pytest.mark.golden]


@pytest.fixture(scope="session")
def qa_golden_store(qa_gate: GateSession, qa_model: LoadedModel) -> GoldenStore:
    return golden_store(qa_gate, qa_model)


def test_golden_image(
    qa_gate: GateSession, qa_model: LoadedModel, qa_golden_store: GoldenStore, qa_golden_case: Case,
    qa_verdict: Conclusion,
) -> None:  # fmt: skip
    qa_verdict.conclude(golden_verdict(qa_gate, qa_model, qa_golden_store, qa_golden_case))


def test_golden_case_is_deterministic(
    qa_gate: GateSession, qa_model: LoadedModel, qa_verdict: Conclusion
) -> None:
    qa_verdict.conclude(determinism_verdict(qa_gate, qa_model))
