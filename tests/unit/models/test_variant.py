from __future__ import annotations

import importlib.machinery
import sys
import types
from typing import Any

import pytest
import torch

from zimage_qa.errors import QAUsageError
from zimage_qa.measure.warnings_log import WarningsLog
from zimage_qa.models.reference import build_reference_pipeline
from zimage_qa.models.variant import CompileKind, OffloadKind, Variant


@pytest.mark.parametrize("text", ["", "eager", " default ", "compile=none"])
def test_default_is_eager(text: str) -> None:
    variant = Variant.parse(text)
    assert variant == Variant()
    assert variant.label == "eager"
    assert variant.is_default


def test_parse_all_settings_and_read_back() -> None:
    variant = Variant.parse(
        "compile=inplace:max-autotune, offload=model,attention=_native_flash,quant=torchao:int8wo"
    )
    assert variant.compile is CompileKind.INPLACE
    assert variant.compile_mode == "max-autotune"
    assert variant.offload is OffloadKind.MODEL
    assert variant.attention == "_native_flash"
    assert variant.quantize == "torchao:int8wo"
    assert (
        variant.label == "compile-inplace-max-autotune+offload-model+attn-_native_flash+quant-torchao-int8wo"
    )
    assert Variant.parse(variant.describe()) == variant


def test_labels_keep_variants_apart() -> None:
    texts = [
        "eager",
        "compile=wrap",
        "compile=inplace",
        "compile=inplace:reduce-overhead",
        "offload=model",
        "offload=sequential",
        "attn=flash",
        "quantize=bnb:8bit",
        "compile=wrap,offload=model",
    ]
    labels = [Variant.parse(t).label for t in texts]
    assert len(set(labels)) == len(texts)
    assert all(label.replace("+", "").replace("-", "").replace("_", "").isalnum() for label in labels)


@pytest.mark.parametrize(
    ("text", "fix"),
    [
        ("compile=jit", "compile=none, compile=wrap or compile=inplace"),
        ("compile=wrap:fast", "max-autotune"),
        ("offload=disk", "model or sequential"),
        ("quantize=torchao:int2", "torchao:int8wo"),
        ("quantize=gptq:4bit", "bnb:8bit"),
        ("attention=flash attn", "not a name"),
        ("speed=fast", "compile=none|wrap|inplace"),
        ("compile", "key=value"),
        ("offload=model,offload=none", "twice"),
    ],
)
def test_bad_text_is_one_line_usage_error_naming_the_fix(text: str, fix: str) -> None:
    with pytest.raises(QAUsageError, match=fix) as info:
        Variant.parse(text)
    assert "\n" not in str(info.value)


def test_compile_mode_needs_compile() -> None:
    with pytest.raises(QAUsageError, match="needs compile=wrap or compile=inplace"):
        Variant(compile_mode="max-autotune")


@pytest.fixture
def pipe() -> Any:
    return build_reference_pipeline()


def test_apply_in_place_compile_attention_and_offload(pipe: Any) -> None:
    transformer = pipe.transformer
    with WarningsLog().capture(
        "variant"
    ):  # torch.compile's imports warn on torch 2.13; the gate records them
        applied = Variant.parse("compile=inplace,attention=native,offload=model").apply(pipe, "cpu")
    assert pipe.transformer is transformer
    assert transformer._compiled_call_impl is not None
    assert getattr(transformer, "_hf_hook", None) is not None
    assert applied.compiled and applied.label == "compile-inplace+offload-model+attn-native"
    assert any("move nothing" in note for note in applied.notes)
    assert applied.apply_s >= 0


def test_apply_wrap_compile_replaces_the_transformer(pipe: Any) -> None:
    transformer = pipe.transformer
    with WarningsLog().capture("variant"):
        Variant.parse("compile=wrap").apply(pipe, "cpu")
    assert pipe.transformer is not transformer
    assert pipe.transformer._orig_mod is transformer


def test_unknown_attention_backend_lists_the_known(pipe: Any) -> None:
    with pytest.raises(QAUsageError, match="_native_flash"):
        Variant(attention="warp").apply(pipe, "cpu")


def test_missing_quantization_library_names_the_pip_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(QAUsageError, match="pip install torchao"):
        Variant(quantize="torchao:int8wo").check_installed()
    with pytest.raises(QAUsageError, match="pip install bitsandbytes"):
        Variant(quantize="bnb:4bit").check_installed()
    with pytest.raises(QAUsageError, match="pip install accelerate"):
        Variant(offload=OffloadKind.MODEL).check_installed()


def test_torchao_quantizes_the_transformer(pipe: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, Any]] = []

    class Int8WeightOnlyConfig:
        pass

    quantization = types.ModuleType("torchao.quantization")
    quantization.Int8WeightOnlyConfig = Int8WeightOnlyConfig  # type: ignore[attr-defined]
    quantization.quantize_ = lambda module, config: calls.append((module, config))  # type: ignore[attr-defined]
    torchao = types.ModuleType("torchao")
    torchao.__spec__ = importlib.machinery.ModuleSpec("torchao", None)
    torchao.quantization = quantization  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torchao", torchao)
    monkeypatch.setitem(sys.modules, "torchao.quantization", quantization)
    applied = Variant.parse("quantize=torchao:int8wo").apply(pipe, "cpu")
    assert len(calls) == 1 and calls[0][0] is pipe.transformer
    assert isinstance(calls[0][1], Int8WeightOnlyConfig)
    assert "Int8WeightOnlyConfig" in applied.notes[0]
    with pytest.raises(QAUsageError, match="pip install -U torchao"):
        Variant.parse("quantize=torchao:float8wo").apply(pipe, "cpu")


def test_bnb_needs_cuda(pipe: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())
    with pytest.raises(QAUsageError, match="needs a CUDA device"):
        Variant(quantize="bnb:8bit").apply(pipe, "cpu")
    assert isinstance(pipe.transformer, torch.nn.Module)
