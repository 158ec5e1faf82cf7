"""The two kinds of failure zimage-qa reports: bad input and a failed check."""

from __future__ import annotations


class QAUsageError(Exception):
    """Bad input: a one-line message that names the problem and the fix.

    `zqa` prints it on stderr and exits 2; the pytest plugin turns it into a usage error.
    """


class QACheckError(Exception):
    """A check could not run for a reason the user must see (for example a sticky CUDA error)."""


class InvalidPicture(QACheckError):
    """The pipeline produced a picture no check can judge: NaN, black or flat."""
