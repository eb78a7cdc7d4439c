"""Network fulfilment of customer vehicle orders: Atlas's view of the network, VINs claimed for customers, the
move to their dealer, and the order lifecycle.

Runs with a sourcing policy that asks for a ``network_search`` (``policy/sourcing=network`` or
``phone_around``). A customer whose spec (and the substitutes they accept) is not in their dealer's yard gets
Atlas's candidates: the inventory is refreshed once a day and every claim marks its VIN, and a chosen candidate that has left its
site since the morning (sold at its own dealer, allocated) is struck and the policy asked again. The chosen VIN:

- from another dealer's yard: a dealer trade by the logistics partner's trade service (it does not hold one of
  the car-carrier fleet's trucks, which one-car loads would tie up for a round trip each). Trades share a
  truck when their holders are near each other and so are their receivers (a lane between two clusters of
  dealers, ``trade_consolidation_radius_km``) and they are booked before the lane's open load leaves: a load
  leaves the dispatch delay after its first trade was booked, which the customer's promise already allows,
  so consolidation never delays a promise. Each car then drives its own distance. The truck is billed like any
  transfer load (the card's minimum or its per-km charge at the load's share, by the longest leg), split by
  car-km and settled when its last car arrives (the vehicles at cost plus a handling fee);
- from a stockyard's unallocated pool: allocated to the customer's dealer and queued for the next load;
- from the pipeline (a stock build on its trunk to a stockyard): becomes the customer's car on the road.

Lifecycle, in the event log: ``vehicle_order_booked`` -> ``vehicle_order_sourced`` (VIN reserved, promise day)
-> the load's departure and arrival -> delivery, or ``vehicle_order_lost_late`` when the car arrives after
the customer's patience ran out (the car then joins the dealer's stock).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np
import numpy.typing as npt
import simpy

from twin.config import OperationsConfig
from twin.domain.network import Network
from twin.domain.vehicles import SiteKind, VehicleStatus
from twin.engine.eventlog import EventLog
from twin.engine.kpis import KpiRecorder
from twin.engine.scheduling import after, at_once
from twin.engine.settlement_posting import SettlementFlow
from twin.engine.streams import RandomStreams
from twin.engine.transit import TransitTimes
from twin.engine.vehicle_flow import VehicleFlow
from twin.engine.vin_inventory import vin_inventory
from twin.errors import ConfigError
from twin.policies.network_sourcing import (
    Candidates,
    MatchLevel,
    NetworkGeometry,
    NetworkSearch,
    NetworkSourcing,
    PlaceTables,
    SourceKind,
    SourcingRequest,
    acceptable_specs,
)
from twin.policies.observation import CustomerRequest, SourcingDecision, SourcingKind, VehicleView
from twin.policies.protocols import SourcingPolicy
from twin.settlement.money import inr_to_paise
from twin.settlement.payers import FreightCategory
from twin.settlement.transfers import TransferBatch as SettlementBatch

FloatArray = npt.NDArray[np.float64]
COUNTERS = (
    "requests", "network_orders", "network_exact", "from_dealer_yard", "from_stockyard", "from_pipeline",
    "lost_late", "delivered", "order_to_delivery_days_sum", "dealer_trades", "dealer_trade_freight_inr",
    "candidates_struck", "dealer_trade_loads",
)  # fmt: skip
#: one dealer trade waiting on its load: trade id, holder, receiving dealer, carrier, arrive day, km, price paise
TRADE_COLUMNS = 7


def trade_clusters(dealer_km: FloatArray, radius_km: float) -> npt.NDArray[np.int64]:
    """Cluster of each dealer for trade lanes: in index order, a dealer joins the first cluster whose founding
    dealer lies within ``radius_km``, or founds its own (so two members may be up to twice the radius apart).
    Fixed by the network, the same in every run."""
    cluster = np.full(dealer_km.shape[0], -1, dtype=np.int64)
    founders: list[int] = []
    for dealer in range(dealer_km.shape[0]):
        near = [index for index, founder in enumerate(founders) if dealer_km[founder, dealer] <= radius_km]
        if near:
            cluster[dealer] = near[0]
        else:
            cluster[dealer] = len(founders)
            founders.append(dealer)
    return cluster


@dataclass
class TradeLoad:
    """A trade-service truck on a lane between two dealer clusters, filling until it leaves at ``depart_at``."""

    #: holders' cluster, receivers' cluster, carrier
    lane: tuple[int, int, int]
    depart_at: float
    #: rows of ``TRADE_COLUMNS``
    trades: list[tuple[float, ...]] = field(default_factory=list)


class LateLossObserver(Protocol):
    """Who counts a network order lost because its car came too late (the campaigns' outcome table)."""

    def lost_late(self, booked_day: int, dealer: int, spec: int) -> None: ...


def network_geometry(
    network: Network,
    operations: OperationsConfig,
    handling_fee_inr: float,
    vehicle_cost_inr: FloatArray,
) -> NetworkGeometry:
    """Distances, speeds and charges Atlas prices candidates with: the dealers' main car carrier's card."""
    carriers = network.carriers
    carrier = int(np.bincount(network.vehicle_carrier).argmax())
    return NetworkGeometry(
        dealer_km=network.dealer_to_dealer_km(),
        yard_to_dealer_km=network.stockyard_to_dealer_km(),
        speed_km_per_day=float(carriers.speed_km_per_day[carrier]),
        dispatch_delay_days=operations.dc_dispatch_delay_days,
        rate_per_km_inr=float(carriers.rate_per_km_inr[carrier]),
        minimum_charge_inr=float(carriers.minimum_charge_inr[carrier]),
        slots_per_load=int(carriers.capacity_per_load[carrier]),
        handling_fee_inr=handling_fee_inr,
        floor_plan_inr_per_day=vehicle_cost_inr * operations.floor_plan_rate_per_year / 365.0,
        stockyard_wait_days=operations.carrier_max_wait_days,
    )


class CustomerOrders:
    def __init__(
        self,
        clock: simpy.Environment,
        search: NetworkSearch,
        operations: OperationsConfig,
        network: Network,
        generator_seed: int,
        handling_fee_inr: float,
        vehicles: VehicleFlow,
        transit: TransitTimes,
        settlement: SettlementFlow,
        streams: RandomStreams,
        kpis: KpiRecorder,
        event_log: EventLog,
    ) -> None:
        """``search`` is what the sourcing policy asks of the engine (its Atlas rules, who trades, how trades
        share trucks); ``generator_seed`` (the network's) draws which dealers trade; ``handling_fee_inr`` is what a
        vehicle transfer's receiver pays on top of the car (priced into Atlas's candidates)."""
        self.env = clock
        self.network = network
        self.vehicles = vehicles
        self.transit = transit
        self.settlement = settlement
        self.streams = streams
        self.kpis = kpis
        self.event_log = event_log
        #: campaigns counting late losses, wired by ``connect`` (None: no campaign in the run)
        self.campaigns: LateLossObserver | None = None
        self.geometry = network_geometry(network, operations, handling_fee_inr, vehicles.vehicle_cost_inr)
        self.rules = search.rules
        #: what a trade's receiver pays for each spec (the car at cost), in paise, converted once
        self.price_paise = inr_to_paise(vehicles.vehicle_cost_inr)
        # which dealers trade is a fact about the network, not a replication: the generator seed draws it
        trade_rng = np.random.default_rng(np.random.SeedSequence([generator_seed, 8]))
        self.dealer_trades = trade_rng.random(network.dealer_count) < search.dealer_trade_share
        self.trade_cluster = trade_clusters(self.geometry.dealer_km, search.trade_consolidation_radius_km)
        #: trade loads not yet left, by token, and the lane's load still taking trades
        self.trade_loads: dict[int, TradeLoad] = {}
        self.open_lane: dict[tuple[int, int, int], int] = {}
        self.next_trade_load = 0
        self._atlas: NetworkSourcing | None = None
        self._atlas_day = -1
        #: what Atlas needs of each pair of places, fixed by the network: built once, not with each day's Atlas
        self.places = PlaceTables.build(self.geometry, self.rules, network.dealers.stockyard)
        #: the specs a customer takes (and how well each matches), by (wanted spec, other colour, other variant)
        self._acceptable: dict[
            tuple[int, bool, bool], tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]
        ] = {}
        #: open network orders: vehicle id -> (booked time, patience days)
        self.orders: dict[int, tuple[float, float]] = {}
        self.counters = dict.fromkeys(COUNTERS, 0.0)
        #: dealer trades on the road, settled on arrival: arrive day -> a load's transfers each, as rows of
        #: ``SettlementBatch.to_rows`` (made a batch once a day, on arrival, rather than once per load)
        self.arriving: dict[int, list[FloatArray]] = defaultdict(list)
        self.next_trade = 0
        #: dealer trades on the road: token -> (dealer, vehicle, arrival time)
        self.trades_on_road: dict[int, tuple[int, int, float]] = {}

    def connect(self, campaigns: LateLossObserver | None) -> None:
        self.campaigns = campaigns

    # -- the search ---------------------------------------------------------------------------------
    def atlas(self) -> NetworkSourcing:
        """Atlas over the morning's inventory (claims during the day are marked on it as they happen)."""
        today = int(self.env.now)
        if self._atlas is None or self._atlas_day != today:
            flow = self.vehicles
            self._atlas = NetworkSourcing(
                vin_inventory(flow),
                self.geometry,
                self.rules,
                self.dealer_trades,
                flow.dealer_stock,
                flow.sales_28d,
                self.network.dealers.stockyard,
                self.places,
            )
            self._atlas_day = today
        return self._atlas

    def request(
        self, dealer: int, spec: int, patience_days: float, other_colour: bool, other_variant: bool
    ) -> CustomerRequest:
        flow, log = self.vehicles, self.event_log
        now = self.env.now
        self.counters["requests"] += 1
        key = (spec, other_colour, other_variant)
        accepted = self._acceptable.get(key)
        if accepted is None:
            accepted = acceptable_specs(
                spec, flow.same_variant[spec], flow.same_model[spec], other_colour, other_variant
            )
            accepted[0].flags.writeable = accepted[1].flags.writeable = False  # shared by every such request
            self._acceptable[key] = accepted
        specs, match = accepted
        query = SourcingRequest(dealer, specs, match, patience_days, now)
        draw = float(self.streams.get("sourcing:customer_draws").random())
        if log.enabled:
            log.record(now, "vehicle_order_booked", dealer=dealer, spec=spec, patience_days=patience_days)
        return CustomerRequest(now, dealer, spec, patience_days, self.atlas().candidates(query), draw, query)

    def decide(self, policy: SourcingPolicy, view: VehicleView, request: CustomerRequest) -> SourcingDecision:
        """The policy's decision on a VIN that is still where the morning's inventory put it. A chosen VIN that
        has left since (sold at its own dealer, allocated, arrived off its trunk) is struck and the policy asked
        again, so only chosen candidates are checked, never the hundreds offered to each customer."""
        while True:
            decision = policy.source(view, request)
            row = decision.candidate
            if decision.kind is not SourcingKind.NETWORK or self._still_there(request.candidates, row):
                return decision
            self.counters["candidates_struck"] += 1
            self.atlas().inventory.reserved[request.candidates.row[row]] = True
            request = replace(request, candidates=self.atlas().candidates(request.query))

    def _still_there(self, candidates: Candidates, row: int) -> bool:
        """Whether the chosen VIN is still where the morning's inventory put it (read from the VIN table's
        columns: this runs for every network order)."""
        table, vehicle = self.vehicles.vehicles, int(candidates.vehicle[row])
        kind, site = int(candidates.kind[row]), int(candidates.site[row])
        status, site_kind = int(table.status[vehicle]), int(table.site_kind[vehicle])
        if kind == SourceKind.DEALER_YARD:
            here = status == VehicleStatus.IN_YARD and site_kind == SiteKind.DEALER
            return here and int(table.site_index[vehicle]) == site and not table.customer_order[vehicle]
        if kind == SourceKind.STOCKYARD:  # still unallocated in that stockyard's pool
            in_pool = status == VehicleStatus.IN_YARD and site_kind == SiteKind.STOCKYARD
            return in_pool and int(table.site_index[vehicle]) == site and int(table.dealer[vehicle]) < 0
        # still on its trunk, nobody's yet (a trunk that arrived put it in the pool instead)
        on_trunk = status == VehicleStatus.IN_TRANSIT and site_kind == SiteKind.ROAD
        return on_trunk and int(table.dealer[vehicle]) < 0 and not table.customer_order[vehicle]

    # -- the claim ----------------------------------------------------------------------------------
    def fulfil(self, request: CustomerRequest, decision: SourcingDecision) -> None:
        """Reserve the chosen VIN for the customer and start it towards their dealer."""
        flow, log = self.vehicles, self.event_log
        candidates: Candidates = request.candidates
        row = decision.candidate
        vehicle_id = int(candidates.vehicle[row])
        kind, site = int(candidates.kind[row]), int(candidates.site[row])
        vehicle = flow.vehicles[vehicle_id]
        spec, dealer, now = vehicle.spec, request.dealer, self.env.now
        self.atlas().inventory.reserved[candidates.row[row]] = True
        if kind == SourceKind.DEALER_YARD:
            flow.dealer_yard[site][spec].remove(vehicle_id)
            flow.dealer_stock[site, spec] -= 1
            flow.dealer_stock_value_inr[site] -= flow.vehicle_cost_inr[spec]
            self.counters["from_dealer_yard"] += 1
        elif kind == SourceKind.STOCKYARD:
            flow.yard_pool[site][spec].remove(vehicle_id)
            flow.yard_stock[site, spec] -= 1
            flow.carriers.dispatch_queue[dealer].append((vehicle_id, now))
            self.counters["from_stockyard"] += 1
        else:  # a stock build on its trunk: it is the customer's car from now on
            flow.pipeline[spec] -= 1
            self.counters["from_pipeline"] += 1
        vehicle.customer_order = True
        vehicle.dealer = dealer
        flow.dealer_inbound[dealer, spec] += 1
        self.orders[vehicle_id] = (now, request.patience_days)
        self.counters["network_orders"] += 1
        self.counters["network_exact"] += float(int(candidates.match[row]) == MatchLevel.EXACT)
        if kind == SourceKind.DEALER_YARD:
            self._trade(vehicle_id, site, dealer)
        if log.enabled:
            log.record(
                now,
                "vehicle_order_sourced",
                dealer=dealer,
                vin=vehicle.vin,
                source=SourceKind(kind).name.lower(),
                site=site,
                promise_day=round(now + decision.quoted_days, 3),
            )

    def _trade(self, vehicle_id: int, holder: int, dealer: int) -> None:
        """A dealer trade: the car joins its lane's open trade load (or opens one) and drives its own distance."""
        env = self.env
        now = env.now
        geometry = self.geometry
        carrier = int(self.network.vehicle_carrier[holder])
        lane = (
            int(self.trade_cluster[holder]),
            int(self.trade_cluster[dealer]),
            carrier,
        )  # one carrier's truck
        token = self.open_lane.get(lane)
        if token is None or len(self.trade_loads[token].trades) >= geometry.slots_per_load:
            token = self.next_trade_load
            self.next_trade_load += 1
            self.trade_loads[token] = TradeLoad(lane, now + geometry.dispatch_delay_days)
            self.open_lane[lane] = token
            self._schedule_departure(token)
        load = self.trade_loads[token]
        distance = float(geometry.dealer_km[holder, dealer])
        transit = distance / geometry.speed_km_per_day * self.transit.factor("vehicle_lane", int(now), dealer)
        arrival = load.depart_at + transit
        vehicle = self.vehicles.vehicles[vehicle_id]
        vehicle.move(VehicleStatus.IN_TRANSIT, SiteKind.ROAD, dealer, now)  # left the holder's stock
        vehicle.eta_day = arrival
        trade = self.next_trade
        self.next_trade += 1
        self.trades_on_road[trade] = (dealer, vehicle_id, arrival)
        self._schedule_delivery(trade)
        price_paise = int(self.price_paise[vehicle.spec])
        # trades count down, rebalancing transfers up: never the same id
        load.trades.append(
            (-1 - trade, holder, dealer, carrier, max(1, math.ceil(arrival)), distance, price_paise)
        )
        self.counters["dealer_trades"] += 1

    # The load's departure and each car's arrival are timed steps (``scheduling``), not a process each: the
    # step starts where the process would (``at_once``) and waits as it would (``after``), so the run is the
    # same event for event, without a generator, its start and its end event per trade.
    def _schedule_departure(self, token: int) -> None:
        def wait(_: object) -> None:
            delay = max(self.trade_loads[token].depart_at - self.env.now, 0.0)
            after(self.env, delay, lambda _: self._depart_trade_load(token))

        at_once(self.env, wait)

    def _schedule_delivery(self, token: int) -> None:
        def wait(_: object) -> None:
            delay = max(self.trades_on_road[token][2] - self.env.now, 0.0)
            after(self.env, delay, lambda _: self._deliver_trade(token))

        at_once(self.env, wait)

    def _depart_trade_load(self, token: int) -> None:
        """The load leaves: its trades are priced together (one truck) and settled when the last car arrives."""
        env = self.env
        load = self.trade_loads.pop(token)
        if self.open_lane.get(load.lane) == token:
            del self.open_lane[load.lane]
        settle_day = max(trade[4] for trade in load.trades)  # the truck's trip ends with its last drop
        ship_day = int(load.depart_at)
        shared = {
            "category": float(FreightCategory.VEHICLE_TRANSFER),
            "truck": float(-1 - token),
            "ship_day": float(ship_day),
            "arrive_day": float(settle_day),
            "volume": 1.0,
        }
        # the load's transfers as ``SettlementBatch.to_rows`` rows (columns by name, in the batch's field
        # order), settled as one batch with the day's other arrivals; a load has a car or two, so its rows are
        # made in Python and converted once
        rows = []
        for transfer_id, sender, receiver, trade_carrier, _, distance_km, price_paise in load.trades:
            columns = {
                "transfer_id": transfer_id,
                "sender": sender,
                "receiver": receiver,
                "carrier": trade_carrier,
                "distance_km": distance_km,
                "transfer_price_paise": price_paise,
                **shared,
            }
            rows.append([columns[name] for name in SettlementBatch.__dataclass_fields__])
        longest_km = max(0.0, *(trade[5] for trade in load.trades))
        carrier = int(load.trades[0][3])  # one carrier's truck (the lane's)
        freight_inr = self.settlement.truck_freight_inr(
            carrier, ship_day, longest_km, float(len(load.trades))
        )
        self.kpis.add(env.now, "freight_transfer_inr", freight_inr)
        self.arriving[int(settle_day)].append(np.array(rows, dtype=np.float64))
        self.counters["dealer_trade_loads"] += 1
        self.counters["dealer_trade_freight_inr"] += freight_inr

    def _deliver_trade(self, token: int) -> None:
        """The trade reaches the customer's dealer: unloaded like any car (reserved if the customer still waits)."""
        dealer, vehicle_id, _ = self.trades_on_road.pop(token)
        self.vehicles.unload(dealer, [vehicle_id], self.env.now)

    def resume(self) -> None:
        """Trades on the road when the snapshot was taken drive on; loads still filling leave on time."""
        for token in sorted(self.trades_on_road):
            self._schedule_delivery(token)
        for token in sorted(self.trade_loads):
            self._schedule_departure(token)

    # -- arrival and delivery -----------------------------------------------------------------------
    def settle_arrivals(self, day: int) -> None:
        """Dealer trades that reached the customer's dealer this morning are settled, as one batch."""
        arrived = self.arriving.pop(day, [])
        if arrived:
            self.settlement.transfers_arrived(SettlementBatch.from_rows(np.concatenate(arrived)))

    def still_wanted(self, vehicle_id: int, arrival: float) -> bool:
        """A network order's car arriving after the customer's patience ran out finds them gone."""
        order = self.orders.get(vehicle_id)
        if order is None or arrival - order[0] <= order[1]:
            return True
        del self.orders[vehicle_id]
        self.counters["lost_late"] += 1
        if self.campaigns is not None:
            vehicle = self.vehicles.vehicles[vehicle_id]
            self.campaigns.lost_late(int(order[0]), vehicle.dealer, vehicle.spec)
        self.kpis.count(int(arrival), "vehicle_lost_sales")
        if self.event_log.enabled:
            self.event_log.record(
                arrival, "vehicle_order_lost_late", vin=self.vehicles.vehicles[vehicle_id].vin
            )
        return False

    def delivered(self, vehicle_id: int, day: float) -> None:
        order = self.orders.pop(vehicle_id, None)
        if order is not None:
            self.counters["delivered"] += 1
            self.counters["order_to_delivery_days_sum"] += day - order[0]

    def summary(self) -> dict[str, float]:
        c = self.counters

        def ratio(numerator: float, denominator: float) -> float:
            return numerator / denominator if denominator > 0 else float("nan")

        return {
            "vehicle_network_requests": c["requests"],
            "vehicle_network_orders": c["network_orders"],
            "vehicle_network_fulfilment_rate": ratio(c["network_orders"], c["requests"]),
            "vehicle_network_exact_share": ratio(c["network_exact"], c["network_orders"]),
            "vehicle_network_from_dealer_yard": c["from_dealer_yard"],
            "vehicle_network_from_stockyard": c["from_stockyard"],
            "vehicle_network_from_pipeline": c["from_pipeline"],
            "vehicle_network_orders_lost_late": c["lost_late"],
            "vehicle_network_order_to_delivery_days_mean": ratio(
                c["order_to_delivery_days_sum"], c["delivered"]
            ),
            "vehicle_dealer_trades": c["dealer_trades"],
            "vehicle_dealer_trade_freight_inr": c["dealer_trade_freight_inr"],
            "vehicle_dealer_trade_loads": c["dealer_trade_loads"],
            "vehicle_dealer_trade_cars_per_load": ratio(c["dealer_trades"], c["dealer_trade_loads"]),
        }

    # -- snapshots ----------------------------------------------------------------------------------
    def state_arrays(self) -> dict[str, FloatArray]:
        arriving = np.concatenate(
            [np.zeros((0, len(SettlementBatch.__dataclass_fields__)))]
            + [rows for loads in self.arriving.values() for rows in loads]
        )
        return {
            "orders": np.array(
                [(v, booked, patience) for v, (booked, patience) in self.orders.items()]
            ).reshape(-1, 3),
            "counters": np.array([self.counters[name] for name in COUNTERS]),
            "next_trade": np.array([self.next_trade], dtype=np.float64),
            "trades_on_road": np.array(
                [(token, *trade) for token, trade in self.trades_on_road.items()], dtype=np.float64
            ).reshape(-1, 4),
            "arriving": arriving,
            "trade_loads": np.array(
                [
                    (token, load.depart_at, *load.lane, *trade)
                    for token, load in sorted(self.trade_loads.items())
                    for trade in load.trades
                ],
                dtype=np.float64,
            ).reshape(-1, 5 + TRADE_COLUMNS),
            "next_trade_load": np.array([self.next_trade_load], dtype=np.float64),
        }

    def load_state_arrays(self, arrays: dict[str, npt.NDArray[np.generic]]) -> None:
        if "trade_loads" not in arrays or np.asarray(arrays["counters"]).size != len(COUNTERS):
            raise ConfigError(
                "start_from_snapshot", "orders:trade_loads", "the snapshot was written by an older version"
            )
        self.orders = {int(v): (float(b), float(p)) for v, b, p in np.asarray(arrays["orders"]).tolist()}
        self.counters = dict(zip(COUNTERS, np.asarray(arrays["counters"], dtype=float).tolist(), strict=True))
        self.next_trade = int(np.asarray(arrays["next_trade"])[0])
        self.trades_on_road = {
            int(token): (int(dealer), int(vehicle), float(arrival))
            for token, dealer, vehicle, arrival in np.asarray(arrays["trades_on_road"]).tolist()
        }
        self.arriving = defaultdict(list)
        for day, batches in SettlementBatch.by_arrival_day(np.asarray(arrays["arriving"])).items():
            self.arriving[day] = [SettlementBatch.to_rows(batches)]
        self.trade_loads, self.open_lane = {}, {}
        for token, depart_at, lane_from, lane_to, carrier, *trade in np.asarray(
            arrays["trade_loads"]
        ).tolist():
            lane = (int(lane_from), int(lane_to), int(carrier))
            load = self.trade_loads.setdefault(int(token), TradeLoad(lane, float(depart_at)))
            load.trades.append(tuple(trade))
            self.open_lane[lane] = max(self.open_lane.get(lane, -1), int(token))
        self.next_trade_load = int(np.asarray(arrays["next_trade_load"])[0])
