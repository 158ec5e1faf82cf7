"""Hooks that a conftest.py or plugin may implement to extend zimage-qa."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.hookspec(firstresult=True)
def pytest_zqa_loader() -> Any:
    """Return a callable `(spec, device, dtype) -> zimage_qa.models.profiles.LoadedModel` to load the model
    instead of the built-in profiles (a serving stack's own loader, or a stub in zimage-qa's own tests)."""
