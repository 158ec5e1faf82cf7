"""Warnings raised during the gate's model work, recorded as information instead of raised as errors.

A host repository may run pytest with `filterwarnings = error`; a torch or diffusers upgrade that adds
one DeprecationWarning (torch.compile's import of `torch.jit.script_method`, for one) must not turn the
gate red. So the model work (loading, applying the variant, warm-up, generation) runs inside
`WarningsLog.capture(phase)`, which records every warning whatever the filters say, and the report
lists the warnings that are new since a baseline: an upgrade signal.

    log = WarningsLog()
    with log.capture("load"):
        model = load_model(spec)
    log.records                          # deduplicated WarningRecord, with counts and phases
    new_warnings(log.records, baseline)  # what a baseline run did not see

Thread safety: `warnings.catch_warnings` swaps process-global state (the filter list and
`showwarning`) on entry and restores it on exit. Enter `capture` from the thread that does the model
work only, and not from two threads at once. While the block is open, warnings from other threads are
recorded too and are not raised there. (Python 3.14's context-aware warnings make this per context.)
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import PurePath

_NUMBER = re.compile(r"0x[0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_SPACE = re.compile(r"\s+")


def normalise_message(message: str) -> str:
    """The message with numbers and addresses as `#` and whitespace collapsed: the same warning from
    another shape, step or object compares equal."""
    return _SPACE.sub(" ", _NUMBER.sub("#", message)).strip()


def module_of(filename: str) -> str:
    """A dotted module name from a file path inside site-packages (or the file name elsewhere)."""
    parts = PurePath(filename).parts
    for anchor in ("site-packages", "dist-packages"):
        if anchor in parts:
            tail = list(parts[len(parts) - parts[::-1].index(anchor) :])
            if tail:
                tail[-1] = PurePath(tail[-1]).stem
                return ".".join(p for p in tail if p != "__init__")
    return PurePath(filename).stem if filename else "?"


def _category_name(category: type[Warning]) -> str:
    module = category.__module__
    return category.__qualname__ if module == "builtins" else f"{module}.{category.__qualname__}"


@dataclass(frozen=True)
class WarningRecord:
    """One distinct warning: its category, message, where it was raised, how often, and in which phases."""

    category: str  # "DeprecationWarning", "torch.jit.TracerWarning", ...
    message: str  # as first seen
    module: str  # dotted module of the first place it was raised
    filename: str
    lineno: int
    count: int = 1
    phases: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        """What identifies a warning across runs: the category and the normalised message."""
        return self.category, normalise_message(self.message)

    def describe(self) -> str:
        times = f" (x{self.count})" if self.count > 1 else ""
        return f"{self.category}: {self.message} [{self.module}:{self.lineno}]{times}"

    def to_dict(self) -> dict[str, object]:
        return {
            "category": self.category,
            "message": self.message,
            "module": self.module,
            "filename": self.filename,
            "lineno": self.lineno,
            "count": self.count,
            "phases": list(self.phases),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> WarningRecord:
        phases = data.get("phases") or ()
        return cls(
            category=str(data["category"]),
            message=str(data["message"]),
            module=str(data.get("module", "?")),
            filename=str(data.get("filename", "")),
            lineno=int(str(data.get("lineno", 0))),
            count=int(str(data.get("count", 1))),
            phases=tuple(str(p) for p in phases) if isinstance(phases, list | tuple) else (),
        )


@dataclass
class WarningsLog:
    """Records warnings raised inside `capture` blocks, deduplicated by `WarningRecord.key`."""

    _records: dict[tuple[str, str], WarningRecord] = field(default_factory=dict)

    @contextmanager
    def capture(self, phase: str = "") -> Iterator[None]:
        """Record, never raise, every warning in the block (whatever `filterwarnings` says)."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                yield
            finally:
                self.add(caught, phase)

    def add(self, caught: Iterable[warnings.WarningMessage], phase: str = "") -> None:
        for item in caught:
            record = WarningRecord(
                _category_name(item.category),
                str(item.message),
                module_of(item.filename),
                item.filename,
                item.lineno,
                1,
                (phase,) if phase else (),
            )
            seen = self._records.get(record.key)
            if seen is None:
                self._records[record.key] = record
                continue
            phases = seen.phases + tuple(p for p in record.phases if p not in seen.phases)
            self._records[record.key] = replace(seen, count=seen.count + 1, phases=phases)

    @property
    def records(self) -> tuple[WarningRecord, ...]:
        """Distinct warnings in the order first seen."""
        return tuple(self._records.values())

    def __len__(self) -> int:
        return len(self._records)


def new_warnings(
    current: Iterable[WarningRecord], baseline: Iterable[WarningRecord | tuple[str, str]]
) -> tuple[WarningRecord, ...]:
    """The warnings of `current` whose (category, normalised message) the baseline did not have."""
    known = {b.key if isinstance(b, WarningRecord) else (b[0], normalise_message(b[1])) for b in baseline}
    return tuple(record for record in current if record.key not in known)
