"""Golden images: for fixed prompts and seeds, today's picture is still the blessed one."""

from __future__ import annotations

import pytest

from qa.checks.golden import determinism_verdict, golden_store, golden_verdict
from qa.config import Case
from qa.golden.store import GoldenStore
from qa.models.profiles import LoadedModel
from qa.plugin import Conclusion
from qa.session import GateSession

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
