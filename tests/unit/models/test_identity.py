"""The identity of the weights that loaded: snapshot commits, ModelScope revisions, content hashes."""

from __future__ import annotations

import json
import shutil
import struct
import time
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from zimage_qa.errors import QAUsageError
from zimage_qa.models import identity
from zimage_qa.models.identity import IdentityKind, content_hash, recorded_revision
from zimage_qa.models.profiles import identify, load_model, resolve_spec

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference pipeline as save_pretrained writes it (safetensors), once for the module."""
    folder = tmp_path_factory.mktemp("saved") / "zimage"
    load_model(resolve_spec("reference")).pipe.save_pretrained(folder, safe_serialization=True)
    return folder


def copy(folder: Path, to: Path) -> Path:
    shutil.copytree(folder, to)
    return to


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_saved_pipeline_is_identified_by_its_content(saved: Path, tmp_path: Path) -> None:
    ident = identify(resolve_spec(str(saved)), saved)
    assert ident.kind is IdentityKind.CONTENT and ident.path == str(saved)
    assert ident.text == f"sha256:{content_hash(saved)}" and len(ident.value) == 64
    again = copy(saved, tmp_path / "again")
    (again / ".cache").mkdir()  # bookkeeping a hub leaves behind is not content
    (again / ".cache" / "x.json").write_text("{}")
    assert content_hash(again) == ident.value


def test_one_changed_weight_changes_the_identity(saved: Path, tmp_path: Path) -> None:
    changed = copy(saved, tmp_path / "changed")
    shard = sorted((changed / "transformer").glob("*.safetensors"))[0]
    flip_byte(shard, shard.stat().st_size - 1)  # the last tensor byte (small files are hashed whole)
    assert content_hash(changed) != content_hash(saved)


def test_a_changed_config_or_tokenizer_changes_the_identity(saved: Path, tmp_path: Path) -> None:
    changed = copy(saved, tmp_path / "config")
    config = changed / "scheduler" / "scheduler_config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "shift": 2.0}))
    assert content_hash(changed) != content_hash(saved)


def test_a_hugging_face_snapshot_is_identified_by_its_commit(saved: Path, tmp_path: Path) -> None:
    snapshot = copy(saved, tmp_path / "models--acme--z" / "snapshots" / COMMIT)
    ident = identify(resolve_spec("acme/z", "main"), snapshot)
    assert (ident.kind, ident.text, ident.short) == (
        IdentityKind.HF_COMMIT,
        f"hf:{COMMIT}",
        "hf:0123456789ab",
    )
    not_a_commit = copy(saved, tmp_path / "x" / "snapshots" / "main")
    assert identify(resolve_spec(str(not_a_commit)), not_a_commit).kind is IdentityKind.CONTENT


def test_a_modelscope_snapshot_carries_its_revision_and_content(saved: Path, tmp_path: Path) -> None:
    snapshot = copy(saved, tmp_path / "models" / "acme--z" / "snapshots" / "v1.0")
    ident = identify(resolve_spec("modelscope:acme/z", "v1.0"), snapshot)
    assert ident.kind is IdentityKind.MODELSCOPE_REVISION
    assert ident.text == f"modelscope:v1.0/sha256:{content_hash(saved)[:16]}"
    legacy = copy(saved, tmp_path / "hub" / "acme" / "z")
    assert identify(resolve_spec("modelscope:acme/z"), legacy).value.startswith("unrecorded/sha256:")


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ("Revision:v1.0.2,CreatedAt:1712345678", "v1.0.2"),
        ("master", "master"),
        ("CreatedAt:1712345678", None),
        ("", None),
    ],
)
def test_the_legacy_modelscope_revision_record_is_read(
    tmp_path: Path, record: str, expected: str | None
) -> None:
    (tmp_path / ".mv").write_text(record)
    assert recorded_revision(tmp_path) == expected


def test_no_record_means_no_revision(tmp_path: Path) -> None:
    assert recorded_revision(tmp_path) is None
    assert recorded_revision(tmp_path / "snapshots" / "abc") == "abc"


def test_built_in_profiles_are_identified_by_their_code() -> None:
    reference, synthetic = (
        identify(resolve_spec("reference"), None),
        identify(resolve_spec("synthetic"), None),
    )
    assert reference.text.startswith("reference:") and synthetic.text.startswith("synthetic:")
    assert reference.value != synthetic.value and len(reference.value) == 16
    assert identify(resolve_spec("reference"), None) == reference


def big_safetensors(path: Path, values: int) -> tuple[int, int]:
    """A one-tensor safetensors file; returns (data start, data length)."""
    save_file({"w": np.arange(values, dtype=np.float32)}, str(path))
    header = struct.unpack("<Q", path.read_bytes()[:8])[0]
    return 8 + header, values * 4


def test_large_shards_are_sampled_not_read_whole(tmp_path: Path) -> None:
    """Above the whole-file limit: header, size and SAMPLES blocks. A byte in a sampled block changes the
    hash; a byte between two samples does not (the documented price of not reading 33 GB)."""
    folder = tmp_path / "m"
    folder.mkdir()
    shard = folder / "model.safetensors"
    start, length = big_safetensors(shard, 1_000_000)
    base = content_hash(folder, full_hash_bytes=0)
    span = length - identity.SAMPLE_BYTES
    sampled = start + span * 7 // (identity.SAMPLES - 1) + 10
    between = start + span * 7 // (identity.SAMPLES - 1) + identity.SAMPLE_BYTES + 100
    flip_byte(shard, sampled)
    assert content_hash(folder, full_hash_bytes=0) != base
    flip_byte(shard, sampled)
    assert content_hash(folder, full_hash_bytes=0) == base
    flip_byte(shard, between)
    assert content_hash(folder, full_hash_bytes=0) == base
    assert content_hash(folder) != base  # under the limit the whole file counts


def test_a_large_sparse_shard_hashes_fast(tmp_path: Path) -> None:
    """8 GiB of (sparse) tensor data: sampling reads about 1 MiB, so this is far under a second."""
    folder = tmp_path / "big"
    folder.mkdir()
    header = json.dumps({"w": {"dtype": "U8", "shape": [8 * 2**30], "data_offsets": [0, 8 * 2**30]}}).encode()
    with (folder / "model.safetensors").open("wb") as handle:
        handle.write(struct.pack("<Q", len(header)) + header)
        handle.truncate(8 + len(header) + 8 * 2**30)
    started = time.perf_counter()
    content_hash(folder)
    assert time.perf_counter() - started < 5.0


@pytest.mark.parametrize("payload", [b"", b"\x01", struct.pack("<Q", 10**9) + b"{}"])
def test_a_broken_safetensors_file_is_named(tmp_path: Path, payload: bytes) -> None:
    (tmp_path / "model.safetensors").write_bytes(payload)
    with pytest.raises(QAUsageError, match=r"model\.safetensors is not a safetensors file"):
        content_hash(tmp_path, full_hash_bytes=-1)


def test_an_empty_folder_has_no_identity(tmp_path: Path) -> None:
    with pytest.raises(QAUsageError, match="holds no model files to identify"):
        content_hash(tmp_path)
