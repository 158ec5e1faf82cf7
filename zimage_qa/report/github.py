"""The run as GitHub Actions shows it: a short Markdown job summary (appended to $GITHUB_STEP_SUMMARY)
and one `::error` workflow command per failure (`::warning` per unstable check), escaped as the
workflow-commands spec says (data: %, CR, LF; properties also ':' and ',')."""

# No `from __future__ import annotations`: this module's public `annotations()` would shadow it.
import html
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from zimage_qa.records import CheckRecord, summarise
from zimage_qa.report.view import OUTCOME_ORDER
from zimage_qa.verdict import Status

MAX_LISTED = 50
MAX_MESSAGE = 400
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")


def escape_data(text: str) -> str:
    """A workflow command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (file, title)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def md(text: str, limit: int = MAX_MESSAGE) -> str:
    """One line of untrusted text as inert Markdown: HTML escaped, Markdown punctuation backslashed."""
    line = " ".join(text.split())
    if len(line) > limit:
        line = line[: limit - 1] + "…"
    return _MD_SPECIAL.sub(r"\\\1", html.escape(line, quote=False))


def step_summary(
    records: Sequence[CheckRecord], *, header: Mapping[str, object] | None = None, report: str | None = None
) -> str:
    """Markdown: the headline, a per-family count table, the failures with their message, what did not
    run and why, and where the full report is."""
    totals = {o: sum(1 for r in records if r.outcome is o) for o in OUTCOME_ORDER}
    headline = ", ".join(f"{n} {o.value}" for o, n in totals.items() if n) or "no gate checks ran"
    lines = [f"## zimage-qa: {headline}", ""]
    lines += [f"- {md(str(k))}: {md(str(v))}" for k, v in (header or {}).items() if v not in (None, "")]
    lines += ["", "| family | failed | unstable | not run | passed |", "|---|---:|---:|---:|---:|"]
    for s in summarise(records):
        if any(s.counts.values()):
            lines.append(
                f"| {s.family.value} | " + " | ".join(str(s.counts[o]) for o in OUTCOME_ORDER) + " |"
            )
    for outcome, title in ((Status.FAILED, "Failures"), (Status.UNSTABLE, "Unstable (not a pass)")):
        chosen = [r for r in records if r.outcome is outcome]
        if chosen:
            lines += ["", f"### {title}", ""]
            lines += [
                f"- **{r.family.value}** {md(r.case, 120)}: {md(r.message or outcome.value)}"
                for r in chosen[:MAX_LISTED]
            ]
            lines += [f"- and {len(chosen) - MAX_LISTED} more"] if len(chosen) > MAX_LISTED else []
    reasons = [(s.family.value, reason) for s in summarise(records) for reason in s.not_run_reasons]
    if reasons:
        lines += ["", "### Not run", ""]
        lines += [f"- **{family}**: {md(reason)}" for family, reason in reasons[:MAX_LISTED]]
    if report:
        lines += ["", f"Full report: {md(report, 300)} (in this run's artifacts)."]
    return "\n".join(lines) + "\n"


def append_step_summary(markdown: str, environ: Mapping[str, str] | None = None) -> Path | None:
    """Append to the file $GITHUB_STEP_SUMMARY names; None (nothing written) when it is not set."""
    target = (os.environ if environ is None else environ).get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    path = Path(target)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(markdown + "\n")
    return path


def annotations(records: Sequence[CheckRecord], *, root: Path | None = None) -> list[str]:
    """`::error file=...,line=...,title=...::message` per failure, `::warning` per unstable check. The
    line is the test function's `def`, found in `root / file` when that file exists."""
    commands = []
    for record in records:
        level = {Status.FAILED: "error", Status.UNSTABLE: "warning"}.get(record.outcome)
        if level is None:
            continue
        file, _, rest = record.test_id.partition("::")
        props = [f"file={escape_property(file)}"] if rest else []
        line = _def_line((root or Path.cwd()) / file, rest.split("::")[-1].split("[")[0]) if rest else None
        props += [f"line={line}"] if line else []
        props.append(f"title={escape_property(f'zimage-qa {record.family.value}: {record.case}')}")
        message = record.message or f"{record.test_id} {record.outcome.value}"
        commands.append(f"::{level} {','.join(props)}::{escape_data(message)}")
    return commands


def _def_line(path: Path, function: str) -> int | None:
    if not function:
        return None
    pattern = re.compile(rf"^\s*(?:async\s+)?def\s+{re.escape(function)}\s*\(")
    try:
        with path.open(encoding="utf-8") as handle:
            return next((n for n, text in enumerate(handle, 1) if pattern.match(text)), None)
    except (OSError, UnicodeDecodeError):
        return None


def publish(
    records: Sequence[CheckRecord],
    *,
    header: Mapping[str, object] | None = None,
    report: str | None = None,
    root: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    """Everything GitHub Actions gets at session end: appends the job summary when $GITHUB_STEP_SUMMARY
    is set, and returns the annotation lines to print on stdout when $GITHUB_ACTIONS is set (else [])."""
    env = os.environ if environ is None else environ
    append_step_summary(step_summary(records, header=header, report=report), env)
    return annotations(records, root=root) if env.get("GITHUB_ACTIONS") == "true" else []
