"""The golden record: what a blessed picture was (the case), what it measured, and how it was made.

Serialised as sorted, indented JSON with rounded floats so that a changed record reads well in a pull
request; the 64 x 64 thumbnail the verdict compares (a few kB of base64 PNG) and a 256 px JPEG preview
for the review page (the old picture of an update) are the only opaque lines.

The case carries the generation's provenance (prompt, seed, steps, size, dtype, scheduler and its
settings, guidance, model, device class); `provenance_verdict` fails a record made with other settings
than the configured case asks, naming each difference.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zimage_qa.errors import QAUsageError
from zimage_qa.golden.measures import Signature, measure
from zimage_qa.golden.pixels import as_pixels
from zimage_qa.golden.thumbnail import decode_png_base64, encode_png_base64, encode_preview, make_thumbnail
from zimage_qa.golden.validity import invalid_reasons
from zimage_qa.verdict import Verdict

if TYPE_CHECKING:
    from zimage_qa.verdict import Verdict

Setting = str | int | float | bool | None

SCHEMA = "zimage-qa.golden-record"
SCHEMA_VERSION = 2  # 2: the case carries its provenance; a preview for the review page
UPDATE_HINT = "regenerate it with `pytest -m gpu --qa-update-golden` or restore it from git"


@dataclass(frozen=True)
class GoldenCase:
    """The generation a record stands for, with what made it. Empty fields (ad-hoc images) are unknown.

    `scheduler_settings` are the scheduler's JSON-scalar config entries (see `scheduler_settings`);
    `model` is the profile label (`reference`, `org/name@rev`); `device_class` as `zimage_qa.golden.store`.
    """

    case_id: str
    width: int
    height: int
    prompt: str = ""
    seed: int | None = None
    steps: int | None = None
    dtype: str = ""
    guidance: float | None = None
    scheduler: str = ""
    scheduler_settings: dict[str, Setting] = field(default_factory=dict)
    model: str = ""
    device_class: str = ""

    @property
    def has_provenance(self) -> bool:
        """Whether the generation settings beyond prompt, seed, steps and size were recorded."""
        return bool(self.scheduler and self.dtype and self.model)


@dataclass(frozen=True)
class Provenance:
    """How the golden picture was made; all free text, filled in by the caller."""

    model: str = ""
    device: str = ""  # GPU name, or "cpu"
    date: str = ""  # ISO 8601
    versions: dict[str, str] = field(default_factory=dict)  # {"torch": "2.11.0", "diffusers": ...}
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> Provenance:
        """Known keys become fields; any other key goes to `extra` (as a string)."""
        known = {"model", "device", "date", "versions", "extra"}
        versions = {str(k): str(v) for k, v in dict(data.get("versions") or {}).items()}
        extra = {str(k): str(v) for k, v in dict(data.get("extra") or {}).items()}
        extra.update({str(k): str(v) for k, v in data.items() if k not in known})
        return cls(
            model=str(data.get("model", "")),
            device=str(data.get("device", "")),
            date=str(data.get("date", "")),
            versions=versions,
            extra=extra,
        )


@dataclass(frozen=True)
class GoldenRecord:
    case: GoldenCase
    measures: Signature
    provenance: Provenance
    thumbnail_png: str  # base64 PNG, square (see zimage_qa.golden.thumbnail)
    preview_jpeg: str = ""  # base64 JPEG, longest side 256 px, for the review page; "" in old records

    def to_json(self) -> str:
        document = {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "case": asdict(self.case),
            "measures": self.measures.to_dict(),
            "provenance": asdict(self.provenance),
            "thumbnail_png": self.thumbnail_png,
        }
        if self.preview_jpeg:
            document["preview_jpeg"] = self.preview_jpeg
        return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str | Path = "<golden record>") -> GoldenRecord:
        """Parse a record; anything malformed raises QAUsageError naming `source` and the fix."""
        try:
            document = json.loads(text)
            if not isinstance(document, dict) or document.get("schema") != SCHEMA:
                raise ValueError(f"not a {SCHEMA} document")
            version = document.get("schema_version")
            if not isinstance(version, int) or version > SCHEMA_VERSION:
                raise QAUsageError(
                    f"{source}: golden record schema_version {version!r} is newer than this zimage-qa "
                    f"reads ({SCHEMA_VERSION}): upgrade zimage-qa, or {UPDATE_HINT}"
                )
            return cls._from_document(document)
        except QAUsageError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            why = " ".join(str(exc).split()) or type(exc).__name__
            raise QAUsageError(f"{source}: malformed golden record ({why}); {UPDATE_HINT}") from None

    @classmethod
    def _from_document(cls, document: dict[str, Any]) -> GoldenRecord:
        thumbnail, preview = document["thumbnail_png"], document.get("preview_jpeg", "")
        if not isinstance(thumbnail, str) or not isinstance(preview, str):
            raise ValueError("thumbnail_png and preview_jpeg must be base64 strings")
        decode_png_base64(thumbnail)
        return cls(
            case=_case_from(dict(document["case"])),
            measures=Signature.from_dict(dict(document["measures"])),
            provenance=Provenance.from_mapping(dict(document.get("provenance") or {})),
            thumbnail_png=thumbnail,
            preview_jpeg=preview,
        )

    @classmethod
    def from_file(cls, path: Path) -> GoldenRecord:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise QAUsageError(f"{path}: cannot read golden record ({exc}); {UPDATE_HINT}") from None
        return cls.from_json(text, source=path)


def _case_from(case: dict[str, Any]) -> GoldenCase:
    seed, steps, guidance = case.get("seed"), case.get("steps"), case.get("guidance")
    settings = dict(case.get("scheduler_settings") or {})
    if not all(isinstance(v, (str, int, float, bool, type(None))) for v in settings.values()):
        raise ValueError("scheduler_settings must map names to numbers, strings, booleans or null")
    return GoldenCase(
        case_id=str(case["case_id"]),
        width=int(case["width"]),
        height=int(case["height"]),
        prompt=str(case.get("prompt", "")),
        seed=None if seed is None else int(seed),
        steps=None if steps is None else int(steps),
        dtype=str(case.get("dtype", "")),
        guidance=None if guidance is None else float(guidance),
        scheduler=str(case.get("scheduler", "")),
        scheduler_settings={str(k): v for k, v in sorted(settings.items())},
        model=str(case.get("model", "")),
        device_class=str(case.get("device_class", "")),
    )


def scheduler_settings(scheduler: Any) -> dict[str, Setting]:
    """The scheduler's public config entries that are JSON scalars (shift, dynamic shifting, ...)."""
    config = dict(getattr(scheduler, "config", {}) or {})
    return {
        str(k): _rounded(v)
        for k, v in sorted(config.items())
        if not str(k).startswith("_") and isinstance(v, (str, int, float, bool, type(None)))
    }


def _rounded(value: Setting) -> Setting:
    return round(value, 6) if isinstance(value, float) else value


_REBLESS = "rebless with `--qa-update-golden` if intended"


def provenance_verdict(record: GoldenRecord, case: GoldenCase, source: str | Path = "") -> Verdict | None:
    """FAILED naming every setting the record was made with that the case now asks otherwise; None
    when they agree. Fields the case leaves empty are not compared; a record without provenance
    (schema 1) fails, since nothing says what it was made with."""
    where = f" ({source})" if source else ""
    if case.has_provenance and not record.case.has_provenance:
        return Verdict.failed(
            f"golden record {case.case_id}{where} has no provenance (made before zimage-qa recorded "
            "the generation settings); regenerate it with `--qa-update-golden=all`, review and commit",
            provenance="missing",
        )
    differences = provenance_differences(record.case, case)
    if not differences:
        return None
    return Verdict.failed(
        f"golden record {case.case_id}{where} does not match the case: {'; '.join(differences)}: {_REBLESS}",
        provenance="mismatch",
        differences=differences,
    )


def provenance_differences(recorded: GoldenCase, asked: GoldenCase) -> list[str]:
    """One "record made with X, the case asks Y" sentence per differing field the case sets."""
    out = [
        f"record made with {what} {_show(getattr(recorded, name))}, the case asks {_show(getattr(asked, name))}"
        for name, what in _COMPARED
        if _set(getattr(asked, name)) and not _equal(getattr(recorded, name), getattr(asked, name))
    ]
    if (recorded.width, recorded.height) != (asked.width, asked.height):
        out.insert(
            0,
            f"record made at {recorded.width}x{recorded.height}, the case asks {asked.width}x{asked.height}",
        )
    if asked.scheduler_settings:
        keys = sorted(set(recorded.scheduler_settings) | set(asked.scheduler_settings))
        out += [
            f"record made with scheduler {key}={_show(recorded.scheduler_settings.get(key))}, the case asks "
            f"{_show(asked.scheduler_settings.get(key))}"
            for key in keys
            if not _equal(recorded.scheduler_settings.get(key), asked.scheduler_settings.get(key))
        ]
    return out


_COMPARED = (
    ("prompt", "prompt"),
    ("seed", "seed"),
    ("steps", "steps"),
    ("dtype", "dtype"),
    ("guidance", "guidance"),
    ("scheduler", "scheduler"),
    ("model", "model"),
    ("device_class", "device class"),
)


def _set(value: Any) -> bool:
    return value is not None and value != ""


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(a)), abs(float(b)))
    return bool(a == b)


def _show(value: Any) -> str:
    if value is None or value == "":
        return "(none)"
    if isinstance(value, str) and (" " in value or len(value) > 40):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    return f"{value:g}" if isinstance(value, float) else str(value)


def make_record(
    image: Any, case: GoldenCase, provenance: Provenance | dict[str, Any] | None = None
) -> GoldenRecord:
    """Measure `image` and make the record to bless; an invalid image (black, flat, NaN) is refused."""
    pixels = as_pixels(image)
    problems = invalid_reasons(pixels)
    if problems:
        raise QAUsageError(
            f"refusing to make a golden record for {case.case_id!r}: {problems[0]}; fix the pipeline first"
        )
    if not isinstance(provenance, Provenance):
        provenance = Provenance.from_mapping(dict(provenance or {}))
    return GoldenRecord(
        case=case,
        measures=measure(pixels),
        provenance=provenance,
        thumbnail_png=encode_png_base64(make_thumbnail(pixels)),
        preview_jpeg=encode_preview(pixels),
    )
