"""`zqa doctor`: the environment fingerprint and what the gate can and cannot run here."""

from __future__ import annotations

import argparse
import importlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zimage_qa import extras
from zimage_qa.config import load_config
from zimage_qa.errors import QAUsageError
from zimage_qa.measure.fingerprint import fingerprint
from zimage_qa.models import pretrained
from zimage_qa.models.profiles import ProfileKind, identify, resolve_spec
from zimage_qa.options import find_ini, raw_values, resolve
from zimage_qa.preflight import check_device
from zimage_qa.verdict import Status, Verdict

if TYPE_CHECKING:
    from zimage_qa.models.profiles import ModelSpec
    from zimage_qa.options import GateOptions

OCR_MODULES = {"rapidocr": "rapidocr", "ppocrv4": "rapidocr_onnxruntime", "easyocr": "easyocr"}
OCR_INSTALL = {
    "rapidocr": "pip install 'rapidocr>=3.10,<3.11'",
    "ppocrv4": "pip install 'zimage-qa[ppocrv4]'",
    "easyocr": "pip install 'zimage-qa[easyocr]'",
}
OCR_EXTRAS = {"rapidocr": "onnxruntime", "ppocrv4": "ppocrv4", "easyocr": "easyocr"}  # zimage_qa.extras
# Shared libraries the OCR engines' native parts (OpenCV, onnxruntime, torch) load, and the Debian or
# Ubuntu package that ships each.
SYSTEM_PACKAGES = {
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgomp.so.1": "libgomp1",
    "libSM.so.6": "libsm6",
    "libICE.so.6": "libice6",
    "libXext.so.6": "libxext6",
    "libXrender.so.1": "libxrender1",
    "libX11.so.6": "libx11-6",
}
SHARED_LIBRARY = re.compile(r"(lib[\w+-]+(?:\.[\w+-]+)*?\.so(?:\.\d+)*)")


DOCTOR_OPTIONS = ("model", "revision", "config", "device", "dtype", "variant", "ocr-engine")


def configure(parser: argparse.ArgumentParser) -> None:
    for name in DOCTOR_OPTIONS:
        parser.add_argument(
            f"--{name}",
            f"--qa-{name}",
            dest=name.replace("-", "_"),
            default=None,
            help=f"the --qa-{name} value to check (else ZQA_{name.upper().replace('-', '_')}, "
            "the ini file, the default: as the gate resolves it)",
        )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def resolved_options(args: argparse.Namespace) -> tuple[Any, dict[str, dict[str, str]], Path]:
    """The gate's options from these arguments, the environment and the ini file, as the gate resolves
    them (zimage_qa.options), with where each value came from."""
    import os

    cli = {name: getattr(args, name.replace("-", "_"), None) for name in DOCTOR_OPTIONS}
    found = find_ini(Path.cwd())
    root, ini = found if found is not None else (Path.cwd(), {})
    options = resolve(cli, os.environ, ini, root)
    sources = {
        name: {"value": str(value), "from": source}
        for name, (value, source) in raw_values(cli, os.environ, ini).items()
        if name in DOCTOR_OPTIONS
    }
    return options, sources, root


def model_status(model: str, revision: str | None) -> dict[str, Any]:
    """Whether `--qa-model` is a valid value, and whether its weights are present here (not loaded)."""
    try:
        spec = resolve_spec(model, revision)
        if spec.kind is ProfileKind.LOCAL:
            pretrained.check_pipeline_dir(Path(spec.source))
    except QAUsageError as exc:
        return {"model": model, "resolves": False, "problem": str(exc)}
    weights = weights_presence(spec)
    return {
        "model": spec.label,
        "kind": spec.kind.value,
        "resolves": True,
        "renders_text": spec.renders_text,
        "weights": weights.to_dict(),
    }


def weights_presence(spec: ModelSpec) -> Verdict:
    """Whether the weights `spec` names are on this machine, revision included, without loading them.

    PASSED names the folder and the identity of what would load; FAILED names where it looked and the
    command that fetches the weights (an empty cache is never "found"). `values`: `path`, `identity`.
    """
    if spec.kind in (ProfileKind.REFERENCE, ProfileKind.SYNTHETIC):
        identity = identify(spec, None).text
        return Verdict.passed(f"built in code, nothing to fetch ({identity})", path="", identity=identity)
    try:
        if spec.kind is ProfileKind.LOCAL:
            folder = Path(spec.source)
        elif spec.kind is ProfileKind.HUGGINGFACE:
            folder = pretrained.hf_cached(spec.source, spec.revision)
        else:
            folder = pretrained.modelscope_cached(spec.source, spec.revision)
        pretrained.check_pipeline_dir(folder)
        missing = missing_weight_files(folder)
        if missing:
            return Verdict.failed(
                f"{spec.label} at {folder} is incomplete: {', '.join(missing[:5])}"
                f"{f' and {len(missing) - 5} more' if len(missing) > 5 else ''} missing; fetch it again",
                path=str(folder),
                missing=missing,
            )
        identity = identify(spec, folder).text
    except QAUsageError as exc:
        return Verdict.failed(str(exc), path=_looked_in(spec))
    return Verdict.passed(f"present at {folder} ({identity})", path=str(folder), identity=identity)


def _looked_in(spec: ModelSpec) -> str:
    if spec.kind is ProfileKind.HUGGINGFACE:
        from huggingface_hub import constants

        return str(constants.HF_HUB_CACHE)
    if spec.kind is ProfileKind.MODELSCOPE:
        return str(pretrained.modelscope_cache_root())
    return spec.source


def missing_weight_files(folder: Path) -> list[str]:
    """Files a pipeline folder promises but lacks: each component that model_index.json lists, every
    shard its `*.safetensors.index.json` maps, and at least one safetensors file per model component
    (a folder with a `config.json`). Relative paths; a broken cache symlink counts as missing."""
    try:
        index = json.loads((folder / "model_index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ["model_index.json"]
    missing: list[str] = []
    for name, value in sorted(index.items()):
        if name.startswith("_") or not isinstance(value, list) or value[0] is None:
            continue
        part = folder / name
        if not part.is_dir():
            missing.append(f"{name}/")
            continue
        missing += _missing_shards(folder, part)
    return missing


def _missing_shards(folder: Path, part: Path) -> list[str]:
    indexes = sorted(part.glob("*.safetensors.index.json"))
    if not indexes:
        absent = (part / "config.json").exists() and not any(p.exists() for p in part.glob("*.safetensors"))
        return [f"{part.name}/*.safetensors"] if absent else []
    missing: list[str] = []
    for index in indexes:
        try:
            shards = set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values())
        except (OSError, ValueError, KeyError, AttributeError):
            missing.append(f"{index.relative_to(folder).as_posix()} (unreadable)")
            continue
        missing += [f"{part.name}/{s}" for s in sorted(shards) if not (part / s).exists()]
    return missing


def ocr_engines(modules: Mapping[str, str] = OCR_MODULES) -> dict[str, Verdict]:
    """Each OCR engine's module really imported (native libraries loaded), not merely found on the path.

    PASSED: it imports. NOT_RUN: not installed (the fix in the message). FAILED: installed but broken,
    naming the missing Python module or system library (and its Debian package where known).
    """
    return {name: ocr_engine(name, module) for name, module in modules.items()}


def ocr_engine(name: str, module: str) -> Verdict:
    install = OCR_INSTALL.get(name, f"pip install {module}")
    extra = OCR_EXTRAS.get(name)
    reason = extras.missing(extra, f"the {name} engine") if extra is not None else None
    if reason is not None:
        return Verdict.not_run(reason, module=module)
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.split(".")[0] == exc.name.split(".")[0]:
            return Verdict.not_run(f"{name} is not installed; fix: {install}", module=module)
        return Verdict.failed(
            f"{name} does not import: its dependency {exc.name or exc} is missing; fix: {install} again",
            module=module,
        )
    except Exception as exc:  # ImportError / OSError from a native library, or anything else at import
        return Verdict.failed(_import_failure(name, module, exc), module=module, error=_first_line(exc))
    return Verdict.passed(f"{name} imports", module=module)


def missing_library(exc: BaseException) -> str | None:
    """The shared library an ImportError/OSError says it could not open (`libGL.so.1`), if any."""
    match = SHARED_LIBRARY.search(str(exc))
    return match.group(1) if match else None


def _import_failure(name: str, module: str, exc: BaseException) -> str:
    library = missing_library(exc)
    if library is None:
        return f"{name} does not import ({module}: {type(exc).__name__}: {_first_line(exc)})"
    package = SYSTEM_PACKAGES.get(library)
    fix = f"apt-get install {package}" if package else f"install the system package that provides {library}"
    return f"{name} does not import: the system library {library} is missing ({_first_line(exc)}); fix: {fix}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def device_status(gate_options: GateOptions | None) -> dict[str, Any]:
    """Whether the gate would accept the device option here (zimage_qa.preflight, as the gate asks it)."""
    if gate_options is None:
        return {"ok": True, "device": "auto"}
    try:
        check_device(gate_options, resolve_spec(gate_options.model, gate_options.revision))
    except QAUsageError as exc:
        return {"ok": False, "device": str(gate_options.device), "problem": str(exc)}
    return {"ok": True, "device": str(gate_options.device)}


def extras_status() -> dict[str, dict[str, Any]]:
    return {e.name: {"installed": e.installed(), "adds": e.adds, "install": e.install} for e in extras.EXTRAS}


def report(
    model: str,
    revision: str | None,
    config: Path | None,
    root: Path | None = None,
    options: dict[str, dict[str, str]] | None = None,
    gate_options: GateOptions | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {"fingerprint": fingerprint().to_dict(), "model": model_status(model, revision)}
    data["options"] = options or {}
    data["device"] = device_status(gate_options)
    data["extras"] = extras_status()
    data["ocr_engines"] = {name: verdict.to_dict() for name, verdict in ocr_engines().items()}
    try:
        loaded = load_config(config, (root or Path.cwd()) / "pyproject.toml")
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
    lines = [
        f"GPUs:          {gpus}",
        f"driver:        {fp['driver'] or '-'} (CUDA {fp['cuda_driver'] or '-'}); torch built for CUDA "
        f"{fp['cuda_runtime'] or '- (CPU build)'}",
        f"device class:  {fp['device_class']}",
        f"packages:      torch {fp['torch']}, diffusers {fp['diffusers']}, transformers {fp['transformers']}, "
        f"modelscope {fp['modelscope'] or 'not installed'}",
        f"python:        {fp['python']} on {fp['platform']} ({fp['cpu']}, {fp['cpu_count']} cores)",
        *_model_lines(data["model"]),
        *(
            [f"device:        REFUSED: {data['device']['problem']}"]
            if not data.get("device", {}).get("ok", True)
            else []
        ),
        *(
            [
                (
                    "options:       "
                    + ", ".join(
                        f"{k} {v['value']} ({v['from']})"
                        for k, v in data["options"].items()
                        if v["from"] != "default" or k == "model"
                    )
                )
            ]
            if data.get("options")
            else []
        ),
        "OCR engines:   " + "; ".join(_engine_line(k, v) for k, v in data["ocr_engines"].items()),
        "config:        "
        + (
            f"{data['config']['source']} (valid)"
            if data["config"]["valid"]
            else f"INVALID: {data['config']['problem']}"
        ),
        "extras:        "
        + "; ".join(
            f"[{k}] {'installed' if v['installed'] else 'not installed'}: {v['adds']}"
            for k, v in data.get("extras", {}).items()
        ),
    ]
    return "\n".join(lines)


def _model_lines(model: dict[str, Any]) -> list[str]:
    if not model["resolves"]:
        return [f"model:         {model['model']}: DOES NOT RESOLVE: {model['problem']}"]
    text = "" if model.get("renders_text") else " (cannot render text: glyph checks will not run)"
    weights = model["weights"]
    state = "ok" if weights["status"] == Status.PASSED.value else "NOT PRESENT"
    return [
        f"model:         {model['model']} ({model['kind']}){text}",
        f"weights:       {state}: {weights['message']}",
    ]


def _engine_line(name: str, verdict: dict[str, Any]) -> str:
    return f"{name} imports" if verdict["status"] == Status.PASSED.value else str(verdict["message"])


def problems(data: dict[str, Any]) -> bool:
    """Whether anything the gate needs is missing: the model, its weights, the device, a broken OCR engine,
    the config (exit 1 wherever the gate would refuse to start)."""
    model = data["model"]
    weights_ok = model["resolves"] and model["weights"]["status"] == Status.PASSED.value
    broken_ocr = any(v["status"] == Status.FAILED.value for v in data["ocr_engines"].values())
    device_ok = data.get("device", {}).get("ok", True)
    return not weights_ok or broken_ocr or not data["config"]["valid"] or not device_ok


def run(args: argparse.Namespace) -> int:
    options, sources, root = resolved_options(args)
    data = report(options.model, options.revision, options.config_path, root, sources, options)
    print(json.dumps(data, indent=2, sort_keys=True) if args.json else render(data))
    return 1 if problems(data) else 0
