"""Faults the gate survives: a sticky CUDA error, and a test stuck inside a native call.

Out-of-memory handling lives in `zimage_qa.measure.oom`; pictures no check can judge in `zimage_qa.picture`
and `zimage_qa.golden.validity`.
"""

from __future__ import annotations

from collections.abc import Callable


class HangWatchdog:
    """The backstop behind pytest-timeout's signal method, which cannot interrupt a native call (a CUDA
    kernel or synchronise that never returns): after `seconds`, say which test hung, dump every
    thread's stack, and end the process so that a CI runner is freed instead of hanging for hours."""

    def __init__(
        self, seconds: float, test_id: str, exit_code: int = 3, before: Callable[[], object] | None = None
    ) -> None:
        import threading

        self.seconds, self.test_id, self.exit_code, self.before = seconds, test_id, exit_code, before
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> HangWatchdog:
        if self.seconds > 0:
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def _fire(self) -> None:
        import faulthandler
        import os
        import sys

        if self.before is not None:  # e.g. stop pytest's output capture, so that the lines reach the terminal
            self.before()
        stream = sys.__stderr__ or sys.stderr
        stream.write(
            f"\nzimage-qa: {self.test_id} is still running after {self.seconds:.0f} s, stuck inside a native "
            "call that the per-test timeout cannot interrupt; stopping the process (files already written are "
            "intact). Stacks of every thread follow.\n"
        )
        stream.flush()
        faulthandler.dump_traceback(file=stream, all_threads=True)
        stream.flush()
        os._exit(self.exit_code)


# Errors after which the CUDA context is unusable: every later call on it fails the same way.
_STICKY = (
    "illegal memory access",
    "device-side assert",
    "unspecified launch failure",
    "misaligned address",
    "illegal instruction",
    "an illegal address",
    "uncorrectable ecc",
    "cuda error: launch failure",
    "cudaerrorlaunchfailure",
    "device not ready",
    "gpu has fallen off the bus",
    "cublas_status_execution_failed",
)


def is_sticky_device_error(exc: BaseException) -> bool:
    """A CUDA error that poisons the context (device-side assert, illegal address, Xid), not an OOM."""
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and "out of memory" not in text and any(s in text for s in _STICKY)


def first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
