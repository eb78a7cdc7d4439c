"""Demand-profile allocation: cars go where they will sell, within dealer capacity, and unwanted cars stay."""

from __future__ import annotations

import numpy as np

from tests.helpers.worlds import vehicle_test_config
from twin.config import ByRequestAllocationConfig, DemandProfileAllocationConfig, NetworkSourcingConfig
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
    from twin.engine.simulation import Simulation

    config = vehicle_test_config(60)
    config.policy.allocation = DemandProfileAllocationConfig()
    simulation = Simulation(config)
    violations = watch(simulation, vehicle_every_days=5)
    result = simulation.run()
    assert violations == []
    assert result.summary["vehicle_sales"] > 0
    # the business facts come from operations, not from the policy's defaults
    assert simulation.allocation.margin_share == config.operations.vehicle_margin_share


# -- the by-request baseline ----------------------------------------------------------------------------
def test_by_request_fills_requests_in_full_when_supply_allows_so_over_askers_overstock():
    from twin.policies.by_request_allocation import ByRequestAllocation

    # both dealers sell 28 of model 0 a month (1 a day) and hold nothing: need 5 days' supply = 5 cars each
    view = _view(stock=[[0, 0], [0, 0]], sales=[[28, 0], [28, 0]], capacity=[50, 50])
    honest = ByRequestAllocation(target_days_supply=5.0, request_inflation=1.0, request_inflation_spread=0.0)
    assert honest.requests(view, np.array([0, 1]))[:, 0].tolist() == [5, 5]
    loud = ByRequestAllocation(target_days_supply=5.0, request_inflation=2.0, request_inflation_spread=0.0)
    assignment = loud.allocate(view, 0, np.zeros(30, dtype=np.int64))
    # plenty of cars: each gets what it asked for, twice its need, and the rest stay in the yard
    assert (assignment == 0).sum() == 10 and (assignment == 1).sum() == 10 and (assignment == -1).sum() == 10


def test_by_request_shares_a_short_supply_in_proportion_to_the_requests_within_room():
    from twin.policies.by_request_allocation import ByRequestAllocation

    view = _view(stock=[[0, 0], [0, 0]], sales=[[28, 0], [28, 0]], capacity=[50, 50])
    policy = ByRequestAllocation(target_days_supply=10.0, request_inflation=1.5, request_inflation_spread=0.5)
    inflation = policy.inflation(2)
    assert np.all(inflation >= 1.0) and inflation[0] != inflation[1]  # some dealers shout louder
    requests = policy.requests(view, np.array([0, 1]))[:, 0]
    cars = int(requests.sum()) // 2  # half of what they asked for
    assignment = policy.allocate(view, 0, np.zeros(cars, dtype=np.int64))
    assert (assignment >= 0).sum() == cars
    got = np.array([(assignment == 0).sum(), (assignment == 1).sum()])
    assert np.all(np.abs(got - requests / requests.sum() * cars) < 1.0)  # largest remainders
    # a dealer with no room gets nothing, however loud
    full = _view(stock=[[50, 0], [0, 0]], sales=[[28, 0], [28, 0]], capacity=[50, 50])
    assert np.all(policy.allocate(full, 0, np.zeros(6, dtype=np.int64)) != 0)


def test_by_request_runs_in_the_engine_and_keeps_every_vin_in_one_place():
    from tests.helpers.invariants import watch
    from twin.engine.simulation import Simulation

    config = vehicle_test_config(60)
    config.policy.allocation = ByRequestAllocationConfig()
    simulation = Simulation(config)
    violations = watch(simulation, vehicle_every_days=5)
    result = simulation.run()
    assert violations == []
    assert result.summary["vehicle_sales"] > 0


def test_by_request_still_places_a_model_nobody_asked_for():
    from twin.policies.by_request_allocation import ByRequestAllocation

    # nobody sold model 1 in the last 28 days (a new launch): no dealer asks for it, yet its cars must move
    view = _view(stock=[[0, 0], [0, 0]], sales=[[28, 0], [28, 0]], capacity=[50, 50])
    policy = ByRequestAllocation(target_days_supply=10.0)
    assert policy.requests(view, np.array([0, 1]))[:, 1].sum() == 0
    assignment = policy.allocate(view, 0, np.array([1, 1, 1, 1]))
    assert np.all(assignment >= 0)


# -- allocation status (issue 7, item 4) ----------------------------------------------------------------
def test_allocation_status_lists_every_car_on_its_way_to_each_dealer_with_a_due_date():
    from twin.engine.allocation_status import AllocationStep, allocation_status, by_dealer
    from twin.engine.simulation import Simulation

    config = vehicle_test_config(45, sourcing=NetworkSourcingConfig())
    simulation = Simulation(config)
    simulation.advance(30)
    status = allocation_status(simulation.vehicles)
    flow = simulation.vehicles
    # every car counted as on its way to a dealer is listed under that dealer and spec, and nothing else is;
    # factory orders still in build are listed too (the dealer's count starts when they are built)
    listed = status[status["step"] != AllocationStep.IN_BUILD.value]
    dealer_index = {str(d): i for i, d in enumerate(simulation.world.network.dealers.dealer_id)}
    spec_of = {vehicle.vin: vehicle.spec for vehicle in flow.vehicles}
    counts = np.zeros(flow.dealer_inbound.shape, dtype=np.int64)
    np.add.at(counts, (listed["dealer_id"].map(dealer_index), listed["vin"].map(spec_of)), 1)
    assert np.array_equal(counts, flow.dealer_inbound)
    assert set(status["step"]) >= {AllocationStep.AT_STOCKYARD.value, AllocationStep.SHIPPED.value}
    assert (status["eta_day"] >= 30 - 1e-9).all()  # nothing is due in the past
    in_build = status[status["step"] == AllocationStep.IN_BUILD.value]
    assert in_build["customer_order"].all()
    summary = by_dealer(status)
    assert summary["allocated_not_received"].sum() == len(status)


def test_the_cars_left_in_a_yard_keep_their_queue_order_spec_by_spec():
    """The allocation cycle regroups the unallocated cars by runs of a spec: the same queues, in the same order,
    as appending them one at a time would give."""
    from collections import deque

    from twin.engine.vehicle_flow import VehicleFlow

    rng = np.random.default_rng(3)
    for _ in range(50):
        specs = np.repeat(rng.permutation(9)[: rng.integers(1, 6)], rng.integers(1, 5))
        ids = rng.permutation(500)[: specs.size]
        left = rng.random(specs.size) < 0.5
        expected: dict[int, deque[int]] = {}
        for vehicle_id, spec in zip(ids[left].tolist(), specs[left].tolist(), strict=True):
            expected.setdefault(spec, deque()).append(vehicle_id)
        pool = VehicleFlow._pool_by_spec(ids[left], specs[left])
        assert list(pool) == list(expected) and all(list(pool[s]) == list(expected[s]) for s in expected)
    assert VehicleFlow._pool_by_spec(np.array([], dtype=np.int64), np.array([], dtype=np.int64)) == {}
