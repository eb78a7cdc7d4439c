"""Campaigns in the engine: the positioning policy's builds and first call on allocation, and what a planner
asks afterwards: did the stock land before the start, did the campaign's customers get served, did the
positioned cars sell.

Demand uplift itself is a scenario effect (``ScenarioEffects``), the same in every arm of a comparison. This
module runs whether or not positioning is on, so both arms are measured against the same yardstick: the
stock target of ``policy.campaign.cover_days`` computed when positioning would begin (``lead_days`` before
the start) from the demand model's own rate (season, dealer size, regional spec mix, planned conversion), not
from an arm's trailing sales.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd
import simpy

from twin.config import CampaignPolicyConfig, OperationsConfig
from twin.domain.vehicles import NOT_YET, SiteKind, VehicleStatus
from twin.domain.world import World
from twin.engine.demand import DemandModel
from twin.engine.eventlog import EventLog
from twin.engine.scenario_effects import ScenarioEffects
from twin.engine.vehicle_flow import VehicleFlow
from twin.policies.campaign_positioning import CampaignWindow
from twin.policies.observation import IntArray, VehicleView
from twin.policies.protocols import CampaignPositioningPolicy, VehicleAllocationPolicy

FloatArray = npt.NDArray[np.float64]
#: customer outcomes counted per campaign
OUTCOMES = ("customers", "sold_from_stock", "network_orders", "factory_orders", "lost")
#: positioned cars' state at a campaign's start and end
MEASURES = (
    "target_units",
    "stock_at_start_units",
    "target_met_units",
    "positioning_builds",
    "positioned_units",
    "positioned_landed_before_start",
    "positioned_sold_before_start",
    "positioned_sold_by_end",
    "positioned_unsold_at_end",
    "stock_at_end_units",
    #: 1 once measured: a campaign that starts on the run's first day has no eve to measure
    "measured_start",
    "measured_end",
)
COLUMNS = OUTCOMES + MEASURES


class CampaignFlow:
    def __init__(
        self,
        clock: simpy.Environment,
        world: World,
        effects: ScenarioEffects,
        settings: CampaignPolicyConfig,
        operations: OperationsConfig,
        horizon_days: int,
        demand: DemandModel,
        vehicles: VehicleFlow,
        allocation: VehicleAllocationPolicy,
        event_log: EventLog,
        policy: CampaignPositioningPolicy | None,
        yardstick: CampaignPositioningPolicy,
    ) -> None:
        """``policy`` positions stock ahead of campaigns; None when the OEM does not (the run still measures
        against ``yardstick``, the same policy's stock target, in every arm)."""
        self.env = clock
        self.world = world
        self.demand = demand
        self.vehicles = vehicles
        self.allocation = allocation
        self.event_log = event_log
        self.allocation_period_days = operations.allocation_period_days
        self.planned_conversion = operations.planned_conversion
        self.horizon_days = horizon_days
        self.dealers = world.dealer_count
        dealer_region = world.dealer_region
        self.windows = [
            CampaignWindow(
                name=config.name,
                dealers=read_only_bool(regions[dealer_region]),
                models=read_only_bool(models),
                start_day=config.start_day,
                end_day=config.end_day,
                vehicle_uplift=config.vehicle_uplift,
            )
            for config, regions, models in effects.campaigns
        ]
        self.yardstick = yardstick
        self.policy = policy
        self.spec_model = world.specs.model
        self._yard_spec_shape = (len(world.network.stockyards), len(world.specs))
        #: positioning builds not yet in their yard's unallocated stock: vehicle -> (stockyard, spec)
        self.building: dict[int, tuple[int, int]] = {}
        #: vehicle -> campaign it was positioned for
        self.positioned: dict[int, int] = {}
        self.targets: list[IntArray | None] = [None] * len(self.windows)
        self.table = np.zeros((len(self.windows), len(COLUMNS)))
        self._active = np.zeros(
            (len(self.windows), world.dealer_count, len(world.specs.model_names)), dtype=bool
        )
        self._active_day = -1
        self._any_active = False

    # -- the day's phases -----------------------------------------------------------------------------
    def plan(self, day: int) -> None:
        """d+0.12: fix the yardstick when positioning would begin; order positioning builds on production days."""
        flow = self.vehicles
        for index, campaign in enumerate(self.windows):
            if day == max(campaign.start_day - self.yardstick.lead_days, 0) and self.targets[index] is None:
                target = self.yardstick.stock_target(flow.current_view(), campaign, self._expected_rate(day))
                self.targets[index] = target
                self.table[index, COLUMNS.index("target_units")] = float(target.sum())
        if self.policy is None or day % self.allocation_period_days != 0:
            return
        # the OEM knows its own yards and trunks today, not as of the last dealer export: a build that reached
        # its yard after the export would otherwise be counted nowhere and built again
        on_trunk = np.zeros(self._yard_spec_shape, dtype=np.int64)
        if self.building:
            np.add.at(on_trunk, tuple(np.array(list(self.building.values())).T), 1)
        builds = self.policy.builds(flow.export_view(), self.windows, day, on_trunk)
        for yard, spec in zip(*np.nonzero(builds), strict=True):
            units = int(builds[yard, spec])
            vehicle_ids = flow.new_stock_vehicles([int(spec)] * units)
            for vehicle_id in vehicle_ids:
                self.building[vehicle_id] = (int(yard), int(spec))
            self._count_builds(day, units)
            flow.trunk(vehicle_ids, int(yard), flow.trunk_days(yard))

    def _expected_rate(self, day: int) -> FloatArray:
        """``[dealer, spec]``: retail a day the demand model expects before any campaign uplift."""
        world = self.world
        customers = self.demand.base_customers_per_day(day)
        return (
            self.planned_conversion * customers[:, None] * world.region_spec_preference[world.dealer_region]
        )

    def _count_builds(self, day: int, units: int) -> None:
        """Builds are booked to the campaign(s) they serve: the nearest start still being built for."""
        building = [i for i, c in enumerate(self.windows) if self.yardstick.building(c, day)]
        if building:
            nearest = min(building, key=lambda i: self.windows[i].start_day)
            self.table[nearest, COLUMNS.index("positioning_builds")] += units
        self.event_log.record(self.env.now, "campaign_builds_ordered", units=units)

    def measure(self, day: int) -> None:
        """d+0.96: the eve of a start (stock landed), the last day of a campaign (what sold)."""
        last_day = self.horizon_days - 1
        for index, campaign in enumerate(self.windows):
            if day == campaign.start_day - 1:
                self._measure_start(index, campaign)
            if day == min(campaign.end_day - 1, last_day):  # a campaign the run cuts short: at the horizon
                self._measure_end(index, campaign)

    # -- hooks from the vehicle flow ------------------------------------------------------------------
    def positioning_today(self, day: int) -> bool:
        return self.policy is not None and any(self.policy.positioning(c, day) for c in self.windows)

    def allocate(self, view: VehicleView, yard: int, vehicle_ids: list[int], specs: IntArray) -> IntArray:
        """The allocation cycle with positioning's first call; remembers which cars were positioned."""
        assert self.policy is not None  # positioning_today() said so
        dealers, positioned = self.policy.allocate(view, yard, specs, self.windows, self.allocation)
        if positioned.any():
            day = int(self.env.now)
            positioning = [i for i, c in enumerate(self.windows) if self.policy.positioning(c, day)]
            for vehicle_id, dealer, spec in zip(
                np.asarray(vehicle_ids)[positioned].tolist(),
                dealers[positioned].tolist(),
                specs[positioned].tolist(),
                strict=True,
            ):
                model = int(self.spec_model[spec])
                serving = [
                    i
                    for i in positioning
                    if self.windows[i].dealers[dealer] and self.windows[i].models[model]
                ]
                campaign = min(serving, key=lambda i: self.windows[i].start_day)
                self.positioned[vehicle_id] = campaign
                self.table[campaign, COLUMNS.index("positioned_units")] += 1
        return dealers

    def reached_yard(self, vehicle_id: int) -> None:
        self.building.pop(vehicle_id, None)

    def customer(self, day: int, dealer: int, spec: int, outcome: str) -> None:
        """A customer's outcome at the counter, counted for each campaign running at the dealer for the model."""
        if day != self._active_day:
            self._refresh_active(day)
        if not self._any_active:  # most days of the year: no campaign runs
            return
        model = self.spec_model[spec]
        for index in np.flatnonzero(self._active[:, dealer, model]).tolist():
            self.table[index, 0] += 1
            self.table[index, OUTCOMES.index(outcome)] += 1

    def lost_late(self, booked_day: int, dealer: int, spec: int) -> None:
        """A network order booked during a campaign whose car came after the customer gave up: lost after all."""
        model = self.spec_model[spec]
        for index, campaign in enumerate(self.windows):
            running = campaign.start_day <= booked_day < campaign.end_day
            if running and campaign.dealers[dealer] and campaign.models[model]:
                self.table[index, OUTCOMES.index("network_orders")] -= 1
                self.table[index, OUTCOMES.index("lost")] += 1

    def _refresh_active(self, day: int) -> None:
        self._active[:] = False
        for index, campaign in enumerate(self.windows):
            if campaign.start_day <= day < campaign.end_day:
                self._active[index] = campaign.dealers[:, None] & campaign.models[None, :]
        self._active_day = day
        self._any_active = bool(self._active.any())

    # -- measurements ---------------------------------------------------------------------------------
    def _campaign_stock(self, campaign: CampaignWindow) -> IntArray:
        """``[dealer, spec]``: unreserved cars of campaign models in campaign dealers' yards now."""
        covered = campaign.dealers[:, None] & campaign.models[self.spec_model][None, :]
        return np.where(covered, self.vehicles.dealer_stock, 0).astype(np.int64)

    def _measure_start(self, index: int, campaign: CampaignWindow) -> None:
        row = self.table[index]
        row[COLUMNS.index("measured_start")] = 1
        stock = self._campaign_stock(campaign)
        row[COLUMNS.index("stock_at_start_units")] = float(stock.sum())
        target = self.targets[index]
        if target is not None:
            row[COLUMNS.index("target_met_units")] = float(np.minimum(stock, target).sum())
        landed = sold = 0
        for vehicle_id, campaign_index in self.positioned.items():
            if campaign_index != index:
                continue
            vehicle = self.vehicles.vehicles[vehicle_id]
            landed += NOT_YET != vehicle.received_day <= self.env.now
            sold += self._sold(vehicle_id)
        row[COLUMNS.index("positioned_landed_before_start")] = landed
        row[COLUMNS.index("positioned_sold_before_start")] = sold

    def _measure_end(self, index: int, campaign: CampaignWindow) -> None:
        row = self.table[index]
        row[COLUMNS.index("measured_end")] = 1
        row[COLUMNS.index("stock_at_end_units")] = float(self._campaign_stock(campaign).sum())
        sold = unsold = 0
        for vehicle_id, campaign_index in self.positioned.items():
            if campaign_index != index:
                continue
            vehicle = self.vehicles.vehicles[vehicle_id]
            sold += self._sold(vehicle_id)
            unsold += vehicle.status is VehicleStatus.IN_YARD and vehicle.site_kind is SiteKind.DEALER
        row[COLUMNS.index("positioned_sold_by_end")] = sold
        row[COLUMNS.index("positioned_unsold_at_end")] = unsold

    def _sold(self, vehicle_id: int) -> bool:
        vehicle = self.vehicles.vehicles[vehicle_id]
        return vehicle.status in (VehicleStatus.RESERVED, VehicleStatus.DELIVERED) or vehicle.customer_order

    # -- results --------------------------------------------------------------------------------------
    def frame(self) -> pd.DataFrame:
        """One row per campaign: a table for the run folder and a report."""
        frame = pd.DataFrame(self.table, columns=list(COLUMNS))
        frame.insert(0, "campaign", [c.name for c in self.windows])
        frame.insert(1, "start_day", [c.start_day for c in self.windows])
        frame.insert(2, "end_day", [c.end_day for c in self.windows])
        return frame

    def summary(self) -> dict[str, float]:
        """Totals over the campaigns; figures of a start or end no campaign reached in the run are NaN."""
        total = dict(zip(COLUMNS, self.table.sum(axis=0).tolist(), strict=True))
        at_start = (
            "stock_at_start_units",
            "target_met_units",
            "positioned_landed_before_start",
            "positioned_sold_before_start",
        )
        at_end = ("positioned_sold_by_end", "positioned_unsold_at_end", "stock_at_end_units")
        for names, flag in ((at_start, "measured_start"), (at_end, "measured_end")):
            measured = self.table[:, COLUMNS.index(flag)] > 0
            for name in names:
                total[name] = (
                    float(self.table[measured, COLUMNS.index(name)].sum()) if measured.any() else math.nan
                )

        def ratio(numerator: float, denominator: float) -> float:
            return numerator / denominator if denominator > 0 else float("nan")

        customers = total["customers"]
        return {
            "campaign_customers": customers,
            "campaign_lost_sales": total["lost"],
            "campaign_demand_served_share": ratio(customers - total["lost"], customers),
            "campaign_served_from_stock_share": ratio(total["sold_from_stock"], customers),
            "campaign_stock_target_units": total["target_units"],
            "campaign_stock_at_start_units": total["stock_at_start_units"],
            "campaign_stock_target_met_share": ratio(total["target_met_units"], total["target_units"]),
            "campaign_positioning_builds": total["positioning_builds"],
            "campaign_positioned_units": total["positioned_units"],
            "campaign_positioned_landed_share": ratio(
                total["positioned_landed_before_start"], total["positioned_units"]
            ),
            "campaign_positioned_sold_before_start": total["positioned_sold_before_start"],
            "campaign_positioned_sold_share": ratio(
                total["positioned_sold_by_end"], total["positioned_units"]
            ),
            "campaign_positioned_unsold_at_end": total["positioned_unsold_at_end"],
            "campaign_stock_at_end_units": total["stock_at_end_units"],
        }

    # -- snapshots ------------------------------------------------------------------------------------
    def state_arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        specs = self._yard_spec_shape[1]
        return {
            "table": self.table.copy(),
            "building": np.array([(v, y, s) for v, (y, s) in self.building.items()], dtype=np.int64).reshape(
                -1, 3
            ),
            "positioned": np.array(list(self.positioned.items()), dtype=np.int64).reshape(-1, 2),
            "targets": np.stack(
                [t if t is not None else np.full((self.dealers, specs), -1) for t in self.targets]
            ).astype(np.int64)
            if self.targets
            else np.zeros((0, self.dealers, specs), dtype=np.int64),
        }

    def load_state_arrays(self, arrays: dict[str, npt.NDArray[np.generic]]) -> None:
        self.table = np.asarray(arrays["table"], dtype=np.float64).copy()
        self.building = {int(v): (int(y), int(s)) for v, y, s in np.asarray(arrays["building"]).tolist()}
        self.positioned = {int(v): int(c) for v, c in np.asarray(arrays["positioned"]).tolist()}
        self.targets = [
            None if (target < 0).any() else target.astype(np.int64)
            for target in np.asarray(arrays["targets"])
        ]


def read_only_bool(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    copy = np.array(mask, dtype=bool)
    copy.flags.writeable = False
    return copy
