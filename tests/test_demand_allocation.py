"""Demand-profile allocation: cars go where they will sell, within dealer capacity, and unwanted cars stay."""

from __future__ import annotations

import numpy as np

from twin.policies.demand_allocation import DemandProfileAllocation
from twin.policies.observation import VehicleView


def _view(stock, sales, capacity, prices=(1_000_000.0, 1_000_000.0)) -> VehicleView:
    stock = np.asarray(stock, dtype=np.int32)
    dealers, specs = stock.shape
    zeros = np.zeros((dealers, specs), dtype=np.int32)
    return VehicleView(
        day=0, as_of_day=0, dealer_stock=stock, dealer_inbound=zeros,
        dealer_sales_28d=np.asarray(sales, dtype=np.int32), dealer_capacity=np.asarray(capacity),
        dealer_stockyard=np.zeros(dealers, dtype=np.int64), spec_model=np.arange(specs),
        spec_variant=np.arange(specs), spec_colour=np.zeros(specs, dtype=np.int64),
        yard_stock=np.zeros((1, specs), dtype=np.int32), pipeline=np.zeros(specs, dtype=np.int32),
        factory_lead_time_days=np.full(dealers, 30.0), plan_daily_retail=np.ones(specs),
        spec_price_inr=np.asarray(prices),
    )  # fmt: skip


def test_cars_go_to_the_dealers_whose_sales_say_they_will_move():
    # dealer 0 sells 3 of model 0 a month and already holds 3; dealer 1 sells none; dealer 2 sells 6 and holds
    # none: the three cars of spec 0 go to dealer 2, whose next units are the ones likely to sell this month
    view = _view(stock=[[3, 0], [0, 0], [0, 0]], sales=[[3, 0], [0, 0], [6, 0]], capacity=[50, 50, 50])
    policy = DemandProfileAllocation()
    assignment = policy.allocate(view, 0, np.array([0, 0, 0]))
    assert assignment.tolist() == [2, 2, 2]
    # the pro-rata baseline spreads them by volume instead, the dealer with no sales included
    assert set(super(DemandProfileAllocation, policy).allocate(view, 0, np.array([0, 0, 0])).tolist()) != {2}


def test_a_car_nobody_is_likely_to_sell_stays_in_the_yard_and_capacity_holds():
    # nobody sells model 1: its car stays; dealer 0 has room for one more car only
    view = _view(stock=[[9, 0], [0, 0]], sales=[[30, 0], [3, 0]], capacity=[10, 50])
    assignment = DemandProfileAllocation().allocate(view, 0, np.array([0, 0, 0, 1]))
    assert assignment[3] == -1
    assert (assignment == 0).sum() <= 1
    assert (assignment[:3] >= 0).sum() >= 2


def test_the_engine_runs_it_and_keeps_every_vin_in_one_place():
    from tests.helpers.invariants import watch
    from twin.config import NetworkConfig, TwinConfig
    from twin.engine.simulation import Simulation

    config = TwinConfig(
        network=NetworkConfig(dealers=16, skus=100, stockyards=2, vehicles_per_dealer=40),
        horizon_days=60,
        warmup_days=7,
        progress=False,
    )
    config.policy.allocation._target_ = "twin.policies.demand_allocation.DemandProfileAllocation"
    simulation = Simulation(config)
    violations = watch(simulation, vehicle_every_days=5)
    result = simulation.run()
    assert violations == []
    assert result.summary["vehicle_sales"] > 0
    # the business facts come from operations, not from the policy's defaults
    assert simulation.allocation.margin_share == config.operations.vehicle_margin_share
