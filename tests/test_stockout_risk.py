"""Stock-out risk: the demand distribution is exact, the risk matches simulated stock-outs, inbound helps."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from twin.config import NetworkConfig, TwinConfig
from twin.engine.simulation import Simulation
from twin.policies.demand_distribution import (
    RECURSION_STOCK_LIMIT,
    _panjer,
    exceed_probability,
    exceed_probability_approximate,
    exceed_probability_near,
    quantile,
)
from twin.policies.stockout_risk import expected_stockout_days, stockout_probability


def _reference_exceed(stock: np.ndarray, mean: np.ndarray, dispersion: np.ndarray) -> np.ndarray:
    poisson = dispersion <= 1.0
    size = mean / np.where(poisson, 1.0, dispersion - 1.0)
    reference = np.where(
        poisson,
        stats.poisson.sf(stock, mean),
        stats.nbinom.sf(stock, size, 1.0 / np.maximum(dispersion, 1.0)),
    )
    return np.where(stock < 0, 1.0, reference)


def test_exceed_probability_and_quantile_equal_scipy_for_poisson_and_negative_binomial() -> None:
    rng = np.random.default_rng(3)
    mean = rng.uniform(0.01, 60.0, 5000)
    dispersion = np.where(rng.random(5000) < 0.3, 1.0, rng.uniform(1.05, 5.0, 5000))
    stock = rng.integers(-2, 90, 5000).astype(float)
    assert np.allclose(
        exceed_probability(stock, mean, dispersion), _reference_exceed(stock, mean, dispersion), atol=1e-10
    )
    for level in (0.5, 0.9, 0.99):
        reference = np.where(
            dispersion <= 1.0,
            stats.poisson.ppf(level, mean),
            stats.nbinom.ppf(level, mean / np.maximum(dispersion - 1.0, 1e-12), 1.0 / dispersion),
        )
        assert np.array_equal(quantile(level, mean, dispersion), reference.astype(np.int64))


def test_large_means_fall_back_to_special_functions_and_stay_exact() -> None:
    mean = np.array([350.0, 800.0])
    dispersion = np.array([1.0, 2.5])
    stock = np.array([330.0, 900.0])
    assert np.allclose(
        exceed_probability(stock, mean, dispersion), _reference_exceed(stock, mean, dispersion)
    )


def test_risk_without_inbound_matches_simulated_stockouts() -> None:
    """Poisson lines of geometric size (mean 1.6): the risk within 1/3/7/14 days for a few stock levels
    equals the share of simulated futures that ran short."""
    rng = np.random.default_rng(11)
    lines_per_day, size_mean = 0.8, 1.6
    mean_per_day = lines_per_day * size_mean
    dispersion = 2.0 * size_mean - 1.0  # E[S^2]/E[S] of a geometric size
    horizons = [1, 3, 7, 14]
    futures = 20000
    daily_units = np.zeros((futures, 14))
    lines = rng.poisson(lines_per_day, (futures, 14))
    for day in range(14):
        most = int(lines[:, day].max())
        sizes = rng.geometric(1.0 / size_mean, (futures, most))
        daily_units[:, day] = np.where(np.arange(most)[None, :] < lines[:, day, None], sizes, 0).sum(axis=1)
    cumulative = daily_units.cumsum(axis=1)
    for stock in (2, 6, 12):
        simulated = [(cumulative[:, horizon - 1] > stock).mean() for horizon in horizons]
        predicted = stockout_probability(
            np.array([stock]), np.zeros(1), np.full(1, np.inf), np.ones(1),
            np.array([mean_per_day]), np.array([dispersion]), horizons,
        )[0]  # fmt: skip
        # the negative binomial matches the compound Poisson's two moments, not its exact shape
        assert np.allclose(predicted, simulated, atol=0.04), (stock, predicted, simulated)


def test_an_inbound_due_before_the_horizon_lowers_the_risk_and_risk_grows_with_the_horizon() -> None:
    available = np.array([3.0, 3.0, 3.0])
    inbound = np.array([0.0, 20.0, 20.0])
    eta = np.array([np.inf, 2.0, 30.0])  # none, soon, long after the horizon
    risk = stockout_probability(
        available, inbound, eta, np.full(3, 0.5), np.full(3, 1.0), np.full(3, 1.5), [1, 3, 7, 14]
    )
    assert np.all(np.diff(risk, axis=1) >= 0)
    assert risk[1, -1] < 0.5 * risk[0, -1]
    assert np.allclose(risk[2], risk[0], atol=1e-9)
    # before the inbound is due, it cannot help
    assert risk[1, 0] == pytest.approx(risk[0, 0], abs=1e-9)


def test_expected_stockout_day_counts_the_inbound_only_if_it_comes_in_time() -> None:
    days = expected_stockout_days(
        np.array([10.0, 10.0, 10.0, 0.0]),
        np.array([0.0, 10.0, 10.0, 0.0]),
        np.array([np.inf, 4.0, 12.0, np.inf]),
        np.array([2.0, 2.0, 2.0, 0.0]),
    )
    assert days.tolist() == [5.0, 10.0, 5.0, np.inf]


def _varied_series(seed: int, count: int = 4000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stocks, means and dispersions as a parts day has them: many empty shelves, small means, a few large."""
    rng = np.random.default_rng(seed)
    mean = np.where(rng.random(count) < 0.05, rng.uniform(150.0, 400.0, count), rng.exponential(4.0, count))
    mean[rng.random(count) < 0.05] = 0.0
    dispersion = np.where(rng.random(count) < 0.3, 1.0, rng.uniform(1.05, 5.0, count))
    stock = np.where(rng.random(count) < 0.3, 0.0, rng.integers(-2, 40, count)).astype(float)
    return stock, mean, dispersion


def test_the_recursions_give_bit_for_bit_what_the_plain_recursion_over_every_series_gives() -> None:
    """The tail and the quantile step only the series that still need a step (ordered by stock, or by a rough
    answer), each series' sums in the same order as one pass over all of them: the same bits."""
    stock, mean, dispersion = _varied_series(7)
    small = (stock >= 0) & (stock <= RECURSION_STOCK_LIMIT) & (mean > 0) & (mean <= 200.0)
    zero, a, b = _panjer(mean[small], dispersion[small])
    cumulative, pmf, limit = zero.copy(), zero, stock[small]
    for x in range(1, int(limit.max()) + 1):
        pmf = pmf * (a + b / x)
        cumulative += pmf * (limit >= x)
    np.testing.assert_array_equal(
        exceed_probability(stock, mean, dispersion)[small], np.clip(1.0 - cumulative, 0.0, 1.0)
    )
    target = np.where(mean > 0, 0.9, 0.0)
    level = quantile(target, mean, dispersion)
    recursive = (mean > 0) & (mean <= 200.0)
    zero, a, b = _panjer(mean[recursive], dispersion[recursive])
    goal, cumulative, pmf = target[recursive], zero.copy(), zero
    answer, x = np.zeros(zero.size, dtype=np.int64), 0
    active = np.flatnonzero(cumulative < goal)
    while active.size:
        x += 1
        pmf[active] *= a[active] + b[active] / x
        cumulative[active] += pmf[active]
        answer[active] = x
        active = active[cumulative[active] < goal[active]]
    np.testing.assert_array_equal(level[recursive], answer)
    assert (level[mean == 0] == 0).all()


def test_the_near_tail_is_exact_for_small_stocks_and_near_the_levels_and_approximate_elsewhere() -> None:
    stock, mean, dispersion = _varied_series(8)
    levels = (0.2, 0.5)
    near = exceed_probability_near(stock, mean, dispersion, levels)
    approximate = exceed_probability_approximate(stock, mean, dispersion)
    exact = (
        (stock <= RECURSION_STOCK_LIMIT)
        | (np.abs(approximate - 0.2) < 0.1)
        | (np.abs(approximate - 0.5) < 0.1)
    )
    assert 0 < exact.sum() < exact.size
    np.testing.assert_array_equal(near[exact], exceed_probability(stock, mean, dispersion)[exact])
    np.testing.assert_array_equal(near[~exact], approximate[~exact])


def test_the_longest_horizon_alone_then_the_shorter_ones_give_the_risks_of_one_call_over_all() -> None:
    """The control tower works out the longest horizon first and the shorter ones only where it is high,
    then makes the risks non-decreasing in the horizon: the same as one call over every horizon."""
    rng = np.random.default_rng(9)
    count = 3000
    available = rng.integers(-1, 25, count).astype(float)
    inbound = np.where(rng.random(count) < 0.4, rng.integers(1, 10, count), 0).astype(float)
    eta = np.where(inbound > 0, rng.uniform(0.0, 12.0, count), np.inf)
    spread = rng.uniform(0.5, 2.0, count)
    rate = rng.exponential(0.8, count)
    dispersion = np.where(rng.random(count) < 0.3, 1.0, rng.uniform(1.05, 4.0, count))
    horizons, levels = [3.0, 7.0, 14.0], (0.2, 0.5)
    whole = stockout_probability(available, inbound, eta, spread, rate, dispersion, horizons, levels)
    split = np.zeros((count, len(horizons)))
    split[:, -1] = stockout_probability(
        available, inbound, eta, spread, rate, dispersion, horizons[-1:], levels
    )[:, 0]
    split[:, :-1] = stockout_probability(
        available, inbound, eta, spread, rate, dispersion, horizons[:-1], levels
    )
    np.testing.assert_array_equal(np.maximum.accumulate(split, axis=1), whole)


def test_the_control_tower_raises_alerts_on_the_risks_of_every_horizon_worked_out_at_once() -> None:
    """The tower works out the longest horizon first and the shorter ones only where it is high (the
    arithmetic test above): every risk it hands the alert book at the threshold must be what one call over
    all horizons gives, on the tower's own inputs at that moment."""
    config = TwinConfig(
        network=NetworkConfig(dealers=12, skus=300, stockyards=2, vehicles_per_dealer=60),
        horizon_days=30,
        warmup_days=7,
        progress=False,
        seed=11,
    )
    config.policy.alerts.enabled = True
    simulation = Simulation(config)
    tower = simulation.control_tower
    assert tower is not None and tower.alerts is not None
    book, state = tower.alerts, simulation.parts.state
    handed_to_the_book = book.assess
    checked_rows = 0

    def assess(day: int, cells: np.ndarray, risks: np.ndarray, expected_day: np.ndarray) -> np.ndarray:
        nonlocal checked_rows
        high = risks[:, -1] >= tower.risk_threshold
        at = cells[high]
        whole = stockout_probability(
            (state.on_hand.reshape(-1)[at] - state.reserved.reshape(-1)[at]).astype(float),
            state.in_transit.reshape(-1)[at].astype(float),
            tower.inbound_eta_day[at].astype(float) - day,
            tower.dealer_lead_time_sd_days[at // tower.skus],
            tower.forecaster.mean_per_day(at),
            tower.forecaster.screen(at)[1],
            tower.horizons_days.tolist(),
            (tower.clear_threshold, tower.risk_threshold),
        )
        np.testing.assert_array_equal(risks[high], whole, err_msg=f"day {day}")
        checked_rows += int(high.sum())
        return handed_to_the_book(day, cells, risks, expected_day)

    book.assess = assess  # type: ignore[method-assign]
    simulation.advance(config.horizon_days)

    assert checked_rows > 100, "the check needs cells at risk"
