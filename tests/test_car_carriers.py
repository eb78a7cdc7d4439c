"""A carrier's ``TruckFleet`` grants trucks in the order a SimPy ``Resource`` would, holds of a disruption
included (the carriers' loads are scheduled steps, not processes around a ``Resource``)."""

from __future__ import annotations

from collections.abc import Generator
from functools import partial

import numpy as np
import simpy

from twin.engine.car_carriers import TruckClaim, TruckFleet
from twin.engine.scheduling import after

TRUCKS = 3
#: (claim time, days the truck is kept): whole and half days, so claims and returns meet at one instant
CLAIMS = [
    (float(day), float(days))
    for day, days in zip(
        np.random.default_rng(5).integers(0, 40, 120) / 2,
        np.random.default_rng(6).integers(1, 8, 120) / 2,
        strict=True,
    )
]
HOLD_START, HOLD_END, HOLD_TRUCKS = 8.0, 15.0, 2


def _grants_with_a_resource() -> list[tuple[float, int]]:
    env = simpy.Environment()
    trucks = simpy.Resource(env, capacity=TRUCKS)
    grants: list[tuple[float, int]] = []

    def load(number: int, at: float, days: float) -> Generator[simpy.Event, None, None]:
        yield env.timeout(at)
        with trucks.request() as truck:
            yield truck
            grants.append((env.now, number))
            yield env.timeout(days)

    def hold() -> Generator[simpy.Event, None, None]:
        yield env.timeout(HOLD_START)
        requests = [trucks.request() for _ in range(HOLD_TRUCKS)]
        yield env.timeout(HOLD_END - HOLD_START)
        for request in requests:
            if request.triggered:
                trucks.release(request)
            else:
                request.cancel()

    env.process(hold())
    for number, (at, days) in enumerate(CLAIMS):
        env.process(load(number, at, days))
    env.run()
    return grants


def _grants_with_a_fleet() -> list[tuple[float, int]]:
    env = simpy.Environment()
    fleet = TruckFleet(TRUCKS)
    grants: list[tuple[float, int]] = []

    def granted(number: int, days: float) -> None:
        def leave(_: simpy.Event) -> None:
            grants.append((env.now, number))
            after(env, days, lambda _: fleet.release())

        after(env, 0.0, leave)

    def claim(number: int, days: float, _: simpy.Event) -> None:
        fleet.claim(TruckClaim(lambda: granted(number, days)))

    def hold() -> Generator[simpy.Event, None, None]:
        yield env.timeout(HOLD_START)
        holds = [TruckClaim(lambda: None) for _ in range(HOLD_TRUCKS)]
        for held in holds:
            fleet.claim(held)
        yield env.timeout(HOLD_END - HOLD_START)
        freed = fleet.withdraw(holds)
        after(env, 0.0, lambda _: fleet.serve_first(freed))

    def start(number: int, at: float, days: float, _: simpy.Event) -> None:
        after(env, at, partial(claim, number, days))

    env.process(hold())
    for number, (at, days) in enumerate(CLAIMS):
        # a load's process claims after its start and its first timeout: two events, as here
        after(env, 0.0, partial(start, number, at, days))
    env.run()
    return grants


def test_a_fleet_grants_trucks_in_the_order_of_a_simpy_resource() -> None:
    expected = _grants_with_a_resource()
    assert len(expected) == len(CLAIMS)
    assert any(HOLD_START <= time < HOLD_END for time, _ in expected)
    assert _grants_with_a_fleet() == expected


def test_free_trucks_count_claims_waiting_as_owed() -> None:
    fleet = TruckFleet(2)
    claims = [TruckClaim(lambda: None) for _ in range(3)]
    for claim in claims:
        fleet.claim(claim)
    assert [claim.granted for claim in claims] == [True, True, False]
    assert fleet.free_trucks == -1
    fleet.release()
    assert claims[2].granted and fleet.free_trucks == 0
