"""Finished vehicles through the network: plant -> stockyard -> car carrier -> dealer yard -> customer.

SimPy runs the discrete parts: customer arrivals, factory builds, plant-to-yard transit, carrier loads (a
truck is a unit of the carrier's ``TruckFleet``, held for the round trip), deliveries. Builds, trunks and
loads are timed steps scheduled as events with callbacks (``twin.engine.scheduling``), not a process each.
Every VIN is a row of ``VehicleTable`` (numpy columns), and counts by dealer and spec are kept in arrays
beside it, so trunks, loads, deliveries and allocation move whole batches at once and policies and KPIs read
counts without loops.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import deque
from functools import partial
from typing import Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd
import simpy

from twin.config import OperationsConfig
from twin.domain.state_schema import VEHICLE_COLUMN_NAMES, row_table, table_rows
from twin.domain.vehicles import NOT_YET, SiteKind, VehicleStatus, VehicleTable
from twin.domain.vin import VinFactory
from twin.domain.world import World
from twin.engine.car_carriers import CarCarriers, LoadSettlement
from twin.engine.demand import DemandModel, VehicleCustomers
from twin.engine.eventlog import EventLog
from twin.engine.kpis import KpiRecorder
from twin.engine.scenario_effects import ScenarioEffects
from twin.engine.scheduling import after, at_once
from twin.engine.transit import TransitTimes
from twin.policies.observation import (
    CustomerRequest,
    SourcingDecision,
    SourcingKind,
    VehicleView,
    read_only,
)
from twin.policies.protocols import SourcingPolicy, VehicleAllocationPolicy

IntArray = npt.NDArray[np.int64]
DELIVERY_DAYS = 2
#: the volume plan is set this many days ahead, so launch stock is built before the launch
PLAN_LOOKAHEAD_DAYS = 14


class VehicleSettlement(LoadSettlement, Protocol):
    """The settlement hooks of finished vehicles: loads, trunk moves, handovers."""

    def load_arrived(self, load: list[int]) -> None: ...
    def trunk_departed(self, vehicle_ids: list[int], yard: int) -> None: ...
    def vehicle_delivered(self, vehicle_id: int) -> None: ...


class NetworkOrders(Protocol):
    """Network fulfilment of customer orders (``CustomerOrders``), when the sourcing policy searches the network."""

    def request(
        self, dealer: int, spec: int, patience_days: float, other_colour: bool, other_variant: bool
    ) -> CustomerRequest: ...
    def decide(
        self, policy: SourcingPolicy, view: VehicleView, request: CustomerRequest
    ) -> SourcingDecision: ...
    def fulfil(self, request: CustomerRequest, decision: SourcingDecision) -> None: ...
    def still_wanted(self, vehicle_id: int, arrival: float) -> bool: ...
    def delivered(self, vehicle_id: int, day: float) -> None: ...


class CampaignHooks(Protocol):
    """What campaigns (``CampaignFlow``) hear from the vehicle flow, and their first call on allocation."""

    def customer(self, day: int, dealer: int, spec: int, outcome: str) -> None: ...
    def reached_yard(self, vehicle_id: int) -> None: ...
    def positioning_today(self, day: int) -> bool: ...
    def allocate(self, view: VehicleView, yard: int, vehicle_ids: list[int], specs: IntArray) -> IntArray: ...


class VehicleFlow:
    def __init__(
        self,
        clock: simpy.Environment,
        world: World,
        operations: OperationsConfig,
        start_date: dt.date,
        demand: DemandModel,
        effects: ScenarioEffects,
        transit: TransitTimes,
        allocation: VehicleAllocationPolicy,
        sourcing: SourcingPolicy,
        settlement: VehicleSettlement,
        kpis: KpiRecorder,
        event_log: EventLog,
    ) -> None:
        self.env = clock
        self.world = world
        self.operations = operations
        self.start_date = start_date
        self.demand = demand
        self.transit = transit
        self.allocation = allocation
        self.sourcing = sourcing
        self.settlement = settlement
        self.kpis = kpis
        self.event_log = event_log
        #: network fulfilment and campaigns, wired by ``connect`` once they are built (None: not in this run)
        self.customer_orders: NetworkOrders | None = None
        self.campaigns: CampaignHooks | None = None
        network = world.network
        self.specs = world.specs
        dealers, specs, yards = network.dealer_count, len(world.specs), len(network.stockyards)
        #: every VIN ordered or built so far, in columns (a feed recorder watches it for changes)
        self.vehicles = VehicleTable(vin_maker=self._make_vin)
        self.dealer_yard: list[dict[int, deque[int]]] = [{} for _ in range(dealers)]
        self.dealer_stock = np.zeros((dealers, specs), dtype=np.int32)
        self.dealer_inbound = np.zeros((dealers, specs), dtype=np.int32)
        self.yard_pool: list[dict[int, deque[int]]] = [{} for _ in range(yards)]
        self.yard_stock = np.zeros((yards, specs), dtype=np.int32)
        self.pipeline = np.zeros(specs, dtype=np.int32)
        self.sales_28d = np.zeros((dealers, specs), dtype=np.int32)
        self.sales_by_day: deque[list[tuple[int, int]]] = deque()
        self._today_sales: list[tuple[int, int]] = []
        self.deliveries_today = np.zeros(dealers)
        #: vehicles to hand over, by the day of handover
        self.deliveries_due: dict[int, list[int]] = {}
        self._tokens = itertools.count()
        #: timed steps under way, kept as data so a snapshot can resume them
        self.trunks_on_road: dict[int, tuple[int, list[int], float]] = {}
        self.builds_in_progress: dict[int, float] = {}
        self.sales_window_days = operations.sales_window_days
        self.planned_conversion = operations.planned_conversion
        self.vehicle_cost_inr = world.specs.price_inr * (1.0 - operations.vehicle_margin_share)
        self.dealer_stock_value_inr = np.zeros(dealers)
        self.serial = 0
        self._vins = VinFactory()
        self._attributes = [self._attribute_code(spec) for spec in range(specs)]
        plant_codes = world.network.plants.code
        self.spec_plant = world.specs.model_plant[world.specs.model].astype(np.int64)
        self._spec_plant = [(int(plant), str(plant_codes[plant])) for plant in self.spec_plant.tolist()]
        self._model_years: dict[int, int] = {}
        #: the carrier of plant-to-stockyard trunk moves
        self.trunk_carrier = int(network.carriers.of_mode("vehicles")[0])
        self._view_day = -1
        self.same_variant = [
            np.flatnonzero(world.specs.variant == world.specs.variant[s]) for s in range(specs)
        ]
        self.same_model = [np.flatnonzero(world.specs.model == world.specs.model[s]) for s in range(specs)]
        self.carriers = CarCarriers(
            clock,
            network,
            operations,
            effects,
            transit,
            settlement,
            kpis,
            event_log,
            self.vehicles,
            self.unload,
        )
        plant_lat, plant_lon = network.plants.latitude, network.plants.longitude
        yard_lat, yard_lon = network.stockyards.latitude, network.stockyards.longitude
        self.plant_to_yard_km = network.road_km(
            plant_lat[:, None], plant_lon[:, None], yard_lat[None, :], yard_lon[None, :]
        )
        #: per stockyard, per plant: ``trunk_freight_per_vehicle_inr`` (read for every car on every trunk)
        self._trunk_slot_inr = [
            [self.trunk_freight_per_vehicle_inr(plant, yard) for plant in range(len(network.plants.code))]
            for yard in range(yards)
        ]
        self.factory_lead_time_days = (
            operations.factory_order_build_days
            + operations.plant_to_stockyard_days
            + self.carriers.yard_to_dealer_days
            + operations.carrier_max_wait_days
        )
        self.view: VehicleView = self.export_view()
        self._cached_view = self.view

    def connect(self, customer_orders: NetworkOrders | None, campaigns: CampaignHooks | None) -> None:
        """Late wiring of the components built on top of the flow (they read and move its vehicles)."""
        self.customer_orders = customer_orders
        self.campaigns = campaigns

    # -- registry -------------------------------------------------------------------------------------
    def new_vehicles(self, specs: IntArray, status: VehicleStatus, day: float) -> IntArray:
        """Vehicles ordered (or built) at their models' plants on ``day``; their VINs are numbered in order."""
        count = int(specs.size)
        serials = (self.serial + np.arange(count, dtype=np.int64)) % 1_000_000
        self.serial += count
        return self.vehicles.add(
            specs, status, SiteKind.PLANT, self.spec_plant[specs], day, self.model_year(day), serials
        )

    def new_vehicle(self, spec: int, status: VehicleStatus, day: float) -> int:
        """One vehicle as ``new_vehicles`` makes it, without the arrays (a customer's factory order)."""
        serial = self.serial % 1_000_000
        self.serial += 1
        plant = self._spec_plant[spec][0]
        return self.vehicles.add_one(spec, status, SiteKind.PLANT, plant, day, self.model_year(day), serial)

    def model_year(self, day: float) -> int:
        """The model year stamped in a VIN ordered on ``day`` (opening stock: the first day's year)."""
        whole_day = max(int(day), 0)
        year = self._model_years.get(whole_day)
        if year is None:
            year = (self.start_date + dt.timedelta(days=whole_day)).year
            self._model_years[whole_day] = year
        return year

    def _make_vin(self, spec: int, model_year: int, serial: int) -> str:
        code = self._spec_plant[spec][1]
        return self._vins.make(code[:3], self._attributes[spec], model_year, code[3], serial)

    def plant_of(self, vehicle_id: int) -> int:
        """The plant that builds (or built) a vehicle: its model's."""
        return self._spec_plant[int(self.vehicles.spec[vehicle_id])][0]

    def _attribute_code(self, spec: int) -> str:
        """VIN positions 4-8: model, variant (2 chars), colour, restraint code, all in the VIN alphabet."""
        alphabet = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
        variant = int(self.specs.variant[spec])
        return (
            alphabet[int(self.specs.model[spec]) % len(alphabet)]
            + alphabet[(variant // len(alphabet)) % len(alphabet)]
            + alphabet[variant % len(alphabet)]
            + alphabet[int(self.specs.colour[spec]) % len(alphabet)]
            + "A"
        )

    def place_in_dealer_yard(self, vehicle_id: int, dealer: int, day: float, spec: int | None = None) -> None:
        """A car joins the dealer's yard and stock (``spec``: its spec, if the caller has read it already)."""
        table = self.vehicles
        table.move(vehicle_id, VehicleStatus.IN_YARD, SiteKind.DEALER, dealer, day)
        table.set(vehicle_id, "dealer", dealer)
        if spec is None:
            spec = int(table.spec[vehicle_id])
        self.dealer_yard[dealer].setdefault(spec, deque()).append(vehicle_id)
        self.dealer_stock[dealer, spec] += 1
        self.dealer_stock_value_inr[dealer] += self.vehicle_cost_inr[spec]

    def take_from_dealer_yard(self, dealer: int, spec: int) -> int:
        vehicle_id = self.dealer_yard[dealer][spec].popleft()
        self.dealer_stock[dealer, spec] -= 1
        self.dealer_stock_value_inr[dealer] -= self.vehicle_cost_inr[spec]
        return vehicle_id

    def export_view(self) -> VehicleView:
        """The OEM's picture of the network (copies: it stays as of today until the next export)."""
        network = self.world.network
        return VehicleView(
            day=int(self.env.now),
            as_of_day=int(self.env.now),
            dealer_stock=read_only(self.dealer_stock.copy()),
            dealer_inbound=read_only(self.dealer_inbound.copy()),
            dealer_sales_28d=read_only(self.sales_28d.copy()),
            sales_window_days=self.sales_window_days,
            dealer_capacity=read_only(network.dealers.capacity_vehicles),
            dealer_stockyard=read_only(network.dealers.stockyard),
            spec_model=read_only(self.specs.model),
            spec_variant=read_only(self.specs.variant),
            spec_colour=read_only(self.specs.colour),
            yard_stock=read_only(self.yard_stock.copy()),
            pipeline=read_only(self.pipeline.copy()),
            factory_lead_time_days=read_only(self.factory_lead_time_days),
            plan_daily_retail=read_only(self.plan_daily_retail(int(self.env.now))),
            spec_price_inr=read_only(self.specs.price_inr),
        )

    def plan_daily_retail(self, day: int) -> npt.NDArray[np.float64]:
        """The OEM's annual volume plan by spec for ``day``: expected customers x planned conversion."""
        return self.planned_conversion * self.demand.expected_customers_by_spec(day + PLAN_LOOKAHEAD_DAYS)

    def restore_view(self, arrays: dict[str, npt.NDArray[np.int32]], as_of_day: int) -> None:
        """Put back the OEM's last export as a snapshot recorded it."""
        exported = self.export_view()
        self.view = VehicleView(
            **{
                **exported.__dict__,
                **{name: read_only(array) for name, array in arrays.items()},
                "as_of_day": as_of_day,
            }
        )
        self._view_day = -1

    def current_view(self) -> VehicleView:
        """The last export, stamped with today's date (rebuilt once a day, not per customer)."""
        today = int(self.env.now)
        if today != self._view_day or self._cached_view.as_of_day != self.view.as_of_day:
            self._cached_view = VehicleView(
                **{
                    **self.view.__dict__,
                    "day": today,
                    "plan_daily_retail": read_only(self.plan_daily_retail(today)),
                }
            )
            self._view_day = today
        return self._cached_view

    # -- initial state --------------------------------------------------------------------------------
    def seed_initial_stock(self, vehicles_per_dealer: int, rng: np.random.Generator) -> None:
        world = self.world
        weights = self.demand.spec_weights(0)  # a model launched later has no opening stock
        for dealer in range(world.dealer_count):
            count = round(vehicles_per_dealer * world.dealer_vehicle_activity[dealer])
            preference = weights[world.dealer_region[dealer]]
            preference = preference / preference.sum()
            specs = rng.choice(preference.size, size=count, p=preference)
            ages = np.sort(rng.uniform(0.0, 80.0, size=count))[::-1]
            self.seed_dealer_yard(dealer, specs.astype(np.int64), ages)
        # last 28 days of retail before the run (as in a DMS export); it rolls out of the window day by day
        expected = self.demand.base_customers_per_day(0)[:, None] * weights[world.dealer_region]
        history = rng.poisson(expected * self.sales_window_days * self.planned_conversion)
        dealer_of_sale, spec_of_sale = np.nonzero(history)
        counts = history[dealer_of_sale, spec_of_sale]
        dealer_of_sale, spec_of_sale = np.repeat(dealer_of_sale, counts), np.repeat(spec_of_sale, counts)
        day_of_sale = rng.integers(0, self.sales_window_days, size=dealer_of_sale.size)
        self.sales_28d[:] = history
        for day in range(self.sales_window_days):
            members = day_of_sale == day
            self.sales_by_day.append(
                list(zip(dealer_of_sale[members].tolist(), spec_of_sale[members].tolist(), strict=True))
            )
        self.view = self.export_view()

    def seed_dealer_yard(self, dealer: int, specs: IntArray, ages_days: npt.NDArray[np.float64]) -> None:
        """Opening stock: cars already in the dealer's yard, ordered 30 days before they arrived."""
        if specs.size == 0:
            return
        ids = self.new_vehicles(specs, VehicleStatus.ORDERED, -float(ages_days.max()) - 30.0)
        table = self.vehicles
        table.ordered_day[ids] = -ages_days - 30.0
        table.status[ids] = VehicleStatus.IN_YARD
        table.site_kind[ids] = SiteKind.DEALER
        table.site_index[ids] = dealer
        table.received_day[ids] = -ages_days
        table.dealer[ids] = dealer
        table.changed(ids)
        yard, cost = self.dealer_yard[dealer], self.vehicle_cost_inr
        value = self.dealer_stock_value_inr
        for vehicle_id, spec in zip(ids.tolist(), specs.tolist(), strict=True):
            yard.setdefault(spec, deque()).append(vehicle_id)
            value[dealer] += cost[spec]  # one car at a time, as every later change: the float sum stays exact
        np.add.at(self.dealer_stock[dealer], specs, 1)

    # -- customers ------------------------------------------------------------------------------------
    def customers(self, day: int, batch: VehicleCustomers):
        """SimPy process: the day's customers walk in one by one.

        A customer sold from stock before anything else is due (``env.peek()`` is later than their arrival)
        is served without waking the event loop: no other event can run in between, and a sale from stock
        schedules none, so the run is the same event for event, only without one timeout per sale. The
        others (factory and network orders, lost sales, start processes or search at the time) wait for
        their moment as before, and are not looked up in the yard again (nothing can run in between); so does
        everyone while a feed recorder watches the VIN table (it stamps changes with the clock)."""
        columns = (
            batch.arrival_day.tolist(),
            batch.dealer.tolist(),
            batch.spec.tolist(),
            batch.patience_days.tolist(),
            batch.colour_draw.tolist(),
            batch.variant_draw.tolist(),
        )
        env = self.env
        skip_ahead = self.vehicles.watch is None
        for arrival, dealer, spec, patience, colour_draw, variant_draw in zip(*columns, strict=True):
            if arrival > env.now:
                if skip_ahead and env.peek() > arrival:
                    chosen, first_choice = self._stock_choice(dealer, spec, colour_draw, variant_draw)
                    if chosen >= 0:
                        self._sell_from_stock(dealer, spec, chosen, first_choice, arrival)
                        continue
                    yield env.timeout(arrival - env.now)
                    self._serve_without_stock(dealer, spec, patience, colour_draw, variant_draw)
                    continue
                yield env.timeout(arrival - env.now)
            self.serve_customer(dealer, spec, patience, colour_draw, variant_draw)

    def _stock_choice(
        self, dealer: int, spec: int, colour_draw: float, variant_draw: float
    ) -> tuple[int, bool]:
        """The spec a customer takes from the dealer's yard (-1: none they accept) and whether it is their
        first choice: their own if in stock, else another colour, else another variant, as they accept."""
        stock_row = self.dealer_stock[dealer]
        if stock_row[spec] > 0:
            return spec, True
        demand = self.demand
        for draw, acceptance, candidates in (
            (colour_draw, demand.accept_other_colour, self.same_variant[spec]),
            (variant_draw, demand.accept_other_variant, self.same_model[spec]),
        ):
            if draw < acceptance:
                # the first of the most stocked candidates, if it has stock (one argmax, no filtering)
                counts = stock_row[candidates]
                best = int(counts.argmax())
                if counts[best] > 0:
                    return int(candidates[best]), False
        return -1, False

    def _sell_from_stock(self, dealer: int, spec: int, chosen: int, first_choice: bool, now: float) -> None:
        """A customer who wanted ``spec`` buys ``chosen`` from the yard at ``now``."""
        today = int(now)
        kpi, log = self.kpis, self.event_log
        kpi.count(today, "vehicle_customers")
        kpi.count(today, "vehicle_first_choice_available" if first_choice else "vehicle_substitutions")
        if self.campaigns is not None:
            self.campaigns.customer(today, dealer, spec, "sold_from_stock")
        vehicle_id = self.take_from_dealer_yard(dealer, chosen)
        self.vehicles.move(vehicle_id, VehicleStatus.RESERVED, SiteKind.DEALER, dealer, now)
        kpi.count(today, "vehicle_sold_from_stock")
        if log.enabled:
            vin = self.vehicles.vin(vehicle_id)
            log.record(now, "vehicle_sold", dealer=dealer, vin=vin, wanted_spec=spec, spec=chosen)
        self.schedule_delivery(vehicle_id, now)

    def serve_customer(
        self, dealer: int, spec: int, patience_days: float, colour_draw: float, variant_draw: float
    ) -> None:
        now = self.env.now
        chosen, first_choice = self._stock_choice(dealer, spec, colour_draw, variant_draw)
        if chosen >= 0:
            self._sell_from_stock(dealer, spec, chosen, first_choice, now)
            return
        self._serve_without_stock(dealer, spec, patience_days, colour_draw, variant_draw)

    def _serve_without_stock(
        self, dealer: int, spec: int, patience_days: float, colour_draw: float, variant_draw: float
    ) -> None:
        """A customer for whom the yard has nothing they accept: a network order, a factory order, or lost."""
        now = self.env.now
        today = int(now)
        kpi, log, demand = self.kpis, self.event_log, self.demand
        kpi.count(today, "vehicle_customers")
        campaigns = self.campaigns
        orders = self.customer_orders
        if orders is not None:
            request = orders.request(
                dealer,
                spec,
                patience_days,
                colour_draw < demand.accept_other_colour,
                variant_draw < demand.accept_other_variant,
            )
        else:
            request = CustomerRequest(now, dealer, spec, patience_days)
        decision = (
            orders.decide(self.sourcing, self.current_view(), request)
            if orders is not None
            else self.sourcing.source(self.current_view(), request)
        )
        if (
            orders is not None
            and decision.kind is SourcingKind.NETWORK
            and decision.quoted_days <= patience_days
        ):
            kpi.count(today, "vehicle_network_orders")
            if campaigns is not None:
                campaigns.customer(today, dealer, spec, "network_orders")
            orders.fulfil(request, decision)
            return
        if decision.kind is SourcingKind.FACTORY_ORDER and decision.quoted_days <= patience_days:
            kpi.count(today, "vehicle_factory_orders")
            if campaigns is not None:
                campaigns.customer(today, dealer, spec, "factory_orders")
            vehicle_id = self.new_vehicle(spec, VehicleStatus.ORDERED, now)
            self.vehicles.set(vehicle_id, "dealer", dealer)
            self.vehicles.set(vehicle_id, "customer_order", True)
            if log.enabled:
                log.record(
                    now,
                    "factory_order",
                    dealer=dealer,
                    vin=self.vehicles.vin(vehicle_id),
                    spec=spec,
                    quoted_days=round(decision.quoted_days, 3),
                )
            self.start_build(vehicle_id, self.operations.factory_order_build_days)
            return
        kpi.count(today, "vehicle_lost_sales")
        if campaigns is not None:
            campaigns.customer(today, dealer, spec, "lost")
        kpi.add(
            now,
            "vehicle_lost_margin_inr",
            self.specs.price_inr[spec] * self.operations.vehicle_margin_share,
        )
        if log.enabled:
            log.record(now, "vehicle_customer_lost", dealer=dealer, spec=spec)

    def schedule_delivery(self, vehicle_id: int, now: float | None = None) -> None:
        """A reserved vehicle is handed over ``DELIVERY_DAYS`` after ``now`` (default: the clock's now;
        registration, accessories, PDI)."""
        moment = self.env.now if now is None else now
        self.deliveries_due.setdefault(int(moment + DELIVERY_DAYS), []).append(vehicle_id)

    def deliver_due(self, day: int) -> None:
        due = self.deliveries_due.pop(day, [])
        if not due:
            return
        now, table = self.env.now, self.vehicles
        ids = np.array(due, dtype=np.int64)
        table.move(ids, VehicleStatus.DELIVERED, SiteKind.CUSTOMER, -1, now)
        dealers, specs = table.dealer[ids].astype(np.int64), table.spec[ids].astype(np.int64)
        self.kpis.count(day, "vehicle_deliveries", float(ids.size))
        np.add.at(self.deliveries_today, dealers, 1)
        np.add.at(self.sales_28d, (dealers, specs), 1)
        self._today_sales.extend(zip(dealers.tolist(), specs.tolist(), strict=True))
        orders, log = self.customer_orders, self.event_log
        for vehicle_id, dealer in zip(due, dealers.tolist(), strict=True):
            self.settlement.vehicle_delivered(vehicle_id)
            if orders is not None:
                orders.delivered(vehicle_id, now)
            if log.enabled:
                log.record(now, "vehicle_delivered", dealer=dealer, vin=table.vin(vehicle_id))

    def roll_sales_window(self) -> None:
        """End of day: today's deliveries enter the 28-day window, day -28's leave it."""
        self.sales_by_day.append(self._today_sales)
        self._today_sales = []
        if len(self.sales_by_day) > self.sales_window_days:
            for dealer, spec in self.sales_by_day.popleft():
                self.sales_28d[dealer, spec] -= 1

    # -- supply ---------------------------------------------------------------------------------------
    def build(self, vehicle_id: int, build_days: float) -> None:
        """A build resumed from a snapshot: it starts where a process started now would take its first step."""
        at_once(self.env, lambda _: self.start_build(vehicle_id, build_days))

    def start_build(self, vehicle_id: int, build_days: float) -> None:
        """Factory order: build, then ship to the dealer's stockyard and on to the dealer (timed steps,
        ``scheduling``). Started at the order itself rather than by a process starting just after it: nothing
        runs in between but the customers' loop, whose skip-ahead (``customers``) then serves the next customer
        just as the event loop would, so the run is the same, with fewer events."""
        eta = self.env.now + build_days
        self.vehicles.set(vehicle_id, "eta_day", eta)
        self.builds_in_progress[vehicle_id] = eta
        after(self.env, build_days, partial(self._built, vehicle_id))

    def _built(self, vehicle_id: int, _: simpy.Event) -> None:
        del self.builds_in_progress[vehicle_id]
        table = self.vehicles
        table.move(
            vehicle_id, VehicleStatus.BUILT, SiteKind.PLANT, int(table.site_index[vehicle_id]), self.env.now
        )
        if self.event_log.enabled:
            self.event_log.record(
                self.env.now, "vehicle_built", vin=table.vin(vehicle_id), customer_order=True
            )
        dealer = int(table.dealer[vehicle_id])
        self.dealer_inbound[dealer, table.spec[vehicle_id]] += 1
        yard = int(self.world.network.dealers.stockyard[dealer])
        self.start_trunk([vehicle_id], yard, self.trunk_days(yard))

    def build_stock(self, builds: list[tuple[list[int], int]]) -> None:
        """Today's stock builds, ``(specs, yard)`` per yard: each yard's travel together on one trunk. One step
        for all yards, where the processes of one trunk each would have started one after another."""
        if builds:
            at_once(self.env, partial(self._build_stock_now, builds))

    def _build_stock_now(self, builds: list[tuple[list[int], int]], _: simpy.Event) -> None:
        for specs, yard in builds:
            self.start_trunk(self.new_stock_vehicles(specs), yard, self.trunk_days(yard))

    def new_stock_vehicles(self, specs: list[int]) -> list[int]:
        """Stock vehicles built today at their plants, not yet on the trunk."""
        now = self.env.now
        spec_array = np.array(specs, dtype=np.int64)
        ids = self.new_vehicles(spec_array, VehicleStatus.ORDERED, now)
        self.vehicles.move(ids, VehicleStatus.BUILT, SiteKind.PLANT, self.spec_plant[spec_array], now)
        np.add.at(self.pipeline, spec_array, 1)
        vehicle_ids: list[int] = ids.tolist()
        return vehicle_ids

    def trunk_days(self, yard: int) -> float:
        return self.operations.plant_to_stockyard_days * self.transit.factor(
            "plant_yard", int(self.env.now), yard
        )

    def trunk(self, vehicle_ids: list[int], yard: int, transit_days: float, departed: bool = False) -> None:
        """Plant to stockyard, starting where a process started now would take its first step (campaign
        builds, trunks resumed from a snapshot; ``departed``: it left before the snapshot and was charged)."""
        at_once(self.env, lambda _: self.start_trunk(vehicle_ids, yard, transit_days, departed))

    def start_trunk(
        self, vehicle_ids: list[int], yard: int, transit_days: float, departed: bool = False
    ) -> None:
        """Plant to stockyard, leaving now. Stock joins the yard's unallocated pool; a customer's car queues
        for its dealer."""
        now, table = self.env.now, self.vehicles
        if not departed:
            ids = table.rows(vehicle_ids)  # a plain int for a customer's car trunked alone
            table.move(ids, VehicleStatus.IN_TRANSIT, SiteKind.ROAD, yard, now)
            table.set(ids, "eta_day", now + transit_days)
            # charged when the trunk leaves, like car-carrier loads (a restored trunk has been charged already)
            slot_inr, spec_plant = self._trunk_slot_inr[yard], self._spec_plant
            freight = sum(slot_inr[spec_plant[spec][0]] for spec in table.values("spec", ids))
            self.kpis.add(now, "freight_vehicle_inr", freight)
            self.settlement.trunk_departed(vehicle_ids, yard)
        token = next(self._tokens)
        self.trunks_on_road[token] = (yard, vehicle_ids, now + transit_days)
        after(self.env, transit_days, partial(self._trunk_arrived, token, vehicle_ids, yard))

    def _trunk_arrived(self, token: int, vehicle_ids: list[int], yard: int, _: simpy.Event) -> None:
        del self.trunks_on_road[token]
        arrival, table = self.env.now, self.vehicles
        ids = table.rows(vehicle_ids)
        table.move(ids, VehicleStatus.IN_YARD, SiteKind.STOCKYARD, yard, arrival)
        pool, queues, campaigns = self.yard_pool[yard], self.carriers.dispatch_queue, self.campaigns
        columns = (
            table.values("customer_order", ids),
            table.values("dealer", ids),
            table.values("spec", ids),
        )
        for vehicle_id, ordered, dealer, spec in zip(vehicle_ids, *columns, strict=True):
            if ordered:
                queues[dealer].append((vehicle_id, arrival))
            else:
                self.pipeline[spec] -= 1
                pool.setdefault(spec, deque()).append(vehicle_id)
                self.yard_stock[yard, spec] += 1
                if campaigns is not None:
                    campaigns.reached_yard(vehicle_id)

    def trunk_freight_per_vehicle_inr(self, plant: int, yard: int) -> float:
        """Plant to stockyard moves in full car-carrier loads: a slot's share of the load charge."""
        carriers = self.world.network.carriers
        carrier = self.trunk_carrier
        load_charge = max(
            float(carriers.minimum_charge_inr[carrier]),
            float(carriers.rate_per_km_inr[carrier]) * float(self.plant_to_yard_km[plant, yard]),
        )
        return load_charge / float(carriers.capacity_per_load[carrier])

    def allocate(self) -> None:
        """Allocation cycle: the policy assigns each yard's unallocated vehicles to dealers."""
        view = self.current_view()
        campaigns = self.campaigns
        positioning = campaigns is not None and campaigns.positioning_today(int(self.env.now))
        for yard, pool in enumerate(self.yard_pool):
            ids = np.fromiter(itertools.chain.from_iterable(pool.values()), dtype=np.int64)
            if not ids.size:
                continue
            specs = self.vehicles.spec[ids].astype(np.int64)
            if positioning:
                assert campaigns is not None
                dealers = campaigns.allocate(view, yard, ids.tolist(), specs)
            else:
                dealers = self.allocation.allocate(view, yard, specs)
            assigned = dealers >= 0
            self.yard_pool[yard] = self._pool_by_spec(ids[~assigned], specs[~assigned])
            if not assigned.any():
                continue
            chosen, to_dealer, chosen_specs = ids[assigned], dealers[assigned], specs[assigned]
            np.subtract.at(self.yard_stock[yard], chosen_specs, 1)
            np.add.at(self.dealer_inbound, (to_dealer, chosen_specs), 1)
            self.vehicles.set(chosen, "dealer", to_dealer)
            now, queues = self.env.now, self.carriers.dispatch_queue
            for vehicle_id, dealer in zip(chosen.tolist(), to_dealer.tolist(), strict=True):
                queues[dealer].append((vehicle_id, now))

    @staticmethod
    def _pool_by_spec(ids: IntArray, specs: IntArray) -> dict[int, deque[int]]:
        """A yard's pool from vehicles listed spec by spec (each spec's cars together, in queue order): one
        queue per run of a spec, in the order listed (thousands of cars stay unallocated each cycle)."""
        if specs.size == 0:
            return {}
        starts = np.flatnonzero(np.diff(specs)) + 1
        run_specs = specs[np.concatenate(([0], starts))].tolist()
        return {spec: deque(run.tolist()) for spec, run in zip(run_specs, np.split(ids, starts), strict=True)}

    def unload(self, dealer: int, load: list[int], arrival: float) -> None:
        """A car-carrier load reaches its dealer: stock joins the yard, a customer's car is reserved for them."""
        self.settlement.load_arrived(load)
        table, orders = self.vehicles, self.customer_orders
        # each car's step writes only its own row, so the load's columns are read once, up front
        rows = table.rows(load)
        columns = (
            table.values("spec", rows),
            table.values("customer_order", rows),
            table.values("received_day", rows),
        )
        for vehicle_id, spec, ordered, first_received in zip(load, *columns, strict=True):
            self.dealer_inbound[dealer, spec] -= 1
            if ordered and orders is not None and not orders.still_wanted(vehicle_id, arrival):
                ordered = False  # the customer gave up waiting: the car is dealer stock now
                table.set(vehicle_id, "customer_order", False)
            if ordered:
                table.move(vehicle_id, VehicleStatus.IN_YARD, SiteKind.DEALER, dealer, arrival)
                table.move(vehicle_id, VehicleStatus.RESERVED, SiteKind.DEALER, dealer, arrival)
                self.schedule_delivery(vehicle_id)
            else:
                self.place_in_dealer_yard(vehicle_id, dealer, arrival, spec)
                if first_received != NOT_YET:  # moved from another dealer: it keeps its age in dealer stock
                    table.set(vehicle_id, "received_day", first_received)

    # -- KPIs -----------------------------------------------------------------------------------------
    def in_dealer_yards(self) -> IntArray:
        """Ids of the cars in dealer yards, ascending, read from the table's columns: one pass over arrays
        instead of walking ~50k yard queues (a car is in a dealer yard exactly when its status is in yard at a
        dealer, and its site is that dealer)."""
        table = self.vehicles
        count = len(table)
        return np.flatnonzero(
            (table.status[:count] == VehicleStatus.IN_YARD) & (table.site_kind[:count] == SiteKind.DEALER)
        )

    def ages_in_dealer_yards(self) -> npt.NDArray[np.float64]:
        """Days in dealer stock of every car in a dealer yard, by vehicle id."""
        return self.env.now - self.vehicles.received_day[self.in_dealer_yards()]

    def sorted_ages_in_dealer_yards(self) -> npt.NDArray[np.float64]:
        """The same ages, sorted (the weekly KPI: its mean must not depend on the order)."""
        return np.sort(self.ages_in_dealer_yards())

    # -- state (section "vehicles" of twin.domain.state, and the VIN table) --------------------------
    EXPORTED = ("dealer_stock", "dealer_inbound", "dealer_sales_28d", "yard_stock", "pipeline")

    def vehicle_table(self) -> pd.DataFrame:
        """Every VIN ordered or built so far, one row each; the row number is the vehicle id."""
        return self.vehicles.frame(VEHICLE_COLUMN_NAMES)

    def load_vehicle_table(self, frame: pd.DataFrame) -> None:
        """Replace the VIN registry in place: the car carriers hold the same table."""
        self.vehicles.load_frame(frame)

    def state_arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        arrays: dict[str, npt.NDArray[np.generic]] = {
            "dealer_yard_order": row_table(
                [
                    (dealer, vid)
                    for dealer, yard in enumerate(self.dealer_yard)
                    for queue in yard.values()
                    for vid in queue
                ],
                2,
            ),
            "stockyard_order": row_table(
                [
                    (yard, vid)
                    for yard, pool in enumerate(self.yard_pool)
                    for queue in pool.values()
                    for vid in queue
                ],
                2,
            ),
            # a spec's queue stays where it was opened when it empties, and sales, searches and allocation read
            # the queues in that order: the order, empty queues too, is state of its own
            "dealer_yard_queues": row_table(
                [(dealer, spec) for dealer, yard in enumerate(self.dealer_yard) for spec in yard], 2
            ),
            "stockyard_queues": row_table(
                [(yard, spec) for yard, pool in enumerate(self.yard_pool) for spec in pool], 2
            ),
            "deliveries_due": row_table(
                [(day, vid) for day, ids in self.deliveries_due.items() for vid in ids], 2
            ),
            "sales_window": row_table(
                [
                    (offset, dealer, spec)
                    for offset, sales in enumerate(self.sales_by_day)
                    for dealer, spec in sales
                ],
                3,
            ),
            "sales_window_days": np.array([len(self.sales_by_day)], dtype=np.int64),
            "sales_28d": self.sales_28d.copy(),
            "dealer_inbound": self.dealer_inbound.copy(),
            "pipeline": self.pipeline.copy(),
            "export_as_of_day": np.array([self.view.as_of_day], dtype=np.int64),
            "trunks_on_road": row_table(
                [
                    (token, yard, vid, eta)
                    for token, (yard, load, eta) in self.trunks_on_road.items()
                    for vid in load
                ],
                4,
            ),
            "builds_in_progress": row_table(list(self.builds_in_progress.items()), 2),
            "vin_serial": np.array([self.serial], dtype=np.int64),
        }
        for name in self.EXPORTED:
            arrays[f"export_{name}"] = np.asarray(getattr(self.view, name)).copy()
        return arrays

    def load_state_arrays(self, arrays: dict[str, npt.NDArray[np.generic]]) -> None:
        """Rebuild the yards and counts from the VIN table (``load_vehicle_table`` first). Builds and trunks
        in progress are restarted by ``resume_in_flight`` once the clock runs."""
        spec_of = self.vehicles.spec
        for dealer, spec in table_rows(arrays["dealer_yard_queues"]):
            self.dealer_yard[dealer][spec] = deque()
        for yard, spec in table_rows(arrays["stockyard_queues"]):
            self.yard_pool[yard][spec] = deque()
        for dealer, vid in table_rows(arrays["dealer_yard_order"]):
            spec = int(spec_of[vid])
            self.dealer_yard[dealer].setdefault(spec, deque()).append(vid)
            self.dealer_stock[dealer, spec] += 1
            self.dealer_stock_value_inr[dealer] += self.vehicle_cost_inr[spec]
        for yard, vid in table_rows(arrays["stockyard_order"]):
            spec = int(spec_of[vid])
            self.yard_pool[yard].setdefault(spec, deque()).append(vid)
            self.yard_stock[yard, spec] += 1
        for day, vid in table_rows(arrays["deliveries_due"]):
            self.deliveries_due.setdefault(day, []).append(vid)
        window = np.asarray(table_rows(arrays["sales_window"]), dtype=np.int64).reshape(-1, 3)
        for offset in range(
            int(np.asarray(arrays["sales_window_days"])[0])
        ):  # days without a sale still count
            self.sales_by_day.append(
                [(dealer, spec) for _, dealer, spec in window[window[:, 0] == offset].tolist()]
            )
        self.sales_28d[:] = arrays["sales_28d"]
        self.dealer_inbound[:] = arrays["dealer_inbound"]
        self.pipeline[:] = arrays["pipeline"]
        self.serial = int(np.asarray(arrays["vin_serial"])[0])
        self.restore_view(
            {name: np.asarray(arrays[f"export_{name}"]) for name in self.EXPORTED},
            int(np.asarray(arrays["export_as_of_day"])[0]),
        )
