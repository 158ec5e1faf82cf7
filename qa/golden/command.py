"""`zqa compare GOLDEN.png CANDIDATE.png [--json]`: the golden verdict on two image files.

The golden image is made into a golden record on the fly and the candidate goes through the very
verdict the gate uses. Exit 0 when the candidate is the same picture, 1 when it regressed or is
invalid on its own, 2 (QAUsageError) when a file cannot be read. Imports only numpy and Pillow.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from qa.errors import QAUsageError

if TYPE_CHECKING:
    from PIL import Image

    from qa.golden.record import GoldenRecord


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
    from qa.golden.pixels import load_image
    from qa.golden.record import GoldenCase, make_record
    from qa.golden.thresholds import Thresholds
    from qa.golden.verdict import compare

    thresholds = Thresholds.from_mapping(_overrides(args.threshold))
    golden_image = load_image(args.golden, role="golden")
    candidate = load_image(args.candidate, role="candidate")
    case = GoldenCase(case_id=args.golden.name, width=golden_image.width, height=golden_image.height)
    try:
        record = make_record(golden_image, case)
    except QAUsageError as exc:
        raise QAUsageError(f"golden {args.golden} is not a usable golden image ({exc})") from None
    verdict = compare(record, candidate, thresholds)
    if args.diff is not None:
        _write_diff(args.diff, record, candidate)
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


def _write_diff(path: Path, record: GoldenRecord, candidate: Image.Image) -> None:
    import io

    from qa.golden.diff import diff_image
    from qa.storage import write_bytes_atomic

    buffer = io.BytesIO()
    diff_image(record, candidate).save(buffer, format="PNG")
    write_bytes_atomic(path, buffer.getvalue())
