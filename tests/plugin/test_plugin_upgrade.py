"""--qa-candidate: two stub pipelines in one process, measured interleaved. A slower candidate fails with
an interval that excludes 0; an identical one passes; changed pictures fail; without a candidate the
A/B checks are not collected at all (a run that promises no A/B must not fail strict mode for it)."""

from __future__ import annotations

import json

import pytest
from test_plugin_latency import CONFIG, Project

GOLDEN = '\n[[golden]]\nid = "g"\nprompt = "A red apple on a table"\nsize = "256x256"\n'


def ab_project(gate_project: Project, base: str, candidate: str) -> pytest.Pytester:
    made: pytest.Pytester = gate_project(files=("test_upgrade.py",))
    (made.path / "cand").mkdir()
    made.makeconftest(f"""
from zqa_stubs import StubPipe, pair_loader, noise_picture, QuietHost, on_a_scripted_host
import numpy as np
import pytest as _pytest
_PATCH = _pytest.MonkeyPatch()

def pytest_configure(config):
    on_a_scripted_host(_PATCH, QuietHost())

def pytest_unconfigure(config):
    _PATCH.undo()

PIPES = {{"reference": {base}, "cand": {candidate}}}

def pytest_zqa_loader():
    return pair_loader(PIPES)
""")
    made.makefile(".toml", qa=CONFIG.format(median="5s", worst="9s", load="30s") + GOLDEN)
    return made


def run(made: pytest.Pytester, *args: str) -> pytest.RunResult:
    return made.runpytest("-m", "gpu", "-rs", "--qa-config", "qa.toml", "--qa-candidate", "cand", *args)


def test_a_slower_candidate_fails_with_an_interval_that_excludes_zero(gate_project: Project) -> None:
    made = ab_project(gate_project, "StubPipe(forward_s=0.003)", "StubPipe(forward_s=0.0045)")
    result = run(made, "-k", "latency", "--benchmark-json", "ab.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*the candidate */cand against reference: slower, +*% [[]+*%, +*%[]] (*% CI, * pairs)*"]
    )
    info = json.loads((made.path / "ab.json").read_text())["benchmarks"][0]["extra_info"]
    assert info["ci_low"] > 0 and len(info["a_rounds_s"]) == len(info["b_rounds_s"]) >= 10


def test_an_identical_candidate_raises_no_alarm(gate_project: Project) -> None:
    made = ab_project(gate_project, "StubPipe(forward_s=0.003)", "StubPipe(forward_s=0.003)")
    run(made, "-k", "latency").assert_outcomes(passed=1)


def test_a_candidate_with_other_pictures_fails_the_picture_check(gate_project: Project) -> None:
    shifted = "StubPipe(picture=lambda p, s, w, h: np.clip(noise_picture(s, w, h).astype(int) + 60, 0, 255).astype('uint8'))"
    made = ab_project(gate_project, "StubPipe()", shifted)
    result = run(made, "-k", "pictures")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*g: the candidate's picture moved: *"])


def test_a_candidate_with_the_same_pictures_passes_the_picture_check(gate_project: Project) -> None:
    run(ab_project(gate_project, "StubPipe()", "StubPipe()"), "-k", "pictures").assert_outcomes(passed=1)


def test_without_a_candidate_nothing_is_collected(gate_project: Project) -> None:
    made = ab_project(gate_project, "StubPipe()", "StubPipe()")
    result = made.runpytest("-m", "gpu", "--qa-config", "qa.toml", "--qa-strict")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
