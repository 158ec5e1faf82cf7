"""Shared helpers of the gate tests (fixtures come from the zimage-qa plugin)."""

from __future__ import annotations

import pytest

from qa.config import Case
from qa.session import GateSession


@pytest.fixture(scope="session")
def guard_case(qa_gate: GateSession) -> Case:
    """The cheapest case the session has already warmed: guards add no new size to the run."""
    cases = qa_gate.planned_cases or list(qa_gate.config.scenarios)
    return min(cases, key=lambda c: c.width * c.height)
