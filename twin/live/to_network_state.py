"""From the live state to the engine's state: the start of a what-if forked from today's real network.

Shadow mode keeps what the feeds report (``LiveState``): parts positions, the VIN table, open consignments,
demand lines. The engine's ``NetworkState`` also holds what no feed reports: its queues, trucks, plans and
counters. ``network_state_from_live`` derives every always-present section from the live state and the
master data, at the start of ``day`` (the first day the shadow has not closed). Optional sections (forecasts
and alerts, settlement, transfers, network orders, campaigns) are left out: a fork starts them fresh.

What is exact (equal to the engine's own state when the feed is complete) and what is estimated:

``parts``
- ``on_hand``, ``reserved``, ``workshop_wip``, ``in_transit``, ``backorder``: the live positions, exact.
- ``received_from_suppliers``, ``consumed``: zero; they count from the start of a run, and the fork starts.
- ``releases`` (estimated): when each unit in workshop WIP or reserved for pickup leaves. The engine draws a
  repair's days (and a pickup's) as geometric with the configured mean; the geometric forgets its past, so the
  days still to go of a unit held today are geometric too, whatever day it was issued. Each cell's units are
  spread over today and the following days by that distribution's quantiles (unit ``j`` of ``n`` at quantile
  ``(j + 1/2) / n``), deterministically.

``logistics``
- ``inbound``: one row per line of each open consignment, received the morning of its ETA (the carrier's
  latest, rounded up to a whole day, not before today): exact for supplier deliveries to a DC (their ETA is
  the receipt day), estimated for DC-to-dealer ones, whose ETA is the carrier's promise until it is broken.
  Where a cell's ``in_transit`` and its open lines disagree (a consignment the feed never reported), the
  difference is an estimated line arriving one lead time from today (or lines are trimmed, latest first), so
  every unit in transit is received exactly once.
- ``inbound_eta_day``: the earliest ETA of a dealer cell's open consignments (inf: none), as the carrier says.
- ``emergency_inbound`` (estimated): no feed says when a line went short or who ships its emergency units.
  A backorder is sent by express from the dealer's DC when the DC has the part today, else drop-shipped by
  the supplier; still open, it went short within that lead time, so its units are spread evenly over the
  receive days still to come.
- ``outstanding_backorder_units``: the sum of the backorders, exact. ``changed``: every cell, so the
  replenishment policy reviews the whole network on the fork's first evening.
- ``open_orders`` / ``open_since_day`` (estimated): no feed carries the DCs' book of dealer stock orders, so
  none is open; dealers' policies order what their positions lack on the first evening.

``demand_history`` (estimated): the 12-month DMS export is not in the feeds. It is the demand model's expected
lines a year per dealer x SKU (the rates the twin draws its own history from, off the master data) and units a
day from the class's mean line size, as the engine computes them.

``vehicles`` (from the VIN table; exact unless noted)
- ``dealer_yard_order``: VINs in a dealer's yard, oldest arrival first.
- ``stockyard_order``: unallocated VINs at a stockyard, in the order they arrived.
- ``dealer_yard_queues``, ``stockyard_queues``: each yard's spec queues in the order of their oldest car
  (estimated: the engine keeps a queue where it opened after it empties; a feed shows only queues with cars).
- ``deliveries_due``: reserved cars, handed over ``DELIVERY_DAYS`` after the sale. A factory-order car is sold
  when it arrives (``received_day``, exact); a stock sale's moment is not in the VIN record, only that it was
  in the last two days, so (estimated) they alternate between today and tomorrow.
- ``sales_window``, ``sales_window_days``, ``sales_28d``: cars delivered in the trailing window, by day (a
  state earlier than one window into the run lacks the sales before the feed began: estimated as none).
- ``dealer_inbound``: allocated or factory-ordered cars built and not yet at their dealer; ``pipeline``:
  stock cars built and not yet at a stockyard.
- ``export_*``: the OEM's view is today's counts (as exported last evening, ``export_as_of_day`` = day - 1).
- ``trunks_on_road``: VINs on the road that left when they were built (a trunk leaves the plant at once),
  grouped by stockyard, departure and ETA; ``builds_in_progress``: ordered VINs and their ETA.
- ``vin_serial``: past the highest serial in the table, so no VIN is made twice.

``carriers``
- ``dispatch_queue``: allocated VINs still at a stockyard. A factory-order car queues from its arrival (exact);
  a stock car from its allocation (estimated: the first allocation cycle after it arrived, at most the last
  one). Loads formed and waiting for a truck join this queue (``loads_waiting`` is empty).
- ``loads_on_road``: VINs on the road to a dealer, one load per dealer and departure; the carrier is the
  dealer's vehicle lane, the return leg as long as the loaded one (as the engine drives them).
- ``trucks_returning``: loads that arrived (VINs received at a dealer after being shipped) whose truck is not
  back yet: free again one loaded-leg after the arrival, as in the engine.
- ``lane_credit`` (estimated): zero; a disrupted lane's banked share of a truck is not reported.

``production``: a fresh plan when the fork starts an allocation period (the engine then makes one itself);
otherwise (estimated) the configured allocation policy's plan for a period on today's view, spread over the
period's days and stockyards as the engine spreads it (a seeded shuffle; yards by their dealers' sales).

``kpis``: fresh from ``day`` (nothing recorded before it); yard-age statistics of today's dealer yards.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from twin.config import TwinConfig
from twin.domain.lead_time import usable_days
from twin.domain.parts import PART_CLASSES
from twin.domain.state import NetworkState, SnapshotError
from twin.domain.state_schema import VEHICLE_COLUMN_NAMES, row_table
from twin.domain.vehicles import SiteKind, VehicleStatus
from twin.domain.world import World
from twin.engine.approvals import find_approvals, read_approvals
from twin.engine.demand import DemandModel
from twin.engine.kpis import DAILY_COLUMNS, REGION_COLUMNS
from twin.engine.parts_flow import RELEASE_KINDS
from twin.engine.scenario_effects import ScenarioEffects
from twin.engine.simulation import build_component, load_world
from twin.engine.snapshot import dimensions_of, run_identity
from twin.engine.vehicle_flow import DELIVERY_DAYS, PLAN_LOOKAHEAD_DAYS
from twin.errors import ConfigError
from twin.live.codes import FeedClock, MasterCodes
from twin.live.live_state import POSITION_FIELDS, LiveState
from twin.policies.observation import VehicleView, read_only

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
LIVE_META_FILE = "live_meta.json"
#: who wrote a converted state (its provenance); a state from live feeds always runs as a fork
WRITTEN_BY = "twin.live.to_network_state"
#: the parts of a converted state that are estimated, not read from the feeds (provenance and the CLI)
ESTIMATED = (
    "parts:releases (when WIP and reserved units leave: geometric days still to go, by quantile)",
    "logistics:inbound receive days of DC-to-dealer consignments (the carrier's ETA, rounded up)",
    "logistics:emergency_inbound (DC express if the DC has the part, else supplier; spread over the lead time)",
    "demand_history (the demand model's expected lines a year; no 12-month DMS export in the feeds)",
    "vehicles:deliveries_due of stock sales (sold in the last two days: alternately today and tomorrow)",
    "carriers:dispatch_queue waiting time of allocated stock cars (from the first allocation after arrival)",
    "carriers:lane_credit (zero)",
    "production:build_plan for the rest of the allocation period (the policy's plan on today's view)",
    "kpis (fresh from the fork day: the summary measures from it)",
)
_TIME_TOLERANCE_DAYS = 1e-6


# -- finding and reading a live state ---------------------------------------------------------------------
def find_live_state(path: str | Path) -> Path | None:
    """The live-state folder behind ``path``: itself, a shadow run folder (its newest checkpoint, else its
    ``live_state/``), a ``checkpoint/`` folder or one ``checkpoint-NNNNNN/``; None when it is none of them."""
    folder = Path(path)
    candidates = [folder]
    for checkpoints in (folder / "checkpoint", folder):
        pointer = checkpoints / "CURRENT"
        if pointer.is_file():
            candidates.append(checkpoints / pointer.read_text().strip() / "live")
    candidates += [folder / "live", folder / "live_state"]
    for candidate in candidates:
        if (candidate / LIVE_META_FILE).is_file():
            return candidate
    return None


def copy_live_state(folder: Path, target: Path) -> Path:
    """A frozen copy of a live-state folder (the shadow that keeps it may move on meanwhile)."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(folder, target)
    return target


def read_live_state(folder: Path, config: TwinConfig, world: World) -> LiveState:
    """Load a saved ``LiveState`` in the codes of the run's network; refuse one of another network's size."""
    live = LiveState(MasterCodes(world), FeedClock(dt.date.fromisoformat(config.start_date)))
    try:
        live.load(folder)
    except (OSError, KeyError, ValueError) as error:
        raise SnapshotError(LIVE_META_FILE, "live_state", str(folder), f"cannot be read ({error})") from None
    expected = (world.network.location_count, len(world.parts))
    for name in POSITION_FIELDS:
        if live.parts[name].shape != expected:
            raise ConfigError(
                "network",
                config.network.name,
                f"the live state in {folder} has parts {name} of shape {live.parts[name].shape}, this network "
                f"{expected}: it was kept on another network",
            )
    return live


def live_state_day(live: LiveState) -> int:
    """The day a live state is the start of: the first day the shadow has not closed."""
    if not live.closed_days:
        raise SnapshotError(
            LIVE_META_FILE, "closed_days", [], "the shadow has closed no day yet: nothing to start from"
        )
    return max(live.closed_days) + 1


@dataclass(frozen=True)
class StartState:
    """What a run starts from: a saved state or one converted from a live state (None: a new state)."""

    state: NetworkState | None
    #: the run's config; for a live state, a fork whose KPIs are measured from the fork day
    config: TwinConfig
    #: the live-state folder the state was converted from (None: a saved state, or none)
    live_folder: Path | None = None
    #: people's decisions on the state's waiting approvals, from Atlas's approvals.jsonl beside it
    approval_decisions: dict[int, bool] | None = None

    def describe(self) -> list[str]:
        """Lines telling the user what a converted state estimated (empty for a saved state)."""
        if self.state is None or self.live_folder is None:
            return []
        return [
            f"started from the live state {self.live_folder} (day {self.state.day}), as a fork; "
            f"KPIs measured from day {self.config.warmup_days}; estimated, not read from the feeds:",
            *(f"  - {item}" for item in ESTIMATED),
        ]


def load_start_state(config: TwinConfig, world: World | None = None) -> StartState:
    """``config.start_from_snapshot`` read: a state folder as saved, a live state converted (always a fork)."""
    if not config.start_from_snapshot:
        return StartState(None, config)
    folder = find_live_state(config.start_from_snapshot)
    if folder is None:
        approvals = find_approvals(config.start_from_snapshot)
        decisions = read_approvals(approvals) if approvals is not None else None
        return StartState(NetworkState.load(config.start_from_snapshot), config, None, decisions)
    world = world if world is not None else load_world(config)
    live = read_live_state(folder, config, world)
    day = live_state_day(live)
    if day >= config.horizon_days:
        raise ConfigError(
            "horizon_days",
            config.horizon_days,
            f"the live state in {folder} starts day {day}: the horizon must reach past it",
        )
    state = network_state_from_live(live, config, world, day)
    state.provenance["live_state"] = str(folder)
    forked = dataclasses.replace(config, fork=True, warmup_days=max(config.warmup_days, day))
    return StartState(state, forked, folder)


# -- the conversion -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Vins:
    """The VIN table's columns as numpy arrays, and the masks every section is cut from."""

    frame: pd.DataFrame
    spec: IntArray
    status: IntArray
    kind: IntArray
    site: IntArray
    dealer: IntArray
    customer_order: npt.NDArray[np.bool_]
    built: FloatArray
    shipped: FloatArray
    received: FloatArray
    delivered: FloatArray
    eta: FloatArray

    @classmethod
    def of(cls, live: LiveState) -> _Vins:
        frame = live.vehicles.frame()[list(VEHICLE_COLUMN_NAMES)].reset_index(drop=True)
        column = {name: frame[name].to_numpy() for name in VEHICLE_COLUMN_NAMES}
        return cls(
            frame=frame,
            spec=column["spec"].astype(np.int64), status=column["status"].astype(np.int64),
            kind=column["site_kind"].astype(np.int64), site=column["site_index"].astype(np.int64),
            dealer=column["dealer"].astype(np.int64), customer_order=column["customer_order"].astype(bool),
            built=column["built_day"].astype(np.float64), shipped=column["shipped_day"].astype(np.float64),
            received=column["received_day"].astype(np.float64),
            delivered=column["delivered_day"].astype(np.float64), eta=column["eta_day"].astype(np.float64),
        )  # fmt: skip

    def where(self, status: VehicleStatus, kind: SiteKind | None = None) -> npt.NDArray[np.bool_]:
        mask = self.status == status
        return mask if kind is None else mask & (self.kind == kind)

    @property
    def on_trunk(self) -> npt.NDArray[np.bool_]:
        """On the road from the plant: a trunk leaves the moment its cars are built."""
        return (
            self.where(VehicleStatus.IN_TRANSIT, SiteKind.ROAD)
            & (self.built >= 0)
            & (np.abs(self.shipped - self.built) < _TIME_TOLERANCE_DAYS)
        )

    @property
    def on_carrier(self) -> npt.NDArray[np.bool_]:
        return self.where(VehicleStatus.IN_TRANSIT, SiteKind.ROAD) & ~self.on_trunk

    def count(self, mask: npt.NDArray[np.bool_], owner: IntArray, owners: int, specs: int) -> IntArray:
        table = np.zeros((owners, specs), dtype=np.int64)
        np.add.at(table, (owner[mask], self.spec[mask]), 1)
        return table


def network_state_from_live(live: LiveState, config: TwinConfig, world: World, day: int) -> NetworkState:
    """The engine's state at the start of ``day`` derived from a live state; see the module doc."""
    vins = _Vins.of(live)
    _refuse_cars_left_at_a_plant(vins)
    demand = _demand_model(config, world)
    arrays: dict[str, npt.NDArray[Any]] = {}
    sections = (
        ("parts", _parts(live, config, day)),
        ("logistics", _logistics(live, config, world, day)),
        ("demand_history", _demand_history(demand, world)),
        ("vehicles", _vehicles(vins, config, world, day)),
        ("carriers", _carriers(vins, config, world, day)),
        ("kpis", _kpis(vins, config, world, day)),
    )
    for section, fields in sections:
        arrays |= {f"{section}:{name}": value for name, value in fields.items()}
    arrays |= {
        f"production:{name}": value for name, value in _production(arrays, demand, config, world, day).items()
    }
    state = NetworkState(
        day=day,
        seed=config.seed,
        arrays=arrays,
        vehicles=vins.frame,
        dimensions=dimensions_of(world, config.horizon_days),
        run=run_identity(config, world),
        streams={},
        provenance={"written_by": WRITTEN_BY, "estimated": list(ESTIMATED)},
    )
    state.validate()
    return state


def _refuse_cars_left_at_a_plant(vins: _Vins) -> None:
    """A built car leaves on its trunk the instant it is built; one still at a plant is a record to fix."""
    stuck = np.flatnonzero(vins.status == VehicleStatus.BUILT)
    if stuck.size:
        row = int(stuck[0])
        raise SnapshotError(
            "live_vehicles.parquet",
            f"status[{row}]",
            str(vins.frame["vin"].iloc[row]),
            "built and still at its plant at a day boundary: the twin has no step that ships it on",
        )


def _demand_model(config: TwinConfig, world: World) -> DemandModel:
    """The demand model bound as the engine binds it (the network's seed; nothing is sampled from it)."""
    model: DemandModel = build_component({**asdict(config.demand)}, key="demand")
    model.bind(
        world,
        dt.date.fromisoformat(config.start_date),
        np.random.default_rng(np.random.SeedSequence([config.network.generator_seed, 1])),
        ScenarioEffects(config.scenario, world, config.network.generator_seed),
    )
    return model


# -- parts ----------------------------------------------------------------------------------------------
def _parts(live: LiveState, config: TwinConfig, day: int) -> dict[str, npt.NDArray[Any]]:
    skus = live.codes.skus
    arrays: dict[str, npt.NDArray[Any]] = {
        name: live.parts[name].astype(np.int32, copy=True) for name in POSITION_FIELDS
    }
    arrays["received_from_suppliers"] = np.zeros(skus, dtype=np.int64)
    arrays["consumed"] = np.zeros(skus, dtype=np.int64)
    rows = []
    for kind, held, mean_days in (
        ("workshop", arrays["workshop_wip"], config.demand.workshop_repair_days_mean),
        ("counter", arrays["reserved"], config.demand.counter_pickup_days_mean),
    ):
        cells, days_ahead, units = spread_geometric(held.reshape(-1), mean_days)
        kind_column = np.full(cells.size, RELEASE_KINDS.index(kind))
        rows.append(np.stack([day + days_ahead, kind_column, cells, units], axis=1))
    arrays["releases"] = row_table(np.concatenate(rows), 4)
    return arrays


def spread_geometric(held: IntArray, mean_days: float) -> tuple[IntArray, IntArray, IntArray]:
    """Units held per cell, spread over the days still to go of a geometric holding time with ``mean_days``
    (the engine's ``geometric(1 / mean)``, whose rest is geometric again): cells, days from today, units."""
    cells = np.flatnonzero(held > 0)
    counts = held[cells].astype(np.int64)
    cell_of_unit = np.repeat(cells, counts)
    first_unit = np.repeat(np.cumsum(counts) - counts, counts)
    quantile = (np.arange(cell_of_unit.size) - first_unit + 0.5) / np.repeat(counts, counts)
    release_chance = 1.0 / max(mean_days, 1.0)
    if release_chance >= 1.0:
        days_ahead = np.zeros(cell_of_unit.size, dtype=np.int64)
    else:
        days_ahead = np.floor(np.log1p(-quantile) / math.log1p(-release_chance)).astype(np.int64)
    pairs, units = np.unique(np.stack([cell_of_unit, days_ahead], axis=1), axis=0, return_counts=True)
    pairs = pairs.reshape(-1, 2)
    return pairs[:, 0], pairs[:, 1], units.astype(np.int64)


def _logistics(live: LiveState, config: TwinConfig, world: World, day: int) -> dict[str, npt.NDArray[Any]]:
    network, operations = world.network, config.operations
    dealers, skus = network.dealer_count, live.codes.skus
    cells, units, eta = live.open_inbound()
    receive_day = np.maximum(day, np.ceil(eta - _TIME_TOLERANCE_DAYS)).astype(np.int64)
    consignment = _consignment_numbers(live)
    lead_time_days = np.concatenate(
        [
            operations.dc_dispatch_delay_days
            + network.dc_to_dealer_km() / network.carriers.speed_km_per_day[network.parts_carrier],
            np.full(len(network.parts_dcs), operations.supplier_lead_time_days),
        ]
    )
    lines = _reconcile_in_transit(
        np.stack([receive_day, consignment, cells, units], axis=1),
        live.parts["in_transit"].reshape(-1).astype(np.int64),
        usable_days(day, lead_time_days),
        skus,
    )
    inbound = row_table(
        np.stack([lines[:, 0], lines[:, 1], lines[:, 2] // skus, lines[:, 2] % skus, lines[:, 3]], axis=1), 5
    )
    eta_day = np.full(dealers * skus, np.inf, dtype=np.float32)
    to_dealer = cells < dealers * skus
    np.minimum.at(eta_day, cells[to_dealer], eta[to_dealer].astype(np.float32))
    backorder = live.parts["backorder"][:dealers]
    emergency = row_table(_emergency_lines(live, config, world, day), 5)
    return {
        "changed": np.ones(network.location_count * skus, dtype=bool),
        "inbound_eta_day": eta_day,
        "inbound": inbound,
        "emergency_inbound": emergency,
        "outstanding_backorder_units": np.array([int(backorder.sum(dtype=np.int64))], dtype=np.int64),
        # no feed carries the DCs' book of dealer stock orders: none open (the policies order what they need)
        "open_orders": np.zeros((network.location_count, skus), dtype=np.int32),
        "open_since_day": np.full(dealers * skus, np.inf),
    }


def _emergency_lines(live: LiveState, config: TwinConfig, world: World, day: int) -> IntArray:
    """Open backorders as emergency lines ``[receive_day, delivery, dealer, sku, units]``. A line short
    on day ``d`` is received on ``usable_day(d, lead time)`` (twin.domain.lead_time): by express
    from the dealer's DC when the DC has the part today, else drop-shipped by the supplier. Those still open
    were short on one of the last days of that lead time, so their units are spread evenly over the receive
    days still to come (cells in turn, so single units spread too)."""
    operations, dealers = config.operations, world.network.dealer_count
    backorder = live.parts["backorder"][:dealers]
    owed_dealer, owed_sku = np.nonzero(backorder)
    units = backorder[owed_dealer, owed_sku].astype(np.int64)
    dc_location = dealers + world.network.dealers.parts_dc[owed_dealer]
    dc_available = (
        live.parts["on_hand"][dc_location, owed_sku] - live.parts["reserved"][dc_location, owed_sku]
    )
    lead_time = np.where(
        dc_available > 0, operations.emergency_lead_time_days, operations.supplier_emergency_lead_time_days
    )
    # receive days today .. today + window - 1 (a line short yesterday with a 1-day lead arrives this morning)
    window_days = usable_days(0, lead_time)
    unit_cell = np.repeat(np.arange(units.size), units)
    unit_rank = np.arange(unit_cell.size)  # cells in turn: the n-th unit owed goes to day n mod window
    days_ahead = unit_rank % window_days[unit_cell]
    pairs, counts = np.unique(np.stack([unit_cell, days_ahead], axis=1), axis=0, return_counts=True)
    pairs = pairs.reshape(-1, 2)
    cell, ahead = pairs[:, 0], pairs[:, 1]
    return np.stack(
        [day + ahead, owed_dealer[cell], owed_dealer[cell], owed_sku[cell], counts], axis=1
    ).astype(np.int64)


def _consignment_numbers(live: LiveState) -> IntArray:
    """The consignment number of each open line, in ``LiveState.open_inbound`` order."""
    numbers = [
        np.full(consignment.sku.size, number)
        for number, consignment in enumerate(
            consignment
            for consignment in live.consignments.values()
            if consignment.status != "delivered" and consignment.to_location >= 0
        )
    ]
    return np.concatenate(numbers).astype(np.int64) if numbers else np.zeros(0, dtype=np.int64)


def _reconcile_in_transit(
    lines: IntArray, in_transit: IntArray, fallback_day: IntArray, skus: int
) -> IntArray:
    """Open lines ``[receive_day, consignment, cell, units]`` made to add up to ``in_transit`` per cell: units
    no line carries arrive on ``fallback_day`` of their location; lines beyond it are trimmed, latest first."""
    lines = lines[np.lexsort((-lines[:, 0], lines[:, 2]))] if lines.size else lines.reshape(0, 4)
    cells, units = lines[:, 2], lines[:, 3].copy()
    carried = np.bincount(cells, weights=units, minlength=in_transit.size).astype(np.int64)
    # trim: within a cell, lines are latest first, so the latest give way to what the position says
    start = np.searchsorted(cells, cells, side="left")
    cumulative = np.cumsum(units)
    carried_before = cumulative - units - (cumulative[start] - units[start]) if units.size else units
    excess_ahead = np.maximum(carried[cells] - in_transit[cells] - carried_before, 0)
    units = np.maximum(units - excess_ahead, 0)
    kept = np.column_stack([lines[:, :3], units])[units > 0]
    missing_cells = np.flatnonzero(in_transit > carried)
    next_number = int(lines[:, 1].max()) + 1 if lines.size else 0
    extra = np.stack(
        [
            fallback_day[missing_cells // skus],
            next_number + missing_cells // skus,  # one consignment per location
            missing_cells,
            in_transit[missing_cells] - carried[missing_cells],
        ],
        axis=1,
    )
    return np.concatenate([kept, extra.reshape(-1, 4)]).astype(np.int64)


def _demand_history(demand: DemandModel, world: World) -> dict[str, npt.NDArray[Any]]:
    lines_per_year = np.asarray(demand.parts_rate_lines_per_day, dtype=np.float64) * 365.0
    units_per_line = np.array([c.units_per_line_mean for c in PART_CLASSES])[world.parts.part_class]
    return {
        "lines_per_year": lines_per_year,
        "units_per_day": lines_per_year * units_per_line[None, :] / 365.0,
    }


# -- vehicles -------------------------------------------------------------------------------------------
def _ordered(ids: IntArray, *keys: npt.NDArray[Any]) -> IntArray:
    """``ids`` sorted by ``keys`` (the first key is the primary one), ties by id."""
    return ids[np.lexsort((ids, *reversed([key[ids] for key in keys])))] if ids.size else ids


def _queues_in_order(site: IntArray, spec: IntArray) -> npt.NDArray[np.float64]:
    """Each site's spec queues, in the order their first car is listed (the yard order's)."""
    pairs = np.stack([site, spec], axis=1).astype(np.int64).reshape(-1, 2)
    _, first = np.unique(pairs, axis=0, return_index=True)
    return row_table(pairs[np.sort(first)], 2)


def _vehicles(vins: _Vins, config: TwinConfig, world: World, day: int) -> dict[str, npt.NDArray[Any]]:
    network, specs = world.network, len(world.specs)
    dealers, yards = network.dealer_count, len(network.stockyards)
    window = config.operations.sales_window_days
    in_dealer_yard = vins.where(VehicleStatus.IN_YARD, SiteKind.DEALER)
    at_stockyard = vins.where(VehicleStatus.IN_YARD, SiteKind.STOCKYARD)
    pool = at_stockyard & (vins.dealer < 0)
    yard_ids = _ordered(np.flatnonzero(in_dealer_yard), vins.site, vins.received)
    pool_ids = _ordered(np.flatnonzero(pool), vins.site, vins.eta)
    # deliveries: a factory-order car was sold on arrival; a stock sale in the last two days (see module doc)
    reserved = np.flatnonzero(vins.status == VehicleStatus.RESERVED)
    sold_on_arrival = vins.customer_order[reserved] & (vins.received[reserved] >= 0)
    due = np.where(
        sold_on_arrival,
        np.floor(vins.received[reserved] + DELIVERY_DAYS),
        day + np.cumsum(~sold_on_arrival) % 2,
    )
    due = np.maximum(due, day)
    delivered = (vins.status == VehicleStatus.DELIVERED) & (vins.dealer >= 0)
    sale_day = np.floor(vins.delivered).astype(np.int64)
    in_window = delivered & (sale_day >= day - window) & (sale_day < day)
    window_ids = _ordered(np.flatnonzero(in_window), sale_day)
    on_the_way = np.isin(vins.status, (VehicleStatus.BUILT, VehicleStatus.IN_TRANSIT)) | at_stockyard
    inbound = on_the_way & (vins.dealer >= 0)
    pipeline = (
        np.isin(vins.status, (VehicleStatus.BUILT, VehicleStatus.IN_TRANSIT))
        & (vins.dealer < 0)
        & ~vins.customer_order
    )
    dealer_stock = vins.count(in_dealer_yard, vins.site, dealers, specs)
    dealer_inbound = vins.count(inbound, vins.dealer, dealers, specs)
    sales_28d = vins.count(in_window, vins.dealer, dealers, specs)
    yard_stock = vins.count(pool, vins.site, yards, specs)
    pipeline_by_spec = np.bincount(vins.spec[pipeline], minlength=specs).astype(np.int64)
    trunk_ids = np.flatnonzero(vins.on_trunk)
    _, trunk_token = np.unique(
        np.stack([vins.site[trunk_ids], vins.shipped[trunk_ids], vins.eta[trunk_ids]], axis=1),
        axis=0,
        return_inverse=True,
    )
    building = np.flatnonzero(vins.status == VehicleStatus.ORDERED)
    serials = [int(vin[-6:]) for vin in vins.frame["vin"].tolist() if vin[-6:].isdigit()]
    return {
        "dealer_yard_order": row_table(np.stack([vins.site[yard_ids], yard_ids], axis=1), 2),
        "stockyard_order": row_table(np.stack([vins.site[pool_ids], pool_ids], axis=1), 2),
        "dealer_yard_queues": _queues_in_order(vins.site[yard_ids], vins.spec[yard_ids]),
        "stockyard_queues": _queues_in_order(vins.site[pool_ids], vins.spec[pool_ids]),
        "deliveries_due": row_table(np.stack([due, reserved], axis=1), 2),
        "sales_window": row_table(
            np.stack(
                [sale_day[window_ids] - (day - window), vins.dealer[window_ids], vins.spec[window_ids]],
                axis=1,
            ),
            3,
        ),
        "sales_window_days": np.array([window], dtype=np.int64),
        "sales_28d": sales_28d,
        "dealer_inbound": dealer_inbound,
        "pipeline": pipeline_by_spec,
        "export_dealer_stock": dealer_stock.copy(),
        "export_dealer_inbound": dealer_inbound.copy(),
        "export_dealer_sales_28d": sales_28d.copy(),
        "export_yard_stock": yard_stock.copy(),
        "export_pipeline": pipeline_by_spec.copy(),
        "export_as_of_day": np.array([max(day - 1, 0)], dtype=np.int64),
        "trunks_on_road": row_table(
            np.stack(
                [
                    np.asarray(trunk_token).reshape(-1),
                    vins.site[trunk_ids],
                    trunk_ids,
                    np.maximum(vins.eta[trunk_ids], day),
                ],
                axis=1,
            ),
            4,
        ),
        "builds_in_progress": row_table(
            np.stack([building, np.where(vins.eta[building] >= 0, vins.eta[building], day)], axis=1), 2
        ),
        "vin_serial": np.array([max(len(vins.frame), max(serials, default=-1) + 1)], dtype=np.int64),
    }


def _carriers(vins: _Vins, config: TwinConfig, world: World, day: int) -> dict[str, npt.NDArray[Any]]:
    network = world.network
    period = config.operations.allocation_period_days
    queued = np.flatnonzero(vins.where(VehicleStatus.IN_YARD, SiteKind.STOCKYARD) & (vins.dealer >= 0))
    arrival = vins.eta[queued]
    # a stock car waits from the allocation cycle that gave it a dealer (0.60 into the day, every period)
    first_cycle = np.ceil((arrival - 0.60) / period) * period + 0.60
    last_cycle = ((day - 1) // period) * period + 0.60
    since = np.where(
        vins.customer_order[queued], arrival, np.maximum(arrival, np.minimum(first_cycle, last_cycle))
    )
    since_of = np.zeros(len(vins.frame))
    since_of[queued] = since
    queued = _ordered(queued, vins.dealer, since_of)
    load_ids = np.flatnonzero(vins.on_carrier)
    _, load_token = np.unique(
        np.stack([vins.site[load_ids], vins.shipped[load_ids]], axis=1), axis=0, return_inverse=True
    )
    load_dealer = vins.site[load_ids]
    # trucks that delivered a load and are driving back: free one loaded leg after the arrival
    leg = vins.received - vins.shipped
    returning = (vins.dealer >= 0) & (vins.shipped >= 0) & (leg > 0) & (vins.received + leg > day)
    trucks = np.unique(
        np.stack([vins.dealer[returning], vins.shipped[returning], vins.received[returning]], axis=1), axis=0
    ).reshape(-1, 3)
    truck_dealer = trucks[:, 0].astype(np.int64)
    return {
        "dispatch_queue": row_table(np.stack([vins.dealer[queued], queued, since_of[queued]], axis=1), 3),
        "loads_waiting": row_table([], 5),
        "loads_on_road": row_table(
            np.stack(
                [
                    np.asarray(load_token).reshape(-1),
                    load_dealer,
                    network.vehicle_carrier[load_dealer],
                    load_ids,
                    np.maximum(vins.eta[load_ids], day),
                    np.maximum(vins.eta[load_ids] - vins.shipped[load_ids], 0.0),
                ],
                axis=1,
            ),
            6,
        ),
        "trucks_returning": row_table(
            np.stack(
                [network.vehicle_carrier[truck_dealer], trucks[:, 2] + (trucks[:, 2] - trucks[:, 1])], axis=1
            ),
            2,
        ),
        "lane_credit": np.zeros(network.dealer_count),
    }


def _production(
    arrays: dict[str, npt.NDArray[Any]], demand: DemandModel, config: TwinConfig, world: World, day: int
) -> dict[str, npt.NDArray[Any]]:
    """The period's build plan: none when the fork starts a period (the engine plans), else the policy's."""
    period = config.operations.allocation_period_days
    if day % period == 0:
        return {"build_plan": row_table([], 3), "build_plan_days": np.array([0], dtype=np.int64)}
    operations, network, specs = config.operations, world.network, world.specs
    view = VehicleView(
        day=day,
        as_of_day=day,
        dealer_stock=read_only(arrays["vehicles:export_dealer_stock"].astype(np.int32)),
        dealer_inbound=read_only(arrays["vehicles:dealer_inbound"].astype(np.int32)),
        dealer_sales_28d=read_only(arrays["vehicles:sales_28d"].astype(np.int32)),
        sales_window_days=operations.sales_window_days,
        dealer_capacity=read_only(network.dealers.capacity_vehicles),
        dealer_stockyard=read_only(network.dealers.stockyard),
        spec_model=read_only(specs.model),
        spec_variant=read_only(specs.variant),
        spec_colour=read_only(specs.colour),
        yard_stock=read_only(arrays["vehicles:export_yard_stock"].astype(np.int32)),
        pipeline=read_only(arrays["vehicles:pipeline"].astype(np.int32)),
        factory_lead_time_days=read_only(_factory_lead_time_days(config, world)),
        plan_daily_retail=read_only(
            operations.planned_conversion * demand.expected_customers_by_spec(day + PLAN_LOOKAHEAD_DAYS)
        ),
        spec_price_inr=read_only(specs.price_inr),
    )
    business = {
        "margin_share": operations.vehicle_margin_share,
        "floor_plan_rate_per_year": operations.floor_plan_rate_per_year,
    }
    allocation = build_component(config.policy.allocation, context=business, key="policy.allocation")
    plan = np.asarray(allocation.plan_production(view, period), dtype=np.int64)
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, day, 0x11FE]))
    built = np.repeat(np.arange(plan.size), plan)
    rng.shuffle(built)
    # stock builds go to the yards whose dealers sell the model, as the engine sends them
    sales_by_yard = np.zeros((len(network.stockyards), len(specs)))
    np.add.at(sales_by_yard, network.dealers.stockyard, np.asarray(view.dealer_sales_28d))
    weight = sales_by_yard[:, built].T + 1e-9
    cumulative = np.cumsum(weight, axis=1)
    yards = (cumulative < rng.random(built.size)[:, None] * cumulative[:, -1:]).sum(axis=1)
    offsets = np.arange(built.size) % period
    return {
        "build_plan": row_table(np.stack([offsets, built, yards], axis=1), 3),
        "build_plan_days": np.array([period], dtype=np.int64),
    }


def _factory_lead_time_days(config: TwinConfig, world: World) -> FloatArray:
    """Per dealer, as ``VehicleFlow`` quotes it: build, trunk, car carrier and the wait for a full load."""
    network, operations = world.network, config.operations
    yard_to_dealer_days = (
        network.yard_to_dealer_km() / network.carriers.speed_km_per_day[network.vehicle_carrier]
        + operations.dc_dispatch_delay_days
    )
    return np.asarray(
        operations.factory_order_build_days
        + operations.plant_to_stockyard_days
        + yard_to_dealer_days
        + operations.carrier_max_wait_days,
        dtype=np.float64,
    )


def _kpis(vins: _Vins, config: TwinConfig, world: World, day: int) -> dict[str, npt.NDArray[Any]]:
    days, regions = config.horizon_days, len(world.region_names)
    ages = day - vins.received[vins.where(VehicleStatus.IN_YARD, SiteKind.DEALER)]
    age_stats = (
        [float((ages > 60).mean()), float((ages > 90).mean()), float(ages.mean())] if ages.size else [0.0] * 3
    )
    return {
        "daily": np.zeros((days, len(DAILY_COLUMNS))),
        "by_region": np.zeros((days, regions, len(REGION_COLUMNS))),
        "class_lines": np.zeros((days, len(PART_CLASSES))),
        "class_first_pick_lines": np.zeros((days, len(PART_CLASSES))),
        "pending_day": np.zeros(0, dtype=np.int64),
        "pending_name": np.zeros(0, dtype=np.str_),
        "pending_value": np.zeros(0, dtype=np.float64),
        "age_stats": np.array(age_stats, dtype=np.float64),
        "recorded_through_day": np.array([day - 1], dtype=np.int64),
    }
