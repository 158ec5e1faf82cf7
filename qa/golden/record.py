"""The golden record: what a blessed picture was (the case), what it measured, and how it was made.

Serialised as sorted, indented JSON with rounded floats so that a changed record reads well in a pull
request; the 64 x 64 thumbnail (a few kB of base64 PNG) is the only opaque line.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from qa.errors import QAUsageError
from qa.golden.measures import Signature

SCHEMA = "zimage-qa.golden-record"
SCHEMA_VERSION = 1
UPDATE_HINT = "regenerate it with `pytest -m gpu --qa-update-golden` or restore it from git"


@dataclass(frozen=True)
class GoldenCase:
    """The generation a record stands for. `prompt`, `seed`, `steps` are empty for ad-hoc images."""

    case_id: str
    width: int
    height: int
    prompt: str = ""
    seed: int | None = None
    steps: int | None = None


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
    thumbnail_png: str  # base64 PNG, square (see qa.golden.thumbnail)

    def to_json(self) -> str:
        document = {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "case": asdict(self.case),
            "measures": self.measures.to_dict(),
            "provenance": asdict(self.provenance),
            "thumbnail_png": self.thumbnail_png,
        }
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
        from qa.golden.thumbnail import decode_png_base64

        case = document["case"]
        seed, steps = case.get("seed"), case.get("steps")
        thumbnail = document["thumbnail_png"]
        if not isinstance(thumbnail, str):
            raise ValueError("thumbnail_png must be a base64 string")
        decode_png_base64(thumbnail)
        return cls(
            case=GoldenCase(
                case_id=str(case["case_id"]),
                width=int(case["width"]),
                height=int(case["height"]),
                prompt=str(case.get("prompt", "")),
                seed=None if seed is None else int(seed),
                steps=None if steps is None else int(steps),
            ),
            measures=Signature.from_dict(dict(document["measures"])),
            provenance=Provenance.from_mapping(dict(document.get("provenance") or {})),
            thumbnail_png=thumbnail,
        )

    @classmethod
    def from_file(cls, path: Path) -> GoldenRecord:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise QAUsageError(f"{path}: cannot read golden record ({exc}); {UPDATE_HINT}") from None
        return cls.from_json(text, source=path)


def make_record(
    image: Any, case: GoldenCase, provenance: Provenance | dict[str, Any] | None = None
) -> GoldenRecord:
    """Measure `image` and make the record to bless; an invalid image (black, flat, NaN) is refused."""
    from qa.golden.measures import measure
    from qa.golden.pixels import as_pixels
    from qa.golden.thumbnail import encode_png_base64, make_thumbnail
    from qa.golden.validity import invalid_reasons

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
    )
