"""Atlas: candidate sources in the whole network for a customer whose spec is not in their dealer's yard.

For each request (a dealer, the specs the customer accepts in their order of preference, a patience), every
sourceable VIN of those specs is a candidate: other dealers' yards, the stockyards, loads on the road and the
plant pipeline. Network policy filters them, each refusal with its reason (too far, the holder does not trade,
the holder's last unit of a spec it sells fast, a kind of source the OEM does not use, reserved, too late for
the customer); the rest are ranked: the better match first (exact, then another colour, then another
variant), then the earlier delivery day, then the lower total cost (freight, handling, the floor-plan days
until delivery) less a credit for age (an aged unit is the one to move).

Lookups go through an index by spec (CSR: VINs sorted by spec with offsets), never a scan of the network: a
request touches only the VINs of the specs it accepts. What depends only on the customer's dealer and a VIN's
place (days on the road, freight, too far, another stockyard's, the same dealer) is read from tables built
once for the network (``PlaceTables``), and what a VIN's row says whoever asks once per inventory, so a
request gathers rather than computes them (the same arithmetic, the same figures to the bit). Pure: arrays
in, ranked candidates out.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from twin.config import NetworkSearchConfig, PhoneAroundSourcingConfig
from twin.errors import ConfigError
from twin.policies.observation import CustomerRequest, SourcingDecision, SourcingKind, VehicleView

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


class SourceKind(IntEnum):
    DEALER_YARD = 0
    STOCKYARD = 1
    IN_TRANSIT = 2
    PIPELINE = 3


class MatchLevel(IntEnum):
    EXACT = 0
    OTHER_COLOUR = 1
    OTHER_VARIANT = 2


class Refusal(IntEnum):
    """Why a candidate was not offered (``ACCEPTED`` for the ones that were)."""

    ACCEPTED = 0
    RESERVED = 1
    SAME_DEALER = 2
    KIND_NOT_ALLOWED = 3
    TOO_FAR = 4
    HOLDER_DOES_NOT_TRADE = 5
    LAST_UNIT_OF_FAST_SPEC = 6
    TOO_LATE = 7
    OTHER_STOCKYARD = 8


REFUSAL_TEXT = {
    Refusal.ACCEPTED: "offered",
    Refusal.RESERVED: "reserved for another customer",
    Refusal.SAME_DEALER: "already at the customer's dealer",
    Refusal.KIND_NOT_ALLOWED: "network policy does not source from this kind of site",
    Refusal.TOO_FAR: "further than the network's maximum transfer distance",
    Refusal.HOLDER_DOES_NOT_TRADE: "the holding dealer has not opted in to dealer trades",
    Refusal.LAST_UNIT_OF_FAST_SPEC: "the holder's last unit of a spec it sells fast",
    Refusal.TOO_LATE: "arrives after the customer's patience",
    Refusal.OTHER_STOCKYARD: "a stockyard ships only to the dealers it serves",
}


#: which reason a refused candidate is given when several apply: the first of these (a priority per reason)
_REFUSAL_ORDER = (
    Refusal.RESERVED,
    Refusal.SAME_DEALER,
    Refusal.KIND_NOT_ALLOWED,
    Refusal.OTHER_STOCKYARD,
    Refusal.TOO_FAR,
    Refusal.HOLDER_DOES_NOT_TRADE,
    Refusal.LAST_UNIT_OF_FAST_SPEC,
    Refusal.TOO_LATE,
    Refusal.ACCEPTED,
)
_PRIORITY = {refusal: priority for priority, refusal in enumerate(_REFUSAL_ORDER)}
_REFUSAL_BY_PRIORITY = np.array([int(refusal) for refusal in _REFUSAL_ORDER], dtype=np.int64)


@dataclass(frozen=True)
class VinInventory:
    """Every sourceable VIN as columns: what Atlas sees of the network at one moment.

    ``site`` is the dealer (yard, or the destination of a load on the road), the stockyard, or the stockyard a
    pipeline build will reach; ``ready_day`` is when the VIN can start towards the customer's dealer (now for a
    yard, the ETA for a load or a build); ``received_day`` is when it reached a dealer (NaN if never).
    """

    vehicle: IntArray
    spec: IntArray
    kind: IntArray
    site: IntArray
    ready_day: FloatArray
    received_day: FloatArray
    reserved: BoolArray

    def __post_init__(self) -> None:
        count = len(self.vehicle)
        for name in ("spec", "kind", "site", "ready_day", "received_day", "reserved"):
            if len(getattr(self, name)) != count:
                raise ConfigError(f"VinInventory.{name}", len(getattr(self, name)), f"must have {count} rows")


@dataclass(frozen=True)
class SpecIndex:
    """VINs sorted by spec with per-spec offsets: the VINs of spec s are ``order[start[s]:start[s + 1]]``."""

    order: IntArray
    start: IntArray

    @classmethod
    def build(cls, spec: IntArray, spec_count: int) -> SpecIndex:
        # the same stable order, but specs that fit 16 bits are radix-sorted (several times faster than int64)
        key = spec.astype(np.uint16) if spec_count <= 1 << 16 else spec
        order = np.argsort(key, kind="stable").astype(np.int64)
        counts = np.bincount(spec, minlength=spec_count)
        return cls(order=order, start=np.concatenate(([0], np.cumsum(counts))).astype(np.int64))

    def rows_of(self, specs: IntArray) -> tuple[IntArray, IntArray]:
        """Rows of the VINs of ``specs`` (in the given order) and the position of their spec in ``specs``."""
        rows, lengths = self.rows_and_counts(specs)
        return rows, np.repeat(np.arange(specs.size), lengths)

    def rows_and_counts(self, specs: IntArray) -> tuple[IntArray, IntArray]:
        """Rows of the VINs of ``specs`` (in the given order) and how many each spec has: a request asks for a
        handful of specs, so their runs of ``order`` are cut out and joined rather than indexed row by row."""
        first, last = self.start[specs], self.start[specs + 1]
        if specs.size == 1:
            return self.order[int(first[0]) : int(last[0])], last - first
        order = self.order
        runs = [order[a:b] for a, b in zip(first.tolist(), last.tolist(), strict=True)]
        return np.concatenate(runs), last - first


@dataclass(frozen=True)
class NetworkGeometry:
    """Distances and speeds Atlas turns into delivery days and freight."""

    dealer_km: FloatArray
    yard_to_dealer_km: FloatArray
    speed_km_per_day: float
    dispatch_delay_days: float
    #: car-carrier load charge (INR): max(minimum, per km x km), shared by its slots
    rate_per_km_inr: float
    minimum_charge_inr: float
    slots_per_load: int
    handling_fee_inr: float
    floor_plan_inr_per_day: FloatArray
    #: a VIN at (or arriving at) a stockyard leaves with the next car-carrier load to the customer's dealer:
    #: promise this long a wait for it (the carriers' longest hold for a part load)
    stockyard_wait_days: float = 0.0


_SEARCH = NetworkSearchConfig()  # defaults are declared once, in twin.config
_PHONE_AROUND = PhoneAroundSourcingConfig()


@dataclass(frozen=True)
class SourcingRules:
    """The network's sourcing policy (settings and units: ``twin.config.NetworkSearchConfig``)."""

    max_distance_km: float = _SEARCH.max_distance_km
    allow_stockyard: bool = _SEARCH.allow_stockyard
    allow_in_transit: bool = True
    allow_pipeline: bool = _SEARCH.allow_pipeline
    #: a holder keeps its last unit of a spec it sold at least this many of in the last 28 days
    protect_last_unit_sales_28d: int = _SEARCH.protect_last_unit_sales_28d
    #: an aged unit (days since it reached a dealer) earns this credit per day of age over ``aged_days``
    aged_days: float = _SEARCH.aged_days
    aged_credit_inr_per_day: float = _SEARCH.aged_credit_inr_per_day


@dataclass(frozen=True)
class NetworkSearch:
    """What a network-aware sourcing policy asks of the engine: run Atlas under ``rules`` with every request,
    with ``dealer_trade_share`` of the dealers trading, and trades within ``trade_consolidation_radius_km``
    sharing a truck."""

    rules: SourcingRules
    dealer_trade_share: float
    trade_consolidation_radius_km: float

    @classmethod
    def of(
        cls,
        max_distance_km: float,
        allow_stockyard: bool,
        allow_pipeline: bool,
        dealer_trade_share: float,
        protect_last_unit_sales_28d: int,
        aged_days: float,
        aged_credit_inr_per_day: float,
        trade_consolidation_radius_km: float,
    ) -> NetworkSearch:
        if not 0.0 <= dealer_trade_share <= 1.0:
            raise ConfigError("policy.sourcing.dealer_trade_share", dealer_trade_share, "must be in [0, 1]")
        if trade_consolidation_radius_km < 0:
            raise ConfigError(
                "policy.sourcing.trade_consolidation_radius_km", trade_consolidation_radius_km, "must be >= 0"
            )
        rules = SourcingRules(
            max_distance_km=max_distance_km,
            allow_stockyard=allow_stockyard,
            allow_in_transit=False,  # rerouting a load on the road is not modelled
            allow_pipeline=allow_pipeline,
            protect_last_unit_sales_28d=protect_last_unit_sales_28d,
            aged_days=aged_days,
            aged_credit_inr_per_day=aged_credit_inr_per_day,
        )
        return cls(rules, dealer_trade_share, trade_consolidation_radius_km)


@dataclass(frozen=True)
class SourcingRequest:
    dealer: int
    #: acceptable specs, best first, and how well each matches the wanted one
    specs: IntArray
    match: IntArray
    patience_days: float
    day: float


@dataclass(frozen=True)
class Candidates:
    """One request's candidates: every VIN looked at, offered ones ranked first (``rank`` 0 is the best)."""

    #: row of each candidate in the ``VinInventory``
    row: IntArray
    vehicle: IntArray
    spec: IntArray
    match: IntArray
    kind: IntArray
    site: IntArray
    delivery_day: FloatArray
    cost_inr: FloatArray
    age_days: FloatArray
    refusal: IntArray
    rank: IntArray

    @property
    def offered(self) -> BoolArray:
        return self.refusal == Refusal.ACCEPTED

    def best(self) -> int:
        """Row of the best offered candidate, -1 if none."""
        best = np.flatnonzero(self.rank == 0)  # ranks number the offered ones only, from 0
        return int(best[0]) if best.size else -1

    def table(self) -> pd.DataFrame:
        """The list a planner reads: offered ones best first, then the refused ones with the reason."""
        frame = pd.DataFrame(
            {
                "vehicle": self.vehicle,
                "spec": self.spec,
                "match": [MatchLevel(m).name.lower() for m in self.match.tolist()],
                "source": [SourceKind(k).name.lower() for k in self.kind.tolist()],
                "site": self.site,
                "delivery_day": self.delivery_day.round(2),
                "cost_inr": self.cost_inr.round(0),
                "age_days": self.age_days.round(1),
                "reason": [REFUSAL_TEXT[Refusal(r)] for r in self.refusal.tolist()],
                "rank": self.rank,
            }
        )
        refused_last = np.where(self.rank >= 0, self.rank, np.iinfo(np.int64).max)
        return frame.iloc[np.argsort(refused_last, kind="stable")].reset_index(drop=True)


@dataclass(frozen=True)
class PlaceTables:
    """Per (customer's dealer, place) what Atlas needs of the two places, so a request gathers it rather than
    working it out per candidate. Places (the columns) are the dealers' yards, then the stockyards (a stock
    VIN or a build on its way there), then the dealers again as destinations of loads on the road (the same
    distances, but never "already at the customer's dealer"). The figures are the per-candidate arithmetic
    in the same order, so every one is the same to the bit."""

    #: dispatch delay, the drive, and for a stockyard's VIN the wait for the next load
    travel_days: FloatArray
    #: the car-carrier slot (the card's minimum or per-km charge, shared by the load's slots) plus handling
    freight_inr: FloatArray
    #: the refusal the two places alone decide (``_PRIORITY``): same dealer, another stockyard's, too far
    priority: IntArray
    #: ``travel_days`` and ``freight_inr`` side by side, ``[dealer, 0 or 1, place]``: a request gathers both at once
    travel_days_and_freight_inr: FloatArray

    @classmethod
    def build(
        cls, geometry: NetworkGeometry, rules: SourcingRules, dealer_stockyard: IntArray | None
    ) -> PlaceTables:
        dealer_count = geometry.dealer_km.shape[0]
        stockyard_count = geometry.yard_to_dealer_km.shape[0]
        km = np.ascontiguousarray(
            np.concatenate([geometry.dealer_km, geometry.yard_to_dealer_km, geometry.dealer_km]).T
        )
        stockyards = slice(dealer_count, dealer_count + stockyard_count)
        wait_days = np.zeros(km.shape[1])
        wait_days[stockyards] = geometry.stockyard_wait_days
        travel_days = (geometry.dispatch_delay_days + km / geometry.speed_km_per_day) + wait_days
        load_inr = np.maximum(geometry.minimum_charge_inr, geometry.rate_per_km_inr * km)
        freight_inr = load_inr / geometry.slots_per_load + geometry.handling_fee_inr
        accepted = _PRIORITY[Refusal.ACCEPTED]
        priority = np.where(km > rules.max_distance_km, _PRIORITY[Refusal.TOO_FAR], accepted)
        priority[:, stockyards] = accepted  # a stockyard is never too far: it serves its dealers
        if dealer_stockyard is not None:
            other = np.arange(stockyard_count)[None, :] != np.asarray(dealer_stockyard)[:, None]
            priority[:, stockyards] = np.where(other, _PRIORITY[Refusal.OTHER_STOCKYARD], accepted)
        yards = np.arange(dealer_count)
        priority[yards, yards] = _PRIORITY[Refusal.SAME_DEALER]
        return cls(
            travel_days=travel_days,
            freight_inr=freight_inr,
            priority=priority.astype(np.int64),
            travel_days_and_freight_inr=np.stack([travel_days, freight_inr], axis=1),
        )


def _flat_view(array: npt.NDArray[Any]) -> npt.NDArray[Any] | None:
    """``array`` flat as a view that sees later writes to it, None when it cannot be one (not C-ordered)."""
    flat = array.reshape(-1)
    return flat if np.shares_memory(flat, array) else None


def _sorted_table(
    order: IntArray, dtype: type[np.generic], columns: list[npt.NDArray[Any]]
) -> npt.NDArray[Any]:
    """``columns`` as the rows of one read-only table, each in ``order``."""
    table = np.empty((len(columns), order.size), dtype=dtype)
    for row, column in zip(table, columns, strict=True):
        row[:] = column[order]
    table.flags.writeable = False
    return table


class NetworkSourcing:
    """Atlas over one ``VinInventory``; build once per view refresh, query per customer. What does not
    depend on the customer (each VIN's place, kind, whether its holder trades) is worked out once per build."""

    def __init__(
        self,
        inventory: VinInventory,
        geometry: NetworkGeometry,
        rules: SourcingRules,
        dealer_trades: BoolArray,
        dealer_stock: npt.NDArray[np.integer[Any]],
        dealer_sales_28d: npt.NDArray[np.integer[Any]],
        dealer_stockyard: IntArray | None = None,
        places: PlaceTables | None = None,
    ) -> None:
        """``dealer_stock`` and ``dealer_sales_28d`` ``[dealer, spec]`` are read live (not copied), so a
        claim or a sale during the day is seen by the next search. With ``dealer_stockyard`` a stockyard (or a
        build on its way there) only supplies the dealers that stockyard serves. ``places``: the tables of
        ``PlaceTables.build`` for the same geometry, rules and stockyards, kept by a caller that builds Atlas
        again every day (None: built here)."""
        self.inventory = inventory
        self.geometry = geometry
        self.rules = rules
        self.dealer_trades = np.asarray(dealer_trades, dtype=bool)
        self.dealer_stock = np.asarray(dealer_stock)
        self.dealer_sales_28d = np.asarray(dealer_sales_28d)
        self._stock_flat = _flat_view(self.dealer_stock)
        self._sales_flat = _flat_view(self.dealer_sales_28d)
        spec_count = self.dealer_stock.shape[1]
        if (
            inventory.spec.size
            and not 0 <= int(inventory.spec.min()) <= int(inventory.spec.max()) < spec_count
        ):
            bad = inventory.spec[(inventory.spec < 0) | (inventory.spec >= spec_count)][0]
            raise ConfigError(
                "VinInventory.spec", int(bad), f"must be in 0..{spec_count - 1} (dealer_stock's specs)"
            )
        self.index = SpecIndex.build(inventory.spec, spec_count)
        self.dealer_stockyard = dealer_stockyard
        # what a VIN's row says whoever asks, worked out once per inventory rather than per request
        kind, site = inventory.kind, inventory.site
        dealer_count = geometry.dealer_km.shape[0]
        stockyard_count = geometry.yard_to_dealer_km.shape[0]
        #: yards and loads on the road are a dealer's (site = dealer); the rest a stockyard's
        from_dealer = (kind == SourceKind.DEALER_YARD) | (kind == SourceKind.IN_TRANSIT)
        at_yard = kind == SourceKind.DEALER_YARD
        holder = np.where(from_dealer, site, 0)
        # the row's place, a column of the per-dealer matrices below: the dealers' yards, then the stockyards
        # (a stock VIN or a build on its way there), then the dealers again as destinations of loads on the
        # road (the same distances, but never "already at the customer's dealer")
        in_transit = kind == SourceKind.IN_TRANSIT
        place = np.where(
            from_dealer,
            np.where(in_transit, dealer_count + stockyard_count + site, site),
            dealer_count + site,
        )
        # the holder's cell of ``dealer_stock`` (flat), for the last-unit rule (read for yard rows only)
        holder_cell = holder * spec_count + inventory.spec
        places = places if places is not None else PlaceTables.build(geometry, rules, dealer_stockyard)
        self.places = places
        self._travel_days_and_freight_inr = places.travel_days_and_freight_inr
        self._place_priority = places.priority
        kind_not_allowed = (
            ((kind == SourceKind.STOCKYARD) & (not rules.allow_stockyard))
            | ((kind == SourceKind.IN_TRANSIT) & (not rules.allow_in_transit))
            | ((kind == SourceKind.PIPELINE) & (not rules.allow_pipeline))
        )
        holder_does_not_trade = from_dealer & ~self.dealer_trades[holder]
        # the refusal a row gets whoever asks (the kind of site, a holder that does not trade), as a priority
        row_priority = np.where(
            kind_not_allowed,
            _PRIORITY[Refusal.KIND_NOT_ALLOWED],
            np.where(
                holder_does_not_trade, _PRIORITY[Refusal.HOLDER_DOES_NOT_TRADE], _PRIORITY[Refusal.ACCEPTED]
            ),
        )
        # Every per-row column a request reads, in the spec index's order, stacked by dtype: a request for one
        # spec then slices its run (views, no copy) and one for several gathers each table once, rather than
        # gathering a dozen columns row by row (numpy's per-call overhead dominates at a few hundred rows).
        # Each column is contiguous; read-only: a request's candidates are views of them.
        order = self.index.order
        never = np.iinfo(np.int64).min
        self._sorted_integers = _sorted_table(
            order,
            np.int64,
            [
                np.arange(inventory.vehicle.size),  # the inventory's row
                inventory.vehicle,
                inventory.spec,
                kind,
                site,
                place,
                row_priority,
                holder_cell,
                # the last-unit rule: a yard VIN is its holder's last when the holder has at most 1 in stock;
                # no stock is below ``never``, so the rule never refuses any other VIN
                np.where(at_yard, 1, never),
                # 1 for a VIN that never reached a dealer (it has no age)
                np.isnan(inventory.received_day),
            ],
        )
        #: when the VIN can start, when it reached a dealer, and its spec's floor-plan cost per day
        self._sorted_floats = _sorted_table(
            order,
            np.float64,
            [inventory.ready_day, inventory.received_day, geometry.floor_plan_inr_per_day[inventory.spec]],
        )
        #: each spec's run in the tables above as Python ints (a request reads one or a few)
        self._runs = self.index.start.tolist()
        self._every_position = np.arange(inventory.vehicle.size, dtype=np.int64)

    def candidates(self, request: SourcingRequest) -> Candidates:
        """Every VIN of the request's specs, priced and ranked. A candidate's reason is the first of: reserved,
        already at the customer's dealer, a kind of site not used, another stockyard's, too far, a holder that
        does not trade, the holder's last unit of a fast spec, too late."""
        rules = self.rules
        specs = request.specs
        one_spec = len(specs) == 1
        if one_spec:  # most customers accept one spec: its run of the tables, as views
            runs = self._runs
            spec_of_request = int(specs[0])
            first, last = runs[spec_of_request], runs[spec_of_request + 1]
            integers = self._sorted_integers[:, first:last]
            floats = self._sorted_floats[:, first:last]
            match = np.full(last - first, int(request.match[0]), dtype=np.int64)
        else:
            positions, counts = self._positions_of(specs)
            integers = self._sorted_integers.take(positions, axis=1)
            floats = self._sorted_floats.take(positions, axis=1)
            match = np.repeat(np.asarray(request.match, dtype=np.int64), counts)
        rows, vehicle, spec, kind, site, place, row_priority, holder_cell, last_unit_stock, no_age = integers
        ready_day, received, floor_plan_per_day = floats
        dealer, day = request.dealer, request.day
        travel_days, freight_inr = self._travel_days_and_freight_inr[dealer].take(place, axis=1)
        delivery_day = np.maximum(ready_day, day) + travel_days
        lead_days = delivery_day - day
        age = np.where(no_age, 0.0, day - received)
        aged_credit = rules.aged_credit_inr_per_day * np.maximum(age - rules.aged_days, 0.0)
        cost = freight_inr + floor_plan_per_day * lead_days - aged_credit

        # the first reason that applies is the one given: reasons as priorities (lower wins), the least of them
        priority = np.minimum(row_priority, self._place_priority[dealer].take(place))
        stock = self._stock_flat if self._stock_flat is not None else self.dealer_stock.reshape(-1)
        sales = self._sales_flat if self._sales_flat is not None else self.dealer_sales_28d.reshape(-1)
        last_fast = (stock.take(holder_cell) <= last_unit_stock) & (
            sales.take(holder_cell) >= rules.protect_last_unit_sales_28d
        )
        np.minimum(
            priority, _PRIORITY[Refusal.TOO_LATE], out=priority, where=lead_days > request.patience_days
        )
        np.minimum(priority, _PRIORITY[Refusal.LAST_UNIT_OF_FAST_SPEC], out=priority, where=last_fast)
        priority[self.inventory.reserved.take(rows)] = _PRIORITY[Refusal.RESERVED]

        rank = np.full(priority.size, -1, dtype=np.int64)
        offered = np.flatnonzero(priority == _PRIORITY[Refusal.ACCEPTED])
        if offered.size:
            # by match, whole delivery day and cost; a stable sort, so ties keep row order. One spec's
            # candidates all match alike: that key would change nothing.
            keys = [cost.take(offered), np.floor(delivery_day.take(offered))]
            if not one_spec:
                keys.append(match.take(offered))
            rank[offered[np.lexsort(keys)]] = np.arange(offered.size)
        return Candidates(
            row=rows,
            vehicle=vehicle,
            spec=spec,
            match=match,
            kind=kind,
            site=site,
            delivery_day=delivery_day,
            cost_inr=cost,
            age_days=age,
            refusal=_REFUSAL_BY_PRIORITY[priority],
            rank=rank,
        )

    def _positions_of(self, specs: IntArray) -> tuple[IntArray, list[int]]:
        """Positions in the sorted tables of the VINs of ``specs`` (in the given order), and each spec's count."""
        runs, every_position = self._runs, self._every_position
        bounds = [(runs[spec], runs[spec + 1]) for spec in np.asarray(specs).tolist()]
        positions = np.concatenate([every_position[first:last] for first, last in bounds])
        return positions, [last - first for first, last in bounds]


def acceptable_specs(
    wanted: int,
    same_variant: IntArray,
    same_model: IntArray,
    accepts_other_colour: bool,
    accepts_other_variant: bool,
) -> tuple[IntArray, IntArray]:
    """The specs a customer takes, best first: the wanted one, then other colours of its variant, then other
    variants of its model, as far as the customer accepts them."""
    specs = [np.array([wanted], dtype=np.int64)]
    match = [np.array([MatchLevel.EXACT], dtype=np.int64)]
    if accepts_other_colour:
        colours = np.asarray(same_variant, dtype=np.int64)
        colours = colours[colours != wanted]
        specs.append(colours)
        match.append(np.full(colours.size, MatchLevel.OTHER_COLOUR, dtype=np.int64))
    if accepts_other_variant:
        variants = np.setdiff1d(np.asarray(same_model, dtype=np.int64), np.asarray(same_variant))
        specs.append(variants)
        match.append(np.full(variants.size, MatchLevel.OTHER_VARIANT, dtype=np.int64))
    return np.concatenate(specs), np.concatenate(match)


def _choose(
    factory_days: float, patience_days: float, network_row: int, network_days: float, exact: bool
) -> tuple[SourcingKind, float, int]:
    """The customer's preference: their exact spec as early as possible, a substitute only when no exact one
    arrives within their patience."""
    factory_ok = factory_days <= patience_days
    network_ok = network_row >= 0 and network_days <= patience_days
    if network_ok and exact and (not factory_ok or network_days <= factory_days):
        return SourcingKind.NETWORK, network_days, network_row
    if factory_ok:
        return SourcingKind.FACTORY_ORDER, factory_days, -1
    if network_ok:
        return SourcingKind.NETWORK, network_days, network_row
    return SourcingKind.LOST, min(factory_days, network_days), -1


class NetworkSourcingPolicy:
    """Atlas surfaces candidates, the customer gets the best one that meets their patience (exact before
    substitutes, then earliest, then cheapest), or a factory order when that is earlier or the only option."""

    def __init__(
        self,
        max_distance_km: float = _SEARCH.max_distance_km,
        allow_stockyard: bool = _SEARCH.allow_stockyard,
        allow_pipeline: bool = _SEARCH.allow_pipeline,
        dealer_trade_share: float = _SEARCH.dealer_trade_share,
        protect_last_unit_sales_28d: int = _SEARCH.protect_last_unit_sales_28d,
        aged_days: float = _SEARCH.aged_days,
        aged_credit_inr_per_day: float = _SEARCH.aged_credit_inr_per_day,
        trade_consolidation_radius_km: float = _SEARCH.trade_consolidation_radius_km,
    ) -> None:
        #: the engine gives this policy Atlas's candidates with every request
        self.network_search: NetworkSearch | None = NetworkSearch.of(
            max_distance_km,
            allow_stockyard,
            allow_pipeline,
            dealer_trade_share,
            protect_last_unit_sales_28d,
            aged_days,
            aged_credit_inr_per_day,
            trade_consolidation_radius_km,
        )

    def source(self, view: VehicleView, request: CustomerRequest) -> SourcingDecision:
        factory_days = float(view.factory_lead_time_days[request.dealer])
        candidates: Candidates | None = request.candidates
        row, network_days, exact = -1, float("inf"), False
        if candidates is not None:
            row = candidates.best()
            if row >= 0:
                network_days = float(candidates.delivery_day[row] - request.day)
                exact = int(candidates.match[row]) == MatchLevel.EXACT
        kind, days, chosen = _choose(factory_days, request.patience_days, row, network_days, exact)
        return SourcingDecision(kind, days, chosen)


class PhoneAroundSourcing:
    """Today's practice, the baseline for dealer trades: the dealer phones nearby dealers (within a day or two's
    drive) for the exact spec. With a fixed chance one of those who have it agrees, and the answer comes after a
    delay; there is no network view, so stockyards, loads, the pipeline and far dealers are not searched."""

    def __init__(
        self,
        success_probability: float = _PHONE_AROUND.success_probability,
        delay_days: float = _PHONE_AROUND.delay_days,
        nearby_days: float = _PHONE_AROUND.nearby_days,
        max_distance_km: float = _SEARCH.max_distance_km,
        allow_stockyard: bool = _SEARCH.allow_stockyard,
        allow_pipeline: bool = _SEARCH.allow_pipeline,
        dealer_trade_share: float = _SEARCH.dealer_trade_share,
        protect_last_unit_sales_28d: int = _SEARCH.protect_last_unit_sales_28d,
        aged_days: float = _SEARCH.aged_days,
        aged_credit_inr_per_day: float = _SEARCH.aged_credit_inr_per_day,
        trade_consolidation_radius_km: float = _SEARCH.trade_consolidation_radius_km,
    ) -> None:
        #: the engine gives this policy Atlas's candidates with every request (it uses the nearby ones)
        self.network_search: NetworkSearch | None = NetworkSearch.of(
            max_distance_km,
            allow_stockyard,
            allow_pipeline,
            dealer_trade_share,
            protect_last_unit_sales_28d,
            aged_days,
            aged_credit_inr_per_day,
            trade_consolidation_radius_km,
        )
        if not 0.0 <= success_probability <= 1.0:
            raise ConfigError("policy.sourcing.success_probability", success_probability, "must be in [0, 1]")
        for name, value in (("delay_days", delay_days), ("nearby_days", nearby_days)):
            if value < 0:
                raise ConfigError(f"policy.sourcing.{name}", value, "must be >= 0")
        self.success_probability = success_probability
        self.delay_days = delay_days
        self.nearby_days = nearby_days

    def source(self, view: VehicleView, request: CustomerRequest) -> SourcingDecision:
        factory_days = float(view.factory_lead_time_days[request.dealer])
        candidates: Candidates | None = request.candidates
        row, network_days = -1, float("inf")
        if candidates is not None and request.draw < self.success_probability:
            travel = candidates.delivery_day - request.day
            usable = np.flatnonzero(
                (candidates.kind == SourceKind.DEALER_YARD)
                & (candidates.match == MatchLevel.EXACT)
                & np.isin(candidates.refusal, (Refusal.ACCEPTED, Refusal.TOO_LATE))
                & (travel <= self.nearby_days)
            )
            if usable.size:
                row = int(usable[np.argmin(travel[usable])])
                network_days = float(travel[row]) + self.delay_days
        kind, days, chosen = _choose(factory_days, request.patience_days, row, network_days, row >= 0)
        return SourcingDecision(kind, days, chosen)
