"""Exact inventory theory in the engine's daily conventions: the known answers the twin is checked against.

The classic results (Palm, Erlang, (s, S), (r, Q), METRIC) are usually stated in continuous time. The engine is
a daily system, and a known-answer test is only as good as the match between the formula and the system, so
this module restates each result for the system the engine actually runs (issue #18, "textbook mode"):

One location reviewed every day; demand ``D_t ~ Poisson(rate_per_day)`` units per day, i.i.d. Day ``t`` in order:

1. morning: orders placed on the evening of day ``t - k`` arrive, ``k >= 1`` whole days (the *review lag*,
   ``k = max(1, ceil(lead time))``); with backorders, waiting customers are served first from the receipts;
2. the day's demand is served from the shelf in arrival order;
3. evening review: the policy sees the inventory position (on hand + on order - backorders) and orders;
4. end-of-day snapshot of on hand and backorders (the KPIs' "mean stock" is the mean end-of-day on hand).

Two facts carry most of the module. With backorders, whatever the policy, the end-of-day net stock is
``NS_t = IP(t - k) - (D_{t-k+1} + ... + D_t)``: everything ordered up to the evening of ``t - k`` has arrived by
the morning of ``t``, nothing ordered later has, and the position after review on ``t - k`` is independent of the
``k`` later days' demand. The net stock before day ``t``'s demand is ``IP(t - k)`` less ``k - 1`` days of demand,
so the share of demand served from the shelf the day it comes is ``E[min(D, (IP - Poisson(rate (k-1)))^+)] / rate``.
With lost sales and order-up-to ``S``, each evening's order is the day's sales, and the shelf when day ``t``'s
demand comes is ``S`` less the sales of the ``k - 1`` days before: a finite Markov chain in those sales.

Pure numpy/scipy; no engine, no SimPy. Each function names what it is exact for; the approximations (METRIC,
Graves, Erlang-B for the daily system) say so.

References: C. Palm (1938), "Analysis of the Erlang traffic formula for busy-signal arrangements";
A. K. Erlang (1917); C. C. Sherbrooke (1968), "METRIC: a multi-echelon technique for recoverable item control",
Operations Research 16; S. C. Graves (1985), "A multi-echelon inventory model for a repairable item with
one-for-one replenishment", Management Science 31; S. Axsater, "Inventory Control" (3rd ed., 2015): ch. 5
(single-echelon (R, Q) and (s, S) policies), ch. 10 (multi-echelon: METRIC 10.3, exact one-for-one 10.2);
P. Zipkin, "Foundations of Inventory Management" (2000): ch. 6 (stochastic lead times, base stock and (r, q)),
ch. 7 (lost sales), ch. 8 (series/distribution systems).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Real

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.stats import binom, poisson

from twin.errors import FieldError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Poisson tails below this are dropped where a distribution must be truncated (a sum over its support)
POISSON_TAIL_PROBABILITY = 1e-16
#: the lost-sales chain is solved by power iteration; beyond this many states the caller should simulate
#: instead (memory and time grow fast with the review lag: 177,100 states take about a second)
LOST_SALES_STATE_LIMIT = 500_000
#: power iteration stops when its remaining error (L1) is bounded below this, or fails after that many steps
STATIONARY_TOLERANCE = 1e-13
POWER_ITERATION_LIMIT = 100_000
#: the contraction rate behind that bound is the largest of the last this many step ratios
RATE_WINDOW_STEPS = 10


# -- results ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackorderPerformance:
    """Long-run daily figures of one location with backorders (customers wait for the part).

    ``fill_rate`` is the share of demanded units served from the shelf on the day they are demanded (the
    engine's first-pick fill by unit); ``mean_on_hand_units`` and ``mean_backorder_units`` are end-of-day means.
    """

    mean_on_hand_units: float
    mean_backorder_units: float
    fill_rate: float
    order_probability_per_day: float
    mean_order_units_per_day: float

    @property
    def short_units_per_day(self) -> float:
        """Units a day that are not served the day they are demanded (each one is backordered once)."""
        return self.mean_order_units_per_day * (1.0 - self.fill_rate)

    def cost_per_day(
        self,
        holding_cost_per_unit_day: float,
        backorder_cost_per_unit_day: float,
        order_cost: float,
        shortage_cost_per_unit: float = 0.0,
    ) -> float:
        """``h E[on hand] + p E[backorders] + K P(order) (+ a penalty per unit backordered)``, per day."""
        return (
            holding_cost_per_unit_day * self.mean_on_hand_units
            + backorder_cost_per_unit_day * self.mean_backorder_units
            + order_cost * self.order_probability_per_day
            + shortage_cost_per_unit * self.short_units_per_day
        )


@dataclass(frozen=True)
class LostSalesPerformance:
    """Long-run daily figures of one location (or one completely pooled group) with lost sales."""

    fill_rate: float
    mean_end_of_day_on_hand_units: float
    order_probability_per_day: float
    demand_units_per_day: float
    state_count: int

    @property
    def lost_share(self) -> float:
        """Share of demanded units lost (one minus the fill rate)."""
        return 1.0 - self.fill_rate

    @property
    def mean_sold_units_per_day(self) -> float:
        """Units sold (and reordered) a day."""
        return self.demand_units_per_day * self.fill_rate

    def cost_per_day(
        self, holding_cost_per_unit_day: float, lost_sale_cost_per_unit: float, order_cost: float
    ) -> float:
        """``h E[on hand] + penalty x units lost a day + K P(order)``, per day."""
        return (
            holding_cost_per_unit_day * self.mean_end_of_day_on_hand_units
            + lost_sale_cost_per_unit * self.demand_units_per_day * self.lost_share
            + order_cost * self.order_probability_per_day
        )


@dataclass(frozen=True)
class ErlangComparison:
    """The daily lost-sales system next to the continuous-review Erlang loss system it discretises."""

    daily_lost_share: float
    erlang_b_lost_share: float
    matched_offered_load: float


@dataclass(frozen=True, eq=False)
class DistributionCenterPerformance:
    """A base-stock DC serving its dealers' one-for-one orders with a backorder book (exact, Palm).

    ``backorder_probabilities[b]`` is P(b units in the book after the evening), truncated where the Poisson
    tail is below ``POISSON_TAIL_PROBABILITY``; ``fill_rate`` is the share of units shipped the evening they are
    ordered; ``mean_wait_days`` is the mean time a unit spends in the book, ``E[B0] / rate`` (Little's law).
    """

    mean_backorder_units: float
    mean_on_hand_units: float
    fill_rate: float
    mean_wait_days: float
    backorder_probabilities: FloatArray = field(repr=False)


# -- checks -------------------------------------------------------------------------------------------------


def _positive_rate(name: str, value: float) -> float:
    if isinstance(value, bool) or not (isinstance(value, Real) and math.isfinite(value) and value > 0):
        raise FieldError(name, value, "must be a finite number of units per day above 0")
    return float(value)


def _lag(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise FieldError(name, value, "must be a whole number of days, at least 1")
    return int(value)


def _whole(name: str, value: int, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise FieldError(name, value, "must be a whole number of units")
    if minimum is not None and value < minimum:
        raise FieldError(name, value, f"must be at least {minimum}")
    return int(value)


# -- Poisson pieces -----------------------------------------------------------------------------------------


def _poisson_upper(mean: float) -> int:
    """The largest value kept when a Poisson(mean) law is truncated."""
    if mean <= 0:
        return 0
    return int(poisson.isf(POISSON_TAIL_PROBABILITY, mean)) + 1


def _poisson_pmf(mean: float, upper: int) -> FloatArray:
    """P(Poisson(mean) = j) for j = 0..upper (a point mass at 0 for mean 0)."""
    values = np.arange(max(upper, 0) + 1)
    if mean <= 0:
        return (values == 0).astype(np.float64)
    return np.asarray(poisson.pmf(values, mean), dtype=np.float64)


def _expected_shortfall_below(levels: IntArray, mean: float) -> FloatArray:
    """``E[(y - Poisson(mean))^+]`` for each level y, exactly: ``sum_{j<y} P(Poisson <= j)`` (no truncation)."""
    highest = max(int(levels.max(initial=0)), 0)
    cdf = np.ones(highest) if mean <= 0 else poisson.cdf(np.arange(highest), mean)
    partial = np.concatenate(([0.0], np.cumsum(cdf)))
    return np.asarray(partial[np.clip(levels, 0, None)], dtype=np.float64)


def _expected_sales_from_shelf(rate_per_day: float, shelf_units: int) -> FloatArray:
    """``E[min(D, x)]`` for x = 0..shelf_units, D ~ Poisson(rate): ``sum_{j<x} P(D > j)``."""
    tail = poisson.sf(np.arange(max(shelf_units, 0)), rate_per_day)
    return np.concatenate(([0.0], np.cumsum(tail)))


def _backorder_performance(
    levels: IntArray,
    probabilities: FloatArray,
    rate_per_day: float,
    review_lag_days: int,
    order_probability_per_day: float,
) -> BackorderPerformance:
    """Figures of a backorder system whose position after review has the law ``(levels, probabilities)``.

    End-of-day net stock is ``level - Poisson(rate k)``; net stock before a day's demand is
    ``level - Poisson(rate (k - 1))`` (module docstring). The position may stand for anything independent of
    the ``k`` days of demand that follow, e.g. ``S - B0_i`` at a dealer of a two-echelon system.
    """
    pipeline_mean = rate_per_day * review_lag_days
    on_hand_by_level = _expected_shortfall_below(levels, pipeline_mean)
    backorders_by_level = pipeline_mean - levels + on_hand_by_level
    highest = max(int(levels.max(initial=0)), 0)
    # fill: sum_j P(P' = j) E[min(D, y - j)] over j < y, one convolution for every level at once
    before_demand = _poisson_pmf(rate_per_day * (review_lag_days - 1), highest)
    sales = _expected_sales_from_shelf(rate_per_day, highest)
    served = np.convolve(before_demand, sales)[: highest + 1]
    served_by_level = np.where(levels > 0, served[np.clip(levels, 0, None)], 0.0)
    return BackorderPerformance(
        mean_on_hand_units=float(probabilities @ on_hand_by_level),
        mean_backorder_units=float(probabilities @ backorders_by_level),
        fill_rate=float(probabilities @ served_by_level / rate_per_day),
        order_probability_per_day=float(order_probability_per_day),
        mean_order_units_per_day=rate_per_day,
    )


# -- Erlang and Palm ----------------------------------------------------------------------------------------


def erlang_b(servers: int, offered_load: float) -> float:
    """Erlang's loss formula B(servers, offered_load), by the stable recursion ``B_n = a B_{n-1} / (n + a B_{n-1})``.

    The blocking probability of M/G/servers/servers (Erlang 1917); as inventory, the stock-out share of a
    continuous-review one-for-one lost-sales system with base stock ``servers`` and ``offered_load`` = demand
    rate x mean replenishment time (insensitive to the lead-time distribution). Axsater ch. 5.
    """
    servers = _whole("servers", servers, minimum=0)
    if not (math.isfinite(offered_load) and offered_load >= 0):
        raise FieldError("offered_load", offered_load, "must be a finite number of erlangs, at least 0")
    blocking = 1.0
    for server in range(1, servers + 1):
        blocking = offered_load * blocking / (server + offered_load * blocking)
    return blocking


def base_stock_backorders(rate_per_day: float, review_lag_days: int, base_stock: int) -> BackorderPerformance:
    """Order-up-to ``base_stock`` every day with backorders: Palm's theorem in the daily conventions, exact.

    The position after review is always ``S``, so end-of-day backorders are ``(Poisson(rate k) - S)^+`` and on
    hand ``(S - Poisson(rate k))^+`` (Palm 1938; Axsater ch. 5.2, Zipkin ch. 6.2); an order is placed on every
    day with demand. A negative ``base_stock`` is allowed (every customer waits).
    """
    rate_per_day = _positive_rate("rate_per_day", rate_per_day)
    review_lag_days = _lag("review_lag_days", review_lag_days)
    base_stock = _whole("base_stock", base_stock)
    return _backorder_performance(
        np.array([base_stock], dtype=np.int64),
        np.ones(1),
        rate_per_day,
        review_lag_days,
        order_probability_per_day=-math.expm1(-rate_per_day),
    )


# -- (s, S) and (r, Q) with backorders ----------------------------------------------------------------------


def min_max_position_law(
    rate_per_day: float, reorder_level: int, order_up_to_level: int
) -> tuple[IntArray, FloatArray]:
    """Stationary law of the position after review under periodic (s, S): levels s+1..S and their probabilities.

    Each evening the position falls by the day's demand and, if it is then at or below ``reorder_level`` (s),
    is raised to ``order_up_to_level`` (S). The chain on {s+1..S} is irreducible (demand 0 and 1 both have
    positive probability) and is solved exactly (Zipkin ch. 6.7; Axsater ch. 5.4).
    """
    rate_per_day = _positive_rate("rate_per_day", rate_per_day)
    reorder_level = _whole("reorder_level", reorder_level)
    order_up_to_level = _whole("order_up_to_level", order_up_to_level)
    if order_up_to_level <= reorder_level:
        raise FieldError(
            "order_up_to_level", order_up_to_level, f"must exceed reorder_level ({reorder_level})"
        )
    size = order_up_to_level - reorder_level
    levels = np.arange(reorder_level + 1, order_up_to_level + 1, dtype=np.int64)
    drop = levels[:, None] - levels[None, :]  # demand that takes level i to level j without an order
    transition = np.where(drop >= 0, poisson.pmf(np.clip(drop, 0, None), rate_per_day), 0.0)
    # demand of at least (y - s) triggers an order back up to S
    transition[:, -1] += poisson.sf(levels - reorder_level - 1, rate_per_day)
    system = np.vstack([transition.T - np.eye(size), np.ones(size)])
    right_side = np.zeros(size + 1)
    right_side[-1] = 1.0
    stationary = np.linalg.lstsq(system, right_side, rcond=None)[0]
    return levels, np.clip(stationary, 0.0, None) / np.clip(stationary, 0.0, None).sum()


def periodic_min_max_backorders(
    rate_per_day: float, review_lag_days: int, reorder_level: int, order_up_to_level: int
) -> BackorderPerformance:
    """Periodic (s, S) with backorders, reviewed daily, exact: end-of-day figures and the order probability.

    Position after review from ``min_max_position_law``; net stock = position ``k`` days earlier less ``k`` days
    of demand. An order is placed when the position before review is at or below s:
    ``P = sum_y pi(y) P(D >= y - s)``. With ``reorder_level = order_up_to_level - 1`` this is base stock S.
    Cost per day: ``.cost_per_day(h, p, K)`` (Axsater ch. 5.4; Zipkin ch. 6.7).
    """
    review_lag_days = _lag("review_lag_days", review_lag_days)
    levels, probabilities = min_max_position_law(rate_per_day, reorder_level, order_up_to_level)
    order_probability = float(probabilities @ poisson.sf(levels - reorder_level - 1, rate_per_day))
    return _backorder_performance(levels, probabilities, rate_per_day, review_lag_days, order_probability)


def periodic_batch_reorder_backorders(
    rate_per_day: float, review_lag_days: int, reorder_level: int, batch_units: int
) -> BackorderPerformance:
    """Periodic (r, Q) with backorders, reviewed daily, exact: order ``n x Q``, the smallest n with position > r.

    The position after review lives on {r+1..r+Q}; the step from y to y' has probability
    ``sum_n P(D = y - y' + n Q)``, which depends only on ``(y - y') mod Q``, so every column of the transition
    matrix sums to one: the chain is doubly stochastic, and irreducible and aperiodic (P(D=0), P(D=1) > 0),
    hence its stationary law is **uniform** on r+1..r+Q (Axsater ch. 5.3; Zipkin ch. 6.5). An order is placed
    when the day's demand crosses r: ``P = (1/Q) sum_{j=1..Q} P(D >= j) = E[min(D, Q)] / Q``. Q = 1 is base
    stock r + 1.
    """
    rate_per_day = _positive_rate("rate_per_day", rate_per_day)
    review_lag_days = _lag("review_lag_days", review_lag_days)
    reorder_level = _whole("reorder_level", reorder_level)
    batch_units = _whole("batch_units", batch_units, minimum=1)
    levels = np.arange(reorder_level + 1, reorder_level + batch_units + 1, dtype=np.int64)
    probabilities = np.full(batch_units, 1.0 / batch_units)
    order_probability = float(_expected_sales_from_shelf(rate_per_day, batch_units)[-1] / batch_units)
    return _backorder_performance(levels, probabilities, rate_per_day, review_lag_days, order_probability)


# -- lost sales ---------------------------------------------------------------------------------------------


def _compositions(total_limit: int, parts: int) -> npt.NDArray[np.int16]:
    """Every tuple of ``parts`` whole numbers >= 0 summing to at most ``total_limit`` (one per row)."""
    rows = np.zeros((1, 0), dtype=np.int16)
    sums = np.zeros(1, dtype=np.int64)
    for _ in range(parts):
        blocks, block_sums = [], []
        for value in range(total_limit + 1):
            keep = sums + value <= total_limit
            blocks.append(np.hstack([rows[keep], np.full((int(keep.sum()), 1), value, dtype=np.int16)]))
            block_sums.append(sums[keep] + value)
        rows, sums = np.vstack(blocks), np.concatenate(block_sums)
    return rows


def lost_sales_state_count(base_stock: int, review_lag_days: int) -> int:
    """States of the lost-sales chain: compositions of at most S into k - 1 parts, C(S + k - 1, k - 1)."""
    return math.comb(base_stock + review_lag_days - 1, review_lag_days - 1)


def lost_sales_base_stock(rate_per_day: float, review_lag_days: int, base_stock: int) -> LostSalesPerformance:
    """Order-up-to ``base_stock`` every day with lost sales, exact for the daily system.

    Every evening the order is the day's sales, so the shelf when day t's demand comes is
    ``X_t = S - (sold_{t-1} + ... + sold_{t-k+1})``, a Markov chain in the last k - 1 days' sales with
    ``sold_t = min(D_t, X_t)``. Its stationary law is found by sparse power iteration (k = 1: X = S always).
    Fill rate ``E[min(D, X)] / rate``; mean end-of-day stock ``E[X - min(D, X)] = S - k x rate x fill``.
    Lost sales with a lead time are not a product form (Zipkin ch. 7; Karush 1957 for the k = 1 case).
    """
    rate_per_day = _positive_rate("rate_per_day", rate_per_day)
    review_lag_days = _lag("review_lag_days", review_lag_days)
    base_stock = _whole("base_stock", base_stock, minimum=0)
    states = lost_sales_state_count(base_stock, review_lag_days)
    if states > LOST_SALES_STATE_LIMIT:
        raise FieldError(
            "base_stock",
            base_stock,
            f"with review_lag_days={review_lag_days} the exact chain has {states:,} states (limit "
            f"{LOST_SALES_STATE_LIMIT:,}); simulate instead",
        )
    sales = _expected_sales_from_shelf(rate_per_day, base_stock)
    demand_at_least_one = -math.expm1(-rate_per_day)
    if review_lag_days == 1 or base_stock == 0:
        shelf = np.array([base_stock])
        stationary = np.ones(1)
    else:
        shelf, stationary = _lost_sales_stationary(rate_per_day, review_lag_days, base_stock)
    expected_sold = float(stationary @ sales[shelf])
    return LostSalesPerformance(
        fill_rate=expected_sold / rate_per_day,
        mean_end_of_day_on_hand_units=float(stationary @ shelf) - expected_sold,
        order_probability_per_day=float(stationary @ (shelf > 0)) * demand_at_least_one,
        demand_units_per_day=rate_per_day,
        state_count=int(stationary.size),
    )


def _lost_sales_stationary(
    rate_per_day: float, review_lag_days: int, base_stock: int
) -> tuple[IntArray, FloatArray]:
    """Shelf at demand time per state, and the stationary law, of the lost-sales chain (k >= 2, S >= 1)."""
    history = _compositions(base_stock, review_lag_days - 1)  # oldest day's sales first
    count = history.shape[0]
    shelf = base_stock - history.sum(axis=1, dtype=np.int64)
    index = {row.tobytes(): position for position, row in enumerate(history)}
    demand_pmf = poisson.pmf(np.arange(base_stock + 1), rate_per_day)
    demand_tail = poisson.sf(np.arange(base_stock + 1) - 1, rate_per_day)  # P(D >= x)
    sources, targets, weights = [], [], []
    for sold in range(base_stock + 1):
        able = np.flatnonzero(shelf >= sold)
        following = np.hstack([history[able, 1:], np.full((able.size, 1), sold, dtype=np.int16)])
        # a demand at or above the shelf sells all of it: the tail's probability, not the point's
        weight = np.where(shelf[able] == sold, demand_tail[sold], demand_pmf[sold])
        sources.append(able)
        targets.append(np.fromiter((index[row.tobytes()] for row in following), np.int64, able.size))
        weights.append(weight)
    transition = sparse.csr_matrix(
        (np.concatenate(weights), (np.concatenate(sources), np.concatenate(targets))), shape=(count, count)
    )
    return shelf, _stationary_by_power_iteration(transition)


def _stationary_by_power_iteration(transition: sparse.csr_matrix) -> FloatArray:
    """Stationary law of an irreducible aperiodic chain: ``pi <- pi P`` until the bound on the remaining error
    (the last step x rate / (1 - rate), the rate the slowest of the last ten step ratios) is below 1e-13.

    The lost-sales chain is a shift register in the last k - 1 sales: a direct sparse LU of its balance
    equations fills in badly (24,310 states took 7 s, 177,100 did not finish), while one step costs only its
    (S + 1) x states non-zeros and the chain forgets its start within a few lead times (a few hundred steps).
    Irreducible: all-zero sales is reachable from everywhere and every state from it; aperiodic: it has a loop.
    """
    backward = transition.T.tocsr()
    count = transition.shape[0]
    law = np.full(count, 1.0 / count)
    steps: list[float] = []
    for _ in range(POWER_ITERATION_LIMIT):
        following = backward @ law
        steps.append(float(np.abs(following - law).sum()))
        law = following
        if steps[-1] == 0.0:
            break
        if len(steps) > RATE_WINDOW_STEPS:
            # the slowest recent contraction, so one lucky step cannot stop the iteration early
            recent = np.array(steps[-RATE_WINDOW_STEPS - 1 :])
            rate = min(float((recent[1:] / recent[:-1]).max()), 0.999999)
            if steps[-1] * rate / (1.0 - rate) < STATIONARY_TOLERANCE:
                break
    else:
        raise FieldError(
            "transition", f"{count} states", f"no stationary law within {POWER_ITERATION_LIMIT:,} steps"
        )
    return law / law.sum()


def erlang_b_matched_offered_load(rate_per_day: float, review_lag_days: int) -> float:
    """The Erlang load that matches the daily lost-sales system as ``rate_per_day -> 0``: ``rate (k - 1/2)``.

    A unit sold on day t at a time u in (0, 1) through the day is off the shelf for the rest of that day and k - 1
    whole days (it is reordered that evening and back on the morning of day t + k): k - u days, k - 1/2 on
    average with demand spread evenly over the day. Erlang-B depends on the replenishment time only through
    its mean (insensitivity), so the load is rate x (k - 1/2); equivalently, by PASTA, a customer finds a
    Poisson(rate (k - 1 + u)) number of units away if no shelf limit binds, mean rate (k - 1/2). With k = 1,
    S = 1 the daily lost share is ``rate/2 + O(rate^2)`` and ``B(1, rate/2)`` agrees, while the end-of-day
    pipeline mean rate k would give ``rate``, twice too much.
    """
    rate_per_day = _positive_rate("rate_per_day", rate_per_day)
    review_lag_days = _lag("review_lag_days", review_lag_days)
    return rate_per_day * (review_lag_days - 0.5)


def erlang_b_versus_daily_lost_sales(
    rate_per_day: float, review_lag_days: int, base_stock: int
) -> ErlangComparison:
    """The exact daily lost share next to Erlang-B with the matched load ``rate (k - 1/2)``.

    The daily system differs from the continuous Erlang system only by several sales falling in one day (their
    shelf is the morning's, and their units come back together); as ``rate_per_day -> 0`` with ``rate x k`` held,
    the gap vanishes (tests show it shrinking). Erlang 1917; Axsater ch. 5 (lost sales, one-for-one).
    """
    exact = lost_sales_base_stock(rate_per_day, review_lag_days, base_stock)
    load = erlang_b_matched_offered_load(rate_per_day, review_lag_days)
    return ErlangComparison(
        daily_lost_share=exact.lost_share,
        erlang_b_lost_share=erlang_b(base_stock, load),
        matched_offered_load=load,
    )


def complete_pooling_lost_sales(
    rates_per_day: Sequence[float], base_stocks: Sequence[int], review_lag_days: int
) -> LostSalesPerformance:
    """Locations that share stock at the moment of demand (complete pooling, lost sales), as one location.

    A demand any location cannot serve from its own shelf is served at once from another's shelf if any has a
    unit; each evening the locations reorder what left their shelves (all with the same review lag k). Then the
    group's shelf plus pipeline is always ``sum S_i`` and the group sees Poisson(``sum rate_i``) demand, so its
    totals are exactly the lost-sales chain with those figures (fill rate, mean stock, sales). How the stock
    splits between the locations is not given by this. Zipkin ch. 8 (pooling); Axsater ch. 10 (lateral
    transshipments).
    """
    if len(rates_per_day) != len(base_stocks) or len(rates_per_day) == 0:
        raise FieldError(
            "base_stocks", list(base_stocks), f"needs one base stock per rate ({len(rates_per_day)} rates)"
        )
    for position, rate in enumerate(rates_per_day):
        _positive_rate(f"rates_per_day[{position}]", rate)
    for position, level in enumerate(base_stocks):
        _whole(f"base_stocks[{position}]", level, minimum=0)
    return lost_sales_base_stock(float(sum(rates_per_day)), review_lag_days, int(sum(base_stocks)))


# -- one warehouse, many dealers (OWMR), backorders at both levels --------------------------------------------


def _dealer_network(
    dealer_rates_per_day: Sequence[float], dealer_base_stocks: Sequence[int], dealer_review_lag_days: int
) -> tuple[FloatArray, IntArray, int]:
    if len(dealer_rates_per_day) != len(dealer_base_stocks) or len(dealer_rates_per_day) == 0:
        raise FieldError(
            "dealer_base_stocks",
            list(dealer_base_stocks),
            f"needs one base stock per dealer rate ({len(dealer_rates_per_day)} rates)",
        )
    rates = np.array(
        [_positive_rate(f"dealer_rates_per_day[{i}]", r) for i, r in enumerate(dealer_rates_per_day)]
    )
    levels = np.array(
        [_whole(f"dealer_base_stocks[{i}]", s) for i, s in enumerate(dealer_base_stocks)], dtype=np.int64
    )
    return rates, levels, _lag("dealer_review_lag_days", dealer_review_lag_days)


def distribution_center_base_stock(
    dealer_rates_per_day: Sequence[float], dc_base_stock: int, dc_review_lag_days: int
) -> DistributionCenterPerformance:
    """The DC of a one-warehouse multi-dealer system with base-stock dealers and backorders: exact (Palm).

    Dealers with backorders order each evening exactly their day's demand, so the DC sees Poisson(rate0) units a
    day, ``rate0 = sum rate_i``; it keeps its position (on hand + on order - book) at ``S0`` after booking them,
    and its supplier delivers ``k0`` mornings later (never short). Its book after the evening is
    ``B0 = (Poisson(rate0 k0) - S0)^+`` (Palm 1938; Sherbrooke 1968; Axsater ch. 10.2). Units of an evening's
    orders are shipped at once if stock is left after the older book is served: ``fill_rate`` is that share.
    """
    rates = np.array(
        [_positive_rate(f"dealer_rates_per_day[{i}]", r) for i, r in enumerate(dealer_rates_per_day)]
    )
    if rates.size == 0:
        raise FieldError("dealer_rates_per_day", list(dealer_rates_per_day), "needs at least one dealer")
    dc_base_stock = _whole("dc_base_stock", dc_base_stock, minimum=0)
    dc_review_lag_days = _lag("dc_review_lag_days", dc_review_lag_days)
    total_rate = float(rates.sum())
    palm = _backorder_performance(
        np.array([dc_base_stock], dtype=np.int64),
        np.ones(1),
        total_rate,
        dc_review_lag_days,
        order_probability_per_day=-math.expm1(-total_rate),
    )
    pipeline_mean = total_rate * dc_review_lag_days
    upper = _poisson_upper(pipeline_mean)
    pipeline = _poisson_pmf(pipeline_mean, upper)
    book = np.zeros(max(upper - dc_base_stock, 0) + 1)
    book[0] = pipeline[: dc_base_stock + 1].sum()
    book[1:] = pipeline[dc_base_stock + 1 :]
    return DistributionCenterPerformance(
        mean_backorder_units=palm.mean_backorder_units,
        mean_on_hand_units=palm.mean_on_hand_units,
        fill_rate=palm.fill_rate,
        mean_wait_days=palm.mean_backorder_units / total_rate,
        backorder_probabilities=book,
    )


def _dealer_from_book_share(
    rate_per_day: float, base_stock: int, review_lag_days: int, book_share_probabilities: FloatArray
) -> BackorderPerformance:
    """A dealer whose units in the DC book ``k1`` days ago have the given law: its position is ``S - B0_i``."""
    owed = np.arange(book_share_probabilities.size, dtype=np.int64)
    return _backorder_performance(
        base_stock - owed,
        book_share_probabilities,
        rate_per_day,
        review_lag_days,
        order_probability_per_day=-math.expm1(-rate_per_day),
    )


def serial_two_echelon_dealer(
    rate_per_day: float,
    base_stock: int,
    review_lag_days: int,
    dc_base_stock: int,
    dc_review_lag_days: int,
) -> BackorderPerformance:
    """One dealer behind one DC (a serial system), both base stock with backorders: exact.

    The dealer's end-of-day outstanding is its last ``k1`` days of demand (in transit or just ordered) plus the
    units the DC owed it after the evening ``k1`` days ago, ``B0``; the two are independent, so backorders are
    ``(Poisson(rate k1) + B0 - S)^+`` with B0's law from ``distribution_center_base_stock``: a convolution
    (Axsater ch. 10.2; Zipkin ch. 8; the DC ships its book as its supplier's receipts land).
    """
    rate_per_day = _positive_rate("rate_per_day", rate_per_day)
    base_stock = _whole("base_stock", base_stock)
    review_lag_days = _lag("review_lag_days", review_lag_days)
    center = distribution_center_base_stock([rate_per_day], dc_base_stock, dc_review_lag_days)
    return _dealer_from_book_share(rate_per_day, base_stock, review_lag_days, center.backorder_probabilities)


def metric_dealers(
    dealer_rates_per_day: Sequence[float],
    dealer_base_stocks: Sequence[int],
    dealer_review_lag_days: int,
    dc_base_stock: int,
    dc_review_lag_days: int,
) -> tuple[BackorderPerformance, ...]:
    """METRIC (Sherbrooke 1968) for each dealer: its outstanding orders taken as Poisson with the exact mean.

    Dealer i's outstanding is ``Poisson(rate_i k1) + B0_i``; METRIC replaces it by a Poisson law with mean
    ``rate_i (k1 + E[B0] / rate0)`` (Little's law: every unit waits ``E[B0] / rate0`` days in the book on
    average). Approximate: the mean is exact, the variance is too small (B0_i is overdispersed); it becomes
    exact only as the DC never owes anything (large S0) (Axsater ch. 10.3.2).
    """
    rates, levels, lag = _dealer_network(dealer_rates_per_day, dealer_base_stocks, dealer_review_lag_days)
    center = distribution_center_base_stock(list(rates), dc_base_stock, dc_review_lag_days)
    results = []
    for rate, level in zip(rates.tolist(), levels.tolist(), strict=True):
        share_mean = rate * center.mean_wait_days
        share = _poisson_pmf(share_mean, _poisson_upper(share_mean))
        results.append(_dealer_from_book_share(rate, level, lag, share))
    return tuple(results)


def graves_dealers(
    dealer_rates_per_day: Sequence[float],
    dealer_base_stocks: Sequence[int],
    dealer_review_lag_days: int,
    dc_base_stock: int,
    dc_review_lag_days: int,
) -> tuple[BackorderPerformance, ...]:
    """Graves' binomial disaggregation (1985) for each dealer: ``B0_i | B0 ~ Binomial(B0, rate_i / rate0)``.

    Exact for each dealer's own figures when the DC's book is served first-come-first-served **by unit** and the
    order in which one evening's units are booked does not depend on the dealer (e.g. random): the book is then
    the last B0 units ordered, each dealer i's with probability ``rate_i / rate0`` independently of B0 (Poisson
    thinning). For one dealer it is the exact serial system. With the dealers of one evening booked in a fixed
    order, or a book served by whole dealer queues, it is an approximation (better than METRIC, which also
    drops the binomial's overdispersion). Axsater ch. 10.2. Measured (brute force, 2026-12-06): two dealers
    at 1 unit a day, S = 3, k1 = 2, DC S0 = 3, k0 = 2, book served by whole dealer queues, the oldest opened
    first and ties by dealer index (the engine's book at the time): backorders 0.502 and 0.602 (+-0.002)
    against Graves' 0.534 for both; served unit by unit, random within a day: 0.534 and 0.530 (+-0.003).
    """
    rates, levels, lag = _dealer_network(dealer_rates_per_day, dealer_base_stocks, dealer_review_lag_days)
    center = distribution_center_base_stock(list(rates), dc_base_stock, dc_review_lag_days)
    book = center.backorder_probabilities
    total_rate = float(rates.sum())
    counts = np.arange(book.size)
    results = []
    for rate, level in zip(rates.tolist(), levels.tolist(), strict=True):
        # P(B0_i = j) = sum_b P(B0 = b) C(b, j) q^j (1 - q)^(b - j)
        share = book @ binom.pmf(counts[None, :], counts[:, None], rate / total_rate)
        results.append(_dealer_from_book_share(rate, level, lag, np.asarray(share, dtype=np.float64)))
    return tuple(results)


def dealer_mean_outstanding_units(
    dealer_rates_per_day: Sequence[float],
    dealer_review_lag_days: int,
    dc_base_stock: int,
    dc_review_lag_days: int,
) -> tuple[float, ...]:
    """Each dealer's mean end-of-day outstanding units (ordered, not yet on its shelf): ``rate_i (k1 + E[B0]/rate0)``.

    Exact by Little's law when the book's service order does not depend on the dealer (each unit then waits
    E[B0]/rate0 days in the book on average); their sum, ``rate0 k1 + E[B0]``, is exact under any order.
    """
    rates = np.array(
        [_positive_rate(f"dealer_rates_per_day[{i}]", r) for i, r in enumerate(dealer_rates_per_day)]
    )
    lag = _lag("dealer_review_lag_days", dealer_review_lag_days)
    center = distribution_center_base_stock(list(rates), dc_base_stock, dc_review_lag_days)
    return tuple(float(rate * (lag + center.mean_wait_days)) for rate in rates)


# -- sampling error of simulated estimates -------------------------------------------------------------------


def _batches(name: str, values: npt.ArrayLike, batches: int) -> FloatArray:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    batches = _whole("batches", batches, minimum=2)
    if array.size < batches:
        raise FieldError(name, f"{array.size} values", f"needs at least one value per batch ({batches})")
    return array


def batch_means_standard_error(values: npt.ArrayLike, batches: int = 20) -> float:
    """Standard error of the mean of a (possibly autocorrelated) series from ``batches`` consecutive batches.

    The batch means are nearly independent when each batch is much longer than the series' correlation time
    (Law and Kelton, "Simulation Modeling and Analysis", ch. 9.5); for independent replications any batching
    is valid.
    """
    array = _batches("values", values, batches)
    means = np.array([batch.mean() for batch in np.array_split(array, batches)])
    return float(means.std(ddof=1) / math.sqrt(batches))


def batch_means_ratio_standard_error(
    numerators: npt.ArrayLike, denominators: npt.ArrayLike, batches: int = 20
) -> float:
    """Standard error of ``sum(numerators) / sum(denominators)`` (e.g. a fill rate) from batch ratios."""
    top = _batches("numerators", numerators, batches)
    bottom = _batches("denominators", denominators, batches)
    if top.size != bottom.size:
        raise FieldError("denominators", f"{bottom.size} values", f"must match numerators ({top.size})")
    ratios = np.array(
        [
            upper.sum() / lower.sum()
            for upper, lower in zip(
                np.array_split(top, batches), np.array_split(bottom, batches), strict=True
            )
        ]
    )
    return float(ratios.std(ddof=1) / math.sqrt(batches))


def derived_tolerance(standard_error: float, bias_bound: float = 0.0, sigmas: float = 3.0) -> float:
    """The tolerance of a known-answer check: ``sigmas x standard error + a bound on the known bias``.

    The bias bound is what the model leaves out by construction (a warm-up not quite stationary, an
    approximation's proven error), argued, not tuned. With a standard error from 20 batch means the ratio
    (estimate - truth) / standard error follows Student's t with 19 degrees of freedom, so 3 of them fail a
    correct model 0.74% of the time (0.27% with a known standard error); a test making many such checks on a
    fixed seed is deterministic, and should be shown to pass on other seeds too.
    """
    for name, value in (("standard_error", standard_error), ("bias_bound", bias_bound), ("sigmas", sigmas)):
        if not (math.isfinite(value) and value >= 0):
            raise FieldError(name, value, "must be a finite number at least 0")
    return sigmas * standard_error + bias_bound
