"""Campaigns: planned demand uplift, stock positioned ahead of the start, and the measures a planner reads."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers.worlds import vehicle_test_config
from twin.config import CampaignConfig, DemandShockConfig, TwinConfig, validate
from twin.errors import ConfigError
from twin.policies.campaign_positioning import CampaignPositioning, CampaignWindow
from twin.policies.observation import VehicleView

DEALERS, SPECS = 4, 3
#: specs 0 and 1 are model 0 (in the campaign), spec 2 is model 1 (not)
SPEC_MODEL = np.array([0, 0, 1])


def view(day=0, stock=None, inbound=None, sales=None, capacity=50, yard_stock=None, plan=(1.0, 1.0, 1.0)):
    """Dealers 0-2 on yard 0, dealer 3 on yard 1; each sells 28 cars of each spec in 28 days unless told."""
    zeros = np.zeros((DEALERS, SPECS), np.int32)
    return VehicleView(
        day=day,
        as_of_day=day,
        dealer_stock=zeros if stock is None else np.asarray(stock, np.int32),
        dealer_inbound=zeros if inbound is None else np.asarray(inbound, np.int32),
        dealer_sales_28d=np.full((DEALERS, SPECS), 28, np.int32)
        if sales is None
        else np.asarray(sales, np.int32),
        dealer_capacity=np.full(DEALERS, capacity),
        dealer_stockyard=np.array([0, 0, 0, 1]),
        spec_model=SPEC_MODEL,
        spec_variant=np.array([0, 1, 2]),
        spec_colour=np.zeros(SPECS, np.int64),
        yard_stock=np.zeros((2, SPECS), np.int32) if yard_stock is None else np.asarray(yard_stock, np.int32),
        pipeline=np.zeros(SPECS, np.int32),
        factory_lead_time_days=np.full(DEALERS, 30.0),
        plan_daily_retail=np.asarray(plan, dtype=float),
        spec_price_inr=np.full(SPECS, 1.0e6),
    )


#: dealers 0 and 1 run the campaign, on model 0, days 50-80, +50%
CAMPAIGN = CampaignWindow(
    name="spring",
    dealers=np.array([True, True, False, False]),
    models=np.array([True, False]),
    start_day=50,
    end_day=80,
    vehicle_uplift=1.5,
)
POLICY = CampaignPositioning(lead_days=35, build_cutoff_days=12, cover_days=14.0, max_units_per_spec=10)


def test_only_the_campaign_dealers_and_models_get_a_gap_and_only_in_the_positioning_window():
    gap = POLICY.gap(view(day=30), [CAMPAIGN], 30)
    assert gap[:2, :2].min() > 0  # campaign dealers, campaign model's specs
    assert gap[2:].sum() == 0 and gap[:, 2].sum() == 0
    assert POLICY.gap(view(day=10), [CAMPAIGN], 10).sum() == 0  # before the window
    assert (
        POLICY.gap(view(day=50), [CAMPAIGN], 50).sum() == 0
    )  # the campaign has started: positioning is over


def test_a_dealer_that_already_holds_the_campaign_stock_needs_nothing_more():
    empty = POLICY.gap(view(day=30), [CAMPAIGN], 30)
    held = np.zeros((DEALERS, SPECS), np.int64)
    held[0, 0] = 30
    covered = POLICY.gap(view(day=30, stock=held), [CAMPAIGN], 30)
    assert covered[0, 0] == 0 and covered[1, 0] == empty[1, 0]
    # half of it in transit counts the same as in the yard
    split = POLICY.gap(view(day=30, stock=held // 2, inbound=held - held // 2), [CAMPAIGN], 30)
    assert np.array_equal(split, covered)


def test_a_spec_too_slow_to_pay_for_its_floor_plan_gets_no_positioned_car():
    # one sale of the model in 28 days; the plan says 90% of the model is spec 0 and 10% spec 1
    slow = view(day=30, sales=np.ones((DEALERS, SPECS)), plan=(0.9, 0.1, 1.0))
    gap = POLICY.gap(slow, [CAMPAIGN], 30)
    # spec 1: 0.075 expected campaign customers; a car would wait ~34 days for a 7% chance of a sale
    assert gap[:, 1].sum() == 0
    assert gap[:2, 0].min() >= 1  # spec 0: a car sells with ~50% chance, worth its ~31 days of interest


def test_campaign_dealers_with_the_largest_gap_get_the_yard_cars_first_within_their_room():
    specs = np.array([0, 0, 0, 2, 2])
    gap = POLICY.gap(view(day=30), [CAMPAIGN], 30)
    assignment = POLICY.allocate_first(view(day=30), 0, specs, [CAMPAIGN])
    # spec 2 is not a campaign model: left to the normal policy
    assert np.all(assignment[3:] == -1)
    assert set(assignment[:3].tolist()) <= {0, 1} and np.all(assignment[:3] >= 0)
    # dealer 0 with the larger gap is served first
    bigger = view(day=30, stock=np.array([[0, 0, 0], [gap[1, 0] - 1, 0, 0], [0, 0, 0], [0, 0, 0]]))
    assert POLICY.allocate_first(bigger, 0, np.array([0]), [CAMPAIGN]).tolist() == [0]
    # a full yard takes nothing
    full = view(day=30, stock=np.array([[0, 0, 50], [0, 0, 50], [0, 0, 0], [0, 0, 0]]))
    assert np.all(POLICY.allocate_first(full, 0, specs, [CAMPAIGN]) == -1)
    # dealer 3 is on the other yard: yard 1's cars never go to campaign dealers of yard 0
    assert np.all(POLICY.allocate_first(view(day=30), 1, specs, [CAMPAIGN]) == -1)


def test_the_normal_policy_gets_the_rest_and_sees_what_was_given():
    seen = {}

    class Recording:
        def plan_production(self, view, period_days):  # pragma: no cover - not called
            raise AssertionError

        def allocate(self, view, yard, vehicle_specs):
            seen["inbound"] = np.asarray(view.dealer_inbound).copy()
            return np.full(vehicle_specs.size, 2)

    specs = np.array([0, 2])
    assignment, positioned = POLICY.allocate(view(day=30), 0, specs, [CAMPAIGN], Recording())
    assert positioned.tolist() == [True, False]
    assert assignment[1] == 2
    assert seen["inbound"][assignment[0], 0] == 1


def test_builds_cover_the_yard_gap_less_its_stock_and_what_is_on_the_trunk_and_stop_at_the_cutoff():
    gap = POLICY.gap(view(day=30), [CAMPAIGN], 30)
    nothing = np.zeros((2, SPECS), np.int64)
    builds = POLICY.builds(view(day=30), [CAMPAIGN], 30, nothing)
    assert builds[0, 0] == gap[:, 0].sum() and builds[1].sum() == 0
    yard_stock = np.zeros((2, SPECS), np.int64)
    yard_stock[0, 0] = 2
    on_trunk = np.zeros((2, SPECS), np.int64)
    on_trunk[0, 0] = 1
    fewer = POLICY.builds(view(day=30, yard_stock=yard_stock), [CAMPAIGN], 30, on_trunk)
    assert fewer[0, 0] == builds[0, 0] - 3
    assert POLICY.builds(view(day=40), [CAMPAIGN], 40, nothing).sum() == 0  # 10 days out: too late to build


def test_a_dealer_short_of_yard_room_gets_only_its_most_valuable_cars_and_builds_follow():
    # dealer 0 has room for 2 cars; it would want several of each campaign spec
    room_for_two = view(day=30, stock=np.array([[0, 0, 48], [0, 0, 0], [0, 0, 0], [0, 0, 0]]))
    gap = POLICY.gap(room_for_two, [CAMPAIGN], 30)
    assert gap[0].sum() == 2 and gap[1].sum() > 2
    builds = POLICY.builds(room_for_two, [CAMPAIGN], 30, np.zeros((2, SPECS), np.int64))
    assert builds[0].sum() == gap.sum()  # the yard builds what its dealers can take, not every spec's gap


def test_bad_campaign_settings_name_the_field():
    config = TwinConfig()
    config.scenario.campaigns = [CampaignConfig(name="x", start_day=10, end_day=5)]
    with pytest.raises(ConfigError, match=r"scenario.campaigns\[0\].end_day"):
        validate(config)
    config.scenario.campaigns = [CampaignConfig(name="x", start_day=1, end_day=5, vehicle_uplift=0.0)]
    with pytest.raises(ConfigError, match=r"scenario.campaigns\[0\].vehicle_uplift"):
        validate(config)
    config.scenario.campaigns = [CampaignConfig(name="x", start_day=1, end_day=5)] * 2
    with pytest.raises(ConfigError, match=r"scenario.campaigns\[1\].name"):
        validate(config)
    config = TwinConfig()
    config.policy.campaign.build_cutoff_days = 40
    with pytest.raises(ConfigError, match=r"policy\.campaign\.build_cutoff_days"):
        validate(config)


# -- in the engine --------------------------------------------------------------------------------------
def _config(positioning: bool, horizon_days: int = 100) -> TwinConfig:
    config = vehicle_test_config(horizon_days)
    config.scenario.campaigns = [
        CampaignConfig(name="spring", models=["Arka", "Bolt"], start_day=60, end_day=85, vehicle_uplift=1.6)
    ]
    config.policy.campaign.enabled = positioning
    return config


def test_an_unknown_region_or_model_in_a_campaign_names_the_field():
    from twin.engine.simulation import Simulation

    config = _config(False)
    config.scenario.campaigns[0].regions = ["Atlantis"]
    with pytest.raises(ConfigError, match=r"scenario.campaigns\[0\].regions\[0\].*Atlantis"):
        Simulation(config)


def test_a_campaign_raises_demand_exactly_like_the_same_demand_shock():
    from twin.engine.simulation import Simulation

    campaign = Simulation(_config(False, horizon_days=70))
    shock_config = _config(False, horizon_days=70)
    shock_config.scenario.campaigns = []
    shock_config.scenario.demand_shocks = [
        DemandShockConfig(start_day=60, end_day=85, model=model, vehicle_multiplier=1.6)
        for model in ("Arka", "Bolt")
    ]
    shock = Simulation(shock_config)
    for day in (59, 60, 84, 85):
        assert np.array_equal(campaign.effects.vehicle_multiplier(day), shock.effects.vehicle_multiplier(day))


def test_positioned_stock_lands_before_the_start_with_the_same_customers_and_no_vin_lost():
    from tests.helpers.invariants import watch
    from twin.engine.simulation import Simulation

    results = {}
    for positioning in (False, True):
        simulation = Simulation(_config(positioning))
        violations = watch(simulation, vehicle_every_days=5)
        results[positioning] = simulation.run()
        assert violations == []  # no VIN in two places, stock counts match the yards
    without, with_ = results[False].summary, results[True].summary
    # the same customers came for the campaign in both arms (common random numbers)
    assert with_["campaign_customers"] == without["campaign_customers"] > 0
    assert with_["campaign_stock_target_units"] == without["campaign_stock_target_units"] > 0
    assert with_["campaign_positioned_units"] > 0 and without["campaign_positioned_units"] == 0
    # most land before the start; cars given in the last cycle before it may still be on their way
    assert 0.75 < with_["campaign_positioned_landed_share"] <= 1.0
    assert with_["campaign_stock_target_met_share"] > without["campaign_stock_target_met_share"]
    assert with_["campaign_served_from_stock_share"] >= without["campaign_served_from_stock_share"]
    table = results[True].simulation.campaigns.frame()
    assert table.loc[0, "customers"] == sum(
        table.loc[0, outcome] for outcome in ("sold_from_stock", "network_orders", "factory_orders", "lost")
    )


def test_a_positioned_car_still_on_its_way_at_the_start_has_not_landed():
    from twin.domain.vehicles import NOT_YET
    from twin.engine.simulation import Simulation

    simulation = Simulation(_config(True, horizon_days=62))
    simulation.advance(59)  # the eve of the start (day 60) is measured tonight
    campaigns, flow = simulation.campaigns, simulation.vehicles
    waiting = next(v for pool in flow.yard_pool for queue in pool.values() for v in queue)
    assert flow.vehicles[waiting].received_day == NOT_YET
    campaigns.positioned[waiting] = 0  # as if positioning had sent it and it had not arrived
    simulation.advance(60)
    row = campaigns.frame().iloc[0]
    landed = sum(NOT_YET != flow.vehicles[v].received_day <= 59.96 for v in campaigns.positioned)
    assert row["positioned_landed_before_start"] == landed < len(campaigns.positioned)


def test_a_restart_during_positioning_matches_the_uninterrupted_run(tmp_path):
    from twin.engine.simulation import Simulation
    from twin.engine.snapshot import Snapshot, take_snapshot

    config = _config(True, horizon_days=90)
    uninterrupted = Simulation(config).run()
    first_leg = Simulation(config)
    first_leg.advance(38)  # builds ordered on day 35 are still on the trunk
    assert first_leg.campaigns.building, "the check needs positioning builds on the trunk"
    take_snapshot(first_leg).save(tmp_path / "snap")
    resumed = Simulation(config, snapshot=Snapshot.load(tmp_path / "snap")).run()
    assert resumed.summary == uninterrupted.summary


def test_the_run_folder_has_the_campaign_table(tmp_path):
    from twin.engine.simulation import Simulation
    from twin.io.outputs import write_outputs

    config = _config(True, horizon_days=90)
    config.settlement.enabled = False
    paths = write_outputs(Simulation(config).run(), tmp_path)
    text = paths["campaigns_table"].read_text()
    assert "| figure | spring |" in text and "positioned_units" in text
