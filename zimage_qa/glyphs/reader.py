"""OCR in the background: the gate hands each generated picture to one CPU worker thread, so reading
picture k overlaps generating picture k+1 and glyph checks cost about the generation time alone."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from zimage_qa.glyphs.lines import OcrEngine, TextLine


class BackgroundReader:
    """One worker thread (OCR engines are not re-entrant); `submit` returns at once."""

    def __init__(self, engine: OcrEngine) -> None:
        self.engine = engine
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qa-ocr")

    def submit(self, image: Any) -> Future[tuple[TextLine, ...]]:
        return self._pool.submit(self.engine.read, image)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> BackgroundReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
