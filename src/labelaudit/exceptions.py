"""Errors and warnings raised by labelaudit."""

from __future__ import annotations

__all__ = [
    "FewExamplesWarning",
    "InvalidInputError",
    "LabelauditError",
    "LabelauditWarning",
]


class LabelauditError(Exception):
    """Base class of every error raised by labelaudit."""


class InvalidInputError(LabelauditError, ValueError):
    """An argument has the wrong type, shape or value.

    It is also a :class:`ValueError`, so ``except ValueError`` keeps working.
    """


class LabelauditWarning(UserWarning):
    """Base class of every warning issued by labelaudit."""


class FewExamplesWarning(LabelauditWarning):
    """Some classes have too few examples for their label issues to be pruned."""
