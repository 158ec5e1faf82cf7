"""The glyph checks' disk cache, under `$XDG_CACHE_HOME/zimage-qa` (else `~/.cache/zimage-qa`):
JSON entries named by the SHA-256 of their key, and the SHA-256 of model files.

An entry is only ever a shortcut to a value that can be computed again. It is written atomically
(temporary file, rename); one that is missing, unreadable, corrupt, or made for another key is
ignored, and the caller recomputes and rewrites it. A cache folder that cannot be written costs the
speed-up only, never the check.

A file's SHA-256 is remembered with its size, modification time (ns) and inode, as git's index
does; any change to the file makes it hashed again.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from zimage_qa.storage import write_bytes_atomic

FORMAT = 1  # bump when the layout of an entry changes


def cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or ""
    base = Path(root) if os.path.isabs(root) else Path.home() / ".cache"
    return base / "zimage-qa"


def key_digest(key: Any) -> str:
    """SHA-256 of `key` (JSON-able) in a canonical form."""
    text = json.dumps(key, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_path(kind: str, key: Any) -> Path:
    return cache_dir() / kind / f"{key_digest(key)}.json"


def load(kind: str, key: Any) -> Any | None:
    """The value stored for `key`, or None when there is none that can be trusted."""
    path = entry_path(kind, key)
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("key") != _jsonable(key):
        return None
    return entry.get("value")


def store(kind: str, key: Any, value: Any) -> None:
    """Remember `value` for `key`; does nothing when the cache folder cannot be written."""
    entry = {"format": FORMAT, "key": key, "value": value}
    data = json.dumps(entry, ensure_ascii=False, sort_keys=True).encode("utf-8")
    try:
        write_bytes_atomic(entry_path(kind, key), data)
    except OSError:
        return


def file_digest(path: Path) -> str:
    """SHA-256 of the file at `path`, read again only when its size, mtime or inode changed."""
    stat = path.stat()
    key = {
        "path": str(path.resolve()),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "inode": stat.st_ino,
    }
    known = load("digests", key)
    if isinstance(known, str) and len(known) == 64 and all(c in "0123456789abcdef" for c in known):
        return known
    digest = sha256_file(path)
    store("digests", key, digest)
    return digest


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _jsonable(key: Any) -> Any:
    """`key` as it reads back from JSON (tuples become lists)."""
    return json.loads(json.dumps(key, ensure_ascii=False))
