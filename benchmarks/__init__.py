"""Measurements of the gate itself, run from a checkout (not shipped in the wheel)."""
