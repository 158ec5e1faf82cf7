"""`zqa glyph-check IMAGE --expect TEXT [--engine E] [--json]`: does the picture show the text?

The engine is first calibrated on the expected text (`zimage_qa.glyphs.calibration`): the output says whether
it can read the text and tell it from its look-alikes, as the gate does. Calibrations are kept on disk
(`zimage_qa.glyphs.cache`, `$XDG_CACHE_HOME/zimage-qa`): a text checked before costs no calibration, so a
check of a 1024x1024 picture takes about 0.6 s on 2 cores, and 1.2-1.7 s the first time for a
four-character text (benchmarks/glyph_check_speed.py).
Exit 0 when the picture shows the text, 1 when it does not (a wrong glyph, missing or extra text) or
when the engine cannot judge this text (the reason says which look-alike it confuses; with `both`,
either engine), 2 for bad input: a missing, empty, truncated or non-image file, an image too large to
decode safely, an empty expected text, a text no calibration font draws, a font file that cannot be
read, or an unknown engine. `--font` adds a font (the face your pictures use) to the calibration. Works offline: the default engine's models ship in its wheel.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zimage_qa.errors import QAUsageError
from zimage_qa.glyphs.annotate import annotate
from zimage_qa.glyphs.calibration import calibrate
from zimage_qa.glyphs.engines import DEFAULT_ENGINE, ENGINE_NAMES, get_engine
from zimage_qa.glyphs.fontset import with_user_fonts
from zimage_qa.glyphs.judgement import glyph_verdict
from zimage_qa.glyphs.verdict import check_expected, check_min_score, judge
from zimage_qa.storage import locked, write_bytes_atomic
from zimage_qa.verdict import Status

if TYPE_CHECKING:
    from PIL import Image

    from zimage_qa.glyphs.lines import TextLine

MAX_PIXELS = 40_000_000  # 6324 x 6324; Z-Image renders at most 2048 x 2048 (4.2 MP)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", type=Path, help="PNG, JPEG or WebP picture to read")
    parser.add_argument("--expect", required=True, help="the text the picture should show")
    parser.add_argument(
        "--engine",
        default=DEFAULT_ENGINE,
        help=f"OCR engine: {', '.join(ENGINE_NAMES)} (default {DEFAULT_ENGINE})",
    )
    parser.add_argument(
        "--min-score",
        type=float,
        default=None,
        help="pass when 1 - NED >= this (0-1] instead of on an exact reading; for long texts",
    )
    parser.add_argument(
        "--font",
        type=Path,
        action="append",
        default=[],
        metavar="PATH",
        help="a font file the calibration also renders with (the face your pictures use); repeatable",
    )
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for the rapidocr engines")
    parser.add_argument("--easyocr-model-dir", type=Path, default=None, help="folder with EasyOCR .pth files")
    parser.add_argument(
        "--easyocr-download", action="store_true", help="let EasyOCR download missing model files"
    )
    parser.add_argument("--annotate", type=Path, default=None, help="write the picture with OCR boxes here")
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")


def run(args: argparse.Namespace) -> int:
    check_expected(args.expect)
    check_min_score(args.min_score)
    fonts = with_user_fonts(args.font)
    refusal = fonts.refusal(args.expect)
    if refusal is not None:
        raise QAUsageError(f"--expect {args.expect!r}: {refusal}")
    image = open_image(args.image)
    engine = get_engine(args.engine, **_engine_options(args))
    started = time.perf_counter()
    lines = engine.read(image)
    seconds = time.perf_counter() - started
    calibration = calibrate(engine, args.expect, fonts)
    calibration_seconds = time.perf_counter() - started - seconds
    verdict = glyph_verdict(args.expect, lines, calibration, min_score=args.min_score, engine=engine.info)
    if args.annotate is not None:
        _write_annotation(image, lines, args.expect, args.annotate)
    if args.json:
        payload: dict[str, Any] = {
            "passed": verdict.ok,
            "verdict": verdict.status.value,
            "message": verdict.message,
            **verdict.values,
            "image": str(args.image),
            "ocr_seconds": round(seconds, 3),
            "calibration_seconds": round(calibration_seconds, 3),
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        word = {Status.PASSED: "PASS", Status.FAILED: "FAIL"}.get(verdict.status, "CANNOT JUDGE")
        print(f"{word}: {verdict.message} [{engine.info.name}, {seconds:.2f} s]")
        cached = ", from the cache" if all(e.cached for e in calibration.engines) else ""
        print(f"calibration: {calibration.summary()} [{calibration_seconds:.2f} s{cached}]")
    return 0 if verdict.ok else 1


def open_image(path: Path, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Decode `path` fully, or raise QAUsageError naming what is wrong with it."""
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise QAUsageError(f"image {path} does not exist or is not a file; give the path of a PNG or JPEG")
    if path.stat().st_size == 0:
        raise QAUsageError(f"image {path} is empty (0 bytes); regenerate it")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as handle:
                width, height = handle.size
                if width * height > max_pixels:
                    raise QAUsageError(
                        f"image {path} is {width}x{height}, more than {max_pixels:,} pixels: "
                        "too large to decode safely; downscale it first"
                    )
                handle.load()
                return handle.convert("RGB")
    except UnidentifiedImageError as exc:
        raise QAUsageError(f"{path} is not an image Pillow can read; give a PNG or JPEG") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise QAUsageError(f"image {path} is too large to decode safely ({exc})") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise QAUsageError(f"image {path} is damaged or truncated ({exc}); regenerate it") from exc


def _engine_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if args.threads is not None:
        options["rapidocr_threads"] = args.threads
        options["ppocrv4_threads"] = args.threads
    if args.easyocr_model_dir is not None:
        options["easyocr_model_dir"] = args.easyocr_model_dir
    if args.easyocr_download:
        options["easyocr_download"] = True
    return options


def _write_annotation(image: Image.Image, lines: tuple[TextLine, ...], expected: str, path: Path) -> None:
    import io

    buffer = io.BytesIO()
    annotate(image, lines, highlight=judge(expected, lines).best_lines).save(buffer, format="PNG")
    with locked(path):
        write_bytes_atomic(path, buffer.getvalue())
    print(f"annotated picture: {path}", file=sys.stderr)
