"""The pytest layer: options, markers, fixtures and the summary. Each hook hands its work to the core."""

from __future__ import annotations

import contextlib
import os
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from zimage_qa import hookspecs
from zimage_qa.config import BudgetSet, Case, GlyphCase, QAConfig, Scenario, load_config
from zimage_qa.errors import QACheckError, QAUsageError
from zimage_qa.faults import HangWatchdog
from zimage_qa.models.profiles import LoadedModel, ProfileKind, resolve_spec
from zimage_qa.options import OPTIONS, GateOptions, GpuLock, Shard, resolve
from zimage_qa.records import CheckRecord, Family
from zimage_qa.runner import ScenarioRunner
from zimage_qa.session import GateSession, new_plan
from zimage_qa.storage import DeviceLock, check_writable_dir
from zimage_qa.summary import RECORD_PROP, GateResults
from zimage_qa.verdict import Status, Verdict

SESSION_KEY = pytest.StashKey[GateSession]()
RESULTS_KEY = pytest.StashKey[GateResults]()
LOCK_KEY = pytest.StashKey[DeviceLock]()
FAMILY_PROP = "zqa_family"
HANG_GRACE_S = 60.0  # how long after --qa-timeout a test stuck in native code ends the process


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("zimage-qa", "zimage-qa: the Z-Image-Turbo regression gate")
    for option in OPTIONS:
        flag = f"--qa-{option.name}"
        if option.kind == "bool":
            group.addoption(flag, action="store_true", default=None, dest=option.dest, help=option.help)
        elif option.const is not None:
            group.addoption(flag, nargs="?", const=option.const, default=None, dest=option.dest,
                            metavar=option.metavar, help=option.help)  # fmt: skip
        else:
            group.addoption(flag, default=None, dest=option.dest, metavar=option.metavar, help=option.help)
        if option.kind == "bool":
            parser.addini(option.dest, option.help, type="bool", default=option.default)
        else:
            parser.addini(option.dest, option.help, type="string", default=option.default)


def user_root(config: pytest.Config) -> Path:
    """The user's project folder: where the ini file is, else where pytest was started (so that
    `pytest --pyargs zimage_qa.gate` from any folder reads and writes there, never inside site-packages)."""
    return config.inipath.parent if config.inipath is not None else config.invocation_params.dir


def gate_options(config: pytest.Config) -> GateOptions:
    """Every option by the documented precedence, validated (zimage_qa.options owns the rules)."""
    cli = {o.name: config.getoption(o.dest) for o in OPTIONS}
    ini = {o.name: config.getini(o.dest) for o in OPTIONS}
    return resolve(cli, os.environ, ini, user_root(config))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "gpu: the zimage-qa gate (runs on the reference model without a GPU)")
    for family in Family:
        config.addinivalue_line("markers", f"{family.value}: zimage-qa {family.value} checks")
    try:
        options = gate_options(config)
        check_writable_dir(options.report_dir, "--qa-report")
        qa_config = load_config(options.config_path, user_root(config) / "pyproject.toml")
        spec = resolve_spec(options.model, options.revision)
        loader = config.pluginmanager.hook.pytest_zqa_loader()
        if loader is None and spec.kind is ProfileKind.LOCAL:
            from zimage_qa.models.pretrained import check_pipeline_dir

            check_pipeline_dir(Path(spec.source))  # a folder without a pipeline fails now, not per test
    except QAUsageError as exc:
        raise pytest.UsageError(f"zimage-qa: {exc}") from None
    session = GateSession(options, qa_config, spec, **({"loader": loader} if loader else {}))
    config.stash[SESSION_KEY] = session
    config.stash[RESULTS_KEY] = GateResults()
    config.pluginmanager.register(GateReporter(config.stash[RESULTS_KEY], session), "zimage-qa-reporter")


def pytest_report_header(config: pytest.Config) -> str:
    session = config.stash[SESSION_KEY]
    strict = ", strict" if session.options.strict_outcomes else ""
    card = session.card_text()
    return (
        f"zimage-qa: model {session.spec.label} on {session.expected_device()} (dtype {session.options.dtype}"
        f"{strict}{f', {card}' if card else ''}), config {session.config.source}"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Cases are parametrised by id (serialisable in pytest-benchmark's JSON); fixtures map id -> case."""
    session = metafunc.config.stash[SESSION_KEY]
    cases: dict[str, tuple[Case, ...]] = {
        "qa_scenario": session.config.select_scenarios(session.options.scenarios)
        if "qa_scenario" in metafunc.fixturenames else (),
        "qa_golden_case": session.config.golden,
        "qa_glyph_case": session.config.glyphs,
    }  # fmt: skip
    for name, values in cases.items():
        if name in metafunc.fixturenames:
            ids = [c.id for c in values]
            metafunc.parametrize(name, ids, ids=ids, indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    session = config.stash[SESSION_KEY]
    unpromised = [item for item in items if _not_promised(session, item)]
    if unpromised:  # checks that do not apply to this run are not collected, and the summary says why
        config.hook.pytest_deselected(items=unpromised)
        items[:] = [item for item in items if item not in unpromised]
    if session.options.shard is not None:
        items[:] = _this_shard(config, session, items, session.options.shard)
    planned: list[Any] = []
    by_id = session.config.cases_by_id()
    for item in items:
        family = next((f for f in Family if item.get_closest_marker(f.value)), None)
        if family is not None and item.get_closest_marker("gpu"):
            item.user_properties.append((FAMILY_PROP, family.value))
            params = getattr(item, "callspec", None)
            used = [by_id[v] for v in (params.params.values() if params else ()) if v in by_id]
            planned.extend(used)
            session.collected_cases.update(c.id for c in used)
        timeout = session.options.timeout_s
        if timeout and item.get_closest_marker("gpu") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(timeout))  # pytest-timeout's configured method applies
    session.planned_cases = new_plan(planned)


def _not_promised(session: GateSession, item: pytest.Item) -> bool:
    """A/B checks without --qa-candidate; picture checks on a profile whose pictures mean nothing (synthetic:
    random weights). These are not promised by such a run, unlike a check that cannot run here."""
    if not item.get_closest_marker("gpu"):
        return False
    if item.get_closest_marker(Family.UPGRADE.value) and not session.options.candidate:
        return True
    reason = session.not_applicable(
        next((f for f in Family if item.get_closest_marker(f.value)), None), item.name
    )
    return reason is not None


def _this_shard(
    config: pytest.Config, session: GateSession, items: list[pytest.Item], shard: Shard
) -> list[pytest.Item]:
    from zimage_qa.fleet.shard import select_shard

    spec = session.spec
    keep = select_shard([item.nodeid for item in items], shard, session.config,
                        profile=spec.profile, looks=spec.judged_for_looks, renders_text=spec.renders_text)  # fmt: skip
    deselected = [item for item in items if item.nodeid not in keep]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
    return [item for item in items if item.nodeid in keep]


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
    with _faults_as_failures(session, item.nodeid), session.warnings.capture(item.nodeid):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    if not item.get_closest_marker("gpu"):
        return (yield)
    session = item.config.stash[SESSION_KEY]
    try:
        with _faults_as_failures(session, item.nodeid), session.warnings.capture(item.nodeid):
            return (yield)
    except pytest.fail.Exception:
        if "benchmark" in getattr(item, "fixturenames", ()):
            # A fault came before the timing. pytest restores the filters after this item's protocol.
            warnings.filterwarnings("ignore", "Benchmark fixture was not used")
        raise


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    if not item.get_closest_marker("gpu"):
        return (yield)
    session = item.config.stash[SESSION_KEY]
    with session.warnings.capture(item.nodeid):
        return (yield)


def _lock_device(item: pytest.Item, session: GateSession) -> None:
    """From the first GPU test to the end of the session, this run alone measures its device."""
    lock = item.config.stash.get(LOCK_KEY, None)
    if session.options.gpu_lock is GpuLock.OFF or (lock is not None and lock.held):
        return
    if lock is None:
        lock = item.config.stash[LOCK_KEY] = DeviceLock(
            session.device_key(), f"zimage-qa in {user_root(item.config)}"
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
        self.report_lines = []
        try:
            written = self.session.write_budgets()
            self.report_lines += [written] if written else []
        except (OSError, QAUsageError) as exc:
            self.report_lines += [f"budgets: not written ({exc})"]
        try:
            self.report_lines += write_run_report(self.session, self.results.records, self.wall_s,
                                                 user_root(session.config))  # fmt: skip
        except (OSError, QAUsageError) as exc:
            self.report_lines += [f"report: not written ({exc})"]

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        lines = self.results.summary_lines()
        if lines:
            terminalreporter.section("zimage-qa")
            for line in lines:
                terminalreporter.write_line(line)
            for line in self.session.not_applicable_lines():
                terminalreporter.write_line(line)
            for line in self.session.warning_lines():
                terminalreporter.write_line(line)
            cost = self.session.cost_line(getattr(self, "wall_s", time.perf_counter() - self.started))
            if cost:
                terminalreporter.write_line(cost)
            for line in getattr(self, "report_lines", []):
                terminalreporter.write_line(line)


def write_run_report(session: GateSession, records: list[Any], wall_s: float, root: Path) -> list[str]:
    """Write qa-report/ and publish to GitHub; returns the lines to print (the report path, annotations)."""
    from zimage_qa.measure.fingerprint import fingerprint
    from zimage_qa.report import write_report
    from zimage_qa.report.github import publish

    header = session.report_header(wall_s)
    page = write_report(
        session.options.report_dir, records, fingerprint=fingerprint().to_dict(), header=header
    )
    return [f"report: {page}", *publish(records, header=header, report=str(page), root=root)]


# Fixtures -------------------------------------------------------------------------------------------


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
    """Times and watches generations of the session model (hooks installed once); its memory peaks add to
    the session's, which began before `qa_model` warmed the planned sizes."""
    runner = ScenarioRunner(qa_model, qa_gate.config.guidance, qa_gate.memory_peak)
    yield runner
    runner.close()


@pytest.fixture(scope="session")
def qa_budgets(qa_gate: GateSession, qa_model: LoadedModel) -> BudgetSet | None:
    """This runner's budgets (`--qa-update-budgets` wrote them) when it has them, else the config's
    budgets of this profile on this device class, else None."""
    return qa_gate.budgets()


@pytest.fixture(scope="session")
def guard_case(qa_gate: GateSession) -> Case:
    """The cheapest case the session has already warmed: guards add no new size to the run."""
    cases = qa_gate.planned_cases or list(qa_gate.config.scenarios)
    return min(cases, key=lambda c: c.width * c.height)


@pytest.fixture
def qa_scenario(request: pytest.FixtureRequest, qa_gate: GateSession) -> Scenario:
    return qa_gate.config.scenario(str(request.param))


@pytest.fixture
def qa_golden_case(request: pytest.FixtureRequest, qa_gate: GateSession) -> Case:
    return qa_gate.config.cases_by_id()[str(request.param)]


@pytest.fixture
def qa_glyph_case(request: pytest.FixtureRequest, qa_gate: GateSession) -> GlyphCase:
    case = qa_gate.config.cases_by_id()[str(request.param)]
    if not isinstance(case, GlyphCase):
        raise QAUsageError(f"{request.param} is not a glyph case")
    return case


@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict[str, Any]) -> None:
    """The environment fingerprint goes into every saved run, so runs on other hardware never compare."""
    from zimage_qa.measure.fingerprint import fingerprint

    machine_info["zimage_qa"] = fingerprint().to_dict()


class Conclusion:
    """Bound to one gate test: the one place where a `Verdict` becomes a pytest outcome and a record.

    PASSED returns; FAILED fails; UNSTABLE and NOT_RUN skip with their reason, or fail under
    --qa-strict (implied by --qa-require-gpu). Values reach the JUnit XML as `zqa_*` properties.
    """

    def __init__(self, item: pytest.Item, family: Family, case: str, strict: bool) -> None:
        self.item, self.family, self.case, self.strict = item, family, case, strict
        self.record: CheckRecord | None = None

    def conclude(self, verdict: Verdict) -> None:
        __tracebackhide__ = True
        if verdict.status in (Status.UNSTABLE, Status.NOT_RUN) and self.strict:
            verdict = Verdict(Status.FAILED, f"--qa-strict: {verdict.status.value}: {verdict.message}",
                              verdict.values, verdict.artefacts)  # fmt: skip
        self.record = CheckRecord(self.family, self.item.nodeid, self.case, verdict.status, verdict.message,
                                  dict(verdict.values), dict(verdict.artefacts))  # fmt: skip
        self.item.user_properties.append((RECORD_PROP, self.record.to_json()))
        self.item.user_properties.extend(junit_properties(verdict))
        if verdict.status is Status.PASSED:
            return
        self._end(verdict)

    def _end(self, verdict: Verdict) -> NoReturn:
        __tracebackhide__ = True
        if verdict.status is Status.FAILED:
            pytest.fail(verdict.message, pytrace=False)
        prefix = "unstable: " if verdict.status is Status.UNSTABLE else ""
        pytest.skip(prefix + verdict.message)


def junit_properties(verdict: Verdict) -> list[tuple[str, object]]:
    """The verdict, its reason and every scalar value (one level of nesting flattened) as properties."""
    props: list[tuple[str, object]] = [("zqa_verdict", verdict.status.value), ("zqa_reason", verdict.message)]
    for key, value in verdict.values.items():
        if isinstance(value, dict):
            props.extend((f"zqa_{key}.{k}", v) for k, v in value.items() if _scalar(v))
        elif _scalar(value):
            props.append((f"zqa_{key}", value))
    return props


def _scalar(value: object) -> bool:
    return isinstance(value, (str, int, float, bool)) and not (isinstance(value, str) and len(value) > 500)


@pytest.fixture
def qa_verdict(request: pytest.FixtureRequest, qa_gate: GateSession) -> Conclusion:
    """`qa_verdict.conclude(verdict)` ends the test the pytest way and records the verdict."""
    family = next((f for f in Family if request.node.get_closest_marker(f.value)), Family.GUARD)
    callspec = getattr(request.node, "callspec", None)
    ids = [str(v) for v in callspec.params.values()] if callspec else []
    return Conclusion(
        request.node, family, ids[0] if ids else request.node.name, qa_gate.options.strict_outcomes
    )
