"""`zqa doctor`: the environment fingerprint and what the gate can and cannot run here."""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path
from typing import Any

from qa.errors import QAUsageError

OCR_MODULES = {"rapidocr": "rapidocr_onnxruntime", "easyocr": "easyocr"}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", default="reference", help="the --qa-model value to check (default: reference)"
    )
    parser.add_argument("--revision", default=None, help="revision of a hub model")
    parser.add_argument("--config", type=Path, default=None, help="a config file to validate")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def model_status(model: str, revision: str | None) -> dict[str, Any]:
    """Whether `--qa-model` resolves, without loading weights (a folder must hold a Z-Image pipeline)."""
    from qa.models.pretrained import check_pipeline_dir
    from qa.models.profiles import ProfileKind, resolve_spec

    try:
        spec = resolve_spec(model, revision)
        if spec.kind is ProfileKind.LOCAL:
            check_pipeline_dir(Path(spec.source))
    except QAUsageError as exc:
        return {"model": model, "resolves": False, "problem": str(exc)}
    return {"model": spec.label, "kind": spec.kind.value, "resolves": True, "renders_text": spec.renders_text}


def report(model: str, revision: str | None, config: Path | None) -> dict[str, Any]:
    from qa.config import load_config
    from qa.measure.fingerprint import fingerprint

    data: dict[str, Any] = {"fingerprint": fingerprint().to_dict(), "model": model_status(model, revision)}
    data["ocr_engines"] = {
        name: importlib.util.find_spec(mod) is not None for name, mod in OCR_MODULES.items()
    }
    try:
        loaded = load_config(config, Path.cwd() / "pyproject.toml")
        data["config"] = {
            "source": loaded.source,
            "valid": True,
            "scenarios": [s.id for s in loaded.scenarios],
        }
    except QAUsageError as exc:
        data["config"] = {"valid": False, "problem": str(exc)}
    return data


def render(data: dict[str, Any]) -> str:
    fp = data["fingerprint"]
    gpus = ", ".join(f"{g['name']} (sm {g['compute_capability']})" for g in fp["gpus"]) or "none"
    model = data["model"]
    lines = [
        f"GPUs:          {gpus}",
        f"driver:        {fp['driver'] or '-'} (CUDA {fp['cuda_driver'] or '-'}); torch built for CUDA "
        f"{fp['cuda_runtime'] or '- (CPU build)'}",
        f"device class:  {fp['device_class']}",
        f"packages:      torch {fp['torch']}, diffusers {fp['diffusers']}, transformers {fp['transformers']}, "
        f"modelscope {fp['modelscope'] or 'not installed'}",
        f"python:        {fp['python']} on {fp['platform']} ({fp['cpu']}, {fp['cpu_count']} cores)",
        f"model:         {model['model']}: "
        + ("resolves" + ("" if model.get("renders_text") else " (cannot render text: glyph checks will not run)")
           if model["resolves"] else f"DOES NOT RESOLVE: {model['problem']}"),
        "OCR engines:   " + ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in data["ocr_engines"].items()),
        "config:        " + (f"{data['config']['source']} (valid)" if data["config"]["valid"]
                             else f"INVALID: {data['config']['problem']}"),
    ]  # fmt: skip
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    data = report(args.model, args.revision, args.config)
    print(json.dumps(data, indent=2, sort_keys=True) if args.json else render(data))
    return 0 if data["model"]["resolves"] and data["config"]["valid"] else 1
