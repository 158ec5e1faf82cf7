"""The host CPU probe: rounds measured while the host ran slow are replaced, not judged; a slower model
is still judged slower (the probe reads the host, not the pipeline)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from qa.checks.timing import LatencyPolicy, measure
from qa.config import Scenario
from qa.measure.host_cpu import DISTURBED_BELOW, HostProbe, HostSpeed
from qa.models.profiles import LoadedModel, ModelSpec, ProfileKind
from qa.runner import ScenarioRunner
from qa.verdict import Verdict

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugin"))
from zqa_stubs import StubPipe

CASE = Scenario("512-simple", "A red apple on a table", 64, 64, 8, 42, 8)
FAST_S, SLOW_FACTOR = 0.004, 2.0  # per DiT forward; a slow spell of the host doubles it


class Host:
    """A simulated host: slow for the images whose numbers are in `slow_images` (counting every image
    the pipeline draws), with a probe that reads it (as the real one reads the launching thread)."""

    def __init__(self, slow_images: set[int], model_factor: float = 1.0) -> None:
        self.slow_images, self.model_factor, self.image = slow_images, model_factor, 0

    @property
    def slow(self) -> bool:
        return self.image in self.slow_images

    def forward_s(self) -> float:
        return FAST_S * self.model_factor * (SLOW_FACTOR if self.slow else 1.0)


class ScriptedProbe(HostProbe):
    """Probes come in pairs around each image (before it, after it): both read that image's host state."""

    def __init__(self, host: Host) -> None:
        super().__init__(enabled=True)
        self.host, self.after = host, False

    def probe(self) -> float:
        image = self.host.image - 1 if self.after else self.host.image
        self.after = not self.after
        value = 0.001 * (1.6 if image in self.host.slow_images else 1.0)
        self.best_s = value if self.best_s is None else min(self.best_s, value)
        return value


class StepTimer:
    """The Timer protocol without pytest-benchmark: setup, call, teardown per round."""

    def __init__(self) -> None:
        self.extended: list[float] = []

    def disabled_reason(self) -> str | None:
        return None

    def time(self, target: Callable[[], None], rounds: int, warmup: int, setup=None, teardown=None) -> None:
        for _ in range(warmup + rounds):
            if setup:
                setup()
            target()
            if teardown:
                teardown()

    def extend(self, durations_s: list[float]) -> None:
        self.extended.extend(durations_s)

    def attach(self, info: dict) -> None:
        pass


def _runner(host: Host) -> ScenarioRunner:
    pipe = StubPipe(forward_s=host.forward_s)
    original = pipe.__call__

    def counted(*args, **kwargs):  # the host's state follows the images the pipeline draws
        try:
            return original(*args, **kwargs)
        finally:
            host.image += 1

    pipe_type = type("CountedStub", (StubPipe,), {"__call__": lambda self, *a, **k: counted(*a, **k)})
    pipe.__class__ = pipe_type
    model = LoadedModel(ModelSpec(ProfileKind.REFERENCE, "stub"), pipe, "cpu", torch.float32, 0.01)
    runner = ScenarioRunner(model)
    runner.host = ScriptedProbe(host)
    return runner


POLICY = LatencyPolicy(rounds=5, warmup=1, max_rounds=12, max_rel_iqr=0.5, min_stage_coverage=0.0)


def _measure(host: Host, budget_s: float):
    def judge(summary) -> Verdict:
        return Verdict.failed("over") if summary.median > budget_s else Verdict.passed()

    return measure(_runner(host), CASE, StepTimer(), POLICY, judge)


def test_speeds_take_the_slower_side_and_flag_under_the_limit() -> None:
    probe = HostProbe(enabled=False)
    probe.best_s = 0.001
    speed = probe.speeds([0.001, 0.001, 0.0016, None], [0.001, 0.0013, 0.001, None])
    assert speed.speeds[0] == pytest.approx(1.0)
    assert speed.speeds[1] == pytest.approx(1 / 1.3)  # slow after the round
    assert speed.speeds[2] == pytest.approx(1 / 1.6)  # slow before it
    assert speed.speeds[3] is None
    assert speed.disturbed == (1, 2)
    assert "2 of 4 rounds" in speed.describe()
    assert HostSpeed((1.0, 0.95), 1000.0).describe() == ""
    assert 0.5 < DISTURBED_BELOW < 1.0


def test_a_disabled_probe_reads_nothing() -> None:
    probe = HostProbe(enabled=False)
    assert probe.probe() is None
    assert not probe.speeds([None], [None]).probed


def test_a_real_probe_is_fast_and_positive() -> None:
    probe = HostProbe()
    values = [probe.probe() for _ in range(5)]
    assert all(v is not None and 0 < v < 0.05 for v in values)
    assert probe.best_s == min(values)


def test_disturbed_rounds_are_replaced_and_the_median_is_the_hosts_own_speed() -> None:
    # images 0 (warm-up) .. : the host runs slow during images 2-4 (three of the five timed rounds)
    result, added = _measure(Host(slow_images={2, 3, 4}), budget_s=1.0)
    assert result is not None and result.host is not None
    assert result.host.disturbed == (1, 2, 3)
    assert added == 3  # three rounds replaced the three disturbed ones
    assert len(result.judged) == 5 and len(result.timings) == 8
    clean = Host(slow_images=set())
    baseline, _ = _measure(clean, budget_s=1.0)
    assert result.summary.median == pytest.approx(baseline.summary.median, rel=0.35)
    assert result.summary.median < 0.8 * max(result.all_times_s)
    info = result.extra_info("cpu", "stub")
    assert info["host_cpu"]["disturbed_rounds"] == [1, 2, 3]
    assert len(info["rounds_s"]) == 5 and len(info["all_rounds_s"]) == 8


def test_a_slower_model_is_still_judged_slower() -> None:
    fast, _ = _measure(Host(slow_images=set()), budget_s=1.0)
    slow, added = _measure(Host(slow_images=set(), model_factor=2.0), budget_s=1.0)
    assert added == 0 and slow.host is not None and not slow.host.disturbed
    assert slow.summary.median > 1.5 * fast.summary.median


def test_a_host_slow_throughout_is_judged_on_all_rounds_and_said() -> None:
    result, added = _measure(Host(slow_images=set(range(1, 100))), budget_s=1.0)
    # the best probe seen is the calibration's (fast), so every timed round is disturbed
    assert added == POLICY.max_rounds - POLICY.rounds
    assert len(result.judged) == len(result.timings) == POLICY.max_rounds
    assert result.host.describe().startswith("host CPU under 80 %")


def test_an_over_budget_run_fails_at_once_when_the_host_was_steady() -> None:
    result, added = _measure(Host(slow_images=set()), budget_s=0.001)
    assert added == 0 and len(result.timings) == POLICY.rounds  # no extra rounds for a clear failure
