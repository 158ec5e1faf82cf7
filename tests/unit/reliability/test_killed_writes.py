"""Killed at any moment (SIGKILL) while writing goldens, history and report files through zimage_qa.storage:
what was there before stays intact and readable, and the next run works. Also: file names derived from
ids are confined to their folder, whatever the id holds."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from zimage_qa.errors import QAUsageError
from zimage_qa.golden.store import GoldenStore
from zimage_qa.storage import confined, locked, safe_name, write_bytes_atomic

GOLDEN = Path(__file__).resolve().parents[3] / "golden" / "reference" / "cpu" / "apple-s42.json"

WRITER = """
import hashlib, json, sys
from pathlib import Path
from zimage_qa.golden.record import GoldenRecord
from zimage_qa.golden.store import GoldenStore
from zimage_qa.storage import locked, write_text_atomic

root, golden, rounds = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
store = GoldenStore(root / "golden", "reference", "cpu")
record = GoldenRecord.from_file(golden)
version = int(sys.argv[4])
while rounds:
    version += 1
    rounds -= 1
    store.write("apple-s42", record)
    body = ("x" * 64 + "\\n") * 20000 + str(version)  # 1.3 MB: a long window for a torn write
    digest = hashlib.sha256(body.encode()).hexdigest()
    run = root / "history" / "0001_run.json"
    with locked(run):
        write_text_atomic(run, json.dumps({"version": version, "body": body, "sha256": digest}))
    page = root / "report" / "index.html"
    with locked(page):
        write_text_atomic(page, f"<html>{body}<!-- {version} {digest} --></html>")
    print(version, flush=True)
"""


def _writer(root: Path, rounds: int, start: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(root), str(GOLDEN), str(rounds), str(start)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(GOLDEN.parents[3])},
    )


def _intact(root: Path) -> int:
    """The version every file holds, after checking each is whole; raises when one is torn."""
    GoldenStore(root / "golden", "reference", "cpu").load("apple-s42")  # parses and validates the record
    run = json.loads((root / "history" / "0001_run.json").read_text())
    assert hashlib.sha256(run["body"].encode()).hexdigest() == run["sha256"]
    page = (root / "report" / "index.html").read_text()
    assert page.startswith("<html>") and page.endswith("--></html>")
    version, digest = page.rsplit("<!-- ", 1)[1].removesuffix(" --></html>").split()
    assert hashlib.sha256(page[6 : page.rindex("<!-- ")].encode()).hexdigest() == digest
    return min(int(run["version"]), int(version))


def test_fault_sigkill_during_writes_leaves_every_file_whole_and_the_next_run_works(tmp_path: Path) -> None:
    first = _writer(tmp_path, 1, 0)
    first.communicate(timeout=60)
    assert first.returncode == 0
    version, rng, kills = _intact(tmp_path), random.Random(7), 0
    for _ in range(6):
        writer = _writer(tmp_path, 1000, version)
        assert writer.stdout is not None and writer.stdout.readline()  # it has started writing
        time.sleep(rng.uniform(0.0, 0.05))
        writer.send_signal(signal.SIGKILL)
        writer.communicate(timeout=10)
        kills += writer.returncode == -signal.SIGKILL
        now = _intact(tmp_path)  # whole files, never a torn one
        assert now >= version
        version = now
    assert kills == 6
    last = _writer(tmp_path, 2, version)  # the next run: the locks of the killed writers are gone
    last.communicate(timeout=60)
    assert last.returncode == 0
    assert _intact(tmp_path) == version + 2
    assert GoldenStore(tmp_path / "golden", "reference", "cpu").case_ids() == ["apple-s42"]


@pytest.mark.parametrize(
    "evil",
    ["../../etc/passwd", "/etc/passwd", "a\x00b", "..", ".", "", "a/../../b", "C:\\Windows\\x", "😀" * 200],
)
def test_names_from_ids_stay_in_their_folder(tmp_path: Path, evil: str) -> None:
    name = safe_name(evil)
    assert name and "/" not in name and "\\" not in name and "\x00" not in name and name not in (".", "..")
    assert len(name) <= 120
    path = confined(tmp_path, "golden", evil, evil)
    assert tmp_path.resolve() in path.resolve().parents
    store = GoldenStore(tmp_path, evil, evil)
    assert tmp_path.resolve() in store.path(evil).resolve().parents


def test_a_symbolic_link_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "golden").symlink_to(outside)
    with pytest.raises(QAUsageError, match="leads out of"):
        confined(tmp_path / "report", "golden", "case")


def test_gate_artifacts_of_an_evil_case_id_stay_in_the_report_folder(tmp_path: Path) -> None:
    import numpy as np

    from zimage_qa.golden.gate import save_review

    image = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    report = tmp_path / "report"
    paths = save_review(report, "../../../tmp/evil\x00/..", image, None)
    for written in paths.values():
        assert report.resolve() in Path(written).resolve().parents
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_a_failed_write_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "record.json"
    write_bytes_atomic(path, b"old")

    def broken(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken)
    with locked(path), pytest.raises(OSError, match="No space left"):
        write_bytes_atomic(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir() if p.name != ".zqa.lock"] == ["record.json"]
