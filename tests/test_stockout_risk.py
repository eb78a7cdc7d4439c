"""Stock-out risk: the demand distribution is exact, the risk matches simulated stock-outs, inbound helps."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from twin.policies.demand_distribution import exceed_probability, quantile
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
