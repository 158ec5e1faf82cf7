"""The pytest layer: options, markers, fixtures and the summary. Each hook hands its work to the core.

A guest in the user's test run: a gate item is a test that hands its verdict to `qa_verdict` (every test of
`zimage_qa/gate/`, however it was collected). Options are read, the configuration loaded and the model
checked only when such an item is collected; timeouts, the hang watchdog, the device lock, strict outcomes
and the summary apply to gate items only. A run without one pays for registering options and markers.
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from zimage_qa import hookspecs
from zimage_qa.errors import QACheckError, QAUsageError
from zimage_qa.faults import HangWatchdog
from zimage_qa.identity import stable_name
from zimage_qa.options import OPTIONS, GateOptions, GpuLock, Shard, resolve
from zimage_qa.records import CheckRecord, Family
from zimage_qa.summary import RECORD_PROP, GateResults, card_text, report_header, session_lines
from zimage_qa.verdict import Status, Verdict

if TYPE_CHECKING:
    from zimage_qa.config import BudgetSet, Case, GlyphCase, QAConfig, Scenario
    from zimage_qa.models.profiles import LoadedModel
    from zimage_qa.runner import ScenarioRunner
    from zimage_qa.session import GateSession
    from zimage_qa.storage import DeviceLock

GATE_FIXTURE = "qa_verdict"  # what makes a test a gate item
FAMILIES = ("guard", "latency", "vram", "golden", "glyph", "upgrade")  # zimage_qa.records.Family values
FAMILY_PROP = "zqa_family"
HANG_GRACE_S = 60.0  # how long after --qa-timeout a test stuck in native code ends the process


class GateState:
    """The gate's part of one pytest run: built empty at configure, started at the first gate item."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.session: GateSession | None = None
        self.problem: str | None = None  # why the gate's options or configuration were refused
        self.results: GateResults | None = None
        self.active = False  # gate items will run in this process
        self.lock: DeviceLock | None = None
        self.lock_wait: tuple[str, float, str] | None = None  # (check that waited, seconds, holder)

    def start(self) -> GateSession | None:
        """The session, built once from the options and the configuration; None (and `problem` set) when
        they are refused: the run then stops with that one line before any test."""
        if self.session is None and self.problem is None:
            try:
                self.session = _new_session(self.config)
            except QAUsageError as exc:
                self.problem = f"zimage-qa: {exc}"
        return self.session

    def require(self) -> GateSession:
        session = self.start()
        if session is None:
            raise pytest.UsageError(self.problem or "zimage-qa: the gate did not start")
        return session


STATE_KEY = pytest.StashKey[GateState]()
GATE_ITEM_KEY = pytest.StashKey[bool]()


def is_gate_item(item: pytest.Item) -> bool:
    return item.stash.get(GATE_ITEM_KEY, False)


def gate_state(config: pytest.Config) -> GateState:
    state = config.stash.get(STATE_KEY, None)
    if state is None:
        state = config.stash[STATE_KEY] = GateState(config)
    return state


def gate_session(config: pytest.Config) -> GateSession:
    return gate_state(config).require()


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("zimage-qa", "zimage-qa: the Z-Image-Turbo regression gate")
    for option in OPTIONS:
        flag = f"--qa-{option.name}"
        if option.kind == "bool":
            group.addoption(flag, action="store_true", default=None, dest=option.dest, help=option.help)
        elif option.const is not None:
            group.addoption(
                flag,
                nargs="?",
                const=option.const,
                default=None,
                dest=option.dest,
                metavar=option.metavar,
                help=option.help,
            )
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


# pytest-benchmark options that save the rounds for a later --qa-baseline or zqa history
SAVED_RUN_OPTIONS = ("benchmark_autosave", "benchmark_save", "benchmark_json")


def _new_session(config: pytest.Config) -> GateSession:
    """Options, configuration and model spec, checked whole; the scenario selection too. The gate's core
    loads here, with the first gate item: a run without one never imports it."""
    from zimage_qa.session import GateSession

    loader = config.pluginmanager.hook.pytest_zqa_loader()
    session = GateSession.from_options(gate_options(config), user_root(config), loader)
    session.keeps_rounds = any(config.getoption(name, None) for name in SAVED_RUN_OPTIONS)
    return session


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "gpu: the zimage-qa gate (runs on the reference model without a GPU)")
    for family in FAMILIES:
        config.addinivalue_line("markers", f"{family}: zimage-qa {family} checks")
    state = gate_state(config)
    config.pluginmanager.register(GateReporter(state), "zimage-qa-reporter")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Cases are parametrised by id (serialisable in pytest-benchmark's JSON); fixtures map id -> case."""
    if GATE_FIXTURE not in metafunc.fixturenames:
        return
    session = gate_state(metafunc.config).start()
    if session is None:  # refused: the run stops after collection with the reason
        return
    cases: dict[str, tuple[Case, ...]] = {
        "qa_scenario": session.config.select_scenarios(session.options.scenarios)
        if "qa_scenario" in metafunc.fixturenames
        else (),
        "qa_golden_case": session.config.golden,
        "qa_glyph_case": session.config.glyphs,
    }
    for name, values in cases.items():
        if name in metafunc.fixturenames:
            ids = [c.id for c in values]
            metafunc.parametrize(name, ids, ids=ids, indirect=True)


@pytest.hookimpl(trylast=True)  # after -m/-k and other plugins deselected what they would
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    gate = [item for item in items if GATE_FIXTURE in getattr(item, "fixturenames", ())]
    if not gate:
        return
    state = gate_state(config)
    session = state.require()
    for item in gate:
        item.stash[GATE_ITEM_KEY] = True
    _plan(config, session, items)
    if not config.option.collectonly:
        _preflight(config, session)
    state.active = True
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and not hasattr(config, "workerinput"):
        reporter.write_line(gate_line(session))


def _preflight(config: pytest.Config, session: GateSession) -> None:
    """The device and the weights, once, before the first check (a custom loader decides both itself)."""
    try:
        session.preflight()
    except QAUsageError as exc:
        raise pytest.UsageError(f"zimage-qa: {exc}") from None


def gate_line(session: GateSession) -> str:
    strict = ", strict" if session.options.strict_outcomes else ""
    card = card_text(session)
    return (
        f"zimage-qa: model {session.spec.label} on {session.expected_device()} (dtype {session.options.dtype}"
        f"{strict}{f', {card}' if card else ''}), config {session.config.source}"
    )


def _plan(config: pytest.Config, session: GateSession, items: list[pytest.Item]) -> None:
    """Deselect what this run does not promise, take this process's shard, plan the warm-ups and set the
    per-test timeout of the gate items."""
    unpromised = [item for item in items if is_gate_item(item) and _not_promised(session, item)]
    if unpromised:  # checks that do not apply to this run are not collected, and the summary says why
        config.hook.pytest_deselected(items=unpromised)
        items[:] = [item for item in items if item not in unpromised]
    if session.options.shard is not None:
        items[:] = _this_shard(config, session, items, session.options.shard)
    planned: list[Any] = []
    by_id = session.config.cases_by_id()
    timeout = session.options.timeout_s
    session.gate_command = _gate_command(config, items)
    for item in items:
        if not is_gate_item(item):
            continue
        family = _family(item)
        if family is not None:
            item.user_properties.append((FAMILY_PROP, family))
        params = getattr(item, "callspec", None)
        used = [by_id[v] for v in (params.params.values() if params else ()) if v in by_id]
        planned.extend(used)
        session.collected_cases.update(c.id for c in used)
        if timeout and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(timeout))  # pytest-timeout's configured method applies
    session.plan(planned)


def _family(item: pytest.Item) -> str | None:
    return next((f for f in FAMILIES if item.get_closest_marker(f)), None)


def _gate_command(config: pytest.Config, items: list[pytest.Item]) -> str:
    """The command that reruns this gate where it was started: `pytest -m gpu` when the gate's modules lie
    in the project, `pytest --pyargs zimage_qa.gate -m gpu` when they came from the installed package."""
    root = config.rootpath
    inside = all(root in item.path.parents for item in items if is_gate_item(item))
    return "pytest -m gpu" if inside and not config.option.pyargs else "pytest --pyargs zimage_qa.gate -m gpu"


def _not_promised(session: GateSession, item: pytest.Item) -> bool:
    """A/B checks without --qa-candidate; picture checks on a profile whose pictures mean nothing (synthetic:
    random weights). These are not promised by such a run, unlike a check that cannot run here."""
    family = _family(item)
    if family == "upgrade" and not session.options.candidate:
        session.note_not_collected("upgrade: needs --qa-candidate MODEL (an A/B against a second model)")
        return True
    reason = session.not_applicable(Family(family) if family else None, item.name)
    return reason is not None


def _this_shard(
    config: pytest.Config, session: GateSession, items: list[pytest.Item], shard: Shard
) -> list[pytest.Item]:
    gate = [item for item in items if is_gate_item(item)]
    keep = session.shard([item.nodeid for item in gate], shard)
    deselected = [item for item in gate if item.nodeid not in keep]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
    return [item for item in items if not is_gate_item(item) or item.nodeid in keep]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """Behind pytest-timeout, a gate test stuck in a native call ends the process (the hang watchdog)."""
    if not is_gate_item(item):
        return (yield)
    timeout = gate_session(item.config).options.timeout_s
    if not timeout:
        return (yield)
    capture = item.config.pluginmanager.get_plugin("capturemanager")
    suspend = (lambda: capture.suspend_global_capture(in_=True)) if capture is not None else None
    with HangWatchdog(timeout + min(HANG_GRACE_S, timeout), item.nodeid, before=suspend):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Under --qa-strict a gate item that did not run fails with its reason, whichever plugin skipped it."""
    report: pytest.TestReport = yield
    if report.skipped and is_gate_item(item) and gate_session(item.config).options.strict_outcomes:
        report.outcome = "failed"
        report.longrepr = f"--qa-strict: not run: {skip_reason(report)}"
    return report


def skip_reason(report: pytest.TestReport) -> str:
    """The reason of a skipped report (pytest's longrepr is `(path, line, 'Skipped: reason')`)."""
    longrepr = report.longrepr
    text = str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr or "")
    return text.removeprefix("Skipped: ").strip() or "skipped"


def pytest_sessionfinish(session: pytest.Session) -> None:
    state = session.config.stash.get(STATE_KEY, None)
    if state is not None and state.lock is not None:
        state.lock.release()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Any:
    if not is_gate_item(item):
        return (yield)
    session = gate_session(item.config)
    reason = session.not_run_reason()
    if reason:
        pytest.skip(reason)
    _lock_device(item, session)
    with _faults_as_failures(session, item.nodeid), session.warnings.capture(item.nodeid):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    if not is_gate_item(item):
        return (yield)
    session = gate_session(item.config)
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
    if not is_gate_item(item):
        return (yield)
    with gate_session(item.config).warnings.capture(item.nodeid):
        return (yield)


def _lock_device(item: pytest.Item, session: GateSession) -> None:
    """From the first gate test to the end of the session, this run alone measures its device. A wait is
    recorded with the test that waited (its record and the summary name it, whatever its outcome)."""
    state = gate_state(item.config)
    if session.options.gpu_lock is GpuLock.OFF or (state.lock is not None and state.lock.held):
        return
    if state.lock is None:
        state.lock = session.device_lock(f"zimage-qa in {user_root(item.config)}")
    reporter = item.config.pluginmanager.get_plugin("terminalreporter")

    def say(line: str) -> None:
        if reporter is not None:
            reporter.write_line(f"zimage-qa: {line}")

    wait_s = session.options.lock_wait_s if session.options.gpu_lock is GpuLock.WAIT else 0.0
    try:
        waited = state.lock.acquire(wait_s, say)
    except QACheckError as exc:
        item.session.shouldstop = f"zimage-qa: {exc}"
        pytest.fail(str(exc), pytrace=False)
    if waited is not None:
        state.lock_wait = (item.nodeid, waited.seconds, waited.holder)
        item.user_properties.append(("zqa_device_lock_wait_s", round(waited.seconds, 1)))
        session.lock_wait_line = (
            f"device lock: {item.nodeid} waited {waited.seconds:.1f} s for {waited.holder} "
            "(its time is not in any measurement)"
        )


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
            "is far slower than budgeted; the stacks above show where it waited",
            pytrace=False,
        ) from None
    except Exception as exc:
        message = session.absorb(exc, where)
        if message is None:
            raise
        raise pytest.fail.Exception(message, pytrace=False) from None


class GateReporter:
    """Registered in every run, idle until a gate test reports: turns gate test reports into records and
    prints the family lines."""

    def __init__(self, state: GateState) -> None:
        self.state = state
        self.started = time.perf_counter()
        self.report_lines: list[str] = []
        self.wall_s: float | None = None

    def pytest_sessionstart(self) -> None:
        self.started = time.perf_counter()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        family = dict(report.user_properties).get(FAMILY_PROP)
        if family is None or (report.when != "call" and report.passed):
            return
        if self.state.results is None:
            self.state.results = GateResults()
        reason = skip_reason(report) if report.skipped else report.longreprtext
        self.state.results.add(
            report.nodeid, Family(str(family)), report.outcome, report.user_properties, reason
        )

    def _records(self) -> list[CheckRecord]:
        return self.state.results.records if self.state.results is not None else []

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """The review report and, in GitHub Actions, the job summary and annotations (controller only)."""
        if not self._records() or hasattr(session.config, "workerinput"):
            return
        gate = self.state.start()
        if gate is None:
            return
        self.wall_s = time.perf_counter() - self.started
        try:
            written = gate.write_budgets()
            self.report_lines += [written] if written else []
        except (OSError, QAUsageError) as exc:
            self.report_lines += [f"budgets: not written ({exc})"]
        try:
            self.report_lines += write_run_report(
                gate, self._records(), self.wall_s, user_root(session.config)
            )
        except (OSError, QAUsageError) as exc:
            self.report_lines += [f"report: not written ({exc})"]

    def pytest_terminal_summary(self, terminalreporter: Any, config: pytest.Config) -> None:
        if self.state.results is None:
            return
        lines = self.state.results.summary_lines()
        gate = self.state.start()
        if not lines or gate is None:
            return
        terminalreporter.section("zimage-qa")
        wall_s = self.wall_s if self.wall_s is not None else time.perf_counter() - self.started
        extra = [*session_lines(gate, wall_s), *_junit_family_note(config)]
        for line in [*lines, *extra, *self.report_lines]:
            terminalreporter.write_line(line)


def _junit_family_note(config: pytest.Config) -> list[str]:
    """The gate's `zqa_*` properties sit on each test case, which the xunit2 schema does not allow."""
    if not config.getoption("xmlpath", None) or config.getini("junit_family") not in ("xunit2", None, ""):
        return []
    return [
        "junit: the zqa_* properties are written per test case, which the xunit2 schema (pytest's default "
        "junit_family) does not allow; set junit_family = xunit1 in your pytest ini for a valid file"
    ]


def write_run_report(session: GateSession, records: list[Any], wall_s: float, root: Path) -> list[str]:
    """Write qa-report/ and publish to GitHub; returns the lines to print (the report path, annotations).
    The report's renderer loads here, at the end of a run with gate items."""
    from zimage_qa.report import write_report
    from zimage_qa.report.github import publish

    header = report_header(session, wall_s)
    page = write_report(
        session.options.report_dir, records, fingerprint=session.machine_info(), header=header
    )
    return [f"report: {page}", *publish(records, header=header, report=str(page), root=root)]


# Fixtures -------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def qa_gate(pytestconfig: pytest.Config) -> GateSession:
    """The run's gate session (options, configuration, the one model load)."""
    return gate_session(pytestconfig)


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
    from zimage_qa.golden.validity import picture_problem  # the golden part loads where pictures are made

    runner = qa_gate.runner(picture_problem)
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
    case = next((c for c in qa_gate.config.glyphs if c.id == str(request.param)), None)
    if case is None:
        raise QAUsageError(f"{request.param} is not a glyph case")
    return case


@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_json(config: pytest.Config, benchmarks: Any, output_json: dict[str, Any]) -> None:
    """Gate benchmarks are saved under one name whatever the rootdir and install path
    (`zimage_qa/gate/test_latency.py::test_latency[1024-simple]`), so that one scenario is one series."""
    for bench in output_json.get("benchmarks", []):
        if isinstance(bench, dict) and isinstance(bench.get("fullname"), str):
            bench["fullname"] = stable_name(bench["fullname"])


@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict[str, Any]) -> None:
    """The environment fingerprint goes into every saved gate run, so runs on other hardware never compare
    (a run without gate items is left as pytest-benchmark writes it)."""
    state = config.stash.get(STATE_KEY, None)
    if state is None or not state.active or state.session is None:
        return
    machine_info["zimage_qa"] = state.session.machine_info()


class Conclusion:
    """Bound to one gate test: the one place where a `Verdict` becomes a pytest outcome and a record.

    PASSED returns; FAILED fails; UNSTABLE and NOT_RUN skip with their reason, or fail under
    --qa-strict (implied by --qa-require-gpu). Values reach the JUnit XML as `zqa_*` properties. A hint
    naming `pytest -m gpu` is written as the command that reruns the gate where it was started.
    """

    def __init__(
        self, item: pytest.Item, family: Family, case: str, strict: bool, command: str = "pytest -m gpu"
    ) -> None:
        self.item, self.family, self.case, self.strict, self.command = item, family, case, strict, command
        self.record: CheckRecord | None = None

    def conclude(self, verdict: Verdict) -> None:
        __tracebackhide__ = True
        message = verdict.message.replace("pytest -m gpu", self.command)
        if verdict.status in (Status.UNSTABLE, Status.NOT_RUN) and self.strict:
            verdict = Verdict(
                Status.FAILED,
                f"--qa-strict: {verdict.status.value}: {message}",
                verdict.values,
                verdict.artefacts,
            )
        elif message != verdict.message:
            verdict = Verdict(verdict.status, message, verdict.values, verdict.artefacts)
        self.record = CheckRecord(
            self.family,
            self.item.nodeid,
            self.case,
            verdict.status,
            verdict.message,
            dict(verdict.values),
            dict(verdict.artefacts),
        )
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
    family = Family(_family(request.node) or "guard")
    callspec = getattr(request.node, "callspec", None)
    ids = [str(v) for v in callspec.params.values()] if callspec else []
    return Conclusion(
        request.node,
        family,
        ids[0] if ids else request.node.name,
        qa_gate.options.strict_outcomes,
        qa_gate.gate_command,
    )
