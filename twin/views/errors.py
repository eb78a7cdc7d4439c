"""Errors of the read side: each names the field and the value it refused, like the rest of the twin."""

from __future__ import annotations

from typing import Any

from twin.errors import TwinError


class ViewError(TwinError, ValueError):
    """A read of the view was asked with a value it cannot answer (a field and the value refused)."""

    def __init__(self, field: str, value: Any, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(field, value, reason)

    def __str__(self) -> str:
        return f"{self.field}={self.value!r}: {self.reason}"


class UnknownDealerError(ViewError):
    """A dealer id that is not in the network the view was built on."""


class ViewLoadError(ViewError):
    """A path that is not a state, a run folder or a live state (or whose network cannot be told)."""
