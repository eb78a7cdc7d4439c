"""Dealer-to-dealer parts transfers in the twin: plan, decide, wait for approval, ship, receive, settle.

Each cycle (d+0.70, before the day's replenishment) the pure rebalancing policy recommends transfers and the
OEM policy engine decides each line: auto-execute ships at once; approval waits for a network manager
(latency and approval drawn from the run's ``transfers:approval`` stream) and ships when approved, re-checked
against the sender's stock at that moment; reject is only logged. Every decision goes to the audit table
with the rule or guard that made it.

A shipment is one truck (a lane's consignment or a multi-stop route) of the sender's parts carrier. It uses
that carrier's capacity for the day, takes the lane's transit time with the day's noise, and moves stock
only when it departs (sender's shelf -> the receiver's in-transit) and arrives (-> the receiver's shelf,
through the same inbound queue as DC consignments). On arrival each transfer (one per shipment, sender and
receiver) is settled in the ledger at the parts' cost plus the carrier's charge.

Realised benefit: a transferred unit counts as used when the receiver fills demand for that SKU within the
deficit horizon after arrival; its planned benefit per unit is then credited. The A/B against a run
without transfers is the causal measure; this in-run figure says which transfers were used at all.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import numpy.typing as npt
import pandas as pd
import simpy

from twin.config import OperationsConfig, TransferConfig
from twin.domain.lead_time import usable_days
from twin.domain.parts import PART_CLASS_NAMES
from twin.domain.world import World
from twin.engine.demand import PartsLines
from twin.engine.eventlog import EventLog
from twin.engine.kpis import KpiRecorder
from twin.engine.parts_export import PartsExport
from twin.engine.parts_flow import LineOutcome, PartsFlow, scatter_add
from twin.engine.parts_logistics import PartsLogistics, Shipment
from twin.engine.settlement_posting import SettlementFlow
from twin.engine.streams import RandomStreams
from twin.engine.transit import TransitTimes
from twin.engine.vehicle_flow import VehicleFlow
from twin.engine.vehicle_transfers import VehicleTransfers
from twin.errors import ConfigError
from twin.policies.observation import PartsView
from twin.policies.protocols import TransferPolicy
from twin.policies.transfer_planner import FreightModel
from twin.policies.transfer_rules import APPROVAL, AUTO_EXECUTE, REJECT, TransferBatch, transfer_groups
from twin.settlement.money import inr_to_paise
from twin.settlement.payers import FreightCategory
from twin.settlement.transfers import TransferBatch as SettlementBatch

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: what a transfer line moves: parts (item = SKU) or vehicles (item = spec)
PARTS, VEHICLES = 0, 1
KIND_NAMES = ("parts", "vehicles")
#: columns of a transfer line as the flow keeps it (approvals waiting, audit), all float64 for snapshots
LINE_COLUMNS = (
    "kind", "sender", "receiver", "item", "units", "shipment", "distance_km", "benefit_inr", "freight_inr",
    "value_inr", "floor_units", "decided_day", "due_time",
)  # fmt: skip
COUNTERS = (
    "cycles", "lines_recommended", "lines_auto", "lines_approval", "lines_rejected", "lines_approved",
    "lines_declined", "lines_executed", "lines_trimmed", "transfers_executed", "shipments_executed",
    "units_executed", "value_executed_inr", "freight_inr", "planned_benefit_executed_inr",
    "approval_wait_hours_sum", "approval_decisions", "units_used", "realised_benefit_inr",
    "transfers_auto", "transfers_approved", "units_arrived",
)  # fmt: skip


class RebalancingFlow:
    def __init__(
        self,
        clock: simpy.Environment,
        config: TransferConfig,
        policy: TransferPolicy,
        operations: OperationsConfig,
        world: World,
        generator_seed: int,
        parts: PartsFlow,
        logistics: PartsLogistics,
        parts_view: Callable[[], PartsView],
        unit_cost_inr: FloatArray,
        transit: TransitTimes,
        vehicles: VehicleFlow,
        settlement: SettlementFlow,
        streams: RandomStreams,
        kpis: KpiRecorder,
        event_log: EventLog,
        export: PartsExport | None = None,
    ) -> None:
        """``policy``: the transfer family's planners, rules and approvals (``policy.transfers._target_``);
        ``generator_seed`` (the network's) draws which dealers opted in; ``vehicles`` is used only with
        ``config.vehicles`` (dealer-to-dealer vehicle moves); ``parts_view`` is what the OEM sees of dealers,
        and ``export``, in the weekly-export world, the DMS export it is told of the transfers it ships."""
        self.env = clock
        self.export = export
        self.transfer_policy = policy
        self.operations = operations
        self.parts = parts
        self.logistics = logistics
        self.parts_view = parts_view
        self.unit_cost_inr = unit_cost_inr
        self.transit = transit
        self.settlement = settlement
        self.streams = streams
        self.kpis = kpis
        self.event_log = event_log
        self.config = config
        self.enabled = config.enabled
        network = world.network
        dealers = network.dealer_count
        self.dealers, self.skus = dealers, parts.skus
        self.distance_km = network.dealer_to_dealer_km()
        carriers = network.carriers
        self.sender_carrier = network.parts_carrier
        # the planner prices a consignment like the dealers' main parts carrier's card: a minimum per
        # consignment, else the load share of a truck's per-km rate
        main = int(np.bincount(network.parts_carrier).argmax())
        self.freight = FreightModel.load_share_card(
            carriers.minimum_charge_inr[main],
            carriers.rate_per_km_inr[main],
            carriers.capacity_per_load[main],
        )
        self.policy = policy.parts_planner(
            self.distance_km,
            self.freight,
            operations.parts_margin_share,
            operations.emergency_charge_per_line_inr,
        )
        self.rules = policy.decision_rules((*PART_CLASS_NAMES, *world.specs.model_names))
        self.approval = policy.approval
        if not 0.0 <= config.dealer_opt_in_share <= 1.0:
            raise ConfigError(
                "policy.transfers.dealer_opt_in_share", config.dealer_opt_in_share, "must be in [0, 1]"
            )
        # which dealers opted in is a fact about the network, not a replication: the generator seed draws it
        opt_in_rng = np.random.default_rng(np.random.SeedSequence([generator_seed, 6]))
        self.opted_in = opt_in_rng.random(dealers) < config.dealer_opt_in_share
        self.speed_km_per_day = carriers.speed_km_per_day
        #: transfers each dealer took part in (executed or approved), per day of the last 7
        self.recent = np.zeros((7, dealers), dtype=np.int64)
        #: per kind (parts, vehicles): what was recommended, decided, shipped, used
        self.counters = [dict.fromkeys(COUNTERS, 0.0) for _ in KIND_NAMES]
        self.rejected_by: list[dict[str, float]] = [defaultdict(float) for _ in KIND_NAMES]
        self.next_shipment = 0
        self.next_transfer = 0
        #: approval lines waiting for a decision (columns of LINE_COLUMNS), resumed after a snapshot
        self.awaiting: dict[int, dict[str, FloatArray]] = {}
        self._awaiting_ids = 0
        #: transfers on the road, settled on arrival: arrive day -> settlement batches
        self.arriving: dict[int, list[SettlementBatch]] = defaultdict(list)
        #: units of transferred stock not yet used at the receiver, their benefit per unit, expiry
        self.watch_units = np.zeros(dealers * self.skus, dtype=np.float32)
        self.watch_value = np.zeros(dealers * self.skus, dtype=np.float32)
        self.watch_expiry: dict[int, list[IntArray]] = defaultdict(list)
        #: the audit trail: one row per recommendation line and decision
        self.audit: list[dict[str, npt.NDArray[np.generic]]] = []
        #: dealer-to-dealer vehicle moves (policy.transfers.vehicles), sharing the rules, caps and ledger
        self.vehicles: VehicleTransfers | None = None
        if config.vehicles:
            self.vehicles = VehicleTransfers(
                self, policy, clock, config, operations, network, world.specs, self.distance_km, vehicles,
                vehicles.carriers, transit, settlement, kpis, event_log,
            )  # fmt: skip

    # -- the cycle ----------------------------------------------------------------------------------
    def cycle(self, day: int) -> None:
        """The parts cycle: recommend for the SKUs the DCs cannot cover, decide, ship or wait."""
        left = self.rules.transfers_left(self.recent.sum(axis=0))
        view = replace(self.parts_view(), transfers_left_this_week=left)
        recommendations = self.policy.recommend(view)
        self._decide(
            PARTS,
            recommendations.batch,
            recommendations.sku,
            recommendations.stock_units,
            recommendations.floor_units,
            day,
        )

    def vehicle_cycle(self, day: int) -> None:
        """The vehicle cycle: aged or excess vehicles to dealers whose sales say they will move."""
        assert self.vehicles is not None
        recommendations = self.vehicles.recommend()
        batch = recommendations.batch
        self._decide(
            VEHICLES, batch, batch.item, recommendations.stock_units, recommendations.floor_units, day
        )

    def _decide(
        self,
        kind: int,
        batch: TransferBatch,
        item: IntArray,
        stock_units: IntArray,
        floor_units: IntArray,
        day: int,
    ) -> None:
        """The OEM policy engine decides every line; auto-executed ones ship now, the rest wait or are logged."""
        counters = self.counters[kind]
        counters["cycles"] += 1
        if len(batch) == 0:
            return
        decisions = self.rules.decide(batch, self.opted_in, self.recent.sum(axis=0), stock_units, floor_units)
        floor = floor_units[batch.sender, batch.item]
        lines = {
            "kind": np.full(len(batch), float(kind)),
            "sender": batch.sender.astype(float),
            "receiver": batch.receiver.astype(float),
            "item": item.astype(float),
            "units": batch.units.astype(float),
            "shipment": batch.shipment.astype(float),
            "distance_km": batch.distance_km,
            "benefit_inr": batch.benefit_inr,
            "freight_inr": batch.freight_inr,
            "value_inr": batch.value_inr,
            "floor_units": floor.astype(float),
            "decided_day": np.full(len(batch), float(day)),
            "due_time": np.full(len(batch), self.env.now),
        }
        action = decisions.action
        counters["lines_recommended"] += len(batch)
        counters["lines_auto"] += float((action == AUTO_EXECUTE).sum())
        counters["lines_approval"] += float((action == APPROVAL).sum())
        counters["lines_rejected"] += float((action == REJECT).sum())
        decider = decisions.decider_names()
        for name in np.unique(decider[action == REJECT]).tolist():
            self.rejected_by[kind][name] += float((decider[action == REJECT] == name).sum())
        self.audit.append(
            {
                "day": np.full(len(batch), day, dtype=np.int32),
                "kind": np.full(len(batch), KIND_NAMES[kind]),
                "sender": batch.sender.astype(np.int32),
                "receiver": batch.receiver.astype(np.int32),
                "item": item.astype(np.int32),
                "units": batch.units.astype(np.int32),
                "planned_shipment": batch.shipment.astype(np.int32),
                "value_inr": batch.value_inr,
                "distance_km": batch.distance_km,
                "freight_inr": batch.freight_inr,
                "benefit_inr": batch.benefit_inr,
                "action": decisions.action_names(),
                "decided_by": decider,
            }
        )
        if self.event_log.enabled:
            for index in range(len(batch)):
                self.event_log.record(
                    self.env.now,
                    "transfer_decided",
                    kind=KIND_NAMES[kind],
                    sender=int(batch.sender[index]),
                    receiver=int(batch.receiver[index]),
                    item=int(item[index]),
                    units=int(batch.units[index]),
                    action=str(decisions.action_names()[index]),
                    decided_by=str(decider[index]),
                )
        auto = action == AUTO_EXECUTE
        if auto.any():
            counters["transfers_auto"] += self._execute(_select(lines, auto), day)
        waiting = action == APPROVAL
        if waiting.any():
            self._send_for_approval(_select(lines, waiting), day)

    def _send_for_approval(self, lines: dict[str, FloatArray], day: int) -> None:
        """A person decides per transfer (shipment, sender, receiver); approved ones count against the cap now."""
        first, transfer = transfer_groups(lines["shipment"], lines["sender"], lines["receiver"])
        kind = int(lines["kind"][0])
        counters = self.counters[kind]
        outcome = self.approval.draw(len(first), self.streams.get(f"transfers:approval:{KIND_NAMES[kind]}"))
        counters["approval_decisions"] += len(first)
        counters["approval_wait_hours_sum"] += float(outcome.latency_hours.sum())
        approved = outcome.approved[transfer]
        counters["lines_approved"] += float(approved.sum())
        counters["lines_declined"] += float((~approved).sum())
        lines = dict(lines)
        lines["due_time"] = self.env.now + outcome.latency_hours[transfer] / 24.0
        if approved.any():
            self.count_recent(
                day, lines["sender"][approved], lines["receiver"][approved], lines["shipment"][approved]
            )
            for due in np.unique(lines["due_time"][approved]).tolist():
                self._await(_select(lines, approved & (lines["due_time"] == due)))

    def _await(self, lines: dict[str, FloatArray]) -> None:
        token = self._awaiting_ids
        self._awaiting_ids += 1
        self.awaiting[token] = lines
        self.env.process(self._approval_arrives(token))

    def _approval_arrives(self, token: int):
        lines = self.awaiting[token]
        yield self.env.timeout(max(float(lines["due_time"][0]) - self.env.now, 0.0))
        del self.awaiting[token]
        shipped = self._execute(lines, int(self.env.now), counted=True)
        self.counters[int(lines["kind"][0])]["transfers_approved"] += shipped

    def count_recent(
        self, day: int, sender: npt.ArrayLike, receiver: npt.ArrayLike, shipment: npt.ArrayLike
    ) -> None:
        """Count each distinct transfer (shipment, sender, receiver) against both dealers' weekly cap."""
        first, _ = transfer_groups(shipment, sender, receiver)
        row = self.recent[day % 7]
        np.add.at(row, np.asarray(sender, dtype=np.int64)[first], 1)
        np.add.at(row, np.asarray(receiver, dtype=np.int64)[first], 1)

    # -- shipping -----------------------------------------------------------------------------------
    def _execute(self, lines: dict[str, FloatArray], day: int, counted: bool = False) -> int:
        """Ship a set of decided lines of one kind; returns the number of transfers shipped."""
        if int(lines["kind"][0]) == VEHICLES:
            assert self.vehicles is not None
            return self.vehicles.execute(lines, day, counted)
        return self._execute_parts(lines, day, counted)

    def _execute_parts(self, lines: dict[str, FloatArray], day: int, counted: bool) -> int:
        """Ship what the sender can still spare (above its floor) and the carrier can still carry today."""
        logistics = self.logistics
        parts = self.parts.state
        skus = self.skus
        sender = lines["sender"].astype(np.int64)
        receiver = lines["receiver"].astype(np.int64)
        sku = lines["item"].astype(np.int64)
        wanted = lines["units"].astype(np.int64)
        cell = sender * skus + sku
        spare = np.maximum(
            parts.on_hand.reshape(-1)[cell].astype(np.int64)
            - parts.reserved.reshape(-1)[cell]
            - lines["floor_units"].astype(np.int64),
            0,
        )
        units = _greedy_within(cell, wanted, spare)
        carrier = self.sender_carrier[sender]
        units = _greedy_within(carrier, units, logistics.carrier_capacity_left(day)[carrier])
        counters = self.counters[PARTS]
        counters["lines_trimmed"] += float((units < wanted).sum())
        moving = units > 0
        if not moving.any():
            return 0
        sender, receiver, sku, units, cell, carrier = (
            sender[moving], receiver[moving], sku[moving], units[moving], cell[moving], carrier[moving]
        )  # fmt: skip
        shipment_key = lines["shipment"][moving]
        benefit_per_unit = (lines["benefit_inr"] / np.maximum(lines["units"], 1.0))[moving]
        logistics.use_carrier_capacity(day, carrier, units)
        quantity = units.astype(np.int32)
        scatter_add(parts.on_hand.reshape(-1), cell, -quantity)
        self.parts.dispatch(receiver, sku, quantity)
        logistics.touch(cell)
        receiver_cell = receiver * skus + sku
        logistics.touch(receiver_cell)

        # one truck per planned shipment and cycle; one transfer per truck, sender and receiver
        _, truck_local = np.unique(shipment_key, return_inverse=True)
        truck = self.next_shipment + truck_local.ravel()
        self.next_shipment = int(truck.max()) + 1
        first, transfer_local = transfer_groups(truck, sender, receiver)
        transfer_count = len(first)
        if not counted:
            self.count_recent(day, sender.astype(float), receiver.astype(float), truck.astype(float))
        now = self.env.now
        noise = self.transit.factors("parts_lane", day)
        dispatch_delay_days = self.operations.dc_dispatch_delay_days
        distance = self.distance_km[sender, receiver]
        transit = (dispatch_delay_days + distance / self.speed_km_per_day[carrier]) * noise[receiver]
        # a truck arrives at its stops with its own noise; the per-line transit keeps each lane's distance
        arrive_day = usable_days(now, transit)
        promised = usable_days(now, dispatch_delay_days + distance / self.speed_km_per_day[carrier]).astype(
            float
        )
        np.minimum.at(logistics.inbound_eta_day, receiver_cell, promised.astype(np.float32))
        if self.export is not None:  # the OEM ordered the transfer: it knows without waiting for an export
            self.export.sent(cell, quantity)
            self.export.shipped(receiver_cell, quantity, promised)
        for receive_day in np.unique(arrive_day).tolist():
            members = arrive_day == receive_day
            logistics.inbound[receive_day].append(
                Shipment(receive_day, receiver[members], sku[members], quantity[members])
            )

        # settlement: per transfer, the parts at cost and the units it takes on its truck
        transfer_units = np.bincount(transfer_local, weights=units, minlength=transfer_count)
        value = np.bincount(transfer_local, weights=units * self.unit_cost_inr[sku], minlength=transfer_count)
        transfer_ids = self.next_transfer + np.arange(transfer_count, dtype=np.int64)
        self.next_transfer += transfer_count
        settlement_batch = SettlementBatch.of(
            transfer_id=transfer_ids,
            category=np.full(transfer_count, int(FreightCategory.PARTS_TRANSFER)),
            sender=sender[first],
            receiver=receiver[first],
            carrier=carrier[first],
            truck=truck[first],
            ship_day=np.full(transfer_count, day),
            arrive_day=arrive_day[first],  # a transfer's lines share truck, lane and noise
            distance_km=distance[first],
            volume=transfer_units,
            transfer_price_paise=inr_to_paise(value),
        )
        freight_inr = self.settlement.transfer_freight_inr(settlement_batch)
        self.kpis.add(now, "freight_transfer_inr", freight_inr)
        for arrive in np.unique(settlement_batch.arrive_day).tolist():
            self.arriving[arrive].append(settlement_batch.select(settlement_batch.arrive_day == arrive))

        # realised benefit: watch the receiving cells from arrival to the end of the deficit horizon
        np.add.at(self.watch_units, receiver_cell, units.astype(np.float32))
        np.maximum.at(self.watch_value, receiver_cell, benefit_per_unit.astype(np.float32))
        horizon = math.ceil(self.policy.deficit_cover_days)
        for receive_day in np.unique(arrive_day).tolist():
            self.watch_expiry[receive_day + horizon].append(receiver_cell[arrive_day == receive_day])

        counters["lines_executed"] += float(units.size)
        counters["transfers_executed"] += transfer_count
        counters["shipments_executed"] += float(np.unique(truck).size)
        counters["units_executed"] += float(units.sum())
        counters["value_executed_inr"] += float(value.sum())
        counters["freight_inr"] += freight_inr
        counters["planned_benefit_executed_inr"] += float((benefit_per_unit * units).sum())
        if self.event_log.enabled:
            for index in range(transfer_count):
                self.event_log.record(
                    now,
                    "transfer_departed",
                    transfer=int(transfer_ids[index]),
                    sender=int(settlement_batch.sender[index]),
                    receiver=int(settlement_batch.receiver[index]),
                    units=int(transfer_units[index]),
                    arrive_day=int(settlement_batch.arrive_day[index]),
                )
        return transfer_count

    # -- arrival and use ----------------------------------------------------------------------------
    def arrivals(self, day: int) -> None:
        """The morning's transfers are on the receivers' shelves (the inbound queue put them there):
        settle them, stop watching cells whose horizon ended, forget transfers older than 7 days."""
        self.recent[day % 7] = 0
        arrived = self.arriving.pop(day, [])
        for batch in arrived:
            kind = VEHICLES if int(batch.category[0]) == int(FreightCategory.VEHICLE_TRANSFER) else PARTS
            self.counters[kind]["units_arrived"] += float(batch.volume.sum())
        self.settlement.transfers_arrived(arrived)
        for cells in self.watch_expiry.pop(day, []):
            self.watch_units[cells] = 0.0

    def observe_fills(self, lines: PartsLines, outcome: LineOutcome) -> None:
        """Credit transferred units the receivers sold today (called after the day's lines are filled)."""
        cells = lines.location * self.skus + lines.sku
        watched = self.watch_units[cells] > 0
        if not watched.any():
            return
        cells = cells[watched]
        filled = outcome.filled_units[watched].astype(np.float64)
        unique, inverse = np.unique(cells, return_inverse=True)
        filled_per_cell = np.bincount(inverse.ravel(), weights=filled, minlength=unique.size)
        used = np.minimum(filled_per_cell, self.watch_units[unique])
        self.watch_units[unique] -= used.astype(np.float32)
        self.counters[PARTS]["units_used"] += float(used.sum())
        self.counters[PARTS]["realised_benefit_inr"] += float((used * self.watch_value[unique]).sum())

    # -- snapshots ----------------------------------------------------------------------------------
    def state_arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        """Everything a resumed run needs: approvals still waiting, transfers on the road (for their
        settlement), the weekly counts, the use watch, the counters and the audit so far."""
        arrays: dict[str, npt.NDArray[np.generic]] = {
            "recent": self.recent.copy(),
            "counters": np.array([[counters[name] for name in COUNTERS] for counters in self.counters]),
            "next_ids": np.array(
                [self.next_shipment, self.next_transfer, self._awaiting_ids], dtype=np.int64
            ),
            "watch_units": self.watch_units.copy(),
            "watch_value": self.watch_value.copy(),
            "watch_expiry": _rows(
                [
                    np.stack([np.full(c.size, day), c], axis=1)
                    for day, cells in self.watch_expiry.items()
                    for c in cells
                ],
                2,
            ),
            "awaiting": _rows(
                [
                    np.column_stack(
                        [np.full(lines["units"].size, token), *(lines[name] for name in LINE_COLUMNS)]
                    )
                    for token, lines in self.awaiting.items()
                ],
                1 + len(LINE_COLUMNS),
            ),
            "arriving": SettlementBatch.to_rows(
                [batch for batches in self.arriving.values() for batch in batches]
            ),
        }
        rejected = [
            (kind, name) for kind in range(len(KIND_NAMES)) for name in sorted(self.rejected_by[kind])
        ]
        arrays["rejected_by_kind"] = np.array([kind for kind, _ in rejected], dtype=np.int64)
        arrays["rejected_by_names"] = np.array([name for _, name in rejected], dtype=np.str_)
        arrays["rejected_by_counts"] = np.array([self.rejected_by[kind][name] for kind, name in rejected])
        if self.vehicles is not None:
            arrays |= {f"vehicles_{name}": array for name, array in self.vehicles.state_arrays().items()}
        audit = self.audit_frame()
        for column in audit.columns:
            values = audit[column]
            numeric = pd.api.types.is_numeric_dtype(values)
            arrays[f"audit_{column}"] = (
                values.to_numpy() if numeric else values.astype(str).to_numpy(dtype=np.str_)
            )
        return arrays

    def load_state_arrays(self, arrays: dict[str, npt.NDArray[np.generic]]) -> None:
        self.recent[:] = arrays["recent"]
        self.counters = [
            dict(zip(COUNTERS, row, strict=True)) for row in arrays["counters"].astype(float).tolist()
        ]
        self.next_shipment, self.next_transfer, self._awaiting_ids = (int(v) for v in arrays["next_ids"])
        self.watch_units[:] = arrays["watch_units"]
        self.watch_value[:] = arrays["watch_value"]
        self.watch_expiry = defaultdict(list)
        for day in np.unique(arrays["watch_expiry"][:, 0]).astype(np.int64).tolist():
            rows = arrays["watch_expiry"][arrays["watch_expiry"][:, 0] == day]
            self.watch_expiry[day].append(rows[:, 1].astype(np.int64))
        self.awaiting = {}
        waiting = arrays["awaiting"]
        for token in np.unique(waiting[:, 0]).astype(np.int64).tolist():
            rows = waiting[waiting[:, 0] == token]
            self.awaiting[token] = {name: rows[:, 1 + i].copy() for i, name in enumerate(LINE_COLUMNS)}
        self.arriving = defaultdict(list, SettlementBatch.by_arrival_day(np.asarray(arrays["arriving"])))
        self.rejected_by = [defaultdict(float) for _ in KIND_NAMES]
        for kind, name, count in zip(
            arrays["rejected_by_kind"].tolist(),
            arrays["rejected_by_names"].tolist(),
            arrays["rejected_by_counts"].tolist(),
            strict=True,
        ):
            self.rejected_by[kind][name] = count
        if self.vehicles is not None:
            prefix = "vehicles_"
            self.vehicles.load_state_arrays(
                {name[len(prefix) :]: array for name, array in arrays.items() if name.startswith(prefix)}
            )
        audit_columns = [name[len("audit_") :] for name in arrays if name.startswith("audit_")]
        if audit_columns and len(arrays[f"audit_{audit_columns[0]}"]):
            self.audit = [{name: arrays[f"audit_{name}"] for name in audit_columns}]
        else:
            self.audit = []

    def apply_decisions(self, decisions: dict[int, bool]) -> dict[str, int]:
        """People's decisions on approvals still waiting (Atlas's approvals.jsonl, twin.engine.approvals): an
        approved one ships at the first chance, a rejected one is dropped; call before ``resume``."""
        applied = {"approved": 0, "rejected": 0, "not_waiting": 0}
        for token, approved in sorted(decisions.items()):
            lines = self.awaiting.get(token)
            if lines is None:
                applied["not_waiting"] += 1
                continue
            if approved:
                lines["due_time"] = np.full_like(lines["due_time"], self.env.now)
                applied["approved"] += 1
                continue
            del self.awaiting[token]
            counters = self.counters[int(lines["kind"][0])]
            counters["lines_approved"] -= float(len(lines["kind"]))
            counters["lines_declined"] += float(len(lines["kind"]))
            applied["rejected"] += 1
        return applied

    def resume(self) -> None:
        """Start the waits of approvals that were pending when the snapshot was taken."""
        for token in sorted(self.awaiting):
            self.env.process(self._approval_arrives(token))

    # -- results ------------------------------------------------------------------------------------
    def summary(self) -> dict[str, float]:
        summary = self._kind_summary(PARTS, "transfer")
        if self.vehicles is not None:
            self.vehicles.update_use()
            summary |= self._kind_summary(VEHICLES, "vehicle_transfer")
            summary |= self.vehicles.summary()
        return summary

    def _kind_summary(self, kind: int, prefix: str) -> dict[str, float]:
        c = self.counters[kind]

        def ratio(numerator: float, denominator: float) -> float:
            return numerator / denominator if denominator > 0 else float("nan")

        executed = c["transfers_executed"]
        summary = {
            f"{prefix}_cycles": c["cycles"],
            f"{prefix}_lines_recommended": c["lines_recommended"],
            f"{prefix}_lines_auto_executed": c["lines_auto"],
            f"{prefix}_lines_sent_for_approval": c["lines_approval"],
            f"{prefix}_lines_rejected": c["lines_rejected"],
            f"{prefix}_lines_approved": c["lines_approved"],
            f"{prefix}_lines_declined": c["lines_declined"],
            f"{prefix}_lines_trimmed_at_shipping": c["lines_trimmed"],
            f"{prefix}s_executed": executed,
            f"{prefix}_shipments": c["shipments_executed"],
            f"{prefix}_units": c["units_executed"],
            f"{prefix}_value_inr": c["value_executed_inr"],
            f"{prefix}_freight_inr": c["freight_inr"],
            f"{prefix}_freight_per_transfer_inr": ratio(c["freight_inr"], executed),
            f"{prefix}_auto_executed_share": ratio(c["transfers_auto"], executed),
            f"{prefix}_approval_wait_hours_mean": ratio(
                c["approval_wait_hours_sum"], c["approval_decisions"]
            ),
            f"{prefix}_planned_benefit_inr": c["planned_benefit_executed_inr"],
            f"{prefix}_units_used_share": ratio(c["units_used"], c["units_executed"]),
            f"{prefix}_realised_benefit_inr": c["realised_benefit_inr"],
            f"{prefix}_realised_benefit_cost_ratio": ratio(c["realised_benefit_inr"], c["freight_inr"]),
        }
        for name, count in sorted(self.rejected_by[kind].items()):
            summary[f"{prefix}_lines_rejected_by_{name.replace('guard:', 'guard_')}"] = count
        return summary

    def audit_frame(self) -> pd.DataFrame:
        if not self.audit:
            return pd.DataFrame(
                columns=["day", "kind", "sender", "receiver", "item", "units", "action", "decided_by"]
            )
        return pd.concat([pd.DataFrame(part) for part in self.audit], ignore_index=True)


def _rows(blocks: list[npt.NDArray[np.generic]], width: int) -> FloatArray:
    """Stack row blocks into one float64 table (an empty one of the right width when there are none)."""
    if not blocks:
        return np.zeros((0, width))
    return np.concatenate([np.asarray(block, dtype=np.float64).reshape(-1, width) for block in blocks])


def _select(lines: dict[str, FloatArray], mask: npt.NDArray[np.bool_]) -> dict[str, FloatArray]:
    return {name: column[mask] for name, column in lines.items()}


def _greedy_within(group: IntArray, wanted: IntArray, allowance: IntArray) -> IntArray:
    """In list order within each group, grant what still fits the group's allowance (per element)."""
    if group.size == 0:
        return wanted.copy()
    order = np.argsort(group, kind="stable")
    sorted_group = group[order]
    sorted_wanted = wanted[order].astype(np.int64)
    cumulative = np.cumsum(sorted_wanted)
    start = np.searchsorted(sorted_group, sorted_group, side="left")
    before = cumulative - sorted_wanted - (cumulative[start] - sorted_wanted[start])
    granted = np.empty_like(sorted_wanted)
    granted[order] = np.clip(allowance[order] - before, 0, sorted_wanted)
    return granted
