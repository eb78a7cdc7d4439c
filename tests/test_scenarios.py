"""What-if scenarios change what they say they change, and only while they are active."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twin.cli import CONFIG_DIR
from twin.config import (
    CarrierDisruptionConfig,
    DcOutageConfig,
    DemandShockConfig,
    LeadTimeChangeConfig,
    ModelLaunchConfig,
    NetworkConfig,
    ScenarioConfig,
    SupersessionConfig,
    TwinConfig,
)
from twin.engine.simulation import RunResult, Simulation
from twin.errors import ConfigError
from twin.hydra_store import scenario_files

START, END = 10, 40


def _run(scenario: ScenarioConfig, seed: int = 3, event_log: bool = False) -> RunResult:
    """``event_log`` only for the tests that read it: recording every parts line doubles a run's time."""
    config = TwinConfig(
        network=NetworkConfig(dealers=20, skus=200, stockyards=2, vehicles_per_dealer=60),
        scenario=scenario,
        horizon_days=60,
        warmup_days=5,
        seed=seed,
        event_log=event_log,
        progress=False,
    )
    return Simulation(config).run()


def _events(result: RunResult, name: str) -> list[tuple[float, dict[str, object]]]:
    return [(time, details) for time, event, details in result.event_log if event == name]


@pytest.fixture(scope="module")
def baseline() -> RunResult:
    return _run(ScenarioConfig())


@pytest.fixture(scope="module")
def logged_baseline() -> RunResult:
    return _run(ScenarioConfig(), event_log=True)


def test_regional_demand_shock_raises_customers_only_in_its_window(baseline: RunResult) -> None:
    shocked = _run(
        ScenarioConfig(demand_shocks=[DemandShockConfig(START, END, region="South", vehicle_multiplier=2.0)])
    )
    window = slice(START, END)
    before = slice(0, START)
    assert (
        shocked.daily["vehicle_customers"][window].sum()
        > 1.2 * baseline.daily["vehicle_customers"][window].sum()
    )
    np.testing.assert_array_equal(
        shocked.daily["vehicle_customers"][before], baseline.daily["vehicle_customers"][before]
    )


def test_a_model_cannot_be_bought_before_its_launch() -> None:
    launched = _run(ScenarioConfig(model_launches=[ModelLaunchConfig("Gati", START)]))
    simulation = launched.simulation
    gati = simulation.world.specs.model_names.index("Gati")
    model_of = simulation.world.specs.model
    delivered = [v for v in simulation.vehicles.vehicles if v.delivered_day >= 0 and model_of[v.spec] == gati]
    assert delivered, "the launched model sells after its launch"
    assert min(v.delivered_day for v in delivered) >= START
    opening = [v for v in simulation.vehicles.vehicles if v.ordered_day < 0 and model_of[v.spec] == gati]
    assert opening == []


def test_a_dc_outage_stops_its_consignments_and_nothing_else() -> None:
    out = _run(ScenarioConfig(dc_outages=[DcOutageConfig("DC02", START, END)]), event_log=True)
    dealers_of_dc = set(np.flatnonzero(out.simulation.world.network.dealers.parts_dc == 1).tolist())
    assert dealers_of_dc
    during = [
        d
        for t, d in _events(out, "consignment_departed")
        if START <= t < END and d["dealer"] in dealers_of_dc
    ]
    assert during == []
    before = [
        d for t, d in _events(out, "consignment_departed") if t < START and d["dealer"] in dealers_of_dc
    ]
    assert before
    assert out.daily["parts_fill_rate_line"][END:].mean() > 0.5


def test_a_closed_region_gets_no_car_carrier_loads_while_closed() -> None:
    closed = _run(
        ScenarioConfig(
            carrier_disruptions=[CarrierDisruptionConfig(START, END, region="South", capacity_share=0.0)]
        ),
        event_log=True,
    )
    region_names = closed.simulation.world.region_names
    south = set(np.flatnonzero(closed.simulation.world.dealer_region == region_names.index("South")).tolist())
    departures = _events(closed, "carrier_load_departed")
    assert not [d for t, d in departures if START <= t < END and d["dealer"] in south]
    assert [d for t, d in departures if t >= END and d["dealer"] in south]


def test_supersession_moves_demand_to_the_new_number() -> None:
    superseded = _run(
        ScenarioConfig(supersessions=[SupersessionConfig(day=START, sku_share=0.1, part_class="fast_mover")]),
        event_log=True,
    )
    pairs = superseded.simulation.effects.supersessions_on(START)
    assert pairs
    lines = _events(superseded, "parts_line")
    old_skus = {old for old, _ in pairs}
    assert [d for t, d in lines if t < START and d["sku"] in old_skus]
    assert not [d for t, d in lines if t >= START and d["sku"] in old_skus]


def test_longer_lead_times_delay_consignments(logged_baseline: RunResult) -> None:
    slow = _run(
        ScenarioConfig(lead_time_changes=[LeadTimeChangeConfig(START, END, transit_multiplier=3.0)]),
        event_log=True,
    )

    def mean_days_on_road(result: RunResult) -> float:
        return float(
            np.mean(
                [d["receive_day"] - t for t, d in _events(result, "consignment_departed") if START <= t < END]
            )
        )

    assert mean_days_on_road(slow) > mean_days_on_road(logged_baseline) + 1.0


@pytest.mark.parametrize(
    ("scenario", "field"),
    [
        (
            ScenarioConfig(demand_shocks=[DemandShockConfig(0, 5, region="Atlantis")]),
            r"scenario\.demand_shocks\[0\]\.region='Atlantis'",
        ),
        (
            ScenarioConfig(dc_outages=[DcOutageConfig("DC99", 0, 5)]),
            r"scenario\.dc_outages\[0\]\.dc_id='DC99'",
        ),
        (
            ScenarioConfig(model_launches=[ModelLaunchConfig("Zen", 5)]),
            r"scenario\.model_launches\[0\]\.model='Zen'",
        ),
        (ScenarioConfig(demand_shocks=[DemandShockConfig(9, 5)]), r"scenario\.demand_shocks\[0\]\.end_day=5"),
    ],
)
def test_a_scenario_naming_something_unknown_fails_before_the_run(
    scenario: ScenarioConfig, field: str
) -> None:
    with pytest.raises(ConfigError, match=field):
        _run(scenario)


def test_every_scenario_file_is_in_the_readme_table() -> None:
    readme = (Path(CONFIG_DIR).parent / "README.md").read_text()
    paths = scenario_files()
    assert len(paths) >= 9
    for path in paths:
        assert f"`scenario={path.stem}`" in readme, path.stem


def test_a_region_disruption_of_a_named_carrier_hits_only_what_that_carrier_carries(
    baseline: RunResult,
) -> None:
    parts_only = _run(
        ScenarioConfig(
            carrier_disruptions=[
                CarrierDisruptionConfig(START, END, carrier_id="CR01", region="South", capacity_share=0.0)
            ]
        )
    )
    vehicles_only = _run(
        ScenarioConfig(
            carrier_disruptions=[
                CarrierDisruptionConfig(START, END, carrier_id="CR02", region="South", capacity_share=0.0)
            ]
        )
    )
    assert parts_only.summary["parts_fill_rate_line"] < baseline.summary["parts_fill_rate_line"]
    assert parts_only.summary["vehicle_sales"] == baseline.summary["vehicle_sales"]
    assert vehicles_only.summary["parts_fill_rate_line"] == baseline.summary["parts_fill_rate_line"]


def test_longer_lead_times_also_delay_emergency_deliveries(baseline: RunResult) -> None:
    slow = _run(
        ScenarioConfig(
            lead_time_changes=[
                LeadTimeChangeConfig(START, END, supplier_multiplier=3.0, transit_multiplier=3.0)
            ]
        )
    )
    window = slice(START + 5, END)
    assert (
        slow.daily["parts_backorder_units"][window].mean()
        > 1.5 * baseline.daily["parts_backorder_units"][window].mean()
    )


def test_two_overlapping_cuts_of_one_car_carrier_are_rejected() -> None:
    overlapping = ScenarioConfig(
        carrier_disruptions=[
            CarrierDisruptionConfig(10, 30, carrier_id="CR02"),
            CarrierDisruptionConfig(20, 40, carrier_id="CR02"),
        ]
    )
    with pytest.raises(ConfigError, match=r"scenario\.carrier_disruptions\[1\]\.start_day=20"):
        _run(overlapping)


def test_an_event_after_the_horizon_is_reported() -> None:
    with pytest.warns(
        UserWarning, match=r"scenario\.dc_outages\[0\]\.start_day=150 is on or after the horizon"
    ):
        _run(ScenarioConfig(dc_outages=[DcOutageConfig("DC02", 150, 160)]))


def test_piece_fill_rate_is_units_handed_over_at_once_over_units_demanded(baseline: RunResult) -> None:
    measured = baseline.daily.iloc[5:]
    expected = measured["parts_filled_units"].sum() / measured["parts_demand_units"].sum()
    assert baseline.summary["parts_fill_rate_piece"] == pytest.approx(expected)
    handed_over = (
        measured["parts_filled_units"] + measured["parts_emergency_units"] + measured["parts_lost_units"]
    )
    np.testing.assert_allclose(handed_over, measured["parts_demand_units"])
