"""The stock KPIs count a part once: units reserved for a customer's counter pickup were sold when the order
was filled (they are in ``parts_sold_units`` and COGS), so end-of-day stock, and everything derived from it
(working capital, turns, days supply, holding cost), is on hand less reserved."""

from __future__ import annotations

import numpy as np
import pytest

from twin.config import NetworkConfig, TwinConfig
from twin.engine.simulation import RunResult, Simulation

DEALERS = 10
HORIZON_DAYS = 40
WARMUP_DAYS = 7


@pytest.fixture(scope="module")
def recorded() -> tuple[RunResult, dict[str, np.ndarray]]:
    """A small run, with the parts arrays read at the moment each day's KPIs are recorded."""
    config = TwinConfig(
        network=NetworkConfig(dealers=DEALERS, skus=200, stockyards=2, vehicles_per_dealer=30),
        horizon_days=HORIZON_DAYS,
        warmup_days=WARMUP_DAYS,
        progress=False,
    )
    simulation = Simulation(config)
    state, unit_cost = simulation.parts.state, simulation.unit_cost
    seen: dict[str, list[float]] = {"on_hand": [], "reserved": [], "free_value": [], "dc_free_value": []}
    record_day = simulation._record_day

    def record_and_look(day: int) -> None:
        on_hand, reserved = state.on_hand.astype(np.int64), state.reserved.astype(np.int64)
        seen["on_hand"].append(float(on_hand[:DEALERS].sum()))
        seen["reserved"].append(float(reserved[:DEALERS].sum()))
        seen["free_value"].append(float(((on_hand - reserved)[:DEALERS] @ unit_cost).sum()))
        seen["dc_free_value"].append(float(((on_hand - reserved)[DEALERS:] @ unit_cost).sum()))
        record_day(day)

    simulation._record_day = record_and_look  # type: ignore[method-assign]
    result = simulation.run()
    return result, {name: np.array(values) for name, values in seen.items()}


def test_stock_is_on_hand_less_what_is_reserved_for_pickup(
    recorded: tuple[RunResult, dict[str, np.ndarray]],
) -> None:
    result, seen = recorded
    assert (seen["reserved"] > 0).sum() > HORIZON_DAYS // 2  # the case has reservations on most days
    daily = result.daily
    np.testing.assert_array_equal(daily["parts_dealer_stock_units"], seen["on_hand"] - seen["reserved"])
    np.testing.assert_allclose(daily["parts_dealer_stock_value_inr"], seen["free_value"], rtol=1e-12)
    np.testing.assert_allclose(daily["parts_dc_stock_value_inr"], seen["dc_free_value"], rtol=1e-12)
    # a reserved unit is not stock: the shelf count would overstate the stock by exactly the reservations
    assert (daily["parts_dealer_stock_units"] < seen["on_hand"]).sum() == (seen["reserved"] > 0).sum()


def test_working_capital_turns_and_days_supply_use_that_stock(
    recorded: tuple[RunResult, dict[str, np.ndarray]],
) -> None:
    result, seen = recorded
    summary, daily = result.summary, result.daily
    measured = daily.iloc[WARMUP_DAYS:]
    days = HORIZON_DAYS - WARMUP_DAYS
    dealer_value = seen["free_value"][WARMUP_DAYS:].mean()
    assert summary["parts_dealer_stock_value_inr"] == pytest.approx(dealer_value, rel=1e-12)
    assert summary["working_capital_inr"] == pytest.approx(
        dealer_value
        + seen["dc_free_value"][WARMUP_DAYS:].mean()
        + measured["vehicle_dealer_stock_value_inr"].mean(),
        rel=1e-12,
    )
    cogs_per_year = measured["parts_cogs_inr"].sum() * 365.0 / days
    assert summary["parts_turns_per_year"] == pytest.approx(cogs_per_year / dealer_value, rel=1e-12)
    last_stock = seen["on_hand"][-1] - seen["reserved"][-1]
    sold_last_30 = daily["parts_sold_units"].iloc[-30:].mean()
    assert summary["parts_days_supply"] == pytest.approx(last_stock / sold_last_30, rel=1e-12)
