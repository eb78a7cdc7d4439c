"""Astra's vehicle rebalancing: move vehicles a dealer cannot sell soon (aged, or beyond its cover) to dealers
whose recent sales say that spec will move, a car-carrier load at a time.

Per dealer x spec, from the OEM's vehicle view and the yard ages:

- **sales rate**: a dealer sells a given spec a few times a year, so one sale in the last 28 days says little.
  The rate is the dealer's last-28-day rate of the spec's *model* times the spec's share of that model in the
  OEM's plan: smooth, and still the dealer's own demand profile;
- **need** over the cover horizon = rate x cover days; **surplus** = stock above need plus a floor (the safety
  days' worth), or the aged vehicles (older than the age limit) if there are more, never below the floor
  (``vehicle_surplus_deficit``); **deficit** = whole vehicles of need not covered by stock and vehicles on
  their way;
- **benefit**, in two parts the planner adds up per move: a vehicle leaving a yard saves the floor-plan
  interest of the days it would still have waited there (stock / rate, capped); arriving at a short dealer
  it sells within the cover horizon with a Poisson probability, which wins the margin of a customer who would
  otherwise have walked (``lost_share_when_missing``: most customers take another colour or a factory order),
  less the floor-plan interest of its wait there.

The plan is ``plan_transfers`` over a car-carrier freight model (slots per load, per-km rate). Pure: views and
arrays in, a ``TransferBatch`` (item = spec, category = model) out; the engine picks the VINs (oldest first).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from twin.errors import ConfigError
from twin.policies.demand_distribution import exceed_probability
from twin.policies.observation import VehicleView
from twin.policies.transfer_planner import (
    FreightModel,
    PlannerOptions,
    TransferPlan,
    plan_transfers,
    vehicle_surplus_deficit,
)
from twin.policies.transfer_rules import TransferBatch

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class VehicleRecommendations:
    batch: TransferBatch
    stock_units: IntArray
    floor_units: IntArray
    plan: TransferPlan | None
    surplus_cells: int
    deficit_cells: int


class VehicleRebalancing:
    def __init__(
        self,
        distance_km: FloatArray,
        freight: FreightModel,
        unit_cost_inr: FloatArray,
        margin_inr: FloatArray,
        category_of_spec: IntArray,
        planner: PlannerOptions | None = None,
        cover_days: float = 55.0,
        safety_days: float = 7.0,
        floor_plan_rate_per_year: float = 0.085,
        aged_days_saved: float = 30.0,
        max_distance_km: float = 800.0,
        lost_share_when_missing: float = 0.15,
        max_wait_days: float = 180.0,
    ) -> None:
        for name, value in (
            ("cover_days", cover_days),
            ("max_distance_km", max_distance_km),
        ):
            if not value > 0:
                raise ConfigError(f"policy.transfers.vehicle_{name}", value, "must be > 0")
        if safety_days < 0 or aged_days_saved < 0:
            raise ConfigError("policy.transfers.vehicle_safety_days", safety_days, "must be >= 0")
        if not 0.0 <= lost_share_when_missing <= 1.0:
            raise ConfigError(
                "policy.transfers.vehicle_lost_share_when_missing",
                lost_share_when_missing,
                "must be in [0, 1]",
            )
        distance = np.asarray(distance_km, dtype=float)
        self.distance_km = np.where(distance <= max_distance_km, distance, 1e7)
        self.freight = freight
        self.unit_cost_inr = np.asarray(unit_cost_inr, dtype=float)
        self.margin_inr = np.asarray(margin_inr, dtype=float)
        self.category_of_spec = np.asarray(category_of_spec, dtype=np.int64)
        self.planner = planner or PlannerOptions()
        self.cover_days = cover_days
        self.safety_days = safety_days
        self.lost_share_when_missing = lost_share_when_missing
        self.max_wait_days = max_wait_days
        #: floor-plan interest of one vehicle of each spec per day in a yard
        self.floor_plan_inr_per_day = self.unit_cost_inr * floor_plan_rate_per_year / 365.0
        self.aged_days_saved = aged_days_saved

    def recommend(self, view: VehicleView, aged_units: IntArray) -> VehicleRecommendations:
        """``aged_units[dealer, spec]``: vehicles in the dealer's yard older than the age limit."""
        stock = np.asarray(view.dealer_stock, dtype=np.int64)
        rate_per_day = self.sales_rate_per_day(view)
        need = rate_per_day * self.cover_days
        floor = np.ceil(rate_per_day * self.safety_days).astype(np.int64)
        surplus, _ = vehicle_surplus_deficit(stock, np.minimum(aged_units, stock), need, floor)
        position = stock + np.asarray(view.dealer_inbound, dtype=np.int64)
        # short by whole vehicles it expects to sell beyond what it has (a tenth of a sale is no shortage)
        deficit = np.floor(np.clip(need - position, 0.0, None)).astype(np.int64)
        surplus = np.where(deficit > 0, 0, surplus)
        if not surplus.any() or not deficit.any():
            return self._empty(stock, floor, surplus, deficit)
        benefit = np.zeros(stock.shape)
        short = np.nonzero(deficit)
        sells = exceed_probability(
            (position + deficit // 2)[short].astype(float), need[short], np.ones(short[0].size)
        )
        wait_there = np.minimum(
            (position[short] + 1) / np.maximum(rate_per_day[short], 1e-9), self.max_wait_days
        )
        benefit[short] = (
            self.margin_inr[short[1]] * self.lost_share_when_missing * sells
            - self.floor_plan_inr_per_day[short[1]] * wait_there
        )
        # leaving: the days the last vehicle of the spec would still wait here, and an aged one's extra days
        wait_here = np.minimum(stock / np.maximum(rate_per_day, 1e-9), self.max_wait_days)
        aged_share = np.where(surplus > 0, np.minimum(aged_units, surplus) / np.maximum(surplus, 1), 0.0)
        release = np.where(
            surplus > 0,
            self.floor_plan_inr_per_day[None, :] * (wait_here + self.aged_days_saved * aged_share),
            0.0,
        )
        plan = plan_transfers(
            surplus, deficit, benefit, self.distance_km, self.freight, self.planner, release
        )
        order = np.argsort(-plan.benefit_cost_ratio, kind="stable")
        dealers = stock.shape[0]
        shipment = np.where(plan.route >= 0, dealers * dealers + plan.route, plan.lane)
        batch = TransferBatch(
            sender=plan.sender[order],
            receiver=plan.receiver[order],
            item=plan.item[order],
            units=plan.units[order],
            value_inr=(plan.units * self.unit_cost_inr[plan.item])[order],
            distance_km=plan.distance_km[order],
            freight_inr=plan.freight_inr[order],
            benefit_inr=plan.benefit_inr[order],
            category=self.category_of_spec[plan.item][order],
            day=np.full(order.size, view.day, dtype=np.int64),
            shipment=shipment[order].astype(np.int64),
        )
        return VehicleRecommendations(
            batch=batch,
            stock_units=stock,
            floor_units=floor,
            plan=plan,
            surplus_cells=int((surplus > 0).sum()),
            deficit_cells=int((deficit > 0).sum()),
        )

    @staticmethod
    def sales_rate_per_day(view: VehicleView) -> FloatArray:
        """Dealer x spec: the dealer's model rate (last 28 days) x the spec's share of its model in the plan."""
        model = np.asarray(view.spec_model, dtype=np.int64)
        models = int(model.max()) + 1
        sales = np.asarray(view.dealer_sales_28d, dtype=float)
        model_sales = np.zeros((sales.shape[0], models))
        np.add.at(model_sales.T, model, sales.T)
        plan = np.asarray(view.plan_daily_retail, dtype=float)
        model_plan = np.bincount(model, weights=plan, minlength=models)
        share = np.where(model_plan[model] > 0, plan / np.maximum(model_plan[model], 1e-12), 0.0)
        return model_sales[:, model] * share[None, :] / view.sales_window_days

    @staticmethod
    def _empty(
        stock: IntArray, floor: IntArray, surplus: IntArray, deficit: IntArray
    ) -> VehicleRecommendations:
        empty_int, empty_float = np.zeros(0, dtype=np.int64), np.zeros(0)
        batch = TransferBatch(
            sender=empty_int, receiver=empty_int, item=empty_int, units=empty_int, value_inr=empty_float,
            distance_km=empty_float, freight_inr=empty_float, benefit_inr=empty_float, category=empty_int,
            day=empty_int, shipment=empty_int,
        )  # fmt: skip
        return VehicleRecommendations(
            batch=batch,
            stock_units=stock,
            floor_units=floor,
            plan=None,
            surplus_cells=int((surplus > 0).sum()),
            deficit_cells=int((deficit > 0).sum()),
        )
