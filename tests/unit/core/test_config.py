"""Configuration: the built-in config is valid, overrides merge, and every bad value is one clear line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from zimage_qa.config import load_config
from zimage_qa.errors import QAUsageError
from zimage_qa.measure.memory import MemoryKind


def write(tmp_path: Path, text: str, name: str = "qa.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_builtin_config_has_the_review_prompts_and_resolutions() -> None:
    config = load_config()
    prompts = {s.prompt for s in config.scenarios}
    assert "A red apple on a table" in prompts
    assert "An ancient Chinese garden with koi pond, willow trees and stone bridge under moonlight" in prompts
    sizes = {s.size for s in config.select_scenarios(None)}
    assert sizes == {"512x512", "768x768", "1024x1024", "1024x768"}
    assert "2048-simple" in {s.id for s in config.select_scenarios("all")}
    assert config.guidance == 0.0
    assert all(s.nfe == s.steps == 8 for s in config.scenarios)


def test_budgets_match_exact_name_before_pattern(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[[budgets]]
profile = "synthetic"
device = "NVIDIA H100*"
scenarios."*" = { median = "2s" }
[[budgets]]
profile = "synthetic"
device = "NVIDIA H100 80GB HBM3"
scenarios."*" = { median = "1s", reserved = "24GiB" }
""",
    )
    config = load_config(path)
    chosen = config.budgets_for("synthetic", "NVIDIA H100 80GB HBM3")
    assert chosen is not None and chosen.device == "NVIDIA H100 80GB HBM3"
    budget = chosen.for_scenario("1024-simple")
    assert budget is not None and budget.latency is not None and budget.latency.median_s == 1.0
    assert budget.ceilings[0].kind is MemoryKind.RESERVED and budget.ceilings[0].limit_bytes == 24 * 2**30
    assert config.budgets_for("synthetic", "NVIDIA H100 PCIe") is not None
    assert config.budgets_for("synthetic", "NVIDIA A100") is None
    assert config.budgets_for("reference", "NVIDIA H100 80GB HBM3") is None


def test_pyproject_section_overrides_one_top_level_key(tmp_path: Path) -> None:
    pyproject = write(
        tmp_path,
        """
[project]
name = "x"
[tool.zimage-qa.run]
rounds = 7
""",
        "pyproject.toml",
    )
    config = load_config(pyproject=pyproject)
    assert config.run_default.rounds == 7
    assert config.run_for("reference").rounds == 7  # the whole [run] table was replaced
    assert len(config.scenarios) == 7  # untouched sections keep the built-in values
    assert "pyproject.toml" in config.source


def test_select_scenarios_by_id_and_unknown_id() -> None:
    config = load_config()
    assert [s.id for s in config.select_scenarios("512-simple,768-simple")] == ["512-simple", "768-simple"]
    with pytest.raises(QAUsageError, match=r"unknown scenario.*nope.*known: 1024-simple"):
        config.select_scenarios("512-simple,nope")


BAD_CONFIGS = [
    ("unknown section", "[bogus]\nx = 1\n", r"bogus: is not a known section; known sections: prompts"),
    ("unknown key", "[run]\nround = 3\n", r"run\.round: is not a known key; known keys here:.*rounds"),
    (
        "size not /16",
        '[[scenarios]]\nid = "a"\nprompt = "p"\nsize = "1000x1000"\n',
        r"scenarios\[0\]\.size: '1000x1000': 1000 is not a multiple of 16.*use 992 instead",
    ),
    (
        "size malformed",
        '[[scenarios]]\nid = "a"\nprompt = "p"\nsize = "big"\n',
        r"scenarios\[0\]\.size: 'big' is not WIDTHxHEIGHT; write it like '1024x1024'",
    ),
    (
        "negative budget",
        '[[budgets]]\nprofile = "reference"\ndevice = "cpu"\nscenarios."*" = { median = "-2s" }\n',
        r"budgets\[0\]\.scenarios\.\*\.median: bad duration '-2s'",
    ),
    (
        "zero ceiling",
        '[[budgets]]\nprofile = "reference"\ndevice = "cpu"\nscenarios."*" = { nvml = "0GiB" }\n',
        r"scenarios\.\*\.nvml: '0GiB' is not positive",
    ),
    (
        "bad size unit",
        '[[budgets]]\nprofile = "reference"\ndevice = "cpu"\nscenarios."*" = { reserved = "24 gigs" }\n',
        r"bad size '24 gigs'.*'24GiB'",
    ),
    ("wrong type", '[run]\nrounds = "five"\n', r"run\.rounds: 'five' is a str, not an int; write an int"),
    ("bool for number", "[run]\nrounds = true\n", r"run\.rounds: True is a bool, not an int"),
    ("too few rounds", "[run]\nrounds = 1\n", r"run\.rounds: 1 is below 2; use a whole number >= 2"),
    (
        "negative threshold",
        "[thresholds]\nmax_rel_iqr = -0.1\n",
        r"thresholds\.max_rel_iqr: -0\.1 is negative",
    ),
    (
        "missing id",
        '[[golden]]\nprompt = "p"\n',
        r"golden\[0\]\.id: is missing; add id = \.\.\. to golden\[0\]",
    ),
    (
        "duplicate id",
        '[[golden]]\nid = "a"\nprompt = "p"\n[[golden]]\nid = "a"\nprompt = "q"\n',
        r"golden: id 'a' is used twice",
    ),
    (
        "empty expect",
        '[[glyphs]]\nid = "a"\nprompt = "p"\nexpect = " "\n',
        r"glyphs\[0\]\.expect: .* is empty",
    ),
    (
        "budget for unknown scenario",
        '[[budgets]]\nprofile = "reference"\ndevice = "cpu"\nscenarios.nope = { median = "1s" }\n',
        r"scenario 'nope' does not exist",
    ),
    (
        "drift scenario unknown",
        '[run]\ndrift_scenario = "nope"\n',
        r"run\.drift_scenario: 'nope' is not a scenario id",
    ),
    ("scenarios not a list", "[scenarios]\nid = 1\n", r"scenarios: .* is a dict, not a list; write a list"),
    ("malformed TOML", "[run\nrounds = 3\n", r"is not valid TOML .*; fix the syntax there"),
]


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in BAD_CONFIGS], ids=[c[0] for c in BAD_CONFIGS])
def test_bad_config_is_one_line_naming_file_key_and_fix(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(QAUsageError, match=message) as caught:
        load_config(path)
    assert "\n" not in str(caught.value)
    assert str(path) in str(caught.value)


def test_missing_config_file_names_the_option(tmp_path: Path) -> None:
    with pytest.raises(
        QAUsageError, match=r"config file .*nope\.toml does not exist; check the --qa-config path"
    ):
        load_config(tmp_path / "nope.toml")


def test_a_standalone_files_errors_name_its_own_keys_and_a_pyprojects_its_section(tmp_path: Path) -> None:
    with pytest.raises(QAUsageError) as standalone:
        load_config(write(tmp_path, "[nonsense]\nx = 1\n"))
    assert str(standalone.value).startswith(f"{tmp_path / 'qa.toml'}: nonsense: is not a known section")
    assert "tool.zimage-qa" not in str(standalone.value)
    pyproject = write(tmp_path, "[tool.zimage-qa.nonsense]\nx = 1\n", "pyproject.toml")
    loaders: list[Callable[[], object]] = [
        lambda: load_config(pyproject=pyproject),
        lambda: load_config(pyproject),
    ]
    for loaded in loaders:
        with pytest.raises(
            QAUsageError, match=r"pyproject\.toml \[tool\.zimage-qa\]: \[tool\.zimage-qa\]\.nonsense"
        ):
            loaded()
