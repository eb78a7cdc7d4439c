"""The state the server serves, refreshed off the request path.

``StateService`` holds the current ``ServedState`` (a ``NetworkView`` plus everything the pages derive from
it, cached per dealer and per Atlas page). A background thread checks the state folder every
``refresh_seconds``; when a newer state has landed it builds the next ``ServedState`` (loading the view and
warming the caches), swaps it in with one assignment and bumps ``version``, which the ``/events`` stream
announces. Requests only ever read a finished ``ServedState``: never a scan, never a half-built view.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.web.state_source import StateEntry, StateSource

if TYPE_CHECKING:
    from twin.views import NetworkView

log = logging.getLogger("twin.web")

#: states of other days a planner looked at, kept loaded (each is a whole view)
OTHER_DAYS_KEPT = 3

ViewLoader = Callable[[Path | None], "NetworkView"]


def default_loader(path: Path | None) -> NetworkView:
    from twin.views import load_view

    return load_view(path)


@dataclass
class ServedState:
    """One loaded state and what is derived from it, computed at most once each."""

    version: int
    entry: StateEntry
    view: NetworkView
    loaded_at: float
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def day(self) -> int:
        return int(self.view.day)

    def cached(self, kind: str, key: str, build: Callable[[], Any]) -> Any:
        """``build()`` once per (kind, key) for this state; concurrent first callers may both build (harmless)."""
        found = self._cache.get((kind, key), _MISSING)
        if found is not _MISSING:
            return found
        value = build()
        with self._lock:
            return self._cache.setdefault((kind, key), value)


_MISSING = object()


class StateService:
    """The current state, states of other days on demand, and the refresh loop."""

    def __init__(
        self,
        source: StateSource,
        refresh_seconds: float,
        loader: ViewLoader = default_loader,
        warm: Callable[[ServedState], None] | None = None,
    ) -> None:
        self.source = source
        self.refresh_seconds = refresh_seconds
        self.loader = loader
        self.warm = warm
        self.version = 0
        self._signature = source.signature()
        self._entries = source.entries()
        # not warmed yet: the caller checks the users against it first (``warm_current``)
        self._current = self._load(self._entries[-1], warm=False)
        self._other_days: OrderedDict[int, ServedState] = OrderedDict()
        self._lock = threading.Lock()
        self._day_locks: dict[int, threading.Lock] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    # -- reading ---------------------------------------------------------------------------------------
    @property
    def current(self) -> ServedState:
        return self._current

    @property
    def entries(self) -> list[StateEntry]:
        return self._entries

    def for_day(self, day: int | None) -> ServedState | None:
        """The state of ``day`` (None or the current day: the current state); None when there is no such day."""
        current = self._current
        if day is None or day == current.day:
            return current
        entry = next((entry for entry in self._entries if entry.day == day), None)
        if entry is None:
            return None
        with self._lock:
            if day in self._other_days:
                self._other_days.move_to_end(day)
                return self._other_days[day]
            # one lock per day (days are the run's entries, so few): concurrent requests for a day wait for
            # one load instead of each loading it
            day_lock = self._day_locks.setdefault(day, threading.Lock())
        with day_lock:
            with self._lock:
                if day in self._other_days:
                    self._other_days.move_to_end(day)
                    return self._other_days[day]
            served = self._load(entry, warm=False)
            with self._lock:
                self._other_days[day] = served
                while len(self._other_days) > OTHER_DAYS_KEPT:
                    self._other_days.popitem(last=False)
        return served

    # -- loading ---------------------------------------------------------------------------------------
    def warm_current(self) -> None:
        """Build every page's data for the state loaded at start (before the server takes requests)."""
        if self.warm is not None:
            self.warm(self._current)

    def _load(self, entry: StateEntry, warm: bool = True) -> ServedState:
        started = time.perf_counter()
        served = ServedState(self.version, entry, self.loader(entry.path), time.time())
        if warm and self.warm is not None:
            self.warm(served)
        log.info("loaded %s (day %s) in %.2f s", entry.path, served.day, time.perf_counter() - started)
        return served

    def refresh(self) -> bool:
        """Load the newest state if the folder changed; True when a new state is served."""
        signature = self.source.signature()
        if signature == self._signature:
            return False
        entries = self.source.entries()
        newest = entries[-1]
        served = ServedState(self.version + 1, newest, self.loader(newest.path), time.time())
        if self.warm is not None:
            self.warm(served)
        with self._lock:
            self._entries = entries
            self._signature = signature
            self._other_days.clear()
            self._current = served
            self.version = served.version
        log.info("serving the state of day %d (version %d)", served.day, served.version)
        return True

    def _loop(self) -> None:
        while not self._stop.wait(self.refresh_seconds):
            try:
                self.refresh()
                self.last_error = None
            except Exception as error:  # a half-written or damaged state: keep serving the last good one
                message = f"{type(error).__name__}: {error}"
                if message != self.last_error:
                    log.warning("state refresh failed, still serving day %d: %s", self._current.day, message)
                self.last_error = message

    def start(self) -> None:
        if self.refresh_seconds > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="twin-web-refresh", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()
