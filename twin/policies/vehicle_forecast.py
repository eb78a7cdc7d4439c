"""Vehicle demand forecasts per dealer x model, the spec mix within each model per region, and the risk that
a dealer runs out of a spec.

Vehicle demand is a few customers per dealer a day, so the series are small and dense: dealer x model is
~3,000 series and region x spec a few thousand shares, updated every day in one pass each.
- Level: SES on the deseasonalised daily count of customers per dealer x model (the OEM's monthly retail
  profile is the seasonal index), started from the dealer's last 28 days of retail.
- Mix: the share of each spec within its model per region, smoothed over customer counts (a region pools
  its dealers: one dealer's few customers a month say little about colours).
- Distribution: customer arrivals are Poisson, so demand for a spec over ``h`` days is Poisson with mean
  level x season x mix x h; the risk of running out within ``h`` is P(demand > units in the yard + units
  arriving within ``h``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from twin.policies.demand_distribution import exceed_probability

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class VehicleDemandForecaster:
    def __init__(
        self,
        dealer_region: IntArray,
        spec_model: IntArray,
        season_index: FloatArray,
        level_alpha: float = 0.03,
        mix_alpha: float = 0.02,
    ) -> None:
        self.dealer_region = np.asarray(dealer_region, dtype=np.int64)
        self.spec_model = np.asarray(spec_model, dtype=np.int64)
        self.season_index = np.asarray(season_index, dtype=float)
        self.level_alpha = level_alpha
        self.mix_alpha = mix_alpha
        dealers, models = self.dealer_region.size, int(self.spec_model.max()) + 1
        regions = int(self.dealer_region.max()) + 1
        #: deseasonalised customers a day per dealer x model
        self.level = np.zeros((dealers, models))
        #: smoothed customers a day per region x spec (shares within a model are taken at query time)
        self.region_spec = np.zeros((regions, self.spec_model.size))
        self.day = -1

    def season(self, day: int) -> float:
        return float(self.season_index[min(max(day, 0), self.season_index.size - 1)])

    def prime(self, day: int, dealer_spec_sales_28d: npt.NDArray[np.integer]) -> None:
        """Start from the last 28 days of retail per dealer x spec (what the DMS export shows)."""
        daily = np.asarray(dealer_spec_sales_28d, dtype=float) / 28.0
        models = self.level.shape[1]
        by_model = np.zeros((daily.shape[0], models))
        np.add.at(by_model.T, self.spec_model, daily.T)
        self.level[:] = by_model / self.season(day)
        np.add.at(self.region_spec, self.dealer_region, daily)
        # a spec nobody bought keeps a small share, so a model's mix never rules a spec out entirely
        self.region_spec += 1e-3
        self.day = day - 1

    def observe(self, day: int, dealer: IntArray, spec: IntArray) -> None:
        """The customers who asked for a vehicle on ``day`` (their first-choice spec)."""
        if day <= self.day:
            raise ValueError(f"day {day} already observed (last observed day {self.day})")
        self.day = day
        counts = np.zeros(self.level.shape)
        np.add.at(counts, (dealer, self.spec_model[spec]), 1.0)
        alpha = self.level_alpha
        self.level = alpha * counts / self.season(day) + (1.0 - alpha) * self.level
        region_counts = np.zeros(self.region_spec.shape)
        np.add.at(region_counts, (self.dealer_region[dealer], spec), 1.0)
        self.region_spec = self.mix_alpha * region_counts + (1.0 - self.mix_alpha) * self.region_spec

    def spec_mix(self) -> FloatArray:
        """Share of each spec within its model, per region ``[region, spec]``."""
        models = self.level.shape[1]
        model_total = np.zeros((self.region_spec.shape[0], models))
        np.add.at(model_total.T, self.spec_model, self.region_spec.T)
        return self.region_spec / np.maximum(model_total[:, self.spec_model], 1e-12)

    def mean_per_day(self, day: int | None = None) -> FloatArray:
        """Expected customers a day per dealer x spec on the day after ``day`` (default: the last observed)."""
        ahead = (self.day if day is None else day) + 1
        by_model = self.level[:, self.spec_model] * self.season(ahead)
        return by_model * self.spec_mix()[self.dealer_region]

    def model_mean_per_day(self, day: int | None = None) -> FloatArray:
        """Expected customers a day per dealer x model."""
        ahead = (self.day if day is None else day) + 1
        return self.level * self.season(ahead)

    def stockout_risk(
        self, stock: npt.NDArray[np.integer], inbound: npt.NDArray[np.integer], horizons_days: Sequence[float]
    ) -> FloatArray:
        """P(a dealer runs out of a spec within each horizon), ``[dealer, spec, horizon]``: demand over the
        horizon beyond the yard's unreserved units plus the allocated units on their way (counted as in
        time: car-carrier legs are a few days, shorter than the horizons a planner acts on)."""
        mean = self.mean_per_day()
        available = (np.asarray(stock, dtype=float) + np.asarray(inbound, dtype=float)).reshape(-1)
        risks = np.empty((*mean.shape, len(horizons_days)))
        for column, horizon in enumerate(horizons_days):
            risks[..., column] = exceed_probability(
                available, mean.reshape(-1) * horizon, np.ones(available.size)
            ).reshape(mean.shape)
        return risks

    def state_arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        return {
            "level": self.level.copy(),
            "region_spec": self.region_spec.copy(),
            "day": np.array([self.day]),
        }

    def load_state_arrays(self, arrays: dict[str, npt.NDArray[np.generic]]) -> None:
        self.level = np.array(arrays["level"], dtype=float)
        self.region_spec = np.array(arrays["region_spec"], dtype=float)
        self.day = int(arrays["day"][0])
