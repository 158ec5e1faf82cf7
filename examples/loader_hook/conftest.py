"""A team's own loader for the zimage-qa gate: the `pytest_zqa_loader` hook.

Copy this file into the folder you run `pytest --pyargs zimage_qa.gate -m gpu` from (or merge it into your
conftest.py). The gate then measures your pipeline as you serve it, instead of loading a built-in
profile. Here the "stack" is: a ZImagePipeline from a saved folder (`ZQA_EXAMPLE_MODEL`; without it,
the tiny in-code reference pipeline, so the example runs on a CPU), then the deployment variant in
`ZQA_EXAMPLE_VARIANT` (e.g. `compile=inplace:max-autotune,offload=model`). Replace `build_pipeline`
with your own code: your dtype casts, LoRA fusing, scheduler swap, compile or offload calls.

Loading and applying the variant run inside a warnings log: a library warning is recorded, not raised,
whatever the host's `filterwarnings` says.
"""

from __future__ import annotations

import os
import time
from typing import Any

from zimage_qa.measure.warnings_log import WarningsLog
from zimage_qa.models.profiles import LoadedModel, ModelSpec, resolve_device, resolve_dtype
from zimage_qa.models.variant import Variant

WARNINGS = WarningsLog()  # what loading warned; a report can list `WARNINGS.records`


def build_pipeline(device: str, dtype: Any) -> Any:
    """Your stack's loading code. This one reads a saved folder, or builds the reference pipeline."""
    folder = os.environ.get("ZQA_EXAMPLE_MODEL")
    if not folder:
        from zimage_qa.models.reference import build_reference_pipeline

        return build_reference_pipeline(device, dtype)
    from diffusers import ZImagePipeline

    pipe = ZImagePipeline.from_pretrained(
        folder, torch_dtype=dtype, use_safetensors=True, local_files_only=True
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def load(spec: ModelSpec, device: str, dtype: str) -> LoadedModel:
    """The loader the gate calls once per session: (spec, --qa-device, --qa-dtype) -> LoadedModel."""
    resolved = resolve_device(device, spec)
    torch_dtype = resolve_dtype(dtype, resolved)
    variant = Variant.parse(os.environ.get("ZQA_EXAMPLE_VARIANT", ""))
    variant.check_installed()  # a missing library fails now, naming the pip install
    started = time.perf_counter()
    with WARNINGS.capture("load"):
        pipe = build_pipeline(resolved, torch_dtype)
        variant.apply(pipe, resolved)
    return LoadedModel(spec, pipe, resolved, torch_dtype, time.perf_counter() - started)


def pytest_zqa_loader() -> Any:
    return load
