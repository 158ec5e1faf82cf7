"""The golden gate on stub pictures: missing set, update, changed, update-all, device classes, tampering."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

Project = Callable[..., pytest.Pytester]

STUB = (
    "StubPipe(picture=lambda p, s, w, h: noise_picture(s, w, h)[..., ::-1].copy() "
    "if __import__('os').environ.get('ZQA_STUB_BGR') else noise_picture(s, w, h))"
)
ARGS = ("-m", "gpu", "-k", "test_golden_image")


@pytest.fixture
def project(gate_project: Project) -> pytest.Pytester:
    return gate_project(STUB, files=("test_golden.py",))


def records(project: pytest.Pytester) -> dict[str, Path]:
    return {p.stem: p for p in (project.path / "golden" / "reference" / "cpu").glob("*.json")}


def test_no_golden_set_is_not_run_and_names_the_update_command(project: pytest.Pytester) -> None:
    result = project.runpytest(*ARGS)
    result.assert_outcomes(skipped=3)
    result.stdout.fnmatch_lines(
        [
            "golden: 0 passed, 0 failed, 3 not run",
            "    not run: no golden set for profile 'reference' on device class 'cpu' *--qa-update-golden=all*",
        ]
    )


def test_update_writes_new_records_and_still_fails_then_the_next_run_passes(project: pytest.Pytester) -> None:
    result = project.runpytest(*ARGS, "--qa-update-golden")
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(
        ["*apple-s42: new record; wrote the new golden record */golden/reference/cpu/apple-s42.json*"]
    )
    assert set(records(project)) == {"apple-s42", "garden-s7", "city-s1234-1024x768"}
    project.runpytest(*ARGS).assert_outcomes(passed=3)


def test_changed_picture_fails_with_the_reasons_and_keeps_the_record(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.runpytest(*ARGS, "--qa-update-golden=all").assert_outcomes(passed=3)
    before = {k: p.read_bytes() for k, p in records(project).items()}
    monkeypatch.setenv("ZQA_STUB_BGR", "1")
    result = project.runpytest(*ARGS)
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(
        ["*apple-s42 regressed against *apple-s42.json: *colour*rebless with --qa-update-golden*"]
    )
    assert {k: p.read_bytes() for k, p in records(project).items()} == before
    report = project.path / "qa-report" / "golden" / "apple-s42"
    assert (report / "obtained.png").is_file() and (report / "diff.png").is_file()


def test_update_of_a_changed_picture_writes_it_and_fails_then_passes(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.runpytest(*ARGS, "--qa-update-golden=all").assert_outcomes(passed=3)
    monkeypatch.setenv("ZQA_STUB_BGR", "1")
    result = project.runpytest(*ARGS, "--qa-update-golden=changed")
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(["*apple-s42: changed (*); wrote the new golden record *apple-s42.json*"])
    review = project.path / "qa-report" / "golden" / "apple-s42"
    assert all((review / f"{role}.png").is_file() for role in ("expected", "obtained", "diff")), list(
        review.iterdir()
    )
    project.runpytest(*ARGS).assert_outcomes(passed=3)


def test_update_all_rewrites_everything_and_passes(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.runpytest(*ARGS, "--qa-update-golden=all").assert_outcomes(passed=3)
    monkeypatch.setenv("ZQA_STUB_BGR", "1")
    result = project.runpytest(*ARGS, "--qa-update-golden=all")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["golden: 3 passed, 0 failed"])
    project.runpytest(*ARGS).assert_outcomes(passed=3)


def test_a_golden_set_of_another_device_class_is_not_used(project: pytest.Pytester) -> None:
    project.runpytest(*ARGS, "--qa-update-golden=all").assert_outcomes(passed=3)
    cpu = project.path / "golden" / "reference" / "cpu"
    cpu.rename(cpu.with_name("nvidia-h100-80gb-hbm3"))
    result = project.runpytest(*ARGS)
    result.assert_outcomes(skipped=3)
    result.stdout.fnmatch_lines(["*no golden set for profile 'reference' on device class 'cpu'*"])


def test_a_tampered_record_fails_with_a_clear_message(project: pytest.Pytester) -> None:
    project.runpytest(*ARGS, "--qa-update-golden=all").assert_outcomes(passed=3)
    path = records(project)["apple-s42"]
    data = json.loads(path.read_text())
    data["measures"]["lab_mean"][0] += 30.0
    path.write_text(json.dumps(data))
    result = project.runpytest(*ARGS)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*apple-s42 regressed against *: colour shift: mean Lab *"])


def test_a_corrupt_record_is_one_line_naming_the_file(project: pytest.Pytester) -> None:
    project.runpytest(*ARGS, "--qa-update-golden=all").assert_outcomes(passed=3)
    records(project)["garden-s7"].write_text("{ not json")
    result = project.runpytest(*ARGS)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*garden-s7.json*"])
