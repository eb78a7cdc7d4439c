"""Peer checks for the intermittent-demand forecaster (issue #5).

Three kinds of evidence that ``twin.policies.forecasting.IntermittentForecaster`` forecasts what it claims:

1. **Reference recursion** (no extra dependency): the lazy forecaster, which touches a series only on its
   demand days, gives the same one-step forecast as a dense day-by-day recursion written out below for every
   method (SES, seasonal SES with a non-flat season index, Croston, SBA, TSB), at several query days, when
   days without any demand are skipped, and when a query looks past the last observed day.
2. **Peer equivalence** (only when ``statsforecast`` is installed: ``pip install -e ".[bench]"``): Croston,
   SBA, TSB and SES equal Nixtla statsforecast's models on a few hundred generated intermittent series of
   varied density, to 1e-6. Edge cases included: first demand on day 0, a single demand, no demand at all
   (statsforecast forecasts 0 for every method there: Croston falls back to the naive forecast of the last
   value, TSB returns zeros, SES's level stays at 0; ours agrees).
3. **Classification and distribution**: Syntetos-Boylan classes at and around the ADI 1.32 / CV^2 0.49
   cut-offs on hand-made series; horizon means over a seasonal index; dispersion 1 for unit sizes and
   2m - 1 for geometric sizes of mean m.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from twin.policies.forecasting import (
    ADI_CUTOFF,
    CV2_CUTOFF,
    DemandClass,
    ForecastSettings,
    IntermittentForecaster,
    Method,
    classify,
)

FloatArray = npt.NDArray[np.float64]

# ---------------------------------------------------------------------------------------------------------
# generated data


def intermittent_panel(series_count: int, days: int, seed: int) -> FloatArray:
    """Daily demand ``[series, day]``: Bernoulli occurrence with a per-series probability spread over two
    orders of magnitude (log-uniform 0.005-0.9), geometric sizes with per-series mean 1-6, and the edge cases
    the recursions treat specially in the first rows."""
    rng = np.random.default_rng(seed)
    probability = np.exp(rng.uniform(np.log(0.005), np.log(0.9), series_count))
    size_mean = rng.uniform(1.0, 6.0, series_count)
    occurs = rng.random((series_count, days)) < probability[:, None]
    sizes = rng.geometric(1.0 / size_mean[:, None], (series_count, days)).astype(float)
    demand = np.where(occurs, sizes, 0.0)
    edge_cases = [
        np.zeros(days),  # no demand at all
        np.eye(1, days, 0).ravel() * 4.0,  # a single demand, on day 0
        np.eye(1, days, days // 2).ravel() * 3.0,  # a single demand, mid-series
        np.eye(1, days, days - 1).ravel() * 2.0,  # a single demand, on the last day
        np.full(days, 2.0),  # demand every day, constant size
    ]
    demand[: len(edge_cases)] = edge_cases
    demand[len(edge_cases) : len(edge_cases) + 20, 0] = rng.integers(1, 5, 20)  # first demand on day 0
    return demand


def observe_panel(
    forecaster: IntermittentForecaster, demand: FloatArray, first_day: int, last_day: int, skip_empty: bool
) -> None:
    """Feed days ``first_day..last_day`` (inclusive) of ``demand`` into ``forecaster``."""
    for day in range(first_day, last_day + 1):
        series = np.flatnonzero(demand[:, day])
        if skip_empty and series.size == 0:
            continue
        forecaster.observe(day, series, demand[series, day])


# ---------------------------------------------------------------------------------------------------------
# dense reference recursions: every series, every day


def reference_forecasts(
    demand: FloatArray, settings: ForecastSettings, season_index: FloatArray, through_day: int
) -> dict[Method, FloatArray]:
    """One-step forecast for day ``through_day + 1`` of every series, each method written as the textbook
    recursion over all days ``0..through_day`` (the series start on day 0)."""
    series_count = demand.shape[0]
    ses_level = np.zeros(series_count)
    seasonal_level = np.zeros(series_count)
    croston_size = np.zeros(series_count)
    croston_interval = np.zeros(series_count)
    days_since_demand = np.zeros(series_count)
    tsb_probability = np.zeros(series_count)
    tsb_size = np.zeros(series_count)
    seen = np.zeros(series_count, dtype=bool)
    season = np.concatenate([season_index, np.full(through_day + 2, season_index[-1])])
    for day in range(through_day + 1):
        y = demand[:, day]
        occurs = y > 0
        deseasoned = y / season[day]
        if day == 0:  # SES levels and TSB's probability start at the first observation
            ses_level = y.copy()
            seasonal_level = deseasoned.copy()
            tsb_probability = occurs.astype(float)
        else:
            ses_level = settings.ses_alpha * y + (1 - settings.ses_alpha) * ses_level
            seasonal_level = settings.ses_alpha * deseasoned + (1 - settings.ses_alpha) * seasonal_level
            beta = settings.tsb_alpha_probability
            tsb_probability = beta * occurs + (1 - beta) * tsb_probability
        days_since_demand += 1  # the first interval counts from the day before day 0
        alpha = settings.alpha
        first = occurs & ~seen
        later = occurs & seen
        croston_size[first] = y[first]
        croston_interval[first] = days_since_demand[first]
        croston_size[later] = alpha * y[later] + (1 - alpha) * croston_size[later]
        croston_interval[later] = alpha * days_since_demand[later] + (1 - alpha) * croston_interval[later]
        tsb_size[first] = y[first]
        alpha_size = settings.tsb_alpha_size
        tsb_size[later] = alpha_size * y[later] + (1 - alpha_size) * tsb_size[later]
        days_since_demand[occurs] = 0
        seen |= occurs
    croston = np.divide(croston_size, croston_interval, out=np.zeros(series_count), where=seen)
    return {
        Method.SES: ses_level,
        Method.SEASONAL_SES: seasonal_level * season[through_day + 1],
        Method.CROSTON: croston,
        Method.SBA: croston * (1 - settings.alpha / 2),
        Method.TSB: tsb_probability * tsb_size,
    }


SETTINGS_GRID = [
    ForecastSettings(),
    ForecastSettings(alpha=0.3, tsb_alpha_size=0.25, tsb_alpha_probability=0.2, ses_alpha=0.15),
]


@pytest.mark.parametrize("settings", SETTINGS_GRID, ids=["default", "fast"])
@pytest.mark.parametrize("skip_empty", [False, True], ids=["every-day", "skip-empty-days"])
def test_lazy_update_equals_dense_recursion(settings: ForecastSettings, skip_empty: bool) -> None:
    days = 200
    demand = intermittent_panel(300, days, seed=11)
    demand[:, 60:75] = 0.0  # a stretch with no demand anywhere: skipped days when skip_empty
    season_index = 1.0 + 0.4 * np.sin(2 * np.pi * np.arange(days - 20) / 30.0)  # ends before the last day
    forecaster = IntermittentForecaster(demand.shape[0], settings, season_index=season_index)
    series = np.arange(demand.shape[0])
    previous = -1
    for query_day in (0, 1, 37, 74, 120, days - 1):
        observe_panel(forecaster, demand, previous + 1, query_day, skip_empty)
        previous = query_day
        expected = reference_forecasts(demand, settings, season_index, query_day)
        for method, values in expected.items():
            ours = forecaster.method_forecast(method, series, as_of_day=query_day)
            np.testing.assert_allclose(ours, values, rtol=1e-12, atol=1e-12, err_msg=f"{method.name}")


def test_query_past_last_observation_decays_like_zero_days() -> None:
    """Asking on a later day than the last observed one equals observing zeros up to that day."""
    demand = intermittent_panel(200, 150, seed=5)
    demand[:, 100:] = 0.0
    season_index = 1.0 + 0.3 * np.cos(2 * np.pi * np.arange(150) / 7.0)
    settings = ForecastSettings()
    forecaster = IntermittentForecaster(200, settings, season_index=season_index)
    observe_panel(forecaster, demand, 0, 99, skip_empty=False)
    expected = reference_forecasts(demand, settings, season_index, 140)
    for method, values in expected.items():
        ours = forecaster.method_forecast(method, np.arange(200), as_of_day=140)
        np.testing.assert_allclose(ours, values, rtol=1e-12, atol=1e-12, err_msg=f"{method.name}")


def test_start_day_offset_changes_nothing_but_the_calendar() -> None:
    demand = intermittent_panel(100, 90, seed=8)
    settings = ForecastSettings()
    season_index = np.linspace(0.7, 1.3, 90)
    at_zero = IntermittentForecaster(100, settings, season_index=season_index)
    at_offset = IntermittentForecaster(100, settings, season_index=season_index, start_day=1000)
    observe_panel(at_zero, demand, 0, 89, skip_empty=True)
    for day in range(90):
        series = np.flatnonzero(demand[:, day])
        if series.size:
            at_offset.observe(1000 + day, series, demand[series, day])
    for method in Method:
        np.testing.assert_array_equal(
            at_zero.method_forecast(method, np.arange(100)),
            at_offset.method_forecast(method, np.arange(100), as_of_day=1089),
        )


def test_observing_a_day_twice_is_refused() -> None:
    forecaster = IntermittentForecaster(3)
    forecaster.observe(0, np.array([1]), np.array([2.0]))
    with pytest.raises(ValueError, match="already observed"):
        forecaster.observe(0, np.array([2]), np.array([1.0]))


# ---------------------------------------------------------------------------------------------------------
# equivalence with statsforecast

TSB_ALPHA_PAIRS = [
    (0.1, 0.05),
    (0.2, 0.2),
    (0.05, 0.3),
    (0.5, 0.1),
]  # (alpha_d = size, alpha_p = probability)
SES_ALPHAS = [0.05, 0.3]


@pytest.fixture(scope="module")
def peer_panel() -> FloatArray:
    return intermittent_panel(300, 365, seed=2024)


@pytest.mark.parametrize("query_day", [29, 364])
def test_croston_sba_tsb_ses_equal_statsforecast(peer_panel: FloatArray, query_day: int) -> None:
    models = pytest.importorskip("statsforecast.models")
    demand = peer_panel
    series = np.arange(demand.shape[0])
    history = demand[:, : query_day + 1]

    def peer(model: object) -> FloatArray:
        return np.array([model.forecast(row, h=1)["mean"][0] for row in history])  # type: ignore[attr-defined]

    # Croston and SBA: statsforecast fixes alpha at 0.1
    ours = IntermittentForecaster(demand.shape[0], ForecastSettings(alpha=0.1))
    observe_panel(ours, demand, 0, query_day, skip_empty=True)
    croston = ours.method_forecast(Method.CROSTON, series, as_of_day=query_day)
    np.testing.assert_allclose(croston, peer(models.CrostonClassic()), rtol=0, atol=1e-6)
    sba = ours.method_forecast(Method.SBA, series, as_of_day=query_day)
    np.testing.assert_allclose(sba, peer(models.CrostonSBA()), rtol=0, atol=1e-6)
    for alpha_size, alpha_probability in TSB_ALPHA_PAIRS:
        settings = ForecastSettings(tsb_alpha_size=alpha_size, tsb_alpha_probability=alpha_probability)
        ours = IntermittentForecaster(demand.shape[0], settings)
        observe_panel(ours, demand, 0, query_day, skip_empty=True)
        np.testing.assert_allclose(
            ours.method_forecast(Method.TSB, series, as_of_day=query_day),
            peer(models.TSB(alpha_d=alpha_size, alpha_p=alpha_probability)),
            rtol=0,
            atol=1e-6,
            err_msg=f"TSB alpha_d={alpha_size} alpha_p={alpha_probability}",
        )
    for ses_alpha in SES_ALPHAS:
        ours = IntermittentForecaster(demand.shape[0], ForecastSettings(ses_alpha=ses_alpha))
        observe_panel(ours, demand, 0, query_day, skip_empty=True)
        np.testing.assert_allclose(
            ours.method_forecast(Method.SES, series, as_of_day=query_day),
            peer(models.SimpleExponentialSmoothing(alpha=ses_alpha)),
            rtol=0,
            atol=1e-6,
            err_msg=f"SES alpha={ses_alpha}",
        )


def test_statsforecast_edge_case_conventions_match_ours() -> None:
    """What statsforecast returns for the series the recursions treat specially, spelled out."""
    models = pytest.importorskip("statsforecast.models")
    days = 10
    no_demand = np.zeros(days)
    single_on_day_zero = np.eye(1, days, 0).ravel() * 4.0
    single_on_day_six = np.eye(1, days, 6).ravel() * 3.0

    def croston(row: FloatArray) -> float:
        return float(models.CrostonClassic().forecast(row, h=1)["mean"][0])

    def tsb(row: FloatArray) -> float:
        return float(models.TSB(alpha_d=0.1, alpha_p=0.1).forecast(row, h=1)["mean"][0])

    def ses(row: FloatArray) -> float:
        return float(models.SimpleExponentialSmoothing(alpha=0.1).forecast(row, h=1)["mean"][0])

    # no demand: every method forecasts zero (Croston via its naive fallback)
    assert (croston(no_demand), tsb(no_demand), ses(no_demand)) == (0.0, 0.0, 0.0)
    # one demand of 4 on day 0: Croston's first interval counts from the day before day 0 -> 4 / 1
    assert croston(single_on_day_zero) == pytest.approx(4.0)
    # TSB's probability starts at day 0's indicator (1) and decays 9 times
    assert tsb(single_on_day_zero) == pytest.approx(0.9**9 * 4.0)
    # SES starts at day 0's value
    assert ses(single_on_day_zero) == pytest.approx(0.9**9 * 4.0)
    # one demand of 3 on day 6: interval 7; TSB and SES start at 0 and take one step of alpha
    assert croston(single_on_day_six) == pytest.approx(3.0 / 7.0)
    assert tsb(single_on_day_six) == pytest.approx(0.1 * 0.9**3 * 3.0)
    assert ses(single_on_day_six) == pytest.approx(0.1 * 0.9**3 * 3.0)

    settings = ForecastSettings(alpha=0.1, tsb_alpha_size=0.1, tsb_alpha_probability=0.1, ses_alpha=0.1)
    ours = IntermittentForecaster(3, settings)
    demand = np.stack([no_demand, single_on_day_zero, single_on_day_six])
    observe_panel(ours, demand, 0, days - 1, skip_empty=True)
    series = np.arange(3)
    for method, peer in ((Method.CROSTON, croston), (Method.TSB, tsb), (Method.SES, ses)):
        expected = [peer(row) for row in demand]
        # days 7-9 had no demand anywhere and were skipped: the query says which day it is
        ours_forecast = ours.method_forecast(method, series, as_of_day=days - 1)
        np.testing.assert_allclose(ours_forecast, expected, atol=1e-12)


# ---------------------------------------------------------------------------------------------------------
# Syntetos-Boylan classes


def observed_forecaster(rows: list[list[float]]) -> IntermittentForecaster:
    demand = np.array(rows, dtype=float)
    forecaster = IntermittentForecaster(demand.shape[0])
    observe_panel(forecaster, demand, 0, demand.shape[1] - 1, skip_empty=False)
    return forecaster


def test_classes_of_hand_made_series() -> None:
    constant_daily = [2.0] * 24
    variable_daily = [1.0, 9.0] * 12  # sizes 1 and 9: mean 5, variance 16, CV^2 0.64
    constant_every_other = [3.0, 0.0] * 12  # ADI 2
    variable_every_third = [1.0, 0.0, 0.0, 9.0, 0.0, 0.0] * 4  # ADI 3, CV^2 0.64
    single = [0.0] * 10 + [5.0] + [0.0] * 13
    nothing = [0.0] * 24
    forecaster = observed_forecaster(
        [constant_daily, variable_daily, constant_every_other, variable_every_third, single, nothing]
    )
    classes = forecaster.demand_class(np.arange(6)).tolist()
    assert classes == [
        DemandClass.SMOOTH,
        DemandClass.ERRATIC,
        DemandClass.INTERMITTENT,
        DemandClass.LUMPY,
        DemandClass.NO_DEMAND,  # a single demand day: no interval or size spread to classify on
        DemandClass.NO_DEMAND,
    ]
    mix = forecaster.class_mix(np.arange(6))
    assert mix == pytest.approx(
        {"smooth": 1 / 6, "erratic": 1 / 6, "intermittent": 1 / 6, "lumpy": 1 / 6, "no_demand": 2 / 6}
    )
    # the default method table: smooth and erratic -> seasonal SES, intermittent -> SBA, lumpy and new -> TSB
    assert forecaster.method(np.arange(6)).tolist() == [
        Method.SEASONAL_SES,
        Method.SEASONAL_SES,
        Method.SBA,
        Method.TSB,
        Method.TSB,
        Method.TSB,
    ]


def test_cut_offs_are_inclusive_on_the_intermittent_and_variable_side() -> None:
    """ADI = observed days / demand days; CV^2 = population variance / mean^2 of the non-zero sizes.
    Exactly at a cut-off counts as intermittent (ADI) or variable (CV^2), as in Syntetos-Boylan's
    'smooth: ADI < 1.32 and CV^2 < 0.49'."""
    at_adi = [2.0] * 25 + [0.0] * 8  # 33 days / 25 demand days = 1.32
    below_adi = [2.0] * 26 + [0.0] * 7  # 33 / 26 = 1.27
    at_cv2 = [3.0, 17.0] * 16 + [0.0]  # sizes 3 and 17 in equal numbers: mean 10, variance 49, CV^2 0.49
    below_cv2 = [3.1, 16.9] * 16 + [0.0]  # CV^2 0.4761
    assert ADI_CUTOFF == 33 / 25
    assert CV2_CUTOFF == 49.0 / 100.0
    forecaster = observed_forecaster([at_adi, below_adi, at_cv2, below_cv2])
    assert forecaster.demand_class(np.arange(4)).tolist() == [
        DemandClass.INTERMITTENT,
        DemandClass.SMOOTH,
        DemandClass.ERRATIC,
        DemandClass.SMOOTH,
    ]
    both = classify(np.array([ADI_CUTOFF]), np.array([CV2_CUTOFF]), np.array([10.0]))
    assert both.tolist() == [DemandClass.LUMPY]


def test_fewer_than_two_demand_days_is_no_class_yet() -> None:
    classes = classify(np.array([1.0, 5.0, 1.0]), np.array([0.0, 2.0, 0.0]), np.array([0.0, 1.0, 2.0]))
    assert classes.tolist() == [DemandClass.NO_DEMAND, DemandClass.NO_DEMAND, DemandClass.SMOOTH]


# ---------------------------------------------------------------------------------------------------------
# horizon mean and dispersion


def test_horizon_mean_follows_the_season_index_for_smooth_series() -> None:
    days = 120
    rng = np.random.default_rng(3)
    season_index = 1.0 + 0.5 * np.sin(2 * np.pi * np.arange(200) / 14.0)
    smooth = rng.poisson(20.0 * season_index[:days]).astype(float)[None, :] + 1.0  # daily demand, never zero
    lumpy = np.zeros((1, days))
    lumpy[0, ::5] = np.resize([1.0, 9.0, 2.0], lumpy[0, ::5].size)  # ADI 5, CV^2 ~0.6
    demand = np.vstack([smooth, lumpy])
    forecaster = IntermittentForecaster(2, ForecastSettings(), season_index=season_index)
    observe_panel(forecaster, demand, 0, days - 1, skip_empty=False)
    series = np.arange(2)
    assert forecaster.demand_class(series).tolist() == [DemandClass.SMOOTH, DemandClass.LUMPY]
    level = forecaster.method_forecast(Method.SEASONAL_SES, series[:1])[0] / season_index[days]
    for horizon in (1.0, 7.0, 10.5):
        expected_smooth = level * (
            season_index[days : days + int(np.ceil(horizon))].sum()
            - (np.ceil(horizon) - horizon) * season_index[days + int(np.ceil(horizon)) - 1]
        )
        expected_lumpy = forecaster.method_forecast(Method.TSB, series[1:])[0] * horizon
        np.testing.assert_allclose(
            forecaster.horizon_mean(series, horizon), [expected_smooth, expected_lumpy], rtol=1e-12
        )


def test_horizon_mean_of_a_poisson_series_is_near_its_rate() -> None:
    rng = np.random.default_rng(9)
    rate = 0.4
    demand = rng.poisson(rate, (4000, 365)).astype(float)  # unit-size lines only show up as counts
    demand = np.minimum(demand, 1.0)  # Bernoulli(1 - e^-rate) unit demand
    forecaster = IntermittentForecaster(4000)
    observe_panel(forecaster, demand, 0, 364, skip_empty=False)
    mean_per_day = 1.0 - np.exp(-rate)
    assert forecaster.horizon_mean(np.arange(4000), 7.0).mean() == pytest.approx(7 * mean_per_day, rel=0.03)


def test_dispersion_is_one_for_unit_sizes() -> None:
    rng = np.random.default_rng(4)
    demand = (rng.random((500, 365)) < 0.2).astype(float)
    forecaster = IntermittentForecaster(500)
    observe_panel(forecaster, demand, 0, 364, skip_empty=False)
    np.testing.assert_allclose(forecaster.dispersion(np.arange(500)), 1.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize("size_mean", [2.0, 4.0])
def test_dispersion_is_the_variance_to_mean_ratio_of_demand_over_a_horizon(size_mean: float) -> None:
    """Demand on 30% of days, geometric sizes with mean m: the daily variance-to-mean ratio is
    E[S^2] / E[S] - p E[S] = (2m - 1) - 0.3 m, and so is that of 14-day totals (independent days)."""
    rng = np.random.default_rng(int(size_mean))
    occurs = rng.random((3000, 365)) < 0.3
    demand = np.where(occurs, rng.geometric(1.0 / size_mean, occurs.shape), 0).astype(float)
    forecaster = IntermittentForecaster(3000)
    observe_panel(forecaster, demand, 0, 364, skip_empty=False)
    dispersion = forecaster.dispersion(np.arange(3000))
    expected = 2 * size_mean - 1 - 0.3 * size_mean
    fortnights = demand[:, : 26 * 14].reshape(3000, 26, 14).sum(axis=2)
    empirical = fortnights.var() / fortnights.mean()
    assert empirical == pytest.approx(expected, rel=0.05)
    # each series' ratio comes from two smoothed (alpha 0.1) moments: noisy per series, right on average
    assert np.median(dispersion) == pytest.approx(expected, rel=0.1)
    assert dispersion.mean() == pytest.approx(expected, rel=0.05)


def test_dispersion_is_one_before_any_demand_and_for_demand_every_day() -> None:
    forecaster = IntermittentForecaster(2)
    forecaster.observe(0, np.array([0]), np.array([3.0]))
    # one demand of 3 on the only day observed: no variance seen yet, the Poisson floor
    assert forecaster.dispersion(np.arange(2)).tolist() == [1.0, 1.0]


def test_distribution_and_screen_agree_with_the_single_queries() -> None:
    """One-gather queries return what the separate queries return, and the screen's mean bounds every method."""
    forecaster = _forecaster_with_history(21, days=120)
    everything = np.arange(forecaster.series_count)
    mean, dispersion, lines = forecaster.distribution(everything)
    np.testing.assert_array_equal(mean, forecaster.mean_per_day(everything))
    np.testing.assert_array_equal(dispersion, forecaster.dispersion(everything))
    np.testing.assert_array_equal(lines, forecaster.lines_per_year(everything))
    upper, _, _ = forecaster.screen(everything)
    for method in Method:
        assert (forecaster.method_forecast(method, everything) <= upper + 1e-12).all()


def _forecaster_with_history(seed: int, series_count: int = 400, days: int = 60) -> IntermittentForecaster:
    """A primed forecaster after ``days`` of random intermittent demand."""
    rng = np.random.default_rng(seed)
    forecaster = IntermittentForecaster(series_count, season_index=1.0 + 0.3 * np.sin(np.arange(200) / 20.0))
    forecaster.prime(
        rng.poisson(20, series_count).astype(float), np.full(series_count, 1.6), np.full(series_count, 3.5)
    )
    for day in range(days):
        series = np.flatnonzero(rng.random(series_count) < 0.1)
        forecaster.observe(day, series, rng.geometric(0.5, series.size).astype(float))
    return forecaster


def _uncached_means(forecaster: IntermittentForecaster, series: np.ndarray) -> FloatArray:
    """Each series' mean by its own method, through the one-method query (which the day's cache skips)."""
    methods = forecaster.method(series)
    mean = np.zeros(series.size)
    for method in Method:
        mean[methods == method] = forecaster.method_forecast(method, series)[methods == method]
    return mean


def test_the_days_forecasts_are_kept_until_the_state_changes_and_do_not_depend_on_the_query_order() -> None:
    """The day's cache serves a few series (worked out alone) or most of them (one pass over all) with the
    values of the uncached queries, whichever comes first, and forgets them on the next observed day."""
    rng = np.random.default_rng(5)
    forecaster = _forecaster_with_history(21)
    everything = np.arange(forecaster.series_count)
    for day in range(60, 80):
        some = np.sort(rng.choice(everything, 40, replace=False))
        queries = (some, everything) if day % 2 else (everything, some)
        for series in queries:
            mean, dispersion, lines = forecaster.distribution(series)
            np.testing.assert_array_equal(mean, _uncached_means(forecaster, series))
            np.testing.assert_array_equal(forecaster.mean_per_day(series), mean)
            np.testing.assert_array_equal(dispersion, forecaster.dispersion(series))
            np.testing.assert_array_equal(lines, forecaster.lines_per_year(series))
        demand = np.flatnonzero(rng.random(everything.size) < 0.1)
        forecaster.observe(day, demand, rng.geometric(0.5, demand.size).astype(float))


def test_a_restored_state_is_forecast_afresh() -> None:
    forecaster, other = _forecaster_with_history(21), _forecaster_with_history(22)
    everything = np.arange(forecaster.series_count)
    before = forecaster.distribution(everything)[0]
    forecaster.load_state_arrays(other.state_arrays())
    after = forecaster.distribution(everything)[0]
    np.testing.assert_array_equal(after, other.distribution(everything)[0])
    assert not np.array_equal(before, after)
