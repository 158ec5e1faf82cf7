from __future__ import annotations

import pytest

from zimage_qa.errors import QAUsageError
from zimage_qa.measure.units import format_bytes, format_seconds, parse_duration, parse_percent, parse_size


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1.6s", 1.6), ("850ms", 0.85), ("850 ms", 0.85), ("2min", 120.0), ("250us", 250e-6), (" 3S ", 3.0)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["1.6", "fast", "-1s", "1.6 sec", "", "1.6h", "nan s"])
def test_parse_duration_rejects_with_the_value_and_the_forms(text: str) -> None:
    with pytest.raises(QAUsageError) as info:
        parse_duration(text)
    assert repr(text) in str(info.value)
    assert "'850ms'" in str(info.value)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("24GiB", 24 * 2**30),
        ("512MiB", 512 * 2**20),
        ("1.5GB", 1_500_000_000),
        ("64 kib", 65536),
        ("10B", 10),
    ],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["24", "24G", "lots", "-1GiB", "1.5 GiBs"])
def test_parse_size_rejects_with_the_value_and_the_forms(text: str) -> None:
    with pytest.raises(QAUsageError) as info:
        parse_size(text)
    assert repr(text) in str(info.value)
    assert "GiB" in str(info.value)


def test_parse_percent() -> None:
    assert parse_percent("5%") == pytest.approx(0.05)
    assert parse_percent("0.05") == pytest.approx(0.05)
    with pytest.raises(QAUsageError, match="percentage"):
        parse_percent("five")


def test_formatting() -> None:
    assert format_bytes(21.69 * 2**30) == "21.69 GiB"
    assert format_bytes(512 * 2**20) == "512.0 MiB"
    assert format_bytes(-3 * 2**10) == "-3.0 KiB"
    assert format_bytes(12) == "12 B"
    assert format_bytes(2**50) == "1024.00 TiB"
    assert format_seconds(1.714) == "1.71 s"
    assert format_seconds(0.476) == "476 ms"
    assert format_seconds(0.00325) == "3.25 ms"
    assert format_seconds(0.95, "s") == "0.95 s"
