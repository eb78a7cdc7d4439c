"""Errors of the read side: each names the field and the value it refused, like the rest of the twin."""

from __future__ import annotations

from twin.errors import FieldError


class ViewError(FieldError):
    """A read of the view was asked with a value it cannot answer (a field and the value refused)."""


class UnknownDealerError(ViewError):
    """A dealer id that is not in the network the view was built on."""


class ViewLoadError(ViewError):
    """A path that is not a state, a run folder or a live state (or whose network cannot be told)."""
