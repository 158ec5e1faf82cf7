"""The shipped loader-hook example loads a pipeline that generates, with the variant it was asked for."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from zimage_qa.errors import QAUsageError
from zimage_qa.models.profiles import resolve_spec

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "loader_hook" / "conftest.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("loader_hook_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_hook_returns_a_loader_whose_model_generates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZQA_EXAMPLE_MODEL", raising=False)
    monkeypatch.setenv("ZQA_EXAMPLE_VARIANT", "attention=native")
    example = load_example()
    loader = example.pytest_zqa_loader()
    model = loader(resolve_spec("reference"), "auto", "auto")
    assert model.device == "cpu"
    assert model.load_s > 0
    image = model.generate("a red apple", 64, 64, 2, seed=7)
    assert image.size == (64, 64)
    backends = {
        str(getattr(m.processor, "_attention_backend", None))
        for m in model.pipe.transformer.modules()
        if getattr(m, "processor", None) is not None
    }
    assert backends == {"AttentionBackendName.NATIVE"}  # set on every attention module of the DiT


def test_bad_variant_fails_at_load_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZQA_EXAMPLE_VARIANT", "offload=disk")
    example = load_example()
    with pytest.raises(QAUsageError, match="model or sequential"):
        example.pytest_zqa_loader()(resolve_spec("reference"), "cpu", "auto")
