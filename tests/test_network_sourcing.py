"""Atlas's candidate search: policy filters with reasons, preference order, age priority, the spec index."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers.worlds import vehicle_test_config
from twin.config import NetworkSourcingConfig
from twin.policies.network_sourcing import (
    MatchLevel,
    NetworkGeometry,
    NetworkSourcing,
    Refusal,
    SourceKind,
    SourcingRequest,
    SourcingRules,
    SpecIndex,
    VinInventory,
    acceptable_specs,
)

DEALERS, SPECS = 4, 3
# dealers 0..3 on a line, 100 km apart; one stockyard next to dealer 0
DEALER_KM = np.abs(np.subtract.outer(np.arange(DEALERS), np.arange(DEALERS))) * 100.0
GEOMETRY = NetworkGeometry(
    dealer_km=DEALER_KM,
    yard_to_dealer_km=np.array([[10.0, 110.0, 210.0, 310.0]]),
    speed_km_per_day=400.0,
    dispatch_delay_days=0.5,
    rate_per_km_inr=60.0,
    minimum_charge_inr=8000.0,
    slots_per_load=8,
    handling_fee_inr=2500.0,
    floor_plan_inr_per_day=np.full(SPECS, 250.0),
)


def inventory(**columns):
    count = len(columns["spec"])
    base = {
        "vehicle": np.arange(count),
        "kind": np.zeros(count, np.int64),
        "site": np.ones(count, np.int64),
        "ready_day": np.zeros(count),
        "received_day": np.full(count, 0.0),
        "reserved": np.zeros(count, bool),
    }
    base.update({name: np.asarray(value) for name, value in columns.items()})
    return VinInventory(**base)


DEFAULT_RULES = SourcingRules()


def atlas(vins, rules=DEFAULT_RULES, trades=None, stock=None, sales=None):
    return NetworkSourcing(
        vins,
        GEOMETRY,
        rules,
        np.ones(DEALERS, bool) if trades is None else trades,
        np.full((DEALERS, SPECS), 3) if stock is None else stock,
        np.zeros((DEALERS, SPECS), np.int64) if sales is None else sales,
    )


def request(specs=(0,), match=(MatchLevel.EXACT,), patience=30.0, dealer=0, day=10.0):
    return SourcingRequest(dealer, np.array(specs), np.array(match), patience, day)


def test_reserved_and_forbidden_sources_are_never_offered_and_say_why():
    vins = inventory(
        spec=[0, 0, 0, 0, 0, 0],
        site=[1, 2, 3, 1, 0, 2],
        reserved=[True, False, False, False, False, False],
        kind=[0, 0, 0, 0, 0, 0],
    )
    trades = np.array([True, True, False, True])  # dealer 2 does not trade
    candidates = atlas(vins, SourcingRules(max_distance_km=250.0), trades=trades).candidates(request())
    reasons = dict(zip(candidates.vehicle.tolist(), candidates.refusal.tolist(), strict=True))
    assert reasons[0] == Refusal.RESERVED
    assert reasons[1] == Refusal.HOLDER_DOES_NOT_TRADE and reasons[5] == Refusal.HOLDER_DOES_NOT_TRADE
    assert reasons[2] == Refusal.TOO_FAR  # 300 km
    assert reasons[3] == Refusal.ACCEPTED
    assert reasons[4] == Refusal.SAME_DEALER
    assert candidates.vehicle[candidates.best()] == 3
    table = candidates.table()
    assert table.loc[0, "reason"] == "offered" and len(table) == 6


def test_a_holder_keeps_its_last_unit_of_a_spec_it_sells_fast():
    vins = inventory(spec=[0, 0], site=[1, 2])
    stock = np.full((DEALERS, SPECS), 3)
    stock[1, 0] = 1
    sales = np.zeros((DEALERS, SPECS), np.int64)
    sales[1, 0] = 4
    candidates = atlas(vins, stock=stock, sales=sales).candidates(request())
    assert candidates.refusal.tolist() == [Refusal.LAST_UNIT_OF_FAST_SPEC, Refusal.ACCEPTED]


def test_exact_match_beats_a_nearer_substitute_when_both_meet_the_patience():
    vins = inventory(spec=[0, 1], site=[3, 1])  # the exact spec 300 km away, another colour 100 km away
    specs, match = acceptable_specs(0, np.array([0, 1]), np.array([0, 1, 2]), True, True)
    candidates = atlas(vins).candidates(request(specs=specs, match=match))
    assert candidates.vehicle[candidates.best()] == 0
    # with a patience only the substitute meets, the substitute is offered and the exact one is too late
    impatient = atlas(vins).candidates(request(specs=specs, match=match, patience=0.6))
    assert impatient.vehicle[impatient.best()] == 1
    assert impatient.refusal[impatient.vehicle == 0][0] == Refusal.TOO_LATE


def test_aged_units_go_first_between_equal_matches():
    vins = inventory(spec=[0, 0], site=[1, 1], received_day=[5.0, -100.0])
    candidates = atlas(vins).candidates(request())
    assert candidates.vehicle[candidates.best()] == 1


def test_policy_can_close_a_kind_of_source():
    vins = inventory(spec=[0, 0, 0], kind=[SourceKind.STOCKYARD, SourceKind.PIPELINE, SourceKind.IN_TRANSIT],
                     site=[0, 0, 2], ready_day=[0.0, 15.0, 12.0])  # fmt: skip
    rules = SourcingRules(allow_pipeline=False)
    candidates = atlas(vins, rules).candidates(request())
    assert candidates.refusal.tolist() == [Refusal.ACCEPTED, Refusal.KIND_NOT_ALLOWED, Refusal.ACCEPTED]
    # the stockyard unit is ready now and 10 km away: it is the best
    assert candidates.vehicle[candidates.best()] == 0


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(seed=st.integers(0, 10_000))
def test_the_spec_index_finds_exactly_the_vins_of_the_asked_specs(seed):
    rng = np.random.default_rng(seed)
    spec = rng.integers(0, 20, 300)
    index = SpecIndex.build(spec, 20)
    asked = rng.choice(20, size=rng.integers(1, 6), replace=False)
    rows, position = index.rows_of(asked)
    assert sorted(rows.tolist()) == sorted(np.flatnonzero(np.isin(spec, asked)).tolist())
    assert np.array_equal(spec[rows], asked[position])
    # a spec's VINs keep the inventory's order (a stable sort): ties between candidates go to the first listed
    assert np.array_equal(index.order, np.argsort(spec, kind="stable"))


def test_the_engine_inventory_lists_every_sourceable_vin_once_where_it_is():
    from twin.config import NetworkConfig, TwinConfig
    from twin.engine.simulation import Simulation
    from twin.engine.vin_inventory import vin_inventory

    config = TwinConfig(
        network=NetworkConfig(dealers=10, skus=100, stockyards=2, vehicles_per_dealer=30),
        horizon_days=40,
        progress=False,
    )
    simulation = Simulation(config)
    simulation.advance(20)
    flow = simulation.vehicles
    vins = vin_inventory(flow)
    assert np.unique(vins.vehicle).size == vins.vehicle.size
    in_yards = vins.kind == SourceKind.DEALER_YARD
    assert in_yards.sum() == flow.dealer_stock.sum()
    assert (vins.kind == SourceKind.IN_TRANSIT).sum() > 0 and (vins.kind == SourceKind.PIPELINE).sum() > 0
    for vehicle, kind, site in zip(
        vins.vehicle.tolist(), vins.kind.tolist(), vins.site.tolist(), strict=True
    ):
        record = flow.vehicles[vehicle]
        assert record.status.name != "DELIVERED"
        if kind == SourceKind.DEALER_YARD:
            assert record.site_index == site and record.status.name == "IN_YARD"
    # customers' factory-ordered cars are never offered to someone else
    assert np.all(vins.reserved == np.array([flow.vehicles[v].customer_order for v in vins.vehicle.tolist()]))


def _sourcing_run(**sourcing):
    from tests.helpers.invariants import watch
    from twin.engine.simulation import Simulation

    config = vehicle_test_config(60, sourcing=NetworkSourcingConfig())
    for name, value in sourcing.items():
        setattr(config.policy.sourcing, name, value)
    simulation = Simulation(config)
    violations = watch(simulation, vehicle_every_days=3)
    result = simulation.run()
    return simulation, result, violations


def test_network_orders_never_take_a_reserved_vin_or_leave_one_in_two_places():
    simulation, result, violations = _sourcing_run()
    assert violations == []  # no VIN in two places, stock counts match the yards, between every phase
    summary = result.summary
    assert summary["vehicle_network_orders"] > 0
    assert summary["vehicle_network_from_dealer_yard"] > 0
    assert summary["settlement_unbalanced_entries"] == 0
    flow = simulation.vehicles
    # every open network order is a customer's car, allocated to exactly one dealer
    for vehicle_id in simulation.customer_orders.orders:
        vehicle = flow.vehicles[vehicle_id]
        assert vehicle.customer_order and vehicle.dealer >= 0


def test_a_source_the_network_policy_forbids_is_never_used():
    _, result, _ = _sourcing_run(dealer_trade_share=0.0, allow_pipeline=False)
    summary = result.summary
    assert summary["vehicle_network_from_dealer_yard"] == 0
    assert summary["vehicle_network_from_pipeline"] == 0
    assert summary["vehicle_dealer_trades"] == 0


def test_a_restart_with_dealer_trades_on_the_road_matches_the_uninterrupted_run(tmp_path):
    from twin.engine.simulation import Simulation
    from twin.engine.snapshot import Snapshot, take_snapshot

    config = vehicle_test_config(40, sourcing=NetworkSourcingConfig())
    uninterrupted = Simulation(config).run()
    first_leg = Simulation(config)
    for day in range(5, 30):
        first_leg.advance(day)
        orders = first_leg.customer_orders
        if orders.trades_on_road and orders.orders and orders.trade_loads:
            break
    assert first_leg.customer_orders.trades_on_road, "the check needs a trade half-way"
    assert first_leg.customer_orders.trade_loads, "the check needs a trade load still filling"
    take_snapshot(first_leg).save(tmp_path / "snap")
    resumed = Simulation(config, snapshot=Snapshot.load(tmp_path / "snap")).run()
    assert resumed.summary == uninterrupted.summary


def test_phone_around_finds_only_a_nearby_exact_unit_and_only_on_its_chance():
    from twin.policies.network_sourcing import PhoneAroundSourcing
    from twin.policies.observation import CustomerRequest, SourcingKind

    vins = inventory(spec=[0, 1, 0], site=[3, 1, 0], kind=[0, 0, SourceKind.STOCKYARD])
    specs, match = acceptable_specs(0, np.array([0, 1]), np.array([0, 1]), True, False)
    candidates = atlas(vins).candidates(request(specs=specs, match=match))
    view = type("View", (), {"factory_lead_time_days": np.full(DEALERS, 30.0)})()
    policy = PhoneAroundSourcing(success_probability=0.3, delay_days=2.0, nearby_days=2.0)
    lucky = policy.source(view, CustomerRequest(10.0, 0, 0, 40.0, candidates, draw=0.1))
    # the exact unit 300 km away (1.25 days) at a dealer; not the other colour, not the stockyard's unit
    assert lucky.kind is SourcingKind.NETWORK and candidates.vehicle[lucky.candidate] == 0
    assert lucky.quoted_days == pytest.approx(0.5 + 300 / 400 + 2.0)
    unlucky = policy.source(view, CustomerRequest(10.0, 0, 0, 40.0, candidates, draw=0.9))
    assert unlucky.kind is SourcingKind.FACTORY_ORDER and unlucky.quoted_days == 30.0


def test_trade_clusters_group_dealers_within_the_radius_of_a_founder():
    from twin.engine.customer_orders import trade_clusters

    # dealers at 0, 30, 45, 100 and 120 km on a line
    position = np.array([0.0, 30.0, 45.0, 100.0, 120.0])
    km = np.abs(np.subtract.outer(position, position))
    assert trade_clusters(km, 50.0).tolist() == [0, 0, 0, 1, 1]
    assert trade_clusters(km, 0.0).tolist() == [0, 1, 2, 3, 4]


def test_trades_on_a_lane_share_a_truck_and_never_leave_later_than_the_promise_allows():
    from twin.config import TwinConfig
    from twin.engine.simulation import Simulation

    runs = {}
    for radius in (0.0, 10_000.0):  # every pair its own lane; one lane for the whole network
        config = vehicle_test_config(45, sourcing=NetworkSourcingConfig())
        config.policy.sourcing.trade_consolidation_radius_km = radius
        simulation = Simulation(config)
        orders = simulation.customer_orders
        departures = []
        depart = orders._depart_trade_load

        def watched(token, depart=depart, orders=orders, departures=departures):
            load = orders.trade_loads[token]
            # it leaves when it said it would
            assert orders.env.now == pytest.approx(load.depart_at, abs=1e-9)
            carriers = {int(trade[3]) for trade in load.trades}
            departures.append((load.depart_at, len(load.trades), carriers))
            depart(token)

        orders._depart_trade_load = watched
        booked = []
        trade = orders._trade

        def watched_trade(vehicle_id, holder, dealer, trade=trade, orders=orders, booked=booked):
            trade(vehicle_id, holder, dealer)
            # the load this trade joined: the one whose last trade is this car's
            joined = [
                load for load in orders.trade_loads.values() if load.trades[-1][0] == -orders.next_trade
            ]
            assert len(joined) == 1
            booked.append((orders.env.now, joined[0].depart_at))

        orders._trade = watched_trade
        runs[radius] = (simulation.run().summary, departures, booked)
    delay = TwinConfig().operations.dc_dispatch_delay_days
    for summary, departures, booked in runs.values():
        assert summary["vehicle_dealer_trades"] > 0
        assert all(cars <= 8 for _, cars, _ in departures)  # a truck's car slots
        assert all(len(carriers) == 1 for _, _, carriers in departures)  # one carrier's truck
        # a trade leaves no later than the dispatch delay its promise includes, and never before it was booked
        assert all(now <= leaves <= now + delay + 1e-9 for now, leaves in booked)
    alone, shared = runs[0.0][0], runs[10_000.0][0]
    assert alone["vehicle_dealer_trade_cars_per_load"] < shared["vehicle_dealer_trade_cars_per_load"]
    per_trade = {
        r: s["vehicle_dealer_trade_freight_inr"] / s["vehicle_dealer_trades"] for r, (s, _, _) in runs.items()
    }
    assert per_trade[10_000.0] < per_trade[0.0]  # trucks' minimum charges are shared
