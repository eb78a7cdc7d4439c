"""The "periodic polling" world the control tower replaces: static rules on stale data.

- Parts: static min/max per dealer x SKU from 12-month history, reviewed on a fixed cycle per class
  (fast movers daily, the rest weekly or fortnightly, staggered by dealer); the phase-in rule stocks a part
  only after a few demands a year; the DC fills dealer orders first come, first served.
- Vehicles: production follows trailing national sales; new vehicles go to dealers pro rata to their
  trailing sales, capped at a days-supply target, as seen in the weekly export.
- Sourcing: a spec not in the yard means a factory order, or the customer is lost. No transfers.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from twin.config import ProRataAllocationConfig, StaticMinMaxConfig
from twin.domain.parts import PART_CLASSES
from twin.policies.network_sourcing import NetworkSearch
from twin.policies.observation import (
    CustomerRequest,
    IntArray,
    PartsView,
    QuantityArray,
    ReplenishmentDecision,
    SourcingDecision,
    SourcingKind,
    VehicleView,
)

_MINMAX = StaticMinMaxConfig()  # defaults are declared once, in twin.config
_PRO_RATA = ProRataAllocationConfig()
#: days of planned retail the OEM expects between the plant and the dealer yards
PIPELINE_COVER_DAYS = 10.0
_REVIEW_PERIOD_DAYS = np.array([part_class.review_period_days for part_class in PART_CLASSES], dtype=np.int64)
#: the distinct review periods, shortest first
_REVIEW_PERIODS = np.unique(_REVIEW_PERIOD_DAYS)


class StaticMinMaxReplenishment:
    """Reorder up to max when inventory position falls to min; levels never change during the run."""

    #: the static levels come from history alone: no forecast
    needs_forecast = False

    def __init__(
        self,
        min_cover_days: float = _MINMAX.min_cover_days,
        max_cover_days: float = _MINMAX.max_cover_days,
        phase_in_lines_per_year: int = _MINMAX.phase_in_lines_per_year,
        dc_min_cover_days_over_lead_time: float = _MINMAX.dc_min_cover_days_over_lead_time,
        dc_max_cover_days_over_lead_time: float = _MINMAX.dc_max_cover_days_over_lead_time,
    ) -> None:
        self.min_cover_days = min_cover_days
        self.max_cover_days = max_cover_days
        self.phase_in_lines_per_year = phase_in_lines_per_year
        self.dc_min_cover_days_over_lead_time = dc_min_cover_days_over_lead_time
        self.dc_max_cover_days_over_lead_time = dc_max_cover_days_over_lead_time
        self._levels: tuple[QuantityArray, QuantityArray] | None = None
        self._levels_history: object = None

    def levels(self, view: PartsView) -> tuple[QuantityArray, QuantityArray]:
        """Min and max per ``[location, sku]``; computed once from the history in the first view seen."""
        # levels belong to the history they were computed from: a policy reused on another network recomputes
        if self._levels is None or self._levels_history is not view.history_units_per_day.base:
            dealers = view.dealer_count
            locations, skus = view.on_hand.shape
            daily = np.zeros((locations, skus))
            daily[:dealers] = view.history_units_per_day
            stocked = np.zeros((locations, skus), dtype=bool)
            stocked[:dealers] = view.history_lines_per_year >= self.phase_in_lines_per_year
            lead_time = np.zeros(locations)
            lead_time[:dealers] = view.dealer_lead_time_days
            # a DC covers the whole of its dealers' demand and stocks every SKU anyone demands
            for dc in range(locations - dealers):
                members = view.dealer_dc == dc
                daily[dealers + dc] = view.history_units_per_day[members].sum(axis=0)
                stocked[dealers + dc] = daily[dealers + dc] > 0
                lead_time[dealers + dc] = (
                    view.supplier_lead_time_days
                    if view.dc_supplier_lead_time_days is None
                    else view.dc_supplier_lead_time_days[dc]
                )
            cover_min = np.where(
                np.arange(locations)[:, None] < dealers,
                self.min_cover_days,
                lead_time[:, None] + self.dc_min_cover_days_over_lead_time,
            )
            cover_max = np.where(
                np.arange(locations)[:, None] < dealers,
                self.max_cover_days,
                lead_time[:, None] + self.dc_max_cover_days_over_lead_time,
            )
            minimum = np.where(stocked, np.maximum(1, np.ceil(daily * cover_min)), 0).astype(np.int32)
            maximum = np.where(stocked, np.maximum(minimum + 1, np.ceil(daily * cover_max)), 0).astype(
                np.int32
            )
            self._levels = (minimum, maximum)
            self._levels_history = view.history_units_per_day.base
        return self._levels

    def replenish(self, view: PartsView, candidate_cells: IntArray) -> ReplenishmentDecision:
        """Cells not due for review today are deferred untouched; due cells below min order up to max."""
        minimum, maximum = (level.reshape(-1) for level in self.levels(view))
        skus = view.on_hand.shape[1]
        due = due_for_review(view, candidate_cells)
        cells = candidate_cells[due]
        position = view.cell_position(cells)
        low, high = minimum.take(cells), maximum.take(cells)
        order = (position <= low) & (high > 0)
        ordered = cells[order]
        ordered_location = ordered // skus
        return ReplenishmentDecision(
            location=ordered_location,
            sku=ordered - ordered_location * skus,
            quantity=(high - position)[order].astype(np.int32),
            deferred_cells=candidate_cells[~due],
        )


def due_for_review(view: PartsView, cells: IntArray) -> npt.NDArray[np.bool_]:
    """Whether each flat cell is reviewed today: a dealer reviews a class every ``review_period_days``,
    staggered by dealer (``(day + dealer) % period == 0``); DCs review every day.

    Today a location reviews one of a few SKU sets (which of the periods divide ``day + location``): one
    boolean row per distinct set, and each cell is looked up in its location's row, one division per cell
    (or, when the cells are a good part of the network, in every location's row laid out once)."""
    locations, skus = view.on_hand.shape
    dealer_cells = view.dealer_count * skus
    if cells.size and int(cells.min()) >= dealer_cells:  # DC rows only (their own review): all due
        return np.ones(cells.size, dtype=bool)
    periods = _REVIEW_PERIODS
    due_periods = (view.day + np.arange(locations))[:, None] % periods[None, :] == 0
    due_periods[view.dealer_count :] = True
    # each location's set of due periods as the bits of one integer: the distinct sets are a 1-d unique
    set_code = due_periods.astype(np.int64) @ (1 << np.arange(periods.size, dtype=np.int64))
    codes, pattern_of_location = np.unique(set_code, return_inverse=True)
    patterns = ((codes[:, None] >> np.arange(periods.size)) & 1) == 1  # [pattern, period]
    period_of_sku = np.searchsorted(periods, _REVIEW_PERIOD_DAYS[view.part_class])
    due_by_pattern = patterns[:, period_of_sku]  # [pattern, sku]
    if 4 * cells.size >= locations * skus:  # many cells: a row per location is cheaper than a division each
        return due_by_pattern[pattern_of_location.reshape(-1)].reshape(-1).take(cells)
    due_by_pattern = due_by_pattern.reshape(-1)
    # cell (location, sku) -> (its pattern, sku): shift each location's row onto its pattern's
    shift = (pattern_of_location.reshape(-1) - np.arange(locations)) * skus
    return due_by_pattern.take(cells + shift.take(cells // skus))


class ProRataAllocation:
    """Production to the OEM's volume plan; each yard's new vehicles split over its dealers pro rata to their
    trailing retail of the model, up to a days-supply stock target per dealer (as seen in the weekly export)."""

    def __init__(self, target_days_supply: float = _PRO_RATA.target_days_supply) -> None:
        self.target_days_supply = target_days_supply

    def plan_production(self, view: VehicleView, period_days: int) -> QuantityArray:
        plan = np.asarray(view.plan_daily_retail)
        network_stock = (
            view.dealer_stock.sum(axis=0)
            + view.dealer_inbound.sum(axis=0)
            + view.yard_stock.sum(axis=0)
            + view.pipeline
        )
        # dealers' target plus what is on its way to them (trunk and carrier legs, carrier wait: ~10 days)
        target = plan * (self.target_days_supply + PIPELINE_COVER_DAYS + period_days)
        # build the plan, and close a quarter of the gap to the stock target each period, never below zero
        build = plan * period_days + 0.25 * (target - network_stock - plan * period_days)
        return np.maximum(0, np.round(build)).astype(np.int32)

    def allocate(self, view: VehicleView, yard: int, vehicle_specs: IntArray) -> IntArray:
        dealers = np.flatnonzero(view.dealer_stockyard == yard)
        assignment = np.full(vehicle_specs.size, -1, dtype=np.int64)
        if dealers.size == 0 or vehicle_specs.size == 0:
            return assignment
        models = view.spec_model
        model_count = int(models.max()) + 1
        sales = view.dealer_sales_28d[dealers]
        if sales.dtype.kind in "iub":
            # whole counts: each model's sum is exact in any order, so one product with the spec -> model
            # indicator gives the same figures as adding spec by spec (``add.at`` on a transposed float view
            # is numpy's slow path)
            indicator = np.zeros((models.size, model_count))
            indicator[np.arange(models.size), models] = 1.0
            sales_by_model = sales.astype(np.float64) @ indicator
        else:
            sales_by_model = np.zeros((dealers.size, model_count))
            np.add.at(sales_by_model.T, models, sales.T)
        # the dealer's share of the network's retail, applied to the plan: a bad month does not shrink the target
        network_sales = max(float(view.dealer_sales_28d.sum()), 1.0)
        dealer_share = view.dealer_sales_28d[dealers].sum(axis=1) / network_sales
        target_stock = dealer_share * float(np.sum(view.plan_daily_retail)) * self.target_days_supply
        held = view.dealer_stock[dealers].sum(axis=1) + view.dealer_inbound[dealers].sum(axis=1)
        room = np.minimum(view.dealer_capacity[dealers], np.ceil(target_stock)) - held
        room = np.maximum(room, 0).astype(np.int64)
        vehicle_models = models[vehicle_specs]
        for model in np.unique(vehicle_models):
            vehicles = np.flatnonzero(vehicle_models == model)
            weight = (sales_by_model[:, model] + 0.5) * (room > 0)
            total_weight = weight.sum()
            if total_weight <= 0:
                continue
            share = weight / total_weight * vehicles.size
            quota = np.floor(share).astype(np.int64)
            remainder_order = np.argsort(-(share - quota), kind="stable")
            quota[remainder_order[: vehicles.size - quota.sum()]] += 1
            quota = np.minimum(quota, room)
            targets = deal_out(dealers, quota)
            assignment[vehicles[: targets.size]] = targets
            room -= quota  # each dealer got its quota of cars (``targets`` holds them all)
        return assignment


def deal_out(dealers: IntArray, quota: IntArray) -> IntArray:
    """The dealer of each car, ``quota[i]`` cars for ``dealers[i]``, dealt like cards: the cars of a model come
    grouped by spec, so one round to every dealer before the next gives each dealer a mix."""
    targets = np.repeat(dealers, quota)
    rank_at_dealer = np.arange(targets.size) - np.repeat(np.cumsum(quota) - quota, quota)
    return targets[np.argsort(rank_at_dealer, kind="stable")]


class FactoryOrderSourcing:
    """No network search: quote the factory lead time; the customer accepts or walks."""

    #: the engine runs no network search for this policy
    network_search: NetworkSearch | None = None

    def source(self, view: VehicleView, request: CustomerRequest) -> SourcingDecision:
        return SourcingDecision(
            SourcingKind.FACTORY_ORDER, float(view.factory_lead_time_days[request.dealer])
        )
