"""A what-if forked from the live state: what a planner relies on when they start ``twin-run`` from today.

One world: the twin on the small network is the real world (``twin-feed``, fault free, its true state kept at
day ``FORK_DAY``); a shadow consumes its feed up to that day. The live state it keeps is converted into the
engine's state and a fork runs from it to the horizon. Checked: the state is valid; what the feeds report
comes over exactly (every VIN with its status, every parts position, and with a complete feed the engine's
own queues and counts); the fork conserves parts and vehicles; and it tracks the real world continued from
its own day-``FORK_DAY`` state, within the sampling noise of two runs (tolerances derived below).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.helpers.entry_points import run_entry
from tests.helpers.invariants import parts_violations, vehicle_violations, watch
from twin.config import NetworkConfig, TwinConfig
from twin.domain.state import NetworkState
from twin.domain.vehicles import VehicleStatus
from twin.domain.world import World
from twin.engine.simulation import RunResult, Simulation, load_world
from twin.live.codes import FeedClock
from twin.live.feed import FEED_FILE, produce_feed
from twin.live.settings import (
    FeedRunConfig,
    FeedSettings,
    ShadowFeedSettings,
    ShadowRunConfig,
    ShadowSettings,
)
from twin.live.shadow import LIVE_STATE_DIR, ShadowRunner
from twin.live.to_network_state import (
    ESTIMATED,
    find_live_state,
    live_state_day,
    load_start_state,
    read_live_state,
    spread_geometric,
)

SMALL = NetworkConfig(name="small", dealers=20, stockyards=2, skus=500)
SEED = 3
HORIZON_DAYS = 60
FORK_DAY = 30


@dataclass(frozen=True)
class Shadowed:
    """The real world's feed, its true state at the fork day, and the shadow's run folder."""

    truth: NetworkState
    shadow_dir: Path
    world: World

    def config(self, **changes: object) -> TwinConfig:
        settings: dict[str, object] = {"start_from_snapshot": str(self.shadow_dir), **changes}
        return TwinConfig(network=SMALL, horizon_days=HORIZON_DAYS, seed=SEED, progress=False, **settings)  # type: ignore[arg-type]


def feed_until(source: Path, target: Path, day: int, start_date: str) -> None:
    """The records that happened before ``day``: the feed as it stood that morning."""
    clock = FeedClock(dt.date.fromisoformat(start_date))
    with open(source, encoding="utf-8") as records, open(target, "w", encoding="utf-8") as kept:
        for line in records:
            moment = dt.datetime.fromisoformat(json.loads(line)["occurred_at"])
            if clock.day_of(moment) < day:
                kept.write(line)


@pytest.fixture(scope="module")
def shadowed(tmp_path_factory: pytest.TempPathFactory) -> Shadowed:
    folder = tmp_path_factory.mktemp("live_fork")
    feed = FeedSettings(truth_days=[FORK_DAY])
    (folder / "feed").mkdir()
    produce_feed(
        FeedRunConfig(network=SMALL, horizon_days=HORIZON_DAYS, seed=SEED, progress=False, feed=feed),
        folder / "feed",
    )
    start_date = TwinConfig().start_date
    feed_until(folder / "feed" / FEED_FILE, folder / "feed_until_fork.jsonl", FORK_DAY, start_date)
    shadow = ShadowRunConfig(
        network=SMALL, horizon_days=HORIZON_DAYS, seed=SEED, progress=False,
        feed=ShadowFeedSettings(path=str(folder / "feed_until_fork.jsonl")),
        shadow=ShadowSettings(decisions=False),
    )  # fmt: skip
    (folder / "shadow").mkdir()
    ShadowRunner(shadow, folder / "shadow").run(progress=False)
    truth = NetworkState.load(folder / "feed" / "truth" / f"day_{FORK_DAY:03d}")
    return Shadowed(truth, folder / "shadow", load_world(shadow))


@pytest.fixture(scope="module")
def converted(shadowed: Shadowed) -> tuple[NetworkState, TwinConfig]:
    start = load_start_state(shadowed.config(), shadowed.world)
    assert start.state is not None
    return start.state, start.config


def run_watched(config: TwinConfig, state: NetworkState) -> tuple[RunResult, Simulation, list[str]]:
    with pytest.warns(UserWarning, match="forked from the snapshot"):
        simulation = Simulation(config, snapshot=state)
    violations = watch(simulation, vehicle_every_days=3)
    result = simulation.run()
    return result, simulation, violations


@pytest.fixture(scope="module")
def fork(converted: tuple[NetworkState, TwinConfig]) -> tuple[RunResult, Simulation, list[str]]:
    state, config = converted
    return run_watched(config, state)


@pytest.fixture(scope="module")
def truth_continued(shadowed: Shadowed) -> RunResult:
    """The real world continued from its own state of the fork day: the twin's exact continuation."""
    config = shadowed.config(start_from_snapshot="truth")
    return Simulation(config, snapshot=shadowed.truth).run()


def by_vin(state: NetworkState, table: str, vehicle_column: int, columns: list[int]) -> dict[str, tuple]:
    """A row table's rows keyed by VIN (vehicle ids are row numbers, which two tables need not share)."""
    vins = state.vehicles["vin"].to_numpy()
    rows = state.arrays[table]
    return {str(vins[int(row[vehicle_column])]): tuple(np.round(row[columns], 6).tolist()) for row in rows}


# -- finding the live state ---------------------------------------------------------------------------------
def test_a_shadow_run_its_live_state_and_its_checkpoints_all_lead_to_the_live_state(
    shadowed: Shadowed,
) -> None:
    run = shadowed.shadow_dir
    checkpoint = run / "checkpoint" / (run / "checkpoint" / "CURRENT").read_text().strip()
    for folder in (run, run / LIVE_STATE_DIR, run / "checkpoint", checkpoint, checkpoint / "live"):
        found = find_live_state(folder)
        assert found is not None and (found / "live_meta.json").is_file(), folder
    assert find_live_state(run / "checkpoint") == checkpoint / "live"
    # a saved engine state is not a live state: it loads as it is
    truth_folder = run.parent / "feed" / "truth" / f"day_{FORK_DAY:03d}"
    assert find_live_state(truth_folder) is None


def test_the_live_state_starts_the_first_day_the_shadow_has_not_closed(shadowed: Shadowed) -> None:
    config = shadowed.config()
    live = read_live_state(find_live_state(shadowed.shadow_dir), config, shadowed.world)  # type: ignore[arg-type]
    assert live_state_day(live) == FORK_DAY
    # a fault-free feed up to the fork day rebuilds the true state exactly: the ground this file stands on
    assert sum(live.differences(shadowed.truth).values()) == 0


# -- the converted state ------------------------------------------------------------------------------------
def test_the_converted_state_validates_and_survives_a_save_and_load(
    converted: tuple[NetworkState, TwinConfig], tmp_path: Path
) -> None:
    state, config = converted
    state.validate()
    loaded = NetworkState.load(state.save(tmp_path / "state"))
    assert loaded.day == FORK_DAY and loaded.seed == SEED
    assert sorted(loaded.arrays) == sorted(state.arrays)
    for key, value in state.arrays.items():
        np.testing.assert_array_equal(loaded.arrays[key], value, err_msg=key)
    assert loaded.provenance["estimated"] == list(ESTIMATED)
    # optional sections are left to start fresh; a live state always runs as a fork measured from its day
    assert not any(loaded.has_section(name) for name in ("tower", "settlement", "transfers", "orders"))
    assert config.fork and config.warmup_days == FORK_DAY


def test_every_vin_comes_over_with_its_status_and_every_parts_position_exactly(
    shadowed: Shadowed, converted: tuple[NetworkState, TwinConfig]
) -> None:
    state, config = converted
    live = read_live_state(find_live_state(shadowed.shadow_dir), config, shadowed.world)  # type: ignore[arg-type]
    reported = live.vehicles.frame().drop(columns="revision")
    pd.testing.assert_frame_equal(state.vehicles, reported)
    truth = shadowed.truth.vehicles.set_index("vin").sort_index()
    pd.testing.assert_frame_equal(state.vehicles.set_index("vin").sort_index(), truth)
    for name in ("on_hand", "reserved", "workshop_wip", "in_transit", "backorder"):
        np.testing.assert_array_equal(state.arrays[f"parts:{name}"], live.parts[name], err_msg=name)


def test_with_a_complete_feed_the_derived_queues_and_counts_are_the_engines_own(
    shadowed: Shadowed, converted: tuple[NetworkState, TwinConfig]
) -> None:
    state, truth = converted[0], shadowed.truth
    for key in (
        "vehicles:dealer_inbound", "vehicles:pipeline", "vehicles:sales_28d", "vehicles:sales_window_days",
        "vehicles:vin_serial", "logistics:outstanding_backorder_units", "kpis:recorded_through_day",
    ):  # fmt: skip
        np.testing.assert_array_equal(state.arrays[key], truth.arrays[key], err_msg=key)
    # VINs in each queue, with the timed steps' ends: exactly the engine's
    for table, vehicle, columns in (
        ("vehicles:dealer_yard_order", 1, [0]),
        ("vehicles:stockyard_order", 1, [0]),
        ("vehicles:trunks_on_road", 2, [1, 3]),
        ("vehicles:builds_in_progress", 0, [1]),
        ("carriers:loads_on_road", 3, [1, 2, 4, 5]),
    ):
        assert by_vin(state, table, vehicle, columns) == by_vin(truth, table, vehicle, columns), table
    # each yard is kept in the order its cars arrived (cars of one load arrive together, in no known order)
    for table, arrived in (
        ("vehicles:dealer_yard_order", "received_day"),
        ("vehicles:stockyard_order", "eta_day"),
    ):
        rows = state.arrays[table].astype(int)
        keys = np.stack([rows[:, 0], state.vehicles["spec"].to_numpy()[rows[:, 1]]], axis=1)
        for key in np.unique(keys, axis=0):
            members = rows[(keys == key).all(axis=1), 1]
            assert (np.diff(state.vehicles[arrived].to_numpy()[members]) >= 0).all(), (table, key)
    # the cars waiting for a truck, the trucks driving back, the reserved cars: the same cars
    assert by_vin(state, "carriers:dispatch_queue", 1, [0]) == by_vin(
        truth, "carriers:dispatch_queue", 1, [0]
    )
    assert by_vin(state, "vehicles:deliveries_due", 1, []) == by_vin(truth, "vehicles:deliveries_due", 1, [])
    np.testing.assert_allclose(
        np.sort(state.arrays["carriers:trucks_returning"], axis=0),
        np.sort(truth.arrays["carriers:trucks_returning"], axis=0),
    )
    # every unit in transit is received once, on the day the engine receives it for most lines: a truck
    # that will be later than its promise is known only once the promise has passed (then the carrier
    # reports the delay), so lines whose noisy transit rounds to a later morning are received a day early
    mine, theirs = state.arrays["logistics:inbound"], truth.arrays["logistics:inbound"]
    np.testing.assert_array_equal(np.sum(mine[:, 4]), np.sum(theirs[:, 4]))
    received = {(int(r[0]), int(r[2]), int(r[3])): r[4] for r in theirs}
    same_day = sum(received.get((int(r[0]), int(r[2]), int(r[3]))) == r[4] for r in mine)
    assert same_day >= 0.85 * len(theirs)


def test_units_held_for_repairs_leave_as_the_engines_geometric_holding_time_says() -> None:
    """The rest of a geometric holding time is geometric again: of 3000 units held with a mean of 1.5 days,
    two thirds leave today, two thirds of the rest tomorrow, and so on."""
    cells, days_ahead, units = spread_geometric(np.array([3000, 0, 1]), 1.5)
    first = cells == 0
    expected = 3000 * (2 / 3) * (1 / 3) ** days_ahead[first]
    np.testing.assert_allclose(units[first], expected, atol=1.0)
    assert units.sum() == 3001 and set(cells.tolist()) == {0, 2}
    assert days_ahead[cells == 2].tolist() == [0]  # a single unit goes at the median: today
    _, days_ahead, _ = spread_geometric(np.array([5]), 1.0)  # mean one day: all go today
    assert days_ahead.tolist() == [0]


# -- the fork -----------------------------------------------------------------------------------------------
def test_a_fork_runs_to_the_horizon_and_conserves_parts_and_vehicles(
    converted: tuple[NetworkState, TwinConfig], fork: tuple[RunResult, Simulation, list[str]]
) -> None:
    state, _ = converted
    result, simulation, violations = fork
    assert violations == []
    assert parts_violations(simulation) == [] and vehicle_violations(simulation) == []
    assert simulation.env.now == HORIZON_DAYS
    parts = simulation.parts
    np.testing.assert_array_equal(
        state.arrays["parts:on_hand"].sum(axis=0, dtype=np.int64)
        + state.arrays["parts:workshop_wip"].sum(axis=0)
        + state.arrays["parts:in_transit"].sum(axis=0)
        + parts.received_from_suppliers
        - parts.consumed,
        parts.state.units_in_network(),
    )
    # every VIN of the live state is still there, under its id, and cars only move forward
    table = simulation.vehicles.vehicle_table()
    started = state.vehicles
    assert table["vin"].iloc[: len(started)].tolist() == started["vin"].tolist()
    assert (table["status"].iloc[: len(started)].to_numpy() >= started["status"].to_numpy()).all()
    delivered = int((table["status"] == VehicleStatus.DELIVERED).sum())
    assert delivered - int((started["status"] == VehicleStatus.DELIVERED).sum()) == (
        result.daily["vehicle_deliveries"].sum()
    )
    # reserved cars are handed over within the two days after the fork
    reserved = started["status"].to_numpy() == VehicleStatus.RESERVED
    assert (table["status"].iloc[: len(started)].to_numpy()[reserved] == VehicleStatus.DELIVERED).all()
    assert simulation.forked_from is not None and simulation.forked_from["estimated"] == list(ESTIMATED)
    # the summary measures the fork's own days
    assert result.summary["days_measured"] == HORIZON_DAYS - FORK_DAY
    assert (result.daily["vehicle_customers"].iloc[:FORK_DAY] == 0).all()


def test_a_fork_tracks_the_real_world_continued_from_its_own_day_within_sampling_noise(
    fork: tuple[RunResult, Simulation, list[str]], truth_continued: RunResult
) -> None:
    """Same seed, but the fork cannot know the real world's random streams at the fork day (no feed has
    them): from the fork day on, the two see independent customers and demand lines. Customers arrive Poisson
    and each run's count of cars sold (of parts demand lines) over the fork is Poisson-thinned, variance at
    most its mean, so two runs differ with a standard deviation of at most sqrt(2 x mean); 4 of them leave a
    false alarm below 1e-4. Dealer stock starts equal and moves by arrivals minus sales; allocation replaces
    what is sold, so its mean over the fork differs by no more than the cumulative sales do."""
    mine, truth = fork[0].daily.iloc[FORK_DAY:], truth_continued.daily.iloc[FORK_DAY:]
    sold, truth_sold = mine["vehicle_deliveries"].sum(), truth["vehicle_deliveries"].sum()
    assert abs(sold - truth_sold) <= 4 * np.sqrt(2 * truth_sold)
    lines, truth_lines = mine["parts_demand_lines"].sum(), truth["parts_demand_lines"].sum()
    assert abs(lines - truth_lines) <= 4 * np.sqrt(2 * truth_lines)
    stock, truth_stock = mine["vehicle_dealer_stock"].mean(), truth["vehicle_dealer_stock"].mean()
    assert abs(stock - truth_stock) <= 4 * np.sqrt(2 * truth_sold)
    # and the fork is not the empty world that would pass loose checks: it sells as the real one does
    assert sold > 0.5 * truth_sold and stock > 0.5 * truth_stock


def test_on_common_random_numbers_the_fork_differs_only_by_what_was_estimated(
    shadowed: Shadowed, converted: tuple[NetworkState, TwinConfig], truth_continued: RunResult
) -> None:
    """Given the real world's random streams (a test can; the feeds cannot), the fork sees the same customers
    and parts lines, so what is left is the conversion's own error. A car sold in one run and not the other
    needs a car whose place or time was estimated: an allocated stock car's wait at the stockyard, a car of
    the rest of the period's build plan, a stock sale's handover day. Their count bounds the difference in
    cars sold and in mean dealer stock. Parts fill can differ only where receipts or the demand history were
    estimated; it stays within the binomial noise of the real world's own fill rate (4 sigma)."""
    state, config = converted
    with_streams = dataclasses.replace(state, streams=shadowed.truth.streams)
    result, _, _ = run_watched(config, with_streams)
    mine, truth = result.daily.iloc[FORK_DAY:], truth_continued.daily.iloc[FORK_DAY:]
    for column in ("vehicle_customers", "parts_demand_lines", "parts_demand_units"):
        np.testing.assert_array_equal(mine[column], truth[column], err_msg=column)
    vehicles = state.vehicles
    queued = state.arrays["carriers:dispatch_queue"][:, 1].astype(int)
    stock_cars_queued = int((~vehicles["customer_order"].to_numpy()[queued]).sum())
    plan = state.arrays["production:build_plan"]
    planned_ahead = int((plan[:, 0] >= FORK_DAY % config.operations.allocation_period_days).sum())
    reserved = vehicles["status"].to_numpy() == VehicleStatus.RESERVED
    stock_sales = int((reserved & ~vehicles["customer_order"].to_numpy()).sum())
    estimated_cars = stock_cars_queued + planned_ahead + stock_sales
    sold, truth_sold = mine["vehicle_deliveries"].sum(), truth["vehicle_deliveries"].sum()
    assert abs(sold - truth_sold) <= estimated_cars
    stock, truth_stock = mine["vehicle_dealer_stock"].mean(), truth["vehicle_dealer_stock"].mean()
    assert abs(stock - truth_stock) <= estimated_cars
    lines = truth["parts_demand_lines"].sum()
    fill = mine["parts_first_pick_lines"].sum() / lines
    truth_fill = truth["parts_first_pick_lines"].sum() / lines
    assert abs(fill - truth_fill) <= 4 * np.sqrt(truth_fill * (1 - truth_fill) / lines)


# -- the command line ---------------------------------------------------------------------------------------
@pytest.mark.slow
def test_twin_run_forks_a_what_if_from_a_shadow_run_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """twin-feed, twin-shadow, then twin-run from the shadow's folder, as a planner would type them (the
    entry points in-process: the same argv, exit codes and output as the commands)."""

    def _command(module_call: str, *arguments: str) -> subprocess.CompletedProcess[str]:
        return run_entry(module_call, *arguments, monkeypatch=monkeypatch, capsys=capsys)

    common = ["network=small", "seed=3", "warmup_days=5", "logger=none", "progress=false"]
    fed = _command(
        "twin.live.cli:feed_main",
        *common, "horizon_days=20", f"hydra.run.dir={tmp_path / 'feed'}",
    )  # fmt: skip
    assert fed.returncode == 0, fed.stderr
    shadowed = _command(
        "twin.live.cli:shadow_main",
        *common, "horizon_days=20", "shadow.decisions=false", f"feed.path={tmp_path / 'feed' / FEED_FILE}",
        f"hydra.run.dir={tmp_path / 'shadow'}",
    )  # fmt: skip
    assert shadowed.returncode == 0, shadowed.stderr
    completed = _command(
        "twin.cli:run_main",
        *common, "horizon_days=40", f"start_from_snapshot={tmp_path / 'shadow'}", "fork=true",
        "scenario=regional_demand_shock", f"hydra.run.dir={tmp_path / 'run'}",
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert "Traceback" not in completed.stderr
    assert "started from the live state" in completed.stdout and "(day 20)" in completed.stdout
    for item in ESTIMATED:
        assert item in completed.stdout
    forked = json.loads((tmp_path / "run" / "forked_from.json").read_text())
    assert forked["day"] == 20 and forked["estimated"] == list(ESTIMATED)
    # the real world runs no scenario to differ from: the what-if's settings are simply the run's own
    assert forked["differences"] == []
    assert "name: regional_demand_shock" in (tmp_path / "run" / "resolved_config.yaml").read_text()
    kpis = json.loads((tmp_path / "run" / "kpis.json").read_text())
    summary = kpis.get("summary", kpis)
    assert summary["days_measured"] == 20 and summary["vehicle_sales"] > 0


@pytest.mark.slow
def test_twin_compare_starts_every_arm_from_one_copy_of_the_live_state(
    shadowed: Shadowed, tmp_path: Path
) -> None:
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    from twin.cli import CONFIG_DIR
    from twin.compare_cli import execute_comparison
    from twin.config import CompareConfig

    GlobalHydra.instance().clear()
    try:
        initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3")
        cfg = compose(
            config_name="compare",
            overrides=["logger=none", "progress=false", "replications=2", "executor=inline"],
        )
        compare = OmegaConf.to_object(cfg)
        assert isinstance(compare, CompareConfig)
        compare.common_overrides = [
            "network=small", "horizon_days=40", "warmup_days=5", f"start_from_snapshot={shadowed.shadow_dir}",
        ]  # fmt: skip
        results, _ = execute_comparison(compare, tmp_path / "out")
    finally:
        GlobalHydra.instance().clear()
    assert {result.arm for result in results} == set(compare.arms)
    assert all(result.summary["days_measured"] == 40 - FORK_DAY for result in results)
    assert (tmp_path / "out" / "live_start_0" / "live_meta.json").is_file()
