"""`zqa compare GOLDEN.png CANDIDATE.png [--json]`: the golden verdict on two image files.

The golden image is measured as a golden record would be (signature and thumbnail) and the candidate
goes through the very verdict the gate uses (`zimage_qa.golden.verdict.judge`). Exit 0 when the candidate is the same picture, 1 when it regressed or is
invalid on its own, 2 (QAUsageError) when a file cannot be read. Imports only numpy and Pillow, and
decodes the two files while numpy loads: two 1024 x 1024 PNGs take ~0.3 s end to end on 2 cores.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from zimage_qa.errors import QAUsageError
from zimage_qa.golden.diff import diff_image
from zimage_qa.golden.measures import measure
from zimage_qa.golden.pixels import as_pixels, decode_image, open_image
from zimage_qa.golden.record import GoldenCase, make_record
from zimage_qa.golden.thresholds import Thresholds
from zimage_qa.golden.thumbnail import make_thumbnail
from zimage_qa.golden.validity import invalid_reasons
from zimage_qa.golden.verdict import judge
from zimage_qa.storage import write_bytes_atomic

if TYPE_CHECKING:
    from PIL import Image


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("golden", type=Path, metavar="GOLDEN", help="the blessed image (PNG, JPEG, ...)")
    parser.add_argument("candidate", type=Path, metavar="CANDIDATE", help="the image to judge")
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
    parser.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override one threshold (repeatable), e.g. --threshold structure=0.85",
    )
    parser.add_argument("--diff", type=Path, metavar="PNG", help="also write the visual difference here")


def run(args: argparse.Namespace) -> int:
    thresholds = Thresholds.from_mapping(_overrides(args.threshold))
    golden_image, candidate = _load_both(args.golden, args.candidate)

    golden = as_pixels(golden_image)
    problems = invalid_reasons(golden)
    if problems:
        raise QAUsageError(
            f"golden {args.golden} is not a usable golden image ({problems[0]}): bless another one"
        )
    # The record the gate would keep, without encoding what this command never stores.
    verdict = judge(measure(golden), make_thumbnail(golden), candidate, thresholds)
    if args.diff is not None:
        _write_diff(args.diff, args.golden.name, golden_image, candidate)
    if args.json:
        document = {**verdict.to_dict(), "golden": str(args.golden), "candidate": str(args.candidate)}
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        print(f"{verdict.status.value.upper()}: {args.candidate} vs golden {args.golden}")
        for item in verdict.measures:
            mark = "ok  " if item.passed else "FAIL"
            bound = "<=" if item.bound.value == "max" else ">="
            print(f"  {mark} {item.name:<13} {item.value:>9.4g}  ({bound} {item.threshold:g})  {item.what}")
    return 0 if verdict.same else 1


def _load_both(golden: Path, candidate: Path) -> tuple[Image.Image, Image.Image]:
    """Decode both files in two threads while numpy is imported here (Pillow's decoders drop the GIL).

    Two 1024 x 1024 PNGs take ~60 ms to decode and numpy ~80 ms to import: done together, `zqa compare`
    saves most of the shorter one.
    """
    from concurrent.futures import ThreadPoolExecutor

    golden_handle = open_image(golden, role="golden")
    try:
        candidate_handle = open_image(candidate, role="candidate")
    except QAUsageError:
        golden_handle.close()
        raise
    with ThreadPoolExecutor(max_workers=2) as pool:
        golden_job = pool.submit(decode_image, golden_handle, golden, "golden")
        candidate_job = pool.submit(decode_image, candidate_handle, candidate, "candidate")
        import numpy  # noqa: F401  (imported while the files decode)

        return golden_job.result(), candidate_job.result()


def _overrides(pairs: list[str]) -> dict[str, float]:
    overrides: dict[str, float] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        try:
            overrides[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise QAUsageError(
                f"--threshold {pair!r} is not NAME=NUMBER: write e.g. --threshold structure=0.85"
            )
    return overrides


def _write_diff(path: Path, name: str, golden: Image.Image, candidate: Image.Image) -> None:
    import io

    record = make_record(golden, GoldenCase(case_id=name, width=golden.width, height=golden.height))
    buffer = io.BytesIO()
    diff_image(record, candidate).save(buffer, format="PNG")
    write_bytes_atomic(path, buffer.getvalue())
