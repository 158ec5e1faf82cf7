"""Profiles: what --qa-model names, the reference model's promises, and the real-weights loading path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from zimage_qa.errors import QAUsageError
from zimage_qa.models.profiles import LoadedModel, ProfileKind, load_model, resolve_spec

PROMPT = "A red apple on a table"


@pytest.fixture(scope="module")
def reference() -> LoadedModel:
    return load_model(resolve_spec("reference"))


def pixels(model: LoadedModel, seed: int = 42, size: int = 256) -> np.ndarray:
    return np.asarray(model.generate(PROMPT, size, size, 8, seed))


def assert_same_picture(expected: np.ndarray, actual: np.ndarray) -> None:
    """Weights round-tripped through safetensors are bit-equal, but a freshly loaded transformer may sum
    in another order (1e-6 apart). The reference flow is shaped to be sensitive to its input (so that
    every stage shows in the picture), which turns that into a few levels on rare pixels: the same
    picture, not noise (a real break moves most pixels by tens of levels)."""
    diff = np.abs(expected.astype(np.int16) - actual.astype(np.int16))
    assert diff.max() <= 8, f"max pixel difference {diff.max()}"
    assert diff.mean() < 0.5, f"mean pixel difference {diff.mean():.2f}"


@pytest.mark.parametrize(
    ("value", "kind", "label"),
    [
        ("reference", ProfileKind.REFERENCE, "reference"),
        ("synthetic", ProfileKind.SYNTHETIC, "synthetic"),
        ("Tongyi-MAI/Z-Image-Turbo", ProfileKind.HUGGINGFACE, "Tongyi-MAI/Z-Image-Turbo"),
        (
            "modelscope:Tongyi-MAI/Z-Image-Turbo",
            ProfileKind.MODELSCOPE,
            "modelscope:Tongyi-MAI/Z-Image-Turbo",
        ),
    ],
)
def test_resolve_spec_kinds(value: str, kind: ProfileKind, label: str) -> None:
    spec = resolve_spec(value)
    assert spec.kind is kind
    assert spec.label == label
    assert spec.renders_text is (kind in (ProfileKind.HUGGINGFACE, ProfileKind.MODELSCOPE))


def test_resolve_spec_keeps_revision_and_existing_folder(tmp_path: Path) -> None:
    assert resolve_spec("org/name", "abc123").label == "org/name@abc123"
    spec = resolve_spec(str(tmp_path))
    assert spec.kind is ProfileKind.LOCAL and spec.profile == "pretrained"


@pytest.mark.parametrize(
    ("value", "revision", "message"),
    [
        ("", None, "--qa-model is empty"),
        ("/no/such/folder", None, "model folder /no/such/folder does not exist"),
        ("./missing", None, "does not exist"),
        ("just-a-name", None, "is neither a built-in profile, an existing folder, nor an id like org/name"),
        ("modelscope:bad", None, "neither a built-in profile"),
        ("reference", "v1", "--qa-revision applies to real weights"),
    ],
)
def test_resolve_spec_refuses_clearly(value: str, revision: str | None, message: str) -> None:
    with pytest.raises(QAUsageError, match=message) as caught:
        resolve_spec(value, revision)
    assert "\n" not in str(caught.value)


def test_reference_same_seed_same_image_other_seed_other_image(reference: LoadedModel) -> None:
    first, again, other = pixels(reference), pixels(reference), pixels(reference, seed=43)
    assert np.array_equal(first, again)
    assert np.abs(first.astype(float) - other).mean() > 5.0
    assert first.std() > 10.0  # structured noise, not a flat picture


def test_reference_is_identical_across_builds(reference: LoadedModel) -> None:
    rebuilt = load_model(resolve_spec("reference"))
    assert np.array_equal(pixels(reference), pixels(rebuilt))


def test_saved_pipeline_loads_back_and_makes_the_same_picture(reference: LoadedModel, tmp_path: Path) -> None:
    folder = tmp_path / "zimage"
    reference.pipe.save_pretrained(folder, safe_serialization=True)
    assert not list(folder.rglob("*.bin")) and list(folder.rglob("*.safetensors"))
    loaded = load_model(resolve_spec(str(folder)))
    assert loaded.spec.kind is ProfileKind.LOCAL
    assert type(loaded.pipe).__name__ == "ZImagePipeline"
    assert_same_picture(pixels(reference), pixels(loaded))


def test_folder_without_pipeline_is_refused(tmp_path: Path) -> None:
    with pytest.raises(QAUsageError, match=r"holds no diffusers pipeline \(no model_index\.json\)"):
        load_model(resolve_spec(str(tmp_path)))


def test_folder_with_another_pipeline_class_is_refused(tmp_path: Path) -> None:
    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "CustomPipeline"}))
    with pytest.raises(QAUsageError, match="describes a 'CustomPipeline', not a ZImagePipeline"):
        load_model(resolve_spec(str(tmp_path)))


def test_pickled_weights_are_never_loaded(reference: LoadedModel, tmp_path: Path) -> None:
    folder = tmp_path / "pickled"
    reference.pipe.save_pretrained(folder, safe_serialization=False)
    with pytest.raises(QAUsageError, match="could not be loaded as a safetensors Z-Image pipeline"):
        load_model(resolve_spec(str(folder)))


def test_hub_id_missing_offline_names_what_and_where(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(QAUsageError) as caught:
        load_model(resolve_spec("Tongyi-MAI/Z-Image-Turbo", "v1"))
    message = str(caught.value)
    assert "Tongyi-MAI/Z-Image-Turbo@v1" in message and str(tmp_path / "hub") in message
    assert "HF_HUB_OFFLINE" in message


def test_hub_snapshot_in_cache_loads_offline(
    reference: LoadedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cached snapshot is found with the network off, with its revision, and loads for real."""
    import huggingface_hub.constants as constants

    cache = tmp_path / "hub"
    commit = "0" * 40
    snapshot = cache / "models--acme--zimage-small" / "snapshots" / commit
    reference.pipe.save_pretrained(snapshot, safe_serialization=True)
    (cache / "models--acme--zimage-small" / "refs").mkdir(parents=True)
    (cache / "models--acme--zimage-small" / "refs" / "main").write_text(commit)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    loaded = load_model(resolve_spec("acme/zimage-small", "main"))
    assert_same_picture(pixels(reference), pixels(loaded))


def test_modelscope_without_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_modelscope(name: str, *args: object, **kwargs: object) -> object:
        if name == "modelscope":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_modelscope)
    with pytest.raises(QAUsageError, match=r"pip install 'zimage-qa\[modelscope\]'"):
        load_model(resolve_spec("modelscope:Tongyi-MAI/Z-Image-Turbo"))


def test_synthetic_refuses_without_cuda() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the refusal path cannot be shown here")
    with pytest.raises(QAUsageError, match="the synthetic profile needs a CUDA GPU and none is visible"):
        load_model(resolve_spec("synthetic"))


def test_an_offloaded_deployment_loads_its_weights_into_host_memory(
    reference: LoadedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 16 GB card cannot hold the 20 GB pipeline that it serves offloaded: the weights stay on the host
    and the offload hooks move each model when it runs. Resident deployments are moved as before."""
    from diffusers import ZImagePipeline

    folder = tmp_path / "zimage"
    reference.pipe.save_pretrained(folder, safe_serialization=True)
    moves: list[object] = []
    original = ZImagePipeline.to

    def to(self: object, *args: object, **kwargs: object) -> object:
        moves.append(args[0] if args else kwargs.get("device"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ZImagePipeline, "to", to)
    load_model(resolve_spec(str(folder)), "cpu", on_host=True)
    assert moves == []
    load_model(resolve_spec(str(folder)), "cpu")
    assert moves == ["cpu"]


@pytest.mark.parametrize(
    ("variant", "place"),
    [
        ("offload=model", False),
        ("offload=sequential", False),
        ("quantize=torchao:int8wo,offload=model", True),
        ("attention=native", True),
        ("", True),
    ],
)
def test_the_gate_loads_onto_the_device_only_what_it_serves_resident(
    reference: LoadedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variant: str, place: bool
) -> None:
    """Offloaded weights stay on the host, unless the variant also quantizes: quantization runs on the loaded
    weights, on the device (torchao int4wo's default layout and bitsandbytes are CUDA-only)."""
    from zimage_qa.config import load_config
    from zimage_qa.models import pretrained
    from zimage_qa.models.variant import Variant
    from zimage_qa.options import GateOptions
    from zimage_qa.session import GateSession

    folder = tmp_path / "zimage"
    reference.pipe.save_pretrained(folder, safe_serialization=True)
    seen: list[bool] = []
    original = pretrained.load_pretrained

    def load(path: Path, device: str, dtype: object, *, place: bool = True) -> object:
        seen.append(place)
        return original(path, device, dtype, place=place)

    monkeypatch.setattr(pretrained, "load_pretrained", load)
    options = GateOptions(variant=Variant.parse(variant))
    session = GateSession(options, load_config(), resolve_spec(str(folder)))
    loaded = session._load(session.spec)
    assert seen == [place] and type(loaded.pipe).__name__ == "ZImagePipeline"
