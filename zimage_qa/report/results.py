"""results.json, the page's machine-readable twin: the same records in the same order, with the header,
the environment fingerprint and the per-family counts; and reading it back."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zimage_qa.errors import QAUsageError
from zimage_qa.records import CheckRecord, summarise

SCHEMA = "zimage-qa-report/1"


@dataclass(frozen=True)
class Results:
    records: tuple[CheckRecord, ...]
    header: Mapping[str, Any]
    fingerprint: Mapping[str, Any]
    written: str


def payload(
    records: Sequence[CheckRecord],
    *,
    header: Mapping[str, object],
    fingerprint: Mapping[str, Any],
    written: str,
) -> dict[str, Any]:
    summary = {
        s.family.value: {
            "counts": {o.value: n for o, n in s.counts.items()},
            "not_run": list(s.not_run_reasons),
        }
        for s in summarise(records)
    }
    return {
        "schema": SCHEMA,
        "written": written,
        "header": dict(header),
        "fingerprint": dict(fingerprint),
        "summary": summary,
        "records": [r.to_dict() for r in records],
    }


def dumps(data: Mapping[str, Any]) -> str:
    """Strict JSON (NaN and infinities become the strings "nan", "inf", "-inf"); unknown objects as str."""
    return json.dumps(_finite(data), indent=1, ensure_ascii=False, allow_nan=False, default=str) + "\n"


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, Mapping):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def read_results(path: Path) -> Results:
    """A results.json written by `write_report`; QAUsageError when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise QAUsageError(
            f"cannot read {path}: {exc}; give the results.json of a qa-report folder"
        ) from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise QAUsageError(
            f"{path} is not a zimage-qa results.json (schema {SCHEMA}); give one from qa-report/"
        )
    try:
        records = tuple(CheckRecord.from_dict(r) for r in data.get("records", []))
    except (KeyError, TypeError, ValueError) as exc:
        raise QAUsageError(
            f"{path} holds a malformed record ({exc}); regenerate it with a gate run"
        ) from None
    return Results(records, data.get("header", {}), data.get("fingerprint", {}), str(data.get("written", "")))
