"""Wires the zimage-qa plugin into this repository's test runs when it is not installed (pytest11 does it then)."""

from importlib.metadata import entry_points

if not any(ep.value == "zimage_qa.plugin" for ep in entry_points(group="pytest11")):
    pytest_plugins = ["zimage_qa.plugin"]
