from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from golden_labelled_set import load_photo
from PIL import Image

from zimage_qa.errors import QAUsageError
from zimage_qa.golden.diff import diff_image
from zimage_qa.golden.record import GoldenCase, GoldenRecord, make_record
from zimage_qa.golden.store import GoldenStore
from zimage_qa.measure.fingerprint import device_slug


@pytest.fixture(scope="module")
def record() -> GoldenRecord:
    return make_record(load_photo("astronaut"), GoldenCase("astro/1", 512, 512, prompt="p", seed=1, steps=9))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (None, "cpu"),
        ("", "cpu"),
        ("NVIDIA H100 80GB HBM3", "nvidia-h100-80gb-hbm3"),
        ("NVIDIA GeForce RTX 4090", "nvidia-geforce-rtx-4090"),
        ("  ../../etc  ", "etc"),
    ],
)
def test_device_slug(name: str | None, expected: str) -> None:
    assert device_slug(name) == expected


def test_layout_write_load_and_exists(tmp_path: Path, record: GoldenRecord) -> None:
    store = GoldenStore(tmp_path / "golden", "reference", "cpu")
    assert not store.exists()
    assert store.load("astro/1") is None
    assert "no golden set for profile 'reference' on device class 'cpu'" in store.missing_message()
    path = store.write("astro/1", record)
    assert path == tmp_path / "golden" / "reference" / "cpu" / "astro_1.json"
    assert store.exists()
    assert store.case_ids() == ["astro_1"]
    assert store.load("astro/1") == record
    assert not list(path.parent.glob("*.tmp"))
    assert not GoldenStore(tmp_path / "golden", "reference", "nvidia-h100-80gb-hbm3").exists()


def test_names_cannot_escape_the_root(tmp_path: Path) -> None:
    store = GoldenStore(tmp_path, "../../up", "..")
    assert tmp_path in store.path("../../etc/passwd").parents


def test_a_record_under_the_wrong_name_is_refused(tmp_path: Path, record: GoldenRecord) -> None:
    store = GoldenStore(tmp_path, "reference", "cpu")
    store.path("other").parent.mkdir(parents=True)
    store.path("other").write_text(record.to_json())
    with pytest.raises(QAUsageError, match="holds case 'astro/1', not 'other'"):
        store.load("other")


def test_a_malformed_record_names_its_file(tmp_path: Path, record: GoldenRecord) -> None:
    store = GoldenStore(tmp_path, "reference", "cpu")
    document = json.loads(record.to_json())
    del document["measures"]["phash"]
    store.path("astro/1").parent.mkdir(parents=True)
    store.path("astro/1").write_text(json.dumps(document))
    with pytest.raises(QAUsageError, match=r"astro_1\.json: malformed golden record"):
        store.load("astro/1")


def test_diff_image_shows_where_the_picture_changed(record: GoldenRecord) -> None:
    changed = load_photo("astronaut").copy()
    changed[:128, :128] = (255, 0, 255)
    image = diff_image(record, changed, panel=128)
    assert isinstance(image, Image.Image)
    assert image.size == (3 * 128 + 2 * 4, 128)
    heat = np.asarray(image)[:, 2 * 132 :]
    assert heat[:32, :32].mean() > 150  # the changed corner glows
    assert heat[96:, 96:].mean() < 20  # the rest stays dark
