"""The discrete-event log: ``(time_days, event, details)`` records, kept only when switched on.

Hot paths check ``enabled`` once and skip building the record otherwise, so a 400-dealer run pays nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class EventLog:
    enabled: bool = False
    records: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)

    def record(self, time_days: float, event: str, **details: Any) -> None:
        if self.enabled:
            self.records.append((round(float(time_days), 6), event, details))

    def record_many(self, time_days: float, event: str, details: Iterable[dict[str, Any]]) -> None:
        """One event per ``details`` at one time: a day's parts lines (~5k) without a call and a rounding
        each."""
        if self.enabled:
            time = round(float(time_days), 6)
            self.records.extend((time, event, each) for each in details)

    def events(self) -> list[tuple[float, str, dict[str, Any]]]:
        return list(self.records)
