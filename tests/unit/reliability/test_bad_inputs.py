"""Every bad input, through the real entry point, is one line naming the problem and the fix: exit 2 for
`zqa` (zimage_qa.cli.main), a usage error for pytest (pytester), never a traceback.

One table (`CASES`), three surfaces: the `zqa` command line, the pytest options, the config file. The
unit suites hold finer tests of the same refusals (tests/unit/golden/test_golden_command.py,
tests/unit/glyphs/test_command.py, tests/unit/history/test_history_cli.py, tests/unit/core/test_config.py,
tests/unit/models/test_profiles.py, tests/plugin/test_plugin_foundation.py); this table is the census.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# numpy, torch and the plugin are imported here, outside pytester's in-process runs: pytester forgets the
# modules first imported inside a run, and numpy cannot be loaded twice in one process.
import numpy as np
import pytest
from PIL import Image

import zimage_qa.cli
import zimage_qa.plugin

assert zimage_qa.plugin  # imported before pytester runs, see above

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "history"
Make = Callable[[Path], list[str]]


@dataclass(frozen=True)
class Bad:
    id: str
    surface: str  # "zqa" (argv of zimage_qa.cli.main) or "pytest" (arguments of a pytest run)
    make: Make  # builds the files in a folder and returns the arguments
    message: str  # a part of the one line the user reads


def _png(folder: Path, name: str = "ok.png", colour: tuple[int, int, int] | None = None) -> Path:
    path = folder / name
    if colour is None:
        pixels = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
        Image.fromarray(pixels).resize((256, 256)).save(path)
    else:
        Image.new("RGB", (256, 256), colour).save(path)
    return path


def _file(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def _truncated(folder: Path) -> Path:
    good = _png(folder, "whole.png")
    return _file(folder / "truncated.png", good.read_bytes()[: good.stat().st_size // 2])


def _bomb(folder: Path) -> Path:
    path = folder / "bomb.png"
    Image.new("1", (20_000, 20_000)).save(path)  # 400 Mpx that weigh a few kB on disk
    return path


def compare(make_candidate: Callable[[Path], Path]) -> Make:
    return lambda d: ["compare", str(_png(d)), str(make_candidate(d))]


def glyph(*extra: str, image: Callable[[Path], Path] = _png) -> Make:
    return lambda d: ["glyph-check", str(image(d)), *(extra or ("--expect", "福"))]


def history(files: dict[str, str], *extra: str) -> Make:
    def make(d: Path) -> list[str]:
        runs = d / "runs"
        runs.mkdir()
        for name, text in files.items():
            _file(runs / name, text)
        return ["history", str(runs), *extra]

    return make


def config(text: str) -> Make:
    return lambda d: ["--qa-config", str(_file(d / "qa.toml", text))]


CASES = [
    # zqa compare: image files
    Bad("compare-missing-file", "zqa", compare(lambda d: d / "missing.png"), "does not exist"),
    Bad("compare-empty-file", "zqa", compare(lambda d: _file(d / "empty.png", b"")), "is empty (0 bytes)"),
    Bad("compare-truncated-png", "zqa", compare(_truncated), "may be truncated: regenerate it"),
    Bad(
        "compare-not-an-image",
        "zqa",
        compare(lambda d: _file(d / "notes.png", "hello")),
        "not an image Pillow can read",
    ),
    Bad("compare-decompression-bomb", "zqa", compare(_bomb), "too large to compare safely"),
    Bad(
        "compare-black-golden",
        "zqa",
        lambda d: ["compare", str(_png(d, "black.png", (0, 0, 0))), str(_png(d))],
        "is not a usable golden image",
    ),
    Bad(
        "compare-threshold-not-a-number",
        "zqa",
        lambda d: ["compare", str(_png(d)), str(_png(d)), "--threshold", "phash"],
        "is not NAME=NUMBER",
    ),
    Bad(
        "compare-unknown-threshold",
        "zqa",
        lambda d: ["compare", str(_png(d)), str(_png(d)), "--threshold", "nope=1"],
        "unknown golden threshold(s) nope",
    ),
    Bad(
        "compare-missing-argument",
        "zqa",
        lambda d: ["compare", str(_png(d))],
        "the following arguments are required",
    ),
    # zqa glyph-check: images and expected text
    Bad("glyph-truncated-image", "zqa", glyph(image=_truncated), "damaged or truncated"),
    Bad("glyph-decompression-bomb", "zqa", glyph(image=_bomb), "too large to decode safely"),
    Bad(
        "glyph-empty-expected-text",
        "zqa",
        glyph("--expect", " ,. "),
        "is empty once whitespace and punctuation are removed",
    ),
    Bad(
        "glyph-absurd-expected-text",
        "zqa",
        glyph("--expect", "福" * 5000),
        "split it into several glyph cases",
    ),
    Bad(
        "glyph-unknown-ocr-engine",
        "zqa",
        glyph("--expect", "福", "--engine", "tesseract"),
        "unknown OCR engine 'tesseract'",
    ),
    Bad("glyph-min-score-out-of-range", "zqa", glyph("--expect", "福", "--min-score", "2"), "min_score"),
    # zqa history: folders and JSON
    Bad("history-missing-folder", "zqa", lambda d: ["history", str(d / "nope")], "no such file or folder"),
    Bad("history-empty-folder", "zqa", lambda d: ["history", str(d)], "no saved-run JSON files"),
    Bad(
        "history-only-corrupt-json",
        "zqa",
        history({"0001_a.json": '{"benchmarks": ['}),
        "no usable pytest-benchmark saved run",
    ),
    Bad(
        "history-only-empty-json", "zqa", history({"0001_a.json": ""}), "no usable pytest-benchmark saved run"
    ),
    Bad(
        "history-only-foreign-json",
        "zqa",
        history({"package.json": '{"name": "web"}', "list.json": "[1, 2]"}),
        "no usable pytest-benchmark saved run",
    ),
    Bad(
        "history-threshold-not-a-fraction",
        "zqa",
        lambda d: ["history", str(EXAMPLE), "--threshold", "lots"],
        "threshold 'lots'",
    ),
    Bad(
        "history-min-runs-zero",
        "zqa",
        lambda d: ["history", str(EXAMPLE), "--min-runs", "0"],
        "is not a whole number of runs >= 1",
    ),
    Bad(
        "history-plot-is-a-file",
        "zqa",
        lambda d: ["history", str(EXAMPLE), "--plot", str(_file(d / "f", "x"))],
        "is a file; give a folder",
    ),
    Bad(
        "history-html-is-a-folder",
        "zqa",
        lambda d: ["history", str(EXAMPLE), "--html", str(d)],
        "is a folder; give a file name",
    ),
    Bad("zqa-unknown-subcommand", "zqa", lambda d: ["bless"], "invalid choice: 'bless'"),
    # pytest options
    Bad("option-empty-model", "pytest", lambda d: ["--qa-model", " "], "--qa-model is empty"),
    Bad(
        "option-model-folder-missing",
        "pytest",
        lambda d: ["--qa-model", str(d / "weights")],
        "model folder * does not exist",
    ),
    Bad(
        "option-model-folder-without-pipeline",
        "pytest",
        lambda d: ["--qa-model", str(d)],
        "holds no diffusers pipeline (no model_index.json)",
    ),
    Bad(
        "option-model-not-an-id",
        "pytest",
        lambda d: ["--qa-model", "just words"],
        "is neither a built-in profile",
    ),
    Bad(
        "option-revision-on-builtin",
        "pytest",
        lambda d: ["--qa-revision", "v2"],
        "--qa-revision applies to real weights",
    ),
    Bad(
        "option-config-missing",
        "pytest",
        lambda d: ["--qa-config", str(d / "none.toml")],
        "is not a file; give a TOML file or a pyproject.toml",
    ),
    Bad(
        "option-update-golden-unknown",
        "pytest",
        lambda d: ["--qa-update-golden=sometimes"],
        "use changed or all",
    ),
    Bad(
        "option-unknown-ocr-engine",
        "pytest",
        lambda d: ["--qa-ocr-engine", "tesseract"],
        "use rapidocr, ppocrv4, easyocr or both",
    ),
    Bad(
        "option-easyocr-dir-missing",
        "pytest",
        lambda d: ["--qa-easyocr-dir", str(d / "none")],
        "is not a folder",
    ),
    Bad(
        "option-report-is-a-file",
        "pytest",
        lambda d: ["--qa-report", str(_file(d / "report", "x"))],
        "--qa-report * is a file",
    ),
    Bad(
        "option-report-under-a-file",
        "pytest",
        lambda d: ["--qa-report", str(_file(d / "f", "x") / "report")],
        "cannot be created: * is a file",
    ),
    Bad(
        "option-timeout-not-a-number",
        "pytest",
        lambda d: ["--qa-timeout", "soon"],
        "--qa-timeout 'soon' is not a number of seconds",
    ),
    Bad(
        "option-timeout-negative",
        "pytest",
        lambda d: ["--qa-timeout", "-5"],
        "is not a number of seconds >= 0",
    ),
    Bad(
        "option-gpu-lock-unknown",
        "pytest",
        lambda d: ["--qa-gpu-lock", "maybe"],
        "use wait, wait:SECONDS, fail or off",
    ),
    # config file
    Bad("config-not-toml", "pytest", config("[defaults\nsteps = 8"), "is not valid TOML"),
    Bad(
        "config-unknown-section", "pytest", config("[colours]\nred = 1\n"), "colours: is not a known section"
    ),
    Bad(
        "config-unknown-key", "pytest", config("[defaults]\nstep = 8\n"), "defaults.step: is not a known key"
    ),
    Bad(
        "config-wrong-type", "pytest", config('[defaults]\nsteps = "eight"\n'), "'eight' is a str, not an int"
    ),
    Bad(
        "config-size-not-a-multiple-of-16",
        "pytest",
        config('[[golden]]\nid = "a"\nprompt = "p"\nsize = "1000x1000"\n'),
        "1000 is not a multiple of 16",
    ),
    Bad(
        "config-size-absurd",
        "pytest",
        config('[[golden]]\nid = "a"\nprompt = "p"\nsize = "99999x512"\n'),
        "99999 is not a multiple of 16 between 16 and 4096",
    ),
    Bad(
        "config-size-not-a-size",
        "pytest",
        config('[[golden]]\nid = "a"\nprompt = "p"\nsize = "big"\n'),
        "is not WIDTHxHEIGHT",
    ),
    Bad("config-zero-steps", "pytest", config("[defaults]\nsteps = 0\n"), "defaults.steps: 0 is below 1"),
    Bad(
        "config-budget-zero",
        "pytest",
        config('[[budgets]]\nprofile = "reference"\ndevice = "cpu"\nload = "0s"\n'),
        "is not positive",
    ),
    Bad(
        "config-budget-not-a-duration",
        "pytest",
        config('[[budgets]]\nprofile = "reference"\ndevice = "cpu"\nload = "fast"\n'),
        "budgets[0].load",
    ),
    Bad(
        "config-ceiling-not-a-size",
        "pytest",
        config(
            '[[budgets]]\nprofile = "reference"\ndevice = "cpu"\nscenarios."*" = { allocated = "lots" }\n'
        ),
        "allocated",
    ),
    Bad(
        "config-duplicate-case-id",
        "pytest",
        config('[[golden]]\nid = "a"\nprompt = "p"\n[[golden]]\nid = "a"\nprompt = "q"\n'),
        "id 'a' is used twice",
    ),
    Bad(
        "config-empty-expected-text",
        "pytest",
        config('[[glyphs]]\nid = "a"\nprompt = "p"\nexpect = " "\n'),
        "is empty or over 200 characters",
    ),
    Bad(
        "config-absurd-expected-text",
        "pytest",
        config(f'[[glyphs]]\nid = "a"\nprompt = "p"\nexpect = "{"福" * 300}"\n'),
        "is empty or over 200 characters",
    ),
]


def assert_zqa_refuses(case: Bad, folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = zimage_qa.cli.main(case.make(folder))
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("zqa: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert _matches(err, case.message), err


def assert_pytest_refuses(case: Bad, pytester: pytest.Pytester) -> None:
    args = case.make(pytester.path)
    # Options are read when a gate item (a test that asks for qa_verdict) is collected, as in a gate run.
    pytester.makepyfile(test_a_gate_item="def test_gate_item(qa_verdict):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stderr.str()
    errors = [line for line in result.stderr.lines if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("ERROR: zimage-qa: "), errors
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert _matches(errors[0], case.message), errors[0]


def _matches(text: str, pattern: str) -> bool:
    import fnmatch

    return fnmatch.fnmatchcase(text, f"*{pattern.replace('[', '[[]')}*")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_line_and_no_traceback(
    case: Bad, tmp_path: Path, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    if case.surface == "zqa":
        assert_zqa_refuses(case, tmp_path, capsys)
    else:
        assert_pytest_refuses(case, request.getfixturevalue("pytester"))


def test_the_census_holds_at_least_25_distinct_bad_inputs() -> None:
    assert len({c.id for c in CASES}) == len(CASES) >= 25
    assert {c.surface for c in CASES} == {"zqa", "pytest"}
    assert sum(c.id.startswith("config-") for c in CASES) >= 8


def test_bad_files_beside_good_runs_are_skipped_with_a_warning_naming_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = tmp_path / "runs"
    shutil.copytree(EXAMPLE, runs)
    _file(runs / "corrupt.json", '{"benchmarks": [')
    _file(runs / "empty.json", "")
    _file(runs / "foreign.json", json.dumps({"name": "web", "version": "1.0"}))
    code = zimage_qa.cli.main(["history", str(runs)])
    err = capsys.readouterr().err
    assert code in (0, 1)  # judged: the example history has an open regression
    for name in ("corrupt.json", "empty.json", "foreign.json"):
        assert f"zqa history: warning: skipped {runs / name}" in err or name in err, err
    assert "Traceback" not in err


def test_doctor_names_a_model_without_pipeline_and_a_bad_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`zqa doctor` reports problems as findings (exit 1), one line each, not as a usage error."""
    bad = _file(tmp_path / "qa.toml", "[defaults]\nstep = 8\n")
    code = zimage_qa.cli.main(["doctor", "--model", str(tmp_path), "--config", str(bad)])
    out = capsys.readouterr().out
    assert code == 1
    assert "DOES NOT RESOLVE: " in out and "holds no diffusers pipeline" in out
    assert "INVALID: " in out and "defaults.step: is not a known key" in out
