from __future__ import annotations

import weakref

import pytest
import torch

from zimage_qa.measure.oom import OomGuard, is_oom, oom_failure

MESSAGE = (
    "CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.19 GiB of which "
    "1.10 GiB is free. Of the allocated memory 76.10 GiB is allocated by PyTorch"
)


def _generate_and_run_out(refs: list[weakref.ref[torch.Tensor]]) -> None:
    latents = torch.ones(256, 1024)  # what a failed generation would still hold in its frames
    refs.append(weakref.ref(latents))
    raise torch.OutOfMemoryError(MESSAGE)


def test_traceback_frames_keep_tensors_alive_until_released() -> None:
    refs: list[weakref.ref[torch.Tensor]] = []
    try:
        _generate_and_run_out(refs)
    except torch.OutOfMemoryError as exc:
        kept = exc  # pytest, loggers and reports keep exceptions like this
    assert refs[0]() is not None  # the control: without the helper the tensor survives
    message = oom_failure(kept, context="2048x2048/simple on cpu", device="cpu")
    assert refs[0]() is None
    assert message == (
        "out of memory for 2048x2048/simple on cpu: asked 2.00 GiB with 1.10 GiB free; released"
    )


def test_guard_turns_oom_into_a_failure_and_the_session_goes_on() -> None:
    refs: list[weakref.ref[torch.Tensor]] = []
    with OomGuard("1024x1024/simple on cpu", device="cpu") as guard:
        _generate_and_run_out(refs)
    assert guard.failure is not None
    assert guard.failure.startswith("out of memory for 1024x1024/simple on cpu: asked 2.00 GiB")
    assert refs[0]() is None
    with guard:
        pass
    assert guard.failure is None


def test_guard_passes_other_errors_through() -> None:
    with pytest.raises(ValueError, match="not memory"), OomGuard():
        raise ValueError("not memory")


def test_is_oom() -> None:
    assert is_oom(torch.OutOfMemoryError("x"))
    assert is_oom(RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 10 bytes"))
    assert not is_oom(RuntimeError("shape mismatch"))
    assert not is_oom(MemoryError())  # Python's own: not a torch allocation
    assert "an unknown amount" in oom_failure(torch.OutOfMemoryError("no numbers"), device="cpu")


def test_a_per_process_cap_is_named_instead_of_the_cards_free_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under torch.cuda.set_per_process_memory_fraction the card's free memory misleads ("asked 2.00 GiB with
    115.04 GiB free"): the message names the cap."""
    import sys

    from zimage_qa.measure import oom

    class Cuda:
        @staticmethod
        def is_available() -> bool:
            return True

        @staticmethod
        def get_per_process_memory_fraction(device: object) -> float:
            return 0.15

        @staticmethod
        def get_device_properties(device: object) -> object:
            return type("Props", (), {"total_memory": 140 * 2**30})()

        @staticmethod
        def mem_get_info(device: object) -> tuple[int, int]:
            return 115 * 2**30, 140 * 2**30

        @staticmethod
        def empty_cache() -> None:
            return None

    fake = type("Torch", (), {"cuda": Cuda, "OutOfMemoryError": torch.OutOfMemoryError})
    monkeypatch.setitem(sys.modules, "torch", fake)
    monkeypatch.setattr(oom, "read_torch_peaks", lambda device: (None, None))
    message = oom.oom_failure(
        RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB."), "1024x1024", "cuda:0"
    )
    assert "asked 2.00 GiB under a per-process cap of 21.00 GiB (15% of the card" in message
    assert "115" not in message.split(";")[0]
