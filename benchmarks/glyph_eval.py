"""The held-out glyph evaluation, in full: every text of tests/unit/glyphs/heldout_set.py calibrated,
then its correct render and near misses read and judged in each held-out font.

    python benchmarks/glyph_eval.py                      # rapidocr, the six held-out fonts, every text
    python benchmarks/glyph_eval.py --engine both        # both engines must agree
    python benchmarks/glyph_eval.py --dev                # the development set the rules were tuned on

The default test (tests/unit/glyphs/test_heldout.py) runs the same evaluation with one font per text;
this script renders every text in every font. Calibrations go to a fresh cache folder.

Fonts, from Debian's packages: the held-out set needs fonts-wqy-zenhei fonts-wqy-microhei
fonts-arphic-gkai00mp fonts-arphic-gbsn00lp fonts-lxgw-wenkai fonts-droid-fallback (as `.ci/run` installs);
`--dev` needs fonts-noto-cjk fonts-noto-cjk-extra fonts-arphic-ukai.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "unit" / "glyphs"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="rapidocr", help="rapidocr, ppocrv4 or both")
    parser.add_argument("--dev", action="store_true", help="the development texts and fonts instead")
    parser.add_argument("--per-text", type=int, default=0, help="fonts per text (default: every font)")
    parser.add_argument("--texts", type=int, default=0, help="only the first N texts")
    args = parser.parse_args()
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="zqa-eval-")

    from heldout_set import APT, DEV_APT, DEV_FONTS, DEV_TEXTS, EVAL_TEXTS, HELD_OUT_FONTS, evaluate

    from zimage_qa.glyphs.engines import get_engine

    texts, fonts = (DEV_TEXTS, DEV_FONTS) if args.dev else (EVAL_TEXTS, HELD_OUT_FONTS)
    missing = sorted(path for path, _ in fonts.values() if not Path(path).is_file())
    if missing:
        packages = DEV_APT if args.dev else APT
        sys.exit(f"glyph_eval: fonts missing: {', '.join(missing)}; fix: apt-get install -y {packages}")
    texts = texts[: args.texts] if args.texts else texts
    engine = get_engine(args.engine)
    started = time.perf_counter()
    figures = evaluate(engine, texts, fonts, args.per_text or len(fonts))
    title = f"glyph evaluation ({args.engine}, {'development' if args.dev else 'held-out'} set)"
    print(figures.table(title))
    print(f"  {time.perf_counter() - started:.0f} s on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
