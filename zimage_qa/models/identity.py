"""The identity of the weights that actually loaded, next to the label the user typed.

- a Hugging Face snapshot: the commit of the snapshot folder (`models--org--name/snapshots/<commit>`);
- a ModelScope snapshot: the revision its cache layout records (the `snapshots/<revision>` folder name,
  or the `.mv` file of the legacy layout) plus the folder's content hash, since a branch name such as
  `master` names no fixed weights;
- a local folder: the content hash below;
- the built-in profiles: a hash of the code that builds their weights (`reference:<hash>`).

The content hash is fast on a 33 GB folder because it does not read every tensor byte: SHA-256 over
every small file that loading reads in full (model_index.json, the components' configs, every
`*.safetensors.index.json`, the tokenizer files) and, per safetensors file, its size, its header (tensor
names, dtypes, shapes, offsets) and `SAMPLES` evenly spaced blocks of `SAMPLE_BYTES` of tensor data; a
safetensors file of at most `FULL_HASH_BYTES` is hashed whole. A change confined to the bytes between
two samples of a large shard is not seen; a retrained or re-quantised checkpoint changes (nearly) every
block and is.
"""

from __future__ import annotations

import enum
import hashlib
import importlib.util
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zimage_qa.errors import QAUsageError

FULL_HASH_BYTES = 64 * 2**20
SAMPLES = 16
SAMPLE_BYTES = 64 * 2**10
# What loading a diffusers pipeline reads (pretrained.ALLOW_PATTERNS); cache bookkeeping is left out.
HASHED_SUFFIXES = (".json", ".safetensors", ".txt", ".jinja", ".model", ".tiktoken")
COMMIT = re.compile(r"[0-9a-f]{40}")
# The modules whose source builds each built-in profile's weights.
BUILTIN_SOURCES = {
    "reference": ("zimage_qa.models.reference", "zimage_qa.models.tokenizer"),
    "synthetic": ("zimage_qa.models.synthetic", "zimage_qa.models.tokenizer"),
}
METHOD = (
    f"sha256 of model_index.json, configs, tokenizer files and safetensors indexes in full, and per "
    f"safetensors file its size, header and {SAMPLES} blocks of {SAMPLE_BYTES // 1024} KiB "
    f"(files up to {FULL_HASH_BYTES // 2**20} MiB in full)"
)


class IdentityKind(enum.Enum):
    """Where the identity comes from; the value is also the prefix of `WeightsIdentity.text`."""

    HF_COMMIT = "hf"
    MODELSCOPE_REVISION = "modelscope"
    CONTENT = "sha256"
    REFERENCE = "reference"
    SYNTHETIC = "synthetic"


@dataclass(frozen=True)
class WeightsIdentity:
    """What loaded: `text` (`hf:<commit>`, `modelscope:<revision>/sha256:<16 hex>`, `sha256:<64 hex>`,
    `reference:<16 hex>`) goes into records next to the label; `path` is the folder that loaded."""

    kind: IdentityKind
    value: str
    path: str = ""

    @property
    def text(self) -> str:
        return f"{self.kind.value}:{self.value}"

    @property
    def short(self) -> str:
        """For a timeline or a table: the kind and the first 12 characters of the value."""
        return f"{self.kind.value}:{self.value[:12]}"

    def to_dict(self) -> dict[str, Any]:
        return {"identity": self.text, "identity_kind": self.kind.value, "path": self.path}


def hf_commit(folder: Path) -> str | None:
    """The commit of a Hugging Face cache snapshot folder (`.../snapshots/<40 hex>`), else None."""
    if folder.parent.name == "snapshots" and COMMIT.fullmatch(folder.name):
        return folder.name
    return None


def content_hash(folder: Path, full_hash_bytes: int = FULL_HASH_BYTES) -> str:
    """SHA-256 (hex) of what loading `folder` reads, as the module docstring says; no tensor is parsed."""
    digest = hashlib.sha256()
    found = False
    for path in _hashed_files(folder):
        found = True
        rel = path.relative_to(folder).as_posix()
        try:
            size = path.stat().st_size
            part = _file_digest(path, size, full_hash_bytes)
        except OSError as exc:
            raise QAUsageError(
                f"{path} could not be read to identify the weights ({exc}); fix its permissions"
            ) from None
        digest.update(f"{rel}\0{size}\0{part}\n".encode())
    if not found:
        raise QAUsageError(
            f"{folder} holds no model files to identify; pass the folder save_pretrained wrote"
        )
    return digest.hexdigest()


def _hashed_files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):  # .cache/, .msc, .mdl, .mv: bookkeeping
            continue
        if path.is_file() and (path.name.startswith("tokenizer") or path.suffix in HASHED_SUFFIXES):
            yield path


def _file_digest(path: Path, size: int, full_hash_bytes: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        if path.suffix != ".safetensors" or size <= full_hash_bytes:
            for block in iter(lambda: handle.read(2**20), b""):
                digest.update(block)
            return digest.hexdigest()
        header_len = _safetensors_header_length(handle, path, size)
        digest.update(handle.read(header_len))
        data_start = 8 + header_len
        span = max(size - data_start - SAMPLE_BYTES, 0)
        for i in range(SAMPLES):
            handle.seek(data_start + span * i // (SAMPLES - 1))
            digest.update(handle.read(SAMPLE_BYTES))
    return digest.hexdigest()


def _safetensors_header_length(handle: Any, path: Path, size: int) -> int:
    raw = handle.read(8)
    header_len = struct.unpack("<Q", raw)[0] if len(raw) == 8 else -1
    if not 0 < header_len <= size - 8:
        raise QAUsageError(
            f"{path} is not a safetensors file (header length {header_len}, file size {size}); "
            "re-download or re-save the model"
        )
    return int(header_len)


def builtin_identity(profile: str) -> WeightsIdentity:
    """`reference:<hash>` / `synthetic:<hash>`: the hash of the source that builds the seeded weights."""
    if profile not in BUILTIN_SOURCES:
        raise QAUsageError(f"{profile!r} is not a built-in profile; use one of {sorted(BUILTIN_SOURCES)}")
    digest = hashlib.sha256()
    for module in BUILTIN_SOURCES[profile]:
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            raise QAUsageError(f"{module} is missing from this installation; reinstall zimage-qa")
        digest.update(Path(spec.origin).read_bytes())
    return WeightsIdentity(IdentityKind(profile), digest.hexdigest()[:16])


def folder_identity(folder: Path) -> WeightsIdentity:
    """A loaded folder's identity: a Hugging Face snapshot's commit when it is one, else its content."""
    commit = hf_commit(folder)
    if commit:
        return WeightsIdentity(IdentityKind.HF_COMMIT, commit, str(folder))
    return WeightsIdentity(IdentityKind.CONTENT, content_hash(folder), str(folder))


def modelscope_identity(folder: Path) -> WeightsIdentity:
    """The revision the ModelScope cache records (`unrecorded` if none) and the folder's content hash."""
    value = f"{recorded_revision(folder) or 'unrecorded'}/sha256:{content_hash(folder)[:16]}"
    return WeightsIdentity(IdentityKind.MODELSCOPE_REVISION, value, str(folder))


def recorded_revision(folder: Path) -> str | None:
    """The revision a ModelScope cache folder records: `<repo>/snapshots/<revision>/` (modelscope_hub,
    modelscope >= 1.38), or the `.mv` file (`Revision:<rev>,CreatedAt:<time>`) that modelscope < 1.38
    wrote into its legacy `<owner>/<name>/` folders. None when the folder records nothing."""
    if folder.parent.name == "snapshots":
        return folder.name
    record = folder / ".mv"
    try:
        text = record.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    fields = dict(part.split(":", 1) for part in text.split(",") if ":" in part)
    return (fields.get("Revision") or ("" if fields else text)).strip() or None
