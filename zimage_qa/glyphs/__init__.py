"""OCR-verified glyphs: engines that read text in an image, and the verdict on what they read.

- `zimage_qa.glyphs.engines`: `TextLine`, `EngineInfo`, the `OcrEngine` protocol, `get_engine(name, **options)`.
- `zimage_qa.glyphs.verdict`: `normalise`, `judge(expected, lines) -> TextMatch`.
- `zimage_qa.glyphs.annotate`: `annotate(image, lines) -> PIL image` with the OCR boxes drawn.
- `zimage_qa.glyphs.command`: `zqa glyph-check`.
- `zimage_qa.glyphs.ppocr`: PP-OCR detection and recognition on onnxruntime (what `rapid` runs).
- `zimage_qa.glyphs.cache`: the disk cache of calibrations and model digests (`$XDG_CACHE_HOME/zimage-qa`).
- `zimage_qa.glyphs.calibration`: can an engine judge a text? (`probe`, `separation`, `fontset`, `render`).

Nothing heavy is imported here: the OCR engines load onnxruntime, OpenCV or torch only when built.
"""
