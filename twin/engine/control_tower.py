"""The control tower's forecasting and alerting loop inside the twin: it feeds the forecaster each day's demand,
re-assesses the stock-out risk of dealer-SKU cells whose stock or demand changed, keeps the alert book,
and measures how good both were (forecast accuracy on a sample of series, alert precision and recall).

The decisions and numbers come from the pure policy layer (twin.policies.forecasting, stockout_risk,
alerts); this module only decides when they run and what they see:
- d+0.05 consignments received: the cells' stock-out episode ends, they are re-assessed;
- d+0.25 demand: every line (filled or not) goes to the forecaster; a monitored cell whose line could not be
  filled from the shelf starts a stock-out episode (counted once until stock arrives again);
- d+0.75 consignments leaving for a cell mark its open alert "acted on";
- d+0.78 risk assessment of the changed cells, counting the consignments that just left, so an alert
  warns of a shortfall the current plan does not cover. Cells already in a stock-out episode are not
  assessed: the dealer knows, and an alert there could never come true.
Monitored cells are the stocked ones: demand lines a year (history plus observed) at or above the phase-in
rule's count. Demand for parts a dealer does not stock is not an alert.

With ``operations.parts_visibility = weekly_export`` the tower sees dealers through the DMS export
(twin.engine.parts_export): the risk is assessed on the export's positions and ETAs (plus the OEM's own
shipments since), the forecaster learns a week's demand when the export lands, and the cells re-assessed
are those the export shows changed. What the tower is measured against stays the truth: stock-out episodes
start and end on the real shelf, so precision, recall and lead times of both worlds are comparable.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import simpy

from twin.config import AlertConfig, ForecastConfig
from twin.domain.parts import PART_CLASSES
from twin.engine.demand import DemandModel, PartsLines
from twin.engine.eventlog import EventLog
from twin.engine.kpis import KpiRecorder
from twin.engine.parts_export import PartsExport
from twin.engine.parts_flow import LineOutcome, PartsFlow
from twin.engine.streams import RandomStreams
from twin.engine.vehicle_watch import VehicleWatch
from twin.policies.alerts import AlertBook, AlertOutcome
from twin.policies.demand_distribution import exceed_probability_approximate
from twin.policies.forecasting import (
    DEMAND_CLASS_NAMES,
    DemandClass,
    ForecastSettings,
    IntermittentForecaster,
    Method,
    Selection,
)
from twin.policies.stockout_risk import expected_stockout_days, stockout_probability

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
#: safety margin on the screening approximation (it errs by about 0.02)
SCREEN_MARGIN = 0.05
_ACCURACY_SUMS = ("error", "absolute_error", "squared_error", "actual", "naive_absolute", "naive_squared")


class ControlTower:
    def __init__(
        self,
        clock: simpy.Environment,
        forecast: ForecastConfig,
        alerts: AlertConfig,
        phase_in_lines_per_year: float,
        warmup_days: int,
        horizon_days: int,
        dealers: int,
        parts: PartsFlow,
        inbound_eta_day: npt.NDArray[np.float32],
        dealer_lead_time_sd_days: FloatArray,
        demand: DemandModel,
        vehicle_watch: VehicleWatch,
        streams: RandomStreams,
        kpis: KpiRecorder,
        event_log: EventLog,
        export: PartsExport | None = None,
    ) -> None:
        """``export``: the OEM's weekly DMS export to see dealers through; None = the live feed."""
        self.env = clock
        self.export = export
        self.parts = parts
        self.inbound_eta_day = inbound_eta_day
        self.dealer_lead_time_sd_days = dealer_lead_time_sd_days
        self.kpis = kpis
        self.event_log = event_log
        self.warmup_days = warmup_days
        self.dealers = dealers
        self.skus = parts.skus
        self.cells = dealers * self.skus
        self.phase_in_lines_per_year = phase_in_lines_per_year
        settings = ForecastSettings(
            alpha=forecast.alpha,
            tsb_alpha_size=forecast.tsb_alpha_size,
            tsb_alpha_probability=forecast.tsb_alpha_probability,
            ses_alpha=forecast.ses_alpha,
            method_by_class=tuple(
                Method[getattr(forecast, f"method_{name}").upper()] for name in DEMAND_CLASS_NAMES
            ),
            selection=Selection(forecast.selection),
        )
        # the OEM knows its network's parts seasonality from past years; the forecaster gets that profile
        season = np.array([demand.parts_season(day) for day in range(horizon_days + 15)])
        self.forecaster = IntermittentForecaster(self.cells, settings, season_index=season, start_day=0)
        self.alerts = (
            AlertBook(self.cells, alerts.horizons_days, alerts.risk_threshold, alerts.clear_threshold)
            if alerts.enabled
            else None
        )
        self.horizons_days = np.asarray(alerts.horizons_days, dtype=float)
        self.clear_threshold = alerts.clear_threshold
        self.risk_threshold = alerts.risk_threshold
        self.vehicle_watch = vehicle_watch
        #: cells in a stock-out episode (a short line since the last receipt)
        self.in_stockout = np.zeros(self.cells, dtype=bool)
        #: cells whose stock or demand changed since the last assessment
        self.changed = np.zeros(self.cells, dtype=bool)
        sample_size = min(forecast.accuracy_sample_series, self.cells)
        rng = streams.get("forecast_accuracy_sample")
        self.sample = np.sort(rng.choice(self.cells, size=sample_size, replace=False)).astype(np.int64)
        self.sample_slot = np.full(self.cells, -1, dtype=np.int64)
        self.sample_slot[self.sample] = np.arange(sample_size)
        self.accuracy = {name: np.zeros(sample_size) for name in _ACCURACY_SUMS}
        self.accuracy_days = 0
        self.previous_actual = np.zeros(sample_size)

    def prime(self, history_lines_per_year: FloatArray) -> None:
        """Warm start from the 12-month parts history and the vehicles' last 28 days of retail.

        The DMS history counts demand lines (sizes geometric with the class mean); the forecaster works on
        daily totals, so lines are turned into demand days and daily-total moments: with ``rate`` lines a
        day, a day has demand with probability 1 - e^-rate, and E[Y], E[Y^2] of a compound Poisson day.
        """
        self.vehicle_watch.prime()
        line_size = np.array([c.units_per_line_mean for c in PART_CLASSES])[self.parts.part_class]
        line_size_square = 2.0 * line_size**2 - line_size
        rate = history_lines_per_year.reshape(-1) / 365.0
        line_size, line_size_square = (
            np.tile(line_size, self.dealers),
            np.tile(line_size_square, self.dealers),
        )
        demand_day_share = -np.expm1(-rate)
        seen = demand_day_share > 0
        share = np.where(seen, demand_day_share, 1.0)
        self.forecaster.prime(
            365.0 * demand_day_share,
            np.where(seen, rate * line_size / share, 0.0),
            np.where(seen, (rate * line_size_square + (rate * line_size) ** 2) / share, 0.0),
        )

    # -- the day's events -------------------------------------------------------------------------------
    def received(self, cells: IntArray) -> None:
        """A receipt ends a stock-out episode and only lowers risk: cells with an open alert (which may now
        clear) and cells coming out of a stock-out (a partial receipt may leave them at risk) are re-assessed
        (on the live feed; an export shows the receipt when it lands)."""
        dealer_cells = cells[cells < self.cells]
        if self.alerts is not None and self.export is None:
            reassess = (self.alerts.open_alert[dealer_cells] >= 0) | self.in_stockout[dealer_cells]
            self.changed[dealer_cells[reassess]] = True
        self.in_stockout[dealer_cells] = False

    def observe_demand(self, day: int, lines: PartsLines, outcome: LineOutcome) -> None:
        cells = lines.location * self.skus + lines.sku  # sorted: lines come sorted by (dealer, sku)
        if cells.size == 0:
            self._learn(day, cells, np.zeros(0))
            return
        starts = np.flatnonzero(np.concatenate(([True], cells[1:] != cells[:-1])))
        unique_cells = cells[starts]
        units = np.add.reduceat(lines.quantity.astype(np.float64), starts)
        if day >= self.warmup_days and self.sample.size:
            self._score_sample(day, unique_cells, units)  # the forecast the OEM has today, against the truth
        self._learn(day, unique_cells, units)
        short = np.unique(cells[~outcome.first_pick])
        monitored = self.forecaster.lines_per_year(short) >= self.phase_in_lines_per_year
        starting = short[monitored & ~self.in_stockout[short]]
        self.in_stockout[starting] = True
        if self.alerts is not None and starting.size:
            warned_by = self.alerts.record_stockouts(day, starting)
            self.kpis.add(day, "parts_stockouts", float(starting.size))
            self.kpis.add(day, "parts_stockouts_unwarned", float((warned_by < 0).sum()))
            self._log("stockout", day, starting, alert=warned_by)

    def _learn(self, day: int, cells: IntArray, units: FloatArray) -> None:
        """The day's demand reaches the forecaster now (live feed) or with the next export."""
        if self.export is not None:
            self.export.hold_demand(day, cells, units)
            return
        self.forecaster.observe(day, cells, units)
        self.changed[cells] = True

    def export_landed(self, changed_cells: IntArray) -> None:
        """A DMS export arrived: the forecaster learns the days it holds, in order, and the cells whose
        position or demand the OEM now sees differently are re-assessed."""
        assert self.export is not None
        for held in self.export.take_held_demand():
            self.forecaster.observe(held.day, held.cells, held.units)
            self.changed[held.cells] = True
        self.changed[changed_cells] = True

    def _score_sample(self, day: int, cells: IntArray, units: FloatArray) -> None:
        """One-day-ahead errors on the sampled series (forecast made at the end of yesterday)."""
        forecast = self.forecaster.mean_per_day(self.sample)
        actual = np.zeros(self.sample.size)
        slot = self.sample_slot[cells]
        actual[slot[slot >= 0]] = units[slot >= 0]
        error = forecast - actual
        sums = self.accuracy
        sums["error"] += error
        sums["absolute_error"] += np.abs(error)
        sums["squared_error"] += error * error
        sums["actual"] += actual
        if self.accuracy_days:
            change = actual - self.previous_actual
            sums["naive_absolute"] += np.abs(change)
            sums["naive_squared"] += change * change
        self.previous_actual = actual
        self.accuracy_days += 1

    def assess(self, day: int) -> None:
        """Re-assess changed cells: risk within each horizon, alerts raised, flagged and cleared."""
        if self.alerts is None:
            return
        self.vehicle_watch.assess(day)
        cells = np.flatnonzero(self.changed)
        self.changed[cells] = False
        export = self.export
        known_out = self.in_stockout if export is None else export.in_stockout
        cells = cells[~known_out[cells]]
        if export is None:
            on_hand, reserved, in_transit = (
                self.parts.state.on_hand,
                self.parts.state.reserved,
                self.parts.state.in_transit,
            )
            inbound_eta_day = self.inbound_eta_day
        else:
            on_hand, reserved, in_transit = (
                export.positions["on_hand"],
                export.positions["reserved"],
                export.positions["in_transit"],
            )
            inbound_eta_day = export.inbound_eta_day
        available = (on_hand.reshape(-1)[cells] - reserved.reshape(-1)[cells]).astype(float)
        # screening: the risk over the longest horizon from an upper bound on the forecast mean, ignoring the
        # inbound (both only raise it), by the cheap approximation (errs by ~0.02); cells clearly below the
        # level that matters (the clear level for open alerts, the threshold otherwise) need nothing more
        upper_mean, dispersion, lines_per_year = self.forecaster.screen(cells)
        longest = float(self.horizons_days[-1])
        bound = exceed_probability_approximate(available, upper_mean * longest, dispersion) + SCREEN_MARGIN
        has_alert = self.alerts.open_alert[cells] >= 0
        monitored = lines_per_year >= self.phase_in_lines_per_year
        needs_exact = monitored & (bound >= np.where(has_alert, self.clear_threshold, self.risk_threshold))
        keep = needs_exact | has_alert  # open alerts out of reach of the clear level are cleared with risk 0
        cells, available, dispersion = cells[keep], available[keep], dispersion[keep]
        exact = np.flatnonzero(needs_exact[keep])
        inbound = in_transit.reshape(-1)[cells].astype(float)
        mean_per_day = np.zeros(cells.size)
        mean_per_day[exact] = self.forecaster.mean_per_day(cells[exact])
        risks = np.zeros((cells.size, self.horizons_days.size))
        eta_days = np.full(cells.size, np.inf)
        eta_days[exact] = inbound_eta_day[cells[exact]].astype(float) - day
        spread = self.dealer_lead_time_sd_days[cells // self.skus]
        levels = (self.clear_threshold, self.risk_threshold)

        def risk_of(rows: IntArray, horizons: list[float]) -> FloatArray:
            return stockout_probability(
                available[rows], inbound[rows], eta_days[rows], spread[rows], mean_per_day[rows],
                dispersion[rows], horizons, levels,
            )  # fmt: skip

        risks[exact, -1] = risk_of(exact, [longest])[:, 0]
        # risk grows with the horizon: the shorter ones matter only where the longest reached the threshold.
        # The longest one's own risk is already known there; the risks are then made non-decreasing in the
        # horizon over all of them, as one call over every horizon would
        high = exact[risks[exact, -1] >= self.risk_threshold]
        if self.horizons_days.size > 1:
            risks[high, :-1] = risk_of(high, self.horizons_days[:-1].tolist())
            risks[high] = np.maximum.accumulate(risks[high], axis=1)
        # the alert book needs the cells that can raise (risk at the threshold) or hold an open alert
        book = np.flatnonzero((risks[:, -1] >= self.risk_threshold) | (self.alerts.open_alert[cells] >= 0))
        expected_day = day + expected_stockout_days(
            available[book], inbound[book], eta_days[book], mean_per_day[book]
        )
        raised = self.alerts.assess(day, cells[book], risks[book], expected_day)
        self.alerts.expire(day)
        self.kpis.add(day, "parts_alerts_raised", float(raised.size))
        if self.event_log.enabled:
            columns = self.alerts.alerts
            for alert, severity in zip(raised.tolist(), self.alerts.severity(raised), strict=True):
                cell = int(columns["cell"][alert])
                self.event_log.record(
                    self.env.now,
                    "alert_raised",
                    alert=alert,
                    dealer=cell // self.skus,
                    sku=cell % self.skus,
                    severity=severity,
                    risk=[round(float(value), 3) for value in columns["risk"][alert]],
                    expected_stockout_day=round(float(columns["expected_stockout_day"][alert]), 1),
                )
            closed = np.flatnonzero(columns["closed_day"] == day)
            closed = closed[columns["outcome"][closed] != AlertOutcome.STOCKED_OUT]  # logged as stock-outs
            for alert, outcome in zip(closed.tolist(), columns["outcome"][closed].tolist(), strict=True):
                cell = int(columns["cell"][alert])
                self.event_log.record(
                    self.env.now,
                    "alert_closed",
                    alert=alert,
                    dealer=cell // self.skus,
                    sku=cell % self.skus,
                    outcome=AlertOutcome(outcome).name.lower(),
                )

    def shipped(self, day: int, cells: IntArray) -> None:
        if self.alerts is not None:
            acted = self.alerts.acted_on(day, cells[cells < self.cells])
            self._log("alert_acted_on", day, self.alerts.alerts["cell"][acted], alert=acted)

    def _log(self, kind: str, day: int, cells: npt.NDArray[Any], alert: npt.NDArray[Any]) -> None:
        log = self.event_log
        if not log.enabled or cells.size == 0:
            return
        for cell, alert_id in zip(cells.tolist(), alert.tolist(), strict=True):
            log.record(self.env.now, kind, dealer=cell // self.skus, sku=cell % self.skus, alert=alert_id)

    # -- results ----------------------------------------------------------------------------------------
    def summary(self, warmup_days: int, horizon_days: int) -> dict[str, float]:
        result: dict[str, float] = {}
        monitored = self.forecaster.lines_per_year(np.arange(self.cells)) >= self.phase_in_lines_per_year
        mix = self.forecaster.class_mix(np.flatnonzero(monitored))
        for name, share in mix.items():
            result[f"forecast_class_share_{name}"] = share
        if self.sample.size and self.accuracy_days > 1:
            result.update(self._accuracy_by_class())
        if self.alerts is not None:
            result.update(self.alerts.kpis(warmup_days, horizon_days))
        result.update(self.vehicle_watch.summary(warmup_days))
        if self.alerts is None:  # vehicle risk is scored with the alerts
            result = {name: value for name, value in result.items() if "at_risk" not in name}
        return result

    def _accuracy_by_class(self) -> dict[str, float]:
        """MASE and RMSSE per series (scaled by the naive one-day-ahead error of the same series over the same
        days), averaged per Syntetos-Boylan class; bias = total error / total demand."""
        sums, days = self.accuracy, self.accuracy_days
        classes = self.forecaster.demand_class(self.sample)
        scale_absolute = sums["naive_absolute"] / (days - 1)
        scale_squared = sums["naive_squared"] / (days - 1)
        scored = scale_absolute > 0
        mase = np.where(scored, sums["absolute_error"] / days / np.maximum(scale_absolute, 1e-12), np.nan)
        rmsse = np.where(
            scored, np.sqrt(sums["squared_error"] / days / np.maximum(scale_squared, 1e-12)), np.nan
        )
        result: dict[str, float] = {}
        for demand_class in DemandClass:
            if demand_class == DemandClass.NO_DEMAND:
                continue
            members = (classes == demand_class) & scored
            name = demand_class.name.lower()
            result[f"forecast_mase_{name}"] = float(np.mean(mase[members])) if members.any() else float("nan")
            result[f"forecast_rmsse_{name}"] = (
                float(np.mean(rmsse[members])) if members.any() else float("nan")
            )
            actual = sums["actual"][members].sum()
            result[f"forecast_bias_{name}"] = (
                float(sums["error"][members].sum() / actual) if actual else float("nan")
            )
        result["forecast_mase"] = float(np.nanmean(mase)) if scored.any() else float("nan")
        total_actual = sums["actual"].sum()
        result["forecast_bias"] = float(sums["error"].sum() / total_actual) if total_actual else float("nan")
        return result

    # -- state for snapshots ----------------------------------------------------------------------------
    def state_arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        arrays = {f"forecast_{name}": array for name, array in self.forecaster.state_arrays().items()}
        if self.alerts is not None:
            arrays.update({f"alerts_{name}": array for name, array in self.alerts.state_arrays().items()})
        arrays.update({f"vehicle_{name}": array for name, array in self.vehicle_watch.state_arrays().items()})
        arrays["tower_in_stockout"] = self.in_stockout
        arrays["tower_changed"] = self.changed
        arrays["tower_previous_actual"] = self.previous_actual
        arrays["tower_accuracy_days"] = np.array([self.accuracy_days])
        for name, array in self.accuracy.items():
            arrays[f"tower_accuracy_{name}"] = array
        return arrays

    def load_state_arrays(self, arrays: dict[str, npt.NDArray[np.generic]]) -> None:
        self.forecaster.load_state_arrays(
            {
                name[len("forecast_") :]: array
                for name, array in arrays.items()
                if name.startswith("forecast_")
            }
        )
        if self.alerts is not None:
            self.alerts.load_state_arrays(
                {
                    name[len("alerts_") :]: array
                    for name, array in arrays.items()
                    if name.startswith("alerts_")
                }
            )
        self.vehicle_watch.load_state_arrays(
            {name[len("vehicle_") :]: array for name, array in arrays.items() if name.startswith("vehicle_")}
        )
        self.in_stockout[:] = arrays["tower_in_stockout"]
        self.changed[:] = arrays["tower_changed"]
        self.previous_actual = np.array(arrays["tower_previous_actual"], dtype=float)
        self.accuracy_days = int(arrays["tower_accuracy_days"][0])
        for name in self.accuracy:
            self.accuracy[name] = np.array(arrays[f"tower_accuracy_{name}"], dtype=float)
