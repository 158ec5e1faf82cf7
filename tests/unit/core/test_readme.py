"""The README's options table matches the plugin's options, and the quickstart shows the two commands."""

from __future__ import annotations

from pathlib import Path

from zimage_qa.options import options_table

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_options_table_matches_the_plugin() -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- options-table")
    table = text[text.index("\n", start) + 1 : text.index("<!-- /options-table -->")].strip()
    assert table == options_table(), "README options table is stale; replace it with:\n" + options_table()


def test_readme_quickstart_has_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert 'pip install -e ".[dev]"' in text
    assert "\npytest -m gpu " in text
    assert "\npytest " in text
