"""One golden check as the gate runs it: compare, or write under an explicit update, and say which.

`golden_verdict` is the entry point: it returns one `zimage_qa.verdict.Verdict`. A record made with other
settings than the case asks (steps, scheduler shift, dtype, ...) fails before any picture is compared.
Writing a missing or changed record never passes silently: under `--qa-update-golden` (changed) the
test still fails, naming the file written; only `--qa-update-golden=all` rewrites everything and
passes. An update reads the old record before it writes the new one, and every write leaves the old
picture (the record's preview), the new one and their difference in the report folder, never over the
committed record.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any

from zimage_qa.errors import QAUsageError
from zimage_qa.golden.diff import diff_image, expected_image
from zimage_qa.golden.outcome import GoldenUpdate
from zimage_qa.golden.pixels import as_pixels
from zimage_qa.golden.record import GoldenCase, GoldenRecord, Provenance, make_record, provenance_verdict
from zimage_qa.golden.store import GoldenStore
from zimage_qa.golden.thresholds import Thresholds
from zimage_qa.golden.verdict import compare
from zimage_qa.storage import confined, write_bytes_atomic
from zimage_qa.values import Golden
from zimage_qa.verdict import Verdict


class GoldenAction(enum.Enum):
    SAME = "same"
    REGRESSED = "regressed"
    NO_SET = "no golden set"  # nothing for this profile and device class: not run, not a pass
    NO_RECORD = "no record"
    WROTE_NEW = "wrote new record"
    WROTE_CHANGED = "wrote changed record"
    REWROTE = "rewrote record"


# The gate's entry point: one zimage_qa.verdict.Verdict per golden case.


def golden_verdict(
    store: GoldenStore,
    case: GoldenCase,
    image: Any,
    report_dir: Path,
    provenance: Provenance | None = None,
    thresholds: Thresholds | None = None,
    update: GoldenUpdate = GoldenUpdate.OFF,
) -> Verdict:
    """Judge `image` against the record of `case`, or write it as `update` says (see `update_golden`).

    PASSED: same picture, same provenance. FAILED: a regression, a provenance mismatch, a missing or
    unreadable record (with the obtained picture, and the old one and the difference where there is
    one, in `artefacts`). NOT_RUN: no golden set at all for this profile and device class.
    """
    if update is not GoldenUpdate.OFF:
        return update_golden(store, case, image, update, report_dir, provenance, thresholds)
    path = store.path(case.case_id)
    try:
        record = store.load(case.case_id)
    except QAUsageError as exc:
        return Verdict.failed(str(exc), **_noted(GoldenAction.REGRESSED))
    if record is None:
        if not store.exists():
            return Verdict.not_run(store.missing_message(), **_noted(GoldenAction.NO_SET))
        message = f"no golden record for {case.case_id} in {store.folder}; create it with --qa-update-golden"
        return _with_review(
            Verdict.failed(message, **_noted(GoldenAction.NO_RECORD)), report_dir, case.case_id, image, None
        )
    mismatch = provenance_verdict(record, case, path)
    if mismatch is not None:
        return _with_review(
            mismatch.with_values(**_noted(GoldenAction.REGRESSED)), report_dir, case.case_id, image, record
        )
    verdict = compare(record, image, thresholds)
    measures = tuple((m.name, m.value) for m in verdict.measures)
    if verdict.same:
        return Verdict.passed(f"same as {path}", **_noted(GoldenAction.SAME, measures))
    message = (
        f"{case.case_id} regressed against {path}: {'; '.join(verdict.reasons)}; if the change is "
        "intended, rebless with --qa-update-golden"
    )
    failed = Verdict.failed(message, **_noted(GoldenAction.REGRESSED, measures))
    return _with_review(failed, report_dir, case.case_id, image, record)


def update_golden(
    store: GoldenStore,
    case: GoldenCase,
    image: Any,
    mode: GoldenUpdate,
    report_dir: Path,
    provenance: Provenance | None = None,
    thresholds: Thresholds | None = None,
) -> Verdict:
    """Write the record of `case` from `image` under `mode`, reading the old record first.

    CHANGED writes a new, changed or provenance-mismatched record and FAILS naming the file (a record
    still the same is left alone and PASSES); ALL rewrites every record and PASSES. Every write saves
    expected (the old record's picture), obtained and diff under `report_dir`/golden/<case>/.
    """
    if mode is GoldenUpdate.OFF:
        raise ValueError("update_golden needs an update mode (changed or all), not off")
    old, unreadable = _load_old(store, case.case_id)
    change, measures = _change(old, case, image, thresholds, unreadable)
    if mode is GoldenUpdate.CHANGED and change is None:
        return Verdict.passed(
            f"same as {store.path(case.case_id)}; nothing written", **_noted(GoldenAction.SAME, measures)
        )
    try:
        path = store.write(case.case_id, make_record(image, case, provenance))
    except QAUsageError as exc:  # an invalid (black, flat, NaN) picture is never blessed
        return Verdict.failed(str(exc), **Golden(measures=measures).to_values())
    what = change or "unchanged"
    if mode is GoldenUpdate.ALL:
        action = GoldenAction.REWROTE
        verdict = Verdict.passed(f"rewrote golden record {path} ({what})", **_noted(action, measures, path))
    else:
        action = GoldenAction.WROTE_NEW if old is None else GoldenAction.WROTE_CHANGED
        verdict = Verdict.failed(
            f"{case.case_id}: {what}; wrote the new golden record {path}: review old, new and difference on "
            "the report page and commit it, or revert it",
            **_noted(action, measures, path),
        )
    return _with_review(verdict, report_dir, case.case_id, image, old)


def _noted(
    action: GoldenAction, measures: tuple[tuple[str, float], ...] = (), written: Path | None = None
) -> dict[str, Any]:
    """The golden values a verdict carries: the measures, the record written (if any), the action."""
    return Golden(action.value, measures, record_written=str(written) if written else "").to_values()


def _load_old(store: GoldenStore, case_id: str) -> tuple[GoldenRecord | None, str]:
    """The record before the update, or None and why (absent, or unreadable: an update may replace it)."""
    try:
        return store.load(case_id), ""
    except QAUsageError as exc:
        return None, str(exc)


def _change(
    old: GoldenRecord | None, case: GoldenCase, image: Any, thresholds: Thresholds | None, unreadable: str
) -> tuple[str | None, tuple[tuple[str, float], ...]]:
    """What differs between the old record and the new picture (None: nothing), and the measures."""
    if old is None:
        return (f"replaced an unreadable record ({unreadable})" if unreadable else "new record"), ()
    mismatch = provenance_verdict(old, case)
    verdict = compare(old, image, thresholds)
    measures = tuple((m.name, m.value) for m in verdict.measures)
    if mismatch is not None:
        return f"provenance changed ({mismatch.message})", measures
    if not verdict.same:
        return f"changed ({'; '.join(verdict.reasons)})", measures
    return None, measures


def _with_review(
    verdict: Verdict, report_dir: Path, case_id: str, image: Any, old: GoldenRecord | None
) -> Verdict:
    return verdict.with_artefacts(**save_review(report_dir, case_id, image, old))


def save_review(report_dir: Path, case_id: str, image: Any, old: GoldenRecord | None) -> dict[str, str]:
    """expected.png (the old record's picture), obtained.png and diff.png under golden/<case>/; paths by role.

    The old picture is the record's 256 px preview, or its 64 px thumbnail for records made before
    previews; without an old record only `obtained` is written.
    """
    pictures = {"obtained": as_pixels(image).pil()}
    if old is not None:
        pictures["expected"] = expected_image(old)
        pictures["diff"] = diff_image(old, image)
    return _write_pngs(confined(report_dir, "golden", case_id), pictures)


def _write_pngs(folder: Path, pictures: dict[str, Any]) -> dict[str, str]:
    import io

    paths = {}
    for role, picture in pictures.items():
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        path = folder / f"{role}.png"
        write_bytes_atomic(path, buffer.getvalue())
        paths[role] = str(path)
    return paths
