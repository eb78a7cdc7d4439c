"""One twin run: validate -> build -> check wiring -> run the SimPy clock -> finalize into a ``RunResult``.

Build: each engine component is constructed with what it uses (the clock, its config section, network tables
and derived arrays, the services it calls, its policies), never with the run; collaborations that go both
ways (parts logistics -> control tower and rebalancing, vehicle flow <-> customer orders, campaigns and
settlement) are wired after construction by ``connect``, each through a Protocol its caller declares, so the
engine's imports stay acyclic (``tests/test_architecture.py``).

Daily phases (same-time events keep SimPy's deterministic order):
  d+0.00 vehicle customers of day d start arriving (spread over the day)
  d+0.05 parts consignments and emergency deliveries due today are received
  d+0.10 plants build the day's stock vehicles
  d+0.12 campaigns: positioning builds for campaigns ahead (with ``policy.campaign.enabled``)
  d+0.25 parts: repairs finish / pickups leave, the day's demand lines are filled, short lines escalate
  d+0.06 dealer-to-dealer transfers and dealer trades that arrived this morning are settled
  d+0.60 vehicle allocation cycle (every ``allocation_period_days``)
  d+0.65 vehicle rebalancing cycle (every ``policy.transfers.vehicle_period_days``)
  d+0.70 parts rebalancing cycle (with ``policy.transfers.enabled``): recommend, decide, ship
  d+0.75 parts policy cycle: replenishment orders, DC fill, carrier capacity, consignments leave
  d+0.78 control tower: stock-out risk of changed dealer-SKUs given tonight's consignments, alerts
  d+0.80 car-carrier loads are formed and dispatched
  d+0.90 vehicles sold two days ago are handed over to their customers
  d+0.95 KPIs of day d are recorded; the OEM's export refreshes on its own cycle (vehicles every
         ``policy.visibility_refresh_days``; dealers' parts positions on the export weekday, when
         ``operations.parts_visibility=weekly_export``)
  d+0.96 campaigns: stock measured on the eve of a start and on a campaign's last day
  d+0.97 settlement: the day's freight posted, invoices reconciled, claims verified, cycles closed
Car-carrier loads and trunk movements arrive whenever their stochastic transit ends.
"""

from __future__ import annotations

import datetime as dt
import operator
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import simpy
from threadpoolctl import threadpool_limits

from twin.components import build_component, load_world
from twin.config import TwinConfig, validate
from twin.domain.parts import PartsState
from twin.domain.state import NetworkState
from twin.domain.state_schema import row_table, table_rows
from twin.domain.textbook_tables import read_lead_times
from twin.domain.world import World
from twin.engine.campaigns import CampaignFlow
from twin.engine.control_tower import ControlTower
from twin.engine.customer_orders import CustomerOrders
from twin.engine.dealer_queries import DealerQueries
from twin.engine.dealer_transfers import RebalancingFlow
from twin.engine.demand import DemandModel
from twin.engine.eventlog import EventLog
from twin.engine.kpis import KpiRecorder
from twin.engine.parts_export import PartsExport
from twin.engine.parts_flow import PartsFlow
from twin.engine.parts_logistics import PartsLogistics
from twin.engine.parts_view import PartsHistory, PartsViewBuilder
from twin.engine.scenario_effects import ScenarioEffects
from twin.engine.settlement_posting import SettlementFlow
from twin.engine.snapshot import (
    IN_FLIGHT,
    OwnState,
    StateOwner,
    capture,
    check_continuation,
    dimensions_of,
    restore,
    resume_in_flight,
    resume_truck_claims,
    run_identity,
)
from twin.engine.streams import RandomStreams
from twin.engine.transit import TransitTimes
from twin.engine.vehicle_flow import VehicleFlow
from twin.engine.vehicle_watch import VehicleWatch
from twin.errors import ConfigError
from twin.policies.network_sourcing import NetworkSearch
from twin.policies.observation import PartsView
from twin.policies.protocols import (
    ReplenishmentPolicy,
    SourcingPolicy,
    TransferPolicy,
    VehicleAllocationPolicy,
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
ProgressCallback = Callable[[int, int, int], None]


#: more event ids than any run schedules (a C-level range iterator stands in for SimPy's ``count()``)
EVENT_ID_LIMIT = 2**62


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that counts processed events (for the events/s progress figure).

    Counted without a Python frame per event: SimPy numbers every scheduled event from ``_eid`` and keeps
    the ones not yet processed in ``_queue``, so processed = numbered - queued. The numbering is a range
    iterator, whose remaining length tells how many ids it gave out (``itertools.count`` has no reading)."""

    def __init__(self, initial_time: float = 0) -> None:
        super().__init__(initial_time)
        self._eid = iter(range(EVENT_ID_LIMIT))  # type: ignore[assignment]

    @property
    def processed_events(self) -> int:
        return EVENT_ID_LIMIT - operator.length_hint(self._eid) - len(self._queue)


@dataclass
class RunResult:
    config: TwinConfig
    summary: dict[str, float]
    daily: pd.DataFrame
    daily_by_region: pd.DataFrame
    cost_breakdown: dict[str, float]
    final_age_in_yard_days: npt.NDArray[np.float64]
    event_log: list[tuple[float, str, dict[str, Any]]]
    wall_seconds: float
    processed_events: int
    simulation: Simulation


class Simulation:
    def __init__(
        self,
        config: TwinConfig,
        world: World | None = None,
        replenishment: ReplenishmentPolicy | None = None,
        allocation: VehicleAllocationPolicy | None = None,
        sourcing: SourcingPolicy | None = None,
        demand: DemandModel | None = None,
        snapshot: NetworkState | None = None,
        approval_decisions: dict[int, bool] | None = None,
    ) -> None:
        """Build a run; with ``snapshot`` the state (and clock) are taken from it instead of generated, and
        ``approval_decisions`` (people's decisions on its waiting approvals, twin.engine.approvals) applied."""
        self.config = validate(config)
        if snapshot is None and config.start_from_snapshot:
            # the folder is read by the entry points (it may be a shadow's live state to convert): a run
            # built without it would quietly start from a new network on day 0
            raise ConfigError(
                "start_from_snapshot",
                config.start_from_snapshot,
                "is loaded by twin.live.to_network_state.load_start_state(config); pass its state as "
                "Simulation(start.config, snapshot=start.state, approval_decisions=start.approval_decisions)",
            )
        self.world = world if world is not None else load_world(config)
        self.start_date = dt.date.fromisoformat(config.start_date)
        self.streams = RandomStreams(config.seed)
        self.start_day = snapshot.day if snapshot is not None else 0
        if not 0 <= self.start_day < config.horizon_days:
            raise ConfigError(
                "snapshot.day", self.start_day, f"must be inside the horizon (0..{config.horizon_days - 1})"
            )
        self.env = CountingEnvironment(initial_time=self.start_day)
        self.event_log = EventLog(enabled=config.event_log)
        operations = config.operations
        demand_settings = {**asdict(config.demand)}
        self.demand: DemandModel = demand if demand is not None else build_component(demand_settings)
        # the dealer-specific SKU mix is part of the network, not of a replication: seeded by the generator seed
        self.effects = ScenarioEffects(config.scenario, self.world, config.network.generator_seed)
        self.effects.warn_outside(config.horizon_days)
        self.demand.bind(
            self.world,
            self.start_date,
            np.random.default_rng(np.random.SeedSequence([config.network.generator_seed, 1])),
            self.effects,
        )
        self.replenishment: ReplenishmentPolicy = replenishment or build_component(
            config.policy.replenishment, key="policy.replenishment"
        )
        #: facts of the business that valuing policies take (see ``build_component``)
        business = {
            "margin_share": operations.vehicle_margin_share,
            "floor_plan_rate_per_year": operations.floor_plan_rate_per_year,
        }
        self.allocation: VehicleAllocationPolicy = allocation or build_component(
            config.policy.allocation, context=business, key="policy.allocation"
        )
        self.sourcing: SourcingPolicy = sourcing or build_component(
            config.policy.sourcing, key="policy.sourcing"
        )
        self.kpis = KpiRecorder(
            config.horizon_days, self.world.region_names, self.world.dealer_region, self.start_date
        )

        network = self.world.network
        self.dealers = network.dealer_count
        self.skus = len(self.world.parts)
        self.unit_cost = self.world.parts.unit_cost_inr
        self.part_class = self.world.parts.part_class
        parts_carriers = network.carriers
        lane = network.parts_carrier
        self.dc_to_dealer_km = network.dc_to_dealer_km()
        self.dealer_lead_time_days = (
            operations.dc_dispatch_delay_days + self.dc_to_dealer_km / parts_carriers.speed_km_per_day[lane]
        )
        lane_lead_times = self._lane_lead_times()
        listed_dealers = lane_lead_times[0] < self.dealers
        self.dealer_lead_time_days[lane_lead_times[0][listed_dealers]] = lane_lead_times[1][listed_dealers]
        self.dealer_lead_time_sd_days = self.dealer_lead_time_days * operations.transit_time_cv
        self._check_supply_wiring()

        # lane noise is drawn up front, so it depends only on the seed (and survives a snapshot)
        self.transit = TransitTimes(
            network, operations.transit_time_cv, config.horizon_days, self.streams, self.effects
        )
        env, kpis, log, streams, effects = self.env, self.kpis, self.event_log, self.streams, self.effects
        self.parts = PartsFlow(
            PartsState.zeros(network.location_count, self.skus),
            self.part_class,
            shortage=operations.dealer_shortage,
            pool_of_dealer=self._lateral_pools(),
        )
        self.parts_history = PartsHistory(
            np.zeros((self.dealers, self.skus)), np.zeros((self.dealers, self.skus))
        )
        self.settlement = SettlementFlow(
            env, config.settlement, operations, self.world, streams, self.dc_to_dealer_km
        )
        #: the OEM's DMS export of dealers' parts positions; None with the live feed (the default)
        self.parts_export = (
            PartsExport(
                self.parts,
                self.dealers,
                self.start_date,
                operations.parts_export_weekday,
                operations.parts_export_period_days,
            )
            if operations.parts_visibility == "weekly_export"
            else None
        )
        self.logistics = PartsLogistics(
            env, self.parts, network, operations, self.demand, effects, self.transit, streams,
            self.replenishment, self.settlement, kpis, log, self.unit_cost, self.dealer_lead_time_days,
            self.dc_to_dealer_km, export=self.parts_export,
        )  # fmt: skip
        listed_dcs = ~listed_dealers
        self.logistics.supplier_lead_time_days[lane_lead_times[0][listed_dcs] - self.dealers] = (
            lane_lead_times[1][listed_dcs]
        )
        self.vehicles = VehicleFlow(
            env, self.world, operations, self.start_date, self.demand, effects, self.transit,
            self.allocation, self.sourcing, self.settlement, kpis, log,
        )  # fmt: skip
        #: Astra's forecasts and stock-out alerts; None in the baseline world, which has neither
        self.control_tower = (
            self._build_control_tower()
            if config.policy.forecast.enabled
            or config.policy.alerts.enabled
            or self.replenishment.needs_forecast
            else None
        )
        self.parts_views = PartsViewBuilder(
            env, self.parts, network, self.unit_cost, self.parts_history, self.dealer_lead_time_days,
            self.dealer_lead_time_sd_days, operations.supplier_lead_time_days, self.logistics.inbound_eta_day,
            self.control_tower.forecaster if self.control_tower is not None else None, effects,
            export=self.parts_export, open_orders=self.logistics.open_orders,
            backorders_owed_from_shelf=operations.dealer_shortage == "backorder",
            location_ids=self.location_ids(), sku_ids=tuple(str(sku) for sku in self.world.parts.sku_id),
            dc_supplier_lead_time_days=self.logistics.supplier_lead_time_days,
        )  # fmt: skip
        #: Astra's dealer-to-dealer parts transfers; None unless policy.transfers.enabled
        self.rebalancing = (
            self._build_rebalancing(build_component(config.policy.transfers, key="policy.transfers"))
            if config.policy.transfers.enabled
            else None
        )
        #: network fulfilment of customer orders (Atlas); None unless the sourcing policy searches the network
        search = self.sourcing.network_search
        self.customer_orders = self._build_customer_orders(search) if search is not None else None
        if config.policy.campaign.enabled and not config.scenario.campaigns:
            warnings.warn(
                f"policy.campaign.enabled=true but scenario {config.scenario.name!r} has no campaigns: "
                "nothing is positioned",
                stacklevel=2,
            )
        #: campaigns' positioning and outcome; None when the scenario has no campaign. The policy is built
        #: twice: the yardstick every arm is measured against, and (when enabled) the one that positions
        campaign = config.policy.campaign
        self.campaigns = (
            CampaignFlow(
                env,
                self.world,
                effects,
                campaign,
                operations,
                config.horizon_days,
                self.demand,
                self.vehicles,
                self.allocation,
                log,
                build_component(campaign, context=business, key="policy.campaign")
                if campaign.enabled
                else None,
                yardstick=build_component(campaign, context=business, key="policy.campaign"),
            )
            if config.scenario.campaigns
            else None
        )
        #: dealers' questions and who answers them; None unless queries.enabled (reads the others, writes none)
        self.queries = self._build_queries() if config.queries.enabled else None
        # the late wiring of collaborations that run both ways (the callee is built after its caller)
        self.logistics.connect(self.parts_views.build, self.control_tower, self.rebalancing)
        self.vehicles.connect(self.customer_orders, self.campaigns)
        if self.customer_orders is not None:
            self.customer_orders.connect(self.campaigns)
        self.settlement.connect(self.vehicles)
        self._progress: ProgressCallback | None = None
        #: wall seconds spent in each daily phase (the rest is SimPy events: customers, loads, trunks)
        self.phase_seconds: dict[str, float] = {}
        self.build_plan: list[tuple[IntArray, IntArray]] = []
        self._started = False
        #: a restored state whose half-way timed steps (builds, trunks, loads) are not yet restarted
        self.pending_resume: NetworkState | None = None
        #: what this run continues from when it was started from a snapshot with other settings (a what-if)
        self.forked_from: dict[str, object] | None = None
        if snapshot is None:
            self._seed_parts_state()
            self.vehicles.seed_initial_stock(
                config.network.vehicles_per_dealer, self.streams.get("initial_vehicles")
            )
            if self.control_tower is not None:
                self.control_tower.prime(self.parts_history.lines_per_year)
            self._export_opening_position()
        else:
            self._restore(snapshot)
            if approval_decisions:
                self._apply_decisions(approval_decisions)
            # demand rates are derived state: re-apply the supersessions that happened before the snapshot
            for day in range(self.start_day):
                for old_sku, new_sku in self.effects.supersessions_on(day):
                    self.demand.supersede(old_sku, new_sku)
        self.parts_initial_units = (
            self.parts.state.units_in_network() - self.parts.received_from_suppliers + self.parts.consumed
        )

    # -- build ----------------------------------------------------------------------------------------
    def location_ids(self) -> tuple[str, ...]:
        """The id of every parts location row: dealer ids, then the DCs' site ids."""
        network = self.world.network
        return tuple(str(name) for name in (*network.dealers.dealer_id, *network.parts_dcs.site_id))

    def _lane_lead_times(self) -> tuple[IntArray, npt.NDArray[np.float64]]:
        """``operations.lead_times_path``: the listed locations and their lead times (none without a table)."""
        path = self.config.operations.lead_times_path
        if not path:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        ids = self.location_ids()
        return read_lead_times(path, {name: index for index, name in enumerate(ids)})

    def _lateral_pools(self) -> IntArray | None:
        """Each dealer's pool for lateral fills at the moment of demand (``operations.lateral_pool``)."""
        pool = self.config.operations.lateral_pool
        if pool == "none":
            return None
        if pool == "region":
            return np.asarray(self.world.dealer_region, dtype=np.int64)
        if pool == "dc":
            return np.asarray(self.world.network.dealers.parts_dc, dtype=np.int64)
        return np.zeros(self.world.network.dealer_count, dtype=np.int64)

    def _build_control_tower(self) -> ControlTower:
        config = self.config
        alerts = config.policy.alerts
        vehicle_watch = VehicleWatch(
            self.vehicles, self.world, self.demand, config.horizon_days, config.warmup_days, self.start_day,
            np.asarray(alerts.horizons_days, dtype=float), alerts.risk_threshold,
        )  # fmt: skip
        return ControlTower(
            self.env, config.policy.forecast, alerts, self.replenishment.phase_in_lines_per_year,
            config.warmup_days, config.horizon_days, self.dealers, self.parts, self.logistics.inbound_eta_day,
            self.dealer_lead_time_sd_days, self.demand, vehicle_watch, self.streams, self.kpis, self.event_log,
            export=self.parts_export,
        )  # fmt: skip

    def _build_rebalancing(self, policy: TransferPolicy) -> RebalancingFlow:
        config = self.config
        return RebalancingFlow(
            self.env, config.policy.transfers, policy, config.operations, self.world, config.network.generator_seed,
            self.parts, self.logistics, self.parts_views.build_oem, self.unit_cost, self.transit, self.vehicles,
            self.settlement, self.streams, self.kpis, self.event_log, export=self.parts_export,
        )  # fmt: skip

    def _build_customer_orders(self, search: NetworkSearch) -> CustomerOrders:
        config = self.config
        return CustomerOrders(
            self.env, search, config.operations, self.world.network,
            config.network.generator_seed, config.settlement.vehicle_transfer_handling_fee_inr, self.vehicles,
            self.transit, self.settlement, self.streams, self.kpis, self.event_log,
        )  # fmt: skip

    def _build_queries(self) -> DealerQueries:
        config = self.config
        reader = None
        if config.queries.answered_by == "clara":
            from twin.engine.dealer_queries import twin_reader

            reader = twin_reader(self.world)
        kept = {"transfers": self.rebalancing, "tower": self.control_tower, "campaigns": self.campaigns}
        return DealerQueries(
            self.env, config.queries, config.operations, self.world, self.start_date, config.horizon_days,
            config.warmup_days, self.vehicles, self.parts, self.logistics,
            self.settlement if self.settlement.enabled else None, self.demand.parts_rate_lines_per_day,
            self.streams, self.event_log, reader,
            frozenset(name for name, component in kept.items() if component is not None), self.rebalancing,
        )  # fmt: skip

    def _check_supply_wiring(self) -> None:
        """Every stocked SKU has a supplier (its dealer's DC) and every model a plant."""
        model_plant = self.world.specs.model_plant
        missing = np.flatnonzero(model_plant < 0)
        if missing.size:
            raise ConfigError(
                "vehicle_specs.plant_id",
                self.world.specs.model_names[int(missing[0])],
                "model has no building plant",
            )

    def _seed_parts_state(self) -> None:
        """History (a 12-month DMS export) and opening stock: part of the world, not of a policy."""
        rng = self.streams.get("parts_history")
        rate = self.demand.parts_rate_lines_per_day
        history = self.parts_history
        history.lines_per_year = rng.poisson(rate * 365.0).astype(np.float64)
        history.units_per_day = history.lines_per_year * self.demand.units_per_line_mean[None, :] / 365.0
        opening = self.config.operations
        stocked = history.lines_per_year >= opening.opening_stocked_lines_per_year
        cover_days = rng.uniform(
            opening.opening_cover_days_min, opening.opening_cover_days_max, size=rate.shape
        )
        state = self.parts.state
        # parts that are no longer stocked often still sit on the shelf: obsolete stock from past phase-outs
        dead_stock = (rng.random(rate.shape) < opening.opening_obsolete_stock_share) * rng.integers(
            1, 4, size=rate.shape
        )
        state.on_hand[: self.dealers] = np.where(
            stocked, np.ceil(history.units_per_day * cover_days), dead_stock
        ).astype(np.int32)
        dealer_dc = self.world.network.dealers.parts_dc
        for dc in range(len(self.world.network.parts_dcs)):
            daily = history.units_per_day[dealer_dc == dc].sum(axis=0)
            state.on_hand[self.dealers + dc] = np.ceil(daily * self.config.operations.dc_cover_days).astype(
                np.int32
            )

    # -- state -----------------------------------------------------------------------------------------
    def state_owners(self) -> list[tuple[str, StateOwner]]:
        """Every component with its section of the state (``twin.domain.state``), in restore order."""
        owners: list[tuple[str, StateOwner]] = [
            ("parts", self.parts),
            ("logistics", self.logistics),
            ("demand_history", self.parts_history),
            ("vehicles", self.vehicles),
            ("carriers", self.vehicles.carriers),
            ("production", OwnState(self._build_plan_arrays, self._load_build_plan_arrays)),
            ("kpis", self.kpis),
        ]
        optional: list[tuple[str, StateOwner | None]] = [
            ("tower", self.control_tower),
            ("settlement", self.settlement if self.settlement.enabled else None),
            ("transfers", self.rebalancing),
            ("orders", self.customer_orders),
            ("campaigns", self.campaigns),
            ("oem_export", self.parts_export),
            ("queries", self.queries),
        ]
        return owners + [(name, owner) for name, owner in optional if owner is not None]

    def snapshot(self) -> NetworkState:
        """The whole state at the current day boundary (call between ``advance`` calls)."""
        state = capture(
            self.env.now,
            self.config.seed,
            self.state_owners(),
            self.vehicles,
            dimensions_of(self.world, self.config.horizon_days),
            run_identity(self.config, self.world),
            {name: state for name, state in self.streams.state().items()},
        )
        if (
            self.pending_resume is not None
        ):  # restored but not yet advanced: the in-flight steps are still data
            for section, name in IN_FLIGHT:
                key = f"{section}:{name}"
                state.arrays[key] = self.pending_resume.arrays[key].copy()
        if self.forked_from is not None:
            state.provenance["forked_from"] = self.forked_from
        return state

    def _restore(self, state: NetworkState) -> None:
        differences = check_continuation(state, self.config, self.world)
        fresh = restore(self.state_owners(), self.vehicles, state)
        if state.seed == self.config.seed:
            self.streams.restore(state.streams)  # a fork with its own seed draws a future of its own
        # a state built from live feeds estimates what they do not report: it is always a what-if
        estimated = state.provenance.get("estimated", [])
        if differences or fresh or estimated:
            self.forked_from = {
                "snapshot": self.config.start_from_snapshot,
                "day": state.day,
                "differences": differences,
                "started_fresh": fresh,
                **({"estimated": estimated} if estimated else {}),
            }
            warnings.warn(
                f"forked from the snapshot of day {state.day}: {len(differences)} setting(s) differ"
                + (f", {', '.join(fresh)} start fresh" if fresh else "")
                + (f", {len(estimated)} part(s) of the state estimated" if estimated else ""),
                stacklevel=3,
            )
        if "tower" in fresh and self.control_tower is not None:
            self.control_tower.prime(self.parts_history.lines_per_year)
        if "oem_export" in fresh:  # a fork into the weekly-export world starts from an export of the eve
            self._export_opening_position(state.day - 1)
        self.pending_resume = state

    def _apply_decisions(self, decisions: dict[int, bool]) -> None:
        """People decided some of the state's waiting approvals (in Atlas): the run continues with them."""
        if self.rebalancing is None:
            raise ConfigError(
                "policy.transfers.enabled",
                False,
                "the state's approvals were decided in Atlas: run with transfers",
            )
        applied = self.rebalancing.apply_decisions(decisions)
        self.forked_from = {
            **(self.forked_from or {"snapshot": self.config.start_from_snapshot, "day": self.start_day}),
            "approval_decisions": applied,
        }

    def _build_plan_arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        rows = [
            (offset, spec, yard)
            for offset, (specs, yards) in enumerate(self.build_plan)
            for spec, yard in zip(specs.tolist(), yards.tolist(), strict=True)
        ]
        return {"build_plan": row_table(rows, 3), "build_plan_days": np.array([len(self.build_plan)])}

    def _load_build_plan_arrays(self, arrays: dict[str, npt.NDArray[np.generic]]) -> None:
        plan = np.asarray(table_rows(arrays["build_plan"]), dtype=np.int64).reshape(-1, 3)
        self.build_plan = [  # a plan of empty days is still a plan
            (plan[plan[:, 0] == offset, 1], plan[plan[:, 0] == offset, 2])
            for offset in range(int(np.asarray(arrays["build_plan_days"])[0]))
        ]

    def _export_opening_position(self, day: int = -1) -> None:
        """The OEM's first picture of dealers: the position at the start (an export of the eve)."""
        if self.parts_export is not None:
            tower = self.control_tower
            self.parts_export.refresh(
                day, self.logistics.inbound_eta_day, tower.in_stockout if tower is not None else None
            )

    def _export_parts(self, day: int) -> None:
        """The DMS export of dealers' parts positions runs overnight on its day; the tower learns from it."""
        export = self.parts_export
        if export is None or not export.is_export_day(day):
            return
        tower = self.control_tower
        changed = export.refresh(
            day, self.logistics.inbound_eta_day, tower.in_stockout if tower is not None else None
        )
        if tower is not None:
            tower.export_landed(changed)

    # -- views ----------------------------------------------------------------------------------------
    def parts_view(self) -> PartsView:
        """The parts policies' read-only picture of the network now."""
        return self.parts_views.build()

    # -- processes ------------------------------------------------------------------------------------
    def _daily(self, name: str, offset: float, action: Callable[[int], None], every_days: int = 1):
        """Run ``action(day)`` at ``day + offset`` every ``every_days``; wall time is kept per phase."""
        yield self.env.timeout(offset)
        day = self.start_day
        clock = time.perf_counter
        while day < self.config.horizon_days:
            if day % every_days == 0:
                started = clock()
                action(day)
                self.phase_seconds[name] = self.phase_seconds.get(name, 0.0) + clock() - started
            day += 1
            yield self.env.timeout(1.0)

    def _customers_of(self, day: int) -> None:
        batch = self.demand.vehicle_customers(day, self.streams.get("vehicle_customers"))
        if self.control_tower is not None:
            self.control_tower.vehicle_watch.customers_sampled(day, batch)
        self.env.process(self.vehicles.customers(day, batch))

    def _production(self, day: int) -> None:
        period = self.config.operations.allocation_period_days
        if day % period == 0:
            plan = self.allocation.plan_production(self.vehicles.current_view(), period)
            specs = np.repeat(np.arange(plan.size), plan)
            rng = self.streams.get("production")
            rng.shuffle(specs)
            yards = self._yard_for_builds(specs, rng)
            self.build_plan = [(specs[offset::period], yards[offset::period]) for offset in range(period)]
        specs, yards = self.build_plan[day % period]
        self.vehicles.build_stock(
            [(specs[yards == yard].tolist(), yard) for yard in np.unique(yards).tolist()]
        )

    def _yard_for_builds(self, specs: IntArray, rng: np.random.Generator) -> IntArray:
        """Stock builds go to the yards whose dealers sell the model (trailing 28 days)."""
        view = self.vehicles.current_view()
        yards = len(self.world.network.stockyards)
        sales, stockyard_of = view.dealer_sales_28d, self.world.network.dealers.stockyard
        sales_by_yard = np.zeros((yards, sales.shape[1]))
        for yard in range(yards):  # whole numbers: exact in any order (np.add.at of the rows took ~17 ms)
            sales_by_yard[yard] = sales[stockyard_of == yard].sum(axis=0, dtype=np.int64)
        weight = sales_by_yard[:, specs].T + 1e-9
        cumulative = np.cumsum(weight, axis=1)
        draws = rng.random(specs.size)[:, None] * cumulative[:, -1:]
        return (cumulative < draws).sum(axis=1).astype(np.int64)

    def _record_day(self, day: int) -> None:
        kpis, state, operations = self.kpis, self.parts.state, self.config.operations
        kpis.flush_counts(day)
        # stock is what is on the shelf and not yet sold: units reserved for a counter pickup were sold (and
        # costed) when the order was filled, so they count in COGS and not again in stock. Whole units held
        # exactly in float64: the valuation is then one BLAS product, no integer-to-float copy of the array
        stock = state.on_hand.astype(np.float64)
        stock -= state.reserved
        dealer_value = stock[: self.dealers] @ self.unit_cost
        dc_value = float((stock[self.dealers :] @ self.unit_cost).sum())
        kpis.set(day, "parts_dealer_stock_value_inr", float(dealer_value.sum()))
        kpis.set(day, "parts_dc_stock_value_inr", dc_value)
        kpis.set(day, "parts_dealer_stock_units", float(stock[: self.dealers].sum()))
        owed = float(self.logistics.outstanding_backorder_units)
        kpis.set(day, "parts_backorder_units", owed)
        kpis.set(day, "parts_backorder_penalty_inr", owed * operations.backorder_penalty_inr_per_unit_day)
        kpis.set(day, "parts_dc_backorder_units", float(-self.logistics.open_orders[self.dealers :].sum()))
        kpis.set(
            day,
            "holding_cost_inr",
            (float(dealer_value.sum()) + dc_value) * operations.parts_holding_rate_per_year / 365.0,
        )
        kpis.set_by_region(day, "parts_dealer_stock_value_inr", dealer_value)
        vehicles = self.vehicles
        vehicle_value = float(vehicles.dealer_stock_value_inr.sum())
        kpis.set(day, "vehicle_dealer_stock", float(vehicles.dealer_stock.sum(dtype=np.int64)))
        kpis.set(day, "vehicle_dealer_stock_value_inr", vehicle_value)
        kpis.set(day, "vehicle_stockyard_stock", float(vehicles.yard_stock.sum(dtype=np.int64)))
        kpis.set(day, "floor_plan_interest_inr", vehicle_value * operations.floor_plan_rate_per_year / 365.0)
        kpis.set_by_region(day, "vehicle_dealer_stock", vehicles.dealer_stock.sum(axis=1).astype(np.float64))
        if day % 7 == 0 or day == self.config.horizon_days - 1:
            ages = vehicles.sorted_ages_in_dealer_yards()  # sorted: the mean must not depend on yard order
            kpis.age_stats = (
                float((ages > 60).mean()) if ages.size else 0.0,
                float((ages > 90).mean()) if ages.size else 0.0,
                float(ages.mean()) if ages.size else 0.0,
            )
        kpis.set(day, "vehicle_age_share_over_60d", kpis.age_stats[0])
        kpis.set(day, "vehicle_age_share_over_90d", kpis.age_stats[1])
        kpis.set(day, "vehicle_age_mean_days", kpis.age_stats[2])
        kpis.set_by_region(day, "vehicle_deliveries", vehicles.deliveries_today)
        vehicles.deliveries_today[:] = 0.0
        vehicles.roll_sales_window()
        if (day + 1) % self.config.policy.visibility_refresh_days == 0:
            vehicles.view = vehicles.export_view()
        kpis.recorded_through_day = day
        if self._progress is not None:
            self._progress(day + 1, self.config.horizon_days, self.env.processed_events)

    # -- run ------------------------------------------------------------------------------------------
    def run(
        self,
        progress: ProgressCallback | None = None,
        snapshot_days: Sequence[int] = (),
        snapshot_dir: Path | None = None,
    ) -> RunResult:
        """Run to the horizon; at the start of each of ``snapshot_days`` write a snapshot folder."""
        self._progress = progress
        started = time.perf_counter()
        for day in sorted(set(snapshot_days)):
            if not self.start_day <= day < self.config.horizon_days:
                raise ConfigError(
                    "snapshot_days", day, f"must be in {self.start_day}..{self.config.horizon_days - 1}"
                )
            if snapshot_dir is None:
                raise ConfigError("snapshot_dir", None, "snapshot days need a folder to write to")
            self.advance(day)
            self.snapshot().save(snapshot_dir / f"day_{day:03d}")
        self.advance(self.config.horizon_days)
        return self.finish(time.perf_counter() - started)

    def advance(self, until_day: int) -> None:
        """Run the clock up to the start of ``until_day`` (nothing of that day has happened yet)."""
        if not self._started:
            self._start_processes()
        target = min(until_day, self.config.horizon_days)
        if target > self.env.now:
            # the engine's BLAS calls are small (a daily valuation, a day's matrix-vector products): a second
            # BLAS thread gains nothing and spins after each call, taking a core from parallel runs and tests
            with threadpool_limits(limits=1, user_api="blas"):
                self.env.run(until=target)

    def _start_processes(self) -> None:
        self._started = True
        allocation_period = self.config.operations.allocation_period_days
        env = self.env
        env.process(self._daily("vehicle_customers_sampled", 0.0, self._customers_of))
        env.process(self._daily("parts_received", 0.05, self.logistics.receive))
        if self.rebalancing is not None:
            env.process(self._daily("transfers_arrived", 0.06, self.rebalancing.arrivals))
        if self.customer_orders is not None:
            env.process(self._daily("dealer_trades_arrived", 0.06, self.customer_orders.settle_arrivals))
        env.process(self._daily("vehicles_built", 0.10, self._production))
        if self.campaigns is not None:
            env.process(self._daily("campaign_positioning", 0.12, self.campaigns.plan))
        env.process(self._daily("parts_demand", 0.25, self.logistics.demand_day))
        env.process(
            self._daily("vehicles_allocated", 0.60, lambda day: self.vehicles.allocate(), allocation_period)
        )
        if self.rebalancing is not None:
            transfers = self.config.policy.transfers
            env.process(self._daily("transfers_planned", 0.70, self.rebalancing.cycle, transfers.period_days))
            if self.rebalancing.vehicles is not None:
                env.process(
                    self._daily(
                        "vehicle_transfers_planned",
                        0.65,
                        self.rebalancing.vehicle_cycle,
                        transfers.vehicle_period_days,
                    )
                )
        env.process(self._daily("parts_replenished", 0.75, self.logistics.replenishment_cycle))
        if self.control_tower is not None:
            env.process(self._daily("stockout_risk_assessed", 0.78, self.control_tower.assess))
        env.process(
            self._daily("loads_dispatched", 0.80, lambda day: self.vehicles.carriers.dispatch_loads())
        )
        env.process(self._daily("vehicles_delivered", 0.90, self.vehicles.deliver_due))
        env.process(self._daily("kpis_recorded", 0.95, self._record_day))
        if self.parts_export is not None:
            env.process(self._daily("parts_exported", 0.95, self._export_parts))
        if self.campaigns is not None:
            env.process(self._daily("campaign_measured", 0.96, self.campaigns.measure))
        env.process(self._daily("settled", 0.97, self.settlement.settle_day))
        if self.queries is not None:
            self.queries.start(self.start_day)
            env.process(self._daily("queries_asked", 0.01, self.queries.plan_day))
            env.process(self._daily("queries_events", 0.955, self.queries.scan))
        # order matters for the truck queue: trucks already out, then the disruptions' holds and the waiting
        # loads in the order they claimed trucks
        if self.pending_resume is not None:
            resume_in_flight(self.vehicles, self.pending_resume)
        if self.rebalancing is not None:
            self.rebalancing.resume()
        if self.customer_orders is not None:
            self.customer_orders.resume()
        blocks = [block for block in self.effects.vehicle_fleet_blocks() if block.end_day > self.start_day]
        resume_truck_claims(self.vehicles, blocks, self.pending_resume)
        self.pending_resume = None

    def finish(self, wall_seconds: float) -> RunResult:
        env = self.env
        self.kpis.flush_counts(self.config.horizon_days)
        self.kpis.final_age_in_yard_days = self.vehicles.ages_in_dealer_yards()
        warmup = self.config.warmup_days
        summary = self.kpis.summary(warmup)
        if self.control_tower is not None:
            summary |= self.control_tower.summary(warmup, self.config.horizon_days)
        if self.rebalancing is not None:
            summary |= self.rebalancing.summary()
        if self.customer_orders is not None:
            summary |= self.customer_orders.summary()
        if self.campaigns is not None:
            summary |= self.campaigns.summary()
        summary |= self.settlement.summary(warmup)
        if self.queries is not None:
            summary |= self.queries.summary()
        return RunResult(
            config=self.config,
            summary=summary,
            daily=self.kpis.daily_frame(),
            daily_by_region=self.kpis.region_frame(),
            cost_breakdown=self.kpis.cost_breakdown(warmup),
            final_age_in_yard_days=self.kpis.final_age_in_yard_days,
            event_log=self.event_log.events(),
            wall_seconds=wall_seconds,
            processed_events=env.processed_events,
            simulation=self,
        )


def run(config: TwinConfig, progress: ProgressCallback | None = None) -> RunResult:
    return Simulation(config).run(progress)
