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

from qa.errors import QAUsageError

PIPELINE_CLASS = "ZImagePipeline"
# What a diffusers pipeline needs, and nothing that could carry pickled weights or code.
ALLOW_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.jinja", "tokenizer*", "*.model", "*.tiktoken"]


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


def hf_snapshot(repo_id: str, revision: str | None) -> Path:
    """The cached snapshot of `repo_id` (offline if cached), downloading safetensors only if allowed."""
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
    where = f"{repo_id}@{revision or 'main'} in the Hugging Face cache {constants.HF_HUB_CACHE}"
    if constants.HF_HUB_OFFLINE:
        raise QAUsageError(
            f"model {where} was not found and HF_HUB_OFFLINE is set; "
            f"fetch it first (`hf download {repo_id}`) or pass a local folder"
        ) from None
    try:
        return Path(snapshot_download(repo_id, revision=revision, allow_patterns=ALLOW_PATTERNS))
    except Exception as exc:  # network, auth, unknown repo: all one line for the user
        raise QAUsageError(
            f"model {where} was not found and could not be downloaded ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else 'no detail'}); check the id or pass a local folder"
        ) from None


def modelscope_snapshot(model_id: str, revision: str | None) -> Path:
    """The ModelScope snapshot of `model_id`, from its local cache when present."""
    try:
        from modelscope import snapshot_download  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise QAUsageError(
            f"model 'modelscope:{model_id}' needs the modelscope package; "
            "install it with pip install 'zimage-qa[modelscope]'"
        ) from None
    kwargs: dict[str, Any] = {"allow_patterns": ALLOW_PATTERNS}
    if revision:
        kwargs["revision"] = revision
    try:
        return Path(snapshot_download(model_id, local_files_only=True, **kwargs))
    except Exception:
        pass
    if os.environ.get("MODELSCOPE_OFFLINE") or os.environ.get("HF_HUB_OFFLINE"):
        raise QAUsageError(
            f"model modelscope:{model_id} is not in the ModelScope cache and the run is offline; "
            "download it first (`modelscope download`) or pass a local folder"
        )
    try:
        return Path(snapshot_download(model_id, **kwargs))
    except Exception as exc:
        raise QAUsageError(
            f"model modelscope:{model_id} was not found and could not be downloaded "
            f"({type(exc).__name__}); check the id or pass a local folder"
        ) from None


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


def load_pretrained(path: Path, device: str, dtype: Any) -> Any:
    """Load a checked pipeline folder with safetensors only and no remote code."""
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
    return pipe.to(device)
