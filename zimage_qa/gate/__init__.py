"""The zimage-qa gate: the test modules that `pytest --pyargs zimage_qa.gate -m gpu` runs from any folder.

Each module asks the plugin's fixtures for the session, its model and runner, has them measure, and hands
the values to the package's checks (`zimage_qa.checks`) and their verdict to `qa_verdict.conclude`.
"""
