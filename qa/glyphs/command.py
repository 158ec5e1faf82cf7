"""`zqa glyph-check IMAGE --expect TEXT [--engine E] [--json]`: does the picture show the text?

Exit 0 when it does, 1 when it does not (a wrong glyph, missing or extra text), 2 for bad input:
a missing, empty, truncated or non-image file, an image too large to decode safely, an empty
expected text or an unknown engine. Works offline: the default engine's models ship in its wheel.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.errors import QAUsageError
from qa.glyphs.engines import DEFAULT_ENGINE, ENGINE_NAMES

if TYPE_CHECKING:
    from PIL import Image

    from qa.glyphs.verdict import GlyphVerdict

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
        "--min-score", type=float, default=None,
        help="pass when 1 - NED >= this (0-1] instead of on an exact reading; for long texts",
    )  # fmt: skip
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for the rapidocr engine")
    parser.add_argument("--easyocr-model-dir", type=Path, default=None, help="folder with EasyOCR .pth files")
    parser.add_argument(
        "--easyocr-download", action="store_true", help="let EasyOCR download missing model files"
    )
    parser.add_argument("--annotate", type=Path, default=None, help="write the picture with OCR boxes here")
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")


def run(args: argparse.Namespace) -> int:
    from qa.glyphs.engines import get_engine
    from qa.glyphs.verdict import check_expected, check_min_score, judge

    check_expected(args.expect)
    check_min_score(args.min_score)
    image = open_image(args.image)
    engine = get_engine(args.engine, **_engine_options(args))
    started = time.perf_counter()
    lines = engine.read(image)
    seconds = time.perf_counter() - started
    verdict = judge(args.expect, lines, min_score=args.min_score, engine=engine.info)
    if args.annotate is not None:
        _write_annotation(image, verdict, args.annotate)
    if args.json:
        payload: dict[str, Any] = {
            **verdict.to_dict(),
            "image": str(args.image),
            "ocr_seconds": round(seconds, 3),
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        word = "PASS" if verdict.passed else "FAIL"
        print(f"{word}: {verdict.reason} [{engine.info.name}, {seconds:.2f} s]")
    return 0 if verdict.passed else 1


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
    if args.easyocr_model_dir is not None:
        options["easyocr_model_dir"] = args.easyocr_model_dir
    if args.easyocr_download:
        options["easyocr_download"] = True
    return options


def _write_annotation(image: Image.Image, verdict: GlyphVerdict, path: Path) -> None:
    import io

    from qa.glyphs.annotate import annotate
    from qa.storage import locked, write_bytes_atomic

    buffer = io.BytesIO()
    annotate(image, verdict.lines, highlight=verdict.best_lines).save(buffer, format="PNG")
    with locked(path):
        write_bytes_atomic(path, buffer.getvalue())
    print(f"annotated picture: {path}", file=sys.stderr)
