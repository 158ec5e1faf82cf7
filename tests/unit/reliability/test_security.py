"""Nothing is let in: a model folder's Python files are never executed and pickled weights never loaded.

The rest of the security census lives beside the code it guards: safetensors only and no pickles in
tests/unit/models/test_profiles.py (test_pickled_weights_are_never_loaded, test_folder_with_another_
pipeline_class_is_refused), EasyOCR's pickled weights only from the configured folder with pinned SHA-256
in tests/unit/glyphs/test_easy.py (test_a_file_with_another_hash_is_refused_and_not_staged,
test_a_file_with_no_pinned_hash_is_refused), names from ids confined in test_killed_writes.py here, and
HTML escaping in the report's own tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zimage_qa.errors import QAUsageError
from zimage_qa.models.profiles import load_model, resolve_spec

PAYLOAD = "from pathlib import Path\nPath({marker!r}).write_text('ran')\nclass {cls}:\n    pass\n"


def _folder(tmp_path: Path, index: dict[str, object], module: str, cls: str) -> tuple[Path, Path]:
    folder, marker = tmp_path / "model", tmp_path / "executed"
    folder.mkdir()
    (folder / "model_index.json").write_text(json.dumps(index))
    (folder / f"{module}.py").write_text(PAYLOAD.format(marker=str(marker), cls=cls))
    (folder / module).mkdir()
    (folder / module / f"{module}.py").write_text(PAYLOAD.format(marker=str(marker), cls=cls))
    (folder / module / "config.json").write_text(json.dumps({"_class_name": cls}))
    return folder, marker


def test_a_custom_pipeline_file_in_the_model_folder_is_never_executed(tmp_path: Path) -> None:
    folder, marker = _folder(
        tmp_path, {"_class_name": ["evil_pipeline", "EvilPipeline"]}, "evil_pipeline", "EvilPipeline"
    )
    with pytest.raises(QAUsageError, match="never runs custom pipeline code"):
        load_model(resolve_spec(str(folder)))
    assert not marker.exists()


def test_a_custom_component_file_in_a_zimage_folder_is_never_executed(tmp_path: Path) -> None:
    index: dict[str, object] = {
        "_class_name": "ZImagePipeline",
        "_diffusers_version": "0.42.1",
        "transformer": ["evil", "Evil"],
        "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
    }
    folder, marker = _folder(tmp_path, index, "evil", "Evil")
    with pytest.raises(QAUsageError, match="could not be loaded as a safetensors Z-Image pipeline"):
        load_model(resolve_spec(str(folder)))
    assert not marker.exists()
