"""What marks events on a group's timeline: software and weights (the group itself is a deployment,
`zimage_qa.identity`).

Software: driver, CUDA (runtime and driver), torch, diffusers, transformers, modelscope, Python, kernel,
and per benchmark the weights (`extra_info["weights"]`, `extra_info["model_identity"]`, or the model
label of real weights, `org/name@revision`). A change of any of them between two runs of one group is
an event on the timeline, which a lasting change is attributed to.
"""

from __future__ import annotations

from collections.abc import Mapping

from zimage_qa.identity import BUILTIN_PROFILES, Fields, field_values, scalar, text

_SOFTWARE_KEYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "driver",
        ("zimage_qa.driver", "zimage_qa.driver_version", "zimage_qa.gpu.driver", "driver_version", "driver"),
    ),
    (
        "cuda",
        (
            "zimage_qa.cuda_runtime",
            "zimage_qa.cuda",
            "zimage_qa.cuda_version",
            "zimage_qa.gpu.cuda",
            "cuda_version",
            "cuda",
        ),
    ),
    ("cuda driver", ("zimage_qa.cuda_driver",)),
    ("torch", ("zimage_qa.torch", "torch")),
    ("diffusers", ("zimage_qa.diffusers", "diffusers")),
    ("transformers", ("zimage_qa.transformers", "transformers")),
    ("modelscope", ("zimage_qa.modelscope", "modelscope")),
    ("python", ("zimage_qa.python", "python_version")),
    ("kernel", ("release",)),
)


def software_fields(machine_info: object) -> Fields:
    """The software stack of a saved run: driver, CUDA, torch, diffusers, ... (those recorded)."""
    return field_values(machine_info, _SOFTWARE_KEYS)


def weights_of(extra_info: object) -> str | None:
    """The weights a benchmark ran: `weights` or `model_identity` (text or a mapping), else the model
    label of real weights ('Tongyi-MAI/Z-Image-Turbo@<rev>'); None for the built-in profiles."""
    if type(extra_info) is not dict:
        return None
    for key in ("weights", "model_identity"):
        value = extra_info.get(key)
        if isinstance(value, Mapping) and value:
            return ", ".join(f"{k}={text(v)}" for k, v in sorted(value.items()) if scalar(v))
        if scalar(value):
            return text(value)
    model = extra_info.get("model")
    if scalar(model) and text(model) not in BUILTIN_PROFILES:
        return text(model)
    return None
