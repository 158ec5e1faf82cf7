"""Where golden records live: `<root>/<profile>/<device class>/<case>.json`, one file per case.

Only paths and JSON: no comparison here. Names pass through `zimage_qa.storage.safe_name`/`confined`, and
writes are atomic under a file lock, so a killed update leaves the previous record intact.
"""

from __future__ import annotations

from pathlib import Path

from zimage_qa.errors import QAUsageError
from zimage_qa.golden.record import GoldenRecord
from zimage_qa.storage import confined, locked, safe_name, write_text_atomic


class GoldenStore:
    """The golden set of one model profile on one device class."""

    def __init__(self, root: Path, profile: str, device_class: str) -> None:
        self.root = Path(root)
        self.profile = profile
        self.device_class = device_class
        self.folder = confined(self.root, profile, device_class)

    def __repr__(self) -> str:
        return f"GoldenStore({str(self.root)!r}, {self.profile!r}, {self.device_class!r})"

    def path(self, case_id: str) -> Path:
        return confined(self.root, self.profile, self.device_class, safe_name(case_id) + ".json")

    def exists(self) -> bool:
        """Whether a golden set (at least one record) exists for this profile and device class."""
        return self.folder.is_dir() and any(self.folder.glob("*.json"))

    def case_ids(self) -> list[str]:
        """The file stems of the records present, sorted."""
        return sorted(p.stem for p in self.folder.glob("*.json")) if self.folder.is_dir() else []

    def load(self, case_id: str) -> GoldenRecord | None:
        """The record of `case_id`, or None when it has none; a malformed one raises QAUsageError."""
        path = self.path(case_id)
        if not path.is_file():
            return None
        record = GoldenRecord.from_file(path)
        if safe_name(record.case.case_id) != safe_name(case_id):
            raise QAUsageError(
                f"{path}: holds case {record.case.case_id!r}, not {case_id!r}; "
                "regenerate it with `pytest -m gpu --qa-update-golden`"
            )
        return record

    def write(self, case_id: str, record: GoldenRecord) -> Path:
        """Write (or replace) the record of `case_id` atomically; returns its path."""
        path = self.path(case_id)
        with locked(path):
            write_text_atomic(path, record.to_json())
        return path

    def missing_message(self) -> str:
        """The sentence a gate prints when `exists()` is False."""
        return (
            f"no golden set for profile {self.profile!r} on device class {self.device_class!r} "
            f"(looked in {self.folder}): create it with `pytest -m gpu --qa-update-golden=all`, "
            "review the report page, and commit the folder"
        )
