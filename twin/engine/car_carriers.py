"""Car carriers between stockyards and dealers: loads formed at the yard, trucks of the lane's carrier as a
SimPy ``Resource`` (held for the loaded leg and the empty return), and carrier disruptions.

Loads waiting for a truck, loads on the road and trucks driving back are kept as data, so a snapshot can
resume them; what happens to the cars at the dealer is the vehicle flow's business (``VehicleFlow.unload``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Protocol

import numpy as np
import numpy.typing as npt
import simpy

from twin.config import OperationsConfig
from twin.domain.network import Network
from twin.domain.state_schema import row_table
from twin.domain.vehicles import SiteKind, VehicleStatus, VehicleTable
from twin.engine.eventlog import EventLog
from twin.engine.kpis import KpiRecorder
from twin.engine.scenario_effects import ScenarioEffects, VehicleFleetBlock
from twin.engine.transit import TransitTimes

#: what happens to a load's cars at its dealer: ``unload(dealer, vehicle ids, arrival time)``
Unload = Callable[[int, list[int], float], None]


class LoadSettlement(Protocol):
    """The settlement hook of a car-carrier load leaving its stockyard."""

    def load_departed(self, dealer: int, carrier: int, load: list[int]) -> None: ...


class CarCarriers:
    def __init__(
        self,
        clock: simpy.Environment,
        network: Network,
        operations: OperationsConfig,
        effects: ScenarioEffects,
        transit: TransitTimes,
        settlement: LoadSettlement,
        kpis: KpiRecorder,
        event_log: EventLog,
        vehicles: VehicleTable,
        unload: Unload,
    ) -> None:
        """``vehicles`` is the registry of every vehicle (by id); ``unload`` hands a load's cars to their dealer."""
        self.env = clock
        self.network = network
        self.operations = operations
        self.effects = effects
        self.transit = transit
        self.settlement = settlement
        self.kpis = kpis
        self.event_log = event_log
        self.vehicles = vehicles
        self.unload = unload
        carriers = network.carriers
        self.trucks = {
            int(c): simpy.Resource(self.env, capacity=int(carriers.fleet_size[c]))
            for c in carriers.of_mode("vehicles")
        }
        self.yard_to_dealer_km = network.yard_to_dealer_km()
        self.yard_to_dealer_days = (
            self.yard_to_dealer_km / carriers.speed_km_per_day[network.vehicle_carrier]
            + operations.dc_dispatch_delay_days
        )
        #: per dealer, (vehicle id, time it joined the queue) waiting at the stockyard for a car carrier
        self.dispatch_queue: list[list[tuple[int, float]]] = [[] for _ in range(network.dealer_count)]
        #: loads formed but waiting for a free truck; loads on the road; trucks driving back (carrier, free at)
        self.loads_waiting: list[tuple[int, int, tuple[int, ...]]] = []
        self.loads_on_road: dict[int, tuple[int, int, list[int], float, float]] = {}
        self.trucks_returning: dict[int, tuple[int, float]] = {}
        self._tokens = itertools.count()
        #: per dealer, its lane's carrier and the car slots of one load (read every day for every queue)
        self._lane_carrier: list[int] = [int(carrier) for carrier in network.vehicle_carrier.tolist()]
        self._lane_slots = [int(carriers.capacity_per_load[carrier]) for carrier in self._lane_carrier]
        #: share of a load each disrupted lane has earned so far (a lane at 50% sends one every other day)
        self.lane_credit = np.zeros(network.dealer_count)

    def dispatch_loads(self) -> None:
        """Daily: a full car-carrier load leaves, or a part load once its first car has waited long enough.
        A lane into a disrupted region earns its capacity share of one load a day and sends a load only when it
        has earned a whole one (never when closed)."""
        lane_share = self.effects.lane_share(int(self.env.now), "vehicles")
        operations = self.operations
        now = self.env.now
        for dealer, queue in enumerate(self.dispatch_queue):
            if not queue:
                continue
            limited = lane_share is not None and lane_share[dealer] < 1.0
            if limited:
                self.lane_credit[dealer] = min(1.0, self.lane_credit[dealer] + float(lane_share[dealer]))  # type: ignore[index]
                if self.lane_credit[dealer] < 1.0:
                    continue
            carrier, slots = self._lane_carrier[dealer], self._lane_slots[dealer]
            while len(queue) >= slots or (queue and now - queue[0][1] >= operations.carrier_max_wait_days):
                load = [vehicle_id for vehicle_id, _ in queue[:slots]]
                del queue[:slots]
                self.env.process(self.carry_load(dealer, carrier, load))
                if limited:
                    self.lane_credit[dealer] -= 1.0
                    break

    def carry_load(self, dealer: int, carrier: int, load: list[int]):
        """A car-carrier load: wait for a truck of the lane's carrier, drive, unload, drive back empty."""
        waiting = (dealer, carrier, tuple(load))
        self.loads_waiting.append(waiting)
        with self.trucks[carrier].request() as truck:
            yield truck
            self.loads_waiting.remove(waiting)
            now = self.env.now
            carriers = self.network.carriers
            freight = max(
                float(carriers.minimum_charge_inr[carrier]),
                float(carriers.rate_per_km_inr[carrier]) * float(self.yard_to_dealer_km[dealer]),
            )
            self.kpis.add(now, "freight_vehicle_inr", freight)
            self.settlement.load_departed(dealer, carrier, load)
            transit = float(self.yard_to_dealer_days[dealer]) * self.transit.factor(
                "vehicle_lane", int(now), dealer
            )
            ids = self.vehicles.rows(load)  # a plain int for a part load of one car
            self.vehicles.move(ids, VehicleStatus.IN_TRANSIT, SiteKind.ROAD, dealer, now)
            self.vehicles.set(ids, "eta_day", now + transit)
            if self.event_log.enabled:
                self.event_log.record(
                    now,
                    "carrier_load_departed",
                    dealer=dealer,
                    carrier=carrier,
                    vins=self.vehicles.vins(load),
                    freight_inr=round(freight, 2),
                )
            yield from self.drive(dealer, carrier, load, transit, transit)

    def drive(self, dealer: int, carrier: int, load: list[int], remaining_days: float, return_days: float):
        """The loaded leg and the empty return; the caller holds the truck throughout."""
        leg = next(self._tokens)
        self.loads_on_road[leg] = (dealer, carrier, load, self.env.now + remaining_days, return_days)
        yield self.env.timeout(remaining_days)
        del self.loads_on_road[leg]
        arrival = self.env.now
        self.unload(dealer, load, arrival)
        if self.event_log.enabled:
            self.event_log.record(
                arrival, "carrier_load_arrived", dealer=dealer, vins=self.vehicles.vins(load)
            )
        token = next(self._tokens)
        self.trucks_returning[token] = (carrier, arrival + return_days)
        yield self.env.timeout(return_days)
        del self.trucks_returning[token]

    def resume_load(
        self, dealer: int, carrier: int, load: list[int], remaining_days: float, return_days: float
    ):
        """A load that was on the road when a snapshot was taken."""
        with self.trucks[carrier].request() as truck:
            yield truck
            yield from self.drive(dealer, carrier, load, remaining_days, return_days)

    def block_trucks(self, block: VehicleFleetBlock):
        """A carrier disruption: trucks leave the fleet as they come free, and return when it ends."""
        if block.start_day > self.env.now:
            yield self.env.timeout(block.start_day - self.env.now)
        requests = [self.trucks[block.carrier].request() for _ in range(block.trucks)]
        until = self.env.timeout(max(0.0, block.end_day - self.env.now))
        yield until
        for request in requests:
            if request.triggered:
                self.trucks[block.carrier].release(request)
            else:
                request.cancel()

    def hold_truck(self, carrier: int, remaining_days: float):
        """A truck driving back empty when a snapshot was taken."""
        with self.trucks[carrier].request() as truck:
            yield truck
            token = next(self._tokens)
            self.trucks_returning[token] = (carrier, self.env.now + remaining_days)
            yield self.env.timeout(remaining_days)
            del self.trucks_returning[token]

    # -- state (section "carriers" of twin.domain.state) --------------------------------------------
    def state_arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        """Queues and trucks; loads on the road and trucks returning restart via ``resume_in_flight``."""
        return {
            "dispatch_queue": row_table(
                [
                    (dealer, vid, since)
                    for dealer, queue in enumerate(self.dispatch_queue)
                    for vid, since in queue
                ],
                3,
            ),
            "loads_waiting": row_table(
                [
                    (number, dealer, carrier, vid)
                    for number, (dealer, carrier, load) in enumerate(self.loads_waiting)
                    for vid in load
                ],
                4,
            ),
            "loads_on_road": row_table(
                [
                    (token, dealer, carrier, vid, eta, back)
                    for token, (dealer, carrier, load, eta, back) in self.loads_on_road.items()
                    for vid in load
                ],
                6,
            ),
            "trucks_returning": row_table(list(self.trucks_returning.values()), 2),
            "lane_credit": self.lane_credit.copy(),
        }

    def load_state_arrays(self, arrays: dict[str, npt.NDArray[np.generic]]) -> None:
        for dealer, vid, since in np.asarray(arrays["dispatch_queue"]).tolist():
            self.dispatch_queue[int(dealer)].append((int(vid), float(since)))
        self.lane_credit[:] = arrays["lane_credit"]
