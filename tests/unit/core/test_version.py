"""One version: pyproject, `zimage_qa.__version__` (what `zqa --version` prints) and the CHANGELOG's top section."""

from __future__ import annotations

import re
from pathlib import Path

import zimage_qa
from zimage_qa.config import read_toml

ROOT = Path(__file__).resolve().parents[3]


def test_pyproject_the_package_and_the_changelog_name_one_version() -> None:
    project = read_toml(ROOT / "pyproject.toml")["project"]
    top = re.search(r"^## (\S+)", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), re.MULTILINE)
    assert top is not None
    assert project["version"] == zimage_qa.__version__ == top.group(1)
