"""ModelScope weights: the cache is looked up by modelscope itself (`snapshot_download(..., local_files_only=True)`),
a reused legacy folder must record the asked revision, and offline means no download."""

from __future__ import annotations

import builtins
from pathlib import Path

import pytest

from zimage_qa.errors import QAUsageError
from zimage_qa.models import pretrained
from zimage_qa.models.pretrained import NotInCache, modelscope_cached, modelscope_snapshot, same_revision

pytest.importorskip("modelscope", reason="the [modelscope] extra (part of [dev]) is not installed")

MODEL = "Tongyi-MAI/Z-Image-Turbo"


def folder(path: Path, record: str | None = None) -> Path:
    path.mkdir(parents=True)
    (path / "model_index.json").write_text('{"_class_name": "ZImagePipeline"}')
    if record is not None:
        (path / ".mv").write_text(record)
    return path


def snapshot(root: Path, commit: str, *refs: str, model: str = MODEL) -> Path:
    """modelscope_hub's layout: `models/<owner>--<name>/snapshots/<commit>/` and `refs/<name>` -> commit."""
    repo = root / "models" / model.replace("/", "--")
    made = folder(repo / "snapshots" / commit)
    (repo / "refs").mkdir(exist_ok=True)
    for ref in refs:
        (repo / "refs" / ref).write_text(commit)
    return made


@pytest.fixture
def no_modelscope(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def refuse(name: str, *args: object, **kwargs: object) -> object:
        if name == "modelscope" or name.startswith("modelscope."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", refuse)
    monkeypatch.setattr(pretrained, "modelscope_installed", lambda: False)


def test_modelscope_finds_the_snapshot_of_the_asked_commit(tmp_path: Path) -> None:
    wanted = snapshot(tmp_path, "0123456789abcdef0123")
    assert modelscope_cached(MODEL, "0123456789abcdef0123", tmp_path) == wanted
    assert modelscope_cached(MODEL, None, tmp_path) == wanted  # the only cached one


def test_a_revision_the_cache_lacks_names_where_and_how(tmp_path: Path) -> None:
    snapshot(tmp_path, "0123456789abcdef0123")
    with pytest.raises(
        NotInCache,
        match=r"modelscope:.*@v2 is not in the ModelScope cache at .*fetch it first: "
        r"`modelscope download --model Tongyi-MAI/Z-Image-Turbo --revision v2 --include",
    ):
        modelscope_cached(MODEL, "v2", tmp_path)


def test_a_legacy_folder_is_used_only_with_the_recorded_revision(tmp_path: Path) -> None:
    old = folder(tmp_path / "models" / "Tongyi-MAI" / "Z-Image-Turbo", "Revision:v1.0,CreatedAt:1")
    assert modelscope_cached(MODEL, "v1.0", tmp_path) == old
    assert modelscope_cached(MODEL, None, tmp_path) == old
    with pytest.raises(QAUsageError, match=r"records revision 'v1\.0', not 'v2\.0'; .*re-download"):
        modelscope_cached(MODEL, "v2.0", tmp_path)


def test_commit_prefixes_match_names_do_not() -> None:
    assert same_revision("0123456789abcdef", "0123456")
    assert not same_revision("0123456789abcdef", "012345")  # too short to be a commit prefix
    assert not same_revision("v1.0", "v1")
    assert same_revision("master", "master")


def test_without_the_package_the_extra_is_named(tmp_path: Path, no_modelscope: None) -> None:
    snapshot(tmp_path, "0123456789abcdef0123")
    with pytest.raises(QAUsageError, match=r"pip install 'zimage-qa\[modelscope\]'"):
        modelscope_cached(MODEL, None, tmp_path)


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


def test_a_download_landing_in_a_legacy_folder_of_another_revision_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """modelscope reuses a legacy folder whatever revision was asked: the loader checks what came back."""
    import huggingface_hub.constants as constants
    import modelscope

    old = folder(tmp_path / "elsewhere" / "Z-Image-Turbo", "Revision:v1.0,CreatedAt:1")
    monkeypatch.setattr(modelscope, "snapshot_download", lambda model_id, **kwargs: str(old))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    with pytest.raises(QAUsageError, match=r"records revision 'v1\.0', not 'v2\.0'"):
        modelscope_snapshot(MODEL, "v2.0")
    assert modelscope_snapshot(MODEL, "v1.0") == old


def test_the_cache_root_follows_modelscope(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path))
    assert pretrained.modelscope_cache_root() == tmp_path
    monkeypatch.delenv("MODELSCOPE_CACHE")
    assert pretrained.modelscope_cache_root() == Path.home() / ".cache" / "modelscope"
