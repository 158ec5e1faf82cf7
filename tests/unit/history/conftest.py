"""Fixtures of the history tests; the generators live in history_gen.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import zimage_qa.cli


@pytest.fixture
def zqa() -> Callable[..., int]:
    """`zqa history ARGS...` through `zimage_qa.cli.main`, returning the exit code."""

    def run(*argv: object) -> int:
        return zimage_qa.cli.main(["history", *(str(a) for a in argv)])

    return run
