"""After an update the terminal names each golden record written, not only the count."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Project = Callable[..., pytest.Pytester]

STUB = "StubPipe(picture=lambda p, s, w, h: noise_picture(s, w, h))"


def test_update_all_names_the_records_it_wrote(gate_project: Project) -> None:
    project = gate_project(STUB, files=("test_golden.py",))
    result = project.runpytest("-m", "gpu", "-k", "test_golden_image", "--qa-update-golden=all")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "golden: 3 passed, 0 failed",
            "    wrote: golden/reference/cpu/apple-s42.json",
            "    wrote: golden/reference/cpu/*.json",
            "    wrote: golden/reference/cpu/*.json",
        ]
    )
    again = project.runpytest("-m", "gpu", "-k", "test_golden_image")
    again.assert_outcomes(passed=3)
    assert "wrote:" not in again.stdout.str()
