"""`zqa gate --gpus all|0,1 [--each] [-- pytest options]`: the gate on several GPUs of one host at once.

Sharded (the default): the gate's checks are split across the cards (`--qa-shard K/N` in each process,
even estimated walls), and the report holds every card's records. `--each`: every card runs the whole
gate, and a card whose scenario medians are off its siblings' by more than `--deviation` is named.
Exit status: 0 when every process passed, 1 when a check failed (or a process did not finish), 2 for a
usage error (one line on stderr).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from zimage_qa.errors import QAUsageError
from zimage_qa.fleet import cards as fleet_cards
from zimage_qa.fleet.cards import Card
from zimage_qa.fleet.deviation import DEFAULT_THRESHOLD, deviation_records
from zimage_qa.fleet.launch import GATE_COMMAND, LOG, Job, build_job, run_jobs
from zimage_qa.fleet.merge import RunMode, ShardOutcome, merge, stamp_benchmarks
from zimage_qa.measure.units import parse_percent
from zimage_qa.report import write_report
from zimage_qa.report.github import publish
from zimage_qa.verdict import Status

# Options the orchestrator sets per process: given after `--` they would collide with its own.
OWNED_OPTIONS = (
    "--qa-report",
    "--qa-shard",
    "--benchmark-json",
    "--benchmark-save",
    "--benchmark-autosave",
    "--benchmark-storage",
    "-n",
    "--numprocesses",
    "--dist",
)
PYTEST_USAGE_ERROR = 4


@dataclass(frozen=True)
class GateRequest:
    """`zqa gate`'s arguments, parsed and checked once."""

    gpus: str
    each: bool
    report_dir: Path
    deviation: float
    command: tuple[str, ...]
    pytest_args: tuple[str, ...]
    benchmark_save: str | None
    benchmark_storage: Path

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> GateRequest:
        extra = list(args.pytest_args or [])
        if extra[:1] == ["--"]:
            extra = extra[1:]
        owned = [name for a in extra if (name := a.split("=", 1)[0]) in OWNED_OPTIONS]
        if owned:
            raise QAUsageError(
                f"zqa gate sets {', '.join(owned)} for each GPU itself; use zqa gate's --report, "
                "--benchmark-save and --benchmark-storage instead"
            )
        try:
            deviation = parse_percent(args.deviation)
        except (QAUsageError, ValueError):
            raise QAUsageError(f"--deviation {args.deviation!r} is not a percentage; use e.g. 5%") from None
        command = tuple(shlex.split(args.command)) if args.command else GATE_COMMAND
        if not command:
            raise QAUsageError("--command is empty; give the gate command, e.g. 'python -m pytest -m gpu'")
        return cls(
            str(args.gpus),
            bool(args.each),
            Path(args.report),
            deviation,
            command,
            tuple(extra),
            args.benchmark_save or None,
            Path(args.benchmark_storage),
        )


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gpus", required=True, metavar="all|0,1", help="the GPUs to gate, by NVML index")
    parser.add_argument(
        "--each",
        action="store_true",
        help="run the whole gate on every card (no sharding) and name a card that deviates",
    )
    parser.add_argument(
        "--report",
        default="qa-report",
        metavar="DIR",
        help="the merged report folder; each card's own report goes to DIR/gpuN (default qa-report)",
    )
    parser.add_argument(
        "--deviation",
        default=f"{DEFAULT_THRESHOLD:.0%}",
        metavar="PCT",
        help="with --each: a card this far off its siblings' median on a scenario fails (default 5%%)",
    )
    parser.add_argument(
        "--benchmark-save",
        default=None,
        metavar="NAME",
        help="save each card's run as NAME in STORAGE/gpuN (a history per card)",
    )
    parser.add_argument(
        "--benchmark-storage",
        default=".benchmarks",
        metavar="STORAGE",
        help="where --benchmark-save keeps the runs (default .benchmarks)",
    )
    parser.add_argument(
        "--command",
        default=None,
        metavar="CMD",
        help="the gate command of each process (default: python -m pytest --pyargs zimage_qa.gate -m gpu)",
    )
    parser.add_argument(
        "pytest_args",
        nargs=argparse.REMAINDER,
        metavar="-- PYTEST_ARGS",
        help="more pytest options for every process, e.g. -- --qa-model synthetic",
    )


def run(args: argparse.Namespace) -> int:
    return run_gate(GateRequest.from_args(args))


def run_gate(
    request: GateRequest,
    *,
    discover: Callable[[], Sequence[Card]] = fleet_cards.discover,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    say: Callable[[str], None] = print,
) -> int:
    """Plan, launch, wait, merge, report; the exit status."""
    env = dict(os.environ if environ is None else environ)
    request = dataclasses.replace(request, report_dir=(cwd or Path.cwd()) / request.report_dir)
    chosen = fleet_cards.select(discover(), request.gpus)
    jobs = [_job(request, card, k, len(chosen)) for k, card in enumerate(chosen)]
    for job in jobs:
        say(f"zqa gate: {job.describe()}")
    started = time.perf_counter()
    outcomes = run_jobs(jobs, environ=env, cwd=cwd, say=say)
    wall = time.perf_counter() - started
    _refuse_usage_errors(outcomes)
    return _report(request, jobs, outcomes, wall, env, cwd, say)


def _job(request: GateRequest, card: Card, k: int, n: int) -> Job:
    share = "all" if request.each or n == 1 else f"{k + 1}/{n}"
    extra = [f"--qa-shard={share}"] if share != "all" else []
    if request.benchmark_save:
        extra += [
            f"--benchmark-save={request.benchmark_save}",
            f"--benchmark-storage={request.benchmark_storage / f'gpu{card.index}'}",
        ]
    return build_job(card, share, request.command, [*extra, *request.pytest_args], request.report_dir)


def _refuse_usage_errors(outcomes: Sequence[ShardOutcome]) -> None:
    """A process pytest refused to start (status 4) makes the whole run a usage error, in one line."""
    for o in outcomes:
        if o.returncode == PYTEST_USAGE_ERROR:
            raise QAUsageError(
                f"the gate process for {o.card.describe()} refused its options: "
                f"{_last_error(o.log)} (log {o.log})"
            )


def _last_error(log: Path) -> str:
    try:
        lines = [line.strip() for line in log.read_text(encoding="utf-8", errors="replace").splitlines()]
    except OSError:
        return "no log"
    errors = [line for line in lines if line.startswith(("ERROR", "error", "E "))]
    return (errors or [line for line in lines if line] or ["empty log"])[-1][:300]


def _report(
    request: GateRequest,
    jobs: Sequence[Job],
    outcomes: Sequence[ShardOutcome],
    wall: float,
    environ: Mapping[str, str],
    cwd: Path | None,
    say: Callable[[str], None],
) -> int:
    mode = RunMode.SOLO if len(outcomes) == 1 else RunMode.CONCURRENT
    benchmark_files = []
    for o in outcomes:
        if o.benchmark_json is not None:
            stamp_benchmarks(o.benchmark_json, o.card, o.share, mode)
            benchmark_files.append(str(o.benchmark_json))
    merged = merge(outcomes, mode, _header(request, jobs, wall, benchmark_files))
    records, header = list(merged.records), dict(merged.header)
    if request.each:
        agreement = deviation_records(records, request.deviation)
        off = [r.message for r in agreement if r.outcome is Status.FAILED]
        header["deviating cards"] = "; ".join(off) or f"none beyond {request.deviation:.0%}"
        records += agreement
    page = write_report(request.report_dir, records, fingerprint=merged.fingerprint, header=header)
    for line in publish(records, header=header, report=str(page), root=cwd, environ=environ):
        say(line)
    counts = {o: sum(1 for r in records if r.outcome is o) for o in Status}
    headline = ", ".join(f"{n} {o.value}" for o, n in counts.items() if n) or "no gate checks ran"
    say(f"zqa gate: {len(outcomes)} GPU(s), wall {wall:.1f} s: {headline}; report {page}")
    failed = counts[Status.FAILED] > 0 or any(o.returncode != 0 for o in outcomes) or not records
    return 1 if failed else 0


def _header(
    request: GateRequest, jobs: Sequence[Job], wall: float, benchmark_files: list[str]
) -> dict[str, str]:
    n = len(jobs)
    run = f"--each: the whole gate on {n} card(s)" if request.each else f"sharded over {n} card(s)"
    return {
        "fleet": f"{run}, wall {wall:.1f} s",
        "mode": "concurrent (one process per card)" if n > 1 else "solo (one process)",
        "benchmark JSON": ", ".join(benchmark_files) or "none written",
        "logs": f"{request.report_dir}/gpuN/{LOG}",
    }
