"""The report opens in a real headless browser (Chromium) with nothing on the console, and the DOM it
builds holds what the page promises: failures first, hostile text as text."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER = next((found for name in BROWSERS if (found := shutil.which(name))), None)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-logging=stderr",
    "--v=0",
)
# Chromium logs every console message as '...:INFO:CONSOLE:<line>] "<text>", source: ...'.
CONSOLE = re.compile(r":CONSOLE[:(]|Uncaught")

pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="no Chromium on PATH (install Debian's `chromium`; .ci/run does)"
)


def start(page: Path, profile: Path) -> subprocess.Popen[str]:
    assert BROWSER is not None
    command = [BROWSER, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen[str]) -> tuple[str, list[str]]:
    """The rendered DOM and the console lines of one page."""
    try:
        dom, log = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert process.returncode == 0, log[-2000:]
    return dom, [line for line in log.splitlines() if CONSOLE.search(line)]


def test_the_report_opens_with_no_console_errors(written: Path, tmp_path: Path) -> None:
    control = tmp_path / "control.html"  # the harness must see a console error when there is one
    control.write_text(
        "<!DOCTYPE html><html><body><p>x</p><script>missing_function();</script></body></html>"
    )
    report, broken = start(written, tmp_path / "profile-report"), start(control, tmp_path / "profile-control")
    dom, console = finish(report)
    _, control_console = finish(broken)
    assert any("Uncaught ReferenceError" in line for line in control_console), control_console

    assert console == []
    assert "<title>zimage-qa review report: 3 failed, 1 unstable, 2 not run, 3 passed</title>" in dom
    rows = re.findall(r'<tr id="[^"]+" class="case o-(\w+)">', dom)
    assert len(rows) == 9 and rows[0] == "failed"
    assert dom.index('id="failures"') < dom.index('id="family-latency"')
    assert "<script" not in dom and 'onerror="' not in dom  # hostile text stayed text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert 'src="golden/apple-s42/diff.png"' in dom
