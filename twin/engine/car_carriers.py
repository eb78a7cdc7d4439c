"""Car carriers between stockyards and dealers: loads formed at the yard, trucks of the lane's carrier as a
fleet granted first come, first served (``TruckFleet``, held for the loaded leg and the empty return), and
carrier disruptions.

A load's steps (truck granted, arrival, truck back) are scheduled SimPy events with callbacks
(``twin.engine.scheduling``), not a process per load. Loads waiting for a truck, loads on the road and trucks
driving back are kept as data, so a snapshot can resume them; what happens to the cars at the dealer is the
vehicle flow's business (``VehicleFlow.unload``).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple, Protocol

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
from twin.engine.scheduling import after
from twin.engine.transit import TransitTimes

#: what happens to a load's cars at its dealer: ``unload(dealer, vehicle ids, arrival time)``
Unload = Callable[[int, list[int], float], None]


class LoadSettlement(Protocol):
    """The settlement hook of a car-carrier load leaving its stockyard."""

    def load_departed(self, dealer: int, carrier: int, load: list[int]) -> None: ...


class WaitingLoad(NamedTuple):
    """A load formed at its stockyard and waiting for a truck of its lane's carrier."""

    dealer: int
    carrier: int
    vehicles: tuple[int, ...]
    #: when it claimed its truck: the claims in line are served in this order (a snapshot keeps it)
    claimed_day: float


@dataclass(eq=False)
class TruckClaim:
    """A claim on one truck of a carrier: ``on_grant`` runs the moment the truck is granted."""

    on_grant: Callable[[], None]
    granted: bool = False


def _held() -> None:
    """A disruption's hold on a truck does nothing when granted: the truck just stays out of service."""


class TruckFleet:
    """A carrier's trucks, granted in the order of SimPy's ``Resource``: a new claim, or a truck coming back,
    serves only the first claim in line, so no claim overtakes an older one. Counters instead of a
    ``Resource``, whose ``Request`` and ``Release`` are events of their own; here a grant and a return are
    steps of the load (a truck back is free for the next claim at once, where a ``Release`` event would
    grant it just after, at the same instant: nothing runs in between that could tell)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.in_use = 0
        self.waiting: deque[TruckClaim] = deque()

    @property
    def free_trucks(self) -> int:
        """Trucks neither out nor owed to a claim in line (negative: that many claims would still wait)."""
        return self.capacity - self.in_use - len(self.waiting)

    def claim(self, claim: TruckClaim) -> None:
        self.waiting.append(claim)
        self.serve_first()

    def release(self) -> None:
        """A truck is back: it goes to the first claim in line, if any."""
        self.in_use -= 1
        self.serve_first()

    def serve_first(self, times: int = 1) -> None:
        """The first claim in line gets a truck if one is free (``times`` over, one claim after another)."""
        for _ in range(times):
            if not self.waiting or self.in_use >= self.capacity:
                return
            claim = self.waiting.popleft()
            self.in_use += 1
            claim.granted = True
            claim.on_grant()

    def withdraw(self, claims: list[TruckClaim]) -> int:
        """Take back claims: trucks granted to them are free again (returns how many), the rest leave the
        line. The freed trucks serve no one yet: call ``serve_first`` (SimPy grants them a step later)."""
        freed = 0
        for claim in claims:
            if claim.granted:
                self.in_use -= 1
                freed += 1
            else:
                self.waiting.remove(claim)
        return freed


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
        self.trucks = {int(c): TruckFleet(int(carriers.fleet_size[c])) for c in carriers.of_mode("vehicles")}
        #: loads granted a truck during today's dispatch, leaving together in one event (None: not dispatching)
        self._granted_at_dispatch: list[tuple[WaitingLoad, list[int]]] | None = None
        self.yard_to_dealer_km = network.yard_to_dealer_km()
        self.yard_to_dealer_days = (
            self.yard_to_dealer_km / carriers.speed_km_per_day[network.vehicle_carrier]
            + operations.dc_dispatch_delay_days
        )
        #: per dealer, (vehicle id, time it joined the queue) waiting at the stockyard for a car carrier
        self.dispatch_queue: list[list[tuple[int, float]]] = [[] for _ in range(network.dealer_count)]
        #: loads formed but waiting for a free truck; loads on the road; trucks driving back (carrier, free at)
        self.loads_waiting: list[WaitingLoad] = []
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
        self._granted_at_dispatch = []
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
                self.queue_load(dealer, carrier, load)
                if limited:
                    self.lane_credit[dealer] -= 1.0
                    break
        self._leave_together()
        self._granted_at_dispatch = None

    def queue_load(self, dealer: int, carrier: int, load: list[int]) -> None:
        """A load formed now claims a truck of its lane's carrier and leaves when one is granted.

        The claim is made right here, not in a process of its own: such a process would make it first thing
        after today's dispatch, before any other event, so trucks are granted in the same order. The loads
        granted a truck during one dispatch leave in one event, where each process's grant event would have
        come, one after another with nothing in between."""
        waiting = WaitingLoad(dealer, carrier, tuple(load), self.env.now)
        self.loads_waiting.append(waiting)
        self.trucks[carrier].claim(TruckClaim(partial(self._load_granted, waiting, load)))

    def _load_granted(self, waiting: WaitingLoad, load: list[int]) -> None:
        """The load leaves at the next step of this instant, where SimPy would put the grant event (a load
        granted during a dispatch leaves with the others granted in it)."""
        if self._granted_at_dispatch is not None:
            self._granted_at_dispatch.append((waiting, load))
        else:
            after(self.env, 0.0, partial(self._loads_leave, [(waiting, load)]))

    def _grant_event(self, granted: simpy.Event) -> None:
        self._leave_together()
        granted.succeed()

    def _leave_together(self) -> None:
        """Schedule the loads granted so far in this dispatch (before any grant that comes after them)."""
        granted = self._granted_at_dispatch
        if granted:
            after(self.env, 0.0, partial(self._loads_leave, granted))
            self._granted_at_dispatch = []

    def truck_granted(self, carrier: int) -> simpy.Event:
        """An event that fires once a truck of ``carrier`` is granted (for processes: dealer transfers,
        resumed loads); the process gives it back with ``self.trucks[carrier].release()``."""
        granted = self.env.event()
        self.trucks[carrier].claim(TruckClaim(partial(self._grant_event, granted)))
        return granted

    def _loads_leave(self, loads: list[tuple[WaitingLoad, list[int]]], _: simpy.Event) -> None:
        for waiting, load in loads:
            dealer, carrier = waiting.dealer, waiting.carrier
            transit = self._load_departs(waiting, load)
            leg = self._leg_started(dealer, carrier, load, transit, transit)
            after(self.env, transit, partial(self._load_arrived, leg, dealer, carrier, load, transit))

    def _load_arrived(
        self,
        leg: int,
        dealer: int,
        carrier: int,
        load: list[int],
        return_days: float,
        _: simpy.Event,
    ) -> None:
        token = self._leg_arrived(leg, dealer, carrier, load, return_days)
        after(self.env, return_days, partial(self._truck_back, token, carrier))

    def _truck_back(self, token: int, carrier: int, _: simpy.Event) -> None:
        """The empty truck is back at its stockyard: the first claim waiting for the carrier gets it."""
        del self.trucks_returning[token]
        self.trucks[carrier].release()

    def _load_departs(self, waiting: WaitingLoad, load: list[int]) -> float:
        """A load got its truck: charge the freight, put its cars on the road; returns the transit days."""
        self.loads_waiting.remove(waiting)
        dealer, carrier = waiting.dealer, waiting.carrier
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
        return transit

    def _leg_started(
        self, dealer: int, carrier: int, load: list[int], remaining_days: float, return_days: float
    ) -> int:
        leg = next(self._tokens)
        self.loads_on_road[leg] = (dealer, carrier, load, self.env.now + remaining_days, return_days)
        return leg

    def _leg_arrived(self, leg: int, dealer: int, carrier: int, load: list[int], return_days: float) -> int:
        """The load reaches its dealer and is unloaded; the truck starts back (returns its token)."""
        del self.loads_on_road[leg]
        arrival = self.env.now
        self.unload(dealer, load, arrival)
        if self.event_log.enabled:
            self.event_log.record(
                arrival, "carrier_load_arrived", dealer=dealer, vins=self.vehicles.vins(load)
            )
        token = next(self._tokens)
        self.trucks_returning[token] = (carrier, arrival + return_days)
        return token

    def carry_load(self, dealer: int, carrier: int, load: list[int], claimed_day: float):
        """A load that was waiting for a truck when a snapshot was taken, as a process: it claims a truck again
        in the order the resumed run starts its processes (``snapshot.resume_truck_claims``), and keeps the
        time of its first claim for the next snapshot."""
        waiting = WaitingLoad(dealer, carrier, tuple(load), claimed_day)
        self.loads_waiting.append(waiting)
        yield self.truck_granted(carrier)
        transit = self._load_departs(waiting, load)
        yield from self.drive(dealer, carrier, load, transit, transit)
        self.trucks[carrier].release()

    def drive(self, dealer: int, carrier: int, load: list[int], remaining_days: float, return_days: float):
        """The loaded leg and the empty return as a process; the caller holds the truck throughout (dealer
        transfers and resumed loads; loads dispatched in the run take the same steps as scheduled events)."""
        leg = self._leg_started(dealer, carrier, load, remaining_days, return_days)
        yield self.env.timeout(remaining_days)
        token = self._leg_arrived(leg, dealer, carrier, load, return_days)
        yield self.env.timeout(return_days)
        del self.trucks_returning[token]

    def resume_load(
        self, dealer: int, carrier: int, load: list[int], remaining_days: float, return_days: float
    ):
        """A load that was on the road when a snapshot was taken."""
        yield self.truck_granted(carrier)
        yield from self.drive(dealer, carrier, load, remaining_days, return_days)
        self.trucks[carrier].release()

    def block_trucks(self, block: VehicleFleetBlock):
        """A carrier disruption: trucks leave the fleet as they come free, and return when it ends."""
        if block.start_day > self.env.now:
            yield self.env.timeout(block.start_day - self.env.now)
        fleet = self.trucks[block.carrier]
        holds = [TruckClaim(_held) for _ in range(block.trucks)]
        for hold in holds:
            fleet.claim(hold)
        yield self.env.timeout(max(0.0, block.end_day - self.env.now))
        freed = fleet.withdraw(holds)
        if freed:  # each truck given back serves the first claim in line just after, as a Release event would
            after(self.env, 0.0, lambda _: fleet.serve_first(freed))

    def hold_truck(self, carrier: int, remaining_days: float):
        """A truck driving back empty when a snapshot was taken."""
        yield self.truck_granted(carrier)
        token = next(self._tokens)
        self.trucks_returning[token] = (carrier, self.env.now + remaining_days)
        yield self.env.timeout(remaining_days)
        del self.trucks_returning[token]
        self.trucks[carrier].release()

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
                    (number, dealer, carrier, vid, claimed_day)
                    for number, (dealer, carrier, load, claimed_day) in enumerate(self.loads_waiting)
                    for vid in load
                ],
                5,
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
