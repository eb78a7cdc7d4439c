"""A damaged, edited or mismatched state never runs silently and never ends in a traceback: loading it raises
``SnapshotError`` naming the file and the field, and a run that cannot continue from it is refused."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twin.config import (
    AlertConfig,
    NetworkConfig,
    NetworkSourcingConfig,
    PolicyConfig,
    TransferConfig,
    TwinConfig,
)
from twin.domain.state import SCHEMA_VERSION, NetworkState, SnapshotError, schema_markdown
from twin.domain.state_schema import SECTIONS
from twin.engine.simulation import Simulation
from twin.errors import ConfigError

DAY = 20


def _config(**overrides: object) -> TwinConfig:
    config = TwinConfig(
        network=NetworkConfig(dealers=6, skus=120, stockyards=2, vehicles_per_dealer=40),
        horizon_days=40,
        warmup_days=5,
        progress=False,
    )
    return replace(config, **overrides)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def saved_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    simulation = Simulation(_config())
    simulation.advance(DAY)
    return simulation.snapshot().save(tmp_path_factory.mktemp("state") / "day_020")


# -- damage helpers -----------------------------------------------------------------------------------
def _edit_meta(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        meta = json.loads((folder / "meta.json").read_text())
        change(meta)
        (folder / "meta.json").write_text(json.dumps(meta))

    return damage


def _edit_arrays(change: Callable[[dict[str, np.ndarray]], None]) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        with np.load(folder / "state.npz") as archive:
            arrays = {name: archive[name].copy() for name in archive.files}
        change(arrays)
        np.savez_compressed(folder / "state.npz", **arrays)

    return damage


def _edit_vehicles(change: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        frame = pd.read_parquet(folder / "vehicles.parquet")
        change(frame).to_parquet(folder / "vehicles.parquet", index=False)

    return damage


def _truncate(name: str, keep_share: float) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        data = (folder / name).read_bytes()
        (folder / name).write_bytes(data[: int(len(data) * keep_share)])

    return damage


def _set(key: str, index: tuple[int, ...], value: float) -> Callable[[dict[str, np.ndarray]], None]:
    def change(arrays: dict[str, np.ndarray]) -> None:
        arrays[key][index] = value

    return change


def _first_yard_row_to(vehicle: int) -> Callable[[dict[str, np.ndarray]], None]:
    def change(arrays: dict[str, np.ndarray]) -> None:
        arrays["vehicles:dealer_yard_order"][0, 1] = vehicle

    return change


def _vin_of_row_0_to(vin: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[0, "vin"] = vin
        return frame

    return change


def _column(name: str, value: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[3, name] = value
        return frame

    return change


def _arrays_pop(key: str) -> Callable[[dict[str, np.ndarray]], None]:
    def change(arrays: dict[str, np.ndarray]) -> None:
        del arrays[key]

    return change


#: (case, damage, file named, field named)
CASES: list[tuple[str, Callable[[Path], None], str, str]] = [
    ("meta truncated", _truncate("meta.json", 0.5), "meta.json", "json"),
    ("meta empty", _truncate("meta.json", 0.0), "meta.json", "json"),
    ("meta not an object", lambda f: (f / "meta.json").write_text("[1, 2]"), "meta.json", "json"),
    ("meta not utf-8", lambda f: (f / "meta.json").write_bytes(b"\xff\xfe{}"), "meta.json", "text"),
    ("meta missing", lambda f: (f / "meta.json").unlink(), "meta.json", "file"),
    ("state archive missing", lambda f: (f / "state.npz").unlink(), "state.npz", "file"),
    ("state archive truncated", _truncate("state.npz", 0.6), "state.npz", "archive"),
    ("state archive empty", _truncate("state.npz", 0.0), "state.npz", "archive"),
    ("state archive is text", lambda f: (f / "state.npz").write_text("hello"), "state.npz", "archive"),
    ("vehicle table truncated", _truncate("vehicles.parquet", 0.5), "vehicles.parquet", "table"),
    ("vehicle table empty", _truncate("vehicles.parquet", 0.0), "vehicles.parquet", "table"),
    ("schema version", _edit_meta(lambda m: m.update(schema_version=1)), "meta.json", "schema_version"),
    ("seed missing", _edit_meta(lambda m: m.pop("seed")), "meta.json", "seed"),
    ("seed negative", _edit_meta(lambda m: m.update(seed=-3)), "meta.json", "seed"),
    ("seed not a number", _edit_meta(lambda m: m.update(seed="one")), "meta.json", "seed"),
    ("day edited", _edit_meta(lambda m: m.update(day=DAY + 5)), "meta.json", "day"),
    ("day past the horizon", _edit_meta(lambda m: m.update(day=9999)), "meta.json", "day"),
    (
        "dimension zero",
        _edit_meta(lambda m: m["dimensions"].update(dealers=0)),
        "meta.json",
        "dimensions.dealers",
    ),
    (
        "stream garbage",
        _edit_meta(lambda m: m["streams"].update(parts_demand=[1, 2])),
        "meta.json",
        "streams.parts_demand",
    ),
    ("sections edited", _edit_meta(lambda m: m["sections"].append("tower")), "state.npz", "sections"),
    (
        "row count edited",
        _edit_meta(lambda m: m.update(vehicles=m["vehicles"] + 1)),
        "vehicles.parquet",
        "rows",
    ),
    ("negative stock", _edit_arrays(_set("parts:on_hand", (2, 7), -4)), "state.npz", "parts:on_hand[2, 7]"),
    (
        "negative in transit",
        _edit_arrays(_set("parts:in_transit", (0, 1), -1)),
        "state.npz",
        "parts:in_transit[0, 1]",
    ),
    ("field missing", _edit_arrays(_arrays_pop("parts:consumed")), "state.npz", "parts:consumed"),
    (
        "section missing",
        _edit_arrays(lambda a: [a.pop(k) for k in list(a) if k.startswith("kpis:")]),
        "state.npz",
        "kpis",
    ),
    (
        "unknown section",
        _edit_arrays(lambda a: a.update({"mystery:thing": np.zeros(3)})),
        "state.npz",
        "mystery:thing",
    ),
    (
        "unknown field",
        _edit_arrays(lambda a: a.update({"parts:extra": np.zeros(3)})),
        "state.npz",
        "parts:extra",
    ),
    (
        "wrong dtype",
        _edit_arrays(lambda a: a.update({"parts:on_hand": a["parts:on_hand"].astype(np.float64)})),
        "state.npz",
        "parts:on_hand",
    ),
    (
        "wrong shape",
        _edit_arrays(lambda a: a.update({"parts:reserved": a["parts:reserved"][:, :-1]})),
        "state.npz",
        "parts:reserved.shape[1]",
    ),
    (
        "not a number",
        _edit_arrays(_set("demand_history:units_per_day", (1, 1), np.nan)),
        "state.npz",
        "demand_history:units_per_day[1, 1]",
    ),
    (
        "consignment to an unknown SKU",
        _edit_arrays(_set("logistics:inbound", (0, 3), 10_000)),
        "state.npz",
        "logistics:inbound.sku[0]",
    ),
    (
        "unknown vehicle id",
        _edit_arrays(_first_yard_row_to(99_999)),
        "state.npz",
        "vehicles:dealer_yard_order.vehicle[0]",
    ),
    (
        "release of an unknown kind",
        _edit_arrays(_set("parts:releases", (0, 1), 7)),
        "state.npz",
        "parts:releases.kind[0]",
    ),
    ("KPI day edited", _edit_arrays(_set("kpis:recorded_through_day", (0,), 3)), "meta.json", "day"),
    (
        "duplicate VIN",
        _edit_vehicles(lambda f: f.assign(vin=f["vin"].where(f.index != 1, f["vin"][0]))),
        "vehicles.parquet",
        "vin[1]",
    ),
    ("bad check digit", _edit_vehicles(_vin_of_row_0_to("1M8GDM9AXKP042789")), "vehicles.parquet", "vin[0]"),
    ("VIN with an O", _edit_vehicles(_vin_of_row_0_to("1M8GDM9AXKP04278O")), "vehicles.parquet", "vin[0]"),
    ("unknown status", _edit_vehicles(_column("status", 9)), "vehicles.parquet", "status[3]"),
    ("unknown spec", _edit_vehicles(_column("spec", 10_000)), "vehicles.parquet", "spec[3]"),
    ("unknown dealer", _edit_vehicles(_column("dealer", 10_000)), "vehicles.parquet", "dealer[3]"),
    ("day not finite", _edit_vehicles(_column("built_day", np.inf)), "vehicles.parquet", "built_day[3]"),
    (
        "column missing",
        _edit_vehicles(lambda f: f.drop(columns=["site_kind"])),
        "vehicles.parquet",
        "site_kind",
    ),
    (
        "a valid-looking edit",
        _edit_arrays(_set("parts:on_hand", (0, 0), 1_000)),
        "state.npz",
        "sha256",
    ),
]


@pytest.mark.parametrize(("damage", "file", "field"), [case[1:] for case in CASES], ids=[c[0] for c in CASES])
def test_a_damaged_state_names_the_file_and_field(
    saved_state: Path, tmp_path: Path, damage: Callable[[Path], None], file: str, field: str
) -> None:
    folder = shutil.copytree(saved_state, tmp_path / "damaged")
    damage(folder)

    with pytest.raises(SnapshotError) as raised:
        NetworkState.load(folder)

    assert raised.value.file == file
    assert raised.value.field.startswith(field), str(raised.value)
    assert f"snapshot {file}: {raised.value.field}=" in str(raised.value)


def test_an_undamaged_copy_loads(saved_state: Path, tmp_path: Path) -> None:
    folder = shutil.copytree(saved_state, tmp_path / "copy")
    assert NetworkState.load(folder).day == DAY


def test_the_command_line_prints_the_error_without_a_traceback(saved_state: Path, tmp_path: Path) -> None:
    folder = shutil.copytree(saved_state, tmp_path / "damaged")
    _edit_arrays(_set("parts:on_hand", (1, 2), -5))(folder)
    completed = subprocess.run(
        [sys.executable, "-m", "twin.cli", "network.dealers=6", "network.skus=120", "network.stockyards=2",
         "network.vehicles_per_dealer=40", "horizon_days=40", "warmup_days=5", "logger=none", "progress=false",
         f"start_from_snapshot={folder}", f"hydra.run.dir={tmp_path / 'run'}"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr + completed.stdout
    assert "snapshot state.npz: parts:on_hand[1, 2]=-5: must be >= 0" in completed.stderr


# -- may a run continue from a state? ------------------------------------------------------------------
@pytest.fixture(scope="module")
def day_state() -> NetworkState:
    simulation = Simulation(_config())
    simulation.advance(DAY)
    return simulation.snapshot()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"start_date": "2026-02-01"}, "start_date"),
        ({"horizon_days": 50}, "horizon_days"),
        (
            {"network": NetworkConfig(dealers=6, skus=121, stockyards=2, vehicles_per_dealer=40)},
            "network.skus",
        ),
        ({"network": NetworkConfig(dealers=6, skus=120, stockyards=2, generator_seed=9)}, "network"),
    ],
    ids=["start date", "horizon", "network shape", "another network of the same shape"],
)
def test_a_state_of_another_run_is_refused_even_as_a_fork(
    day_state: NetworkState, overrides: dict[str, object], field: str
) -> None:
    for fork in (False, True):
        with pytest.raises(ConfigError) as raised:
            Simulation(_config(fork=fork, **overrides), snapshot=day_state)
        assert raised.value.field.startswith(field)


def test_other_settings_are_refused_unless_the_run_is_a_fork(day_state: NetworkState) -> None:
    watched = PolicyConfig(alerts=AlertConfig(enabled=True))
    with pytest.raises(ConfigError, match=r"policy\.alerts\.enabled=.*set fork=true"):
        Simulation(_config(policy=watched), snapshot=day_state)
    with pytest.raises(ConfigError, match=r"^seed="):
        Simulation(_config(seed=2), snapshot=day_state)


def test_a_fork_records_what_it_changed_and_continues_the_streams(day_state: NetworkState) -> None:
    watched = PolicyConfig(alerts=AlertConfig(enabled=True))
    with pytest.warns(UserWarning, match="forked from the snapshot of day 20"):
        fork = Simulation(
            _config(policy=watched, fork=True, start_from_snapshot="day_020"), snapshot=day_state
        )
    assert fork.forked_from is not None
    assert "policy.alerts.enabled: False -> True" in fork.forked_from["differences"]  # type: ignore[operator]
    assert fork.forked_from["started_fresh"] == ["tower"]
    assert fork.streams.state()["parts_demand"] == day_state.streams["parts_demand"]
    result = fork.run()
    assert (
        result.daily["parts_alerts_raised"].iloc[DAY:].sum() > 0
    )  # the control tower watched from day 20 on
    assert fork.snapshot().provenance["forked_from"]["day"] == DAY  # type: ignore[index]

    # the same world without the alerts: the fork changed what was watched, not what happened
    same = Simulation(_config(), snapshot=day_state).run()
    assert result.summary["parts_fill_rate_line"] == same.summary["parts_fill_rate_line"]


def test_a_fork_with_its_own_seed_draws_a_future_of_its_own(day_state: NetworkState) -> None:
    with pytest.warns(UserWarning, match="forked"):
        other_seed = Simulation(_config(seed=5, fork=True), snapshot=day_state)
    assert "parts_demand" not in other_seed.streams.state()
    assert other_seed.run().summary != Simulation(_config(), snapshot=day_state).run().summary


def test_every_array_a_run_writes_is_declared_in_the_schema() -> None:
    """With every optional section on, each array is a declared field or an owner's declared internal table."""
    policy = PolicyConfig(
        alerts=AlertConfig(enabled=True),
        sourcing=NetworkSourcingConfig(),
        transfers=TransferConfig(enabled=True),
    )
    simulation = Simulation(_config(policy=policy))
    simulation.advance(DAY)
    state = simulation.snapshot()
    assert {"tower", "settlement", "transfers", "orders"} <= {key.split(":", 1)[0] for key in state.arrays}
    for key in state.arrays:
        section_name, name = key.split(":", 1)
        section = SECTIONS[section_name]
        assert section.field(name) is not None or name.startswith(section.open_prefixes), key
    document = schema_markdown()
    assert f"Schema version {SCHEMA_VERSION}" in document
    docs = Path(__file__).resolve().parent.parent / "docs" / "state.md"
    assert document in docs.read_text(), "docs/state.md is out of date: python -m twin.domain.state_schema"
