"""Astra's parts rebalancing: which dealers' surplus should travel to which dealers about to run short.

The dealer's DC is the first and cheapest source, so a lateral transfer is only worth planning for SKUs the
DC cannot cover today. A cycle therefore:

1. **Screens** the (DC, SKU) pairs whose available DC stock is below what the DC's dealers need over the
   deficit horizon (from last year's rates, with a margin). Only these SKUs are looked at further, so a cycle
   costs O(short SKUs x dealers), never a pass over every dealer cell.
2. **Deficit** of a dealer cell of a screened SKU: forecast demand over the horizon (the control tower's
   forecast when it runs, else last year's rate) minus the dealer's position, scaled by the share of its
   DC's dealers' shortfall the DC cannot fill.
3. **Surplus** of every dealer cell of those SKUs: available stock above forecast need over the surplus
   cover plus the safety floor (the need over the safety cover). Stock with no demand at all (obsolete at
   that dealer) is surplus in full.
4. **Benefit** of a unit arriving at a short dealer: the shortage cost it avoids (the emergency charge per
   unit on lines that would be emergency-ordered, the lost margin on lines that would be lost), times the
   probability the unit is used within the horizon.
5. **Plan** with ``plan_transfers`` (min-cost flow, consolidation per lane, multi-stop routes), and list the
   recommendations best benefit/cost first as a ``TransferBatch`` for the OEM policy engine.

Pure: a ``PartsView`` in, ``TransferRecommendations`` out; no SimPy, no state beyond derived constants.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from twin.domain.parts import PART_CLASSES
from twin.errors import ConfigError
from twin.policies.demand_distribution import exceed_probability
from twin.policies.observation import PartsView
from twin.policies.transfer_planner import FreightModel, PlannerOptions, TransferPlan, plan_transfers
from twin.policies.transfer_rules import TransferBatch

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_UNITS_PER_LINE = np.array([part_class.units_per_line_mean for part_class in PART_CLASSES])
_EMERGENCY_PROBABILITY = np.array([part_class.emergency_order_probability for part_class in PART_CLASSES])
#: variance-to-mean ratio of compound-Poisson demand with geometric line sizes of mean m: 2m - 1
_CLASS_DISPERSION = np.maximum(2.0 * _UNITS_PER_LINE - 1.0, 1.0)


@dataclass(frozen=True)
class TransferRecommendations:
    """One cycle's recommendations, best first, with what the policy engine's guards read.

    ``batch.item`` indexes ``skus`` (the cycle's screened SKUs); ``stock_units`` / ``floor_units`` are
    ``[dealer, item]`` over the same columns: what each dealer holds available now and the floor it keeps.
    """

    batch: TransferBatch
    skus: IntArray
    route: IntArray
    stock_units: IntArray
    floor_units: IntArray
    plan: TransferPlan | None
    screened_skus: int
    deficit_cells: int
    surplus_cells: int

    @property
    def sku(self) -> IntArray:
        return self.skus[self.batch.item]


class PartsRebalancing:
    """Lateral dealer-to-dealer transfers of parts the DCs cannot supply in time."""

    def __init__(
        self,
        distance_km: FloatArray,
        freight: FreightModel,
        planner: PlannerOptions | None = None,
        deficit_cover_days: float = 7.0,
        surplus_cover_days: float = 10.0,
        safety_cover_days: float = 4.0,
        dc_screen_factor: float = 1.5,
        parts_margin_share: float = 0.25,
        emergency_charge_per_line_inr: float = 350.0,
        max_distance_km: float = 600.0,
        plan_within_weekly_cap: bool = False,
    ) -> None:
        distance = np.asarray(distance_km, dtype=float)
        if distance.ndim != 2 or distance.shape[0] != distance.shape[1]:
            raise ConfigError("distance_km", distance.shape, "must be a square [dealer, dealer] matrix")
        for name, value in (
            ("deficit_cover_days", deficit_cover_days),
            ("surplus_cover_days", surplus_cover_days),
            ("safety_cover_days", safety_cover_days),
            ("max_distance_km", max_distance_km),
        ):
            if not value > 0:
                raise ConfigError(f"policy.transfers.{name}", value, "must be > 0")
        if surplus_cover_days < deficit_cover_days:
            raise ConfigError(
                "policy.transfers.surplus_cover_days",
                surplus_cover_days,
                f"must be >= deficit_cover_days={deficit_cover_days} (a dealer must not send what it needs)",
            )
        if dc_screen_factor < 1.0:
            raise ConfigError("policy.transfers.dc_screen_factor", dc_screen_factor, "must be >= 1")
        # lanes longer than the limit are not offered: the planner sees them as unreachable (very far)
        self.distance_km = np.where(distance <= max_distance_km, distance, 1e7)
        self.freight = freight
        self.planner = planner or PlannerOptions()
        self.deficit_cover_days = deficit_cover_days
        self.surplus_cover_days = surplus_cover_days
        self.safety_cover_days = safety_cover_days
        self.dc_screen_factor = dc_screen_factor
        self.parts_margin_share = parts_margin_share
        self.emergency_charge_per_line_inr = emergency_charge_per_line_inr
        self.plan_within_weekly_cap = plan_within_weekly_cap
        self._dc_daily_units: FloatArray | None = None

    # -- the cycle ------------------------------------------------------------------------------------
    def recommend(self, view: PartsView) -> TransferRecommendations:
        dealers = view.dealer_count
        skus = self._screen(view)
        if skus.size == 0:
            return self._empty(dealers)
        mean_per_day, dispersion = self._demand(view, skus)
        on_hand = view.on_hand[:dealers, skus].astype(np.int64)
        available = np.maximum(on_hand - view.reserved[:dealers, skus], 0)
        position = available + view.in_transit[:dealers, skus]
        deficit_need = mean_per_day * self.deficit_cover_days
        shortfall = np.ceil(np.clip(deficit_need - position, 0.0, None)).astype(np.int64)
        shortfall = self._net_of_dc(view, skus, shortfall)
        floor = np.ceil(mean_per_day * self.safety_cover_days).astype(np.int64)
        surplus_need = mean_per_day * self.surplus_cover_days
        surplus = np.floor(np.clip(available - surplus_need - floor, 0.0, None)).astype(np.int64)
        surplus = np.where(shortfall > 0, 0, surplus)
        if self.plan_within_weekly_cap and view.transfers_left_this_week is not None:
            # a dealer at its weekly cap can neither send nor receive today: plan without it
            capped = np.asarray(view.transfers_left_this_week[:dealers]) <= 0
            shortfall[capped] = 0
            surplus[capped] = 0
        if not shortfall.any() or not surplus.any():
            return self._empty(dealers, skus, available, floor, int((shortfall > 0).sum()))

        benefit = self._benefit(view, skus, shortfall, position, deficit_need, dispersion)
        plan = plan_transfers(surplus, shortfall, benefit, self.distance_km, self.freight, self.planner)
        order = np.argsort(-plan.benefit_cost_ratio, kind="stable")
        # a lane's truck or a multi-stop route is one shipment: routes get ids after the lanes
        lane_count = dealers * dealers
        shipment = np.where(plan.route >= 0, lane_count + plan.route, plan.lane)
        sku = skus[plan.item]
        batch = TransferBatch(
            sender=plan.sender[order],
            receiver=plan.receiver[order],
            item=plan.item[order],
            units=plan.units[order],
            value_inr=(plan.units * view.unit_cost_inr[sku])[order].astype(np.float64),
            distance_km=plan.distance_km[order],
            freight_inr=plan.freight_inr[order],
            benefit_inr=plan.benefit_inr[order],
            category=view.part_class[sku][order].astype(np.int64),
            day=np.full(order.size, view.day, dtype=np.int64),
            shipment=shipment[order].astype(np.int64),
        )
        return TransferRecommendations(
            batch=batch,
            skus=skus,
            route=plan.route[order],
            stock_units=available,
            floor_units=floor,
            plan=plan,
            screened_skus=int(skus.size),
            deficit_cells=int((shortfall > 0).sum()),
            surplus_cells=int((surplus > 0).sum()),
        )

    # -- steps ----------------------------------------------------------------------------------------
    def _screen(self, view: PartsView) -> IntArray:
        """SKUs some DC cannot cover: available DC stock below its dealers' need over the deficit horizon."""
        dealers = view.dealer_count
        dc_count = view.on_hand.shape[0] - dealers
        if self._dc_daily_units is None or self._dc_daily_units.shape[0] != dc_count:
            daily = np.zeros((dc_count, view.on_hand.shape[1]))
            np.add.at(daily, view.dealer_dc, view.history_units_per_day[:dealers])
            self._dc_daily_units = daily
        dc_available = self._dc_available(view, slice(None))
        need = self._dc_daily_units * self.deficit_cover_days * self.dc_screen_factor
        short = (dc_available < need) & (self._dc_daily_units > 0)
        return np.flatnonzero(short.any(axis=0)).astype(np.int64)

    @staticmethod
    def _dc_available(view: PartsView, skus: IntArray | slice) -> IntArray:
        """What each DC can ship of these SKUs today: nothing while it is down."""
        dealers = view.dealer_count
        available = np.maximum(
            view.on_hand[dealers:, skus].astype(np.int64) - view.reserved[dealers:, skus], 0
        )
        if view.dc_shipping is not None:
            available = np.where(np.asarray(view.dc_shipping)[:, None], available, 0)
        return available

    def _demand(self, view: PartsView, skus: IntArray) -> tuple[FloatArray, FloatArray]:
        """Mean units per day and dispersion ``[dealer, screened sku]``: the forecast when there is one."""
        dealers = view.dealer_count
        if view.forecast is not None:
            cells = (np.arange(dealers)[:, None] * view.on_hand.shape[1] + skus[None, :]).ravel()
            mean, dispersion, _ = view.forecast.distribution(cells)
            return mean.reshape(dealers, skus.size), dispersion.reshape(dealers, skus.size)
        mean = np.asarray(view.history_units_per_day[:dealers, skus], dtype=float)
        dispersion = np.broadcast_to(_CLASS_DISPERSION[view.part_class[skus]], mean.shape)
        return mean, np.asarray(dispersion)

    def _net_of_dc(self, view: PartsView, skus: IntArray, shortfall: IntArray) -> IntArray:
        """Keep the share of each dealer's shortfall its DC cannot fill from what it has available."""
        dealers = view.dealer_count
        dc_count = view.on_hand.shape[0] - dealers
        # each DC's dealers' shortfall, summed by a 0/1 membership product (whole units: exact in float64)
        membership = np.zeros((dc_count, dealers))
        membership[view.dealer_dc, np.arange(dealers)] = 1.0
        total = membership @ shortfall.astype(np.float64)
        dc_available = self._dc_available(view, skus)
        with np.errstate(divide="ignore", invalid="ignore"):
            uncovered_share = np.where(total > 0, np.clip(1.0 - dc_available / total, 0.0, 1.0), 0.0)
        return np.ceil(shortfall * uncovered_share[view.dealer_dc] - 1e-9).astype(np.int64)

    def _benefit(
        self,
        view: PartsView,
        skus: IntArray,
        deficit: IntArray,
        position: IntArray,
        need: FloatArray,
        dispersion: FloatArray,
    ) -> FloatArray:
        """Shortage cost avoided per unit, times the chance the unit is used (at the deficit's midpoint)."""
        part_class = view.part_class[skus]
        emergency = _EMERGENCY_PROBABILITY[part_class]
        shortage_cost = (
            emergency * self.emergency_charge_per_line_inr / _UNITS_PER_LINE[part_class]
            + (1.0 - emergency) * self.parts_margin_share * view.unit_cost_inr[skus]
        )
        benefit = np.zeros(deficit.shape)
        short = np.nonzero(deficit)
        used = exceed_probability(
            (position + deficit // 2)[short].astype(float), need[short], np.maximum(dispersion[short], 1.0)
        )
        benefit[short] = shortage_cost[short[1]] * used
        return benefit

    @staticmethod
    def _empty(
        dealers: int,
        skus: IntArray | None = None,
        stock: IntArray | None = None,
        floor: IntArray | None = None,
        deficit_cells: int = 0,
    ) -> TransferRecommendations:
        skus = np.zeros(0, dtype=np.int64) if skus is None else skus
        zeros = np.zeros((dealers, skus.size), dtype=np.int64)
        empty_int = np.zeros(0, dtype=np.int64)
        empty_float = np.zeros(0)
        batch = TransferBatch(
            sender=empty_int,
            receiver=empty_int,
            item=empty_int,
            units=empty_int,
            value_inr=empty_float,
            distance_km=empty_float,
            freight_inr=empty_float,
            benefit_inr=empty_float,
            category=empty_int,
            day=empty_int,
            shipment=empty_int,
        )
        return TransferRecommendations(
            batch=batch,
            skus=skus,
            route=empty_int,
            stock_units=zeros if stock is None else stock,
            floor_units=zeros if floor is None else floor,
            plan=None,
            screened_skus=int(skus.size),
            deficit_cells=deficit_cells,
            surplus_cells=0,
        )
