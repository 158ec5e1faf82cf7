"""A gate run on a saved-pipeline folder records that folder's content identity beside the label, and
`zqa history` shows a change of it (new weights in the same folder) as an event on the timeline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from installed_gate import run_installed_gate

from zimage_qa.models.profiles import load_model, resolve_spec


def gate(folder: Path, cwd: Path, out: str) -> dict[str, Any]:
    result = run_installed_gate(
        cwd,
        "--qa-model",
        str(folder),
        "--qa-scenarios",
        "512-simple",
        "-k",
        "test_latency[",
        "--benchmark-json",
        out,
    )
    assert (cwd / out).is_file(), result.stdout[-3000:]
    data: dict[str, Any] = json.loads((cwd / out).read_text())
    return data


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_records_carry_the_folder_identity_and_history_shows_its_change(tmp_path: Path) -> None:
    folder = tmp_path / "zimage"
    model = load_model(resolve_spec("reference"))
    model.pipe.save_pretrained(folder, safe_serialization=True)
    first = gate(folder, tmp_path, "run1.json")["benchmarks"][0]["extra_info"]
    assert (
        first["model"] == str(folder)
        and first["weights"].startswith("sha256:")
        and first["weights_kind"] == "sha256"
    )

    with torch.no_grad():  # new weights in the same folder: the label stays, the identity must not
        for parameter in model.pipe.transformer.parameters():
            parameter.mul_(1.01)
    model.pipe.save_pretrained(folder, safe_serialization=True)
    second = gate(folder, tmp_path, "run2.json")["benchmarks"][0]["extra_info"]
    assert second["model"] == first["model"] and second["weights"] != first["weights"]

    history = subprocess.run(
        [
            sys.executable,
            "-m",
            "zimage_qa.cli",
            "history",
            str(tmp_path / "run1.json"),
            str(tmp_path / "run2.json"),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert history.returncode in (0, 1), history.stderr
    events = json.loads(history.stdout)["events"]
    assert any("weights" in json.dumps(event) for event in events), events
