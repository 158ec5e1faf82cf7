"""Real Z-Image weights: a local directory, a Hugging Face id or a ModelScope id.

Safetensors only, no remote code, the revision honoured, and no network when the local cache already
holds the snapshot. Everything is resolved to a local directory first, then loaded from there.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from zimage_qa.errors import QAUsageError
from zimage_qa.models.identity import recorded_revision

PIPELINE_CLASS = "ZImagePipeline"
# What a diffusers pipeline needs, and nothing that could carry pickled weights or code.
ALLOW_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.jinja", "tokenizer*", "*.model", "*.tiktoken"]
# The same patterns on the command lines that prefetch: `hf download` repeats --include, modelscope lists.
HF_INCLUDE = " ".join(f"--include '{pattern}'" for pattern in ALLOW_PATTERNS)
MS_INCLUDE = "--include " + " ".join(f"'{pattern}'" for pattern in ALLOW_PATTERNS)


class NotInCache(QAUsageError):
    """The weights are not in the local cache (as opposed to a cache that holds the wrong revision)."""


def check_pipeline_dir(path: Path) -> Path:
    """`path` if it holds a Z-Image diffusers pipeline, else a usage error naming what is missing."""
    index = path / "model_index.json"
    if not index.is_file():
        raise QAUsageError(
            f"{path} holds no diffusers pipeline (no model_index.json); "
            "pass the folder that `ZImagePipeline.save_pretrained` wrote, or a model id"
        )
    try:
        class_name = json.loads(index.read_text(encoding="utf-8")).get("_class_name")
    except (OSError, ValueError) as exc:
        raise QAUsageError(f"{index} is not valid JSON ({exc}); re-download the model") from None
    if class_name != PIPELINE_CLASS:
        raise QAUsageError(
            f"{index} describes a {class_name!r}, not a {PIPELINE_CLASS}; "
            "zimage-qa loads Z-Image pipelines only and never runs custom pipeline code"
        )
    return path


def hf_cached(repo_id: str, revision: str | None) -> Path:
    """The Hugging Face cache's snapshot of `repo_id` at `revision`, without the network; `NotInCache`
    naming the cache folder and the command that fetches it otherwise."""
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(
            snapshot_download(
                repo_id, revision=revision, local_files_only=True, allow_patterns=ALLOW_PATTERNS
            )
        )
    except LocalEntryNotFoundError:
        pass
    raise NotInCache(
        f"model {repo_id}@{revision or 'main'} is not in the Hugging Face cache at {constants.HF_HUB_CACHE}; "
        f"fetch it first: {hf_fetch_command(repo_id, revision)}"
    )


def hf_fetch_command(repo_id: str, revision: str | None) -> str:
    revision_arg = f" --revision {revision}" if revision else ""
    return f"`hf download {repo_id}{revision_arg} {HF_INCLUDE}`"


def hf_snapshot(repo_id: str, revision: str | None) -> Path:
    """The cached snapshot of `repo_id` (offline if cached), downloading safetensors only if allowed."""
    from huggingface_hub import snapshot_download

    try:
        return hf_cached(repo_id, revision)
    except NotInCache as missing:
        if offline():
            raise QAUsageError(f"{missing} (the run is offline: HF_HUB_OFFLINE is set)") from None
        where = str(missing).split(";")[0]
    try:
        return Path(snapshot_download(repo_id, revision=revision, allow_patterns=ALLOW_PATTERNS))
    except Exception as exc:  # network, auth, unknown repo: all one line for the user
        raise QAUsageError(
            f"{where} and could not be downloaded ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else 'no detail'}); check the id or pass a local folder"
        ) from None


def modelscope_cache_root() -> Path:
    """Where modelscope keeps models: `MODELSCOPE_CACHE`, else `~/.cache/modelscope` (the SDK's own rule)."""
    return Path(os.environ.get("MODELSCOPE_CACHE") or Path.home() / ".cache" / "modelscope").expanduser()


def modelscope_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("modelscope") is not None


MODELSCOPE_MISSING = "the modelscope package is not installed: pip install 'zimage-qa[modelscope]'"


def modelscope_cached(model_id: str, revision: str | None, root: Path | None = None) -> Path:
    """The cached ModelScope snapshot of `model_id` at `revision`, found by modelscope itself
    (`snapshot_download(..., local_files_only=True)`, every cache layout it knows), with the revision
    checked against what a reused legacy folder records; `NotInCache` naming the fetch command otherwise."""
    try:
        if not modelscope_installed():
            raise ImportError("modelscope")
        from modelscope import snapshot_download  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise QAUsageError(
            f"model modelscope:{model_id} needs ModelScope's cache lookup; {MODELSCOPE_MISSING}"
        ) from None

    kwargs: dict[str, Any] = {"allow_patterns": ALLOW_PATTERNS, "local_files_only": True}
    if revision:
        kwargs["revision"] = revision
    if root is not None:
        kwargs["cache_dir"] = str(root)
    try:
        folder = Path(snapshot_download(model_id, **kwargs))
    except Exception as exc:  # modelscope's CacheNotFound and its relatives: not here
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NotInCache(
            f"model modelscope:{model_id}{'@' + revision if revision else ''} is not in the ModelScope cache at "
            f"{root or modelscope_cache_root()} ({first[:200]}); fetch it first: "
            f"{modelscope_fetch_command(model_id, revision)}"
        ) from None
    if not _non_empty(folder):
        raise NotInCache(
            f"model modelscope:{model_id} has an empty cache folder {folder}; fetch it again: "
            f"{modelscope_fetch_command(model_id, revision)}"
        )
    recorded = recorded_revision(folder)
    if revision and "snapshots" not in folder.parts and not (recorded and same_revision(recorded, revision)):
        return _check_legacy_revision(folder, model_id, revision)
    return folder


def _check_legacy_revision(folder: Path, model_id: str, revision: str | None) -> Path:
    """A legacy folder is used only when it records the asked revision (or none was asked for)."""
    recorded = recorded_revision(folder)
    if revision is None or (recorded and same_revision(recorded, revision)):
        return folder
    held = f"records revision {recorded!r}, not {revision!r}" if recorded else "holds no revision record"
    raise QAUsageError(
        f"the ModelScope cache at {folder} (legacy layout) {held}; modelscope reuses that folder whatever "
        f"the revision, so move it away and re-download: {modelscope_fetch_command(model_id, revision)}"
    )


def same_revision(recorded: str, asked: str) -> bool:
    """Equal names, or one commit hash a prefix (7+ hex characters) of the other."""
    if recorded == asked:
        return True
    short, long_ = sorted((recorded.lower(), asked.lower()), key=len)
    return len(short) >= 7 and all(c in "0123456789abcdef" for c in long_) and long_.startswith(short)


def modelscope_fetch_command(model_id: str, revision: str | None) -> str:
    revision_arg = f" --revision {revision}" if revision else ""
    return f"`modelscope download --model {model_id}{revision_arg} {MS_INCLUDE}`"


def _non_empty(path: Path) -> bool:
    try:
        return path.is_dir() and any(path.iterdir())
    except OSError:
        return False


def offline() -> bool:
    """No downloads from any hub: `HF_HUB_OFFLINE` as huggingface_hub parses it. modelscope reads no
    offline variable (its only offline switch is `local_files_only`), so this one governs both."""
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def modelscope_snapshot(model_id: str, revision: str | None) -> Path:
    """The ModelScope snapshot of `model_id` at `revision`: from the cache when it holds it, else downloaded
    by modelscope unless offline; the revision of a reused legacy folder is checked."""
    try:
        return modelscope_cached(model_id, revision)
    except NotInCache as missing:
        if offline():
            raise QAUsageError(f"{missing} (the run is offline: HF_HUB_OFFLINE is set)") from None
    from modelscope import snapshot_download

    kwargs: dict[str, Any] = {"allow_patterns": ALLOW_PATTERNS}
    if revision:
        kwargs["revision"] = revision
    try:
        folder = Path(snapshot_download(model_id, **kwargs))
    except Exception as exc:
        raise QAUsageError(
            f"model modelscope:{model_id} was not found and could not be downloaded "
            f"({type(exc).__name__}); check the id or pass a local folder"
        ) from None
    recorded = recorded_revision(folder)
    if revision and "snapshots" not in folder.parts and not (recorded and same_revision(recorded, revision)):
        return _check_legacy_revision(folder, model_id, revision)
    return folder


@contextlib.contextmanager
def _quiet_loading() -> Iterator[None]:
    """No progress bars or fallback chatter while loading: the gate prints its own one-line errors."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    levels = diffusers_logging.get_verbosity(), transformers_logging.get_verbosity()
    diffusers_logging.set_verbosity_error()
    transformers_logging.set_verbosity_error()
    diffusers_logging.disable_progress_bar()
    transformers_logging.disable_progress_bar()
    try:
        yield
    finally:
        diffusers_logging.set_verbosity(levels[0])
        transformers_logging.set_verbosity(levels[1])
        diffusers_logging.enable_progress_bar()
        transformers_logging.enable_progress_bar()


def load_pretrained(path: Path, device: str, dtype: Any, *, place: bool = True) -> Any:
    """Load a checked pipeline folder with safetensors only and no remote code; onto `device` unless not
    `place` (an offloaded deployment: its hooks move each model to the device when it runs, so the whole
    pipeline, 20 GB in bf16, never has to fit the card at once)."""
    from diffusers import ZImagePipeline

    check_pipeline_dir(path)
    try:
        with _quiet_loading():
            pipe = ZImagePipeline.from_pretrained(
                path, dtype=dtype, use_safetensors=True, local_files_only=True, trust_remote_code=False
            )
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise QAUsageError(
            f"{path} could not be loaded as a safetensors Z-Image pipeline ({first}); "
            "re-save it with save_pretrained(safe_serialization=True)"
        ) from None
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device) if place else pipe
