"""Starting one gate process per GPU and waiting for them: each with `CUDA_VISIBLE_DEVICES` set to its
card (PCI bus order, as NVML numbers cards), its own report folder and pytest-benchmark JSON, and its
share of the checks. The rest of the environment (NCCL_*, HF_*, ZQA_*) passes through unchanged.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from zimage_qa.fleet.cards import Card
from zimage_qa.fleet.merge import ShardOutcome

GATE_COMMAND = (sys.executable, "-m", "pytest", "--pyargs", "zimage_qa.gate", "-m", "gpu")
# Read by the GitHub publishing of each gate process: the orchestrator publishes the merged run instead.
CHILD_DROPS = ("GITHUB_STEP_SUMMARY", "GITHUB_ACTIONS")
LOG = "pytest.log"
BENCHMARK_JSON = "benchmark.json"


@dataclass(frozen=True)
class Job:
    """One gate process: its card, share ('1/2' or 'all'), command line, environment additions, report
    folder and log."""

    card: Card
    share: str
    argv: tuple[str, ...]
    env: Mapping[str, str]
    report_dir: Path

    @property
    def log(self) -> Path:
        return self.report_dir / LOG

    @property
    def benchmark_json(self) -> Path:
        return self.report_dir / BENCHMARK_JSON

    def describe(self) -> str:
        return f"{self.card.describe()}: share {self.share}"


def build_job(
    card: Card,
    share: str,
    command: Sequence[str],
    extra_args: Sequence[str],
    report_root: Path,
) -> Job:
    """The job of `card`: `command` + its report folder and benchmark JSON + `extra_args`."""
    folder = report_root / f"gpu{card.index}"
    argv = (*command, f"--qa-report={folder}", f"--benchmark-json={folder / BENCHMARK_JSON}", *extra_args)
    env = {"CUDA_VISIBLE_DEVICES": str(card.index), "CUDA_DEVICE_ORDER": "PCI_BUS_ID"}
    return Job(card, share, argv, env, folder)


def child_environment(job: Job, environ: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in environ.items() if k not in CHILD_DROPS}
    env.update(job.env)
    return env


def _start(job: Job, environ: Mapping[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    job.report_dir.mkdir(parents=True, exist_ok=True)
    with job.log.open("wb") as log:
        log.write(("$ " + " ".join(job.argv) + "\n").encode())
        log.flush()
        return subprocess.Popen(
            job.argv,
            cwd=cwd,
            env=child_environment(job, environ),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def run_jobs(
    jobs: Sequence[Job],
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    say: Callable[[str], None] = print,
) -> list[ShardOutcome]:
    """Run every job at once and wait for all; one line per process as it ends. Ctrl-C ends them all."""
    env = dict(os.environ if environ is None else environ)
    where = cwd or Path.cwd()
    running = [(job, _start(job, env, where), time.perf_counter()) for job in jobs]
    walls: dict[int, tuple[int, float]] = {}
    try:
        while len(walls) < len(running):
            for k, (job, process, began) in enumerate(running):
                if k in walls or process.poll() is None:
                    continue
                walls[k] = (process.returncode, time.perf_counter() - began)
                say(
                    f"zqa gate: {job.describe()} ended with status {process.returncode} after "
                    f"{walls[k][1]:.1f} s (log {job.log})"
                )
            time.sleep(0.05)
    except KeyboardInterrupt:
        for _, process, _ in running:
            if process.poll() is None:
                process.terminate()
        for _, process, _ in running:
            process.wait()
        raise
    return [
        ShardOutcome(
            job.card,
            job.share,
            job.report_dir,
            walls[k][0],
            walls[k][1],
            job.log,
            job.benchmark_json if job.benchmark_json.exists() else None,
        )
        for k, (job, _, _) in enumerate(running)
    ]
