"""A gate test's verdict, recorded as a typed record and ended the pytest way (part of the pytest layer)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

import pytest

from qa.records import CheckRecord, Family, Outcome
from qa.session import GateSession


class Check:
    """Bound to one test: its family and case. The test states the verdict through it."""

    def __init__(self, family: Family, test_id: str, case: str, gate: GateSession) -> None:
        self.family, self.test_id, self.case, self.gate = family, test_id, case, gate
        self.record: CheckRecord | None = None
        self.values: dict[str, Any] = {}
        self.artifacts: dict[str, str] = {}

    def note(self, **values: Any) -> None:
        """Measured values that go into the record whatever the verdict."""
        self.values.update(values)

    def _set(self, outcome: Outcome, message: str, values: Mapping[str, Any]) -> None:
        self.values.update(values)
        self.record = CheckRecord(self.family, self.test_id, self.case, outcome, message,
                                  dict(self.values), dict(self.artifacts))  # fmt: skip

    def passed(self, message: str = "", **values: Any) -> None:
        self._set(Outcome.PASSED, message, values)

    def fail(self, message: str, **values: Any) -> NoReturn:
        __tracebackhide__ = True
        self._set(Outcome.FAILED, message, values)
        pytest.fail(message, pytrace=False)

    def unstable(self, message: str, **values: Any) -> NoReturn:
        """Ran, but too noisy to judge: never a pass."""
        __tracebackhide__ = True
        self._set(Outcome.UNSTABLE, message, values)
        pytest.skip(message if message.startswith("unstable") else f"unstable: {message}")

    def not_run(self, reason: str, *, needs_gpu: bool = False) -> NoReturn:
        """Cannot run here. A GPU-only check under --qa-require-gpu fails instead."""
        __tracebackhide__ = True
        if needs_gpu and self.gate.options.require_gpu:
            self.fail(f"--qa-require-gpu: {reason}")
        self._set(Outcome.NOT_RUN, reason, {})
        pytest.skip(reason)

    def require_cuda(self) -> None:
        __tracebackhide__ = True
        reason = self.gate.gpu_reason()
        if reason:
            self.not_run(reason, needs_gpu=True)
