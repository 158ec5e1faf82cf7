"""A report folder shows one run: pictures of an earlier run that this run did not name are removed,
and nothing else is, and the new report is in place before anything is removed."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from report_records import gate_records, png

from zimage_qa.golden.gate import update_golden
from zimage_qa.golden.outcome import GoldenUpdate
from zimage_qa.golden.record import GoldenCase
from zimage_qa.golden.store import GoldenStore
from zimage_qa.records import CheckRecord, Family
from zimage_qa.report import read_results, write_report
from zimage_qa.report.page import GATE_PICTURES
from zimage_qa.verdict import Status


def golden_record(case: str, artifacts: dict[str, str]) -> CheckRecord:
    return CheckRecord(
        Family.GOLDEN, f"t::test_golden_image[{case}]", case, Status.FAILED, "changed", {}, artifacts
    )


def files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink()}


@pytest.fixture
def earlier(tmp_path: Path) -> Path:
    """A report folder after a run with a golden and a glyph case, and a user's own files in it."""
    folder = tmp_path / "qa-report"
    write_report(folder, gate_records(folder, hostile=False))
    (folder / "golden" / "apple-s42" / "notes.txt").write_text("mine")
    png(folder / "mine.png", (1, 2, 3))
    png(folder / "golden" / "mine.png", (1, 2, 3))
    return folder


def test_a_new_run_removes_the_pictures_of_cases_it_did_not_write(earlier: Path) -> None:
    kept = png(earlier / "golden" / "garden-s7" / "obtained.png", (9, 9, 9))
    write_report(earlier, [golden_record("garden-s7", {"obtained": kept})])
    assert files(earlier) == {
        "index.html",
        "results.json",
        "mine.png",
        "golden/mine.png",
        "golden/apple-s42/notes.txt",
        "golden/garden-s7/obtained.png",
    }
    assert not (earlier / "glyph").exists()  # emptied by the removal, so removed too


def test_pictures_named_relative_to_the_report_folder_are_kept(earlier: Path) -> None:
    write_report(earlier, [golden_record("apple-s42", {"diff": "golden/apple-s42/diff.png"})])
    assert "golden/apple-s42/diff.png" in files(earlier)
    assert "golden/apple-s42/obtained.png" not in files(earlier)


def test_links_and_files_outside_the_folder_are_never_touched(tmp_path: Path, earlier: Path) -> None:
    outside = Path(png(tmp_path / "outside" / "obtained.png", (5, 5, 5)))
    (earlier / "golden" / "linked").symlink_to(outside.parent, target_is_directory=True)
    os.symlink(outside, earlier / "golden" / "apple-s42" / "obtained.png.link")
    (earlier / "golden" / "apple-s42" / "expected.png").symlink_to(outside)
    write_report(earlier, [])
    assert outside.is_file()
    assert (earlier / "golden" / "linked").is_symlink()
    assert (earlier / "golden" / "apple-s42" / "expected.png").is_symlink()
    assert not (earlier / "golden" / "apple-s42" / "obtained.png").exists()


def test_a_leftover_of_an_interrupted_write_goes_when_it_is_old(earlier: Path) -> None:
    case = earlier / "glyph" / "fu"
    old, fresh = case / ".annotated.png.a1b2.tmp", case / ".annotated.png.c3d4.tmp"
    old.write_bytes(b"part")
    fresh.write_bytes(b"part")
    os.utime(old, (0, 0))
    write_report(earlier, [])
    assert not old.exists() and fresh.exists()  # a write of a concurrent run may still be under way


def test_killed_while_removing_the_new_report_is_already_complete(
    earlier: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def killed(self: Path, missing_ok: bool = False) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "unlink", killed)
    passed = [CheckRecord(Family.GUARD, "t::ok", "ok", Status.PASSED, "fine")]
    with pytest.raises(KeyboardInterrupt):
        write_report(earlier, passed)
    monkeypatch.undo()
    assert [r.test_id for r in read_results(earlier / "results.json").records] == ["t::ok"]
    assert "golden/apple-s42/obtained.png" in files(earlier)  # the next run removes it
    write_report(earlier, passed)
    assert "golden/apple-s42/obtained.png" not in files(earlier)


def test_the_pictures_a_golden_update_writes_are_the_ones_the_report_knows(tmp_path: Path) -> None:
    case = GoldenCase(
        "apple",
        64,
        64,
        prompt="p",
        seed=1,
        steps=8,
        dtype="float32",
        guidance=0.0,
        scheduler="FlowMatchEulerDiscreteScheduler",
        scheduler_settings={},
        model="reference",
        device_class="cpu",
    )
    store = GoldenStore(tmp_path / "golden", "reference", "cpu")
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    update_golden(store, case, noise, GoldenUpdate.ALL, tmp_path / "qa-report")
    verdict = update_golden(store, case, noise[::-1].copy(), GoldenUpdate.ALL, tmp_path / "qa-report")
    written = {Path(p).relative_to(tmp_path / "qa-report").parts for p in verdict.artefacts.values()}
    assert written == {("golden", "apple", name) for name in GATE_PICTURES["golden"]}
