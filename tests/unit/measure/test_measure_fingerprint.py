from __future__ import annotations

import json
import platform
from typing import TYPE_CHECKING

import pytest

from zimage_qa.measure.fingerprint import device_class, fingerprint, package_version

if TYPE_CHECKING:
    from tests.unit.measure.conftest import FakeNvml


def test_fingerprint_without_nvml_is_cpu(no_nvml: None) -> None:
    fp = fingerprint(use_torch=False)
    assert fp.gpus == ()
    assert device_class(fp) == "cpu"
    assert fp.python == platform.python_version()
    assert fp.torch == package_version("torch")
    assert fp.diffusers == package_version("diffusers")
    assert fp.cpu_count is not None
    assert fp.cpu_count >= 1
    data = json.loads(json.dumps(fp.to_dict()))
    assert data["device_class"] == "cpu"
    assert {"torch", "diffusers", "transformers", "modelscope", "cuda_runtime", "driver", "gpus"} <= set(data)


def test_fingerprint_with_a_gpu(fake_nvml: FakeNvml) -> None:
    fp = fingerprint(use_torch=False)
    assert [g.name for g in fp.gpus] == ["NVIDIA H100 80GB HBM3"]
    assert fp.gpus[0].compute_capability == "9.0"
    assert fp.gpus[0].memory_bytes == 80 * 2**30
    assert (fp.driver, fp.cuda_driver) == ("580.95.05", "13.0")
    assert device_class(fp, "cuda:0") == "NVIDIA H100 80GB HBM3"
    assert device_class(fp, "cpu") == "cpu"


def test_cuda_visible_devices_by_uuid(fake_nvml: FakeNvml, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-1234")
    assert device_class(fingerprint(use_torch=False), "cuda") == "NVIDIA H100 80GB HBM3"


def test_package_version_of_a_missing_package() -> None:
    assert package_version("surely-not-installed-zqa") is None
