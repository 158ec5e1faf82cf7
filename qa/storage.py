"""Crash-safe file writes: temporary file, fsync, rename, under a file lock.

Everything zimage-qa stores (golden records, histories, reports) goes through here, so that a run
killed at any moment leaves the previous file intact.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock

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
        raise ValueError(f"{path} escapes {root}")
    return path


LOCK_NAME = ".zqa.lock"


@contextlib.contextmanager
def locked(path: Path, timeout: float = 60.0) -> Iterator[None]:
    """Hold the lock of `path`'s folder (one hidden `.zqa.lock` per folder, git-ignored) while the block
    runs; waits at most `timeout` seconds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path.parent / LOCK_NAME), timeout=timeout):
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
