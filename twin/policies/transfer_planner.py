"""Dealer-to-dealer transfer planning: which surplus units go to which short dealer, on which truck or route.

The exact problem (integer units per SKU and lane, integer trucks per lane with a fixed cost each) is a
fixed-charge network flow MIP, far too big at 400 dealers x 2,000 SKUs. Its structure is exploited instead:

1. **Linear core, decomposed by item.** With the truck cost spread over a full truck (cost per unit =
   handling + (truck fixed + rate x km) / capacity) the MIP's LP relaxation separates by SKU (or vehicle spec):
   each item is a small transportation problem among the few dealers with surplus or deficit of it, solved with
   OR-Tools ``SimpleMinCostFlow`` on integer paise costs. Only arcs with a positive net benefit per unit enter;
   optionally only the cheapest few senders per short dealer. Its optimum (``lp_net_cost_inr``) is the LP
   relaxation over those candidate arcs: a lower bound of the MIP restricted to them, and of the whole
   problem only when every sender is a candidate (``max_senders_per_deficit=None``: ``lp_covers_every_arc``).
2. **Consolidation per lane.** All items on a sender -> receiver lane share trucks: freight = ceil(units /
   capacity) trucks x (fixed + rate x km) + handling x units. Lanes whose benefit does not cover their trucks
   are dropped; thin lanes (well below one truck) are offered to multi-stop pickup-and-delivery routing
   (OR-Tools routing, bounded by a solution count, not a clock, so the same problem always gets the same
   routes) and routed when that beats their direct trucks.
3. **Re-solve rounds.** Units freed by dropped lanes are re-planned without those lanes; an addition to a
   lane is kept only if it improves that lane's net, so the plan's cost never rises over the rounds.

Guarantee on the candidate arcs: LP optimum <= MIP optimum on those arcs <= plan cost <= LP optimum + sum over the
LP solution's lanes of (ceil(u/c) - u/c) x truck cost (``TransferPlan.gap_bound_inr``). Every kept lane and every
kept route is net-positive on its own: a route is kept only when its benefit beats its freight and the direct
trucks of the lanes it carries; a thin lane no kept route carries is judged as a direct lane and kept if it pays.
Sign convention: ``net_cost_inr`` = freight + handling - benefit (negative is good; an empty plan costs 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.graph.python import min_cost_flow

from twin.errors import ConfigError

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
#: a wall-clock stop for the routing search that does not bind in practice (the solution limit ends a
#: 20-request search in milliseconds); it is there only so a pathological problem cannot hang a run. Were
#: it ever reached, that run's routes would depend on the machine's speed.
ROUTING_SAFETY_TIME_LIMIT_S = 60


@dataclass(frozen=True)
class FreightModel:
    """What moving units between dealers costs: per truck (fixed + per km) plus per unit (handling, and a
    per unit-km rate where the carrier bills a load share pro rata, as parts carriers' cards do)."""

    rate_inr_per_km: float = 42.0
    truck_fixed_inr: float = 3000.0
    truck_capacity_units: int = 400
    handling_inr_per_unit: float = 5.0
    rate_inr_per_unit_km: float = 0.0

    def __post_init__(self) -> None:
        for name in ("rate_inr_per_km", "truck_fixed_inr", "handling_inr_per_unit", "rate_inr_per_unit_km"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ConfigError(f"freight.{name}", value, "must be a finite number >= 0")
        capacity = self.truck_capacity_units
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ConfigError("freight.truck_capacity_units", capacity, "must be an integer >= 1")

    @classmethod
    def load_share_card(
        cls, minimum_charge_inr: float, rate_per_km_inr: float, capacity_units: int
    ) -> FreightModel:
        """A carrier card that bills a consignment its load share of the truck's per-km rate, at least a
        minimum: planned as the minimum per consignment plus the per-unit share (a slight overestimate)."""
        return cls(
            rate_inr_per_km=0.0,
            truck_fixed_inr=float(minimum_charge_inr),
            truck_capacity_units=int(capacity_units),
            handling_inr_per_unit=0.0,
            rate_inr_per_unit_km=float(rate_per_km_inr) / int(capacity_units),
        )

    @classmethod
    def car_carrier(cls) -> FreightModel:
        """A car carrier: 8 slots a load, a load fixed cost (loading, driver, permits), per-vehicle handling."""
        return cls(
            rate_inr_per_km=55.0,
            truck_fixed_inr=12000.0,
            truck_capacity_units=8,
            handling_inr_per_unit=1500.0,
        )

    def truck_cost_inr(self, distance_km: npt.ArrayLike) -> FloatArray:
        return self.truck_fixed_inr + self.rate_inr_per_km * np.asarray(distance_km, dtype=float)

    def unit_cost_inr(self, distance_km: npt.ArrayLike) -> FloatArray:
        """The per-unit part of the freight over a distance: handling plus the pro-rata unit-km rate."""
        return self.handling_inr_per_unit + self.rate_inr_per_unit_km * np.asarray(distance_km, dtype=float)

    def lane_freight_inr(self, units: npt.ArrayLike, distance_km: npt.ArrayLike) -> FloatArray:
        """Direct freight of a lane carrying ``units``: whole trucks plus the per-unit part."""
        units = np.asarray(units, dtype=float)
        trucks = np.ceil(units / self.truck_capacity_units)
        return trucks * self.truck_cost_inr(distance_km) + self.unit_cost_inr(distance_km) * units


@dataclass(frozen=True)
class PlannerOptions:
    """Knobs of the heuristic; the defaults keep a 400 x 2,000 cycle under a second (see the benchmark)."""

    max_senders_per_deficit: int | None = 8
    rounds: int = 3
    use_routing: bool = True
    thin_lane_fraction: float = 0.5
    #: the routing search stops after this many solutions (the first one, then each local-search step):
    #: a deterministic budget, so a run's transfers, and its KPIs, repeat exactly for a seed
    routing_solution_limit: int = 8
    max_requests_per_routing_problem: int = 20
    max_routing_problems: int = 50
    max_route_km: float = 1500.0
    #: dynamic slope-scaling passes before consolidation (0 = consolidate the LP flow as it is)
    slope_scaling_iterations: int = 4
    #: without routing, leave out lanes whose every possible unit together cannot pay one truck (exact: no
    #: profitable plan uses them); the LP bound is then that of the remaining lanes, still a lower bound of
    #: the MIP. With routing such a lane can still pay its share of a route, so nothing is pruned.
    prune_lanes: bool = True

    def __post_init__(self) -> None:
        if self.slope_scaling_iterations < 0:
            raise ConfigError(
                "planner.slope_scaling_iterations", self.slope_scaling_iterations, "must be >= 0"
            )
        if self.max_senders_per_deficit is not None and self.max_senders_per_deficit < 1:
            raise ConfigError(
                "planner.max_senders_per_deficit", self.max_senders_per_deficit, "must be >= 1 or null"
            )
        if self.rounds < 0:
            raise ConfigError("planner.rounds", self.rounds, "must be >= 0")
        if not 0 <= self.thin_lane_fraction <= 1:
            raise ConfigError("planner.thin_lane_fraction", self.thin_lane_fraction, "must be in [0, 1]")
        if self.routing_solution_limit < 1:
            raise ConfigError("planner.routing_solution_limit", self.routing_solution_limit, "must be >= 1")
        if self.max_route_km <= 0:
            raise ConfigError("planner.max_route_km", self.max_route_km, "must be > 0")
        if self.max_requests_per_routing_problem < 1 or self.max_routing_problems < 0:
            raise ConfigError(
                "planner.max_requests_per_routing_problem",
                self.max_requests_per_routing_problem,
                "must be >= 1",
            )


@dataclass(frozen=True)
class Route:
    """One multi-stop run: stops in order as (dealer, request index, True for a pickup)."""

    stops: tuple[tuple[int, int, bool], ...]
    distance_km: float
    freight_inr: float
    units: int


@dataclass(frozen=True)
class RoutingResult:
    routes: tuple[Route, ...]
    served: BoolArray
    request_route: IntArray
    freight_inr: float
    benefit_inr: float


@dataclass(frozen=True)
class TransferPlan:
    """Recommendations (one line per sender, receiver, item) with their lane, route, freight and benefit."""

    sender: IntArray
    receiver: IntArray
    item: IntArray
    units: IntArray
    lane: IntArray
    route: IntArray
    distance_km: FloatArray
    freight_inr: FloatArray
    benefit_inr: FloatArray
    lane_sender: IntArray
    lane_receiver: IntArray
    lane_units: IntArray
    lane_trucks: IntArray
    lane_freight_inr: FloatArray
    routes: tuple[Route, ...]
    #: the LP relaxation's optimum over the candidate arcs (see ``lp_covers_every_arc``)
    lp_net_cost_inr: float
    gap_bound_inr: float
    #: True when every sender was a candidate for every short dealer: only then is ``lp_net_cost_inr`` a lower
    #: bound of the whole problem (with the k cheapest senders it bounds the problem on those arcs only)
    lp_covers_every_arc: bool
    subproblems: int
    rounds_run: int

    @property
    def benefit_cost_ratio(self) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.freight_inr > 0, self.benefit_inr / self.freight_inr, np.inf)

    @property
    def freight_total_inr(self) -> float:
        return float(self.lane_freight_inr.sum() + sum(r.freight_inr for r in self.routes))

    @property
    def net_cost_inr(self) -> float:
        """Freight + handling - benefit of the whole plan (<= 0; the exact MIP's objective)."""
        return self.freight_total_inr - float(self.benefit_inr.sum())

    @property
    def trucks(self) -> int:
        return int(self.lane_trucks.sum()) + len(self.routes)


def _as_cells(name: str, array: npt.ArrayLike, shape: tuple[int, ...] | None) -> IntArray:
    values = np.asarray(array)
    if shape is not None and values.shape != shape:
        raise ConfigError(name, values.shape, f"must have shape {shape}")
    if values.ndim != 2:
        raise ConfigError(name, values.shape, "must be [dealer, item]")
    if values.size and values.min() < 0:
        raise ConfigError(name, float(values.min()), "must be finite and >= 0")
    if not np.issubdtype(values.dtype, np.integer):  # integers are whole and finite already
        if not np.all(np.isfinite(values)):
            raise ConfigError(name, float(values.min()), "must be finite and >= 0")
        if values.size and np.any(values != np.floor(values)):
            raise ConfigError(name, "fractional", "units must be whole")
    return values.astype(np.int64, copy=False)


def _ragged_arange(counts: IntArray) -> IntArray:
    """0..c-1 for each count, concatenated."""
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total, dtype=np.int64) - starts


def _cheapest_first(target: IntArray, cost_paise: IntArray) -> IntArray:
    """Arc order by (target, cost, arc position) for arcs already sorted by target: one stable sort of a
    combined integer key (the same order as ``np.lexsort((position, cost_paise, target))``)."""
    low, high = int(cost_paise.min()), int(cost_paise.max())
    span = high - low + 1
    if int(target[-1]) >= np.iinfo(np.int64).max // span - 1:
        return np.lexsort((np.arange(len(target)), cost_paise, target))
    return np.argsort(target * span + (cost_paise - low), kind="stable")


@dataclass
class _Arcs:
    """Candidate moves (surplus cell -> deficit cell of the same item), sorted by item."""

    source: IntArray  # surplus cell index
    target: IntArray  # deficit cell index
    item_rank: IntArray
    lane: IntArray
    cost_paise: IntArray
    benefit_inr_per_unit: FloatArray


def _candidate_arcs(
    surplus_dealer: IntArray,
    surplus_item: IntArray,
    deficit_dealer: IntArray,
    deficit_item: IntArray,
    surplus_total: IntArray,
    deficit_total: IntArray,
    deficit_benefit: FloatArray,
    release_benefit: FloatArray,
    distance_km: FloatArray,
    freight: FreightModel,
    max_senders: int | None,
    prune_lanes: bool = True,
) -> tuple[_Arcs, IntArray]:
    dealers = distance_km.shape[0]
    if not len(surplus_item) or not len(deficit_item):
        empty_int = np.zeros(0, dtype=np.int64)
        return _Arcs(empty_int, empty_int, empty_int, empty_int, empty_int, np.zeros(0)), np.unique(
            deficit_item
        )
    if prune_lanes:
        # a receiver whose whole deficit cannot pay one truck's fixed cost gets no profitable lane at all
        # (a unit's value is bounded by its benefit there plus the best release value of its item anywhere)
        best_release = np.full(int(max(surplus_item.max(), deficit_item.max())) + 1, -np.inf)
        np.maximum.at(best_release, surplus_item, release_benefit)
        unit_bound = np.maximum(deficit_benefit + best_release[deficit_item], 0.0)
        receiver_best = np.bincount(deficit_dealer, weights=deficit_total * unit_bound, minlength=dealers)
        worth = (receiver_best > freight.truck_fixed_inr)[deficit_dealer]
        deficit_index = np.flatnonzero(worth)
    else:
        deficit_index = np.arange(len(deficit_item))
    deficit_dealer, deficit_item = deficit_dealer[deficit_index], deficit_item[deficit_index]
    deficit_total, deficit_benefit = deficit_total[deficit_index], deficit_benefit[deficit_index]
    # only lanes on which some unit could pay its way (per-unit freight below the receiver's best benefit)
    # can carry an arc. Pairs are listed on those lanes only; a lane's pairs are all listed or none, so a
    # listed lane's sums below add the same terms in the same order as they would over every pair.
    lane_per_unit_freight = (
        freight.unit_cost_inr(distance_km)
        + freight.truck_cost_inr(distance_km) / freight.truck_capacity_units
    )
    receiver_best_benefit = np.full(dealers, -np.inf)
    np.maximum.at(receiver_best_benefit, deficit_dealer, deficit_benefit)
    if release_benefit.any():
        receiver_best_benefit = receiver_best_benefit + release_benefit.max()
    target, source = _live_pairs(
        surplus_dealer,
        surplus_item,
        deficit_dealer,
        deficit_item,
        lane_per_unit_freight < receiver_best_benefit,
    )
    lane = surplus_dealer[source] * dealers + deficit_dealer[target]
    distance = distance_km.reshape(-1)[lane]
    unit_freight = freight.unit_cost_inr(distance)
    truck_freight = freight.truck_cost_inr(distance)
    per_unit_freight = unit_freight + truck_freight / freight.truck_capacity_units
    benefit = deficit_benefit[target]
    if release_benefit.any():
        benefit = benefit + release_benefit[source]
    cost_paise = np.rint((per_unit_freight - benefit) * 100).astype(np.int64)
    keep = cost_paise < 0
    if prune_lanes:
        # a lane whose every possible unit together cannot pay one truck is never in a profitable plan:
        # dropping such a lane's flows from any plan keeps it feasible and makes it cheaper (exact pruning)
        most_units = np.minimum(surplus_total[source], deficit_total[target])
        net_per_unit = benefit - unit_freight
        lane_best_inr = np.bincount(
            lane, weights=most_units * np.maximum(net_per_unit, 0.0), minlength=dealers * dealers
        )
        keep &= lane_best_inr[lane] > truck_freight
    source, target, cost_paise, benefit = source[keep], target[keep], cost_paise[keep], benefit[keep]
    if max_senders is not None and len(target):
        # a deficit cell with at most ``max_senders`` arcs keeps them all: only the others are ranked
        crowded = np.flatnonzero(np.bincount(target, minlength=len(deficit_item))[target] > max_senders)
        kept = np.ones(len(target), dtype=bool)
        if len(crowded):
            order = _cheapest_first(target[crowded], cost_paise[crowded])
            ranked = crowded[order]
            rank = _ragged_arange(np.bincount(target[ranked], minlength=len(deficit_item)).astype(np.int64))
            kept[ranked[rank >= max_senders]] = False
        keep_sorted = np.flatnonzero(kept)
        source, target, cost_paise, benefit = (
            source[keep_sorted],
            target[keep_sorted],
            cost_paise[keep_sorted],
            benefit[keep_sorted],
        )
    item_rank = np.unique(deficit_item, return_inverse=True)[1].ravel()[target]
    lane = surplus_dealer[source] * dealers + deficit_dealer[target]
    target = deficit_index[target]  # back to the caller's deficit cell numbering
    arcs = _Arcs(source, target, item_rank.astype(np.int64), lane, cost_paise, benefit)
    return arcs, np.unique(deficit_item)


def _live_pairs(
    surplus_dealer: IntArray,
    surplus_item: IntArray,
    deficit_dealer: IntArray,
    deficit_item: IntArray,
    live_lane: BoolArray,
) -> tuple[IntArray, IntArray]:
    """Every (deficit cell, surplus cell of its item) pair on a live ``[sender, receiver]`` lane, deficit-major
    with senders in cell order (cells are sorted by item, then dealer).

    Listed receiver by receiver (its live senders x its short items, a small dense block) rather than as
    every pair of an item and then filtered: at 400 dealers only a fifth of the lanes are live, and the
    full list runs to millions of pairs.
    """
    dealers = live_lane.shape[0]
    if not len(deficit_item):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    item_count = int(max(surplus_item.max(), deficit_item.max())) + 1
    # [item, dealer]: rows of a receiver's short items, gathered whole, come out deficit-major
    surplus_cell = np.full((item_count, dealers), -1, dtype=np.int64)
    surplus_cell[surplus_item, surplus_dealer] = np.arange(len(surplus_item), dtype=np.int64)
    senders_of = np.ascontiguousarray(live_lane.T)  # [receiver, sender]
    by_receiver = np.argsort(deficit_dealer, kind="stable")
    bounds = np.searchsorted(deficit_dealer[by_receiver], np.arange(dealers + 1))
    targets: list[IntArray] = []
    sources: list[IntArray] = []
    for receiver in np.flatnonzero(bounds[1:] > bounds[:-1]).tolist():
        senders = np.flatnonzero(senders_of[receiver])
        if not senders.size:
            continue
        short = by_receiver[bounds[receiver] : bounds[receiver + 1]]
        block = surplus_cell[deficit_item[short][:, None], senders].ravel()  # [deficit cell, sender]
        pair = np.flatnonzero(block >= 0)  # deficit-major, senders ascending
        targets.append(short[pair // senders.size])
        sources.append(block[pair])
    target = np.concatenate(targets) if targets else np.zeros(0, dtype=np.int64)
    source = np.concatenate(sources) if sources else np.zeros(0, dtype=np.int64)
    if not target.size:
        return target, source
    # each deficit cell's pairs are already together and in sender order: place the groups in cell order
    counts = np.bincount(target, minlength=len(deficit_item))
    first = np.cumsum(counts) - counts
    starts = np.flatnonzero(np.r_[True, target[1:] != target[:-1]])
    place = np.repeat(first[target[starts]] - starts, np.diff(np.r_[starts, len(target)])) + np.arange(
        len(target)
    )
    ordered_target = np.empty_like(target)
    ordered_source = np.empty_like(source)
    ordered_target[place] = target
    ordered_source[place] = source
    return ordered_target, ordered_source


#: arcs per pooled min-cost-flow solve: small graphs of whole items solve faster than one big graph (the solver
#: is superlinear) and far faster than one graph per item (Python overhead per build)
ARCS_PER_SOLVE = 1_000


def _solve_flows(
    arcs: _Arcs,
    allowed: BoolArray,
    surplus_left: IntArray,
    deficit_left: IntArray,
    items_to_solve: IntArray,
) -> tuple[IntArray, int]:
    """Min-cost flow of the given items on the allowed arcs; flow per arc and the number of items solved.

    Items share no arc (a surplus cell only reaches deficit cells of its own item), so several items solved in
    one ``SimpleMinCostFlow`` with a common sink give exactly their per-item optima. Items are grouped in
    order into graphs of about ``ARCS_PER_SOLVE`` arcs.
    """
    flow = np.zeros(len(arcs.source), dtype=np.int64)
    selected = allowed & np.isin(arcs.item_rank, items_to_solve)
    capacity = np.minimum(surplus_left[arcs.source], deficit_left[arcs.target])
    index = np.flatnonzero(selected & (capacity > 0))
    if not len(index):
        return flow, 0
    # arcs are sorted by item: cut the index into groups of whole items of about ARCS_PER_SOLVE arcs
    item_of = arcs.item_rank[index]
    item_starts = np.flatnonzero(np.r_[True, item_of[1:] != item_of[:-1]])
    cut_items = item_starts[np.unique(item_starts // ARCS_PER_SOLVE, return_index=True)[1]]
    bounds = np.r_[cut_items, len(index)]
    for start, end in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        group = index[start:end]
        flow[group] = _solve_group(arcs, group, capacity[group], surplus_left, deficit_left)
    return flow, int(item_starts.size)


def _dense_rank(cells: IntArray) -> tuple[IntArray, IntArray]:
    """``np.unique(cells, return_inverse=True)`` for the cells of a group of whole items: cells are numbered
    by item, so a group's cells lie in a short range, and marking that range beats sorting the arcs."""
    low = int(cells.min())
    span = int(cells.max()) - low + 1
    if span > 16 * cells.size:  # few items far apart in the numbering: sorting the cells is cheaper
        distinct, rank = np.unique(cells, return_inverse=True)
        return distinct, rank.ravel()
    seen = np.zeros(span, dtype=np.int64)
    seen[cells - low] = 1
    rank = np.cumsum(seen) - 1
    return np.flatnonzero(seen) + low, rank[cells - low]


def _solve_group(
    arcs: _Arcs, index: IntArray, capacity: IntArray, surplus_left: IntArray, deficit_left: IntArray
) -> IntArray:
    sources, source_node = _dense_rank(arcs.source[index])
    targets, target_node = _dense_rank(arcs.target[index])
    target_node = target_node + len(sources)
    sink = len(sources) + len(targets)
    supply = surplus_left[sources]
    solver = min_cost_flow.SimpleMinCostFlow()
    tails = np.concatenate([source_node, np.arange(len(sources)), len(sources) + np.arange(len(targets))])
    heads = np.concatenate([target_node, np.full(len(sources) + len(targets), sink)])
    capacities = np.concatenate([capacity, supply, deficit_left[targets]])
    costs = np.concatenate([arcs.cost_paise[index], np.zeros(len(sources) + len(targets), dtype=np.int64)])
    arc_ids = solver.add_arcs_with_capacity_and_unit_cost(tails, heads, capacities, costs)
    solver.set_nodes_supplies(
        np.arange(sink + 1), np.concatenate([supply, np.zeros(len(targets), np.int64), [-supply.sum()]])
    )
    status = solver.solve()
    if status != solver.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    return solver.flows(arc_ids[: len(index)])


def _consolidated_net_inr(
    arcs: _Arcs, flow: IntArray, distance_km: FloatArray, freight: FreightModel
) -> float:
    """Net cost of a flow once every lane pays its whole trucks and loss-making lanes are dropped."""
    used = np.flatnonzero(flow > 0)
    if not len(used):
        return 0.0
    lanes, inverse = np.unique(arcs.lane[used], return_inverse=True)
    units = np.bincount(inverse, weights=flow[used], minlength=len(lanes))
    benefit = np.bincount(inverse, weights=flow[used] * arcs.benefit_inr_per_unit[used], minlength=len(lanes))
    dealers = distance_km.shape[0]
    net = freight.lane_freight_inr(units, distance_km[lanes // dealers, lanes % dealers]) - benefit
    return float(np.minimum(net, 0.0).sum())


def _slope_scaled_flow(
    arcs: _Arcs,
    lp_flow: IntArray,
    surplus_total: IntArray,
    deficit_total: IntArray,
    items: IntArray,
    distance_km: FloatArray,
    freight: FreightModel,
    options: PlannerOptions,
) -> tuple[IntArray, int]:
    """Dynamic slope scaling (Kim & Pardalos 1999): re-price each used lane's trucks over the units it
    actually carries (unused lanes keep their last price) and re-solve, so flows gather on fewer lanes that
    fill their trucks. Returns the flow whose consolidated net is best, the LP flow included, so the
    plan's guarantee against the LP still holds."""
    dealers = distance_km.shape[0]
    lane_ids, arc_lane = np.unique(arcs.lane, return_inverse=True)
    arc_lane = arc_lane.ravel()
    lane_km = distance_km[lane_ids // dealers, lane_ids % dealers]
    truck_inr = freight.truck_cost_inr(lane_km)
    slope = truck_inr / freight.truck_capacity_units
    arc_km = lane_km[arc_lane]
    variable = freight.unit_cost_inr(arc_km) - arcs.benefit_inr_per_unit
    best_flow, best_net = lp_flow, _consolidated_net_inr(arcs, lp_flow, distance_km, freight)
    flow, solved = lp_flow, 0
    previous_cost_paise: IntArray | None = None
    count = 0
    for iteration in range(options.slope_scaling_iterations):
        units = np.bincount(arc_lane, weights=flow, minlength=len(lane_ids))
        used = units > 0
        slope[used] = truck_inr[used] * np.ceil(units[used] / freight.truck_capacity_units) / units[used]
        cost_paise = np.rint((variable + slope[arc_lane]) * 100).astype(np.int64)
        if previous_cost_paise is not None and np.array_equal(cost_paise, previous_cost_paise):
            # the same prices give the same flow (the solve is deterministic): every pass left would
            # repeat this one, so stop, counting the subproblems they would have solved
            solved += count * (options.slope_scaling_iterations - iteration)
            break
        previous_cost_paise = cost_paise
        priced = _Arcs(
            arcs.source, arcs.target, arcs.item_rank, arcs.lane, cost_paise, arcs.benefit_inr_per_unit
        )
        flow, count = _solve_flows(priced, cost_paise < 0, surplus_total, deficit_total, items)
        solved += count
        net = _consolidated_net_inr(arcs, flow, distance_km, freight)
        if net < best_net - 1e-9:
            best_flow, best_net = flow, net
    return best_flow, solved


def plan_multistop_routes(
    pickup_dealer: IntArray,
    delivery_dealer: IntArray,
    units: IntArray,
    benefit_inr: FloatArray,
    distance_km: FloatArray,
    freight: FreightModel,
    solution_limit: int = 8,
    max_route_km: float = 1500.0,
) -> RoutingResult:
    """Multi-stop pickup-and-delivery runs serving the worthwhile subset of thin-lane requests.

    A request (one lane's load) is served only if its benefit beats its share of a route: dropping it costs
    its benefit (OR-Tools disjunction penalties), each truck used costs the fixed cost, each km the rate.
    Routes are open (a dummy depot at zero distance), at most ``max_route_km`` long, within truck capacity.
    The search (parallel cheapest insertion, then guided local search) stops after ``solution_limit``
    solutions: the same problem gets the same routes on any machine and under any load.
    """
    requests = len(pickup_dealer)
    empty = RoutingResult((), np.zeros(requests, bool), np.full(requests, -1, np.int64), 0.0, 0.0)
    if requests == 0:
        return empty
    if np.any(units > freight.truck_capacity_units) or np.any(units <= 0):
        raise ConfigError(
            "routing.units",
            int(units.max()),
            f"each request must fit one truck (1..{freight.truck_capacity_units})",
        )
    dealer_of_node = np.concatenate([[-1], np.stack([pickup_dealer, delivery_dealer], axis=1).ravel()])
    km = np.zeros((len(dealer_of_node), len(dealer_of_node)))
    real = dealer_of_node >= 0
    km[np.ix_(real, real)] = distance_km[np.ix_(dealer_of_node[real], dealer_of_node[real])]
    km_int = np.rint(km).astype(np.int64)
    cost_paise = np.rint(km * freight.rate_inr_per_km * 100).astype(np.int64).tolist()
    manager = pywrapcp.RoutingIndexManager(len(dealer_of_node), requests, 0)
    model = pywrapcp.RoutingModel(manager)

    # matrices and vectors by node, evaluated inside OR-Tools: a Python callback per arc costs ~2 us, and a
    # search asks for ~60k arcs per request
    model.SetArcCostEvaluatorOfAllVehicles(model.RegisterTransitMatrix(cost_paise))
    model.SetFixedCostOfAllVehicles(round(freight.truck_fixed_inr * 100))
    model.AddDimension(model.RegisterTransitMatrix(km_int.tolist()), 0, int(max_route_km), True, "km")
    km_dimension = model.GetDimensionOrDie("km")
    load = np.concatenate([[0], np.stack([units, -units], axis=1).ravel()]).tolist()
    model.AddDimensionWithVehicleCapacity(
        model.RegisterUnaryTransitVector(load),
        0,
        [freight.truck_capacity_units] * requests,
        True,
        "load",
    )
    solver = model.solver()
    # the per-unit part is charged over the request's direct distance (a route's detour is not)
    direct_km = distance_km[pickup_dealer, delivery_dealer]
    unit_charge = freight.unit_cost_inr(direct_km) * units
    net_benefit = benefit_inr - unit_charge
    for request in range(requests):
        pickup = manager.NodeToIndex(1 + 2 * request)
        delivery = manager.NodeToIndex(2 + 2 * request)
        model.AddPickupAndDelivery(pickup, delivery)
        solver.Add(model.VehicleVar(pickup) == model.VehicleVar(delivery))
        solver.Add(km_dimension.CumulVar(pickup) <= km_dimension.CumulVar(delivery))
        penalty = max(int(net_benefit[request] * 100 / 2), 0)
        model.AddDisjunction([pickup], penalty)
        model.AddDisjunction([delivery], penalty)
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    parameters.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    parameters.solution_limit = solution_limit
    parameters.time_limit.FromSeconds(ROUTING_SAFETY_TIME_LIMIT_S)
    solution = model.SolveWithParameters(parameters)
    if solution is None:
        return empty
    routes: list[Route] = []
    served = np.zeros(requests, dtype=bool)
    request_route = np.full(requests, -1, dtype=np.int64)
    for vehicle in range(requests):
        index = model.Start(vehicle)
        stops: list[tuple[int, int, bool]] = []
        route_km = 0.0
        previous = 0
        while not model.IsEnd(index):
            node = manager.IndexToNode(index)
            if node:
                route_km += km[previous, node]
                previous = node
                request, is_delivery = divmod(node - 1, 2)
                stops.append((int(dealer_of_node[node]), int(request), not is_delivery))
            index = solution.Value(model.NextVar(index))
        if not stops:
            continue
        served_here = sorted({s[1] for s in stops})
        served[served_here] = True
        request_route[served_here] = len(routes)
        route_units = int(units[served_here].sum())
        cost = (
            freight.truck_fixed_inr
            + freight.rate_inr_per_km * route_km
            + float(unit_charge[served_here].sum())
        )
        routes.append(Route(tuple(stops), route_km, float(cost), route_units))
    return RoutingResult(
        routes=tuple(routes),
        served=served,
        request_route=request_route,
        freight_inr=float(sum(r.freight_inr for r in routes)),
        benefit_inr=float(benefit_inr[served].sum()),
    )


def _clusters(
    sender: IntArray, receiver: IntArray, benefit: FloatArray, distance_km: FloatArray, size: int, limit: int
) -> list[IntArray]:
    """Greedy groups of nearby requests (by sender and receiver distance), best benefit first."""
    left = np.ones(len(sender), dtype=bool)
    groups: list[IntArray] = []
    for seed in np.argsort(-benefit, kind="stable"):
        if len(groups) >= limit:
            break
        if not left[seed]:
            continue
        candidates = np.flatnonzero(left)
        closeness = (
            distance_km[sender[seed], sender[candidates]] + distance_km[receiver[seed], receiver[candidates]]
        )
        group = candidates[np.argsort(closeness, kind="stable")[:size]]
        left[group] = False
        groups.append(group)
    return groups


def plan_transfers(
    surplus_units: npt.ArrayLike,
    deficit_units: npt.ArrayLike,
    benefit_inr_per_unit: npt.ArrayLike,
    distance_km: npt.ArrayLike,
    freight: FreightModel,
    options: PlannerOptions | None = None,
    release_benefit_inr_per_unit: npt.ArrayLike | None = None,
) -> TransferPlan:
    """Plan dealer-to-dealer moves of one kind of stock (parts by SKU, vehicles by spec); see the module doc.

    ``surplus_units``/``deficit_units`` ``[dealer, item]``: whole units that may leave / are short over the
    cover horizon; ``benefit_inr_per_unit`` ``[dealer, item]``: value of a unit arriving at a short dealer
    (avoided lost margin / emergency cost); ``release_benefit_inr_per_unit``: value of a unit leaving a
    surplus dealer (floor-plan interest, aged-stock discount avoided); ``distance_km`` ``[dealer, dealer]``.
    """
    options = options or PlannerOptions()
    distance = np.asarray(distance_km, dtype=float)
    if (
        distance.ndim != 2
        or distance.shape[0] != distance.shape[1]
        or not np.all(np.isfinite(distance))
        or distance.min() < 0
    ):
        raise ConfigError(
            "distance_km", distance.shape, "must be a square [dealer, dealer] matrix of finite km >= 0"
        )
    surplus = _as_cells("surplus_units", surplus_units, None)
    shape = surplus.shape
    if shape[0] != distance.shape[0]:
        raise ConfigError("surplus_units", shape, f"needs {distance.shape[0]} dealer rows like distance_km")
    deficit = _as_cells("deficit_units", deficit_units, shape)
    benefit_cells = np.asarray(benefit_inr_per_unit, dtype=float)
    release_cells = (
        np.zeros(shape)
        if release_benefit_inr_per_unit is None
        else np.asarray(release_benefit_inr_per_unit, dtype=float)
    )
    for name, cells in (
        ("benefit_inr_per_unit", benefit_cells),
        ("release_benefit_inr_per_unit", release_cells),
    ):
        if cells.shape != shape or not np.all(np.isfinite(cells)):
            raise ConfigError(name, cells.shape, f"must be finite with shape {shape}")
    dealers, _ = shape

    # cells sorted by item (column-major flat order)
    surplus_flat = np.flatnonzero(surplus.T)
    surplus_item, surplus_dealer = np.divmod(surplus_flat, dealers)
    deficit_flat = np.flatnonzero(deficit.T)
    deficit_item, deficit_dealer = np.divmod(deficit_flat, dealers)
    surplus_total = surplus[surplus_dealer, surplus_item]
    deficit_total = deficit[deficit_dealer, deficit_item]
    arcs, _ = _candidate_arcs(
        surplus_dealer,
        surplus_item,
        deficit_dealer,
        deficit_item,
        surplus_total,
        deficit_total,
        benefit_cells[deficit_dealer, deficit_item],
        release_cells[surplus_dealer, surplus_item],
        distance,
        freight,
        options.max_senders_per_deficit,
        options.prune_lanes and not options.use_routing,
    )
    arc_count = len(arcs.source)
    all_items = np.unique(arcs.item_rank)
    flow0, subproblems = _solve_flows(arcs, np.ones(arc_count, bool), surplus_total, deficit_total, all_items)
    lp_net_cost_inr = float((flow0 * arcs.cost_paise).sum()) / 100.0

    def lane_totals(flow: IntArray) -> tuple[IntArray, IntArray, FloatArray]:  # lanes, units, benefit
        used = np.flatnonzero(flow > 0)
        lanes, inverse = np.unique(arcs.lane[used], return_inverse=True)
        units = np.bincount(inverse, weights=flow[used], minlength=len(lanes)).astype(np.int64)
        benefit = np.bincount(
            inverse, weights=flow[used] * arcs.benefit_inr_per_unit[used], minlength=len(lanes)
        ).astype(np.float64)
        return lanes, units, benefit

    def lane_km(lanes: IntArray) -> FloatArray:
        return distance[lanes // dealers, lanes % dealers]

    lanes0, units0, benefit0 = lane_totals(flow0)
    km0 = lane_km(lanes0)
    fraction = units0 / freight.truck_capacity_units
    gap_bound_inr = float(((np.ceil(fraction) - fraction) * freight.truck_cost_inr(km0)).sum())
    if options.slope_scaling_iterations:
        flow0, solved = _slope_scaled_flow(
            arcs, flow0, surplus_total, deficit_total, all_items, distance, freight, options
        )
        subproblems += solved
        lanes0, units0, benefit0 = lane_totals(flow0)
        km0 = lane_km(lanes0)
    direct_net0 = freight.lane_freight_inr(units0, km0) - benefit0
    thin = (
        (units0 < options.thin_lane_fraction * freight.truck_capacity_units)
        if options.use_routing
        else np.zeros(len(lanes0), bool)
    )
    keep_direct = (direct_net0 < 0) & ~thin
    routed_lane_ids: list[IntArray] = []
    routes: list[Route] = []
    route_of_lane: dict[int, int] = {}
    thin_index = np.flatnonzero(thin)
    if len(thin_index):
        groups = _clusters(
            lanes0[thin_index] // dealers,
            lanes0[thin_index] % dealers,
            benefit0[thin_index],
            distance,
            options.max_requests_per_routing_problem,
            options.max_routing_problems,
        )
        grouped = np.zeros(len(thin_index), bool)
        for group in groups:
            grouped[group] = True
            members = thin_index[group]
            result = plan_multistop_routes(
                lanes0[members] // dealers,
                lanes0[members] % dealers,
                units0[members],
                benefit0[members],
                distance,
                freight,
                options.routing_solution_limit,
                options.max_route_km,
            )
            # each route on its own: kept when it pays and beats the direct trucks of the lanes it carries;
            # every other lane of the group (unserved, or on a route not kept) is judged as a direct lane
            carried = np.zeros(len(members), bool)
            for route_position, route in enumerate(result.routes):
                on_route = result.request_route == route_position
                route_net_gain = float(benefit0[members[on_route]].sum()) - route.freight_inr
                route_direct_gain = float(np.maximum(-direct_net0[members[on_route]], 0).sum())
                if route_net_gain <= 0 or route_net_gain <= route_direct_gain:
                    continue
                carried |= on_route
                for lane_position in members[on_route]:
                    route_of_lane[int(lanes0[lane_position])] = len(routes)
                routes.append(route)
                routed_lane_ids.append(lanes0[members[on_route]])
            keep_direct[members[~carried]] |= direct_net0[members[~carried]] < 0
        # thin lanes beyond the routing budget are judged as direct lanes
        keep_direct[thin_index[~grouped]] |= direct_net0[thin_index[~grouped]] < 0
    routed_lanes = np.concatenate(routed_lane_ids) if routed_lane_ids else np.zeros(0, np.int64)

    def on_lanes(lanes: IntArray) -> BoolArray:
        """Arcs on any of ``lanes`` (``np.isin`` by a look-up over the dealer pairs)."""
        member = np.zeros(dealers * dealers, dtype=bool)
        member[lanes] = True
        return member[arcs.lane]

    locked_lane = on_lanes(lanes0[keep_direct]) | on_lanes(routed_lanes)
    flow = np.where(locked_lane, flow0, 0)
    forbidden = ~locked_lane & on_lanes(lanes0)  # every lane of round 0 not kept
    closed = on_lanes(routed_lanes)  # a route's load is fixed once routed
    rounds_run = 0
    retry_items = np.unique(arcs.item_rank[(flow0 > 0) & ~locked_lane])
    for _ in range(options.rounds):
        if not len(retry_items):
            break
        rounds_run += 1
        surplus_left = surplus_total - np.bincount(
            arcs.source, weights=flow, minlength=len(surplus_total)
        ).astype(np.int64)
        deficit_left = deficit_total - np.bincount(
            arcs.target, weights=flow, minlength=len(deficit_total)
        ).astype(np.int64)
        extra, solved = _solve_flows(arcs, ~forbidden & ~closed, surplus_left, deficit_left, retry_items)
        subproblems += solved
        if not extra.any():
            break
        before_lanes, before_units, before_benefit = lane_totals(flow)
        after_lanes, after_units, after_benefit = lane_totals(flow + extra)
        position = np.searchsorted(before_lanes, after_lanes)
        position = np.minimum(position, max(len(before_lanes) - 1, 0))
        existed = (
            (len(before_lanes) > 0) & (before_lanes[position] == after_lanes)
            if len(before_lanes)
            else np.zeros(len(after_lanes), bool)
        )
        old_units = np.where(existed, before_units[position] if len(before_lanes) else 0, 0)
        old_benefit = np.where(existed, before_benefit[position] if len(before_lanes) else 0.0, 0.0)
        km_after = lane_km(after_lanes)
        old_net = np.where(existed, freight.lane_freight_inr(old_units, km_after) - old_benefit, 0.0)
        new_net = freight.lane_freight_inr(after_units, km_after) - after_benefit
        improves = new_net < old_net - 1e-9
        rejected_lanes = after_lanes[~improves & (after_units > old_units)]
        accept = on_lanes(after_lanes[improves])
        flow = flow + np.where(accept, extra, 0)
        reject_arcs = on_lanes(rejected_lanes)
        retry_items = np.unique(arcs.item_rank[(extra > 0) & reject_arcs])
        forbidden |= reject_arcs & (flow == 0)
        closed |= reject_arcs & (flow > 0)
        if not len(rejected_lanes):
            break

    # recommendations
    used = np.flatnonzero(flow > 0)
    line_sender = (arcs.lane[used] // dealers).astype(np.int64)
    line_receiver = (arcs.lane[used] % dealers).astype(np.int64)
    line_item = deficit_item[arcs.target[used]].astype(np.int64)
    line_units = flow[used]
    line_benefit = line_units * arcs.benefit_inr_per_unit[used]
    lanes, inverse = np.unique(arcs.lane[used], return_inverse=True)
    inverse = inverse.ravel()
    lane_units = np.bincount(inverse, weights=line_units, minlength=len(lanes)).astype(np.int64)
    lane_route = np.array([route_of_lane.get(int(lane), -1) for lane in lanes], dtype=np.int64)
    km_lanes = lane_km(lanes)
    direct = lane_route < 0
    lane_trucks = np.where(direct, np.ceil(lane_units / freight.truck_capacity_units), 0).astype(np.int64)
    lane_freight = np.where(direct, freight.lane_freight_inr(lane_units, km_lanes), 0.0)
    route_units = np.array([r.units for r in routes], dtype=float)
    route_freight = np.array([r.freight_inr for r in routes], dtype=float)
    line_route = lane_route[inverse]
    line_freight = np.where(
        line_route >= 0,
        route_freight[np.maximum(line_route, 0)]
        * line_units
        / np.maximum(route_units[np.maximum(line_route, 0)], 1)
        if routes
        else 0.0,
        lane_freight[inverse] * line_units / lane_units[inverse],
    )
    return TransferPlan(
        sender=line_sender,
        receiver=line_receiver,
        item=line_item,
        units=line_units,
        lane=inverse.astype(np.int64),
        route=line_route,
        distance_km=distance[line_sender, line_receiver],
        freight_inr=line_freight,
        benefit_inr=line_benefit,
        lane_sender=(lanes // dealers).astype(np.int64),
        lane_receiver=(lanes % dealers).astype(np.int64),
        lane_units=lane_units,
        lane_trucks=lane_trucks,
        lane_freight_inr=lane_freight,
        routes=tuple(routes),
        lp_net_cost_inr=lp_net_cost_inr,
        gap_bound_inr=gap_bound_inr,
        lp_covers_every_arc=options.max_senders_per_deficit is None,
        subproblems=subproblems,
        rounds_run=rounds_run,
    )


def parts_surplus_deficit(
    available_units: npt.ArrayLike,
    inbound_units: npt.ArrayLike,
    forecast_units: npt.ArrayLike,
    safety_stock_units: npt.ArrayLike,
) -> tuple[IntArray, IntArray]:
    """Surplus = on-hand above forecast need + safety stock over the cover horizon (only on-hand can ship);
    deficit = units short of the forecast need after on-hand and inbound. Between the two: neither (a band,
    so a dealer does not send and receive the same SKU)."""
    available = np.asarray(available_units, dtype=float)
    position = available + np.asarray(inbound_units, dtype=float)
    need = np.asarray(forecast_units, dtype=float)
    floor = np.asarray(safety_stock_units, dtype=float)
    if np.any(available < 0) or np.any(position < available) or np.any(need < 0) or np.any(floor < 0):
        raise ConfigError(
            "surplus_deficit", "negative", "stock, inbound, forecast and safety stock must be >= 0"
        )
    surplus = np.floor(np.clip(np.minimum(available, position - need - floor), 0, None)).astype(np.int64)
    deficit = np.ceil(np.clip(need - position, 0, None)).astype(np.int64)
    return surplus, deficit


def vehicle_surplus_deficit(
    stock_units: npt.ArrayLike,
    aged_units: npt.ArrayLike,
    forecast_units: npt.ArrayLike,
    safety_stock_units: npt.ArrayLike,
) -> tuple[IntArray, IntArray]:
    """Per dealer x spec: surplus = vehicles above need + safety stock, or the aged ones if more, never
    below the safety stock; deficit = vehicles short of the forecast need."""
    stock = np.asarray(stock_units, dtype=float)
    aged = np.asarray(aged_units, dtype=float)
    need = np.asarray(forecast_units, dtype=float)
    floor = np.asarray(safety_stock_units, dtype=float)
    if np.any(stock < 0) or np.any(aged < 0) or np.any(aged > stock) or np.any(need < 0) or np.any(floor < 0):
        raise ConfigError(
            "vehicle_surplus_deficit", "range", "need 0 <= aged <= stock, forecast and floor >= 0"
        )
    excess = np.maximum(stock - need - floor, aged)
    surplus = np.floor(np.clip(np.minimum(excess, stock - floor), 0, None)).astype(np.int64)
    deficit = np.ceil(np.clip(need - stock, 0, None)).astype(np.int64)
    return surplus, deficit
