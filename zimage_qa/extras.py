"""The optional parts of zimage-qa, each an extra of the distribution: what it adds, the module that says
it is installed, and the one line that names the fix when it is not.

`pip install zimage-qa` brings what the gate needs to judge latency, memory, golden images and guards.
The default OCR engine needs an onnxruntime, which the user chooses: `[onnxruntime]` (the CPU build) or
an `onnxruntime-gpu` installed beforehand; both provide the `onnxruntime` module the engine imports.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from zimage_qa.errors import QAUsageError


@dataclass(frozen=True)
class Extra:
    name: str  # pip install 'zimage-qa[<name>]'
    module: str  # what imports once it is installed
    adds: str  # what it adds, as `zqa doctor` and the README say it

    @property
    def install(self) -> str:
        return f"pip install 'zimage-qa[{self.name}]'"

    def installed(self) -> bool:
        try:
            return importlib.util.find_spec(self.module) is not None
        except (ImportError, ValueError):
            return False


EXTRAS: tuple[Extra, ...] = (
    Extra(
        "onnxruntime",
        "onnxruntime",
        "onnxruntime's CPU build for the OCR engines (or install onnxruntime-gpu)",
    ),
    Extra("ppocrv4", "rapidocr_onnxruntime", "the PP-OCRv4 engine: --qa-ocr-engine ppocrv4 or both"),
    Extra("easyocr", "easyocr", "the EasyOCR engine: --qa-ocr-engine easyocr"),
    Extra("modelscope", "modelscope", "ModelScope ids and cache: --qa-model modelscope:org/name"),
    Extra("plot", "matplotlib", "history charts: zqa history --plot and --html"),
)
BY_NAME = {extra.name: extra for extra in EXTRAS}


def missing(name: str, what: str) -> str | None:
    """The one-line reason `what` cannot run here when extra `name` is not installed, else None."""
    extra = BY_NAME[name]
    if extra.installed():
        return None
    if name == "onnxruntime":
        return (
            f"{what} needs onnxruntime, which is not installed: {extra.install} "
            "(or pip install onnxruntime-gpu on a CUDA machine)"
        )
    return f"{what} needs {extra.module}, which is not installed: {extra.install}"


def require(name: str, what: str) -> None:
    """QAUsageError naming the extra to install when `what` needs extra `name` and it is missing."""
    reason = missing(name, what)
    if reason is not None:
        raise QAUsageError(reason)
