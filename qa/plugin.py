"""The pytest layer: options, markers, fixtures and the summary. Each hook hands its work to the core."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qa import hookspecs
from qa.checks import Check
from qa.config import BudgetSet, Case, QAConfig, load_config
from qa.errors import QAUsageError
from qa.models.profiles import LoadedModel, resolve_spec
from qa.records import Family
from qa.runner import ScenarioRunner
from qa.session import GateOptions, GateSession, GoldenUpdate, new_plan
from qa.summary import RECORD_PROP, GateResults

SESSION_KEY = pytest.StashKey[GateSession]()
RESULTS_KEY = pytest.StashKey[GateResults]()
FAMILY_PROP = "zqa_family"

# name, ini type, default, help. Precedence: command line > environment (ZQA_<NAME>) > ini > default.
OPTIONS: tuple[tuple[str, str, Any, str], ...] = (
    ("model", "string", "reference",
     "what to load: reference (tiny CPU model), synthetic (full-size random weights, GPU), a pipeline folder, "
     "an org/name Hugging Face id or modelscope:org/name"),
    ("revision", "string", None, "revision (branch, tag or commit) of a hub model"),
    ("device", "string", "auto", "auto, cpu, cuda or cuda:N"),
    ("dtype", "string", "auto", "auto (bf16 on GPU, fp32 on CPU), bf16, fp16 or fp32"),
    ("config", "string", None, "a TOML file (or pyproject.toml) overriding the built-in scenarios and budgets"),
    ("scenarios", "string", None, "comma list of latency scenario ids, or all (opt-in ones included)"),
    ("require-gpu", "bool", False, "fail, not skip, when there is no CUDA device or the profile is reference"),
    ("report", "string", "qa-report", "folder for the review report and the images of failed checks"),
    ("golden-dir", "string", "golden", "folder of committed golden records"),
    ("update-golden", "string", "off", "write golden records: changed (new and changed; they still fail) or all"),
    ("ocr-engine", "string", "rapidocr", "rapidocr, easyocr or both"),
    ("easyocr-dir", "string", None, "folder of EasyOCR model files (loaded only when their hashes match)"),
)  # fmt: skip


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("zimage-qa", "zimage-qa: the Z-Image-Turbo regression gate")
    for name, kind, default, help_text in OPTIONS:
        dest = "qa_" + name.replace("-", "_")
        if kind == "bool":
            group.addoption(f"--qa-{name}", action="store_true", default=None, dest=dest, help=help_text)
        elif name == "update-golden":
            group.addoption(f"--qa-{name}", nargs="?", const="changed", default=None, dest=dest,
                            metavar="changed|all", help=help_text)  # fmt: skip
        else:
            group.addoption(f"--qa-{name}", default=None, dest=dest, metavar="VALUE", help=help_text)
        if kind == "bool":
            parser.addini(dest, help_text, type="bool", default=default)
        else:
            parser.addini(dest, help_text, type="string", default=default)


def option(config: pytest.Config, name: str) -> Any:
    """One option's value by the documented precedence."""
    dest = "qa_" + name.replace("-", "_")
    value = config.getoption(dest)
    if value is None:
        value = os.environ.get("ZQA_" + name.upper().replace("-", "_")) or None
        if value is not None and name == "require-gpu":
            value = value.lower() in ("1", "true", "yes", "on")
    if value is None:
        value = config.getini(dest)
    return value


def options_from_config(config: pytest.Config) -> GateOptions:
    root = config.rootpath

    def path(name: str) -> Path | None:
        value = option(config, name)
        return None if not value else (root / Path(value).expanduser())

    update = str(option(config, "update-golden") or "off").lower()
    if update not in {u.value for u in GoldenUpdate}:
        raise QAUsageError(
            f"--qa-update-golden={update!r} is not known; use changed or all (or leave it off)"
        )
    engine = str(option(config, "ocr-engine")).lower()
    if engine not in ("rapidocr", "easyocr", "both"):
        raise QAUsageError(f"--qa-ocr-engine {engine!r} is not known; use rapidocr, easyocr or both")
    return GateOptions(
        model=str(option(config, "model")), revision=option(config, "revision") or None,
        device=str(option(config, "device")), dtype=str(option(config, "dtype")),
        config_path=path("config"), scenarios=option(config, "scenarios") or None,
        require_gpu=bool(option(config, "require-gpu")), report_dir=path("report") or root / "qa-report",
        golden_dir=path("golden-dir") or root / "golden", update_golden=GoldenUpdate(update),
        ocr_engine=engine, easyocr_dir=path("easyocr-dir"),
    )  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "gpu: the zimage-qa gate (runs on the reference model without a GPU)")
    for family in Family:
        config.addinivalue_line("markers", f"{family.value}: zimage-qa {family.value} checks")
    try:
        options = options_from_config(config)
        qa_config = load_config(options.config_path, config.rootpath / "pyproject.toml")
        spec = resolve_spec(options.model, options.revision)
    except QAUsageError as exc:
        raise pytest.UsageError(f"zimage-qa: {exc}") from None
    loader = config.pluginmanager.hook.pytest_zqa_loader()
    session = GateSession(options, qa_config, spec, **({"loader": loader} if loader else {}))
    config.stash[SESSION_KEY] = session
    config.stash[RESULTS_KEY] = GateResults()
    config.pluginmanager.register(GateReporter(config.stash[RESULTS_KEY], session), "zimage-qa-reporter")


def pytest_report_header(config: pytest.Config) -> str:
    session = config.stash[SESSION_KEY]
    return (
        f"zimage-qa: model {session.spec.label} (device {session.options.device}, dtype "
        f"{session.options.dtype}), config {session.config.source}"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    session = metafunc.config.stash[SESSION_KEY]
    cases: dict[str, tuple[Case, ...]] = {
        "qa_scenario": session.config.select_scenarios(session.options.scenarios) if "qa_scenario" in
        metafunc.fixturenames else (),
        "qa_golden_case": session.config.golden,
        "qa_glyph_case": session.config.glyphs,
    }  # fmt: skip
    for name, values in cases.items():
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, values, ids=[c.id for c in values])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    session = config.stash[SESSION_KEY]
    planned: list[Any] = []
    for item in items:
        family = next((f for f in Family if item.get_closest_marker(f.value)), None)
        if family is not None and item.get_closest_marker("gpu"):
            item.user_properties.append((FAMILY_PROP, family.value))
            params = getattr(item, "callspec", None)
            planned.extend(params.params.values() if params else ())
    session.planned_cases = new_plan(planned)


class GateReporter:
    """Registered once per run: turns gate test reports into records and prints the family lines."""

    def __init__(self, results: GateResults, session: GateSession) -> None:
        self.results = results
        self.session = session
        self.started = time.perf_counter()

    def pytest_sessionstart(self) -> None:
        self.started = time.perf_counter()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        family = dict(report.user_properties).get(FAMILY_PROP)
        if family is None or (report.when != "call" and report.passed):
            return
        self.results.add(report.nodeid, Family(str(family)), report.outcome, report.user_properties,
                         report.longreprtext)  # fmt: skip

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        lines = self.results.summary_lines()
        if lines:
            terminalreporter.section("zimage-qa")
            for line in lines:
                terminalreporter.write_line(line)
            cost = self.session.cost_line(time.perf_counter() - self.started)
            if cost:
                terminalreporter.write_line(cost)


@pytest.fixture(scope="session")
def qa_gate(pytestconfig: pytest.Config) -> GateSession:
    """The run's gate session (options, configuration, the one model load)."""
    return pytestconfig.stash[SESSION_KEY]


@pytest.fixture(scope="session")
def qa_config(qa_gate: GateSession) -> QAConfig:
    return qa_gate.config


@pytest.fixture(scope="session")
def qa_model(qa_gate: GateSession) -> LoadedModel:
    """The warmed session pipeline: loaded once, one untimed generation per size the run measures."""
    try:
        problem = qa_gate.require_gpu_problem()
        if problem:
            pytest.fail(problem, pytrace=False)
        model = qa_gate.model()
        qa_gate.warm()
    except QAUsageError as exc:
        pytest.fail(f"zimage-qa: {exc}", pytrace=False)
    return model


@pytest.fixture(scope="session")
def qa_runner(qa_gate: GateSession, qa_model: LoadedModel) -> Iterator[ScenarioRunner]:
    """Times and watches generations of the session model (hooks installed once)."""
    runner = ScenarioRunner(qa_model, qa_gate.config.guidance)
    yield runner
    runner.close()


@pytest.fixture(scope="session")
def qa_budgets(qa_gate: GateSession, qa_model: LoadedModel) -> BudgetSet | None:
    """The budgets of this profile on this device class, or None when the config has none."""
    return qa_gate.config.budgets_for(qa_gate.spec.profile, qa_gate.device_name())


@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict[str, Any]) -> None:
    """The environment fingerprint goes into every saved run, so runs on other hardware never compare."""
    from qa.measure.fingerprint import fingerprint

    machine_info["zimage_qa"] = fingerprint().to_dict()


@pytest.fixture
def qa_check(request: pytest.FixtureRequest, qa_gate: GateSession) -> Check:
    """Records this test's verdict; `fail`, `not_run` and `unstable` end the test the pytest way."""
    family = next((f for f in Family if request.node.get_closest_marker(f.value)), Family.GUARD)
    return Check(family, request.node.nodeid, _case_id(request), qa_gate)


def _case_id(request: pytest.FixtureRequest) -> str:
    callspec = getattr(request.node, "callspec", None)
    for value in callspec.params.values() if callspec else ():
        if isinstance(value, Case):
            return value.id
    return request.node.name


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    check = getattr(item, "funcargs", {}).get("qa_check")
    if isinstance(check, Check) and check.record is not None and call.when == "call":
        report.user_properties.append((RECORD_PROP, check.record.to_json()))
    return report
