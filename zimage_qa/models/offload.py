"""Which models of a pipeline served with model CPU offload sit on the device, and putting them back.

`pipe.enable_model_cpu_offload()` hooks each model (accelerate's `CpuOffload`, chained text_encoder ->
transformer -> vae): a model moves to the device when it is called and the previous one in the chain moves
back, so at most one is on the device during a call; `ZImagePipeline.__call__` ends with
`maybe_free_model_hooks()`, which moves every model back to the host. Two things escape that:

- a component called outside `pipe(...)` (the roofline's FLOP count calls the transformer) stays on the
  device, since nothing after it frees it;
- a call that raises halfway (out of memory, a timeout) never reaches `maybe_free_model_hooks()`.

The next generation then skips that model's host-to-device copy (fast, by 12 GB of transfer for the
transformer) and starts with two models on the device (19.3 GiB: more than a 16 GiB card holds). The gate
puts the models back with `release` after such use, and before each timed generation checks
`resident_models`. Pipelines without model offload (no `_all_hooks`) are left alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any


def model_offloaded(pipe: Any) -> bool:
    """True when `enable_model_cpu_offload` hooked the pipeline's models (sequential offload is not this:
    its weights wait on the meta device and each layer's hook puts them back itself)."""
    return bool(getattr(pipe, "_all_hooks", None)) and callable(getattr(pipe, "maybe_free_model_hooks", None))


def resident_models(pipe: Any) -> tuple[str, ...]:
    """Names of the offloaded models whose weights are on the device now (empty between calls)."""
    if not model_offloaded(pipe):
        return ()
    # A hook holds the module it was given: the plain one, or, once `maybe_free_model_hooks` re-applies
    # the offload after a call, a torch.compile wrapper (`compile=wrap`). Match either identity.
    hooked: set[int] = set()
    for hook in pipe._all_hooks:
        model = getattr(hook, "model", None)
        hooked.update((id(model), id(getattr(model, "_orig_mod", model))))
    components = getattr(pipe, "components", None) or {}
    return tuple(
        name
        for name, module in components.items()
        if hooked & {id(module), id(getattr(module, "_orig_mod", module))}
        and _on_device(getattr(module, "_orig_mod", module))
    )


def release(pipe: Any) -> None:
    """Move every offloaded model back to the host, as the end of a pipeline call does."""
    if model_offloaded(pipe):
        pipe.maybe_free_model_hooks()


@contextmanager
def released(pipe: Any) -> Iterator[None]:
    """Around a use of the components outside `pipe(...)`: the models go back to the host afterwards,
    whether the block ends or raises."""
    try:
        yield
    finally:
        release(pipe)


def release_after_failure(pipe: Any) -> None:
    """`release` for a call that raised: a second error while moving the weights (a device that is gone)
    must not replace the first, which is the one the gate reports."""
    with suppress(Exception):  # the caller re-raises the original error
        release(pipe)


def _on_device(module: Any) -> bool:
    parameters = getattr(module, "parameters", None)
    first = next(iter(parameters()), None) if callable(parameters) else None
    return first is not None and first.device.type not in ("cpu", "meta")
