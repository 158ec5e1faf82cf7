"""Pictures no check can judge: NaN in the decoded output, black or flat."""

from __future__ import annotations

from typing import Any

from zimage_qa.errors import QACheckError
from zimage_qa.models.profiles import LoadedModel


class InvalidPicture(QACheckError):
    """The pipeline produced a picture no check can judge: NaN, black or flat."""


def picture_problem(image: Any, nonfinite: bool = False) -> str | None:
    """Why `image` cannot be judged (NaN in the decoded output, black, flat), or None when it is valid."""
    from zimage_qa.golden.pixels import as_pixels
    from zimage_qa.golden.validity import invalid_reasons

    pixels = as_pixels(image)
    reasons = invalid_reasons(pixels)
    if nonfinite or pixels.nonfinite:
        return "NaN or infinite values in the decoded picture" + (
            f" (so it is {reasons[0]})" if reasons else ""
        )
    return reasons[0] if reasons else None


def checked_picture(model: LoadedModel, image: Any, what: str) -> Any:
    """`image`, or InvalidPicture naming `what` and the diagnosis."""
    problem = picture_problem(image, bool(getattr(model, "nonfinite_output", False)))
    if problem:
        raise InvalidPicture(
            f"the pipeline produced an invalid picture for {what}: {problem}; check the weights, dtype and "
            "VAE (NaN latents show as black)"
        )
    return image
