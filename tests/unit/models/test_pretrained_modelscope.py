"""ModelScope caches: every layout honours --qa-revision or refuses clearly; no modelscope package needed
to load from the cache; offline means no download (fake cache layouts, modelscope not required)."""

from __future__ import annotations

import builtins
from pathlib import Path

import pytest

from zimage_qa.errors import QAUsageError
from zimage_qa.models import pretrained
from zimage_qa.models.pretrained import NotInCache, modelscope_cached, modelscope_snapshot, same_revision

MODEL = "Tongyi-MAI/Z-Image-Turbo"


def folder(path: Path, record: str | None = None) -> Path:
    path.mkdir(parents=True)
    (path / "model_index.json").write_text('{"_class_name": "ZImagePipeline"}')
    if record is not None:
        (path / ".mv").write_text(record)
    return path


def snapshot(root: Path, revision: str, model: str = MODEL) -> Path:
    return folder(root / "models" / model.replace("/", "--") / "snapshots" / revision)


@pytest.fixture
def no_modelscope(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def refuse(name: str, *args: object, **kwargs: object) -> object:
        if name == "modelscope" or name.startswith("modelscope."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", refuse)


def test_current_layout_serves_the_asked_revision(tmp_path: Path) -> None:
    snapshot(tmp_path, "master")
    wanted = snapshot(tmp_path, "v1.0")
    assert modelscope_cached(MODEL, "v1.0", tmp_path) == wanted
    assert modelscope_cached(MODEL, None, tmp_path).name == "master"


def test_current_layout_without_the_revision_names_where_and_how(tmp_path: Path) -> None:
    snapshot(tmp_path, "master")
    with pytest.raises(NotInCache) as caught:
        modelscope_cached(MODEL, "v2", tmp_path)
    message = str(caught.value)
    assert f"modelscope:{MODEL}@v2 is not in the ModelScope cache at {tmp_path}" in message
    assert f"`modelscope download --model {MODEL} --revision v2 --include '*.json'" in message


def test_no_revision_takes_the_only_one_and_refuses_to_guess_among_several(tmp_path: Path) -> None:
    only = snapshot(tmp_path, "v1")
    assert modelscope_cached(MODEL, None, tmp_path) == only
    snapshot(tmp_path, "v2")
    with pytest.raises(QAUsageError, match=r"holds revisions v1, v2 of .* pass --qa-revision"):
        modelscope_cached(MODEL, None, tmp_path)


@pytest.mark.parametrize(
    "legacy",
    [
        "hub/Tongyi-MAI/Z-Image-Turbo",
        "Tongyi-MAI/Z-Image-Turbo",
        "models/Tongyi-MAI/Z-Image-Turbo",
        "hub/models/Tongyi-MAI/Z-Image-Turbo",
    ],
)
def test_legacy_layouts_are_used_only_with_the_recorded_revision(tmp_path: Path, legacy: str) -> None:
    old = folder(tmp_path / legacy, "Revision:v1.0,CreatedAt:1712345678")
    assert modelscope_cached(MODEL, "v1.0", tmp_path) == old
    assert modelscope_cached(MODEL, None, tmp_path) == old
    with pytest.raises(QAUsageError) as caught:
        modelscope_cached(MODEL, "v2.0", tmp_path)
    message = str(caught.value)
    assert f"the ModelScope cache at {old} (legacy layout) records revision 'v1.0', not 'v2.0'" in message
    assert (
        "move it away and re-download: `modelscope download --model" in message
        and "--revision v2.0" in message
    )


def test_a_legacy_folder_without_a_record_is_refused_for_a_revision(tmp_path: Path) -> None:
    old = folder(tmp_path / "hub" / "Tongyi-MAI" / "Z-Image-Turbo")
    with pytest.raises(QAUsageError, match=f"the ModelScope cache at {old} .*holds no revision record"):
        modelscope_cached(MODEL, "v1.0", tmp_path)


def test_dots_in_a_legacy_name_are_written_as_triple_underscores(tmp_path: Path) -> None:
    old = folder(tmp_path / "models" / "Qwen" / "Qwen3___5-0___8B", "Revision:abc1234,CreatedAt:1")
    assert modelscope_cached("Qwen/Qwen3.5-0.8B", "abc1234", tmp_path) == old


def test_commit_prefixes_match_names_do_not() -> None:
    assert same_revision("0123456789abcdef", "0123456")
    assert not same_revision("0123456789abcdef", "012345")  # too short to be a commit prefix
    assert not same_revision("v1.0", "v1")
    assert same_revision("master", "master")


def test_cached_weights_load_without_the_modelscope_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_modelscope: None
) -> None:
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path))
    wanted = snapshot(tmp_path, "v1.0")
    assert modelscope_snapshot(MODEL, "v1.0") == wanted


def test_offline_means_no_download_and_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub.constants as constants

    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(
        QAUsageError, match=r"not in the ModelScope cache at .*HF_HUB_OFFLINE is set"
    ) as caught:
        modelscope_snapshot(MODEL, "v1.0")
    assert str(tmp_path) in str(caught.value)


def test_online_without_the_package_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_modelscope: None
) -> None:
    import huggingface_hub.constants as constants

    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    with pytest.raises(
        QAUsageError, match=r"needs the modelscope package; .*pip install 'zimage-qa\[modelscope\]'"
    ):
        modelscope_snapshot(MODEL, None)


def test_a_download_landing_in_a_legacy_folder_of_another_revision_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """modelscope reuses a legacy folder whatever revision was asked: the loader checks what came back."""
    import sys
    import types

    import huggingface_hub.constants as constants

    old = folder(tmp_path / "elsewhere" / "Z-Image-Turbo", "Revision:v1.0,CreatedAt:1")
    fake = types.ModuleType("modelscope")
    fake.snapshot_download = lambda model_id, **kwargs: str(old)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "modelscope", fake)
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    with pytest.raises(QAUsageError, match=r"records revision 'v1\.0', not 'v2\.0'"):
        modelscope_snapshot(MODEL, "v2.0")
    assert modelscope_snapshot(MODEL, "v1.0") == old


def test_the_cache_root_follows_modelscope(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path))
    assert pretrained.modelscope_cache_root() == tmp_path
    monkeypatch.delenv("MODELSCOPE_CACHE")
    assert pretrained.modelscope_cache_root() == Path.home() / ".cache" / "modelscope"
