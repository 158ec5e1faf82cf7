"""`zqa history PATH...`: judge pytest-benchmark saved runs; exit 1 while a regression is open or suspected
(or, with --strict, while a comparison at the latest run could not be judged)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from zimage_qa.errors import QAUsageError
from zimage_qa.extras import require
from zimage_qa.history.metrics import build_policy, parse_threshold
from zimage_qa.history.page import build_view, embedded, linked, write_page
from zimage_qa.history.table import render_table

if TYPE_CHECKING:
    from zimage_qa.history.analysis import Analysis


EXIT_CODES = (
    "exit 0: nothing open at the latest run; 1: a regression open there, confirmed or suspected (worse by "
    "the threshold, not yet confirmed: it says what would decide it), or the latest run(s) moved the worse "
    "way (pending), or with --strict a comparison there not judged; 2: bad input"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXIT_CODES
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="a .benchmarks folder, a folder of saved-run JSON files, or files",
    )
    parser.add_argument("--json", action="store_true", help="print the findings as JSON instead of the table")
    parser.add_argument(
        "--html", type=Path, metavar="FILE", help="write a self-contained HTML page with every trend plot"
    )
    parser.add_argument(
        "--plot", type=Path, metavar="DIR", help="write one trend PNG per benchmark and metric into DIR"
    )
    parser.add_argument(
        "--threshold",
        action="append",
        type=parse_threshold,
        default=[],
        metavar="[PATTERN=]FRACTION",
        help="smallest lasting change that counts (default 0.05); 'vram.*=0.02' sets it per metric; repeatable",
    )
    parser.add_argument(
        "--metric",
        action="append",
        default=[],
        metavar="PATTERN",
        help="track only metrics matching PATTERN ('median', 'stages_ms.*', 'vram.*'); repeatable; default all",
    )
    parser.add_argument(
        "--higher-is-better",
        action="append",
        default=[],
        metavar="PATTERN",
        help="metrics that get better upwards, besides glyph*, *score*, *tflop*, *ssim*, *psnr*; repeatable",
    )
    parser.add_argument(
        "--lower-is-better",
        action="append",
        default=[],
        metavar="PATTERN",
        help="override a higher-is-better default for matching metrics; repeatable",
    )
    parser.add_argument(
        "--min-runs",
        type=_positive,
        default=3,
        metavar="N",
        help="runs a new level must last to count as a change, not a spike (default 3)",
    )
    parser.add_argument(
        "--all", action="store_true", help="list every metric in the table, not only those that moved"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 also when a comparison at the latest run could not be judged (an upgrade with too "
        "few runs or rounds a side); without it such results are named and exit 0",
    )


def run(args: argparse.Namespace) -> int:
    from zimage_qa.history.analysis import analyse  # numpy: not for --help or a usage error

    if args.plot is not None or args.html is not None:
        require("plot", f"zqa history {'--plot' if args.plot is not None else '--html'}")
    policy = build_policy(
        args.threshold, args.metric, args.higher_is_better, args.lower_is_better, args.min_runs
    )
    analysis = analyse(args.paths, policy)
    report = analysis.report
    for skipped in report.skipped:
        print(f"zqa history: warning: {skipped.warning}", file=sys.stderr)
    values = {verdict.key: series.values.tolist() for series, verdict in analysis.pairs()}
    written = _write_outputs(analysis, values, args.plot, args.html)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(render_table(report, values, everything=args.all, unicode=_can_print("↑▁µ→")), end="")
    for line in written:
        print(line, file=sys.stderr if args.json else sys.stdout)
    return report.strict_exit_code() if args.strict else report.exit_code


def _write_outputs(
    analysis: Analysis,
    values: dict[tuple[str, str, str], list[float]],
    plot_dir: Path | None,
    html: Path | None,
) -> list[str]:
    if plot_dir is None and html is None:
        return []
    from zimage_qa.history.plot import render_plot, write_plots

    written: list[str] = []
    images: dict[tuple[str, str, str], str] = {}
    if plot_dir is not None:
        _writable_dir(plot_dir)
        paths = write_plots(analysis.pairs(), plot_dir, analysis.report.events)
        written.append(f"wrote {len(paths)} plot(s) to {plot_dir}")
        if html is not None:
            images = {key: linked(path, html) for key, path in paths.items()}
    if html is not None:
        if html.is_dir():
            raise QAUsageError(f"--html {html} is a folder; give a file name such as {html / 'history.html'}")
        if not images:
            events = analysis.report.events
            images = {v.key: embedded(render_plot(s, v, events)) for s, v in analysis.pairs()}
        write_page(build_view(analysis.report, values, images), html)
        written.append(f"wrote {html}")
    return written


def _writable_dir(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise QAUsageError(f"--plot {path} is a file; give a folder for the trend PNGs")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise QAUsageError(f"--plot {path}: cannot create the folder ({exc.strerror})") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of runs >= 1")
    return value


def _can_print(sample: str) -> bool:
    try:
        sample.encode(sys.stdout.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True
