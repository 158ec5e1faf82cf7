"""What each gate check concludes, pytest-free: functions of values that return one `Verdict`.

They take measurements (`zimage_qa.measure.scenario.ScenarioResult`, back-to-back images, pairs' times),
budgets, thresholds and plain values of the run, never the session; where a check makes its pictures
(guards, golden, glyphs) it takes the session model. The gate's modules (`zimage_qa/gate/`) have the
session and its runner measure, hand the values in, and the verdict to `qa_verdict.conclude`.
"""
