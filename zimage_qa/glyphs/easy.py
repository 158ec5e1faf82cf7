"""The EasyOCR engine (`pip install 'zimage-qa[easyocr]'`), for teams that already use EasyOCR.

EasyOCR loads its weights with `torch.load(..., weights_only=False)`, that is, by unpickling them: a
model file from the wrong hands runs code. So this engine loads only files whose SHA-256 is in
`PINNED_SHA256` (or in a table the caller passes as `trusted_sha256`), and it loads the very bytes
it hashed: each file is hashed while it is copied into a private temporary folder, EasyOCR reads
the copies, and the folder is removed once the models are in memory.

Downloads are off unless asked for (`download=True`): the model directory must then already hold
the files (EasyOCR's default is `~/.EasyOCR/model`; `ZQA_EASYOCR_MODEL_DIR` overrides it). Runs on
the CPU (`gpu=False`); EasyOCR uses torch's process-wide CPU thread pool, which this engine leaves
as it is.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zimage_qa.errors import QAUsageError
from zimage_qa.glyphs.lines import EngineInfo, TextLine, to_box

if TYPE_CHECKING:
    from PIL import Image

NAME = "easyocr"
DETECTOR = "craft_mlt_25k.pth"

# SHA-256 of EasyOCR's released model files. Each agrees with the MD5 that easyocr/config.py
# publishes for the file, and with SHA-256 values published independently for the same release
# assets. craft and english_g2 were also hashed here from the files themselves.
PINNED_SHA256: Mapping[str, str] = {
    # EasyOCR release pre-v1.1.6 craft_mlt_25k.zip; published MD5 2f8227d2def4037cdb3b34389dcf9ec1
    "craft_mlt_25k.pth": "4a5efbfb48b4081100544e75e1e2b57f8de3d84f213004b14b85fd4b3748db17",
    # EasyOCR release v1.3 english_g2.zip; published MD5 5864788e1821be9e454ec108d61b887d
    "english_g2.pth": "e2272681d9d67a04e2dff396b6e95077bc19001f8f6d3593c307b9852e1c29e8",
    # EasyOCR release v1.3 zh_sim_g2.zip; published MD5 b601ce7143293387d3ec4f41a66edc07
    "zh_sim_g2.pth": "cb678fdef09d651e7763ca551ad790dc89f0b2e3d2a640484330e338fb574c7a",
}

# Recognition model EasyOCR picks for a language set (its rule: ch_sim -> zh_sim_g2, ['en'] -> english_g2).
RECOGNISERS: Mapping[frozenset[str], str] = {
    frozenset({"ch_sim", "en"}): "zh_sim_g2.pth",
    frozenset({"ch_sim"}): "zh_sim_g2.pth",
    frozenset({"en"}): "english_g2.pth",
}
DEFAULT_LANGUAGES: tuple[str, ...] = ("ch_sim", "en")


def default_model_dir() -> Path:
    return Path(os.environ.get("ZQA_EASYOCR_MODEL_DIR") or "~/.EasyOCR/model").expanduser()


def required_files(languages: Iterable[str]) -> tuple[str, str]:
    langs = frozenset(languages)
    if langs not in RECOGNISERS:
        known = "; ".join("+".join(sorted(k)) for k in RECOGNISERS)
        raise QAUsageError(f"EasyOCR languages {'+'.join(sorted(langs))} are not supported here; use {known}")
    return DETECTOR, RECOGNISERS[langs]


def stage_verified(
    model_dir: Path, names: Iterable[str], dest: Path, trusted: Mapping[str, str]
) -> dict[str, str]:
    """Copy each named file from `model_dir` to `dest`, hashing the bytes on the way; raise
    QAUsageError (and leave no copy) unless its SHA-256 is the one `trusted` gives for its name.
    Returns {name: sha256}."""
    import hashlib

    hashes: dict[str, str] = {}
    for name in names:
        source, target = model_dir / name, dest / name
        if not source.is_file():
            raise QAUsageError(
                f"EasyOCR model file {source} is missing and downloads are off; fix: put {name} "
                "from EasyOCR's releases there, point --easyocr-model-dir at a folder that has it, "
                "or allow the download (download=True / --easyocr-download)"
            )
        want = trusted.get(name)
        if want is None:
            raise QAUsageError(
                f"refusing to load EasyOCR model {source}: no pinned SHA-256 for {name}; "
                "fix: pass its published hash in trusted_sha256"
            )
        digest = hashlib.sha256()
        with source.open("rb") as src, target.open("wb") as out:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
        got = digest.hexdigest()
        if got != want.lower():
            target.unlink()
            raise QAUsageError(
                f"refusing to load EasyOCR model {source}: SHA-256 {got} is not the published {want} "
                f"for {name} (EasyOCR unpickles it, so it could run code); fix: replace it with the "
                "file from EasyOCR's release"
            )
        hashes[name] = got
    return hashes


class EasyOcrEngine:
    """EasyOCR on the CPU with hash-checked model files. Loads its models when built."""

    def __init__(
        self,
        *,
        model_dir: str | Path | None = None,
        languages: Iterable[str] = DEFAULT_LANGUAGES,
        download: bool = False,
        trusted_sha256: Mapping[str, str] | None = None,
        min_score: float = 0.0,
    ) -> None:
        langs = tuple(languages)
        names = required_files(langs)
        easyocr = _import_easyocr()
        directory = Path(model_dir).expanduser() if model_dir is not None else default_model_dir()
        if download:
            _download_missing(directory, names)
        trusted = {**PINNED_SHA256, **(trusted_sha256 or {})}
        self.min_score = min_score
        self._lock = threading.Lock()
        with tempfile.TemporaryDirectory(prefix="zqa-easyocr-") as tmp:
            staged = Path(tmp)
            hashes = stage_verified(directory, names, staged, trusted)
            self._reader = _build_reader(easyocr, langs, staged)
        self._info = EngineInfo(name=NAME, version=_version(), model_hashes=hashes)

    @property
    def info(self) -> EngineInfo:
        return self._info

    def read(self, image: Image.Image) -> tuple[TextLine, ...]:
        import numpy as np

        pixels = np.asarray(image.convert("RGB"))
        with self._lock:
            found = self._reader.readtext(pixels, detail=1, paragraph=False)
        return tuple(
            TextLine(text=str(text), box=to_box(box), score=float(score), engine=NAME)
            for box, text, score in found
            if float(score) >= self.min_score
        )


def _import_easyocr() -> Any:
    try:
        import easyocr
    except Exception as exc:  # ImportError, or torchvision failing to load beside this torch build
        raise QAUsageError(
            f"the easyocr engine is not usable here ({type(exc).__name__}: {exc}); "
            "fix: pip install 'zimage-qa[easyocr]' with a torchvision that matches your torch"
        ) from exc
    return easyocr


def _build_reader(easyocr: Any, langs: tuple[str, ...], staged: Path) -> Any:
    network_dir = staged / "user_network"
    try:
        return easyocr.Reader(
            list(langs),
            gpu=False,
            model_storage_directory=str(staged),
            user_network_directory=str(network_dir),
            download_enabled=False,
            verbose=False,
        )
    finally:
        if str(network_dir) in sys.path:  # EasyOCR appends it to sys.path
            sys.path.remove(str(network_dir))


def _download_missing(directory: Path, names: Iterable[str]) -> None:
    """Fetch missing files from EasyOCR's release URLs (its own table); hashes are checked later."""
    from easyocr.config import detection_models, recognition_models
    from easyocr.utils import download_and_unzip

    urls = {m["filename"]: m["url"] for m in detection_models.values()}
    urls.update({m["filename"]: m["url"] for gen in recognition_models.values() for m in gen.values()})
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        if not (directory / name).is_file():
            download_and_unzip(urls[name], name, str(directory), verbose=False)


def _version() -> str:
    try:
        return f"easyocr {metadata.version('easyocr')}, torch {metadata.version('torch')}"
    except metadata.PackageNotFoundError:
        return "unknown"
