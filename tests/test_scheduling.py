"""Timed steps as scheduled callbacks (``twin.engine.scheduling``) keep a process's place in the event order,
and the simulation's environment counts processed events without a hook per event."""

from __future__ import annotations

from collections.abc import Callable, Generator

import simpy

from twin.engine.scheduling import after, at_once
from twin.engine.simulation import CountingEnvironment

Record = Callable[[str], None]


def _trip(
    env: simpy.Environment, record: Record, name: str, days: float
) -> Generator[simpy.Event, None, None]:
    record(f"{name} starts")
    yield env.timeout(days)
    record(f"{name} arrives")


def _events_in_order(as_callbacks: bool) -> list[tuple[float, str]]:
    """Two trips started together at 0.5 (one of 0.5 days, arriving with a timeout scheduled before them),
    and an event of the same instant as their start, scheduled before they were."""
    env = simpy.Environment()
    seen: list[tuple[float, str]] = []

    def record(name: str) -> None:
        seen.append((env.now, name))

    def trip_as_callbacks(name: str, days: float) -> None:
        def start(_: simpy.Event) -> None:
            record(f"{name} starts")
            after(env, days, lambda _: record(f"{name} arrives"))

        at_once(env, start)

    def start_trips(_: simpy.Event) -> None:
        env.timeout(0.0).callbacks.append(lambda _: record("same instant"))
        for name, days in (("first", 0.5), ("second", 0.25)):
            if as_callbacks:
                trip_as_callbacks(name, days)
            else:
                env.process(_trip(env, record, name, days))

    env.timeout(1.0).callbacks.append(lambda _: record("earlier timeout at 1.0"))
    env.timeout(0.5).callbacks.append(start_trips)
    env.run(until=2.0)
    return seen


def test_scheduled_steps_run_where_the_processes_would() -> None:
    expected = _events_in_order(as_callbacks=False)
    assert expected[:3] == [(0.5, "first starts"), (0.5, "second starts"), (0.5, "same instant")]
    assert expected[3:] == [(0.75, "second arrives"), (1.0, "earlier timeout at 1.0"), (1.0, "first arrives")]
    assert _events_in_order(as_callbacks=True) == expected


def test_processed_events_counts_every_step_across_runs() -> None:
    class Stepping(CountingEnvironment):
        steps = 0

        def step(self) -> None:
            self.steps += 1
            super().step()

    env = Stepping()

    def ticker() -> Generator[simpy.Event, None, None]:
        while True:
            yield env.timeout(0.3)

    env.process(ticker())
    for until in (1, 2, 5):
        env.run(until=until)
        assert env.processed_events == env.steps > 0
