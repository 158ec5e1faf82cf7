"""The glyph gate on stub pictures: the right text passes, a look-alike or missing text fails, and a
profile that cannot render text is reported as not run, never as passed."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Project = Callable[..., pytest.Pytester]

CASES = """
[[glyphs]]
id = "fu"
prompt = "福"
expect = "福"
size = "512x512"

[[glyphs]]
id = "chunjie"
prompt = "春节快乐"
expect = "春节快乐"
size = "512x512"
"""


def project_for(gate_project: Project, stub: str) -> pytest.Pytester:
    project = gate_project(stub, files=("test_glyphs.py",))
    project.makefile(".toml", qa=CASES)
    (project.path / "weights").mkdir()  # a folder name makes the spec "real weights", which render text
    return project


def run(project: pytest.Pytester, *extra: str) -> pytest.RunResult:
    return project.runpytest("-m", "gpu", "--qa-config", "qa.toml", "--qa-model", "weights", *extra)


def test_the_asked_text_passes_and_the_annotated_picture_is_saved(gate_project: Project) -> None:
    project = project_for(gate_project, "StubPipe(picture=lambda p, s, w, h: text_picture(p, w, h))")
    result = run(project)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["glyph: 2 passed, 0 failed"])
    assert (project.path / "qa-report" / "glyph" / "fu" / "annotated.png").is_file()


def test_a_look_alike_character_fails_naming_both_texts(gate_project: Project) -> None:
    stub = (
        "StubPipe(picture=lambda p, s, w, h: text_picture(p.replace('福', '副').replace('节', '苄'), w, h))"
    )
    result = run(project_for(gate_project, stub))
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*fu: asked for '福', rapidocr read '副'*", "glyph: 0 passed, 2 failed"])


def test_a_picture_without_text_fails(gate_project: Project) -> None:
    result = run(project_for(gate_project, "StubPipe()"))
    result.assert_outcomes(failed=2)


def test_the_reference_profile_cannot_render_text_and_says_so(gate_project: Project) -> None:
    project = project_for(gate_project, "StubPipe(picture=lambda p, s, w, h: text_picture(p, w, h))")
    result = project.runpytest("-m", "gpu", "--qa-config", "qa.toml")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(
        [
            "glyph: 0 passed, 0 failed, 2 not run",
            "    not run: the reference profile cannot render text: its weights are random*",
        ]
    )
