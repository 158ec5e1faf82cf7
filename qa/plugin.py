"""The pytest layer: options, markers, fixtures and the summary. Each hook hands its work to the core."""

from __future__ import annotations

import contextlib
import os
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qa import hookspecs
from qa.checks import Check
from qa.config import BudgetSet, Case, QAConfig, load_config
from qa.errors import QACheckError, QAUsageError
from qa.models.profiles import LoadedModel, ProfileKind, resolve_spec
from qa.records import Family
from qa.runner import ScenarioRunner
from qa.session import GateOptions, GateSession, GoldenUpdate, GpuLock, HangWatchdog, new_plan
from qa.storage import DeviceLock, check_writable_dir
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
    ("timeout", "string", "900", "seconds a GPU test may run before it fails (pytest-timeout); 0 turns it off"),
    ("gpu-lock", "string", "wait", "when another zimage-qa run holds this device: wait, fail, or off (no lock; "
     "ZQA_LOCK_DIR moves the lock files from the temp folder)"),
)  # fmt: skip
HANG_GRACE_S = 60.0  # how long after --qa-timeout a test stuck in native code ends the process


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
    lock = str(option(config, "gpu-lock")).lower()
    if lock not in {m.value for m in GpuLock}:
        raise QAUsageError(f"--qa-gpu-lock {lock!r} is not known; use wait, fail or off")
    report = path("report") or root / "qa-report"
    check_writable_dir(report, "--qa-report")
    easyocr = path("easyocr-dir")
    if easyocr is not None and not easyocr.is_dir():
        raise QAUsageError(
            f"--qa-easyocr-dir {easyocr} is not a folder; give the folder holding the EasyOCR .pth files"
        )
    return GateOptions(
        model=str(option(config, "model")), revision=option(config, "revision") or None,
        device=str(option(config, "device")), dtype=str(option(config, "dtype")),
        config_path=path("config"), scenarios=option(config, "scenarios") or None,
        require_gpu=bool(option(config, "require-gpu")), report_dir=report,
        golden_dir=path("golden-dir") or root / "golden", update_golden=GoldenUpdate(update),
        ocr_engine=engine, easyocr_dir=easyocr, timeout_s=_timeout(option(config, "timeout")),
        gpu_lock=GpuLock(lock),
    )  # fmt: skip


def _timeout(value: Any) -> float:
    text = str(value).strip().lower().removesuffix("s").strip()
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise QAUsageError(
            f"--qa-timeout {value!r} is not a number of seconds >= 0; use e.g. 900, or 0 for none"
        )
    return seconds


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "gpu: the zimage-qa gate (runs on the reference model without a GPU)")
    for family in Family:
        config.addinivalue_line("markers", f"{family.value}: zimage-qa {family.value} checks")
    try:
        options = options_from_config(config)
        qa_config = load_config(options.config_path, config.rootpath / "pyproject.toml")
        spec = resolve_spec(options.model, options.revision)
        loader = config.pluginmanager.hook.pytest_zqa_loader()
        if loader is None and spec.kind is ProfileKind.LOCAL:
            from qa.models.pretrained import check_pipeline_dir

            check_pipeline_dir(Path(spec.source))  # a folder without a pipeline fails now, not per test
    except QAUsageError as exc:
        raise pytest.UsageError(f"zimage-qa: {exc}") from None
    session = GateSession(options, qa_config, spec, **({"loader": loader} if loader else {}))
    config.stash[SESSION_KEY] = session
    config.stash[RESULTS_KEY] = GateResults()
    config.pluginmanager.register(GateReporter(config.stash[RESULTS_KEY], session), "zimage-qa-reporter")


def pytest_report_header(config: pytest.Config) -> str:
    session = config.stash[SESSION_KEY]
    return (
        f"zimage-qa: model {session.spec.label} on {session.expected_device()} (dtype {session.options.dtype}), "
        f"config {session.config.source}"
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
        timeout = session.options.timeout_s
        if timeout and item.get_closest_marker("gpu") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(timeout))  # pytest-timeout's configured method applies
    session.planned_cases = new_plan(planned)


LOCK_KEY = pytest.StashKey[DeviceLock]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """Behind pytest-timeout, a GPU test stuck in a native call ends the process (the hang watchdog)."""
    timeout = item.config.stash[SESSION_KEY].options.timeout_s
    if not timeout or not item.get_closest_marker("gpu"):
        return (yield)
    capture = item.config.pluginmanager.get_plugin("capturemanager")
    suspend = (lambda: capture.suspend_global_capture(in_=True)) if capture is not None else None
    with HangWatchdog(timeout + min(HANG_GRACE_S, timeout), item.nodeid, before=suspend):
        return (yield)


def pytest_sessionfinish(session: pytest.Session) -> None:
    lock = session.config.stash.get(LOCK_KEY, None)
    if lock is not None:
        lock.release()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Any:
    if not item.get_closest_marker("gpu"):
        return (yield)
    session = item.config.stash[SESSION_KEY]
    reason = session.not_run_reason()
    if reason:
        pytest.skip(reason)
    _lock_device(item, session)
    with _faults_as_failures(session, item.nodeid):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    if not item.get_closest_marker("gpu"):
        return (yield)
    try:
        with _faults_as_failures(item.config.stash[SESSION_KEY], item.nodeid):
            return (yield)
    except pytest.fail.Exception:
        if "benchmark" in getattr(item, "fixturenames", ()):
            # A fault came before the timing. pytest restores the filters after this item's protocol.
            warnings.filterwarnings("ignore", "Benchmark fixture was not used")
        raise


def _lock_device(item: pytest.Item, session: GateSession) -> None:
    """From the first GPU test to the end of the session, this run alone measures its device."""
    lock = item.config.stash.get(LOCK_KEY, None)
    if session.options.gpu_lock is GpuLock.OFF or (lock is not None and lock.held):
        return
    if lock is None:
        lock = item.config.stash[LOCK_KEY] = DeviceLock(
            session.device_key(), f"zimage-qa in {item.config.rootpath}"
        )
    reporter = item.config.pluginmanager.get_plugin("terminalreporter")

    def say(line: str) -> None:
        if reporter is not None:
            reporter.write_line(f"zimage-qa: {line}")

    try:
        lock.acquire(session.options.gpu_lock is GpuLock.WAIT, say)
    except QACheckError as exc:
        item.session.shouldstop = f"zimage-qa: {exc}"
        pytest.fail(str(exc), pytrace=False)


@contextlib.contextmanager
def _faults_as_failures(session: GateSession, where: str) -> Iterator[None]:
    """Out of memory, a sticky CUDA error, an invalid picture or a timeout: one clear failure line."""
    __tracebackhide__ = True
    try:
        yield
    except pytest.fail.Exception as exc:
        if not str(exc).startswith("Timeout (>"):
            raise
        raise pytest.fail.Exception(
            f"{where}: no result after {session.options.timeout_s:g} s (--qa-timeout): the generation hangs or "
            "is far slower than budgeted; the stacks above show where it waited", pytrace=False,
        ) from None  # fmt: skip
    except Exception as exc:
        message = session.absorb(exc, where)
        if message is None:
            raise
        raise pytest.fail.Exception(message, pytrace=False) from None


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

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """The review report and, in GitHub Actions, the job summary and annotations (controller only)."""
        if not self.results.records or hasattr(session.config, "workerinput"):
            return
        self.wall_s = time.perf_counter() - self.started
        try:
            self.report_lines = write_run_report(self.session, self.results.records, self.wall_s,
                                                 session.config.rootpath)  # fmt: skip
        except (OSError, QAUsageError) as exc:
            self.report_lines = [f"report: not written ({exc})"]

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        lines = self.results.summary_lines()
        if lines:
            terminalreporter.section("zimage-qa")
            for line in lines:
                terminalreporter.write_line(line)
            cost = self.session.cost_line(getattr(self, "wall_s", time.perf_counter() - self.started))
            if cost:
                terminalreporter.write_line(cost)
            for line in getattr(self, "report_lines", []):
                terminalreporter.write_line(line)


def write_run_report(session: GateSession, records: list[Any], wall_s: float, root: Path) -> list[str]:
    """Write qa-report/ and publish to GitHub; returns the lines to print (the report path, annotations)."""
    from qa.measure.fingerprint import fingerprint
    from qa.report import write_report
    from qa.report.github import publish

    device = session.device_name() if session.loaded else session.options.device
    header = {"model": session.spec.label, "profile": session.spec.profile, "device": device,
              "config": str(session.config.source),
              "session": (session.cost_line(wall_s) or "").removeprefix("session: ")}  # fmt: skip
    page = write_report(
        session.options.report_dir, records, fingerprint=fingerprint().to_dict(), header=header
    )
    return [f"report: {page}", *publish(records, header=header, report=str(page), root=root)]


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
        qa_gate.warm(skip_oom=True)
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
