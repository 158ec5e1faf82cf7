"""What each gate check measures and concludes, pytest-free: every function returns one `Verdict`.

The gate's test modules (`zimage_qa/gate/`) only ask fixtures for the session objects and hand the verdict
to `qa_verdict.conclude`. A notebook or the CLI can call these functions with a `GateSession`.
"""
