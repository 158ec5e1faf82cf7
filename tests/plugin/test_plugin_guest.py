"""The plugin as a guest in someone else's repository: a project with its own `qa/` package and its own
`gpu`-marked tests runs as if zimage-qa were not installed (no timeout, no device lock, no option
checks), and a gate run refuses a bad value once, at start-up, blaming where it came from."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from installed_gate import run_installed_gate

from zimage_qa.storage import DeviceLock

USER_PROJECT = {
    "qa/__init__.py": '"""The user\'s own qa package (zimage-qa was once imported as `qa`)."""\n',
    "qa/helpers.py": "def answer() -> int:\n    return 42\n",
    "tests/test_user_gpu.py": """
import time

import pytest

from qa.helpers import answer


@pytest.mark.gpu
def test_user_gpu_work_of_half_a_second():
    started = time.perf_counter()
    time.sleep(0.5)
    assert time.perf_counter() - started >= 0.5
    assert answer() == 42


@pytest.mark.gpu
def test_user_gpu_quick():
    assert answer() == 42


def test_user_plain():
    assert answer() == 42
""",
    "pyproject.toml": '[tool.pytest.ini_options]\nmarkers = ["gpu: our own GPU tests"]\n'
    'addopts = "--strict-markers -p no:cacheprovider"\n',
}


@pytest.fixture
def user_repo(pytester: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory) -> pytest.Pytester:
    for name, text in USER_PROJECT.items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return pytester


def run_user_suite(repo: pytest.Pytester, *args: str, **env: str) -> tuple[pytest.RunResult, float]:
    """The user's suite in a fresh process (the plugin loads through its entry point, as when installed)."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("ZQA_", "PYTEST_"))}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=repo.path,
        env={**keep, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    wall = time.perf_counter() - started
    outcome = pytest.RunResult(
        result.returncode, result.stdout.splitlines(), result.stderr.splitlines(), wall
    )
    return outcome, wall


def test_a_users_own_gpu_tests_are_left_alone(user_repo: pytest.Pytester, tmp_path: Path) -> None:
    """A per-test timeout of 0.2 s would fail the 0.5 s test if the gate's timeout reached it."""
    result, _ = run_user_suite(user_repo, "-v", ZQA_TIMEOUT="0.2", ZQA_LOCK_DIR=str(tmp_path))
    assert result.ret == 0, result.stdout.str()[-2000:]
    result.assert_outcomes(passed=3)
    lines = [x for x in result.stdout.lines if "zimage-qa" in x and not x.startswith("plugins:")]
    assert lines == []  # no header, no section, no lock line
    assert not list(tmp_path.iterdir())  # no device lock was taken
    selected, _ = run_user_suite(user_repo, "-m", "gpu", ZQA_LOCK_DIR=str(tmp_path))
    selected.assert_outcomes(passed=2, deselected=1)  # the marker still selects the user's own gpu tests


def test_a_bad_zqa_variable_does_not_break_a_users_suite(user_repo: pytest.Pytester) -> None:
    result, _ = run_user_suite(user_repo, ZQA_DEVICE="tpu", ZQA_TIMEOUT="soon", ZQA_SCENARIOS="nosuch")
    assert result.ret == 0, result.stderr.str()[-2000:]
    result.assert_outcomes(passed=3)


def test_a_users_gpu_tests_do_not_wait_for_a_gate_holding_the_device(
    user_repo: pytest.Pytester, tmp_path: Path
) -> None:
    held, release = threading.Event(), threading.Event()

    def gate_run() -> None:
        lock = DeviceLock("cpu", "a gate run", lock_dir=tmp_path)
        lock.acquire(0)
        held.set()
        release.wait(60)
        lock.release()

    threading.Thread(target=gate_run, daemon=True).start()
    assert held.wait(10)
    try:
        result, wall = run_user_suite(user_repo, "-m", "gpu", ZQA_LOCK_DIR=str(tmp_path))
    finally:
        release.set()
    result.assert_outcomes(passed=2, deselected=1)
    assert "waiting" not in result.stdout.str()
    assert wall < 30  # the process start and the 0.5 s test, never the gate's minutes


@pytest.mark.parametrize(
    ("args", "env", "line"),
    [
        (
            ["--qa-device", "cuda:7"],
            {},
            "--qa-device 'cuda:7': no CUDA device is visible here; use cpu or auto",
        ),
        (
            [],
            {"ZQA_DEVICE": "cuda:7"},
            "ZQA_DEVICE 'cuda:7': no CUDA device is visible here; use cpu or auto",
        ),
        (["--qa-model", "synthetic"], {}, "--qa-model synthetic needs a CUDA GPU * none is visible here; *"),
        (
            ["--qa-model", "nonexistent/path"],
            {"HF_HUB_OFFLINE": "1"},
            "*nonexistent/path* is not in the Hugging "
            "Face cache at *; fetch it first: *(the run is offline: HF_HUB_OFFLINE is set)",
        ),
        (
            ["--qa-model", "nonexistent/path"],
            {"HF_HUB_OFFLINE": "0"},
            "--qa-model 'nonexistent/path': model "
            "nonexistent/path@main is not in the Hugging Face cache at *, and the Hugging Face hub did not confirm it *"
            "there is no folder nonexistent/path here either; check the id, or pass a local folder",
        ),
        (["--qa-scenarios", "nosuch"], {}, "--qa-scenarios names unknown scenario(s) nosuch; known: *"),
    ],
)
def test_a_gate_run_refuses_a_bad_value_once_at_start_up(
    tmp_path: Path, args: list[str], env: dict[str, str], line: str
) -> None:
    """From a deployment folder, as a team runs the installed gate: one line, exit 4, no test started."""
    if "cuda" in line or "CUDA" in line:
        import torch

        if torch.cuda.is_available():
            pytest.skip("this machine has a CUDA device")
    result = run_installed_gate(tmp_path, *args, env={"HF_HOME": str(tmp_path / "hf"), **env}, timeout=300)
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout[-2000:] + result.stderr[-2000:]
    errors = [x for x in result.stderr.splitlines() if x.startswith("ERROR:")]
    assert len(errors) == 1, result.stderr
    pytest.LineMatcher(errors).fnmatch_lines([f"ERROR: zimage-qa: {line}"])
    assert "Traceback" not in result.stderr + result.stdout
    assert " passed" not in result.stdout and " error" not in result.stdout  # no test ran
