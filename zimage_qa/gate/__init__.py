"""The zimage-qa gate: the test modules that `pytest --pyargs zimage_qa.gate -m gpu` runs from any folder.

Each module only asks the plugin's fixtures for a measurement and hands the package's verdict to
`qa_verdict.conclude`; the judging lives in the package (`zimage_qa.measure`, `zimage_qa.golden`, `zimage_qa.glyphs`).
"""
