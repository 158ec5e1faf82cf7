"""A picture the session made that no check can judge (NaN, black, flat) stops the check that made it.

What is invalid is the golden part's to say (`zimage_qa.golden.validity.picture_problem`); the gate hands
that judge to the runner as a `PictureJudge`, and `require_valid` raises `InvalidPicture` with its
diagnosis, which the plugin reports as that check's failure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zimage_qa.errors import InvalidPicture

PictureJudge = Callable[[Any, bool], "str | None"]  # (image, nonfinite) -> why it cannot be judged, or None


def require_valid(image: Any, nonfinite: bool, judge: PictureJudge, where: str) -> None:
    """Raise InvalidPicture naming `where` when `judge` finds `image` invalid."""
    problem = judge(image, nonfinite)
    if problem:
        raise InvalidPicture(
            f"{where}: the pipeline produced an invalid picture: {problem}; check the weights, dtype and VAE "
            "(NaN latents show as black)"
        )
