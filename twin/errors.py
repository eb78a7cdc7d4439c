"""Typed errors raised for bad input: each names the field (or record) and the offending value."""

from __future__ import annotations

from typing import Any


class TwinError(Exception):
    """Base class of every error the twin raises on purpose."""


class FieldError(TwinError, ValueError):
    """An input refused for one field: says the field, the value and why."""

    def __init__(self, field: str, value: Any, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        # args hold the constructor's arguments, so the error survives pickling (process pools) and SimPy's
        # re-raise, which rebuild it with ``type(error)(*error.args)``
        super().__init__(field, value, reason)

    def __str__(self) -> str:
        return f"{self.field}={self.value!r}: {self.reason}"


class ConfigError(FieldError):
    """A setting is out of range or inconsistent; raised before anything is built."""


class MasterDataError(TwinError, ValueError):
    """A master-data record (dealer, SKU, carrier, lane, spec) is invalid or not wired to a supplier."""

    def __init__(self, table: str, key: Any, field: str, value: Any, reason: str) -> None:
        self.table = table
        self.key = key
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(table, key, field, value, reason)

    def __str__(self) -> str:
        # a record by its id, by its row (an int, counting from 1 after the header) when the id is bad,
        # or the whole table (None)
        where = self.table if self.key is None else f"{self.table}[{_record(self.key)}]"
        return f"{where}.{self.field}={self.value!r}: {self.reason}"


def _record(key: Any) -> str:
    return f"row {key}" if isinstance(key, int) and not isinstance(key, bool) else repr(key)


class VinError(TwinError, ValueError):
    """A VIN is malformed (length, alphabet or check digit)."""
