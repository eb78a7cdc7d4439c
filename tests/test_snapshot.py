"""A snapshot holds the whole state: a run restarted from one continues exactly as if never stopped."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twin.config import (
    CarrierDisruptionConfig,
    DcOutageConfig,
    DynamicReplenishmentConfig,
    NetworkConfig,
    NetworkSourcingConfig,
    PolicyConfig,
    ScenarioConfig,
    SupersessionConfig,
    TransferConfig,
    TwinConfig,
)
from twin.domain.state import NetworkState, SnapshotError
from twin.engine.simulation import Simulation
from twin.engine.snapshot import Snapshot, take_snapshot
from twin.errors import ConfigError


def _config(**overrides: object) -> TwinConfig:
    config = TwinConfig(
        network=NetworkConfig(dealers=12, skus=300, stockyards=2, vehicles_per_dealer=60),
        horizon_days=70,
        warmup_days=7,
        progress=False,
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


def test_a_run_restarted_from_a_snapshot_matches_the_uninterrupted_run(tmp_path: Path) -> None:
    config = _config()
    uninterrupted = Simulation(config).run()
    first_leg = Simulation(config)
    first_leg.advance(33)
    take_snapshot(first_leg).save(tmp_path / "day_033")

    resumed = Simulation(config, snapshot=Snapshot.load(tmp_path / "day_033")).run()

    assert resumed.summary == uninterrupted.summary
    pd.testing.assert_frame_equal(resumed.daily, uninterrupted.daily)
    vins = [vehicle.vin for vehicle in resumed.simulation.vehicles.vehicles]
    assert vins == [vehicle.vin for vehicle in uninterrupted.simulation.vehicles.vehicles]


def test_snapshot_round_trip_keeps_every_array_and_vehicle(tmp_path: Path) -> None:
    config = _config()
    simulation = Simulation(config)
    simulation.advance(25)
    snapshot = take_snapshot(simulation)
    in_flight = sum(
        len(snapshot.arrays[name])
        for name in ("carriers:loads_on_road", "vehicles:trunks_on_road", "vehicles:builds_in_progress")
    )
    assert in_flight > 0, "the check is only meaningful with vehicles half-way through a timed step"
    snapshot.save(tmp_path / "snap")

    restored = take_snapshot(Simulation(config, snapshot=Snapshot.load(tmp_path / "snap")))

    assert restored.day == 25
    assert sorted(restored.arrays) == sorted(snapshot.arrays)
    for name, array in snapshot.arrays.items():
        np.testing.assert_array_equal(restored.arrays[name], array, err_msg=name)
        assert restored.arrays[name].dtype == array.dtype, name
    pd.testing.assert_frame_equal(restored.vehicles, snapshot.vehicles)
    assert restored.streams == snapshot.streams


def test_state_to_disk_and_back_is_identical(tmp_path: Path) -> None:
    simulation = Simulation(_config())
    simulation.advance(25)
    state = take_snapshot(simulation)
    state.save(tmp_path / "state")

    loaded = NetworkState.load(tmp_path / "state")

    assert (loaded.day, loaded.seed) == (state.day, state.seed)
    assert loaded.dimensions == state.dimensions
    assert loaded.run == json.loads(json.dumps(state.run))
    assert loaded.streams == json.loads(json.dumps(state.streams))
    assert sorted(loaded.arrays) == sorted(state.arrays)
    for name, array in state.arrays.items():
        np.testing.assert_array_equal(loaded.arrays[name], array, err_msg=name)
        assert loaded.arrays[name].dtype == array.dtype, name
    pd.testing.assert_frame_equal(loaded.vehicles, state.vehicles)
    # written again, the same state gives the same files
    loaded.save(tmp_path / "again")
    assert (
        json.loads((tmp_path / "again" / "meta.json").read_text())["sha256"]
        == json.loads((tmp_path / "state" / "meta.json").read_text())["sha256"]
    )


def test_units_stay_conserved_after_a_restart(tmp_path: Path) -> None:
    config = _config()
    simulation = Simulation(config)
    simulation.advance(20)
    resumed = Simulation(config, snapshot=take_snapshot(simulation))
    resumed.run()
    parts = resumed.parts
    np.testing.assert_array_equal(
        resumed.parts_initial_units + parts.received_from_suppliers - parts.consumed,
        parts.state.units_in_network(),
    )


def test_a_snapshot_of_another_network_is_rejected_naming_the_field() -> None:
    simulation = Simulation(_config())
    simulation.advance(5)
    snapshot = take_snapshot(simulation)
    other = _config(network=NetworkConfig(dealers=13, skus=300, stockyards=2, vehicles_per_dealer=60))
    with pytest.raises(ConfigError, match=r"network\.dealers=13"):
        Simulation(other, snapshot=snapshot)


def test_a_run_built_without_its_start_state_is_refused_not_started_on_day_0() -> None:
    # start_from_snapshot is read by the entry points (load_start_state): an engine built from the config alone
    # would otherwise simulate a new network from day 0 under a name that says it continues
    with pytest.raises(
        ConfigError, match=r"start_from_snapshot='runs/x/snapshots/day_010'.*load_start_state"
    ):
        Simulation(_config(start_from_snapshot="runs/x/snapshots/day_010"))


def test_a_folder_that_is_not_a_snapshot_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match=r"meta\.json: file=.* is missing"):
        Snapshot.load(tmp_path)


SCENARIOS_ACROSS_THE_SNAPSHOT = {
    "supersession": ScenarioConfig(
        supersessions=[SupersessionConfig(day=20, sku_share=0.1, part_class="fast_mover")]
    ),
    "fleet_cut": ScenarioConfig(
        carrier_disruptions=[CarrierDisruptionConfig(20, 50, carrier_id="CR02", capacity_share=0.1)]
    ),
    "region_closed": ScenarioConfig(
        carrier_disruptions=[CarrierDisruptionConfig(20, 40, region="North", capacity_share=0.0)]
    ),
    "dc_outage": ScenarioConfig(dc_outages=[DcOutageConfig("DC01", 25, 45)]),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS_ACROSS_THE_SNAPSHOT))
def test_a_restart_in_the_middle_of_a_scenario_matches_the_uninterrupted_run(name: str) -> None:
    config = _config(scenario=SCENARIOS_ACROSS_THE_SNAPSHOT[name])
    uninterrupted = Simulation(config).run()
    first_leg = Simulation(config)
    first_leg.advance(30)
    resumed = Simulation(config, snapshot=take_snapshot(first_leg)).run()
    assert resumed.summary == uninterrupted.summary


def test_a_snapshot_on_the_first_day_is_the_opening_state(tmp_path: Path) -> None:
    config = _config(snapshot_days=[0])
    result = Simulation(config).run(snapshot_days=[0], snapshot_dir=tmp_path)
    resumed = Simulation(config, snapshot=Snapshot.load(tmp_path / "day_000")).run()
    assert resumed.summary == result.summary


def test_a_snapshot_before_the_vehicle_watchs_first_full_week_loads_and_continues(tmp_path: Path) -> None:
    # until a week has passed the watch has no "last week" (NaN in memory), which a state must not hold
    config = _config(horizon_days=16)
    config.policy.alerts.enabled = True
    uninterrupted = Simulation(config).run()
    first_leg = Simulation(config)
    first_leg.advance(6)
    take_snapshot(first_leg).save(tmp_path / "day_006")

    resumed = Simulation(config, snapshot=Snapshot.load(tmp_path / "day_006")).run()

    # NaN where a 14-day window is not yet measured: compared as text, NaN equals NaN
    assert json.dumps(resumed.summary, sort_keys=True) == json.dumps(uninterrupted.summary, sort_keys=True)


def test_forecasts_selected_by_past_error_continue_exactly_after_a_restart(tmp_path: Path) -> None:
    """With ``policy.forecast.selection=error`` the forecaster's error table is part of the state."""
    config = _config(horizon_days=30)
    config.policy.alerts.enabled = True
    config.policy.forecast.selection = "error"
    uninterrupted = Simulation(config).run()
    first_leg = Simulation(config)
    first_leg.advance(17)
    take_snapshot(first_leg).save(tmp_path / "day_017")

    resumed = Simulation(config, snapshot=Snapshot.load(tmp_path / "day_017")).run()

    assert json.dumps(resumed.summary, sort_keys=True) == json.dumps(uninterrupted.summary, sort_keys=True)
    assert "tower:forecast_errors" in take_snapshot(resumed.simulation).arrays


def _every_loop_on(scenario: ScenarioConfig) -> TwinConfig:
    """All loops on the test network: network sourcing takes cars out of stockyard pools and dealer yards
    mid-queue, vehicle transfers and a fleet cut keep trucks short."""
    config = _config(
        horizon_days=60,
        scenario=scenario,
        policy=PolicyConfig(
            replenishment=DynamicReplenishmentConfig(),
            sourcing=NetworkSourcingConfig(),
            transfers=TransferConfig(enabled=True, vehicles=True),
        ),
    )
    config.policy.alerts.enabled = True
    return config


def test_a_restart_with_every_loop_on_allocates_from_the_pools_in_the_same_order() -> None:
    """A stockyard's spec queue emptied by a network order stays where it was in the pool, which allocation
    reads in order: a snapshot that kept only the cars re-opened it at the end and sent cars elsewhere."""
    fleet_cut = CarrierDisruptionConfig(15, 45, carrier_id="CR02", capacity_share=0.2)
    config = _every_loop_on(ScenarioConfig(carrier_disruptions=[fleet_cut]))
    uninterrupted = Simulation(config).run()
    first_leg = Simulation(config)
    first_leg.advance(33)
    empty_queues = [
        spec for pool in first_leg.vehicles.yard_pool for spec, queue in pool.items() if not queue
    ]
    assert empty_queues, "the check needs a stockyard queue emptied before the restart"

    resumed = Simulation(config, snapshot=take_snapshot(first_leg))

    for restored, original in zip(resumed.vehicles.yard_pool, first_leg.vehicles.yard_pool, strict=True):
        assert list(restored) == list(original)
    assert resumed.run().summary == uninterrupted.summary


def test_loads_waiting_before_a_fleet_cut_keep_their_place_ahead_of_its_holds_after_a_restart() -> None:
    """On the first day of a carrier's fleet cut, loads formed before it are ahead of the cut's holds in the
    line for a truck; restarted that day, they must still get the next trucks back."""
    fleet_cut = CarrierDisruptionConfig(15, 45, carrier_id="CR02", capacity_share=0.2)
    config = _config(horizon_days=40, scenario=ScenarioConfig(carrier_disruptions=[fleet_cut]))
    uninterrupted = Simulation(config)
    uninterrupted.advance(15)
    assert uninterrupted.vehicles.carriers.loads_waiting, "the check needs loads waiting for a truck"
    resumed = Simulation(config, snapshot=take_snapshot(uninterrupted))

    def line(simulation: Simulation) -> dict[int, str]:
        """Each carrier's line for a truck: L a load (its grant moves it on), H a hold of the cut."""
        fleets = simulation.vehicles.carriers.trucks
        return {
            carrier: "".join("L" if isinstance(claim.on_grant, partial) else "H" for claim in fleet.waiting)
            + f" ({fleet.in_use} of {fleet.capacity} out)"
            for carrier, fleet in fleets.items()
        }

    uninterrupted.env.run(until=15.01)
    resumed.advance(15)
    resumed.env.run(until=15.01)
    assert line(resumed) == line(uninterrupted)
    assert "L" in "".join(line(uninterrupted).values())
    assert resumed.run().summary == uninterrupted.run().summary
