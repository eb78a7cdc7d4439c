"""Demand forecasts for many daily series at once (dealer x SKU parts): Croston, SBA, TSB, simple exponential
smoothing (SES) and seasonal SES, one method per series chosen by its Syntetos-Boylan class, with a
negative-binomial distribution over any horizon.

Why lazy: on a given day few of the ~10^6 series see demand, and every method's state changes on a
zero-demand day in closed form (Croston's not at all; TSB's probability and SES's level decay
geometrically). So a series is updated only on days it sees demand, and a query brings its state forward
to the query day on the fly: one day costs O(series with demand), never a pass over all series.

Recursions follow Nixtla statsforecast's, so the two agree to rounding for the same smoothing parameters:
- SES: the level starts at the first observation; each later observation y moves it to a y + (1 - a) level;
- Croston: SES (alpha) over the non-zero sizes and over the intervals between them, the first interval
  counted from one period before the first observation; forecast = size / interval. SBA = Croston x
  (1 - alpha / 2);
- TSB: SES (alpha_probability) over the demand indicator of every period, starting at the first period's,
  and SES (alpha_size) over the non-zero sizes; forecast = probability x size.
Seasonal SES runs SES on demand divided by a known seasonal index (the OEM's network profile) and multiplies
the index back in for the forecast days.

Method selection: by default each series gets the method of its Syntetos-Boylan class. With
``selection=error`` the forecaster also keeps each method's in-sample one-step absolute error per series, and
a series gets the method with the smallest one so far (its class's method unless another is strictly
better). Why: on real data the class is a weak guide (on the PBS benchmark, benchmarks/forecast_pbs.py, the
error picks 10% better). The errors stay lazy: on the zero-demand days between two updates every method's
forecast decays geometrically (Croston's is flat), so their sum is a closed form; seasonal SES's uses the
index of the update day for those days (exact without a season index, close with a slowly moving one).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Syntetos-Boylan-Croston cut-offs: average inter-demand interval and squared CV of non-zero sizes
ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49


class DemandClass(IntEnum):
    """Numbered 2 x intermittent + variable, then no demand (``classify`` relies on it)."""

    SMOOTH = 0
    ERRATIC = 1
    INTERMITTENT = 2
    LUMPY = 3
    NO_DEMAND = 4


class Method(IntEnum):
    SES = 0
    SEASONAL_SES = 1
    CROSTON = 2
    SBA = 3
    TSB = 4


class Selection(StrEnum):
    """How a series' method is chosen: by its demand class, or by its in-sample one-step error."""

    CLASS = "class"
    ERROR = "error"


DEMAND_CLASS_NAMES = tuple(member.name.lower() for member in DemandClass)
METHOD_NAMES = tuple(member.name.lower() for member in Method)


def classify(average_interval_days: FloatArray, size_cv2: FloatArray, demand_days: FloatArray) -> IntArray:
    """Syntetos-Boylan class per series; series with fewer than two demand days have no class yet."""
    intermittent = average_interval_days >= ADI_CUTOFF
    variable = size_cv2 >= CV2_CUTOFF
    # the class numbers are 2 x intermittent + variable (smooth 0, erratic 1, intermittent 2, lumpy 3)
    classes = intermittent.astype(np.int64)
    classes *= 2
    classes += variable
    classes[demand_days < 2] = DemandClass.NO_DEMAND
    return classes


@dataclass(frozen=True)
class ForecastSettings:
    """Smoothing parameters and the method used for each demand class."""

    alpha: float = 0.1
    tsb_alpha_size: float = 0.1
    tsb_alpha_probability: float = 0.05
    ses_alpha: float = 0.05
    #: method per DemandClass (smooth, erratic, intermittent, lumpy, no demand yet)
    method_by_class: tuple[Method, ...] = (
        Method.SEASONAL_SES,
        Method.SEASONAL_SES,
        Method.SBA,
        Method.TSB,
        Method.TSB,
    )
    #: "class": the method of the series' class; "error": the method with the smallest in-sample one-step
    #: absolute error so far (the class's method on ties and before a series has a class)
    selection: Selection = Selection.CLASS

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "selection", Selection(self.selection))
        except ValueError:
            choices = ", ".join(member.value for member in Selection)
            raise ValueError(f"selection {self.selection!r}: must be one of {choices}") from None


#: rows of the day's forecast cache: what ``distribution`` returns, worked out together
_TODAY_MEAN, _TODAY_DISPERSION, _TODAY_LINES = range(3)
#: when more than this share of the series is asked for and not yet worked out today, all are worked out in
#: one pass over the contiguous state (no gather): cheaper than gathering most of them
FULL_PASS_SHARE = 0.5

#: per-series state, one column each (days and counts are whole numbers, exact in float64)
STATE_COLUMNS = (
    "last_demand_day",
    "croston_size",
    "croston_interval",
    "tsb_probability",
    "tsb_size",
    "ses_level",
    "seasonal_level",
    "demand_days",
    "size_sum",
    "size_square_sum",
)
(
    _LAST_DEMAND, _CROSTON_SIZE, _CROSTON_INTERVAL, _TSB_PROBABILITY, _TSB_SIZE, _SES_LEVEL,
    _SEASONAL_LEVEL, _DEMAND_DAYS, _SIZE_SUM, _SIZE_SQUARE_SUM,
) = range(len(STATE_COLUMNS))  # fmt: skip


class IntermittentForecaster:
    """Forecast state of ``series_count`` daily series, updated by the demand of each day in turn.

    ``observe(day, series, quantity)`` must be called once per day (days may be skipped only if they had no
    demand at all); ``series`` are the ones with demand that day. ``season_index(day)`` is the expected
    demand level of a day relative to the year's mean (1.0 without seasonality).

    The state is one ``[column, series]`` float64 matrix (see STATE_COLUMNS): a day's update or a query
    gathers the series it needs once (one ``take`` along the series axis instead of one per field), and the
    gathered columns come out contiguous, ready for the arithmetic. A series is
    updated only on its demand days, so its last update is its last demand (or the start, before that).
    """

    def __init__(
        self,
        series_count: int,
        settings: ForecastSettings | None = None,
        season_index: FloatArray | None = None,
        start_day: int = 0,
    ) -> None:
        self.settings = settings or ForecastSettings()
        self.series_count = series_count
        #: seasonal index per day since the start (extended with its last value when queried past the end)
        self.season_index = np.ones(1) if season_index is None else np.asarray(season_index, dtype=float)
        self.start_day = start_day
        self.day = start_day - 1
        #: cold start (statsforecast's convention: a series starts at its first observation); a primed
        #: forecaster has a year behind it, so demand on the start day is an ordinary update
        self.cold_start = True
        #: days of history behind the state (365 once primed): the Syntetos-Boylan interval counts them
        self.history_days = 0.0
        self.state = np.zeros((len(STATE_COLUMNS), series_count))
        self.state[_LAST_DEMAND] = start_day - 1
        self._decay_tables: dict[float, FloatArray] = {}
        self._method_table = np.array(self.settings.method_by_class, dtype=np.int64)
        #: ``[series, method]`` in-sample one-step absolute error through each series' last update
        #: (selection by error only)
        self.errors = (
            np.zeros((series_count, len(Method))) if self.settings.selection == Selection.ERROR else None
        )
        #: the day's forecasts per series (``_TODAY_*`` rows), valid where ``_today_version`` equals
        #: ``_version``, or everywhere when ``_all_today_version`` does; every change of the state (observe,
        #: prime, a restore) moves ``_version`` on. Why: the control tower, the dynamic replenishment and the
        #: rebalancing planner ask for overlapping series on the same day, and the state does not change
        #: between their calls
        self._version = 0
        self._today = np.zeros((3, series_count))
        self._today_version = np.full(series_count, -1, dtype=np.int64)
        self._all_today_version = -1

    # -- start from a history ---------------------------------------------------------------------------
    def prime(
        self,
        demand_days_per_year: FloatArray,
        size_mean: FloatArray,
        size_square_mean: FloatArray,
    ) -> None:
        """Warm start from a 12-month history (a DMS export): demand days and size moments per series.

        The state is what the recursions would hold after a year of regularly spaced demand of that size,
        so forecasts start at the history's rate instead of zero.
        """
        days = np.asarray(demand_days_per_year, dtype=float)
        seen = days > 0
        rate = days / 365.0
        interval = np.where(seen, 365.0 / np.maximum(days, 1e-12), 0.0)
        state = self.state
        state[_CROSTON_SIZE] = np.where(seen, size_mean, 0.0)
        state[_CROSTON_INTERVAL] = interval
        state[_TSB_PROBABILITY] = np.minimum(rate, 1.0)
        state[_TSB_SIZE] = state[_CROSTON_SIZE]
        state[_SES_LEVEL] = rate * size_mean
        state[_SEASONAL_LEVEL] = rate * size_mean
        # the last demand is taken half an interval ago: the first new interval is then not biased short
        state[_LAST_DEMAND] = np.where(
            seen, self.start_day - 1 - np.floor(interval / 2.0), self.start_day - 1
        )
        state[_DEMAND_DAYS] = days
        state[_SIZE_SUM] = days * size_mean
        state[_SIZE_SQUARE_SUM] = days * size_square_mean
        self.history_days = 365.0
        self.cold_start = False
        self._version += 1

    # -- daily update -----------------------------------------------------------------------------------
    def observe(self, day: int, series: IntArray, quantity: FloatArray) -> None:
        """Demand of ``day`` for the series that had any (sorted unique indices); all others had none."""
        if day <= self.day:
            raise ValueError(f"day {day} already observed (last observed day {self.day})")
        if series.size > 1 and not bool((series[1:] > series[:-1]).all()):
            raise ValueError("series must be sorted and unique (sum a day's lines per series first)")
        self.day = day
        self._version += 1  # a new day: every forecast moves (decay, days observed), not only these series'
        if series.size == 0:
            return
        settings = self.settings
        y = np.asarray(quantity, dtype=float)
        rows = self._columns(series)
        (
            last_demand, croston_size, croston_interval, probability, tsb_size, ses_level,
            seasonal_level, demand_days, size_sum, size_square_sum,
        ) = rows  # fmt: skip
        zero_days = self._zero_days(last_demand, day - 1)  # zero-demand days since the last update
        if self.errors is not None:
            forecasts, zero_run = self._forecasts_over_zero_run(
                rows, zero_days, float(self._season(np.array([day]))[0])
            )
            self.errors[series] += zero_run + np.abs(forecasts - np.asarray(quantity, dtype=float)[:, None])
        # TSB probability: decay over the zero days, then one update with an occurrence
        beta = settings.tsb_alpha_probability
        new_probability = beta + (1.0 - beta) * probability * self._decay(1.0 - beta, zero_days)
        # SES levels: zero days decay the level, then today's demand moves it
        ses_alpha = settings.ses_alpha
        ses_decay = self._decay(1.0 - ses_alpha, zero_days)
        season = float(self._season(np.array([day]))[0])
        new_ses = ses_alpha * y + (1.0 - ses_alpha) * ses_level * ses_decay
        new_seasonal = ses_alpha * y / season + (1.0 - ses_alpha) * seasonal_level * ses_decay
        # Croston sizes and intervals: only demand days count
        alpha, alpha_size = settings.alpha, settings.tsb_alpha_size
        interval = day - last_demand
        new_size = alpha * y + (1 - alpha) * croston_size
        new_interval = alpha * interval + (1 - alpha) * croston_interval
        new_tsb_size = alpha_size * y + (1 - alpha_size) * tsb_size
        # a series' first demand starts its size and interval smoothing (rare: plain masked fixes)
        first = np.flatnonzero(croston_interval == 0.0)
        if first.size:
            first_y = y[first]
            new_size[first], new_tsb_size[first] = first_y, first_y
            new_interval[first] = interval[first]
            if self.cold_start and day == self.start_day:  # statsforecast: the first observation starts SES
                new_probability[first] = 1.0
                new_ses[first] = first_y
                new_seasonal[first] = first_y / season
        updated = np.empty((len(STATE_COLUMNS), series.size))
        updated[_LAST_DEMAND] = day
        updated[_CROSTON_SIZE] = new_size
        updated[_CROSTON_INTERVAL] = new_interval
        updated[_TSB_PROBABILITY] = new_probability
        updated[_TSB_SIZE] = new_tsb_size
        updated[_SES_LEVEL] = new_ses
        updated[_SEASONAL_LEVEL] = new_seasonal
        updated[_DEMAND_DAYS] = demand_days + 1.0
        updated[_SIZE_SUM] = size_sum + y
        updated[_SIZE_SQUARE_SUM] = size_square_sum + y * y
        self.state[:, series] = updated

    def _forecasts_over_zero_run(
        self, rows: FloatArray, zero_days: IntArray, season: float
    ) -> tuple[FloatArray, FloatArray]:
        """(each method's forecast for the day after ``zero_days`` days without demand, the sum of its
        forecasts over those days), both ``[series, method]``, from ``[column, series]`` state. On a zero day
        the absolute error is the forecast itself; seasonal SES takes ``season`` for every one of the days."""
        settings = self.settings
        ses_factor = 1.0 - settings.ses_alpha
        tsb_factor = 1.0 - settings.tsb_alpha_probability
        ses_decay = self._decay(ses_factor, zero_days)
        tsb_decay = self._decay(tsb_factor, zero_days)
        ses_sum = (1.0 - ses_decay) / settings.ses_alpha  # sum of factor ** i over the zero days
        tsb_sum = (1.0 - tsb_decay) / settings.tsb_alpha_probability
        croston = rows[_CROSTON_SIZE] / np.maximum(rows[_CROSTON_INTERVAL], 1e-12)
        sba = croston * (1.0 - settings.alpha / 2.0)
        tsb = rows[_TSB_PROBABILITY] * rows[_TSB_SIZE]
        seasonal = rows[_SEASONAL_LEVEL] * season
        forecasts = np.empty((zero_days.size, len(Method)))
        zero_run = np.empty((zero_days.size, len(Method)))
        forecasts[:, Method.SES] = rows[_SES_LEVEL] * ses_decay
        zero_run[:, Method.SES] = rows[_SES_LEVEL] * ses_sum
        forecasts[:, Method.SEASONAL_SES] = seasonal * ses_decay
        zero_run[:, Method.SEASONAL_SES] = seasonal * ses_sum
        forecasts[:, Method.CROSTON] = croston
        zero_run[:, Method.CROSTON] = croston * zero_days
        forecasts[:, Method.SBA] = sba
        zero_run[:, Method.SBA] = sba * zero_days
        forecasts[:, Method.TSB] = tsb * tsb_decay
        zero_run[:, Method.TSB] = tsb * tsb_sum
        return forecasts, zero_run

    def _columns(self, series: IntArray) -> FloatArray:
        """The state of ``series`` as ``[column, series]``: one gather along the series axis of the
        column-major state, so the arithmetic runs on contiguous columns (several times faster than on strided
        ones, and a third of the cost of gathering ``[series, column]`` rows and transposing them)."""
        return np.take(self.state, series, axis=1)

    def _zero_days(self, last_demand: FloatArray, through_day: int) -> IntArray:
        """Days without demand after a series' last update up to ``through_day`` (updates happen on demand
        days; before a series' first one, the state dates from the day before the start)."""
        last_update = np.maximum(last_demand, self.start_day - 1)
        return np.maximum(through_day - last_update, 0).astype(np.int64)

    def _decay(self, factor: float, days: IntArray) -> FloatArray:
        """``factor ** days`` from a cached table (a gather is far cheaper than a float power)."""
        table = self._decay_tables.get(factor)
        needed = int(days.max(initial=0)) + 1
        if table is None or table.size < needed:
            table = factor ** np.arange(max(needed, 1024), dtype=float)
            self._decay_tables[factor] = table
        return table[days]

    def _season(self, days: IntArray) -> FloatArray:
        index = np.clip(days - self.start_day, 0, self.season_index.size - 1)
        return self.season_index[index]

    # -- queries ----------------------------------------------------------------------------------------
    def _observed_days(self) -> float:
        return self.history_days + (self.day - self.start_day + 1)

    def _dispersion(self, rows: FloatArray) -> FloatArray:
        """Variance-to-mean ratio of daily demand, hence of demand over any horizon of independent days.

        A day has demand Y > 0 with probability p and then moments E[Y], E[Y^2], so
        Var/mean = (p E[Y^2] - p^2 E[Y]^2) / (p E[Y]) = E[Y^2] / E[Y] - p E[Y]. The moments are the
        cumulative ones (history plus observed): a part's size distribution is stable, and a ratio of two
        short smoothed moments of skewed sizes is biased low. Floored at 1: a negative binomial needs it,
        and an under-dispersed series is then treated as Poisson.
        """
        size_sum = rows[_SIZE_SUM]
        ratio = rows[_SIZE_SQUARE_SUM] / np.maximum(size_sum, 1e-12) - size_sum / self._observed_days()
        return np.where(size_sum > 0, np.maximum(ratio, 1.0), 1.0)

    def _class_of(self, rows: FloatArray) -> IntArray:
        """Syntetos-Boylan class from ``[column, series]`` state."""
        demand_days = rows[_DEMAND_DAYS]
        counted = np.maximum(demand_days, 1.0)
        size_mean = rows[_SIZE_SUM] / counted
        size_variance = rows[_SIZE_SQUARE_SUM] / counted - size_mean**2
        cv2 = np.maximum(size_variance, 0.0) / np.maximum(size_mean, 1e-12) ** 2
        return classify(self._observed_days() / np.maximum(demand_days, 1e-12), cv2, demand_days)

    def _means(self, rows: FloatArray, methods: IntArray, as_of_day: int | None) -> FloatArray:
        """One-day-ahead mean of each row by its method, brought forward to ``as_of_day``."""
        settings = self.settings
        day = self.day if as_of_day is None else as_of_day
        if day < self.day:
            raise ValueError(
                f"as_of_day {day} is before the last observed day {self.day}: state moves forward only"
            )
        zero_days = self._zero_days(rows[_LAST_DEMAND], day)
        season = self._season(np.array([day + 1]))[0]

        def mean_of(method: int, index: IntArray | slice) -> FloatArray:
            """The method's mean for the rows at ``index``: only its own rows are worked out (each row's
            arithmetic is its own, so the values are those of working out every row)."""
            days = zero_days[index]
            if method == Method.SES:
                return rows[_SES_LEVEL][index] * self._decay(1.0 - settings.ses_alpha, days)
            if method == Method.SEASONAL_SES:
                return rows[_SEASONAL_LEVEL][index] * self._decay(1.0 - settings.ses_alpha, days) * season
            if method == Method.TSB:
                probability = rows[_TSB_PROBABILITY][index]
                decay = self._decay(1.0 - settings.tsb_alpha_probability, days)
                return probability * decay * rows[_TSB_SIZE][index]
            # Croston (0 before a demand) and SBA
            croston = rows[_CROSTON_SIZE][index] / np.maximum(rows[_CROSTON_INTERVAL][index], 1e-12)
            return croston if method == Method.CROSTON else croston * (1.0 - settings.alpha / 2.0)

        present = np.flatnonzero(np.bincount(methods, minlength=len(Method)))  # the methods in use, ascending
        if present.size == 1:
            return np.asarray(mean_of(int(present[0]), slice(None)), dtype=float)
        mean = np.zeros(rows.shape[1])
        for method in present.tolist():
            members = np.flatnonzero(methods == method)
            mean[members] = mean_of(method, members)
        return mean

    def _methods_of(self, rows: FloatArray, series: IntArray) -> IntArray:
        """Each series' method: its class's, or (selection by error) the one with the smallest in-sample
        one-step absolute error through the last observed day, where strictly smaller than the class's."""
        classes = self._class_of(rows)
        methods = self._method_table[classes]
        if self.errors is None:
            return methods
        errors = self.in_sample_errors(series, rows)
        best = errors.argmin(axis=1)
        index = np.arange(series.size)
        better = (errors[index, best] < errors[index, methods]) & (classes != DemandClass.NO_DEMAND)
        return np.where(better, best, methods)

    def in_sample_errors(self, series: IntArray, rows: FloatArray | None = None) -> FloatArray:
        """``[series, method]`` sum of one-step absolute errors through the last observed day (selection by
        error only): the errors up to each series' last update plus those of the zero days since."""
        if self.errors is None:
            raise ValueError("in_sample_errors: the forecaster tracks errors only with selection=error")
        rows = self._columns(series) if rows is None else rows
        zero_days = self._zero_days(rows[_LAST_DEMAND], self.day)
        _, zero_run = self._forecasts_over_zero_run(
            rows, zero_days, float(self._season(np.array([self.day]))[0])
        )
        return self.errors[series] + zero_run

    def demand_class(self, series: IntArray) -> IntArray:
        return self._class_of(self._columns(series))

    def method(self, series: IntArray) -> IntArray:
        return self._methods_of(self._columns(series), series)

    def method_forecast(self, method: Method, series: IntArray, as_of_day: int | None = None) -> FloatArray:
        """Mean demand per day for the day after ``as_of_day`` (default: the last observed day) by one
        method, as statsforecast would forecast it from the series so far (seasonal SES: for that day)."""
        return self._means(self._columns(series), np.full(series.size, int(method)), as_of_day)

    def mean_per_day(self, series: IntArray, as_of_day: int | None = None) -> FloatArray:
        """One-day-ahead mean by each series' own method (its Syntetos-Boylan class decides)."""
        if as_of_day is None or as_of_day == self.day:
            return self._todays(series, _TODAY_MEAN)
        rows = self._columns(series)
        return self._means(rows, self._methods_of(rows, series), as_of_day)

    def distribution(self, series: IntArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(one-day-ahead mean by each series' method, dispersion, lines a year): what a replenishment policy
        needs per series."""
        today = self._todays(series, slice(_TODAY_MEAN, _TODAY_LINES + 1))
        return today[0], today[1], today[2]

    def screen(self, series: IntArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(upper bound on every method's one-day-ahead mean, dispersion, lines a year).

        The bound skips the class and the decay (decay only lowers a mean), so a caller can rule series
        out cheaply and compute exact forecasts for the rest. It reads only the state columns it needs.
        """
        state = self.state
        croston = state[_CROSTON_SIZE, series] / np.maximum(state[_CROSTON_INTERVAL, series], 1e-12)
        seasonal = state[_SEASONAL_LEVEL, series] * float(self.season_index.max())
        tsb = state[_TSB_PROBABILITY, series] * state[_TSB_SIZE, series]
        upper = np.maximum(np.maximum(croston, tsb), np.maximum(state[_SES_LEVEL, series], seasonal))
        today = self._todays(series, slice(_TODAY_DISPERSION, _TODAY_LINES + 1))
        return upper, today[0], today[1]

    def _todays(self, series: IntArray, rows: int | slice) -> FloatArray:
        """Rows ``rows`` of the day's forecast cache for ``series``, working out the series not yet done
        since the state last changed (each series' values are its own: the same whichever series are
        worked out together)."""
        if self._all_today_version != self._version:
            if series.size > FULL_PASS_SHARE * self.series_count:
                self._work_out(np.arange(self.series_count), self.state, slice(None))
                self._all_today_version = self._version
            else:
                missing = series[self._today_version[series] != self._version]
                if missing.size:
                    self._work_out(missing, self._columns(missing), missing)
                    self._today_version[missing] = self._version
        if isinstance(rows, int):
            return self._today[rows, series]
        return np.take(self._today[rows], series, axis=1)

    def _work_out(self, series: IntArray, rows: FloatArray, target: IntArray | slice) -> None:
        """Today's mean, dispersion and lines a year of ``series`` (state ``rows``) into the cache at
        ``target`` (``series``, or a slice of all of them)."""
        today = self._today
        today[_TODAY_MEAN, target] = self._means(rows, self._methods_of(rows, series), None)
        today[_TODAY_DISPERSION, target] = self._dispersion(rows)
        today[_TODAY_LINES, target] = rows[_DEMAND_DAYS] * 365.0 / max(self._observed_days(), 1.0)

    def horizon_mean(self, series: IntArray, horizon_days: float) -> FloatArray:
        """Expected demand over the next ``horizon_days`` days (seasonal series follow their index)."""
        if horizon_days <= 0:
            return np.zeros(series.size)
        rows = self._columns(series)
        methods = self._methods_of(rows, series)
        daily = self._means(rows, methods, None)
        seasonal = methods == Method.SEASONAL_SES
        if not seasonal.any():
            return daily * horizon_days
        whole_days = int(np.ceil(horizon_days))
        days = self.day + 1 + np.arange(whole_days)
        season = self._season(days)
        weights = season.copy()
        weights[-1] *= horizon_days - (whole_days - 1)  # a fractional last day
        relative = float(weights.sum()) / float(season[0])
        return np.where(seasonal, daily * relative, daily * horizon_days)

    def dispersion(self, series: IntArray) -> FloatArray:
        """Variance-to-mean ratio of demand over a horizon (>= 1, the Poisson floor); see ``_dispersion``."""
        return self._dispersion(self._columns(series))

    def lines_per_year(self, series: IntArray) -> FloatArray:
        """Demand days a year so far (history plus observed): the phase-in rule's count."""
        return self.state[_DEMAND_DAYS, series] * 365.0 / max(self._observed_days(), 1.0)

    def class_mix(self, series: IntArray) -> dict[str, float]:
        """Share of ``series`` in each Syntetos-Boylan class."""
        counts = np.bincount(self.demand_class(series), minlength=len(DemandClass))
        total = max(int(counts.sum()), 1)
        return {name: float(count) / total for name, count in zip(DEMAND_CLASS_NAMES, counts, strict=True)}

    # -- state for snapshots ----------------------------------------------------------------------------
    def state_arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        arrays = {
            "state": self.state.T.copy(),  # saved as [series, column]
            "day": np.array([self.day, self.start_day, int(self.cold_start), self.history_days]),
        }
        if self.errors is not None:
            arrays["errors"] = self.errors.copy()
        return arrays

    def load_state_arrays(self, arrays: dict[str, npt.NDArray[np.generic]]) -> None:
        self.state[:] = np.asarray(arrays["state"]).T
        if self.errors is not None:
            if "errors" not in arrays:
                raise ValueError("errors: missing from the saved state (saved with selection=class?)")
            self.errors[:] = arrays["errors"]
        day, start_day, cold_start, history_days = arrays["day"].tolist()
        self.day, self.start_day = int(day), int(start_day)
        self.cold_start, self.history_days = bool(cold_start), float(history_days)
        self._version += 1
