"""The parts day and the parts supply chain around the arrays: demand, emergency orders, the replenishment
cycle, DC fill within carrier capacity, and inbound consignments.

Consignments and emergency deliveries are kept as data keyed by the day they are received (dealers receive
parts in the morning), so one SimPy event per day receives everything due and a snapshot can carry the
pipeline. Freight is charged when a consignment leaves.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
import simpy

from twin.config import OperationsConfig
from twin.domain.lead_time import usable_day, usable_days
from twin.domain.network import Network
from twin.domain.parts import PART_CLASSES
from twin.domain.state_schema import row_table, table_rows
from twin.engine.demand import DemandModel, PartsLines
from twin.engine.eventlog import EventLog
from twin.engine.kpis import KpiRecorder
from twin.engine.parts_export import PartsExport
from twin.engine.parts_flow import (
    SHORTAGE_BACKORDER,
    LineOutcome,
    PartsFlow,
    fill_runs,
    first_mentions,
    run_starts,
    scatter_add,
    stable_order,
)
from twin.engine.scenario_effects import ScenarioEffects
from twin.engine.streams import RandomStreams
from twin.engine.transit import TransitTimes
from twin.policies.observation import PartsView, ReplenishmentDecision
from twin.policies.protocols import ReplenishmentPolicy

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
QuantityArray = npt.NDArray[np.int32]
#: cap on a booked cell's day opened (keeps it finite and whole)
_LAST_DAY = 1 << 30


@dataclass(frozen=True)
class Shipment:
    """Units on the road to ``location`` rows, received on ``receive_day``: a consignment of stock (to a dealer
    or DC shelf) or an emergency delivery (closes backorders; already counted as sold)."""

    receive_day: int
    location: IntArray
    sku: IntArray
    quantity: QuantityArray


@dataclass(frozen=True)
class BookFill:
    """The DCs' book in the order it is filled tonight: ``cells`` (dealer cells, fill order), and for the sorted
    list of booked cells, where each one comes in that order."""

    cells: IntArray
    booked: IntArray
    fill_position: IntArray

    def position_of(self, cells: IntArray) -> IntArray:
        """Index in ``self.cells`` of each of ``cells`` (all booked)."""
        return self.fill_position[np.searchsorted(self.booked, cells)]


class ConsignmentSettlement(Protocol):
    """The settlement hooks of the parts supply chain."""

    def consignments_departed(self, dealer: IntArray, units: IntArray, receive_day: IntArray) -> None: ...
    def consignments_received(self, day: int) -> None: ...
    def emergency_ordered(self, dealer: IntArray) -> None: ...


class StockWatch(Protocol):
    """Who watches dealer cells for stock-outs (the control tower): demand, consignments leaving, receipts."""

    def observe_demand(self, day: int, lines: PartsLines, outcome: LineOutcome) -> None: ...
    def shipped(self, day: int, cells: IntArray) -> None: ...
    def received(self, cells: IntArray) -> None: ...


class FillObserver(Protocol):
    """Who credits the day's filled lines (the rebalancing flow's use of transferred stock)."""

    def observe_fills(self, lines: PartsLines, outcome: LineOutcome) -> None: ...


class PartsLogistics:
    def __init__(
        self,
        clock: simpy.Environment,
        parts: PartsFlow,
        network: Network,
        operations: OperationsConfig,
        demand: DemandModel,
        effects: ScenarioEffects,
        transit: TransitTimes,
        streams: RandomStreams,
        replenishment: ReplenishmentPolicy,
        settlement: ConsignmentSettlement,
        kpis: KpiRecorder,
        event_log: EventLog,
        unit_cost_inr: FloatArray,
        dealer_lead_time_days: FloatArray,
        dc_to_dealer_km: FloatArray,
        export: PartsExport | None = None,
    ) -> None:
        """``export``: the OEM's DMS export (weekly-export world), told of the consignments the DCs send."""
        self.env = clock
        self.export = export
        self.parts = parts
        self.network = network
        self.operations = operations
        self.demand = demand
        self.effects = effects
        self.transit = transit
        self.streams = streams
        self.replenishment = replenishment
        self.settlement = settlement
        self.kpis = kpis
        self.event_log = event_log
        self.unit_cost_inr = unit_cost_inr
        self.dealer_lead_time_days = dealer_lead_time_days
        self.dc_to_dealer_km = dc_to_dealer_km
        self.skus = parts.skus
        self.dealers = network.dealer_count
        #: cells whose inventory position changed since the policy last reviewed them (all at the start)
        self.changed = np.ones(network.location_count * self.skus, dtype=bool)
        self.inbound: dict[int, list[Shipment]] = defaultdict(list)
        self.emergency_inbound: dict[int, list[Shipment]] = defaultdict(list)
        self.outstanding_backorder_units = 0
        self._class_count = len(PART_CLASSES)
        #: promised arrival day of the earliest consignment on its way to each dealer cell (inf: none); what
        #: a carrier's ETA feed tells the control tower (lead time from dispatch, not the realised transit)
        self.inbound_eta_day = np.full(self.dealers * self.skus, np.inf, dtype=np.float32)
        #: the DCs' backorder book, ``[location, sku]``: a dealer row holds the units it ordered from its DC
        #: and has not been shipped yet (on order), a DC row minus the units it owes its dealers; the
        #: inventory position counts it (PartsView.position), so an unfilled order is owed, not asked again
        self.open_orders = np.zeros((network.location_count, self.skus), dtype=np.int32)
        #: day the oldest open units of each dealer cell were ordered (inf: nothing owed); the book's FIFO key
        self.open_since_day = np.full(self.dealers * self.skus, np.inf)
        #: the dealer cells the DCs owe units to (``open_orders > 0``), sorted: the book is filled from this
        #: list, kept as orders are booked and shipped, never found by a pass over every dealer cell
        self._book_cells = np.zeros(0, dtype=np.int64)
        #: units each parts carrier has already moved today (dealer transfers go before the DC's consignments)
        self._capacity_used_units = np.zeros(len(network.carriers), dtype=np.int64)
        self._capacity_day = -1
        #: dealer cells with customers waiting at the shelf (``dealer_shortage=backorder``), sorted; None:
        #: to be found from the state (after a restore)
        self._waiting_cells: IntArray | None = None
        #: supplier lead time to each DC (days): ``supplier_lead_time_days`` unless a lane table says otherwise
        self.supplier_lead_time_days = np.full(
            len(network.parts_dcs), float(operations.supplier_lead_time_days), dtype=np.float64
        )
        self.parts_view: Callable[[], PartsView] | None = None
        self.stock_watch: StockWatch | None = None
        self.fill_observer: FillObserver | None = None

    def connect(
        self,
        parts_view: Callable[[], PartsView],
        stock_watch: StockWatch | None,
        fill_observer: FillObserver | None,
    ) -> None:
        """Late wiring: the view the replenishment policy decides on, and the observers of the parts day
        (built after the logistics, whose ETA feed and capacity they use)."""
        self.parts_view = parts_view
        self.stock_watch = stock_watch
        self.fill_observer = fill_observer

    def owed_cells(self) -> IntArray:
        """The dealer cells the DCs owe units to (``open_orders > 0``), sorted: the book's list of cells."""
        return self._book_cells.copy()

    def touch(self, cells: IntArray) -> None:
        self.changed[cells] = True

    # -- morning: receive ---------------------------------------------------------------------------
    def receive(self, day: int) -> None:
        parts, log = self.parts, self.event_log
        self.settlement.consignments_received(day)
        # the morning's consignments are received as one batch: integer adds, and each cell's ETA is set
        # from what is still on its way after all of them, as one consignment after another would leave it
        consignments = self.inbound.pop(day, [])
        if consignments:
            location = np.concatenate([consignment.location for consignment in consignments])
            sku = np.concatenate([consignment.sku for consignment in consignments])
            parts.receive(
                location, sku, np.concatenate([consignment.quantity for consignment in consignments])
            )
            cells = location * self.skus + sku
            self.touch(cells)
            self._update_eta_after_receipt(day, location, cells)
        if log.enabled:  # the details are lists of every line: built only when someone reads them
            for consignment in consignments:
                log.record(
                    self.env.now,
                    "consignment_received",
                    locations=sorted(set(consignment.location.tolist())),
                    lines=int(consignment.sku.size),
                    units=int(consignment.quantity.sum()),
                )
        deliveries = self.emergency_inbound.pop(day, [])
        if deliveries:
            quantity = np.concatenate([delivery.quantity for delivery in deliveries])
            parts.close_backorders(
                np.concatenate([delivery.location for delivery in deliveries]),
                np.concatenate([delivery.sku for delivery in deliveries]),
                quantity,
            )
            self.outstanding_backorder_units -= int(quantity.sum(dtype=np.int64))
        if log.enabled:
            for delivery in deliveries:
                log.record(
                    self.env.now,
                    "emergency_delivered",
                    dealers=delivery.location.tolist(),
                    skus=delivery.sku.tolist(),
                    units=delivery.quantity.tolist(),
                )

    # -- the parts day ------------------------------------------------------------------------------
    def demand_day(self, day: int) -> None:
        parts, log = self.parts, self.event_log
        parts.apply_releases(day)
        for old_sku, new_sku in self.effects.supersessions_on(day):
            self.demand.supersede(old_sku, new_sku)
            log.record(self.env.now, "part_superseded", old_sku=old_sku, new_sku=new_sku)
        if parts.shortage == SHORTAGE_BACKORDER:
            self._serve_waiting_customers(day)
        lines = self.demand.parts_lines(day, self.streams.get("parts_demand"))
        outcome = parts.fulfil(lines, day)
        if parts.lateral_source_cells.size:
            self.touch(parts.lateral_source_cells)
            parts.lateral_source_cells = parts.lateral_source_cells[:0]
        backordered = np.flatnonzero(outcome.backordered_units)
        if backordered.size:
            self._open_waiting(
                lines.location[backordered], lines.sku[backordered], outcome.backordered_units[backordered]
            )
        if self.stock_watch is not None:
            self.stock_watch.observe_demand(day, lines, outcome)
        if self.fill_observer is not None:
            self.fill_observer.observe_fills(lines, outcome)
        self._record_demand_kpis(day, lines, outcome)
        self.touch(lines.location * self.skus + lines.sku)
        if log.enabled:
            columns = zip(
                lines.location.tolist(),
                lines.sku.tolist(),
                lines.quantity.tolist(),
                outcome.filled_units.tolist(),
                lines.workshop.astype(bool).tolist(),
                outcome.emergency.astype(bool).tolist(),
                strict=True,
            )
            log.record_many(
                self.env.now,
                "parts_line",
                (
                    {"dealer": dealer, "sku": sku, "quantity": quantity, "filled": filled,
                     "workshop": workshop, "emergency": emergency}
                    for dealer, sku, quantity, filled, workshop, emergency in columns
                ),
            )  # fmt: skip
        emergency = outcome.emergency
        self.emergency_orders(
            lines.location[emergency], lines.sku[emergency], outcome.emergency_units[emergency]
        )

    def _open_waiting(self, dealer: IntArray, sku: IntArray, quantity: QuantityArray) -> None:
        """Backordered units: owed to the customer from the dealer's shelf, counted in its position."""
        self.parts.open_backorders(dealer, sku, quantity)
        self.outstanding_backorder_units += int(quantity.sum())
        waiting = self._waiting()
        self._waiting_cells = np.union1d(waiting, dealer * self.skus + sku)

    def _waiting(self) -> IntArray:
        if self._waiting_cells is None:
            owed = self.parts.state.backorder[: self.dealers].reshape(-1)
            self._waiting_cells = np.flatnonzero(owed > 0)
        return self._waiting_cells

    def _serve_waiting_customers(self, day: int) -> None:
        """Before the day's demand, waiting customers take what has come onto their dealer's shelf."""
        waiting = self._waiting()
        if waiting.size == 0:
            return
        served = self.parts.serve_backorders(waiting)
        units = int(served.sum())
        if units:
            self.outstanding_backorder_units -= units
            sku = waiting % self.skus
            self.kpis.add(day, "parts_backorders_served_units", float(units))
            self.kpis.add(day, "parts_sold_units", float(units))
            self.kpis.add(day, "parts_cogs_inr", float((served * self.unit_cost_inr[sku]).sum()))
            self._waiting_cells = waiting[self.parts.state.backorder.reshape(-1)[waiting] > 0]

    def _record_demand_kpis(self, day: int, lines: PartsLines, outcome: LineOutcome) -> None:
        """The day's demand KPIs. Counts and units are whole numbers, summed as integers (the lines that missed
        the first pick are few, so first-pick figures are the total less theirs); the two money sums are
        taken over every line, as before, so their rounding does not change."""
        kpis = self.kpis
        first_pick = outcome.first_pick
        missed = np.flatnonzero(~first_pick)
        line_count = len(lines)
        demand_units = int(lines.quantity.sum(dtype=np.int64))
        cost = self.unit_cost_inr[lines.sku]
        sold = outcome.filled_units + outcome.emergency_units + outcome.lateral_units
        operations = self.operations
        filled_units = int(outcome.filled_units.sum(dtype=np.int64))
        emergency_units = int(outcome.emergency_units.sum(dtype=np.int64))
        lost_units = int(outcome.lost_units.sum(dtype=np.int64))
        lateral_units = int(outcome.lateral_units.sum(dtype=np.int64))
        kpis.add_many(
            day,
            (
                ("parts_demand_lines", line_count),
                ("parts_demand_units", demand_units),
                ("parts_first_pick_lines", line_count - missed.size),
                ("parts_first_pick_units", demand_units - int(lines.quantity[missed].sum(dtype=np.int64))),
                ("parts_filled_units", filled_units),
                ("parts_emergency_lines", int(np.count_nonzero(outcome.emergency))),
                ("parts_emergency_units", emergency_units),
                ("parts_lost_lines", int(np.count_nonzero(outcome.lost_units))),
                ("parts_lost_units", lost_units),
                ("parts_lost_margin_inr", (outcome.lost_units * cost).sum() * operations.parts_margin_share),
                ("parts_sold_units", filled_units + emergency_units + lateral_units),
                ("parts_cogs_inr", (sold * cost).sum()),
                ("parts_lateral_units", lateral_units),
                ("parts_backordered_units", int(outcome.backordered_units.sum(dtype=np.int64))),
                ("parts_lost_sale_penalty_inr", lost_units * operations.lost_sale_penalty_inr_per_unit),
                ("parts_lateral_cost_inr", lateral_units * operations.lateral_charge_per_unit_inr),
            ),
        )
        if 0 <= day < kpis.horizon_days:
            part_class = self.parts.part_class
            lines_by_class = np.bincount(part_class[lines.sku], minlength=self._class_count)
            kpis.class_lines[day] += lines_by_class
            kpis.class_first_pick_lines[day] += lines_by_class - np.bincount(
                part_class[lines.sku[missed]], minlength=self._class_count
            )
        lines_by_dealer = np.bincount(lines.location, minlength=self.dealers)
        kpis.add_dealer_totals(day, "parts_demand_lines", lines_by_dealer)
        kpis.add_dealer_totals(
            day,
            "parts_first_pick_lines",
            lines_by_dealer - np.bincount(lines.location[missed], minlength=self.dealers),
        )

    def emergency_orders(self, dealer: IntArray, sku: IntArray, quantity: QuantityArray) -> None:
        """Short lines the customer waits for: the DC sends what it has by express, the supplier the rest."""
        if sku.size == 0:
            return
        operations, effects, now = self.operations, self.effects, self.env.now
        self.parts.open_backorders(dealer, sku, quantity)
        self.outstanding_backorder_units += int(quantity.sum())
        dealer_dc = self.network.dealers.parts_dc[dealer]
        dc_location = self.dealers + dealer_dc
        dc_open = effects.dc_open(int(now), len(self.network.parts_dcs))[dealer_dc]
        from_dc = self.parts.sell_emergency(dc_location, sku, quantity, dc_open)
        self.touch(dc_location * self.skus + sku)
        self.kpis.add(now, "freight_emergency_inr", operations.emergency_charge_per_line_inr * sku.size)
        self.settlement.emergency_ordered(dealer)
        day = int(now)
        for lead_time, units in (
            (operations.emergency_lead_time_days * effects.transit_multiplier(day), from_dc),
            (
                operations.supplier_emergency_lead_time_days * effects.supplier_multiplier(day),
                quantity - from_dc,
            ),
        ):
            shipped = units > 0
            if shipped.any():
                receive_day = usable_day(now, lead_time)
                self.emergency_inbound[receive_day].append(
                    Shipment(receive_day, dealer[shipped], sku[shipped], units[shipped].astype(np.int32))
                )

    # -- evening: the replenishment cycle -----------------------------------------------------------
    def replenishment_cycle(self, day: int) -> None:
        """Dealers review first and their orders reach the DCs' books tonight; then the DCs review, seeing
        what they owe (a DC reviewing before its dealers' orders would replenish a day late)."""
        assert self.parts_view is not None, "PartsLogistics.connect() was not called"
        dealer_cells = self.dealers * self.skus
        for first, last in ((0, dealer_cells), (dealer_cells, self.changed.size)):
            candidates = first + np.flatnonzero(self.changed[first:last])
            decision = self.replenishment.replenish(self.parts_view(), candidates)
            self.changed[first:last] = False  # every candidate was offered: clear the block at once
            self.changed[decision.deferred_cells] = True
            self.apply(decision, fill_book=first == 0)

    def apply(self, decision: ReplenishmentDecision, fill_book: bool = True) -> None:
        """DC rows order from suppliers; dealer rows are booked in their DC's backorder book, and each DC fills
        its book oldest order first (today's orders in the decision's order) within its stock, the lanes and
        the day's parts-carrier capacity; what is not shipped stays owed, counted in both positions."""
        now = self.env.now
        network = self.network
        location, sku, quantity = decision.location, decision.sku, decision.quantity
        to_dc = location >= self.dealers
        if to_dc.any():
            self._order_from_suppliers(location[to_dc], sku[to_dc], quantity[to_dc])
        day = int(now)
        ordered = ~to_dc & (quantity > 0)
        self._count_order_lines(
            day, int(np.count_nonzero(ordered)), int(np.count_nonzero(to_dc & (quantity > 0)))
        )
        ordered_cells = location[ordered] * self.skus + sku[ordered]
        ordered_units = quantity[ordered]
        # the ordered cells sorted once (distinct, and where each is first mentioned): booking, the fill order
        # and the look-up of what shipped at once all use it
        listed, first = first_mentions(ordered_cells)
        owed_before = self._book(location[ordered], sku[ordered], ordered_units, day, listed, first)
        if not fill_book:  # the DCs' own review: tonight's book was filled right after the dealers ordered
            return
        book = self._book_in_fill_order(listed, first, day)
        cells = book.cells
        if cells.size == 0:
            return
        dealer = cells // self.skus
        dealer_sku = cells - dealer * self.skus
        dealer_dc = network.dealers.parts_dc[dealer]
        source = self.dealers + dealer_dc
        owed = self.open_orders[: self.dealers].reshape(-1)
        # a DC in an outage ships nothing; its dealers' orders stay in the book
        requested = np.where(
            self.effects.dc_open(day, len(network.parts_dcs))[dealer_dc], owed[cells], 0
        ).astype(np.int32)
        granted = self.parts.allocate_from(source, dealer_sku, requested)
        carrier = network.parts_carrier[dealer]
        lane_share = self.effects.lane_share(day, "parts")
        offered = granted if lane_share is None else self._within_lane_share(dealer, granted, lane_share)
        # the carrier books capacity only for what the lane lets through
        allowed = self._within_carrier_capacity(carrier, offered, day)
        returned = granted - allowed
        source_cells = source * self.skus + dealer_sku
        if returned.any():
            scatter_add(self.parts.state.on_hand.reshape(-1), source_cells, returned)
        self._ship_from_book(
            cells,
            source_cells,
            allowed,
            book,
            ordered_cells,
            ordered_units,
            owed_before,
            listed,
            first,
        )
        self.touch(source_cells)
        shipped = allowed > 0
        dealer, dealer_sku, units = dealer[shipped], dealer_sku[shipped], allowed[shipped]
        if dealer.size == 0:
            return
        self.parts.dispatch(dealer, dealer_sku, units)
        shipped_cells = dealer * self.skus + dealer_sku
        promised = usable_days(now, self.dealer_lead_time_days[dealer]).astype(np.float64)
        # promised days are whole numbers: in the ETA array's float32 the minimum takes numpy's fast path
        np.minimum.at(self.inbound_eta_day, shipped_cells, promised.astype(self.inbound_eta_day.dtype))
        if self.export is not None:  # the OEM knows what its DCs send
            self.export.shipped(shipped_cells, units, promised)
        if self.stock_watch is not None:
            self.stock_watch.shipped(day, shipped_cells)
        # one consignment per dealer: freight by load share, transit per lane with the day's noise
        order = stable_order(dealer)  # dealers are few: the radix sort, same order as a stable argsort
        dealer, dealer_sku, units = dealer[order], dealer_sku[order], units[order]
        starts = np.concatenate(([0], np.flatnonzero(np.diff(dealer)) + 1))
        targets = dealer[starts]
        consignment_units = np.add.reduceat(units.astype(np.int64), starts)
        carriers = network.carriers
        lane = network.parts_carrier[targets]
        freight = np.maximum(
            carriers.minimum_charge_inr[lane],
            carriers.rate_per_km_inr[lane]
            * self.dc_to_dealer_km[targets]
            * consignment_units
            / carriers.capacity_per_load[lane],
        )
        self.kpis.add(now, "freight_parts_inr", float(freight.sum()))
        transit = self.dealer_lead_time_days[targets] * self.transit.factors("parts_lane", int(now))[targets]
        receive_days = usable_days(now, transit)
        self.settlement.consignments_departed(targets, consignment_units, receive_days)
        receive_day_of_line = np.repeat(receive_days, np.diff(np.concatenate((starts, [dealer.size]))))
        for receive_day in np.unique(receive_days).tolist():
            members = receive_day_of_line == receive_day
            self.inbound[receive_day].append(
                Shipment(receive_day, dealer[members], dealer_sku[members], units[members])
            )
        if self.event_log.enabled:
            for target, target_units, receive_day in zip(
                targets.tolist(), consignment_units.tolist(), receive_days.tolist(), strict=True
            ):
                self.event_log.record(
                    now, "consignment_departed", dealer=target, units=target_units, receive_day=receive_day
                )

    def _count_order_lines(self, day: int, dealer_lines: int, dc_lines: int) -> None:
        """Order lines placed tonight, and their fixed cost (``operations.order_cost_inr``)."""
        if dealer_lines or dc_lines:
            self.kpis.add(day, "parts_dealer_order_lines", float(dealer_lines))
            self.kpis.add(day, "parts_dc_order_lines", float(dc_lines))
            self.kpis.add(
                day, "parts_ordering_cost_inr", (dealer_lines + dc_lines) * self.operations.order_cost_inr
            )

    # -- the DCs' backorder book ------------------------------------------------------------------------
    def _book(
        self,
        dealer: IntArray,
        sku: IntArray,
        quantity: QuantityArray,
        day: int,
        listed: IntArray,
        first: IntArray,
    ) -> QuantityArray:
        """Book today's dealer orders (every line with units; ``listed``, ``first``: their distinct cells,
        sorted, and where each is first mentioned): owed by the dealer's DC from now; returns what each ordered
        cell was owed before (the older part of its queue)."""
        cells = dealer * self.skus + sku
        owed = self.open_orders[: self.dealers].reshape(-1)
        owed_before = owed[cells].copy()
        scatter_add(owed, cells, quantity)
        dc_rows = self.dealers + self.network.dealers.parts_dc[dealer]
        scatter_add(self.open_orders.reshape(-1), dc_rows * self.skus + sku, -quantity)
        opened = owed_before[first] == 0  # per cell: every mention of a cell was owed the same before
        if opened.any():
            new_cells = listed[opened]
            self.open_since_day[new_cells] = day
            self._book_cells = np.insert(
                self._book_cells, np.searchsorted(self._book_cells, new_cells), new_cells
            )
        self.kpis.add(day, "parts_dc_units_ordered", float(quantity.sum(dtype=np.int64)))
        return owed_before

    def _book_in_fill_order(self, listed: IntArray, first: IntArray, day: int) -> BookFill:
        """Every dealer cell the DCs owe, oldest open order first; today's new orders (``listed``, sorted,
        first mentioned at ``first`` of the decision) after the older ones, in the decision's order (its
        priority); ties by cell, so the order is deterministic."""
        booked = self._book_cells
        if booked.size == 0:
            return BookFill(booked, booked, booked)
        # days opened are whole numbers (a cell in the book always has one; the cap only keeps it finite)
        since = np.minimum(self.open_since_day[booked], _LAST_DAY).astype(np.int64)
        # opened tonight, so ordered tonight: in the decision's order (its first mention)
        today = since >= day
        # older orders by day opened, then cell: a stable sort by day of the book (sorted by cell), on the
        # days' 16-bit radix path; tonight's after them by first mention. The order of one sort on the unique
        # keys (day opened, cell or first mention)
        older = np.flatnonzero(~today)
        tonight = np.flatnonzero(today)
        order = np.concatenate(
            (
                older[stable_order(since[older])],
                tonight[np.argsort(first[np.searchsorted(listed, booked[tonight])])],
            )
        )
        fill_position = np.empty(booked.size, dtype=np.int64)
        fill_position[order] = np.arange(booked.size)
        return BookFill(booked[order], booked, fill_position)

    def _ship_from_book(
        self,
        cells: IntArray,
        dc_cells: IntArray,
        shipped: QuantityArray,
        book: BookFill,
        ordered_cells: IntArray,
        ordered_units: QuantityArray,
        owed_before: QuantityArray,
        listed: IntArray,
        first: IntArray,
    ) -> None:
        """Take shipped units off the book. A cell's older units go first, so the part of today's order that
        shipped at once is what exceeds its older queue: the DC fill rate counts that."""
        owed = self.open_orders[: self.dealers].reshape(-1)
        owed[cells] -= shipped  # each booked cell once
        scatter_add(self.open_orders.reshape(-1), dc_cells, shipped)
        settled = cells[owed[cells] == 0]
        if settled.size:
            self.open_since_day[settled] = np.inf
            self._book_cells = book.booked[owed[book.booked] > 0]
        if ordered_cells.size:
            if listed.size == ordered_cells.size:  # each cell ordered once: looked up in sorted order
                where = np.empty(ordered_cells.size, dtype=np.int64)
                where[first] = book.position_of(listed)
            else:
                where = book.position_of(ordered_cells)
            at_once = np.maximum(shipped[where].astype(np.int64) - owed_before, 0)  # clipped to [0, ordered]
            np.minimum(at_once, ordered_units, out=at_once)
            self.kpis.add(self.env.now, "parts_dc_units_filled_at_once", float(at_once.sum()))

    def _update_eta_after_receipt(self, day: int, location: IntArray, cells: IntArray) -> None:
        """Received cells with nothing more on the way have no ETA; a later consignment still on the road is
        expected within one lead time (its own dispatch day is not kept)."""
        at_dealer = location < self.dealers
        cells, dealer = cells[at_dealer], location[at_dealer]
        still_coming = self.parts.state.in_transit.reshape(-1)[cells] > 0
        self.inbound_eta_day[cells] = np.where(still_coming, day + self.dealer_lead_time_days[dealer], np.inf)
        if self.stock_watch is not None:
            self.stock_watch.received(cells)

    def _order_from_suppliers(self, dc_location: IntArray, sku: IntArray, quantity: QuantityArray) -> None:
        now = self.env.now
        self.parts.order_from_supplier(dc_location, sku, quantity)
        for dc in np.unique(dc_location).tolist():
            members = dc_location == dc
            lead = self.supplier_lead_time_days[dc - self.dealers] * self.transit.factor(
                "supplier_lane", int(now), dc - self.dealers
            )
            receive_day = usable_day(now, lead)
            self.inbound[receive_day].append(
                Shipment(receive_day, dc_location[members], sku[members], quantity[members])
            )
            if self.event_log.enabled:  # the units are summed only when someone reads them
                self.event_log.record(
                    now,
                    "supplier_order",
                    dc=dc - self.dealers,
                    units=int(quantity[members].sum()),
                    receive_day=receive_day,
                )

    def carrier_capacity_left(self, day: int) -> IntArray:
        """Units each parts carrier can still move today: fleet x load capacity (less in a disruption)
        minus what it has already taken on today."""
        if day != self._capacity_day:
            self._capacity_day = day
            self._capacity_used_units[:] = 0
        carriers = self.network.carriers
        share = self.effects.parts_capacity_share(day, len(carriers))
        capacity = np.floor(carriers.fleet_size * carriers.capacity_per_load * share).astype(np.int64)
        return np.maximum(capacity - self._capacity_used_units, 0)

    def use_carrier_capacity(self, day: int, carrier: IntArray, units: npt.ArrayLike) -> None:
        self.carrier_capacity_left(day)
        np.add.at(self._capacity_used_units, carrier, np.asarray(units, dtype=np.int64))

    def _within_carrier_capacity(self, carrier: IntArray, granted: QuantityArray, day: int) -> QuantityArray:
        """Each carrier moves at most its capacity left today; later orders in the list wait."""
        capacity_left = self.carrier_capacity_left(day)  # (starts the day's count on a new day)
        # the usual night: every carrier can take all its lines, and first come, first served gives each line
        # its units (the float sums of whole units are exact)
        wanted = np.bincount(carrier, weights=granted, minlength=capacity_left.size)
        if bool((wanted <= capacity_left).all()):
            allowed = granted.astype(np.int64)
        else:
            allowed = first_come_within(carrier, granted, capacity_left[carrier])
        np.add.at(self._capacity_used_units, carrier, allowed)
        return allowed.astype(np.int32)

    def _within_lane_share(
        self, dealer: IntArray, granted: QuantityArray, lane_share: FloatArray
    ) -> QuantityArray:
        """A lane into a disrupted region carries its share of the day's consignment, not of each line: the
        consignment's units are cut to ``share x units``, rounded up or down at random with the fractional
        part as the chance (so a one-unit consignment on a half-open lane ships every other time on average,
        and the units carried match the share in expectation); lines are filled in the decision's order and
        what is left waits at the DC for the next cycle. The draws come from a stream of their own."""
        share = lane_share[dealer]
        if not (share < 1.0).any():
            return granted
        targets, inverse = np.unique(dealer, return_inverse=True)
        consignment_units = np.bincount(inverse, weights=granted, minlength=len(targets))
        target_share = lane_share[targets]
        limited = target_share < 1.0
        wanted = target_share[limited] * consignment_units[limited]
        chance = self.streams.get("parts_lane_disruption").random(int(limited.sum()))
        limit = consignment_units.copy()
        limit[limited] = np.floor(wanted + chance)
        return first_come_within(dealer, granted, limit[inverse].astype(np.int64)).astype(np.int32)

    # -- state (section "logistics" of twin.domain.state) -------------------------------------------
    def state_arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        def lines(pending: dict[int, list[Shipment]]) -> npt.NDArray[np.float64]:
            shipments = [shipment for day_list in pending.values() for shipment in day_list]
            return row_table(
                [
                    (shipment.receive_day, number, location, sku, units)
                    for number, shipment in enumerate(shipments)
                    for location, sku, units in zip(
                        shipment.location.tolist(),
                        shipment.sku.tolist(),
                        shipment.quantity.tolist(),
                        strict=True,
                    )
                ],
                5,
            )

        return {
            "changed": self.changed.copy(),
            "inbound_eta_day": self.inbound_eta_day.copy(),
            "inbound": lines(self.inbound),
            "emergency_inbound": lines(self.emergency_inbound),
            "outstanding_backorder_units": np.array([self.outstanding_backorder_units], dtype=np.int64),
            "open_orders": self.open_orders.copy(),
            "open_since_day": self.open_since_day.copy(),
        }

    def load_state_arrays(self, arrays: dict[str, npt.NDArray[np.generic]]) -> None:
        self.changed[:] = arrays["changed"]
        self.inbound_eta_day[:] = arrays["inbound_eta_day"]
        for name, target in (("inbound", self.inbound), ("emergency_inbound", self.emergency_inbound)):
            target.clear()
            table = np.asarray(table_rows(arrays[name]), dtype=np.int64).reshape(-1, 5)
            for number in np.unique(table[:, 1]).tolist():
                rows = table[table[:, 1] == number]
                day = int(rows[0, 0])
                target[day].append(
                    Shipment(day, rows[:, 2].copy(), rows[:, 3].copy(), rows[:, 4].astype(np.int32))
                )
        self.outstanding_backorder_units = int(np.asarray(arrays["outstanding_backorder_units"])[0])
        self.open_orders[:] = arrays["open_orders"]
        self.open_since_day[:] = arrays["open_since_day"]
        self._waiting_cells = None
        self._book_cells = np.flatnonzero(self.open_orders[: self.dealers].reshape(-1) > 0)


def first_come_within(group: IntArray, units: npt.ArrayLike, limit_of_line: npt.ArrayLike) -> IntArray:
    """Fill lines in list order within a limit per group (``limit_of_line``: the line's group's limit):
    each line gets what its group has left after the lines before it."""
    units = np.asarray(units, dtype=np.int64)
    limit = np.asarray(limit_of_line, dtype=np.int64)
    order = stable_order(group)
    run_start = run_starts(group[order])
    allowed = np.empty_like(units)
    allowed[order] = fill_runs(run_start, units[order], limit[order][run_start])
    return allowed
