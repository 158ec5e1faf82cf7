"""The plugin end to end on stub models: options, the one-load rule, guards, require-gpu, the summary."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Project = Callable[..., pytest.Pytester]


def test_gate_passes_on_a_sound_model_and_prints_the_family_line(gate_project: Project) -> None:
    result = gate_project().runpytest("-m", "gpu", "-s")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(
        [
            "zimage-qa: model reference on cpu (dtype auto), config *",
            "*= zimage-qa =*",
            "guard: 6 passed, 0 failed",
        ]
    )


def test_the_model_is_loaded_once_per_session(gate_project: Project) -> None:
    result = gate_project().runpytest("-m", "gpu", "-s")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["stub loads: 1, generations: *"])


def test_forward_count_guard_fails_when_steps_make_more_forwards(gate_project: Project) -> None:
    result = gate_project("StubPipe(forwards_per_step=2)").runpytest("-m", "gpu", "-k", "forwards")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*8 steps made 16 DiT forwards, the configuration promises 8*",
            "guard: 0 passed, 1 failed",
        ]
    )


def test_nondeterminism_guard_names_the_difference(gate_project: Project) -> None:
    stub = "StubPipe(picture=lambda p, s, w, h: np.random.default_rng().integers(0, 255, (h, w, 3), dtype=np.uint8))"
    result = gate_project(stub).runpytest("-m", "gpu", "-k", "same_seed")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*seed 42 gave two different images (max pixel difference *nondeterministic on cpu*"]
    )


def test_ignored_seed_guard_fails(gate_project: Project) -> None:
    stub = "StubPipe(picture=lambda p, s, w, h: noise_picture(1, w, h))"
    result = gate_project(stub).runpytest("-m", "gpu", "-k", "other_seed")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*seeds 42 and 43 gave the same picture*the seed is ignored*"])


def test_guidance_guard_fails_when_config_asks_for_cfg(gate_project: Project) -> None:
    project = gate_project()
    project.makefile(".toml", qa="[defaults]\nguidance = 3.5\n")
    result = project.runpytest("-m", "gpu", "-k", "guidance", "--qa-config", "qa.toml")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*guidance is 3.5; Z-Image-Turbo is validated with guidance 0.0*"])


def test_require_gpu_turns_the_reference_profile_into_a_failure(gate_project: Project) -> None:
    result = gate_project().runpytest("-m", "gpu", "--qa-require-gpu")
    result.assert_outcomes(errors=6)
    result.stdout.fnmatch_lines(
        [
            "*--qa-require-gpu: the reference profile is not a GPU gate; pass --qa-model synthetic or real weights*",
            "guard: 0 passed, 6 failed",
        ]
    )


def test_require_gpu_from_the_environment(gate_project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZQA_REQUIRE_GPU", "1")
    gate_project().runpytest("-m", "gpu").assert_outcomes(errors=6)


def test_require_gpu_fails_a_real_model_on_a_machine_without_cuda(gate_project: Project) -> None:
    project = gate_project()
    (project.path / "weights").mkdir()
    result = project.runpytest("-m", "gpu", "--qa-require-gpu", "--qa-model", "weights")
    result.assert_outcomes(errors=6)
    result.stdout.fnmatch_lines(["*--qa-require-gpu: no CUDA device (none visible)*"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--qa-model", "/no/such/dir"], "ERROR: zimage-qa: model folder /no/such/dir does not exist; *"),
        (
            ["--qa-model", "nonsense"],
            "ERROR: zimage-qa: --qa-model 'nonsense' is neither a built-in profile*",
        ),
        (
            ["--qa-revision", "v2"],
            "ERROR: zimage-qa: --qa-revision applies to real weights, not to the built-in*",
        ),
        (
            ["--qa-config", "nope.toml"],
            "ERROR: zimage-qa: --qa-config */nope.toml is not a file; give a TOML file or a pyproject.toml",
        ),
        (
            ["--qa-update-golden=sometimes"],
            "ERROR: zimage-qa: --qa-update-golden 'sometimes' is not known; use changed or all*",
        ),
        (
            ["--qa-ocr-engine", "tesseract"],
            "ERROR: zimage-qa: --qa-ocr-engine 'tesseract' is not known; use rapidocr, ppocrv4, easyocr or both",
        ),
        (
            ["--qa-device", "foo"],
            "ERROR: zimage-qa: --qa-device 'foo' is not a device; use auto, cpu, cuda or cuda:N",
        ),
        (["--qa-device", "cpu:1"], "ERROR: zimage-qa: --qa-device 'cpu:1' is not a device; *"),
        (
            ["--qa-dtype", "bf17"],
            "ERROR: zimage-qa: --qa-dtype 'bf17' is not known; use auto, bf16, fp16 or fp32",
        ),
        (
            ["--qa-shard", "3/2"],
            "ERROR: zimage-qa: --qa-shard '3/2' is not K/N with 1 <= K <= N; use e.g. 1/2",
        ),
        (["--qa-min-effect", "50"], "ERROR: zimage-qa: --qa-min-effect '50' is not a share between 0 and 1*"),
        (["--qa-card-memory", "lots"], "ERROR: zimage-qa: --qa-card-memory 'lots' is not a size*"),
        (["--qa-baseline", "no/such.json"], "ERROR: zimage-qa: --qa-baseline */no/such.json does not exist*"),
    ],
)
def test_bad_options_are_one_line_usage_errors(gate_project: Project, args: list[str], message: str) -> None:
    result = gate_project().runpytest("-m", "gpu", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert "Traceback" not in result.stderr.str()


def test_bad_environment_value_is_refused_at_start_up(
    gate_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZQA_DEVICE", "tpu")
    result = gate_project().runpytest("-m", "gpu")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: zimage-qa: ZQA_DEVICE 'tpu' is not a device; use auto, cpu, cuda or cuda:N"]
    )
    assert result.stderr.str().count("is not a device") == 1  # once, blaming the variable, not the flag
    assert "--qa-device" not in result.stderr.str()


def test_bad_scenarios_option_is_refused_once_at_start_up(gate_project: Project) -> None:
    project = gate_project(files=("test_guards.py",))
    (project.path / "gate" / "test_uses_scenarios.py").write_text(
        "import pytest\npytestmark = [pytest.mark.gpu, pytest.mark.latency]\n"
        "from zimage_qa.verdict import Verdict\n"
        "def test_s(qa_scenario, qa_verdict):\n    qa_verdict.conclude(Verdict.passed(qa_scenario.id))\n"
    )
    result = project.runpytest("-m", "gpu", "--qa-scenarios", "512-simple,bogus")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: zimage-qa: --qa-scenarios names unknown scenario(s) bogus; known: 1024-simple*"]
    )
    assert result.stderr.str().count("unknown scenario") == 1 and "Traceback" not in result.stderr.str()
    assert "unknown scenario" not in result.stdout.str()  # no collection error per module


def test_model_precedence_command_line_over_environment_over_ini(
    gate_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = gate_project(config='qa_model = "org/from-ini"')
    project.runpytest("-m", "gpu", "-k", "scheduler").stdout.fnmatch_lines(
        ["zimage-qa: model org/from-ini *"]
    )
    monkeypatch.setenv("ZQA_MODEL", "org/from-env")
    project.runpytest("-m", "gpu", "-k", "scheduler").stdout.fnmatch_lines(
        ["zimage-qa: model org/from-env *"]
    )
    result = project.runpytest("-m", "gpu", "-k", "scheduler", "--qa-model", "org/from-cli")
    result.stdout.fnmatch_lines(["zimage-qa: model org/from-cli *"])


def test_markers_are_registered_and_strict(gate_project: Project) -> None:
    result = gate_project().runpytest("--markers")
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.gpu:*",
            "@pytest.mark.guard:*",
            "@pytest.mark.latency:*",
            "@pytest.mark.vram:*",
            "@pytest.mark.golden:*",
            "@pytest.mark.glyph:*",
        ]
    )


def test_every_gate_test_is_marked_gpu() -> None:
    import ast
    from pathlib import Path

    paths = list((Path(__file__).parent.parent.parent / "zimage_qa" / "gate").glob("test_*.py"))
    assert len(paths) >= 5
    for path in paths:
        source = path.read_text()
        assert "pytest.mark.gpu" in source.split("\ndef ", 1)[0], f"{path.name} lacks pytestmark with gpu"
        ast.parse(source)


def test_upgrade_checks_left_out_without_a_candidate_are_named(gate_project: Project) -> None:
    result = gate_project(files=("test_guards.py", "test_upgrade.py")).runpytest(
        "-m", "gpu", "-k", "scheduler or upgrade"
    )
    result.stdout.fnmatch_lines(
        ["upgrade: needs --qa-candidate MODEL (an A/B against a second model); * checks not collected"]
    )
