"""OCR-verified glyphs: engines that read text in an image, and the verdict on what they read.

- `qa.glyphs.engines`: `TextLine`, `EngineInfo`, the `OcrEngine` protocol, `get_engine(name, **options)`.
- `qa.glyphs.verdict`: `normalise`, `judge(expected, lines) -> GlyphVerdict`.
- `qa.glyphs.annotate`: `annotate(image, lines) -> PIL image` with the OCR boxes drawn.
- `qa.glyphs.command`: `zqa glyph-check`.

Nothing heavy is imported here: the OCR engines load onnxruntime, OpenCV or torch only when built.
"""
