"""The deployment variant: how a loaded pipeline is served (compiled, offloaded, quantized, which
attention backend), parsed once from a compact string and applied to a diffusers ZImagePipeline.

    variant = Variant.parse("compile=inplace:max-autotune,offload=model,attention=_native_flash")
    variant.label             # "compile-inplace-max-autotune+offload-model+attn-_native_flash"
    applied = variant.apply(pipe, "cuda")

The label is part of every record's identity (budgets, golden folders, history): "eager" for the
default. Parsing imports nothing heavy; `apply` imports torch, diffusers and the quantization library
it needs, and names the pip install when one is missing.

Order of application: quantize, attention backend, offload, compile (diffusers' documented order:
compile after offload, so the compiled call sees the module the hooks move).
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass
from enum import Enum
from typing import Any

from zimage_qa.device import on_cuda
from zimage_qa.errors import QAUsageError

COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
# method: (pip distribution, torchao config class)
TORCHAO_METHODS = {
    "int8wo": "Int8WeightOnlyConfig",
    "int8dq": "Int8DynamicActivationInt8WeightConfig",
    "int4wo": "Int4WeightOnlyConfig",
    "float8wo": "Float8WeightOnlyConfig",
    "float8dq": "Float8DynamicActivationFloat8WeightConfig",
}
BNB_METHODS = ("8bit", "4bit")
SYNTAX = "compile=none|wrap|inplace[:MODE],offload=none|model|sequential,attention=NAME,quantize=LIB:METHOD"


class CompileKind(Enum):
    NONE = "none"
    WRAP = "wrap"  # pipe.transformer = torch.compile(pipe.transformer, mode=...)
    INPLACE = "inplace"  # pipe.transformer.compile(mode=...)


class OffloadKind(Enum):
    NONE = "none"
    MODEL = "model"  # pipe.enable_model_cpu_offload(device=...)
    SEQUENTIAL = "sequential"  # pipe.enable_sequential_cpu_offload(device=...)


@dataclass(frozen=True)
class AppliedVariant:
    """What `Variant.apply` did: the variant, the seconds it took, and notes for the report."""

    variant: Variant
    apply_s: float
    notes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.variant.label

    @property
    def compiled(self) -> bool:
        """Compilation is lazy: the first call per shape compiles (see zimage_qa.measure.coldstart)."""
        return self.variant.compile is not CompileKind.NONE


@dataclass(frozen=True)
class Variant:
    """One deployment variant; the default is eager, resident, the pipeline's attention, full weights."""

    compile: CompileKind = CompileKind.NONE
    compile_mode: str = "default"
    offload: OffloadKind = OffloadKind.NONE
    attention: str | None = None  # a diffusers attention backend name, e.g. "native", "_native_flash"
    quantize: str | None = None  # "torchao:int8wo", "bnb:8bit", ...

    def __post_init__(self) -> None:
        if self.compile_mode not in COMPILE_MODES:
            raise QAUsageError(
                f"compile mode {self.compile_mode!r} is not known; use one of {', '.join(COMPILE_MODES)}"
            )
        if self.compile is CompileKind.NONE and self.compile_mode != "default":
            raise QAUsageError(
                f"compile mode {self.compile_mode!r} needs compile=wrap or compile=inplace, not compile=none"
            )
        if self.attention is not None and not _is_name(self.attention):
            raise QAUsageError(
                f"attention backend {self.attention!r} is not a name; use e.g. native or flash"
            )
        if self.quantize is not None:
            _split_quantize(self.quantize)

    @classmethod
    def parse(cls, text: str) -> Variant:
        """`compile=inplace:max-autotune,offload=model,attention=_native_flash,quantize=torchao:int8wo`;
        empty, "eager" or "default" give the default."""
        value = text.strip()
        if value.lower() in ("", "eager", "default"):
            return cls()
        fields: dict[str, Any] = {}
        for item in value.split(","):
            key, sep, raw = (part.strip() for part in item.partition("="))
            key = {"attn": "attention", "quant": "quantize"}.get(key, key)
            if not sep or not raw:
                raise QAUsageError(f"variant item {item.strip()!r} is not key=value; write {SYNTAX}")
            if key in fields or (key == "compile" and "compile_mode" in fields):
                raise QAUsageError(f"variant {text!r} sets {key} twice; give each setting once")
            fields.update(_parse_item(key, raw))
        return cls(**fields)

    @property
    def label(self) -> str:
        """A short stable id for records, budgets, golden folders and history ("eager" by default)."""
        short = {"attention": "attn", "quantize": "quant"}
        parts = (
            f"{short.get(k, k)}-{v if k == 'attention' else v.replace(':', '-')}" for k, v in self._settings()
        )
        return "+".join(parts) or "eager"

    @property
    def is_default(self) -> bool:
        return self == Variant()

    def describe(self) -> str:
        """The compact string `parse` reads back."""
        return ",".join(f"{k}={v}" for k, v in self._settings()) or "eager"

    def _settings(self) -> list[tuple[str, str]]:
        """(key, value) of each setting off its default, in the order `describe` and `label` spell them."""
        found = []
        if self.compile is not CompileKind.NONE:
            mode = "" if self.compile_mode == "default" else f":{self.compile_mode}"
            found.append(("compile", f"{self.compile.value}{mode}"))
        if self.offload is not OffloadKind.NONE:
            found.append(("offload", self.offload.value))
        if self.attention is not None:
            found.append(("attention", self.attention))
        if self.quantize is not None:
            found.append(("quantize", self.quantize))
        return found

    def check_installed(self) -> None:
        """Fail now, with the pip install to run, when a library this variant needs is missing."""
        if self.offload is not OffloadKind.NONE:
            _require("accelerate", "accelerate", f"offload={self.offload.value}")
        if self.quantize is not None:
            library, _ = _split_quantize(self.quantize)
            module, dist = (
                ("torchao", "torchao") if library == "torchao" else ("bitsandbytes", "bitsandbytes")
            )
            _require(module, dist, f"quantize={self.quantize}")

    def apply(self, pipe: Any, device: str) -> AppliedVariant:
        """Apply the variant to a loaded pipeline (in place) and return what was done."""
        self.check_installed()
        started = time.perf_counter()
        notes: list[str] = []
        if self.quantize is not None:
            notes.append(_quantize(pipe, self.quantize, device))
        if self.attention is not None:
            _set_attention(pipe, self.attention)
        if self.offload is not OffloadKind.NONE:
            notes.append(_offload(pipe, self.offload, device))
        if self.compile is CompileKind.WRAP:
            import torch

            pipe.transformer = torch.compile(pipe.transformer, mode=_mode(self.compile_mode))
        elif self.compile is CompileKind.INPLACE:
            pipe.transformer.compile(mode=_mode(self.compile_mode))
        if self.compile is not CompileKind.NONE:
            notes.append("compiled lazily: the first call per shape compiles (cold start: compile_s)")
        return AppliedVariant(self, time.perf_counter() - started, tuple(n for n in notes if n))


def _parse_item(key: str, raw: str) -> dict[str, Any]:
    if key == "compile":
        kind, _, mode = raw.partition(":")
        try:
            compile_kind = CompileKind(kind)
        except ValueError:
            raise QAUsageError(
                f"compile={raw!r} is not known; use compile=none, compile=wrap or compile=inplace[:MODE] "
                f"with MODE one of {', '.join(COMPILE_MODES)}"
            ) from None
        return {"compile": compile_kind, "compile_mode": mode or "default"}
    if key == "offload":
        try:
            return {"offload": OffloadKind(raw)}
        except ValueError:
            raise QAUsageError(
                f"offload={raw!r} is not known; use offload=none, model or sequential"
            ) from None
    if key == "attention":
        return {"attention": raw}
    if key == "quantize":
        return {"quantize": None if raw == "none" else raw}
    raise QAUsageError(f"variant setting {key!r} is not known; write {SYNTAX}")


def _is_name(text: str) -> bool:
    return bool(text) and all(c.isalnum() or c == "_" for c in text)


def _split_quantize(text: str) -> tuple[str, str]:
    library, _, method = text.partition(":")
    if library == "torchao" and method in TORCHAO_METHODS:
        return library, method
    if library == "bnb" and method in BNB_METHODS:
        return library, method
    known = [f"torchao:{m}" for m in TORCHAO_METHODS] + [f"bnb:{m}" for m in BNB_METHODS]
    raise QAUsageError(f"quantize={text!r} is not known; use one of {', '.join(known)}")


def _require(module: str, dist: str, what: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise QAUsageError(f"{what} needs the {dist} package, which is not installed; pip install {dist}")


def _mode(mode: str) -> str | None:
    return None if mode == "default" else mode


def _set_attention(pipe: Any, name: str) -> None:
    from diffusers.models.attention_dispatch import AttentionBackendName

    known = sorted(b.value for b in AttentionBackendName)
    if name.lower() not in known:
        raise QAUsageError(
            f"attention backend {name!r} is not in this diffusers; use one of {', '.join(known)}"
        )
    try:
        pipe.transformer.set_attention_backend(name)
    except (RuntimeError, ValueError, ImportError) as exc:  # diffusers names the package to install
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise QAUsageError(f"attention backend {name!r} cannot run here: {first_line}") from None


def _offload(pipe: Any, kind: OffloadKind, device: str) -> str:
    if kind is OffloadKind.MODEL:
        pipe.enable_model_cpu_offload(device=device)
    else:
        pipe.enable_sequential_cpu_offload(device=device)
    if not on_cuda(device):
        return f"offload={kind.value} onto {device}: the hooks run but move nothing"
    return ""


def _quantize(pipe: Any, text: str, device: str) -> str:
    library, method = _split_quantize(text)
    if library == "torchao":
        import torchao.quantization as tq

        config_class = getattr(tq, TORCHAO_METHODS[method], None)
        if config_class is None:
            raise QAUsageError(
                f"quantize={text} needs torchao's {TORCHAO_METHODS[method]}, missing in torchao "
                f"{getattr(importlib.import_module('torchao'), '__version__', '?')}; pip install -U torchao"
            )
        tq.quantize_(pipe.transformer, config_class())
        return f"transformer weights quantized with torchao {TORCHAO_METHODS[method]}"
    return _quantize_bnb(pipe, method, device)


def _quantize_bnb(pipe: Any, method: str, device: str) -> str:
    """Swap the transformer's Linear layers for bitsandbytes ones; the weights quantize on the move to
    the device (bitsandbytes quantizes on CUDA only)."""
    if not on_cuda(device):
        raise QAUsageError(f"quantize=bnb:{method} needs a CUDA device, got {device}; use torchao on CPU")
    import bitsandbytes as bnb
    import torch

    def convert(linear: torch.nn.Linear) -> torch.nn.Module:
        bias = linear.bias is not None
        weight = linear.weight.data.to("cpu", torch.float16)
        if method == "8bit":
            new: Any = bnb.nn.Linear8bitLt(
                linear.in_features, linear.out_features, bias, has_fp16_weights=False
            )
            new.weight = bnb.nn.Int8Params(weight, requires_grad=False, has_fp16_weights=False)
        else:
            dtype = linear.weight.dtype
            new = bnb.nn.Linear4bit(linear.in_features, linear.out_features, bias, compute_dtype=dtype)
            new.weight = bnb.nn.Params4bit(weight, requires_grad=False, quant_type="nf4")
        if bias:
            new.bias = torch.nn.Parameter(linear.bias.data.clone(), requires_grad=False)
        moved: torch.nn.Module = new.to(device)
        return moved

    swapped = 0
    for parent in list(pipe.transformer.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is torch.nn.Linear:
                setattr(parent, name, convert(child))
                swapped += 1
    return f"{swapped} transformer Linear layers swapped for bitsandbytes {method}"
