"""`zqa doctor`: weights really present (revision included, the path named) and OCR engines that import."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from zimage_qa import doctor
from zimage_qa.models.profiles import load_model, resolve_spec
from zimage_qa.verdict import Status

COMMIT = "89abcdef0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("doctor") / "zimage"
    load_model(resolve_spec("reference")).pipe.save_pretrained(folder, safe_serialization=True)
    return folder


@pytest.fixture
def hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import huggingface_hub.constants as constants

    cache = tmp_path / "hub"
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return cache


def test_an_empty_hugging_face_cache_is_not_present(hf_cache: Path) -> None:
    verdict = doctor.weights_presence(resolve_spec("Tongyi-MAI/Z-Image-Turbo", "v1"))
    assert verdict.status is Status.FAILED and verdict.values["path"] == str(hf_cache)
    assert f"Tongyi-MAI/Z-Image-Turbo@v1 is not in the Hugging Face cache at {hf_cache}" in verdict.message
    assert "`hf download Tongyi-MAI/Z-Image-Turbo --revision v1 --include '*.json'" in verdict.message
    assert "resolves" not in verdict.message


def test_a_cached_snapshot_is_present_with_its_commit(saved: Path, hf_cache: Path) -> None:
    repo = hf_cache / "models--acme--zimage"
    shutil.copytree(saved, repo / "snapshots" / COMMIT)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    verdict = doctor.weights_presence(resolve_spec("acme/zimage", "main"))
    assert verdict.status is Status.PASSED, verdict.message
    assert (
        verdict.values["identity"] == f"hf:{COMMIT}" and str(repo / "snapshots" / COMMIT) in verdict.message
    )
    other = doctor.weights_presence(resolve_spec("acme/zimage", "v2"))
    assert (
        other.status is Status.FAILED and "acme/zimage@v2 is not in the Hugging Face cache" in other.message
    )


def test_a_folder_missing_a_shard_is_incomplete(saved: Path, tmp_path: Path) -> None:
    partial = shutil.copytree(saved, tmp_path / "partial")
    assert doctor.weights_presence(resolve_spec(str(partial))).status is Status.PASSED
    for shard in (partial / "vae").glob("*.safetensors"):
        shard.unlink()
    verdict = doctor.weights_presence(resolve_spec(str(partial)))
    assert verdict.status is Status.FAILED and "is incomplete: vae/*.safetensors missing" in verdict.message
    shutil.rmtree(partial / "transformer")
    assert "transformer/" in doctor.missing_weight_files(partial)


def test_a_sharded_index_names_the_missing_shard(tmp_path: Path) -> None:
    (tmp_path / "model_index.json").write_text(
        '{"_class_name": "ZImagePipeline", "transformer": ["diffusers", "X"]}'
    )
    part = tmp_path / "transformer"
    part.mkdir()
    (part / "config.json").write_text("{}")
    weight_map = '{"a": "m-1.safetensors", "b": "m-2.safetensors"}'
    (part / "diffusion_pytorch_model.safetensors.index.json").write_text(f'{{"weight_map": {weight_map}}}')
    (part / "m-1.safetensors").write_bytes(b"x")
    assert doctor.missing_weight_files(tmp_path) == ["transformer/m-2.safetensors"]


def test_modelscope_without_the_package_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path))
    monkeypatch.setitem(sys.modules, "modelscope", None)  # find_spec: not installed
    verdict = doctor.weights_presence(resolve_spec("modelscope:Tongyi-MAI/Z-Image-Turbo", "v1.0"))
    assert verdict.status is Status.FAILED and verdict.values["path"] == str(tmp_path)
    assert "needs ModelScope's cache lookup" in verdict.message
    assert "modelscope package is not installed: pip install 'zimage-qa[modelscope]'" in verdict.message


def test_modelscope_cache_of_another_revision_is_refused(
    saved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path))
    legacy = shutil.copytree(saved, tmp_path / "hub" / "acme" / "zimage")
    (legacy / ".mv").write_text("Revision:v1.0,CreatedAt:1")
    ok = doctor.weights_presence(resolve_spec("modelscope:acme/zimage", "v1.0"))
    assert ok.status is Status.PASSED and ok.values["identity"].startswith("modelscope:v1.0/sha256:")
    wrong = doctor.weights_presence(resolve_spec("modelscope:acme/zimage", "v2.0"))
    assert wrong.status is Status.FAILED and "records revision 'v1.0', not 'v2.0'" in wrong.message


def test_built_in_profiles_need_no_weights() -> None:
    verdict = doctor.weights_presence(resolve_spec("reference"))
    assert verdict.status is Status.PASSED and verdict.values["identity"].startswith("reference:")


@pytest.fixture
def fake_engines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Packages that fail at import the way OpenCV does without libGL, or that import fine."""
    bodies = {
        "zqa_ok_engine": "",
        "zqa_gl_engine": 'raise ImportError("libGL.so.1: cannot open shared object file: No such file or directory")',
        "zqa_os_engine": 'raise OSError("libgomp.so.1: cannot open shared object file: No such file or directory")',
        "zqa_odd_engine": 'raise OSError("libzqa-weird.so.3: cannot open shared object file")',
        "zqa_dep_engine": "import zqa_no_such_dependency",
        "zqa_bad_engine": 'raise RuntimeError("model file corrupt")',
    }
    for name, body in bodies.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(body + "\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in bodies:
        monkeypatch.delitem(sys.modules, name, raising=False)
    return {name.removeprefix("zqa_").removesuffix("_engine"): name for name in bodies}


def test_ocr_engines_must_import_and_name_the_missing_library(fake_engines: dict[str, str]) -> None:
    found = doctor.ocr_engines({**fake_engines, "absent": "zqa_not_installed_engine"})
    assert found["ok"].status is Status.PASSED
    assert found["absent"].status is Status.NOT_RUN and "absent is not installed" in found["absent"].message
    gl = found["gl"]
    assert gl.status is Status.FAILED and "the system library libGL.so.1 is missing" in gl.message
    assert "apt-get install libgl1" in gl.message
    assert "libgomp.so.1" in found["os"].message and "apt-get install libgomp1" in found["os"].message
    assert "install the system package that provides libzqa-weird.so.3" in found["odd"].message
    assert "its dependency zqa_no_such_dependency is missing" in found["dep"].message
    assert found["bad"].status is Status.FAILED and "RuntimeError: model file corrupt" in found["bad"].message


@pytest.mark.parametrize(
    ("message", "library"),
    [
        ("libGL.so.1: cannot open shared object file: No such file or directory", "libGL.so.1"),
        ("libglib-2.0.so.0: cannot open shared object file", "libglib-2.0.so.0"),
        ("/usr/lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.32' not found", "libstdc++.so.6"),
        ("No module named 'cv2'", None),
    ],
)
def test_the_missing_library_is_read_from_the_message(message: str, library: str | None) -> None:
    assert doctor.missing_library(ImportError(message)) == library


def test_the_report_says_not_present_and_fails(hf_cache: Path) -> None:
    status = doctor.model_status("acme/nothing", None)
    lines = doctor._model_lines(status)
    assert lines[1].startswith(
        "weights:       NOT PRESENT: model acme/nothing@main is not in the Hugging Face"
    )
    data = {"model": status, "ocr_engines": {}, "config": {"valid": True}}
    assert doctor.problems(data)
    data["model"] = doctor.model_status("reference", None)
    assert not doctor.problems(data)
    data["ocr_engines"] = {"rapidocr": doctor.ocr_engine("rapidocr", "zqa_not_installed_engine").to_dict()}
    assert not doctor.problems(data)  # not installed: glyph checks say so; not a broken install


def test_doctor_resolves_options_as_the_gate_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The environment wins over the ini file, the command line over both; a bad value is one line, exit 2."""
    import json

    from zimage_qa.cli import main

    (tmp_path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nqa_model = "synthetic"\nqa_dtype = "fp16"\n'
    )
    monkeypatch.chdir(tmp_path)
    for key in [k for k in __import__("os").environ if k.startswith("ZQA_")]:
        monkeypatch.delenv(key)
    main(["doctor", "--json"])
    options = json.loads(capsys.readouterr().out)["options"]
    assert options["model"] == {"value": "synthetic", "from": "ini qa_model"}
    assert options["dtype"] == {"value": "fp16", "from": "ini qa_dtype"}
    monkeypatch.setenv("ZQA_MODEL", "reference")
    main(["doctor", "--json"])
    assert json.loads(capsys.readouterr().out)["options"]["model"] == {
        "value": "reference",
        "from": "ZQA_MODEL",
    }
    main(["doctor", "--json", "--model", "synthetic"])
    assert json.loads(capsys.readouterr().out)["options"]["model"]["from"] == "--qa-model"
    monkeypatch.setenv("ZQA_DEVICE", "foo")
    assert main(["doctor"]) == 2
    assert (
        capsys.readouterr().err.strip()
        == "zqa: error: ZQA_DEVICE 'foo' is not a device; use auto, cpu, cuda or cuda:N"
    )


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--device", "cuda:7"], "--qa-device 'cuda:7': no CUDA device is visible here; use cpu or auto"),
        (["--model", "synthetic"], "--qa-model synthetic needs a CUDA GPU"),
    ],
)
def test_doctor_exits_1_where_the_gate_would_refuse_to_start(
    args: list[str], problem: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    import torch

    from zimage_qa.cli import main

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    monkeypatch.chdir(Path(__file__).parent)
    assert main(["doctor", "--json", *args]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["device"]["ok"] is False and data["device"]["problem"].startswith(problem)
    assert set(data["extras"]) == {"onnxruntime", "ppocrv4", "easyocr", "modelscope", "plot"}
    assert main(["doctor", *args]) == 1
    assert "device:        REFUSED: " + problem in capsys.readouterr().out
