"""One golden check as the gate runs it: compare, or write under an explicit update, and say which.

Writing a missing or changed record never passes silently: under `--qa-update-golden` (changed) the
test still fails, naming the file written; only `--qa-update-golden=all` rewrites everything and
passes. Obtained images and diffs go to the report folder, never over the committed record.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.golden.outcome import Verdict
from qa.golden.record import GoldenCase, GoldenRecord, Provenance, make_record
from qa.golden.store import GoldenStore
from qa.golden.thresholds import Thresholds
from qa.session import GoldenUpdate
from qa.storage import confined, write_bytes_atomic


class GoldenAction(enum.Enum):
    SAME = "same"
    REGRESSED = "regressed"
    NO_SET = "no golden set"  # nothing for this profile and device class: not run, not a pass
    NO_RECORD = "no record"
    WROTE_NEW = "wrote new record"
    WROTE_CHANGED = "wrote changed record"
    REWROTE = "rewrote record"


@dataclass(frozen=True)
class GoldenResult:
    action: GoldenAction
    message: str
    verdict: Verdict | None = None
    path: Path | None = None

    @property
    def passed(self) -> bool:
        return self.action in (GoldenAction.SAME, GoldenAction.REWROTE)


def check_golden(
    store: GoldenStore, case: GoldenCase, image: Any, provenance: Provenance,
    thresholds: Thresholds | None = None, update: GoldenUpdate = GoldenUpdate.OFF,
) -> GoldenResult:  # fmt: skip
    """Compare `image` with the stored record of `case`, or write it as the update mode says."""
    record = store.load(case.case_id)
    if update is GoldenUpdate.ALL:
        path = store.write(case.case_id, make_record(image, case, provenance))
        return GoldenResult(GoldenAction.REWROTE, f"rewrote golden record {path}", path=path)
    if record is None:
        return _missing(store, case, image, provenance, update)
    verdict = _compare(record, image, thresholds)
    if verdict.same:
        return GoldenResult(GoldenAction.SAME, f"same as {store.path(case.case_id)}", verdict)
    summary = "; ".join(verdict.reasons)
    if update is GoldenUpdate.CHANGED:
        path = store.write(case.case_id, make_record(image, case, provenance))
        return GoldenResult(
            GoldenAction.WROTE_CHANGED,
            f"{case.case_id} changed ({summary}); wrote the new golden record {path}: review it on the "
            "report page and commit it, or revert it",
            verdict, path,
        )  # fmt: skip
    return GoldenResult(
        GoldenAction.REGRESSED,
        f"{case.case_id} regressed against {store.path(case.case_id)}: {summary}; if the change is "
        "intended, rebless with --qa-update-golden",
        verdict,
    )  # fmt: skip


def _compare(record: GoldenRecord, image: Any, thresholds: Thresholds | None) -> Verdict:
    from qa.golden.verdict import compare

    return compare(record, image, thresholds)


def _missing(
    store: GoldenStore, case: GoldenCase, image: Any, provenance: Provenance, update: GoldenUpdate
) -> GoldenResult:
    if update is GoldenUpdate.CHANGED:
        path = store.write(case.case_id, make_record(image, case, provenance))
        return GoldenResult(
            GoldenAction.WROTE_NEW,
            f"no golden record for {case.case_id}; wrote {path}: review it on the report page and commit it",
            path=path,
        )
    if not store.exists():
        return GoldenResult(GoldenAction.NO_SET, store.missing_message())
    return GoldenResult(
        GoldenAction.NO_RECORD,
        f"no golden record for {case.case_id} in {store.folder}; create it with --qa-update-golden",
    )


def save_artifacts(report_dir: Path, case_id: str, image: Any, record: GoldenRecord | None) -> dict[str, str]:
    """The obtained image and, with a record, the golden|obtained|difference panel; paths by role."""
    import io

    from qa.golden.diff import diff_image
    from qa.golden.pixels import as_pixels

    folder = confined(report_dir, "golden", case_id)
    pictures = {"obtained": as_pixels(image).pil()}
    if record is not None:
        pictures["diff"] = diff_image(record, image)
    paths = {}
    for role, picture in pictures.items():
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        path = folder / f"{role}.png"
        write_bytes_atomic(path, buffer.getvalue())
        paths[role] = str(path)
    return paths
