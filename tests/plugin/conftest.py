"""Pytester helpers: a throw-away project holding the real gate tests and a stub model."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

# Imported here, outside pytester's in-process runs: numpy and torch cannot be loaded twice in one process,
# and pytester forgets modules first imported inside a run.
import zqa_stubs  # noqa: F401

HERE = Path(__file__).parent
GATE = HERE.parent.parent / "zimage_qa" / "gate"


@pytest.fixture
def gate_project(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., pytest.Pytester]:
    """`gate_project(stub="StubPipe(...)", files=("test_guards.py",))`: the real gate files, run on a stub."""

    # The per-device lock of these runs lives apart from the system one (a real gate may hold that), and the
    # OCR calibration cache apart from the user's.
    monkeypatch.setenv("ZQA_LOCK_DIR", str(tmp_path_factory.mktemp("locks")))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("PYTHONPATH", str(HERE))  # subprocess runs and xdist workers import zqa_stubs too

    def make(
        stub: str = "StubPipe()",
        files: tuple[str, ...] = ("test_guards.py",),
        config: str = "",
        card: str | None = None,
        host: str = "QuietHost()",
    ) -> pytest.Pytester:
        """`card`: an expression for `FakeCard(PIPE, ...)`'s arguments, e.g. "lambda n: 12 * GIB" (or "None": no
        NVML); the VRAM checks then run on the stub as on a GPU whose NVML reads that. `host`: what the host
        probe reads (`QuietHost()`: always normal, so that this machine's own load never moves a verdict;
        `SlowHost(...)`: scripted spells)."""
        pytester.syspathinsert(HERE)
        target = pytester.path / "gate"
        target.mkdir()
        for name in files:
            shutil.copy(GATE / name, target / name)
        pytester.makeconftest(f"""
from zqa_stubs import StubPipe, stub_loader, noise_picture, text_picture, Ramp, Jitter, Burst, Spell, oom_at, sticky_from, hang
from zqa_stubs import nan_picture, flat_picture, QuietHost, SlowHost
import numpy as np
LOADS = []
PIPE = {stub}

def pytest_zqa_loader():
    return stub_loader(PIPE, LOADS)

def pytest_sessionfinish(session):
    print(f"\\nstub loads: {{len(LOADS)}}, generations: {{PIPE.calls}}")
{_patched(card, host)}""")
        # importlib mode: the outer run has already imported zimage_qa/gate/test_*.py under the same names.
        pytester.makefile(
            ".toml", pyproject=f'[tool.pytest.ini_options]\naddopts = "--import-mode=importlib"\n{config}\n'
        )
        return pytester

    return make


def _patched(card: str | None, host: str) -> str:
    """Conftest lines that put the run on a scripted host probe and, with `card`, on a fake GPU, for its whole
    length (undone at unconfigure: pytester runs in this process)."""
    gpu = (
        ""
        if card is None
        else f"on_a_fake_gpu(_PATCH, {'None' if card == 'None' else f'FakeCard(PIPE, {card})'})"
    )
    return f"""
import pytest as _pytest
from zqa_stubs import FakeCard, GIB, on_a_fake_gpu, on_a_scripted_host
_PATCH = _pytest.MonkeyPatch()

def pytest_configure(config):
    on_a_scripted_host(_PATCH, {host})
    {gpu}

def pytest_unconfigure(config):
    _PATCH.undo()
"""
