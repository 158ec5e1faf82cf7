"""Every `--qa-*` option: the table, the precedence and the validation, settled once at start-up.

Pytest-free: the plugin hands in what pytest parsed (command line and ini), `zqa doctor` hands in its
own arguments; both get the same `GateOptions`, or one `QAUsageError` line naming the option and the
fix. Precedence: command line > environment (`ZQA_<NAME>`) > ini (`qa_<name>`) > default.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zimage_qa.device import Device
from zimage_qa.errors import QAUsageError
from zimage_qa.golden.outcome import GoldenUpdate
from zimage_qa.measure.units import parse_size
from zimage_qa.models.variant import Variant


class GpuLock(enum.Enum):
    """What a run does when another zimage-qa run holds the same device."""

    WAIT = "wait"
    FAIL = "fail"
    OFF = "off"


class OcrEngine(enum.Enum):
    RAPIDOCR = "rapidocr"  # rapidocr 3.x, PP-OCRv6 models in the wheel (the default)
    PPOCRV4 = "ppocrv4"  # rapidocr-onnxruntime, PP-OCRv4 models in the wheel
    EASYOCR = "easyocr"
    BOTH = "both"  # rapidocr and ppocrv4: a text passes only when both read it


_DTYPES = {
    "auto": "auto",
    "bf16": "bf16",
    "bfloat16": "bf16",
    "fp16": "fp16",
    "float16": "fp16",
    "half": "fp16",
    "fp32": "fp32",
    "float32": "fp32",
    "float": "fp32",
}


def parse_dtype(text: str, where: str = "--qa-dtype") -> str:
    value = _DTYPES.get(str(text).strip().lower())
    if value is None:
        raise QAUsageError(f"{where} {text!r} is not known; use auto, bf16, fp16 or fp32")
    return value


@dataclass(frozen=True)
class Shard:
    """`--qa-shard K/N`: this process runs share K (1-based) of N."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str, where: str = "--qa-shard") -> Shard:
        match = re.match(r"^\s*(\d+)\s*/\s*(\d+)\s*$", str(text))
        if match is None or not 1 <= int(match.group(1)) <= int(match.group(2)):
            raise QAUsageError(f"{where} {text!r} is not K/N with 1 <= K <= N; use e.g. 1/2")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


@dataclass(frozen=True)
class GateOptions:
    """Every `--qa-*` choice, resolved and validated."""

    model: str = "reference"
    revision: str | None = None
    device: Device = field(default_factory=lambda: Device("auto"))
    dtype: str = "auto"
    config_path: Path | None = None
    scenarios: str | None = None
    require_gpu: bool = False
    strict: bool = False
    report_dir: Path = Path("qa-report")
    golden_dir: Path = Path("golden")
    update_golden: GoldenUpdate = GoldenUpdate.OFF
    update_budgets: bool = False
    baseline: Path | None = None
    candidate: str | None = None
    min_effect: float = 0.05
    variant: Variant = field(default_factory=Variant)  # --qa-variant, e.g. compile=inplace,offload=model
    card_memory_bytes: int | None = None
    ocr_engine: OcrEngine = OcrEngine.RAPIDOCR
    easyocr_dir: Path | None = None
    timeout_s: float = 900.0  # per GPU test; 0 turns it off
    gpu_lock: GpuLock = GpuLock.WAIT
    shard: Shard | None = None
    lock_wait_s: float = 3600.0  # --qa-gpu-lock wait[:SECONDS]: how long a run waits for a held device
    # Where each value came from, by option name: "--qa-device", "ZQA_DEVICE", "ini qa_device" or "default".
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    def source(self, name: str) -> str:
        """The flag, variable or ini key to blame for option `name`'s value (the flag when it was defaulted)."""
        where = self.sources.get(name, "default")
        return f"--qa-{name}" if where == "default" else where

    @property
    def strict_outcomes(self) -> bool:
        """--qa-strict, or --qa-require-gpu which implies it."""
        return self.strict or self.require_gpu


@dataclass(frozen=True)
class Option:
    name: str  # without the --qa- prefix
    kind: str  # "string" or "bool" (the ini type)
    default: Any
    help: str
    metavar: str = "VALUE"
    const: str | None = None  # a value given by the bare flag (e.g. --qa-update-golden means changed)

    @property
    def dest(self) -> str:
        return "qa_" + self.name.replace("-", "_")

    @property
    def env(self) -> str:
        return "ZQA_" + self.name.upper().replace("-", "_")


OPTIONS: tuple[Option, ...] = (
    Option(
        "model",
        "string",
        "reference",
        "what to load: reference (tiny CPU model), synthetic (full-size random "
        "weights, GPU), a pipeline folder, an org/name Hugging Face id or modelscope:org/name",
    ),
    Option("revision", "string", None, "revision (branch, tag or commit) of a hub model"),
    Option("device", "string", "auto", "auto, cpu, cuda or cuda:N"),
    Option("dtype", "string", "auto", "auto (bf16 on GPU, fp32 on CPU), bf16, fp16 or fp32"),
    Option(
        "variant",
        "string",
        "",
        "how the model is served: comma list of compile=wrap|inplace[:mode], "
        "offload=model|sequential, attention=BACKEND, quantize=LIB:SCHEME (empty: eager, resident)",
    ),
    Option(
        "config",
        "string",
        None,
        "a TOML file (or pyproject.toml) overriding the built-in scenarios and budgets",
    ),
    Option("scenarios", "string", None, "comma list of latency scenario ids, or all (opt-in ones included)"),
    Option(
        "require-gpu",
        "bool",
        False,
        "fail, not skip, when there is no CUDA device or the profile is reference; implies --qa-strict",
    ),
    Option(
        "strict", "bool", False, "every check that did not run or stayed unstable fails the run (CI gates)"
    ),
    Option("report", "string", "qa-report", "folder for the review report and the images of failed checks"),
    Option("golden-dir", "string", "golden", "folder of committed golden records and per-runner budgets"),
    Option(
        "update-golden",
        "string",
        "off",
        "write golden records: changed (new and changed; they still fail) or all",
        metavar="changed|all",
        const="changed",
    ),
    Option(
        "update-budgets",
        "bool",
        False,
        "write this runner's measured budgets to "
        "<golden-dir>/<profile>[+<variant>]/<device class>/budgets.toml (those checks still fail, naming what was written)",
    ),
    Option(
        "baseline",
        "string",
        None,
        "a saved pytest-benchmark run (or a folder of them) from this runner: "
        "each latency scenario is also judged against its rounds",
    ),
    Option(
        "candidate",
        "string",
        None,
        "a second model (folder, id, revision as id@rev) loaded beside --qa-model "
        "and measured interleaved A/B on the same GPU",
    ),
    Option(
        "min-effect",
        "string",
        "5%",
        "the smallest slowdown against --qa-baseline or --qa-candidate that "
        "fails (its interval must exclude no change); 'same' needs the interval under it",
    ),
    Option(
        "card-memory",
        "string",
        None,
        "a card size (e.g. 16GiB) the session's device-level peak must stay "
        "under: the small-card question for offloaded or quantized deployments",
    ),
    Option(
        "ocr-engine",
        "string",
        "rapidocr",
        "rapidocr (PP-OCRv6), ppocrv4, easyocr, or both (rapidocr and ppocrv4 must agree)",
    ),
    Option(
        "easyocr-dir", "string", None, "folder of EasyOCR model files (loaded only when their hashes match)"
    ),
    Option(
        "timeout",
        "string",
        "900",
        "seconds a GPU test may run before it fails (pytest-timeout); 0 turns it off",
    ),
    Option(
        "gpu-lock",
        "string",
        "wait",
        "when another zimage-qa run holds this device: wait (at most an hour; "
        "wait:SECONDS), fail, or off (no lock; ZQA_LOCK_DIR moves the lock files from the temp folder)",
    ),
    Option(
        "shard", "string", None, "K/N: run share K of the gate's checks (zqa gate --gpus sets it per GPU)"
    ),
)

OPTION_NAMES = frozenset(o.name for o in OPTIONS)
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def raw_values(
    cli: Mapping[str, Any], environ: Mapping[str, str], ini: Mapping[str, Any]
) -> dict[str, tuple[Any, str]]:
    """Each option's raw value and where it came from (`command line`, `ZQA_X`, `ini qa_x`, `default`).
    `cli` and `ini` are keyed by option name; None means not given."""
    values: dict[str, tuple[Any, str]] = {}
    for option in OPTIONS:
        if cli.get(option.name) is not None:
            values[option.name] = (cli[option.name], f"--qa-{option.name}")
        elif environ.get(option.env, "") != "":
            values[option.name] = (environ[option.env], option.env)
        elif ini.get(option.name) not in (None, "") and ini.get(option.name) != option.default:
            values[option.name] = (ini[option.name], f"ini {option.dest}")
        else:
            values[option.name] = (option.default, "default")
    return values


def resolve(
    cli: Mapping[str, Any], environ: Mapping[str, str], ini: Mapping[str, Any], root: Path
) -> GateOptions:
    """Validate every option; relative paths are taken from `root` (the user's project folder). A bad value
    is one QAUsageError naming where it came from (`--qa-device`, `ZQA_DEVICE` or `ini qa_device`)."""
    raw = raw_values(cli, environ, ini)
    sources = {name: source for name, (_, source) in raw.items()}

    def where(name: str) -> str:
        return f"--qa-{name}" if sources[name] == "default" else sources[name]

    def text(name: str) -> str | None:
        value = raw[name][0]
        return None if value is None or str(value).strip() == "" else str(value).strip()

    def path(name: str) -> Path | None:
        value = text(name)
        return None if value is None else root / Path(value).expanduser()

    def choice(name: str, enum_type: Callable[[str], Any], allowed: str) -> Any:
        value = (text(name) or "").lower()
        try:
            return enum_type(value)
        except ValueError:
            raise QAUsageError(f"{where(name)} {value!r} is not known; use {allowed}") from None

    model_raw, model_source = raw["model"]
    if model_source != "default" and str(model_raw).strip() == "":
        raise QAUsageError(
            f"{model_source} is empty; use reference, synthetic, a folder, or an id like org/name"
        )
    easyocr = path("easyocr-dir")
    if easyocr is not None and not easyocr.is_dir():
        raise QAUsageError(
            f"{where('easyocr-dir')} {easyocr} is not a folder; give the folder holding the EasyOCR .pth files"
        )
    baseline = path("baseline")
    if baseline is not None and not baseline.exists():
        raise QAUsageError(
            f"{where('baseline')} {baseline} does not exist; give a saved pytest-benchmark JSON or a folder of them"
        )
    config_path = path("config")
    if config_path is not None and not config_path.is_file():
        raise QAUsageError(
            f"{where('config')} {config_path} is not a file; give a TOML file or a pyproject.toml"
        )
    try:
        variant = Variant.parse(text("variant") or "")  # one line naming the fix, at start-up
    except QAUsageError as exc:
        raise QAUsageError(f"{where('variant')}: {exc}") from None
    shard = text("shard")
    gpu_lock, lock_wait_s = _gpu_lock(text("gpu-lock") or "wait", where("gpu-lock"))
    return GateOptions(
        model=text("model") or "reference",
        revision=text("revision"),
        device=Device.parse(text("device") or "auto", where("device")),
        dtype=parse_dtype(text("dtype") or "auto", where("dtype")),
        config_path=config_path,
        scenarios=text("scenarios"),
        require_gpu=_bool(raw, "require-gpu"),
        strict=_bool(raw, "strict"),
        report_dir=path("report") or root / "qa-report",
        golden_dir=path("golden-dir") or root / "golden",
        update_golden=choice("update-golden", GoldenUpdate, "changed or all (or leave it off)"),
        update_budgets=_bool(raw, "update-budgets"),
        baseline=baseline,
        candidate=text("candidate"),
        min_effect=_fraction(text("min-effect") or "5%", where("min-effect")),
        variant=variant,
        card_memory_bytes=_size(text("card-memory"), where("card-memory")),
        ocr_engine=choice("ocr-engine", OcrEngine, "rapidocr, ppocrv4, easyocr or both"),
        easyocr_dir=easyocr,
        timeout_s=_timeout(text("timeout") or "900", where("timeout")),
        gpu_lock=gpu_lock,
        lock_wait_s=lock_wait_s,
        shard=Shard.parse(shard, where("shard")) if shard else None,
        sources=sources,
    )


def _gpu_lock(text: str, where: str) -> tuple[GpuLock, float]:
    """`wait` (an hour), `wait:SECONDS`, `fail` or `off`."""
    word, _, seconds = text.strip().lower().partition(":")
    try:
        lock = GpuLock(word)
        wait_s = float(seconds.removesuffix("s")) if seconds else 3600.0
    except ValueError:
        lock, wait_s = GpuLock.OFF, -1.0
    if wait_s < 0 or wait_s != wait_s or (seconds and lock is not GpuLock.WAIT):
        raise QAUsageError(f"{where} {text!r} is not known; use wait, wait:SECONDS, fail or off")
    return lock, wait_s


def _bool(raw: Mapping[str, tuple[Any, str]], name: str) -> bool:
    value, source = raw[name]
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    where = f"--qa-{name}" if source == "default" else source
    raise QAUsageError(f"{where} {value!r} is not a yes/no value; use 1 or 0 (true or false)")


def _fraction(text: str, where: str = "--qa-min-effect") -> float:
    word = text.strip()
    try:
        value = float(word[:-1]) / 100.0 if word.endswith("%") else float(word)
    except ValueError:
        value = -1.0
    if not 0.0 < value < 1.0:
        raise QAUsageError(f"{where} {text!r} is not a share between 0 and 1; use e.g. 5% or 0.05")
    return value


def _size(text: str | None, where: str = "--qa-card-memory") -> int | None:
    if text is None:
        return None
    try:
        return parse_size(text)
    except (ValueError, QAUsageError):
        raise QAUsageError(f"{where} {text!r} is not a size; use e.g. 16GiB or 24GiB") from None


def _timeout(value: str, where: str = "--qa-timeout") -> float:
    word = value.strip().lower().removesuffix("s").strip()
    try:
        seconds = float(word)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise QAUsageError(f"{where} {value!r} is not a number of seconds >= 0; use e.g. 900, or 0 for none")
    return seconds


def find_ini(start: Path) -> tuple[Path, dict[str, Any]] | None:
    """The pytest config file pytest would use from `start` (pytest.ini, pyproject.toml with
    [tool.pytest.ini_options], tox.ini [pytest], setup.cfg [tool:pytest], nearest folder first) and its
    `qa_*` values by option name: `zqa doctor` resolves options exactly as the gate does."""
    import configparser
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib

    for folder in (start, *start.parents):
        for name, section in (
            ("pytest.ini", "pytest"),
            ("pyproject.toml", None),
            ("tox.ini", "pytest"),
            ("setup.cfg", "tool:pytest"),
        ):
            path = folder / name
            if not path.is_file():
                continue
            values: Mapping[str, Any] | None
            if section is None:
                try:
                    values = (
                        tomllib.loads(path.read_text(encoding="utf-8"))
                        .get("tool", {})
                        .get("pytest", {})
                        .get("ini_options")
                    )
                except (OSError, ValueError):
                    values = None
            else:
                parser = configparser.ConfigParser(interpolation=None)
                try:
                    parser.read(path, encoding="utf-8")
                except (OSError, configparser.Error):
                    continue
                values = dict(parser[section]) if parser.has_section(section) else None
            if values is None and name != "pytest.ini":
                continue
            found = {o.name: values[o.dest] for o in OPTIONS if values and o.dest in values}
            return folder, found
    return None


def options_table() -> str:
    """The README's options table (a test checks the README holds exactly this)."""
    rows = ["| option | default | what it does |", "|---|---|---|"]
    for option in OPTIONS:
        default = "" if option.default in (None, "") else f"`{option.default}`"
        rows.append(f"| `--qa-{option.name}` | {default} | {option.help} |")
    return "\n".join(rows)
