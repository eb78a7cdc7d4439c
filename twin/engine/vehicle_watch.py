"""The control tower's vehicle side inside the twin: customers feed the dealer x model forecast, and once a
week every dealer x spec is scored for the risk of running out, from the live yard and inbound counts.

- d+0.00 (next day) the previous day's customers, all arrived by then, are observed;
- every ``RISK_PERIOD_DAYS`` at the risk assessment: dealer x spec pairs at risk within each horizon (pairs
  with meaningful demand only: at least ``MIN_DEMAND_OVER_HORIZON`` expected customers over the horizon);
- weekly forecast accuracy per dealer x model: the week's forecast (made at its start) against the
  customers who came, scaled by the naive "same as last week" error (MASE) and as a bias.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

from twin.domain.world import World
from twin.engine.demand import DemandModel, VehicleCustomers
from twin.policies.vehicle_forecast import VehicleDemandForecaster

RISK_PERIOD_DAYS = 7
MIN_DEMAND_OVER_HORIZON = 0.25
_ACCURACY_SUMS = ("absolute_error", "error", "actual", "naive_absolute")


class VehicleCounts(Protocol):
    """The live counts per ``[dealer, spec]`` the watch reads (the vehicle flow's)."""

    dealer_stock: npt.NDArray[np.int32]
    dealer_inbound: npt.NDArray[np.int32]
    sales_28d: npt.NDArray[np.int32]


class VehicleWatch:
    def __init__(
        self,
        vehicles: VehicleCounts,
        world: World,
        demand: DemandModel,
        horizon_days: int,
        warmup_days: int,
        start_day: int,
        horizons_days: npt.NDArray[np.float64],
        risk_threshold: float,
    ) -> None:
        self.vehicles = vehicles
        self.warmup_days = warmup_days
        self.start_day = start_day
        season = np.array([demand.vehicle_season(day) for day in range(horizon_days + 30)])
        self.forecaster = VehicleDemandForecaster(world.dealer_region, world.specs.model, season)
        self.horizons_days = horizons_days
        self.risk_threshold = risk_threshold
        self.pending: tuple[int, npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None
        shape = self.forecaster.level.shape
        self.week_forecast = np.zeros(shape)
        self.week_actual = np.zeros(shape)
        self.last_week_actual = np.full(shape, np.nan)
        self.accuracy = {name: 0.0 for name in _ACCURACY_SUMS}
        self.at_risk_share: list[tuple[int, float, float]] = []  # day, share at the shortest and longest

    def prime(self) -> None:
        self.forecaster.prime(self.start_day, self.vehicles.sales_28d)
        self.week_forecast = self.forecaster.model_mean_per_day(self.start_day - 1) * RISK_PERIOD_DAYS

    def customers_sampled(self, day: int, batch: VehicleCustomers) -> None:
        """Today's batch is kept until tomorrow, when all of it has arrived; yesterday's is observed now."""
        if self.pending is not None:
            self._observe(*self.pending)
        self.pending = (day, batch.dealer.astype(np.int64), batch.spec.astype(np.int64))

    def _observe(self, day: int, dealer: npt.NDArray[np.int64], spec: npt.NDArray[np.int64]) -> None:
        self.forecaster.observe(day, dealer, spec)
        np.add.at(self.week_actual, (dealer, self.forecaster.spec_model[spec]), 1.0)
        if (day + 1) % RISK_PERIOD_DAYS == 0:  # a week ends: score it, forecast the next one
            if day >= self.warmup_days:
                error = self.week_forecast - self.week_actual
                sums = self.accuracy
                sums["absolute_error"] += float(np.abs(error).sum())
                sums["error"] += float(error.sum())
                sums["actual"] += float(self.week_actual.sum())
                if not np.isnan(self.last_week_actual).any():
                    sums["naive_absolute"] += float(np.abs(self.week_actual - self.last_week_actual).sum())
            self.last_week_actual = self.week_actual
            self.week_actual = np.zeros_like(self.week_actual)
            season = sum(self.forecaster.season(day + 1 + offset) for offset in range(RISK_PERIOD_DAYS))
            self.week_forecast = self.forecaster.level * season

    def assess(self, day: int) -> None:
        if day % RISK_PERIOD_DAYS:
            return
        vehicles = self.vehicles
        risks = self.forecaster.stockout_risk(
            vehicles.dealer_stock, vehicles.dealer_inbound, self.horizons_days.tolist()
        )
        demand = self.forecaster.mean_per_day()
        shares = []
        for column in (0, -1):
            relevant = demand * self.horizons_days[column] >= MIN_DEMAND_OVER_HORIZON
            at_risk = relevant & (risks[..., column] >= self.risk_threshold)
            shares.append(float(at_risk.sum()) / max(int(relevant.sum()), 1))
        self.at_risk_share.append((day, shares[0], shares[1]))

    def summary(self, warmup_days: int) -> dict[str, float]:
        sums = self.accuracy
        measured = [row for row in self.at_risk_share if row[0] >= warmup_days]
        shortest, longest = (int(self.horizons_days[0]), int(self.horizons_days[-1]))
        return {
            "vehicle_forecast_mase_weekly": sums["absolute_error"] / sums["naive_absolute"]
            if sums["naive_absolute"]
            else float("nan"),
            "vehicle_forecast_bias": sums["error"] / sums["actual"] if sums["actual"] else float("nan"),
            f"vehicle_specs_at_risk_{shortest}d_share": float(np.mean([row[1] for row in measured]))
            if measured
            else float("nan"),
            f"vehicle_specs_at_risk_{longest}d_share": float(np.mean([row[2] for row in measured]))
            if measured
            else float("nan"),
        }

    # -- state for snapshots ----------------------------------------------------------------------------
    def state_arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        arrays = {f"forecast_{name}": array for name, array in self.forecaster.state_arrays().items()}
        day, dealer, spec = self.pending if self.pending is not None else (-1, np.zeros(0), np.zeros(0))
        arrays |= {
            "pending_day": np.array([day]),
            "pending_dealer": np.asarray(dealer, dtype=np.int64),
            "pending_spec": np.asarray(spec, dtype=np.int64),
            "week_forecast": self.week_forecast.copy(),
            "week_actual": self.week_actual.copy(),
            # before the first full week there is no last week (NaN in memory); a state holds numbers only
            "last_week_actual": np.nan_to_num(self.last_week_actual, nan=0.0),
            "last_week_known": np.array([int(not np.isnan(self.last_week_actual).any())]),
            "accuracy": np.array([self.accuracy[name] for name in _ACCURACY_SUMS]),
            "at_risk_share": np.array(self.at_risk_share, dtype=float).reshape(-1, 3),
        }
        return arrays

    def load_state_arrays(self, arrays: dict[str, npt.NDArray[np.generic]]) -> None:
        self.forecaster.load_state_arrays(
            {
                name[len("forecast_") :]: array
                for name, array in arrays.items()
                if name.startswith("forecast_")
            }
        )
        day = int(arrays["pending_day"][0])
        self.pending = (
            (
                day,
                np.asarray(arrays["pending_dealer"], dtype=np.int64),
                np.asarray(arrays["pending_spec"], dtype=np.int64),
            )
            if day >= 0
            else None
        )
        self.week_forecast = np.array(arrays["week_forecast"], dtype=float)
        self.week_actual = np.array(arrays["week_actual"], dtype=float)
        self.last_week_actual = np.array(arrays["last_week_actual"], dtype=float)
        if "last_week_known" in arrays and not int(np.asarray(arrays["last_week_known"])[0]):
            self.last_week_actual[:] = np.nan
        self.accuracy = dict(
            zip(_ACCURACY_SUMS, np.asarray(arrays["accuracy"], dtype=float).tolist(), strict=True)
        )
        self.at_risk_share = [
            (int(row[0]), float(row[1]), float(row[2])) for row in np.asarray(arrays["at_risk_share"])
        ]
