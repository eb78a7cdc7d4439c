"""Dealer-to-dealer vehicle moves for the rebalancing flow: which VINs, which truck, and whether they sold.

The pure policy (``twin.policies.vehicle_rebalancing``) recommends per dealer x spec; the flow's OEM policy
engine decides. Here decided lines become car-carrier loads: the sender's oldest vehicles of the spec leave
first (aged stock is what rebalancing is for), never below the sender's floor, one load per lane at a time
of the sender's vehicle carrier, and only when one of its trucks is free now (a transfer that finds no truck
is planned again next cycle instead of queueing behind the OEM's own loads). A load drives like any
car-carrier load (``CarCarriers.drive``, so a snapshot resumes it) and unloads into the receiver's yard; a
moved vehicle keeps its age (days since it first reached a dealer), so moving stock does not make it young.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
import numpy.typing as npt
import simpy

from twin.config import OperationsConfig, TransferConfig
from twin.domain.network import Network
from twin.domain.parts import PART_CLASS_NAMES
from twin.domain.vehicles import SiteKind, SpecCatalog, VehicleStatus
from twin.engine.car_carriers import CarCarriers
from twin.engine.eventlog import EventLog
from twin.engine.kpis import KpiRecorder
from twin.engine.settlement_posting import SettlementFlow
from twin.engine.transit import TransitTimes
from twin.engine.vehicle_flow import DELIVERY_DAYS, VehicleFlow
from twin.policies.protocols import TransferPolicy
from twin.policies.transfer_planner import FreightModel
from twin.policies.transfer_rules import transfer_groups
from twin.policies.vehicle_rebalancing import VehicleRecommendations
from twin.settlement.money import inr_to_paise
from twin.settlement.payers import FreightCategory
from twin.settlement.transfers import TransferBatch as SettlementBatch

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
#: per moved vehicle: id, receiver, arrival day, planned benefit, aged when it left
MOVED_COLUMNS = ("vehicle", "receiver", "arrive_day", "benefit_inr", "aged")


class TransferLedger(Protocol):
    """What vehicle moves share with the parts transfers of the rebalancing flow (``RebalancingFlow``): the
    counters per kind, truck and transfer ids, the transfers to settle on arrival and the weekly caps."""

    counters: list[dict[str, float]]
    next_shipment: int
    next_transfer: int
    arriving: dict[int, list[SettlementBatch]]

    def count_recent(
        self, day: int, sender: npt.ArrayLike, receiver: npt.ArrayLike, shipment: npt.ArrayLike
    ) -> None: ...


class VehicleTransfers:
    def __init__(
        self,
        ledger: TransferLedger,
        transfer_policy: TransferPolicy,
        clock: simpy.Environment,
        config: TransferConfig,
        operations: OperationsConfig,
        network: Network,
        specs: SpecCatalog,
        distance_km: FloatArray,
        vehicles: VehicleFlow,
        carriers: CarCarriers,
        transit: TransitTimes,
        settlement: SettlementFlow,
        kpis: KpiRecorder,
        event_log: EventLog,
    ) -> None:
        self.flow = ledger
        self.env = clock
        self.network = network
        self.operations = operations
        self.distance_km = distance_km
        self.vehicles = vehicles
        self.carriers = carriers
        self.transit = transit
        self.settlement = settlement
        self.kpis = kpis
        self.event_log = event_log
        carriers_table = network.carriers
        self.sender_carrier = network.vehicle_carrier
        # priced like the ledger prices a transfer: the carrier's minimum, else its slots' share of a load
        main = int(np.bincount(network.vehicle_carrier).argmax())
        freight = FreightModel.load_share_card(
            carriers_table.minimum_charge_inr[main],
            carriers_table.rate_per_km_inr[main],
            carriers_table.capacity_per_load[main],
        )
        self.unit_cost_inr = vehicles.vehicle_cost_inr
        self.margin_inr = specs.price_inr * operations.vehicle_margin_share
        self.policy = transfer_policy.vehicle_planner(
            distance_km,
            freight,
            self.unit_cost_inr,
            self.margin_inr,
            len(PART_CLASS_NAMES) + specs.model.astype(np.int64),
            operations.floor_plan_rate_per_year,
        )
        self.age_limit_days = config.vehicle_age_limit_days
        self.cover_days = self.policy.cover_days
        self.moved: dict[int, tuple[int, int, float, bool]] = {}

    def aged_units(self) -> IntArray:
        """Vehicles per dealer x spec that have been in dealer yards longer than the age limit."""
        flow = self.vehicles
        table = flow.vehicles
        aged = np.zeros(flow.dealer_stock.shape, dtype=np.int64)
        in_yards = flow.in_dealer_yards()
        old = in_yards[self.env.now - table.received_day[in_yards] > self.age_limit_days]
        np.add.at(aged, (table.site_index[old].astype(np.int64), table.spec[old].astype(np.int64)), 1)
        return aged

    def recommend(self) -> VehicleRecommendations:
        """On the control tower's live view (not the OEM's weekly export the baseline allocates on)."""
        return self.policy.recommend(self.vehicles.export_view(), self.aged_units())

    # -- shipping -----------------------------------------------------------------------------------
    def execute(self, lines: dict[str, FloatArray], day: int, counted: bool) -> int:
        """Load each decided transfer's vehicles (oldest first, above the floor, while trucks are free)."""
        flow = self.flow
        vehicles, carriers = self.vehicles, self.carriers
        network = self.network
        free_trucks = {carrier: fleet.free_trucks for carrier, fleet in carriers.trucks.items()}
        first, group = transfer_groups(lines["shipment"], lines["sender"], lines["receiver"])
        counters = flow.counters[1]
        rows: list[tuple[int, int, int, int, float, int, float, int]] = []
        for transfer in np.argsort(first, kind="stable").tolist():  # in the decision's priority order
            members = np.flatnonzero(group == transfer)
            sender, receiver = int(lines["sender"][members[0]]), int(lines["receiver"][members[0]])
            carrier = int(self.sender_carrier[sender])
            slots = int(network.carriers.capacity_per_load[carrier])
            room = int(free_trucks.get(carrier, 0)) * slots
            picked: list[tuple[int, float]] = []
            for line in members.tolist():
                spec = int(lines["item"][line])
                spare = int(vehicles.dealer_stock[sender, spec]) - int(lines["floor_units"][line])
                take = int(max(0, min(int(lines["units"][line]), spare, room - len(picked))))
                per_vehicle = float(lines["benefit_inr"][line]) / max(float(lines["units"][line]), 1.0)
                picked += [(vehicles.take_from_dealer_yard(sender, spec), per_vehicle) for _ in range(take)]
                counters["lines_trimmed"] += float(take < int(lines["units"][line]))
            if not picked:
                continue
            counters["lines_executed"] += float(members.size)
            for start in range(0, len(picked), slots):
                load = picked[start : start + slots]
                free_trucks[carrier] -= 1
                rows.append(self._dispatch(sender, receiver, carrier, load, day))
        if not rows:
            return 0
        self._settle_on_arrival(rows, day, self.env.now, counted)
        return len(rows)

    def _dispatch(
        self, sender: int, receiver: int, carrier: int, load: list[tuple[int, float]], day: int
    ) -> tuple[int, int, int, int, float, int, float, int]:
        """Put one load on the road; returns its settlement row (sender, receiver, carrier, truck, km,
        vehicles, value, arrive day)."""
        flow, vehicles = self.flow, self.vehicles
        now = self.env.now
        distance = float(self.distance_km[sender, receiver])
        speed = float(self.network.carriers.speed_km_per_day[carrier])
        transit = (self.operations.dc_dispatch_delay_days + distance / speed) * self.transit.factor(
            "vehicle_lane", day, receiver
        )
        ids = [vehicle_id for vehicle_id, _ in load]
        arrive_day = max(1, math.ceil(now + transit))
        for vehicle_id, benefit in load:
            vehicle = vehicles.vehicles[vehicle_id]
            aged = now - vehicle.received_day > self.age_limit_days
            vehicle.dealer = receiver
            vehicles.dealer_inbound[receiver, vehicle.spec] += 1
            vehicle.move(VehicleStatus.IN_TRANSIT, SiteKind.ROAD, receiver, now)
            vehicle.eta_day = now + transit
            self.moved[vehicle_id] = (receiver, arrive_day, benefit, aged)
            self.flow.counters[1]["planned_benefit_executed_inr"] += benefit
        self.env.process(self._carry(receiver, carrier, ids, transit))
        if self.event_log.enabled:
            self.event_log.record(
                now,
                "vehicle_transfer_departed",
                sender=sender,
                receiver=receiver,
                vins=[vehicles.vehicles[v].vin for v in ids],
                arrive_day=arrive_day,
            )
        truck = flow.next_shipment
        flow.next_shipment += 1
        value = float(self.unit_cost_inr[[vehicles.vehicles[v].spec for v in ids]].sum())
        return (sender, receiver, carrier, truck, distance, len(ids), value, arrive_day)

    def _carry(self, receiver: int, carrier: int, load: list[int], transit: float):
        carriers = self.carriers
        yield carriers.truck_granted(carrier)
        yield from carriers.drive(receiver, carrier, load, transit, transit)
        carriers.trucks[carrier].release()

    def _settle_on_arrival(
        self,
        rows: list[tuple[int, int, int, int, float, int, float, int]],
        day: int,
        now: float,
        counted: bool,
    ) -> None:
        flow = self.flow
        columns = list(zip(*rows, strict=True))
        count = len(rows)
        transfer_ids = flow.next_transfer + np.arange(count, dtype=np.int64)
        flow.next_transfer += count
        batch = SettlementBatch.of(
            transfer_id=transfer_ids,
            category=np.full(count, int(FreightCategory.VEHICLE_TRANSFER)),
            sender=columns[0],
            receiver=columns[1],
            carrier=columns[2],
            truck=columns[3],
            ship_day=np.full(count, day),
            arrive_day=columns[7],
            distance_km=columns[4],
            volume=columns[5],
            transfer_price_paise=inr_to_paise(columns[6]),
        )
        freight_inr = self.settlement.transfer_freight_inr(batch)
        self.kpis.add(now, "freight_transfer_inr", freight_inr)
        for arrive in np.unique(batch.arrive_day).tolist():
            flow.arriving[arrive].append(batch.select(batch.arrive_day == arrive))
        if not counted:
            flow.count_recent(day, batch.sender, batch.receiver, batch.truck)
        counters = flow.counters[1]
        counters["transfers_executed"] += count
        counters["shipments_executed"] += count
        counters["units_executed"] += float(batch.volume.sum())
        counters["value_executed_inr"] += float(np.sum(columns[6]))
        counters["freight_inr"] += freight_inr

    # -- use and results ----------------------------------------------------------------------------
    def update_use(self) -> None:
        """Moved vehicles the receiver sold within the cover horizon after they arrived: their margin is the
        realised benefit (recounted from the VINs, so it is the same after a snapshot)."""
        vehicles = self.vehicles
        now = self.env.now
        used, realised = 0.0, 0.0
        for vehicle_id, (receiver, arrive_day, benefit, _) in self.moved.items():
            vehicle = vehicles.vehicles[vehicle_id]
            if vehicle.dealer != receiver or vehicle.status not in (
                VehicleStatus.RESERVED,
                VehicleStatus.DELIVERED,
            ):
                continue
            sold_day = vehicle.delivered_day - DELIVERY_DAYS if vehicle.delivered_day >= 0 else now
            if sold_day <= arrive_day + self.cover_days:
                used += 1
                realised += benefit
        self.flow.counters[1]["units_used"] = used
        self.flow.counters[1]["realised_benefit_inr"] = realised

    def summary(self) -> dict[str, float]:
        aged = sum(1 for _, _, _, was_aged in self.moved.values() if was_aged)
        return {"vehicle_transfer_aged_units": float(aged)}

    def state_arrays(self) -> dict[str, FloatArray]:
        rows = [(vehicle, *record) for vehicle, record in self.moved.items()]
        return {"moved": np.asarray(rows, dtype=np.float64).reshape(-1, len(MOVED_COLUMNS))}

    def load_state_arrays(self, arrays: dict[str, npt.NDArray[np.generic]]) -> None:
        self.moved = {
            int(row[0]): (int(row[1]), int(row[2]), float(row[3]), bool(row[4]))
            for row in np.asarray(arrays["moved"], dtype=np.float64).tolist()
        }
