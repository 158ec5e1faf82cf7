"""OCR-verified glyphs: engines that read text in an image, and the verdict on what they read.

- `qa.glyphs.engines`: `TextLine`, `EngineInfo`, the `OcrEngine` protocol, `get_engine(name, **options)`.
- `qa.glyphs.verdict`: `normalise`, `judge(expected, lines) -> TextMatch`.
- `qa.glyphs.annotate`: `annotate(image, lines) -> PIL image` with the OCR boxes drawn.
- `qa.glyphs.command`: `zqa glyph-check`.
- `qa.glyphs.ppocr`: PP-OCR detection and recognition on onnxruntime (what `rapid` runs).
- `qa.glyphs.cache`: the disk cache of calibrations and model digests (`$XDG_CACHE_HOME/zimage-qa`).

Nothing heavy is imported here: the OCR engines load onnxruntime, OpenCV or torch only when built.
"""
