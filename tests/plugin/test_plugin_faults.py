"""Faults the gate survives, injected through stub pipelines: out of memory in one scenario, a sticky
CUDA error, NaN/black/flat pictures, a hang (in Python and in native code), a second run on the same
device, and pytest-xdist workers. Each test names the fault and asserts the outcome a user sees."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from zimage_qa.storage import DeviceLock

Project = Callable[..., pytest.Pytester]
GATE = ("-m", "gpu", "-p", "no:randomly")


def test_fault_oom_in_one_scenario_fails_it_with_the_numbers_and_the_rest_runs(gate_project: Project) -> None:
    project = gate_project("StubPipe(fault=oom_at(768, 768))", files=("test_latency.py", "test_guards.py"))
    result = project.runpytest(
        *GATE, "--qa-scenarios", "512-simple,768-simple", "-k", "test_latency or guard"
    )
    result.assert_outcomes(passed=9, failed=1)
    result.stdout.fnmatch_lines(
        [
            "out of memory for *test_latency?768-simple?: asked 9.00 GiB with 1.10 GiB free; released",
            "guard: 6 passed, 0 failed",
            "latency: 3 passed, 1 failed",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_fault_oom_releases_what_the_failed_generation_held() -> None:
    import gc
    import weakref

    import torch

    from zimage_qa.config import load_config
    from zimage_qa.models.profiles import resolve_spec
    from zimage_qa.options import GateOptions
    from zimage_qa.session import GateSession

    class Activation:  # stands for the tensors a failed forward left in its frames
        pass

    def forward() -> None:
        held = Activation()
        ref.append(weakref.ref(held))
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB.")

    ref: list[weakref.ref[Activation]] = []
    session = GateSession(GateOptions(), load_config(), resolve_spec("reference"))
    try:
        forward()
    except torch.OutOfMemoryError as exc:
        message = session.absorb(exc, "1024x1024/simple")
        gc.collect()
        assert ref[0]() is None, "the failed generation's objects are still alive"
    assert message is not None and message.startswith("out of memory for 1024x1024/simple: asked 2.00 GiB")
    assert session.fatal is None


def test_fault_sticky_cuda_error_marks_every_later_gpu_check_not_run(gate_project: Project) -> None:
    result = gate_project("StubPipe(fault=sticky_from(1))").runpytest(*GATE, "--qa-timeout", "60")
    result.assert_outcomes(passed=1, failed=1, skipped=4)
    result.stdout.fnmatch_lines(
        [
            "*test_guidance_is_zero_and_no_cfg_pass*",
            "*sticky CUDA error: CUDA error: an illegal memory access was encountered; every remaining GPU check*",
            "guard: 1 passed, 1 failed, 4 not run",
            "    not run: not run: a sticky CUDA error in *test_guidance_is_zero_and_no_cfg_pass (CUDA error: an "
            "illegal memory access was encountered) left the CUDA context unusable; restart the process*",
        ]
    )


@pytest.mark.parametrize(
    ("stub", "diagnosis"),
    [
        (
            "StubPipe(picture=lambda p, s, w, h: nan_picture(s, w, h))",
            "NaN or infinite values in the decoded picture",
        ),
        ("StubPipe(picture=lambda p, s, w, h: flat_picture(w, h, 0))", "black: 99.5th-percentile luma*"),
        ("StubPipe(picture=lambda p, s, w, h: flat_picture(w, h, 128))", "flat: pixel standard deviation*"),
    ],
    ids=["nan", "black", "flat"],
)
def test_fault_invalid_pictures_fail_every_check_that_sees_one(
    gate_project: Project, stub: str, diagnosis: str
) -> None:
    project = gate_project(stub, files=("test_guards.py", "test_latency.py", "test_golden.py"))
    project.makefile(".toml", qa='[[golden]]\nid = "apple"\nprompt = "apple"\nsize = "64x64"\n')
    result = project.runpytest(
        *GATE,
        "--qa-config",
        "qa.toml",
        "--qa-scenarios",
        "512-simple",
        "-k",
        "same_seed or dit_forwards or test_latency or golden_image",
    )
    result.assert_outcomes(passed=1, failed=5)  # cold start sees no picture; drift sees 512-simple's
    result.stdout.fnmatch_lines(
        [
            f"the pipeline produced an invalid picture for apple: {diagnosis}*",
            f"the pipeline produced an invalid picture for apple (seed 42): {diagnosis}*",
            f"512x512/512-simple: the pipeline produced an invalid picture: {diagnosis}*",
            f"512x512/512-simple: the pipeline produced an invalid picture: {diagnosis}*",
            "guard: 0 passed, 2 failed",
            "latency: 1 passed, 2 failed",
            "golden: 0 passed, 1 failed",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_fault_a_hang_fails_at_the_timeout_and_the_session_goes_on(gate_project: Project) -> None:
    project = gate_project("StubPipe(fault=hang(30))")
    started = time.monotonic()
    result = project.runpytest(*GATE, "--qa-timeout", "1", "-k", "scheduler or dit_forwards or dtype")
    assert time.monotonic() - started < 20
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        ["*test_dit_forwards_per_image: no result after 1 s (--qa-timeout): the generation hangs*"]
    )


def test_fault_a_hang_in_native_code_ends_the_process_with_a_clear_line(gate_project: Project) -> None:
    project = gate_project("StubPipe(fault=hang(60, native=True))")
    started = time.monotonic()
    result = project.runpytest_subprocess(*GATE, "--qa-timeout", "1", "-k", "dit_forwards", timeout=50)
    assert time.monotonic() - started < 45
    assert result.ret == 3
    result.stderr.fnmatch_lines(
        [
            "zimage-qa: *test_dit_forwards_per_image is still running after 2 s, stuck inside a native call*",
            "*Thread *",
        ]
    )


def hold_device(seconds: float) -> threading.Event:
    """Another run's lock on the 'cpu' device, held by another thread for `seconds`; set once taken."""
    taken = threading.Event()

    def hold() -> None:
        lock = DeviceLock("cpu", "the other run")
        lock.acquire(0)
        taken.set()
        time.sleep(seconds)
        lock.release()

    threading.Thread(target=hold, daemon=True).start()
    taken.wait(5)
    return taken


def test_fault_second_run_on_a_held_device_stops_with_one_line(gate_project: Project) -> None:
    project = gate_project()
    hold_device(3.0)
    result = project.runpytest(*GATE, "--qa-gpu-lock", "fail")
    result.assert_outcomes(errors=1)  # the first GPU test; the session stops there
    result.stdout.fnmatch_lines(
        [
            "*device cpu is in use by another zimage-qa run (pid *, the other run; lock *zimage-qa-cpu.lock); "
            "wait for it to finish, or pass --qa-gpu-lock wait*",
        ]
    )


def test_fault_second_run_waits_for_the_device_then_runs(gate_project: Project) -> None:
    project = gate_project()
    hold_device(1.0)
    result = project.runpytest(*GATE, "-k", "scheduler or dtype")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "zimage-qa: device cpu is in use by another zimage-qa run *; waiting for it (at most 3600 s)",
            "zimage-qa: device cpu is free after *s of waiting",
            "device lock: *test_guards.py::test_* waited *s for pid *, the other run (its time is not in any measurement)",
        ]
    )


def test_fault_a_wait_for_the_device_is_bounded_and_names_the_holder(gate_project: Project) -> None:
    project = gate_project()
    hold_device(5.0)
    started = time.monotonic()
    result = project.runpytest(*GATE, "--qa-gpu-lock", "wait:0.5", "-k", "scheduler or dtype")
    assert time.monotonic() - started < 4.5
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*device cpu is in use by another zimage-qa run (pid *, the other run; lock *); still held after 0.5 s "
            "of waiting: stop that run, or wait longer with --qa-gpu-lock wait:SECONDS*",
        ]
    )


def test_fault_xdist_workers_take_turns_and_every_result_reaches_the_controller(
    gate_project: Project,
) -> None:
    pytest.importorskip("xdist")
    project = gate_project()
    result = project.runpytest_subprocess(*GATE, "-n", "2", "-p", "xdist", timeout=120)
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["guard: 6 passed, 0 failed"])
