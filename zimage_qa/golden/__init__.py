"""Golden images: measure a picture, keep a small record of it, and say whether a new one is the same.

The package is split by concept: `pixels` (loading and normalising images), `colour` (sRGB to CIELAB),
`measures` (the signature of one image), `thumbnail` (the stored thumbnail and its comparisons),
`thresholds`, `verdict` (the comparison itself), `record` (the JSON golden record), `store` (where
records live), `diff` (the visual difference for the report) and `command` (`zqa compare`).

Importing this package imports nothing heavy; the submodules load numpy and Pillow when used.
"""
