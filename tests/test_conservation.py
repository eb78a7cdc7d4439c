"""Property tests over seed and network size: parts units conserved per SKU, no negative stock, no VIN in two places.

Each example builds a small generated network, watches the invariants between the daily phases of the whole
run (``tests.helpers.invariants.watch``) and checks them once more at the end. Hypothesis is derandomized so
the examples are the same on every machine.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers.invariants import parts_violations, vehicle_violations, watch
from twin.config import NetworkConfig, TwinConfig
from twin.engine.simulation import Simulation

SETTINGS = settings(max_examples=8, deadline=None, derandomize=True, database=None)

seeds = st.integers(min_value=0, max_value=2**31 - 1)
dealer_counts = st.integers(min_value=3, max_value=20)
sku_counts = st.integers(min_value=50, max_value=300)
horizons = st.integers(min_value=30, max_value=120)


def small_simulation(
    seed: int, dealers: int, skus: int, horizon_days: int, vehicles_per_dealer: int = 40
) -> Simulation:
    network = NetworkConfig(dealers=dealers, skus=skus, vehicles_per_dealer=vehicles_per_dealer, stockyards=2)
    config = TwinConfig(
        network=network,
        horizon_days=horizon_days,
        warmup_days=min(7, horizon_days - 1),
        seed=seed,
        progress=False,
    )
    return Simulation(config)


@pytest.mark.slow
@SETTINGS
@given(seed=seeds, dealers=dealer_counts, skus=sku_counts, horizon_days=horizons)
def test_parts_units_are_conserved_per_sku_and_never_negative(
    seed: int, dealers: int, skus: int, horizon_days: int
) -> None:
    simulation = small_simulation(seed, dealers, skus, horizon_days)
    violations = watch(simulation, vehicle_every_days=10**9)
    result = simulation.run()
    assert violations == []
    parts = simulation.parts
    np.testing.assert_array_equal(
        simulation.parts_initial_units + parts.received_from_suppliers - parts.consumed,
        parts.state.units_in_network(),
    )
    state = parts.state
    for name, array in state.arrays().items():
        assert array.min() >= 0, name
    assert np.all(state.reserved <= state.on_hand)
    # the run did move stock: demand was served, suppliers delivered, and units left the network
    assert result.summary["parts_demand_lines"] > 0
    assert parts.consumed.sum() > 0 and parts.received_from_suppliers.sum() > 0
    sold = result.daily["parts_sold_units"].sum()
    assert sold > 0
    # consumed is what left the network: sold at the counter or fitted, plus emergency units; the part of the
    # day-0 demand still in WIP/reserved at the horizon has not been consumed yet
    assert parts.consumed.sum() <= sold
    # every demand line and unit is accounted for exactly once: first pick, emergency order or lost sale
    daily = result.daily
    np.testing.assert_array_equal(
        daily["parts_first_pick_lines"] + daily["parts_emergency_lines"] + daily["parts_lost_lines"],
        daily["parts_demand_lines"],
    )
    np.testing.assert_array_equal(
        daily["parts_filled_units"] + daily["parts_emergency_units"] + daily["parts_lost_units"],
        daily["parts_demand_units"],
    )
    by_region = result.daily_by_region.groupby("day")["parts_demand_lines"].sum().to_numpy()
    np.testing.assert_array_equal(by_region, daily["parts_demand_lines"].to_numpy())


@pytest.mark.slow
@SETTINGS
@given(seed=seeds, dealers=dealer_counts, horizon_days=horizons)
def test_no_vin_in_two_places_and_stock_arrays_match_the_yards(
    seed: int, dealers: int, horizon_days: int
) -> None:
    simulation = small_simulation(seed, dealers, skus=50, horizon_days=horizon_days)
    violations = watch(simulation, vehicle_every_days=3)
    result = simulation.run()
    assert violations == []
    assert vehicle_violations(simulation) == []
    assert parts_violations(simulation) == []
    flow = simulation.vehicles
    # the run exercised the whole chain: sales from stock, allocation to dealers and car-carrier deliveries
    assert result.summary["vehicle_sales"] > 0
    assert any(vehicle.received_day > 0 for vehicle in flow.vehicles), (
        "no vehicle reached a dealer during the run"
    )
    vins = [vehicle.vin for vehicle in flow.vehicles]
    assert len(set(vins)) == len(vins)
    # every customer is served from stock, takes a factory order or walks, exactly one of the three
    daily = result.daily
    np.testing.assert_array_equal(
        daily["vehicle_sold_from_stock"] + daily["vehicle_factory_orders"] + daily["vehicle_lost_sales"],
        daily["vehicle_customers"],
    )
    delivered = sum(1 for vehicle in flow.vehicles if vehicle.status.name == "DELIVERED")
    assert daily["vehicle_deliveries"].sum() == delivered
