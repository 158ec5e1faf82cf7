"""The installed gate as a team runs it: `python -m pytest --pyargs zimage_qa.gate -m gpu` in a fresh process,
from a folder of their own, with none of this run's `ZQA_*`/`PYTEST_*` settings and a device lock apart."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def run_installed_gate(
    folder: Path, *args: str, env: Mapping[str, str] | None = None, timeout: int = 600
) -> subprocess.CompletedProcess[str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("ZQA_", "PYTEST_"))}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--pyargs",
            "zimage_qa.gate",
            "-m",
            "gpu",
            "-p",
            "no:cacheprovider",
            *args,
        ],
        cwd=folder,
        env={**keep, "ZQA_LOCK_DIR": str(folder / "locks"), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
