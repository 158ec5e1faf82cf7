"""The built-in budgets are what benchmarks/budgets/make_budgets.py writes from the recorded runs, by the
one rule `--qa-update-budgets` applies, and every recorded run is within them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from zimage_qa.budgets import ScenarioMeasurement, latency_limits
from zimage_qa.config import load_config

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "budgets" / "make_budgets.py"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_budgets", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_budgets"] = module
    spec.loader.exec_module(module)
    return module


def test_the_shipped_budgets_are_what_the_script_writes(script: ModuleType) -> None:
    assert script.main(["--check"]) == 0, "run python benchmarks/budgets/make_budgets.py and commit the file"


def test_every_recorded_run_is_within_its_budget_by_the_stated_rule(script: ModuleType) -> None:
    config = load_config()
    for device in script.collect(script.RUNS.glob("*.json")):
        budget = next(b for b in config.budgets if b.profile == device.profile and b.device == device.pattern)
        for scenario, data in device.scenarios.items():
            limit = budget.for_scenario(scenario)
            assert limit is not None and limit.latency is not None
            factor = script.CPU_FACTOR if device.on_cpu else 1.0
            median, worst = latency_limits(ScenarioMeasurement(max(data.medians), max(data.worsts)))
            assert limit.latency.median_s == pytest.approx(median * factor, abs=5e-4)
            assert limit.latency.worst_s == pytest.approx(worst * factor, abs=5e-4)
            assert max(data.medians) <= limit.latency.median_s and max(data.worsts) <= limit.latency.worst_s


def test_the_rule_fixes_what_the_hand_written_budgets_got_wrong() -> None:
    """H200 1024x768 took the launch-bound margin though its median is 1.0 s; the H100 512x512 budget sat
    under the H100's own record (0.574 s)."""
    config = load_config()
    h200 = next(b for b in config.budgets if b.device == "NVIDIA H200*").for_scenario("1024x768-simple")
    h100 = next(b for b in config.budgets if b.device == "NVIDIA H100*").for_scenario("512-simple")
    assert h200 is not None and h200.latency is not None and h100 is not None and h100.latency is not None
    assert h200.latency.median_s == pytest.approx(1.046 * 1.10, abs=2e-3)  # the slowest H200's median x1.10
    assert h100.latency.median_s == pytest.approx(0.574 * 1.25, abs=2e-3)  # above its record, launch-bound
