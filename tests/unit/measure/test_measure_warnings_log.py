from __future__ import annotations

import warnings

import pytest
import torch

from zimage_qa.measure.warnings_log import (
    WarningRecord,
    WarningsLog,
    module_of,
    new_warnings,
    normalise_message,
)


class DeprecatedModel(torch.nn.Module):
    """Model code that warns on every forward, as a library does after an upgrade."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        warnings.warn(f"step {int(x.sum())}: `old_api` is deprecated", DeprecationWarning, stacklevel=1)
        return x + 1


@pytest.mark.filterwarnings("error")
def test_deprecation_in_model_code_is_recorded_not_raised() -> None:
    warnings.simplefilter("error")  # what a host repository's `filterwarnings = error` sets
    log = WarningsLog()
    model = DeprecatedModel()
    with log.capture("generation"):
        for step in range(3):
            model(torch.full((1,), float(step)))
    (record,) = log.records
    assert record.category == "DeprecationWarning"
    assert record.count == 3
    assert record.message == "step 0: `old_api` is deprecated"
    assert record.phases == ("generation",)
    assert record.filename == __file__
    with pytest.raises(DeprecationWarning):  # outside the capture the host's filter holds again
        model(torch.zeros(1))


def plain(self: object) -> None:
    return None


def test_a_deprecation_from_third_party_code_is_recorded_as_that_library_raised_it() -> None:
    """torch.jit.script_method warns (DeprecationWarning in torch 2.13, FutureWarning in 2.14): the log
    records whatever category and module torch used, never a category of its own."""
    with warnings.catch_warnings(record=True) as raised:
        warnings.simplefilter("always")
        torch.jit.script_method(plain)  # type: ignore[attr-defined,no-untyped-call]  # not in torch.jit's __all__
    if not raised:
        pytest.skip(f"torch {torch.__version__} no longer warns on script_method")
    log = WarningsLog()
    with log.capture("load"):
        torch.jit.script_method(plain)  # type: ignore[attr-defined,no-untyped-call]  # as torch.compile's imports do
    (record,) = log.records
    assert record.category == raised[0].category.__name__
    assert issubclass(raised[0].category, (DeprecationWarning, FutureWarning, PendingDeprecationWarning))
    assert "script_method" in record.message
    assert record.module.startswith("torch.jit")


def test_dedupe_across_phases_and_categories() -> None:
    log = WarningsLog()
    with log.capture("load"):
        warnings.warn("cast to bfloat16 at 0x7f00aa", UserWarning, stacklevel=1)
        warnings.warn("slow path", FutureWarning, stacklevel=1)
    with log.capture("generation"):
        warnings.warn("cast to bfloat16 at 0x7f11bb", UserWarning, stacklevel=1)
    assert [(r.category, r.count, r.phases) for r in log.records] == [
        ("UserWarning", 2, ("load", "generation")),
        ("FutureWarning", 1, ("load",)),
    ]
    assert len(log) == 2


def test_warning_raised_before_an_error_is_still_recorded() -> None:
    log = WarningsLog()

    def failing_work() -> None:
        with log.capture("warm-up"):
            warnings.warn("about to fail", RuntimeWarning, stacklevel=1)
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        failing_work()
    assert log.records[0].message == "about to fail"


def test_new_since_baseline_ignores_numbers() -> None:
    def record(category: str, message: str) -> WarningRecord:
        return WarningRecord(category, message, "m", "m.py", 1)

    baseline = [record("DeprecationWarning", "deprecated in 0.41, removed in 0.45 (call 12)")]
    current = [
        record("DeprecationWarning", "deprecated in 0.42, removed in 0.46 (call 7)"),
        record("FutureWarning", "deprecated in 0.42, removed in 0.46 (call 7)"),
        record("UserWarning", "new default attention backend"),
    ]
    fresh = new_warnings(current, baseline)
    assert [r.category for r in fresh] == ["FutureWarning", "UserWarning"]
    assert new_warnings(current, [("UserWarning", "new default attention backend")]) == tuple(current[:2])


def test_record_round_trips_through_a_dict() -> None:
    record = WarningRecord("torch.jit.TracerWarning", "x", "torch.jit", "/p.py", 3, 4, ("load",))
    assert WarningRecord.from_dict(record.to_dict()) == record
    assert "x4" in record.describe()


@pytest.mark.parametrize(
    ("path", "module"),
    [
        ("/v/lib/python3.11/site-packages/torch/jit/_script.py", "torch.jit._script"),
        ("/v/lib/python3/dist-packages/diffusers/__init__.py", "diffusers"),
        ("/home/me/serve/model.py", "model"),
        ("", "?"),
    ],
)
def test_module_of(path: str, module: str) -> None:
    assert module_of(path) == module


def test_normalise_message() -> None:
    assert normalise_message("tensor 0x7fab  of 1.5e-3 and 12") == "tensor # of # and #"
