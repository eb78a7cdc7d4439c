"""Timed steps as plain SimPy events with a callback, instead of one generator process each.

A process costs an ``Initialize`` event, a generator frame per resumption and an end event; a step that only
waits and then acts needs none of that. ``at_once`` takes the place of a process's start (processed at this
instant before any regular event, exactly where the process's ``Initialize`` would be), ``after`` the place of
``yield env.timeout(delay)``: the same times, priorities and scheduling order, so a run is the same event for
event, only without the events that did nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import simpy
from simpy.core import URGENT

#: what a scheduled step does when its moment comes (the event is passed, as to any SimPy callback)
Step = Callable[[simpy.Event], None]


class _AtOnce(simpy.Event):
    """An event already triggered and scheduled with SimPy's ``URGENT`` priority (as ``Initialize`` is)."""

    def __init__(self, env: simpy.Environment, step: Step) -> None:
        self.env = env
        self.callbacks = [step]
        self._value = None
        self._ok = True
        env.schedule(self, URGENT)


def at_once(env: simpy.Environment, step: Step) -> None:
    """Run ``step`` at this instant, where a process started now would run its first step."""
    _AtOnce(env, step)


def after(env: simpy.Environment, delay_days: float, step: Step) -> None:
    """Run ``step`` ``delay_days`` from now, where a process's ``yield env.timeout(delay_days)`` would resume."""
    env.timeout(delay_days).callbacks.append(step)
