"""How many daily intermittent series per second the forecaster fits and forecasts, next to Nixtla statsforecast.

One question, one run: for 100,000 daily series of 365 days, series per second of

- ours: ``twin.policies.forecasting.IntermittentForecaster``; fit = ``observe`` each of the 365 days (only the
  series with demand that day are touched), then one forecast per method. All methods share one update, so
  the table gives each method alone (fit + its forecast) and all four at once (fit + four forecasts);
- statsforecast 2.1.1 (``pip install -e ".[bench]"``): CrostonClassic, CrostonSBA, TSB and
  SimpleExponentialSmoothing with the same smoothing parameters, both through
  ``StatsForecast(models=[...], freq=1, n_jobs=1).forecast(df, h=1)`` and as a plain loop of the model's own
  ``forecast(y, h=1)`` over the series. statsforecast runs on all the series (~40 s in all for 100k, ~2 GB
  for the 36.5M-row DataFrame) or on the first ``--peer-series`` of them; its cost per series is flat
  (measured 27.1k/s on 100k vs 28.5k/s on 10k for Croston), so the rates compare like with like.

Demand generator (seeded): each series has its own daily occurrence probability, lognormal with median 0.05
and log-sd 1.0, clipped to [0.002, 0.9] (most series see a line every few weeks, a few almost daily), and its
own mean size 1 + lognormal(median 0.5, log-sd 0.7); on a day with demand the quantity is geometric on
{1, 2, ...} with that mean. Data generation and the DataFrame build are not timed. Input to ours is what the
engine hands it: per day, the indices of the series with demand and their quantities.

    python benchmarks/forecast_throughput.py                      # 100k series, statsforecast on all (~1 min)
    python benchmarks/forecast_throughput.py --peer-series 10000  # statsforecast on the first 10k (~10 s)
    python benchmarks/forecast_throughput.py --series 20000 --peer-series 2000   # smoke test, ~3 s
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

# a sibling script (run as python benchmarks/<name>.py): one definition of peak memory
from engine_throughput import peak_rss_mb

from twin.policies.forecasting import ForecastSettings, IntermittentForecaster, Method

TARGET_SERIES_PER_SECOND = 200_000.0
#: statsforecast fixes Croston's and SBA's alpha at 0.1; TSB and SES take ours
SETTINGS = ForecastSettings(alpha=0.1, tsb_alpha_size=0.1, tsb_alpha_probability=0.05, ses_alpha=0.05)
METHODS = {"Croston": Method.CROSTON, "SBA": Method.SBA, "TSB": Method.TSB, "SES": Method.SES}

DailyDemand = list[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]


def generate(series_count: int, days: int, seed: int) -> DailyDemand:
    """Per day: (series with demand, their quantities), from the generator in the module docstring."""
    rng = np.random.default_rng(seed)
    probability = np.clip(np.exp(rng.normal(np.log(0.05), 1.0, series_count)), 0.002, 0.9)
    size_mean = 1.0 + np.exp(rng.normal(np.log(0.5), 0.7, series_count))
    daily: DailyDemand = []
    for _ in range(days):
        series = np.flatnonzero(rng.random(series_count) < probability)
        quantity = rng.geometric(1.0 / size_mean[series]).astype(np.float64)
        daily.append((series, quantity))
    return daily


def dense(daily: DailyDemand, series_count: int) -> npt.NDArray[np.float64]:
    """The first ``series_count`` series as a ``[series, day]`` matrix."""
    matrix = np.zeros((series_count, len(daily)))
    for day, (series, quantity) in enumerate(daily):
        keep = series < series_count
        matrix[series[keep], day] = quantity[keep]
    return matrix


def best_of(repeat: int, run: Callable[[], dict[str, float]]) -> dict[str, float]:
    """Per key, the smallest time over ``repeat`` runs."""
    timings = [run() for _ in range(repeat)]
    return {key: min(timing[key] for timing in timings) for key in timings[0]}


def time_ours(daily: DailyDemand, series_count: int) -> dict[str, float]:
    started = time.perf_counter()
    forecaster = IntermittentForecaster(series_count, SETTINGS)
    for day, (series, quantity) in enumerate(daily):
        forecaster.observe(day, series, quantity)
    fitted = time.perf_counter()
    every_series = np.arange(series_count)
    timings = {"fit": fitted - started}
    for name, method in METHODS.items():
        method_started = time.perf_counter()
        forecaster.method_forecast(method, every_series)
        timings[name] = time.perf_counter() - method_started
    selection_started = time.perf_counter()
    forecaster.mean_per_day(every_series)
    timings["class-selected"] = time.perf_counter() - selection_started
    return timings


def peer_models() -> dict[str, object]:
    from statsforecast.models import TSB, CrostonClassic, CrostonSBA, SimpleExponentialSmoothing

    return {
        "Croston": CrostonClassic(),
        "SBA": CrostonSBA(),
        "TSB": TSB(alpha_d=SETTINGS.tsb_alpha_size, alpha_p=SETTINGS.tsb_alpha_probability),
        "SES": SimpleExponentialSmoothing(alpha=SETTINGS.ses_alpha),
    }


def time_statsforecast(matrix: npt.NDArray[np.float64]) -> dict[tuple[str, str], float]:
    """Seconds per (model, path) on the series of ``matrix``; model "all four" is one StatsForecast call."""
    import pandas as pd
    from statsforecast import StatsForecast

    series_count, days = matrix.shape
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(np.arange(series_count), days),
            "ds": np.tile(np.arange(days), series_count),
            "y": matrix.ravel(),
        }
    )
    models = peer_models()
    warm = StatsForecast(models=list(models.values()), freq=1, n_jobs=1)
    warm.forecast(df=frame.iloc[: 3 * days], h=1)  # compile numba / load the C++ library outside the clock
    timings: dict[tuple[str, str], float] = {}
    for name, model in [*models.items(), ("all four", None)]:
        chosen = list(models.values()) if model is None else [model]
        started = time.perf_counter()
        StatsForecast(models=chosen, freq=1, n_jobs=1).forecast(df=frame, h=1)
        timings[(name, "StatsForecast")] = time.perf_counter() - started
    rows = list(matrix)
    for name, model in models.items():
        started = time.perf_counter()
        for row in rows:
            model.forecast(row, h=1)  # type: ignore[attr-defined]
        timings[(name, "model.forecast loop")] = time.perf_counter() - started
    started = time.perf_counter()
    for row in rows:
        for model in models.values():
            model.forecast(row, h=1)  # type: ignore[attr-defined]
    timings[("all four", "model.forecast loop")] = time.perf_counter() - started
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--series", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument(
        "--peer-series",
        type=int,
        default=None,
        help="statsforecast on the first N series (default all; 0: skip)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="ours: best of this many runs")
    parser.add_argument("--seed", type=int, default=20240605)
    arguments = parser.parse_args()
    series_count, days = arguments.series, arguments.days

    daily = generate(series_count, days, arguments.seed)
    lines = sum(series.size for series, _ in daily)
    ours = best_of(arguments.repeat, lambda: time_ours(daily, series_count))
    ours_rss = peak_rss_mb()

    peer: dict[tuple[str, str], float] = {}
    peer_count = series_count if arguments.peer_series is None else min(arguments.peer_series, series_count)
    peer_error = ""
    if peer_count > 0:
        try:
            peer = time_statsforecast(dense(daily, peer_count))
        except ImportError as error:
            peer_error = f'statsforecast not installed ({error}); `.venv/bin/pip install -e ".[bench]"`'

    print(f"## Forecast throughput: {series_count:,} daily series x {days} days")
    print()
    print(
        f"{lines:,} demand lines ({lines / (series_count * days):.1%} of series-days non-zero); "
        f"Python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}; "
        f"ours best of {arguments.repeat}; statsforecast once, on the first {peer_count:,} series, n_jobs=1."
    )
    print()
    print("| implementation | method | series | seconds | series/s | ours ÷ statsforecast (best path) |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    best_peer_rate: dict[str, float] = {}
    for (name, _path), seconds in peer.items():
        best_peer_rate[name] = max(best_peer_rate.get(name, 0.0), peer_count / seconds)
    fit = ours["fit"]
    ours_rows = [(name, fit + ours[name]) for name in METHODS]
    ours_rows.append(("all four", fit + sum(ours[name] for name in METHODS)))
    ours_rows.append(("class-selected (mean_per_day)", fit + ours["class-selected"]))
    all_four_rate = 0.0
    for name, seconds in ours_rows:
        rate = series_count / seconds
        if name == "all four":
            all_four_rate = rate
        ratio = f"{rate / best_peer_rate[name]:,.1f}x" if name in best_peer_rate else "-"
        print(
            f"| ours (fit + forecast) | {name} | {series_count:,} | {seconds:.3f} | {rate:,.0f} | {ratio} |"
        )
    for (name, path), seconds in peer.items():
        rate = peer_count / seconds
        print(f"| statsforecast {path} | {name} | {peer_count:,} | {seconds:.3f} | {rate:,.0f} | |")
    print()
    print(
        f"Ours: fit (365 `observe` calls) {fit:.3f} s; forecasts "
        + ", ".join(f"{name} {ours[name] * 1e3:.1f} ms" for name in [*METHODS, "class-selected"])
        + "."
    )
    if peer_error:
        print(f"statsforecast: NOT MEASURED: {peer_error}")
    elif peer_count < series_count:
        print(
            f"statsforecast timed on {peer_count:,} of the {series_count:,} series (per-series cost is flat)."
        )
    verdict = "PASS" if all_four_rate >= TARGET_SERIES_PER_SECOND else "MISS"
    print()
    print(
        f"Target >= {TARGET_SERIES_PER_SECOND:,.0f} series/s (ours, all four methods, fit + forecast): "
        f"{all_four_rate:,.0f} series/s **{verdict}**"
    )
    print(f"Peak RSS: {ours_rss:,.0f} MB after ours (data included), {peak_rss_mb():,.0f} MB at the end.")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
