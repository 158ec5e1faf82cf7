"""Timing launch-bound checks while the sibling GPUs are idle: which checks must run alone (`SoloPolicy`)
and the cross-process barrier that makes them (`SoloBarrier`).

On one host, a 512x512 generation took 0.678 s while the other GPU's process was busy against 0.426 s
alone (+59 %); 1024x1024 moved under 1 %. So the timed checks of small sizes run in a "solo" window: a
readers-writer lock over files in one folder shared by the gate processes. Every GPU test holds it
shared (concurrent work), a solo test holds it exclusively, and a turnstile in front keeps a waiting
solo test from being starved by siblings that take the shared lock again test after test. The locks
are `flock`s: the kernel releases them when a process dies, so a crashed sibling never blocks the rest.
"""

from __future__ import annotations

import contextlib
import enum
import fcntl
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from zimage_qa.errors import QAUsageError
from zimage_qa.fleet.shard import Size, Unit, is_timed, unit_of

LAUNCH_BOUND_BELOW = (1024, 1024)  # sizes with fewer pixels than this are launch-bound on an H100/H200
TURNSTILE = "turnstile.lock"
ROOM = "room.lock"


class RunMode(enum.Enum):
    """How a record was measured; budgets and histories keep the two apart."""

    SOLO = "solo"  # no sibling gate process was working meanwhile
    CONCURRENT = "concurrent"  # siblings may have been working on other GPUs


@dataclass(frozen=True)
class SoloPolicy:
    """Which timed checks run solo: none, all of them, or those generating fewer pixels than `below`."""

    kind: str  # "none" | "all" | "below"
    below: Size = (0, 0)

    @classmethod
    def parse(cls, text: str) -> SoloPolicy:
        """'none', 'all', 'launch-bound' (below 1024x1024) or 'below:WxH'."""
        value = text.strip().lower()
        if value in ("none", "all"):
            return cls(value)
        if value == "launch-bound":
            return cls("below", LAUNCH_BOUND_BELOW)
        match = re.fullmatch(r"below:(\d+)x(\d+)", value)
        if match is None or int(match[1]) * int(match[2]) == 0:
            raise QAUsageError(
                f"--solo {text!r} is not known; use launch-bound, all, none or below:WxH (e.g. below:768x768)"
            )
        return cls("below", (int(match[1]), int(match[2])))

    def __str__(self) -> str:
        """The text `parse` reads back."""
        if self.kind != "below":
            return self.kind
        return (
            "launch-bound" if self.below == LAUNCH_BOUND_BELOW else f"below:{self.below[0]}x{self.below[1]}"
        )

    def is_solo(self, test_name: str, units: Mapping[str, Unit]) -> bool:
        """Whether gate test `test_name` must run with the siblings idle (`units`: by id, from
        `plan_units`). Only timed checks (latency rounds, drift) are: their timings are the verdict."""
        if self.kind == "none" or not is_timed(test_name):
            return False
        if self.kind == "all":
            return True
        unit = units.get(unit_of(test_name))
        return (
            unit is not None
            and unit.size is not None
            and unit.size[0] * unit.size[1] < self.below[0] * self.below[1]
        )


class SoloBarrier:
    """One process's side of the barrier in `folder` (shared by all gate processes of one run)."""

    def __init__(self, folder: Path) -> None:
        if not folder.is_dir():
            raise QAUsageError(f"solo barrier folder {folder} does not exist; the orchestrator creates it")
        self.folder = folder
        self._turnstile = os.open(folder / TURNSTILE, os.O_RDWR | os.O_CREAT, 0o644)
        self._room = os.open(folder / ROOM, os.O_RDWR | os.O_CREAT, 0o644)

    def close(self) -> None:
        for fd in (self._turnstile, self._room):
            with contextlib.suppress(OSError):
                os.close(fd)

    @contextlib.contextmanager
    def hold(self, solo: bool) -> Iterator[RunMode]:
        """Held around one GPU test (setup, call and teardown): exclusively when `solo`, else shared."""
        fcntl.flock(self._turnstile, fcntl.LOCK_EX)
        try:
            if solo:
                fcntl.flock(self._room, fcntl.LOCK_EX)  # waits for the siblings' current tests to end
        finally:
            fcntl.flock(self._turnstile, fcntl.LOCK_UN)
        if not solo:
            fcntl.flock(self._room, fcntl.LOCK_SH)
        try:
            yield RunMode.SOLO if solo else RunMode.CONCURRENT
        finally:
            fcntl.flock(self._room, fcntl.LOCK_UN)
