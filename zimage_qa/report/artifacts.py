"""How a recorded artifact path becomes an image on the page: a relative link when the file lies inside
the report folder, a base64 data URI when it lies elsewhere (a small image), otherwise a note.

A recorded path is never put on the page as a URL: only paths resolved on disk are, so a record
cannot smuggle `javascript:` or a remote address into `src`.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

EMBED_LIMIT_BYTES = 4 * 2**20
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"RIFF", "image/webp"),
)


@dataclass(frozen=True)
class ImageRef:
    """One artifact of a check as the page shows it: `src` is None when it cannot be shown, and `note`
    says why."""

    role: str
    path: str
    src: str | None
    note: str = ""


def image_mime(head: bytes) -> str | None:
    """The MIME type of an image from its first bytes, or None for anything else."""
    for magic, mime in _MAGIC:
        if head.startswith(magic) and (mime != "image/webp" or head[8:12] == b"WEBP"):
            return mime
    return None


def image_ref(
    role: str, recorded: str, report_dir: Path, *, embed_limit: int = EMBED_LIMIT_BYTES
) -> ImageRef:
    """`recorded` (absolute, or relative to the report folder) as an image source for a page written in
    `report_dir`."""
    path = Path(recorded).expanduser()
    if not path.is_absolute():
        path = report_dir / path
    try:
        resolved = path.resolve()
        with resolved.open("rb") as handle:
            head = handle.read(16)
        size = resolved.stat().st_size
    except OSError:
        return ImageRef(role, recorded, None, "file not found")
    mime = image_mime(head)
    if mime is None:
        return ImageRef(role, recorded, None, "not an image")
    root = report_dir.resolve()
    if root in resolved.parents:
        return ImageRef(role, recorded, quote(Path(os.path.relpath(resolved, root)).as_posix()))
    if size > embed_limit:
        return ImageRef(
            role, recorded, None, f"outside the report folder and over {embed_limit // 2**20} MiB"
        )
    data = base64.b64encode(resolved.read_bytes()).decode("ascii")
    return ImageRef(role, recorded, f"data:{mime};base64,{data}")
