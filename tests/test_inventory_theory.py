"""The exact inventory formulas of ``twin.analysis.inventory_theory`` against textbook numbers and brute force.

Each brute force below is the abstract daily recursion written out directly (receipts in the morning, demand,
evening review and order, end-of-day snapshot), vectorised over independent replicas. A replica starts full with
nothing on order and runs a warm-up before it is measured; its time averages are one observation, so the
replicas' averages are i.i.d. and their standard error is exact (batched with ``batch_means_standard_error``).
An exact formula must agree within 4 standard errors; the seeds are fixed, so the tests are deterministic.
"""

from __future__ import annotations

import ast
import itertools
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import lfilter
from scipy.stats import poisson

from twin.analysis import inventory_theory as theory
from twin.errors import FieldError

IntArray = np.ndarray
SIGMAS = 4.0
BATCHES = 20


def within(simulated_by_replica: np.ndarray, exact: float, bias_bound: float = 0.0) -> tuple[bool, float]:
    """Whether the replicas' mean is within the derived tolerance of ``exact``, and that tolerance."""
    error = theory.batch_means_standard_error(simulated_by_replica, BATCHES)
    tolerance = theory.derived_tolerance(error, bias_bound=bias_bound, sigmas=SIGMAS)
    return abs(float(simulated_by_replica.mean()) - exact) <= tolerance, tolerance


def assert_close(name: str, simulated_by_replica: np.ndarray, exact: float) -> None:
    ok, tolerance = within(simulated_by_replica, exact)
    assert ok, f"{name}: simulated {simulated_by_replica.mean():.5f} vs exact {exact:.5f} (+-{tolerance:.5f})"


def assert_fill_close(served: np.ndarray, demanded: np.ndarray, exact: float) -> None:
    error = theory.batch_means_ratio_standard_error(served, demanded, BATCHES)
    tolerance = theory.derived_tolerance(error, sigmas=SIGMAS)
    simulated = served.sum() / demanded.sum()
    assert abs(simulated - exact) <= tolerance, (
        f"fill {simulated:.5f} vs exact {exact:.5f} (+-{tolerance:.5f})"
    )


# -- brute force: one location with backorders, any order rule ----------------------------------------------


@dataclass
class Measured:
    """Per-replica sums over the measured days (divide by ``days`` for daily means)."""

    days: int
    on_hand: np.ndarray
    backorders: np.ndarray
    served: np.ndarray
    demanded: np.ndarray
    orders: np.ndarray
    position_counts: dict[int, np.ndarray]


def simulate_backorders(
    rate_per_day: float,
    review_lag_days: int,
    order_rule: Callable[[IntArray], IntArray],
    starting_level: int,
    seed: int,
    replicas: int = 2000,
    days: int = 250,
    warmup_days: int = 40,
) -> Measured:
    rng = np.random.default_rng(seed)
    net = np.full(replicas, starting_level, dtype=np.int64)
    arriving = np.zeros((review_lag_days, replicas), dtype=np.int64)  # slot t % k: orders due on morning t
    sums = {name: np.zeros(replicas) for name in ("on_hand", "backorders", "served", "demanded", "orders")}
    positions: dict[int, np.ndarray] = {}
    for day in range(warmup_days + days):
        slot = day % review_lag_days
        net += arriving[slot]  # receipts serve waiting customers first: net stock absorbs them
        arriving[slot] = 0
        demand = rng.poisson(rate_per_day, replicas)
        served = np.minimum(demand, np.maximum(net, 0))
        net -= demand
        position = net + arriving.sum(axis=0)
        order = order_rule(position)
        arriving[slot] += order  # due on the morning of day + k, the slot just emptied
        if day >= warmup_days:
            sums["on_hand"] += np.maximum(net, 0)
            sums["backorders"] += np.maximum(-net, 0)
            sums["served"] += served
            sums["demanded"] += demand
            sums["orders"] += order > 0
            for level in np.unique(position + order).tolist():
                positions.setdefault(level, np.zeros(replicas))
                positions[level] += position + order == level
    return Measured(days=days, position_counts=positions, **sums)


def base_stock_rule(level: int) -> Callable[[IntArray], IntArray]:
    return lambda position: np.maximum(level - position, 0)


def min_max_rule(reorder_level: int, order_up_to_level: int) -> Callable[[IntArray], IntArray]:
    return lambda position: np.where(position <= reorder_level, order_up_to_level - position, 0)


def batch_reorder_rule(reorder_level: int, batch_units: int) -> Callable[[IntArray], IntArray]:
    def rule(position: IntArray) -> IntArray:
        shortfall = np.maximum(reorder_level + 1 - position, 0)
        return -(-shortfall // batch_units) * batch_units  # smallest multiple of Q with position > r

    return rule


def check_backorder_system(measured: Measured, exact: theory.BackorderPerformance) -> None:
    days = measured.days
    assert_close("on hand", measured.on_hand / days, exact.mean_on_hand_units)
    assert_close("backorders", measured.backorders / days, exact.mean_backorder_units)
    assert_close("order probability", measured.orders / days, exact.order_probability_per_day)
    assert_fill_close(measured.served, measured.demanded, exact.fill_rate)


# -- Erlang and Palm ----------------------------------------------------------------------------------------


def test_erlang_b_matches_the_textbook_table_and_its_closed_forms() -> None:
    assert theory.erlang_b(5, 3.0) == pytest.approx(0.1101, abs=5e-5)
    assert theory.erlang_b(10, 5.0) == pytest.approx(0.01838, abs=5e-6)  # Erlang table, 10 lines, 5 erlangs
    assert theory.erlang_b(0, 2.0) == 1.0
    assert theory.erlang_b(1, 0.7) == pytest.approx(0.7 / 1.7, abs=1e-15)
    # the definition: a^n/n! / sum_j a^j/j!
    load, servers = 7.3, 9
    terms = [load**j / math.factorial(j) for j in range(servers + 1)]
    assert theory.erlang_b(servers, load) == pytest.approx(terms[-1] / sum(terms), rel=1e-12)


def test_palm_backorders_match_the_dc_example_and_a_brute_force_dealer() -> None:
    # the example of tests/test_known_answer.py: Poisson(2 x 3), S = 9 -> 0.161 units backordered
    palm = theory.base_stock_backorders(2.0, 3, 9)
    assert palm.mean_backorder_units == pytest.approx(0.161, abs=5e-4)
    demand = np.arange(200)
    pmf = poisson.pmf(demand, 6.0)
    assert palm.mean_backorder_units == pytest.approx(float(pmf @ np.maximum(demand - 9, 0)), abs=1e-12)
    assert palm.mean_on_hand_units == pytest.approx(float(pmf @ np.maximum(9 - demand, 0)), abs=1e-12)
    measured = simulate_backorders(2.0, 3, base_stock_rule(6), starting_level=6, seed=1)
    check_backorder_system(measured, theory.base_stock_backorders(2.0, 3, 6))


# -- (s, S) and (r, Q) --------------------------------------------------------------------------------------


def test_min_max_with_backorders_matches_brute_force_and_reduces_to_base_stock() -> None:
    exact = theory.periodic_min_max_backorders(1.5, 2, reorder_level=2, order_up_to_level=8)
    measured = simulate_backorders(1.5, 2, min_max_rule(2, 8), starting_level=8, seed=2)
    check_backorder_system(measured, exact)
    # the position's law, level by level
    levels, probabilities = theory.min_max_position_law(1.5, 2, 8)
    for level, probability in zip(levels.tolist(), probabilities.tolist(), strict=True):
        assert_close(f"P(position = {level})", measured.position_counts[level] / measured.days, probability)
    # cost: h E[on hand] + p E[backorders] + K P(order)
    cost = exact.cost_per_day(holding_cost_per_unit_day=1.0, backorder_cost_per_unit_day=9.0, order_cost=4.0)
    assert cost == pytest.approx(
        exact.mean_on_hand_units + 9.0 * exact.mean_backorder_units + 4.0 * exact.order_probability_per_day
    )
    # s = S - 1 orders every day with demand: base stock S
    reduced = theory.periodic_min_max_backorders(1.5, 2, reorder_level=7, order_up_to_level=8)
    assert reduced == pytest.approx(theory.base_stock_backorders(1.5, 2, 8))


def test_batch_reorder_position_is_uniform_and_matches_brute_force() -> None:
    rate, reorder_level, batch = 1.2, 3, 4
    # the exact chain of the position after review, built directly: y -> y - d + n Q
    levels = np.arange(reorder_level + 1, reorder_level + batch + 1)
    transition = np.zeros((batch, batch))
    for start, level in enumerate(levels.tolist()):
        for demand in range(60):
            after = level - demand
            if after <= reorder_level:
                after += -(-(reorder_level + 1 - after) // batch) * batch
            transition[start, after - reorder_level - 1] += poisson.pmf(demand, rate)
    uniform = np.full(batch, 1.0 / batch)
    np.testing.assert_allclose(uniform @ transition, uniform, atol=1e-12)

    exact = theory.periodic_batch_reorder_backorders(rate, 2, reorder_level, batch)
    measured = simulate_backorders(
        rate, 2, batch_reorder_rule(reorder_level, batch), starting_level=7, seed=3
    )
    check_backorder_system(measured, exact)
    for level in levels.tolist():
        assert_close(f"P(position = {level})", measured.position_counts[level] / measured.days, 1.0 / batch)
    # Q = 1 is base stock r + 1
    assert theory.periodic_batch_reorder_backorders(rate, 2, 5, 1) == pytest.approx(
        theory.base_stock_backorders(rate, 2, 6)
    )


# -- lost sales, Erlang, pooling ----------------------------------------------------------------------------


def simulate_lost_sales(
    rates_per_day: tuple[float, ...],
    base_stocks: tuple[int, ...],
    review_lag_days: int,
    pooled: bool,
    seed: int,
    replicas: int = 2000,
    days: int = 300,
    warmup_days: int = 60,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-replica sums of units served, demanded and end-of-day stock. Each location's shelf is its own;
    with ``pooled`` a demand its shelf cannot serve is served from the other's (two locations). Each location
    reorders in the evening what left its shelf, received ``k`` mornings later."""
    rng = np.random.default_rng(seed)
    locations = len(rates_per_day)
    shelf = np.tile(np.array(base_stocks, dtype=np.int64), (replicas, 1))
    arriving = np.zeros((review_lag_days, replicas, locations), dtype=np.int64)
    served_sum, demanded_sum, stock_sum = np.zeros(replicas), np.zeros(replicas), np.zeros(replicas)
    for day in range(warmup_days + days):
        slot = day % review_lag_days
        shelf += arriving[slot]
        demand = rng.poisson(rates_per_day, (replicas, locations))
        own = np.minimum(demand, shelf)
        left = shelf - own
        taken = own.copy()
        if pooled:
            unserved = demand - own
            lent = np.minimum(unserved[:, ::-1], left)  # location j lends to the other what it has left
            taken += lent
        shelf -= taken
        arriving[slot] = taken
        if day >= warmup_days:
            served_sum += taken.sum(axis=1)
            demanded_sum += demand.sum(axis=1)
            stock_sum += shelf.sum(axis=1)
    return served_sum, demanded_sum, stock_sum / days


def lost_sales_fill_rate(lines_per_day: float, base_stock: int, review_lag_days: int) -> float:
    """The lost-sales chain written independently (dense states, a least-squares solve): the reference the
    sparse power iteration of ``lost_sales_base_stock`` must agree with."""
    # demands >= S all sell the whole shelf, so lumping the tail into D = S keeps the chain exact
    demand_pmf = poisson.pmf(np.arange(base_stock + 1), lines_per_day)
    demand_pmf[-1] = poisson.sf(base_stock - 1, lines_per_day)
    history = review_lag_days - 1
    states = [s for s in itertools.product(range(base_stock + 1), repeat=history) if sum(s) <= base_stock]
    index = {state: position for position, state in enumerate(states)}
    transition = np.zeros((len(states), len(states)))
    expected_sold = np.zeros(len(states))
    for state in states:
        shelf = base_stock - sum(state)
        for demand, probability in enumerate(demand_pmf):
            sold = min(demand, shelf)
            transition[index[state], index[(*state[1:], sold)] if history else 0] += probability
            expected_sold[index[state]] += probability * sold
    # stationary law: pi (P - I) = 0, sum(pi) = 1
    system = np.vstack([transition.T - np.eye(len(states)), np.ones(len(states))])
    rhs = np.zeros(len(states) + 1)
    rhs[-1] = 1.0
    stationary = np.linalg.lstsq(system, rhs, rcond=None)[0]
    return float(stationary @ expected_sold / lines_per_day)


@pytest.mark.parametrize(
    ("rate_per_day", "review_lag_days", "base_stock"),
    [(2.0, 3, 7), (2.0, 1, 3), (0.5, 4, 4), (1.0, 5, 3), (0.05, 6, 3), (4.0, 2, 12)],
)
def test_lost_sales_chain_agrees_with_an_independent_dense_chain(
    rate_per_day: float, review_lag_days: int, base_stock: int
) -> None:
    exact = theory.lost_sales_base_stock(rate_per_day, review_lag_days, base_stock)
    dense = lost_sales_fill_rate(rate_per_day, base_stock, review_lag_days)
    assert exact.fill_rate == pytest.approx(dense, abs=1e-10)
    assert exact.state_count == theory.lost_sales_state_count(base_stock, review_lag_days)
    assert exact.mean_end_of_day_on_hand_units == pytest.approx(
        base_stock - review_lag_days * rate_per_day * exact.fill_rate, abs=1e-10
    )


@pytest.mark.parametrize(
    ("rate_per_day", "review_lag_days", "base_stock", "warmup_days"),
    [(2.0, 3, 7, 40), (0.15, 20, 4, 200)],  # the second: 8,855 states
)
def test_lost_sales_chain_matches_brute_force(
    rate_per_day: float, review_lag_days: int, base_stock: int, warmup_days: int
) -> None:
    exact = theory.lost_sales_base_stock(rate_per_day, review_lag_days, base_stock)
    served, demanded, stock = simulate_lost_sales(
        (rate_per_day,), (base_stock,), review_lag_days, pooled=False, seed=4, warmup_days=warmup_days
    )
    assert_fill_close(served, demanded, exact.fill_rate)
    assert_close("end-of-day stock", stock, exact.mean_end_of_day_on_hand_units)


def test_erlang_b_with_the_matched_load_is_the_small_rate_limit_of_the_daily_system() -> None:
    # rate x k held at 2 units, base stock 3, the day ever finer relative to the lead time
    comparisons = [
        theory.erlang_b_versus_daily_lost_sales(rate, lag, 3)
        for rate, lag in ((0.5, 4), (0.25, 8), (0.125, 16), (0.0625, 32))
    ]
    gaps = [abs(c.daily_lost_share - c.erlang_b_lost_share) for c in comparisons]
    print("daily vs Erlang-B(3, rate (k - 1/2)) gaps:", [f"{gap:.2e}" for gap in gaps])
    assert all(later < earlier / 3 for earlier, later in itertools.pairwise(gaps))  # O(rate^2)
    # the end-of-day pipeline load rate x k is the wrong match: its gap shrinks only like rate
    smallest = comparisons[-1]
    naive_gap = abs(smallest.daily_lost_share - theory.erlang_b(3, 2.0))
    assert naive_gap > 50 * gaps[-1]
    # k = 1, S = 1: daily lost share E[(D - 1)^+] / rate = rate/2 + O(rate^2), and B(1, rate/2) agrees
    rate = 0.01
    single = theory.erlang_b_versus_daily_lost_sales(rate, 1, 1)
    assert single.daily_lost_share == pytest.approx((rate - poisson.sf(0, rate)) / rate, rel=1e-9)
    assert single.erlang_b_lost_share == pytest.approx(single.daily_lost_share, rel=0.01)


def test_complete_pooling_behaves_as_one_location_and_beats_two() -> None:
    rates, levels, lag = (0.8, 1.4), (3, 4), 3
    exact = theory.complete_pooling_lost_sales(rates, levels, lag)
    assert exact == theory.lost_sales_base_stock(2.2, lag, 7)
    served, demanded, stock = simulate_lost_sales(rates, levels, lag, pooled=True, seed=5)
    assert_fill_close(served, demanded, exact.fill_rate)
    assert_close("pooled end-of-day stock", stock, exact.mean_end_of_day_on_hand_units)
    # the test has power: without transshipment the pair fills far less
    alone = sum(
        rate * theory.lost_sales_base_stock(rate, lag, level).fill_rate
        for rate, level in zip(rates, levels, strict=True)
    ) / sum(rates)
    error = theory.batch_means_ratio_standard_error(served, demanded, BATCHES)
    assert exact.fill_rate - alone > 10 * error


# -- one warehouse, many dealers ----------------------------------------------------------------------------


@dataclass
class TwoEchelonMeasured:
    days: int
    dealer_on_hand: np.ndarray  # [replica, dealer] sums over the measured days
    dealer_backorders: np.ndarray
    dealer_outstanding: np.ndarray
    dealer_served: np.ndarray
    dealer_demanded: np.ndarray
    dc_book: np.ndarray
    dc_on_hand: np.ndarray
    dc_shipped_at_once: np.ndarray
    dc_ordered: np.ndarray


def simulate_two_echelon(
    rates_per_day: tuple[float, ...],
    base_stocks: tuple[int, ...],
    dealer_lag_days: int,
    dc_base_stock: int,
    dc_lag_days: int,
    seed: int,
    replicas: int = 2000,
    days: int = 250,
) -> TwoEchelonMeasured:
    """The DC books each evening's dealer orders (one unit per demanded unit), orders as much from its supplier
    (k0 mornings), and ships its book oldest day first as far as its stock goes; within one day's units the
    order is random (one or two dealers). Shipments are on the dealer's shelf k1 mornings later."""
    rng = np.random.default_rng(seed)
    dealers = len(rates_per_day)
    assert dealers <= 2, "the random within-day order below is drawn for at most two dealers"
    book_days = dc_lag_days + 1  # a unit ordered on day d has shipped by the evening of d + k0
    net = np.tile(np.array(base_stocks, dtype=np.int64), (replicas, 1))
    dc_stock = np.full(replicas, dc_base_stock, dtype=np.int64)
    supplier = np.zeros((dc_lag_days, replicas), dtype=np.int64)
    book = np.zeros((book_days, replicas, dealers), dtype=np.int64)
    transit = np.zeros((dealer_lag_days, replicas, dealers), dtype=np.int64)
    warmup_days = dc_lag_days + dealer_lag_days + 5  # base stock: exactly stationary after k0 + k1 days
    shape = (replicas, dealers)
    measured = TwoEchelonMeasured(
        days, *(np.zeros(shape) for _ in range(5)), *(np.zeros(replicas) for _ in range(4))
    )
    for day in range(warmup_days + days):
        dc_stock += supplier[day % dc_lag_days]
        supplier[day % dc_lag_days] = 0
        net += transit[day % dealer_lag_days]
        transit[day % dealer_lag_days] = 0
        demand = rng.poisson(rates_per_day, shape)
        served = np.minimum(demand, np.maximum(net, 0))
        net -= demand
        # evening: book the orders, reorder from the supplier, ship the book oldest day first
        today = day % book_days
        assert not book[today].any()
        book[today] = demand
        supplier[day % dc_lag_days] = demand.sum(axis=1)
        shipped = np.zeros(shape, dtype=np.int64)
        for age in range(dc_lag_days, -1, -1):
            owed = book[(day - age) % book_days]
            units = np.minimum(owed.sum(axis=1), dc_stock)
            if dealers == 1:
                take = units[:, None]
            else:
                first = rng.hypergeometric(owed[:, 0], owed[:, 1], units)
                take = np.stack([first, units - first], axis=1)
            owed -= take
            dc_stock -= units
            shipped += take
            if age == 0:
                shipped_today = units
        transit[day % dealer_lag_days] = shipped
        if day >= warmup_days:
            measured.dealer_on_hand += np.maximum(net, 0)
            measured.dealer_backorders += np.maximum(-net, 0)
            measured.dealer_outstanding += np.array(base_stocks) - net
            measured.dealer_served += served
            measured.dealer_demanded += demand
            measured.dc_book += book.sum(axis=(0, 2))
            measured.dc_on_hand += dc_stock
            measured.dc_shipped_at_once += shipped_today
            measured.dc_ordered += demand.sum(axis=1)
    return measured


def test_serial_two_echelon_is_exact_against_brute_force() -> None:
    rate, level, lag, dc_level, dc_lag = 1.0, 3, 2, 2, 3
    measured = simulate_two_echelon((rate,), (level,), lag, dc_level, dc_lag, seed=6)
    days = measured.days
    center = theory.distribution_center_base_stock([rate], dc_level, dc_lag)
    assert_close("DC book", measured.dc_book / days, center.mean_backorder_units)
    assert_close("DC on hand", measured.dc_on_hand / days, center.mean_on_hand_units)
    assert_fill_close(measured.dc_shipped_at_once, measured.dc_ordered, center.fill_rate)
    assert center.mean_backorder_units == pytest.approx(
        theory.base_stock_backorders(rate, dc_lag, dc_level).mean_backorder_units
    )

    exact = theory.serial_two_echelon_dealer(rate, level, lag, dc_level, dc_lag)
    assert_close("dealer on hand", measured.dealer_on_hand[:, 0] / days, exact.mean_on_hand_units)
    assert_close("dealer backorders", measured.dealer_backorders[:, 0] / days, exact.mean_backorder_units)
    assert_fill_close(measured.dealer_served[:, 0], measured.dealer_demanded[:, 0], exact.fill_rate)
    (outstanding,) = theory.dealer_mean_outstanding_units([rate], lag, dc_level, dc_lag)
    assert_close("dealer outstanding", measured.dealer_outstanding[:, 0] / days, outstanding)
    # Graves with one dealer is the serial system; METRIC is not (it drops B0's overdispersion)
    assert theory.graves_dealers([rate], [level], lag, dc_level, dc_lag)[0] == pytest.approx(exact)
    metric = theory.metric_dealers([rate], [level], lag, dc_level, dc_lag)[0]
    ok, _ = within(measured.dealer_backorders[:, 0] / days, metric.mean_backorder_units)
    assert not ok, "the brute force has the power to tell METRIC from the exact serial system"


def test_two_dealers_metric_and_graves_next_to_brute_force() -> None:
    rates, levels, lag, dc_level, dc_lag = (1.0, 1.0), (3, 3), 2, 3, 2
    measured = simulate_two_echelon(rates, levels, lag, dc_level, dc_lag, seed=7)
    days = measured.days
    center = theory.distribution_center_base_stock(list(rates), dc_level, dc_lag)
    assert_close("DC book", measured.dc_book / days, center.mean_backorder_units)
    graves = theory.graves_dealers(list(rates), list(levels), lag, dc_level, dc_lag)
    metric = theory.metric_dealers(list(rates), list(levels), lag, dc_level, dc_lag)
    outstanding = theory.dealer_mean_outstanding_units(list(rates), lag, dc_level, dc_lag)
    for dealer in range(2):
        simulated = measured.dealer_backorders[:, dealer] / days
        print(
            f"dealer {dealer}: backorders brute force {simulated.mean():.4f} "
            f"+- {theory.batch_means_standard_error(simulated, BATCHES):.4f}, "
            f"Graves {graves[dealer].mean_backorder_units:.4f}, METRIC {metric[dealer].mean_backorder_units:.4f}"
        )
        # unit-by-unit first come first served, random within a day: Graves is exact here
        assert_close("Graves backorders", simulated, graves[dealer].mean_backorder_units)
        assert_close(
            "Graves on hand", measured.dealer_on_hand[:, dealer] / days, graves[dealer].mean_on_hand_units
        )
        assert_fill_close(
            measured.dealer_served[:, dealer], measured.dealer_demanded[:, dealer], graves[dealer].fill_rate
        )
        assert_close(
            "outstanding (Little)", measured.dealer_outstanding[:, dealer] / days, outstanding[dealer]
        )
        # METRIC is an approximation: only "within 20%"
        assert metric[dealer].mean_backorder_units == pytest.approx(simulated.mean(), rel=0.2)


# -- the sampling-error helpers and the module's imports -----------------------------------------------------


def test_batch_means_standard_error_finds_the_autocorrelated_series_error() -> None:
    rng = np.random.default_rng(8)
    independent = rng.normal(0.0, 2.0, 40_000)
    assert theory.batch_means_standard_error(independent) == pytest.approx(2.0 / math.sqrt(40_000), rel=0.4)
    # AR(1) with coefficient 0.9: the mean's variance is (1 + 0.9)/(1 - 0.9) = 19 times the independent one
    coefficient, size = 0.9, 200_000
    noise = rng.normal(0.0, 1.0, size)
    noise[0] /= math.sqrt(1 - coefficient**2)  # start in the stationary law
    series = lfilter([1.0], [1.0, -coefficient], noise)
    stationary_sd = 1 / math.sqrt(1 - coefficient**2)
    true_error = stationary_sd * math.sqrt((1 + coefficient) / (1 - coefficient) / size)
    assert theory.batch_means_standard_error(series) == pytest.approx(true_error, rel=0.4)
    naive = series.std() / math.sqrt(size)
    assert naive < true_error / 3  # what the batches are for

    numerators, denominators = rng.poisson(3.0, 10_000), rng.poisson(4.0, 10_000) + 1
    ratio_error = theory.batch_means_ratio_standard_error(numerators, denominators)
    assert 0 < ratio_error < 0.01
    assert theory.derived_tolerance(0.01, bias_bound=0.002) == pytest.approx(0.032)
    assert theory.derived_tolerance(0.01, sigmas=4) == pytest.approx(0.04)


def test_bad_input_is_refused_naming_the_field() -> None:
    with pytest.raises(FieldError, match="rate_per_day"):
        theory.base_stock_backorders(0.0, 2, 3)
    with pytest.raises(FieldError, match="review_lag_days"):
        theory.lost_sales_base_stock(1.0, 0, 3)
    with pytest.raises(FieldError, match="order_up_to_level"):
        theory.periodic_min_max_backorders(1.0, 2, 5, 5)
    with pytest.raises(FieldError, match="batch_units"):
        theory.periodic_batch_reorder_backorders(1.0, 2, 5, 0)
    with pytest.raises(FieldError, match="base_stocks"):
        theory.complete_pooling_lost_sales([1.0, 2.0], [3], 2)
    with pytest.raises(FieldError, match="base_stock"):
        theory.lost_sales_base_stock(0.1, 60, 40)  # C(99, 59) states
    with pytest.raises(FieldError, match="one value per batch"):
        theory.batch_means_standard_error([1.0, 2.0, 3.0], batches=5)
    with pytest.raises(FieldError, match="sigmas"):
        theory.derived_tolerance(0.1, sigmas=-1.0)


def test_the_theory_module_imports_only_numpy_scipy_and_the_standard_library() -> None:
    path = Path(theory.__file__)
    allowed = {"numpy", "scipy", "twin", "__future__", *sys.stdlib_module_names}
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    assert {name.split(".")[0] for name in imported} <= allowed
    assert {name for name in imported if name.startswith("twin")} <= {"twin.errors"}
