"""Crash-safe file writes: temporary file, fsync, rename, under a file lock.

Everything zimage-qa stores (golden records, histories, reports) goes through here, so that a run
killed at any moment leaves the previous file intact.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from zimage_qa.errors import QACheckError, QAUsageError

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str, *, max_len: int = 120) -> str:
    """A file name derived from an id or case name: no separators, no '..', no NUL, never empty."""
    name = _UNSAFE.sub("_", text.replace("\x00", "")).strip("._") or "unnamed"
    return name[:max_len]


def confined(root: Path, *parts: str) -> Path:
    """`root/part/...` with every part made safe, guaranteed to stay under `root`."""
    path = root.joinpath(*(safe_name(p) for p in parts))
    resolved_root = root.resolve()
    if resolved_root not in path.resolve().parents and path.resolve() != resolved_root:
        raise QAUsageError(
            f"{path} leads out of {root} (a symbolic link inside it?); remove the link or choose another folder"
        )
    return path


def check_writable_dir(path: Path, what: str) -> None:
    """QAUsageError unless `path` is a folder that can be written, or can be created, here; creates nothing."""
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        where = "is a file" if probe == path else f"cannot be created: {probe} is a file"
        raise QAUsageError(f"{what} {path} {where}; give a folder path")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise QAUsageError(
            f"{what} {path} cannot be written (no write permission on {probe}); give a writable folder"
        )


def folder_lock_path(folder: Path) -> Path:
    """The lock of one folder, kept outside it (`<temp>/zimage-qa-locks/<hash>.lock`, `ZQA_LOCK_DIR`
    moves it), so that `git add golden/` in a user's repository never picks up a lock file."""
    import hashlib

    key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:24]
    base = Path(os.environ.get("ZQA_LOCK_DIR") or tempfile.gettempdir()) / "zimage-qa-locks"
    base.mkdir(parents=True, exist_ok=True)
    return base / f"{key}.lock"


@contextlib.contextmanager
def locked(path: Path, timeout: float = 60.0) -> Iterator[None]:
    """Hold the lock of `path`'s folder while the block runs; waits at most `timeout` seconds."""
    from filelock import FileLock  # imported when a write needs it: `zqa SUB --help` never does (30-80 ms)

    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder_lock_path(path.parent)), timeout=timeout):
        yield


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)  # mkstemp makes 0600; keep the old file's mode, or the usual 0644
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def device_lock_path(key: str, lock_dir: Path | None = None) -> Path:
    """The well-known lock of one device: `<temp>/zimage-qa-<key>.lock` (`ZQA_LOCK_DIR` moves it)."""
    folder = lock_dir or Path(os.environ.get("ZQA_LOCK_DIR") or tempfile.gettempdir())
    return folder / f"zimage-qa-{safe_name(key)}.lock"


@dataclass(frozen=True)
class LockWait:
    """A wait for a device that another run held: how long, and who held it."""

    seconds: float
    holder: str


class DeviceLock:
    """Held while a GPU check runs, so that two runs (or xdist workers) never measure one device at once.

    The lock is an OS file lock (released by the kernel when the holder dies, even by SIGKILL); a
    sidecar `.owner` file says who holds it, for the message of the run that has to wait or stop.
    """

    def __init__(self, key: str, owner: str, lock_dir: Path | None = None) -> None:
        self.path = device_lock_path(key, lock_dir)
        from filelock import FileLock

        self.key, self.owner = key, owner
        self._lock = FileLock(str(self.path), thread_local=False)

    @property
    def held(self) -> bool:
        return self._lock.is_locked

    def holder(self) -> str:
        try:
            return self.path.with_suffix(".owner").read_text(encoding="utf-8").strip() or "unknown"
        except OSError:
            return "unknown"

    def acquire(self, wait_s: float, on_wait: Callable[[str], None] | None = None) -> LockWait | None:
        """Take the lock, waiting at most `wait_s` seconds for a run that holds it (0: not at all). Returns
        the wait when there was one; a QACheckError names the holder and the fix when the lock stays held."""
        from filelock import Timeout

        if self._lock.is_locked:
            self._lock.acquire()  # re-entrant: one count more
            return None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        waited: LockWait | None = None
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            holder = self.holder()
            busy = f"device {self.key} is in use by another zimage-qa run ({holder}; lock {self.path})"
            if wait_s <= 0:
                raise QACheckError(f"{busy}; wait for it to finish, or pass --qa-gpu-lock wait") from None
            if on_wait is not None:
                on_wait(f"{busy}; waiting for it (at most {wait_s:g} s)")
            started = time.monotonic()
            try:
                self._lock.acquire(timeout=wait_s)
            except Timeout:
                raise QACheckError(
                    f"{busy}; still held after {wait_s:g} s of waiting: stop that run, or wait longer with "
                    "--qa-gpu-lock wait:SECONDS"
                ) from None
            waited = LockWait(time.monotonic() - started, holder)
            if on_wait is not None:
                on_wait(f"device {self.key} is free after {waited.seconds:.1f} s of waiting")
        with contextlib.suppress(OSError):
            self.path.with_suffix(".owner").write_text(f"pid {os.getpid()}, {self.owner}", encoding="utf-8")
        return waited

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release()
