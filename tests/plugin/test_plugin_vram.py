"""--qa-card-memory through the plugin, on a stub pipeline. On this CPU the VRAM checks do not run (the header
still names the card); on a fake GPU whose NVML reads what the stub holds image by image, a scenario is
judged on its own peak and the session's peak, warm-up included, once, by the leak check; without NVML the
card question is named, never hiding the checks' own results, and --qa-strict fails it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Project = Callable[..., pytest.Pytester]

CONFIG = """
[run]
warmup = 1
rounds = 3
leak_images = 3
leak_scenario = "tiny"
drift_scenario = "tiny"

[[scenarios]]
id = "tiny"
prompt = "A red apple on a table"
size = "256x256"
"""

HOST_CEILING = """
[[budgets]]
profile = "reference"
device = "cpu"
scenarios."*" = { host = "256GiB" }
"""

STUB = "StubPipe(forward_s=0.01)"  # 8 steps of 10 ms: the 5 ms NVML sampler sees every image
NO_GPU = "no CUDA device (the reference profile runs on the CPU)"


def project(gate_project: Project, card: str | None, config: str = CONFIG) -> pytest.Pytester:
    made = gate_project(STUB, files=("test_vram.py",), card=card)
    made.makefile(".toml", qa=config)
    return made


def run(made: pytest.Pytester, *args: str) -> pytest.RunResult:
    return made.runpytest("-m", "gpu", "-rs", "--qa-config", "qa.toml", "--qa-card-memory", "16GiB", *args)


def test_card_on_the_cpu_the_vram_checks_do_not_run_and_the_header_names_the_card(
    gate_project: Project,
) -> None:
    result = run(project(gate_project, card=None))
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(
        [
            "zimage-qa: model reference on cpu (dtype auto, card 16.00 GiB (--qa-card-memory)), config *",
            "vram: 0 passed, 0 failed, 2 not run",
            f"    not run: {NO_GPU}",
        ]
    )


def test_card_on_the_cpu_under_strict_fails_the_checks_that_could_not_run(gate_project: Project) -> None:
    result = run(project(gate_project, card=None), "--qa-strict")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([f"*--qa-strict: not run: {NO_GPU}*"])


def test_card_a_session_that_fits_passes_both_checks_with_its_peaks(gate_project: Project) -> None:
    result = run(project(gate_project, card="lambda n: 12 * GIB"))
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["vram: 2 passed, 0 failed"])


def test_card_a_scenario_over_the_card_fails_on_its_own_peak(gate_project: Project) -> None:
    result = run(project(gate_project, card="lambda n: 18 * GIB"))
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*device-level peak 18.00 GiB does not fit a 16.00 GiB card (--qa-card-memory) for 256x256/tiny*",
            "*the session's device-level peak 18.00 GiB (warm-up 256x256) does not fit a 16.00 GiB card*",
        ]
    )


def test_card_the_first_image_over_the_card_fails_the_session_once(gate_project: Project) -> None:
    """The warm-up (image 1) held two models; every measured image fits: only the leak check, which holds
    the session's verdict, fails, naming the warm-up, and says that its own check passed."""
    result = run(project(gate_project, card="lambda n: 18 * GIB if n == 1 else 12 * GIB"))
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_vram_by_stage_and_no_leak _*",
            "the session's device-level peak 18.00 GiB (warm-up 256x256) does not fit a 16.00 GiB card "
            "(--qa-card-memory); memory by stage and leak: passed, tiny x3: no growth*",
            "vram: 1 passed, 1 failed",
        ]
    )


def test_card_without_nvml_is_named_and_hides_no_result(gate_project: Project) -> None:
    """The scenario passes its own ceiling, with the unanswered card as a note in its record; the leak check
    passes its own check but cannot answer the session's card question: not run, named in the summary."""
    made = project(gate_project, card="None", config=CONFIG + HOST_CEILING)
    result = run(made)
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "vram: 1 passed, 0 failed, 1 not run",
            "    not run: --qa-card-memory 16.00 GiB not judged for the session: no device-level reading (NVML); "
            "memory by stage and leak: passed, tiny x3: no growth*",
        ]
    )
    page = (made.path / "qa-report" / "results.json").read_text()
    assert "within host <= 256.00 GiB; --qa-card-memory 16.00 GiB not judged for 256x256/tiny" in page


def test_card_without_nvml_fails_under_strict(gate_project: Project) -> None:
    result = run(project(gate_project, card="None", config=CONFIG + HOST_CEILING), "--qa-strict")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["--qa-strict: not run: --qa-card-memory 16.00 GiB not judged for the session*"]
    )
