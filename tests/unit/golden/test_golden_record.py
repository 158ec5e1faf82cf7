from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from golden_labelled_set import load_photo

from zimage_qa.errors import QAUsageError
from zimage_qa.golden.record import SCHEMA_VERSION, GoldenCase, GoldenRecord, Provenance, make_record


@pytest.fixture(scope="module")
def record() -> GoldenRecord:
    provenance = {
        "model": "reference",
        "device": "cpu",
        "date": "2025-01-01",
        "versions": {"torch": "2.13"},
        "runner": "ci-7",
    }
    case = GoldenCase("red-apple-512", 512, 512, prompt="A red apple on a table", seed=42, steps=9)
    return make_record(load_photo("chelsea"), case, provenance)


def test_json_round_trip(record: GoldenRecord) -> None:
    text = record.to_json()
    assert GoldenRecord.from_json(text) == record
    assert record.provenance.extra == {"runner": "ci-7"}


def test_json_is_sorted_indented_and_rounded(record: GoldenRecord) -> None:
    text = record.to_json()
    document = json.loads(text)
    assert list(document) == sorted(document)
    assert document["schema_version"] == SCHEMA_VERSION
    assert '\n  "case": {\n' in text
    assert all(len(repr(v)) <= 12 for v in document["measures"].values() if isinstance(v, float))
    assert len(text) < 50_000  # a record stays small: the 256 px JPEG preview and the thumbnail are the bulk


def test_make_record_refuses_an_invalid_image() -> None:
    with pytest.raises(QAUsageError, match="refusing to make a golden record for 'c': black"):
        make_record(np.zeros((64, 64, 3), np.uint8), GoldenCase("c", 64, 64))


def test_provenance_typed_or_mapping() -> None:
    typed = Provenance(model="m", device="cpu")
    record = make_record(load_photo("rocket")[:64, :64], GoldenCase("c", 64, 64), typed)
    assert record.provenance is typed


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: "{not json", "malformed golden record"),
        (lambda d: json.dumps({**d, "schema": "other"}), "not a zimage-qa.golden-record document"),
        (lambda d: json.dumps({**d, "schema_version": 99}), "newer than this zimage-qa reads"),
        (lambda d: json.dumps({k: v for k, v in d.items() if k != "case"}), "malformed golden record"),
        (lambda d: json.dumps({**d, "measures": {**d["measures"], "extra": 1}}), "unknown \\['extra'\\]"),
        (lambda d: json.dumps({**d, "thumbnail_png": "AAAA"}), "thumbnail"),
        (lambda d: json.dumps({**d, "case": {**d["case"], "seed": "x"}}), "malformed golden record"),
    ],
)
def test_malformed_records_name_the_file_and_the_fix(
    record: GoldenRecord, edit: Callable[[dict[str, Any]], str], message: str
) -> None:
    text = edit(json.loads(record.to_json()))
    with pytest.raises(QAUsageError, match=message) as info:
        GoldenRecord.from_json(text, source=Path("golden/reference/cpu/x.json"))
    assert str(info.value).startswith("golden/reference/cpu/x.json: ")
    assert "--qa-update-golden" in str(info.value)
    assert "\n" not in str(info.value)


def test_unreadable_record_file(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(QAUsageError, match="cannot read golden record"):
        GoldenRecord.from_file(path)
