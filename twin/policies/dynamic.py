"""Astra's dynamic parts replenishment: order-up-to levels from the demand forecast, and the day's inbound
sequenced to the dealers most at risk.

- Level: at each review a dealer-SKU is brought up to the ``service level`` quantile of its forecast demand
  over the protection period (lead time + review period), a negative binomial from the forecaster's mean
  and dispersion. The service level is set per part class. Levels move with the forecast every day, where
  the baseline's min/max stay where last year's history put them.
- Stocking: the same phase-in rule as the baseline (a part is stocked after a few demand lines a year), but
  counted on history plus what has been seen since, so new demand phases a part in during the year.
- Sequencing: dealer orders are listed by their risk of running out before the stock could arrive
  (highest first). The engine fills orders from the DC and loads carriers in list order, so when DC stock or
  carrier capacity is short, the dealers at highest risk are served first; the baseline lists orders in
  cell order (first come, first served).
- DCs: their own stock orders follow the baseline's static rule (the DC's demand is the dealers' orders,
  which this policy reshapes; a DC forecast is a separate piece of work).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy import special

from twin.config import DynamicReplenishmentConfig
from twin.domain.lead_time import uncovered_demand_days
from twin.domain.parts import PART_CLASS_NAMES, PART_CLASSES
from twin.errors import ConfigError
from twin.policies.baseline import StaticMinMaxReplenishment
from twin.policies.demand_distribution import quantile
from twin.policies.observation import IntArray, PartsView, ReplenishmentDecision

_DEFAULTS = DynamicReplenishmentConfig()  # defaults are declared once, in twin.config
_REVIEW_PERIOD_DAYS = np.array([part_class.review_period_days for part_class in PART_CLASSES], dtype=np.int64)


class DynamicReplenishment:
    """Forecast-driven order-up-to levels per dealer-SKU with a service level per part class."""

    #: the engine refuses to build this policy without the control tower's forecasts
    needs_forecast = True

    def __init__(
        self,
        service_level_by_class: Mapping[str, float] = _DEFAULTS.service_level_by_class,
        phase_in_lines_per_year: int = _DEFAULTS.phase_in_lines_per_year,
        dc_min_cover_days_over_lead_time: float = _DEFAULTS.dc_min_cover_days_over_lead_time,
        dc_max_cover_days_over_lead_time: float = _DEFAULTS.dc_max_cover_days_over_lead_time,
    ) -> None:
        unknown = sorted(set(service_level_by_class) - set(PART_CLASS_NAMES))
        if unknown:
            raise ConfigError(
                "policy.replenishment.service_level_by_class",
                unknown[0],
                f"is not a part class {PART_CLASS_NAMES}",
            )
        missing = [name for name in PART_CLASS_NAMES if name not in service_level_by_class]
        if missing:
            raise ConfigError(
                "policy.replenishment.service_level_by_class", missing[0], "has no service level"
            )
        self.service_level = np.array([float(service_level_by_class[name]) for name in PART_CLASS_NAMES])
        self.phase_in_lines_per_year = phase_in_lines_per_year
        self._dc_rule = StaticMinMaxReplenishment(
            phase_in_lines_per_year=phase_in_lines_per_year,
            dc_min_cover_days_over_lead_time=dc_min_cover_days_over_lead_time,
            dc_max_cover_days_over_lead_time=dc_max_cover_days_over_lead_time,
        )

    def replenish(self, view: PartsView, candidate_cells: IntArray) -> ReplenishmentDecision:
        forecast = view.forecast
        if forecast is None:
            raise ConfigError("PartsView.forecast", None, "dynamic replenishment needs a demand forecast")
        skus = view.on_hand.shape[1]
        dealer_cells_end = view.dealer_count * skus
        at_dc = candidate_cells >= dealer_cells_end
        dc_decision = self._dc_rule.replenish(view, candidate_cells[at_dc])
        cells = candidate_cells[~at_dc]
        dealer = cells // skus
        sku = cells - dealer * skus
        # a cell is due when (day + dealer) is a multiple of its class's review period: one small table of
        # [period, dealer] for the day, then a look-up per cell (no division per cell)
        periods, period_kind = np.unique(_REVIEW_PERIOD_DAYS[view.part_class], return_inverse=True)
        due_today = (view.day + np.arange(view.dealer_count))[None, :] % periods[:, None] == 0
        due = due_today[period_kind.ravel()[sku], dealer]
        deferred = cells[~due]
        cells, dealer, sku = cells[due], dealer[due], sku[due]
        part_class = view.part_class[sku]
        period = _REVIEW_PERIOD_DAYS[part_class]

        mean_per_day, dispersion, lines_per_year = forecast.distribution(cells)
        stocked = lines_per_year >= self.phase_in_lines_per_year
        # the uncovered days depend on the dealer only: worked out once per dealer with a cell due today (the
        # sum runs up to the longest of the lanes given, the same over these dealers as over their cells)
        reviewing = np.flatnonzero(np.bincount(dealer, minlength=view.dealer_count))
        lead_time_sd_by_dealer = (
            view.dealer_lead_time_sd_days[reviewing] if view.dealer_lead_time_sd_days is not None else 0.0
        )
        lead_time_by_dealer = np.zeros(view.dealer_count)
        lead_time_by_dealer[reviewing] = uncovered_demand_days(
            view.dealer_lead_time_days[reviewing], lead_time_sd_by_dealer
        )
        # the lead-time convention (twin.domain.lead_time): tonight's order is on the shelf the morning of
        # d + ceil(L), so it misses ceil(L) - 1 demand days; the next review's order takes over after ``period``
        # transit-time spread adds (mean per day x lead-time sd)^2 to the protection demand's variance
        lead_time_sd = (
            view.dealer_lead_time_sd_days[dealer] if view.dealer_lead_time_sd_days is not None else 0.0
        )
        lead_time = lead_time_by_dealer[dealer]
        protection_days = lead_time + period
        protection_dispersion = dispersion + mean_per_day * lead_time_sd**2 / protection_days
        # an unstocked cell's level is 0 whatever its quantile: the quantile is worked out for stocked ones
        level = np.zeros(cells.size, dtype=np.int64)
        stocked_index = np.flatnonzero(stocked)
        level[stocked_index] = np.maximum(
            quantile(
                self.service_level[part_class[stocked_index]],
                (mean_per_day * protection_days)[stocked_index],
                protection_dispersion[stocked_index],
            ),
            1,
        )
        position = view.position(dealer, sku).astype(np.int64)
        order = position < level
        cells, dealer, sku = cells[order], dealer[order], sku[order]
        quantity = (level - position)[order].astype(np.int32)

        # risk of running out before an order placed now has served its first day on the shelf: a normal
        # approximation is enough to rank the day's orders (an ordering key, not a probability anyone reads)
        available = (view.on_hand[dealer, sku] - view.reserved[dealer, sku]).astype(float)
        lead_demand = mean_per_day[order] * (lead_time[order] + 1.0)
        spread = np.sqrt(np.maximum(lead_demand * dispersion[order], 1e-9))
        risk = special.ndtr((lead_demand - available - 0.5) / spread)
        priority = np.argsort(-risk, kind="stable")
        return ReplenishmentDecision(
            location=np.concatenate((dealer[priority], dc_decision.location)),
            sku=np.concatenate((sku[priority], dc_decision.sku)),
            quantity=np.concatenate((quantity[priority], dc_decision.quantity)).astype(np.int32),
            deferred_cells=np.concatenate((deferred, dc_decision.deferred_cells)),
        )
