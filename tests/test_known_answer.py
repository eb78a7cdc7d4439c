"""Known-answer test: one dealer, one SKU, Poisson unit demand, daily order-up-to-S replenishment (each
check runs independent copies of that SKU side by side at the one dealer: replications in one run).

The simulated first-pick fill rate and mean end-of-day shelf stock are compared with the exact values of the
inventory system the engine implements (derived below; computed by ``twin.analysis.inventory_theory.lost_sales_base_stock``), within batch-means sampling error.

Derivation
----------
Engine semantics that matter (``twin.engine.parts_logistics`` / ``twin.engine.parts_flow``):

* Day ``t``'s demand lines arrive at ``t + 0.25`` and are filled from ``on_hand - reserved`` in arrival order;
  a unit line is first-pick iff a unit is left on the shelf. An unfilled line is emergency-ordered from the DC
  (delivered to the customer, never to the shelf) or lost: either way the shelf is not owed anything, so the
  dealer's shelf is a **lost-sales** system (``fulfil`` never lets ``on_hand`` go below ``reserved``).
* The policy reviews at ``t + 0.75`` and sees inventory position ``on_hand - reserved + in_transit``. A
  consignment leaving then has lead time ``L = dc_dispatch_delay_days + km / carrier speed`` (exact with
  ``transit_time_cv = 0``) and, by the lead-time convention (``twin.domain.lead_time``), is usable from the
  morning (``+0.05``) of day ``t + max(1, ceil(L))``. The DC always has stock and the carrier always has room.

With order-up-to ``S`` every day, position is ``S`` after each review, so each day's order equals that day's
sales ``sold_t = min(D_t, X_t)``, where ``D_t ~ Poisson(lam)`` and ``X_t`` is the shelf stock when day ``t``'s
demand arrives. The order of day ``d`` is on the shelf on day ``d + k`` with ``k = max(1, ceil(L))``. Hence

    X_t = S - (sold_{t-1} + ... + sold_{t-k+1}),

a finite Markov chain in the last ``k - 1`` sales. With ``pi`` its stationary law and ``D`` independent of ``X``,

    fill rate (lines = units here) = E[min(D, X)] / lam.

For ``k = 1`` this is the closed form ``sum_{j=1..S} P(D >= j) / lam`` (every day starts at ``S``). The
end-of-day snapshot (``t + 0.95``) sees the same receipts as the demand, so the recorded dealer stock is
``S - (sold_t + ... + sold_{t-k+1})`` path by path, with mean ``S - k * lam * fill``.

A backorder system (``X = S - D[k-1 days]``, shortfalls owed) or a lead time one day longer or shorter give
values far outside the tolerance; the test asserts that too, so it would catch wrong lead-time or demand handling.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import poisson

from tests.helpers.worlds import ROAD_FACTOR, DealerSpec, SkuSpec, tiny_master_data
from twin.analysis.inventory_theory import lost_sales_base_stock
from twin.config import NetworkConfig, OperationsConfig, TwinConfig
from twin.domain.world import build_world
from twin.engine.demand import DemandModel, PartsLines, VehicleCustomers
from twin.engine.simulation import Simulation
from twin.policies.observation import IntArray, PartsView, ReplenishmentDecision

PARTS_SPEED_KM_PER_DAY = 300.0
#: the fill-rate checks run independent copies of the one-SKU system side by side (one SKU each, the same
#: dealer): 40 x 60 measured days hold as many SKU-days as one SKU over 2,400
REPLICA_SKUS = 40
REPLICA_WARMUP_DAYS = 15
#: and open them with little stock (a day or two of cover, below S), so a short warm-up reaches the steady state
REPLICA_OPENING_COVER_DAYS = (0.5, 1.0)
REPLICA_MEASURED_DAYS = 60
#: the DC check: a DC's backorders are rarer and come in runs of days, so more copies; the DC opens with a day
#: of cover too (30 days of the copies' history drain for ~100 days at S = 9, below Palm all that time)
DC_REPLICA_SKUS = 200
DC_REPLICA_OPENING_COVER_DAYS = 1.0


class UnitPoissonDemand(DemandModel):
    """Poisson(``lines_per_day``) counter lines of one unit each at dealer 0, for each of ``skus`` independent
    SKUs (replicas of one system), released at once. It keeps what it drew, per day and SKU, for the path checks."""

    def __init__(self, lines_per_day: float, skus: int = 1) -> None:
        super().__init__(parts_lines_per_dealer_day=lines_per_day, seasonality=False)
        self.lines_per_day = lines_per_day
        self.skus = skus
        self.drawn: dict[int, np.ndarray] = {}

    def parts_lines(self, day: int, rng: np.random.Generator) -> PartsLines:
        per_sku = rng.poisson(self.lines_per_day, size=self.skus)
        self.drawn[day] = per_sku
        count = int(per_sku.sum())
        return PartsLines(
            location=np.zeros(count, dtype=np.int64),
            sku=np.repeat(np.arange(self.skus, dtype=np.int64), per_sku),
            quantity=np.ones(count, dtype=np.int32),
            workshop=np.zeros(count, dtype=bool),
            release_delay_days=np.zeros(count, dtype=np.int64),
            emergency_draw=rng.random(count),
        )

    def vehicle_customers(self, day: int, rng: np.random.Generator) -> VehicleCustomers:
        empty = np.zeros(0)
        none = np.zeros(0, dtype=np.int64)
        return VehicleCustomers(empty, none, none, empty, empty, empty)


class BaseStockPolicy:
    """Dealer row: order up to ``base_stock`` every day. DC row: keep the position at ``dc_level`` (never short)."""

    #: what the ReplenishmentPolicy Protocol asks every policy to declare: no forecast needed, every part stocked
    needs_forecast = False
    phase_in_lines_per_year = 0

    def __init__(self, base_stock: int, dc_level: int) -> None:
        self.base_stock = base_stock
        self.dc_level = dc_level
        #: per day, the dealer's order and its shelf per SKU at the review (what the path checks read)
        self.dealer_orders: dict[int, np.ndarray] = {}
        self.dealer_shelf: dict[int, np.ndarray] = {}
        #: per day, what the DC owes its dealer per SKU at its review (after the day's dealer orders)
        self.dc_owed: dict[int, np.ndarray] = {}

    def replenish(self, view: PartsView, candidate_cells: IntArray) -> ReplenishmentDecision:
        """The cells under review (the engine asks for dealers, then for DCs), order-up-to their level: a cell
        whose position did not change since its last review is already at it."""
        skus = view.on_hand.shape[1]
        reviewed = candidate_cells
        location, sku = np.divmod(reviewed, skus)
        position = view.position(location, sku).astype(np.int64)
        target = np.where(location < view.dealer_count, self.base_stock, self.dc_level)
        order = position < target
        if np.any(location < view.dealer_count):
            ordered = np.zeros(skus, dtype=np.int64)
            at_dealer = order & (location == 0)
            ordered[sku[at_dealer]] = (target - position)[at_dealer]
            self.dealer_orders[view.day] = ordered
            self.dealer_shelf[view.day] = view.on_hand[0].astype(np.int64).copy()
        else:
            book = view.open_orders
            owed = np.zeros(skus, np.int64) if book is None else -book[view.dealer_count].astype(np.int64)
            self.dc_owed[view.day] = owed
        return ReplenishmentDecision(
            location=location[order],
            sku=sku[order],
            quantity=(target - position)[order].astype(np.int32),
            deferred_cells=np.zeros(0, dtype=np.int64),
        )


def backorder_fill_rate(lines_per_day: float, base_stock: int, review_lag_days: int) -> float:
    """What the fill rate would be if shortfalls were owed to the shelf: X = S - D over k-1 days (wrong model)."""
    demand = np.arange(200)
    pipeline = poisson.pmf(demand, lines_per_day * (review_lag_days - 1))
    today = poisson.pmf(demand, lines_per_day)
    shelf = np.maximum(base_stock - demand, 0)
    filled = np.minimum(demand[None, :], shelf[:, None])
    return float(pipeline @ filled @ today / lines_per_day)


def run_single_dealer(
    road_km: float,
    dispatch_delay_days: float,
    lines_per_day: float,
    base_stock: int,
    seed: int,
    dc_level: int | None = None,
    supplier_lead_time_days: float = 1.0,
    skus: int = 1,
    warmup_days: int = REPLICA_WARMUP_DAYS,
    measured_days: int = REPLICA_MEASURED_DAYS,
    opening_cover_days: tuple[float, float] = (8.0, 24.0),
    dc_cover_days: float = 30.0,
):  # type: ignore[no-untyped-def]
    master = tiny_master_data(
        [DealerSpec("D1", road_km)],
        [SkuSpec(f"P{index + 1}", "fast_mover", 1.0) for index in range(skus)],
        parts_speed_km_per_day=PARTS_SPEED_KM_PER_DAY,
    )
    config = TwinConfig(
        network=NetworkConfig(dealers=1, skus=skus, vehicles_per_dealer=0, road_factor=ROAD_FACTOR),
        operations=OperationsConfig(
            transit_time_cv=0.0,
            dc_dispatch_delay_days=dispatch_delay_days,
            supplier_lead_time_days=supplier_lead_time_days,
            opening_cover_days_min=opening_cover_days[0],
            opening_cover_days_max=opening_cover_days[1],
            dc_cover_days=dc_cover_days,
        ),
        horizon_days=warmup_days + measured_days,
        warmup_days=warmup_days,
        seed=seed,
        progress=False,
    )
    simulation = Simulation(
        config,
        world=build_world(master, ROAD_FACTOR),
        replenishment=BaseStockPolicy(
            base_stock, dc_level=10 * base_stock + 100 if dc_level is None else dc_level
        ),
        demand=UnitPoissonDemand(lines_per_day, skus),
    )
    return simulation, simulation.run()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("road_km", "dispatch_delay_days", "lines_per_day", "base_stock", "review_lag_days"),
    [
        # L = 0.5 + 2.5 = 3 days: an order placed on day t is on the shelf the morning of day t+3 (k = 3)
        pytest.param(750.0, 0.5, 2.0, 7, 3, id="lead-3d"),
        # L = 0.2 days: on the shelf the next morning (k = 1): the closed-form case
        pytest.param(60.0, 0.0, 2.0, 3, 1, id="lead-0.2d"),
    ],
)
def test_base_stock_fill_rate_matches_lost_sales_chain(
    road_km: float, dispatch_delay_days: float, lines_per_day: float, base_stock: int, review_lag_days: int
) -> None:
    simulation, result = run_single_dealer(
        road_km,
        dispatch_delay_days,
        lines_per_day,
        base_stock,
        seed=11,
        skus=REPLICA_SKUS,
        warmup_days=REPLICA_WARMUP_DAYS,
        measured_days=REPLICA_MEASURED_DAYS,
        opening_cover_days=REPLICA_OPENING_COVER_DAYS,
    )
    lead_time = float(simulation.dealer_lead_time_days[0])
    assert lead_time == pytest.approx(dispatch_delay_days + road_km / PARTS_SPEED_KM_PER_DAY, abs=1e-9)
    assert max(1, math.ceil(lead_time - 1e-9)) == review_lag_days

    exact = lost_sales_base_stock(lines_per_day, review_lag_days, base_stock).fill_rate
    if review_lag_days == 1:
        closed_form = (
            sum(poisson.sf(units - 1, lines_per_day) for units in range(1, base_stock + 1)) / lines_per_day
        )
        assert exact == pytest.approx(closed_form, abs=1e-12)

    # per day (rows) and SKU (columns): what was asked for, what the dealer ordered back (= sold: order-up-to
    # S every day), and its shelf at the review (= the end-of-day shelf: nothing moves in between)
    days = range(REPLICA_WARMUP_DAYS, REPLICA_WARMUP_DAYS + REPLICA_MEASURED_DAYS)
    demand = np.stack([simulation.demand.drawn[day] for day in days]).astype(np.int64)
    policy = simulation.replenishment
    sold = np.stack([policy.dealer_orders[day] for day in days])
    shelf_at_review = np.stack([policy.dealer_shelf[day] for day in days])

    daily = result.daily.iloc[REPLICA_WARMUP_DAYS:]
    lines = daily["parts_demand_lines"].to_numpy()
    first_pick = daily["parts_first_pick_lines"].to_numpy()
    # the KPIs are the sums of the replicas: the policy's orders are the day's first-pick sales
    np.testing.assert_array_equal(lines, demand.sum(axis=1))
    np.testing.assert_array_equal(first_pick, sold.sum(axis=1))
    simulated = first_pick.sum() / lines.sum()
    assert simulated == pytest.approx(result.summary["parts_fill_rate_line"], abs=1e-12)
    # the SKUs are independent replications: their spread is the sampling error
    per_sku_fill = sold.sum(axis=0) / demand.sum(axis=0)
    tolerance = 4.0 * float(per_sku_fill.std(ddof=1) / math.sqrt(REPLICA_SKUS)) + 0.005
    assert abs(simulated - exact) < tolerance, (
        f"simulated fill {simulated:.4f} vs exact {exact:.4f} (tolerance {tolerance:.4f})"
    )

    # the test has power: a lead time one day off or backorder semantics would miss by far more than the tolerance
    wrong_models = {
        "one day longer": lost_sales_base_stock(lines_per_day, review_lag_days + 1, base_stock).fill_rate
    }
    if review_lag_days > 1:  # with k = 1 nothing is on the road at demand time and the two models coincide
        wrong_models["one day shorter"] = lost_sales_base_stock(
            lines_per_day, review_lag_days - 1, base_stock
        ).fill_rate
        wrong_models["backorders"] = backorder_fill_rate(lines_per_day, base_stock, review_lag_days)
    for name, value in wrong_models.items():
        assert abs(value - exact) > 2 * tolerance, name

    # every unit line is first-pick, emergency-ordered or lost: nothing unfilled goes unrecorded
    unfilled = daily["parts_emergency_lines"] + daily["parts_lost_lines"]
    np.testing.assert_array_equal(daily["parts_first_pick_lines"] + unfilled, daily["parts_demand_lines"])
    assert daily["parts_emergency_lines"].sum() > 0 and daily["parts_lost_lines"].sum() > 0

    # path by path and SKU by SKU, not only on average: each day's shelf is S minus the sales whose orders are
    # on the road
    lagged_sales = sum(np.roll(sold, lag, axis=0) for lag in range(1, review_lag_days))
    shelf = base_stock - np.asarray(lagged_sales)
    np.testing.assert_array_equal(sold[review_lag_days:], np.minimum(demand, shelf)[review_lag_days:])

    # end-of-day shelf stock misses the sales whose replenishments are not yet received
    expected_path = base_stock - sum(np.roll(sold, lag, axis=0) for lag in range(review_lag_days))
    np.testing.assert_array_equal(
        shelf_at_review[review_lag_days:], np.asarray(expected_path)[review_lag_days:]
    )
    recorded = daily["parts_dealer_stock_units"].to_numpy().astype(np.int64)
    np.testing.assert_array_equal(recorded, shelf_at_review.sum(axis=1))
    per_sku_stock = shelf_at_review.mean(axis=0)
    expected_mean = base_stock - review_lag_days * lines_per_day * exact
    stock_tolerance = 4.0 * float(per_sku_stock.std(ddof=1) / math.sqrt(REPLICA_SKUS)) + 0.02
    assert abs(per_sku_stock.mean() - expected_mean) < stock_tolerance, (
        f"mean stock {per_sku_stock.mean():.3f} vs {expected_mean:.3f}"
    )
    assert shelf_at_review.max() <= base_stock


@pytest.mark.slow
def test_a_base_stock_dc_owes_its_dealer_what_it_cannot_ship_and_its_backorders_follow_palm() -> None:
    """Palm's theorem at the DC (issue #18 item 1). The dealer never runs out (base stock 40 against Poisson
    2 a day), so each evening it orders exactly the day's demand: the DC sees Poisson(2) unit orders a day.
    The DC keeps its position (on hand + on order from the supplier - owed to its dealer) at S = 9 after the
    day's dealer orders are booked, with a 3-day supplier lead time. Its end-of-day net stock is then S minus
    the last three days' orders, so its backorders are Palm's: E[(Poisson(6) - 9)+] = 0.161 units. Without a
    backorder book (an unfilled order asked for again the next evening) they were 2.69."""
    lines_per_day, dc_level, supplier_lead_days = 2.0, 9, 3.0
    simulation, result = run_single_dealer(
        60.0,
        0.0,
        lines_per_day,
        40,
        seed=5,
        dc_level=dc_level,
        supplier_lead_time_days=supplier_lead_days,
        skus=DC_REPLICA_SKUS,
        warmup_days=REPLICA_WARMUP_DAYS,
        measured_days=REPLICA_MEASURED_DAYS,
        opening_cover_days=REPLICA_OPENING_COVER_DAYS,
        dc_cover_days=DC_REPLICA_OPENING_COVER_DAYS,
    )
    # the book balances: what the dealer has on order is what its DC owes it
    book = simulation.logistics.open_orders
    np.testing.assert_array_equal(book.sum(axis=0), 0)
    assert np.all(book[0] == -book[1]) and np.all(book[0] >= 0)
    daily = result.daily.iloc[REPLICA_WARMUP_DAYS:]
    assert daily["parts_lost_lines"].sum() == 0 and daily["parts_emergency_lines"].sum() == 0
    days = range(REPLICA_WARMUP_DAYS, REPLICA_WARMUP_DAYS + REPLICA_MEASURED_DAYS)
    owed_per_sku = np.stack([simulation.replenishment.dc_owed[day] for day in days])
    # the end-of-day KPI is the replicas' sum of what the DC owes after its review
    np.testing.assert_array_equal(daily["parts_dc_backorder_units"].to_numpy(), owed_per_sku.sum(axis=1))
    owed = owed_per_sku.mean(axis=0)  # per SKU: independent replications
    demand = np.arange(200)
    palm = float(
        (np.maximum(demand - dc_level, 0) * poisson.pmf(demand, lines_per_day * supplier_lead_days)).sum()
    )
    assert palm == pytest.approx(0.161, abs=5e-4)
    tolerance = 3.0 * float(owed.std(ddof=1) / math.sqrt(DC_REPLICA_SKUS))
    assert abs(owed.mean() - palm) < tolerance, (
        f"DC backorders {owed.mean():.3f} vs Palm {palm:.3f} (+-{tolerance:.3f})"
    )
    # the test has power: a DC that reviews before its dealer's orders (a day late) would miss by far more
    late = float(
        (
            np.maximum(demand - dc_level, 0) * poisson.pmf(demand, lines_per_day * (supplier_lead_days + 1))
        ).sum()
    )
    assert abs(late - palm) > 3 * tolerance
    # and the DC fill rate is the share of days' orders shipped at once: P(net stock covers them)
    assert result.summary["parts_dc_fill_rate_units"] < 1.0
