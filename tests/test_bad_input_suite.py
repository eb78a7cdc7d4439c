"""Bad master data and bad scenarios are refused with a typed error naming the table/record or the config path,
the field and the value as given, and the command line reports them in one line without a traceback.

Each case edits one thing of a small, valid, hand-built world (two dealers in two regions, two models, three
carriers) and checks what the user would read. Nothing here runs a simulation: master data is checked while the
world is built and scenarios while their effects are resolved against it.
"""

from __future__ import annotations

import dataclasses
import math
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from tests.helpers.entry_points import run_entry
from tests.helpers.worlds import ROAD_FACTOR, DealerSpec, SkuSpec, tiny_master_data
from twin.cli import CONFIG_DIR
from twin.config import (
    CampaignConfig,
    CarrierDisruptionConfig,
    CompareConfig,
    DcOutageConfig,
    DemandShockConfig,
    LeadTimeChangeConfig,
    ModelLaunchConfig,
    ScenarioConfig,
    SupersessionConfig,
    TwinConfig,
    validate,
)
from twin.domain.masterdata import MasterData
from twin.domain.world import World, build_world
from twin.engine.scenario_effects import ScenarioEffects
from twin.errors import ConfigError, MasterDataError

REPOSITORY = Path(__file__).resolve().parent.parent


def suite_master() -> MasterData:
    """D1 (West) and D2 (North); models Arka and Bolt from one plant; D2's parts come by a third carrier."""
    master = tiny_master_data(
        [DealerSpec("D1", 100.0), DealerSpec("D2", 200.0, region="North")],
        [SkuSpec("P1", "fast_mover", 1.0), SkuSpec("P2", "tyre", 0.5)],
        colours=("White", "Red"),
    )
    specs = master.vehicle_specs.copy()
    specs.loc[1, ["spec_id", "model", "variant"]] = ["BLT-VXI-1", "Bolt", "Bolt VXi"]
    carriers = pd.concat(
        [master.carriers, master.carriers.iloc[[0]].assign(carrier_id="CR03", name="Hill Parts")],
        ignore_index=True,
    )
    dealers = master.dealers.copy()
    dealers.loc[1, "parts_carrier_id"] = "CR03"
    mix = pd.DataFrame({"region": ["West", "North"], "model": ["Arka", "Bolt"], "weight": [1.0, 2.0]})
    return dataclasses.replace(
        master, vehicle_specs=specs, carriers=carriers, dealers=dealers, region_model_mix=mix
    )


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(suite_master(), ROAD_FACTOR)


def test_the_suite_world_is_valid(world: World) -> None:
    assert world.region_names == ("North", "West")
    assert world.specs.model_names == ("Arka", "Bolt")
    assert world.network.carriers.carrier_id.tolist() == ["CR01", "CR02", "CR03"]


# -- master data: one cell edited ------------------------------------------------------------------------------

#: each table's id column and its ids in suite_master (region_model_mix rows are named by row number)
IDS = {
    "dealers": ("dealer_id", ["D1", "D2"]),
    "parts_dcs": ("site_id", ["DC01"]),
    "plants": ("site_id", ["PL01"]),
    "stockyards": ("site_id", ["SY01"]),
    "carriers": ("carrier_id", ["CR01", "CR02", "CR03"]),
    "parts_catalog": ("sku_id", ["P1", "P2"]),
    "vehicle_specs": ("spec_id", ["ARK-LXI-1", "BLT-VXI-1"]),
    "region_model_mix": (None, [1, 2]),
}


@dataclasses.dataclass(frozen=True)
class Cell:
    """Set ``table.column`` of ``row`` to ``value``; expect the error on ``field`` naming ``key``."""

    table: str
    row: int
    column: str
    value: Any
    reason: str
    #: the record the error names; default the row's id (the row number when the id column is edited)
    key: Any = None
    #: the field the error names; default the edited column
    field: str = ""
    #: the value the error reports; default the value set
    reported: Any = dataclasses.field(default=None)

    @property
    def expected_key(self) -> Any:
        if self.key is not None:
            return self.key
        id_column, ids = IDS[self.table]
        return self.row + 1 if self.column == id_column or id_column is None else ids[self.row]

    @property
    def label(self) -> str:
        return f"{self.table}-{self.column}-{self.reason}"


def _numeric_cases() -> list[Cell]:
    number_columns = {
        "dealers": ["latitude", "longitude", "capacity_vehicles", "parts_activity", "vehicle_activity"],
        "parts_dcs": ["latitude", "longitude"],
        "plants": ["latitude", "longitude"],
        "stockyards": ["latitude", "longitude"],
        "carriers": [
            "rate_per_km_inr",
            "minimum_charge_inr",
            "capacity_per_load",
            "speed_km_per_day",
            "fleet_size",
        ],
        "parts_catalog": ["unit_cost_inr", "demand_weight"],
        "vehicle_specs": ["price_inr", "popularity"],
        "region_model_mix": ["weight"],
    }
    cases = []
    for table, columns in number_columns.items():
        for column in columns:
            cases += [
                Cell(table, 0, column, "many", "not-a-number"),
                Cell(table, 0, column, float("nan"), "nan"),
                Cell(table, 0, column, float("inf"), "infinite"),
            ]
            if column not in ("latitude", "longitude"):
                cases.append(Cell(table, 0, column, -1.5, "negative"))
    cases += [
        Cell("dealers", 0, "latitude", 999.0, "latitude-999"),
        Cell("dealers", 1, "latitude", -90.5, "below-south-pole"),
        Cell("dealers", 1, "longitude", 181.0, "longitude-181"),
        Cell("parts_dcs", 0, "latitude", 91.0, "latitude-91"),
        Cell("plants", 0, "longitude", -200.0, "longitude-minus-200"),
        Cell("stockyards", 0, "latitude", 1e9, "latitude-huge"),
        Cell("dealers", 0, "capacity_vehicles", 0.5, "fractional"),
        Cell("dealers", 1, "capacity_vehicles", 0, "zero"),
        Cell("carriers", 1, "capacity_per_load", 7.5, "fractional"),
        Cell("carriers", 2, "fleet_size", 0, "zero"),
        Cell("carriers", 0, "fleet_size", 2.25, "fractional"),
        Cell("carriers", 0, "speed_km_per_day", 0.0, "zero"),
        Cell("parts_catalog", 1, "unit_cost_inr", 0.0, "zero"),
        Cell("vehicle_specs", 1, "price_inr", 0, "zero"),
        Cell("region_model_mix", 1, "weight", "2,5", "comma-decimal"),
        Cell("dealers", 0, "parts_activity", "", "empty"),
        Cell("carriers", 2, "rate_per_km_inr", None, "missing"),
    ]
    return cases


def _text_cases() -> list[Cell]:
    cases = []
    for table, (id_column, ids) in IDS.items():
        if id_column is None:
            continue
        cases += [
            Cell(table, 0, id_column, "", "empty-id"),
            Cell(table, 0, id_column, f"{ids[0][:1]}\x00{ids[0][1:]}", "nul-in-id"),
            Cell(table, 0, id_column, f" {ids[0]}", "space-around-id"),
            Cell(table, 0, id_column, None, "missing-id"),
        ]
    cases += [
        Cell("dealers", 0, "region", "", "empty"),
        Cell("dealers", 1, "name", "North\nMotors", "newline"),
        Cell("dealers", 0, "parts_dc_id", "DC\x0001", "nul"),
        Cell("carriers", 0, "mode", "\tparts", "tab"),
        Cell("parts_catalog", 0, "part_class", "", "empty"),
        Cell("parts_catalog", 1, "description", "brake\x07pad", "bell"),
        Cell("vehicle_specs", 0, "model", "", "empty"),
        Cell("vehicle_specs", 1, "colour", "Red\x7f", "delete"),
        Cell("plants", 0, "wmi", "", "empty"),
        Cell("stockyards", 0, "plant_id", "", "empty"),
        Cell("region_model_mix", 0, "region", None, "missing"),
        Cell("region_model_mix", 1, "model", "Bo\x00lt", "nul"),
    ]
    return cases


def _duplicate_cases() -> list[Cell]:
    cases = []
    for table, (id_column, ids) in IDS.items():
        if id_column is None or len(ids) < 2:
            continue
        cases.append(Cell(table, 1, id_column, ids[0], "duplicate-id", key=ids[0]))
    return cases


def _reference_cases() -> list[Cell]:
    return [
        Cell("dealers", 0, "parts_dc_id", "DC99", "unknown-dc"),
        Cell("dealers", 1, "stockyard_id", "SY99", "unknown-yard"),
        Cell("dealers", 0, "parts_carrier_id", "CR99", "unknown-carrier"),
        Cell("dealers", 1, "vehicle_carrier_id", "CR42", "unknown-carrier"),
        Cell("dealers", 0, "parts_carrier_id", "CR02", "vehicle-carrier-on-parts-lane", field="parts lane"),
        Cell(
            "dealers", 1, "vehicle_carrier_id", "CR03", "parts-carrier-on-vehicle-lane", field="vehicle lane"
        ),
        Cell("dealers", 0, "parts_dc_id", "dc01", "id-case"),
        Cell("stockyards", 0, "plant_id", "PL02", "unknown-plant"),
        Cell("vehicle_specs", 1, "plant_id", "PL07", "unknown-plant"),
        Cell("parts_catalog", 0, "superseded_by", "P404", "unknown-successor"),
        Cell("parts_catalog", 1, "superseded_by", "P2", "supersedes-itself"),
        Cell("parts_catalog", 0, "part_class", "widget", "unknown-class"),
        Cell("carriers", 1, "mode", "boats", "unknown-mode"),
        Cell("plants", 0, "wmi", "MIL", "outside-vin-alphabet"),
        Cell("plants", 0, "plant_code", "KK", "two-character-code"),
        Cell("region_model_mix", 0, "region", "Wset", "typo-region"),
        Cell("region_model_mix", 1, "model", "Bolt ", "unknown-model"),
    ]


CELL_CASES = _numeric_cases() + _text_cases() + _duplicate_cases() + _reference_cases()


def with_cell(master: MasterData, table: str, row: int, column: str, value: Any) -> MasterData:
    frame = getattr(master, table).copy()
    frame[column] = frame[column].astype(object)
    frame.loc[row, column] = value
    return dataclasses.replace(master, **{table: frame})


def assert_names(message: str, field: str, value: Any) -> None:
    """The message shows ``field=value`` with the value as given (repr), and is one line."""
    assert f"{field}={value!r}" in message, message
    assert "\n" not in message.replace(repr(value), "")


@pytest.mark.parametrize("case", CELL_CASES, ids=[case.label for case in CELL_CASES])
def test_a_bad_master_data_cell_is_named_with_its_record_field_and_value(case: Cell) -> None:
    master = with_cell(suite_master(), case.table, case.row, case.column, case.value)
    with pytest.raises(MasterDataError) as caught:
        build_world(master, ROAD_FACTOR)
    error = caught.value
    field = case.field or case.column
    reported = case.reported if case.reported is not None else case.value
    assert (error.table, error.key, error.field) == (case.table, case.expected_key, field), str(error)
    assert repr(error.value) == repr(reported), str(error)
    key = case.expected_key
    record = f"row {key}" if isinstance(key, int) else repr(key)
    assert str(error).startswith(f"{case.table}[{record}].{field}="), str(error)
    assert_names(str(error), field, reported)
    assert str(error).split(": ", 1)[1], "a reason"


@pytest.mark.parametrize("table", [name for name in IDS if name != "region_model_mix"])
def test_a_table_without_records_is_refused(table: str) -> None:
    master = suite_master()
    empty = getattr(master, table).iloc[0:0]
    with pytest.raises(MasterDataError) as caught:
        build_world(dataclasses.replace(master, **{table: empty}), ROAD_FACTOR)
    assert (caught.value.table, caught.value.key, caught.value.field) == (table, None, "rows")
    assert str(caught.value).startswith(f"{table}.rows=0: ")


def test_an_empty_model_mix_weighs_every_model_1() -> None:
    master = suite_master()
    world = build_world(dataclasses.replace(master, region_model_mix=master.region_model_mix.iloc[0:0]), 1.25)
    np.testing.assert_allclose(world.region_spec_preference, 0.5)


@pytest.mark.parametrize(
    ("table", "frame_change", "key", "field", "value"),
    [
        (
            "region_model_mix",
            lambda frame: frame.assign(region="West", weight=0.0),
            None,
            "weight",
            0.0,
        ),
        ("region_model_mix", lambda frame: frame.assign(region="West", model="Arka"), 2, "model", "Arka"),
        ("vehicle_specs", lambda frame: frame.assign(popularity=0.0), None, "popularity", 0.0),
        (
            "vehicle_specs",
            lambda frame: frame.assign(model="Arka", plant_id=["PL01", "PL02"]),
            "BLT-VXI-1",
            "plant_id",
            "PL02",
        ),
        (
            "parts_catalog",
            lambda frame: frame.assign(superseded_by=["P2", "P1"]),
            "P1",
            "superseded_by",
            "P2",
        ),
        ("dealers", lambda frame: frame.assign(dealer_id="D1"), "D1", "dealer_id", "D1"),
    ],
    ids=[
        "a-region-where-every-model-weighs-0",
        "a-mix-pair-twice",
        "all-specs-weigh-0",
        "model-at-two-plants",
        "supersession-cycle",
        "every-dealer-D1",
    ],
)
def test_a_bad_combination_of_records_is_named(
    table: str, frame_change: Any, key: Any, field: str, value: Any
) -> None:
    master = suite_master()
    if table == "vehicle_specs" and field == "plant_id":
        second = master.plants.assign(site_id="PL02", wmi="MAJ", plant_code="S")
        master = dataclasses.replace(master, plants=pd.concat([master.plants, second], ignore_index=True))
    edited = dataclasses.replace(master, **{table: frame_change(getattr(master, table))})
    with pytest.raises(MasterDataError) as caught:
        build_world(edited, ROAD_FACTOR)
    error = caught.value
    assert (error.table, error.key, error.field) == (table, key, field), str(error)
    assert_names(str(error), field, value)


# -- master data: the files ------------------------------------------------------------------------------------


def _write(folder: Path, file_format: str = "csv") -> Path:
    return suite_master().write(folder, file_format)


def _edit_bytes(table: str, change: Any) -> Any:
    def edit(folder: Path) -> Path:
        path = folder / f"{table}.csv"
        path.write_bytes(change(path.read_bytes()))
        return path

    return edit


def _replace(table: str, old: bytes, new: bytes) -> Any:
    return _edit_bytes(table, lambda data: data.replace(old, new, 1))


def _both_formats(table: str) -> Any:
    def edit(folder: Path) -> Path:
        getattr(suite_master(), table).to_parquet(folder / f"{table}.parquet", index=False)
        return folder / f"{table}.parquet"

    return edit


def _broken_parquet(table: str, data: bytes) -> Any:
    def edit(folder: Path) -> Path:
        (folder / f"{table}.csv").unlink()
        path = folder / f"{table}.parquet"
        path.write_bytes(data)
        return path

    return edit


FILE_CASES: list[tuple[str, str, Any, Any, str]] = [
    *[(f"empty-{table}", table, _edit_bytes(table, lambda _: b""), None, "is empty") for table in IDS],
    ("whitespace-dealers", "dealers", _edit_bytes("dealers", lambda _: b"\n \n"), None, "is empty"),
    ("latin1-dealers", "dealers", _replace("dealers", b"Motors", b"Mot\xf6rs"), None, "not UTF-8"),
    (
        "utf16-carriers",
        "carriers",
        _edit_bytes("carriers", lambda d: d.decode().encode("utf-16")),
        None,
        "not UTF-8",
    ),
    (
        "binary-catalog",
        "parts_catalog",
        _edit_bytes("parts_catalog", lambda _: bytes(range(256))),
        None,
        "not UTF-8",
    ),
    (
        "png-specs",
        "vehicle_specs",
        _edit_bytes("vehicle_specs", lambda _: b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
        None,
        "not UTF-8",
    ),
    ("nul-in-dealer-id", "dealers", _replace("dealers", b"D1,", b"D\x001,"), None, "NUL byte on line 2"),
    (
        "nul-in-sku-id",
        "parts_catalog",
        _replace("parts_catalog", b"P2,", b"P\x002,"),
        None,
        "NUL byte on line 3",
    ),
    ("extra-field", "dealers", _replace("dealers", b"D2,", b"D2,North Motors,"), 2, "has 13"),
    ("missing-field", "carriers", _replace("carriers", b",4\n", b"\n"), 1, "has 8"),
    (
        "unquoted-comma",
        "parts_catalog",
        _replace("parts_catalog", b"fast_mover P1", b"fast, mover P1"),
        1,
        "needs quotes",
    ),
    ("header-twice", "plants", _replace("plants", b"name,", b"site_id,"), None, "twice"),
    *[
        (f"stale-parquet-{table}", table, _both_formats(table), None, "both there")
        for table in ("dealers", "parts_catalog")
    ],
    ("zero-byte-parquet", "stockyards", _broken_parquet("stockyards", b""), None, "not a readable Parquet"),
    (
        "csv-named-parquet",
        "carriers",
        _broken_parquet("carriers", b"carrier_id\nCR01\n"),
        None,
        "not a readable Parquet",
    ),
]


@pytest.mark.parametrize(
    ("label", "table", "edit", "key", "reason"), FILE_CASES, ids=[case[0] for case in FILE_CASES]
)
def test_an_unreadable_master_data_file_is_named(
    tmp_path: Path, label: str, table: str, edit: Any, key: Any, reason: str
) -> None:
    folder = _write(tmp_path)
    path = edit(folder)
    with pytest.raises(MasterDataError) as caught:
        build_world(MasterData.read(folder), ROAD_FACTOR)
    error = caught.value
    assert (error.table, error.key) == (table, key), str(error)
    assert reason in error.reason, str(error)
    if key is None and error.field == "file":
        assert error.value == str(path)
        assert_names(str(error), "file", str(path))
    else:
        assert str(error.value) in str(error)


def test_a_stale_parquet_is_refused_naming_both_files(tmp_path: Path) -> None:
    folder = _write(tmp_path, "parquet")
    edited = suite_master().dealers.assign(capacity_vehicles=[60, 70])
    edited.to_csv(folder / "dealers.csv", index=False)
    with pytest.raises(MasterDataError) as caught:
        MasterData.read(folder)
    message = str(caught.value)
    assert str(folder / "dealers.parquet") in message and str(folder / "dealers.csv") in message
    (folder / "dealers.parquet").unlink()  # the user removes the stale one: the edit is what runs
    world = build_world(MasterData.read(folder), ROAD_FACTOR)
    assert world.network.dealers.capacity_vehicles.tolist() == [60, 70]


def test_a_utf8_bom_from_a_spreadsheet_is_accepted(tmp_path: Path) -> None:
    folder = _write(tmp_path)
    path = folder / "dealers.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert build_world(MasterData.read(folder), ROAD_FACTOR).network.dealers.dealer_id.tolist() == [
        "D1",
        "D2",
    ]


def test_a_parquet_record_with_a_nul_in_its_id_is_named_by_row(tmp_path: Path) -> None:
    folder = _write(tmp_path, "parquet")
    suite_master().dealers.assign(dealer_id=["D1", "D\x002"]).to_parquet(folder / "dealers.parquet")
    with pytest.raises(MasterDataError, match=r"^dealers\[row 2\]\.dealer_id='D\\x002': has the control"):
        build_world(MasterData.read(folder), ROAD_FACTOR)


def test_master_data_error_survives_pickling() -> None:
    import pickle

    error = MasterDataError("dealers", "D1", "latitude", 999.0, "must be <= 90")
    copy = pickle.loads(pickle.dumps(error))
    assert str(copy) == str(error) == "dealers['D1'].latitude=999.0: must be <= 90"


# -- scenarios -------------------------------------------------------------------------------------------------


def scenario_error(world: World, scenario: ScenarioConfig) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        validate(TwinConfig(scenario=scenario, horizon_days=60, warmup_days=5))
        ScenarioEffects(scenario, world, 1)
    return caught.value


def _shock(**fields: Any) -> ScenarioConfig:
    return ScenarioConfig(demand_shocks=[DemandShockConfig(**{"start_day": 5, "end_day": 10, **fields})])


def _campaign(**fields: Any) -> ScenarioConfig:
    return ScenarioConfig(
        campaigns=[CampaignConfig(**{"name": "spring", "start_day": 5, "end_day": 10, **fields})]
    )


def _disruption(**fields: Any) -> ScenarioConfig:
    return ScenarioConfig(
        carrier_disruptions=[
            CarrierDisruptionConfig(**{"start_day": 5, "end_day": 10, "carrier_id": "CR01", **fields})
        ]
    )


def _lead_time(**fields: Any) -> ScenarioConfig:
    return ScenarioConfig(
        lead_time_changes=[LeadTimeChangeConfig(**{"start_day": 5, "end_day": 10, **fields})]
    )


def _launches(*launches: tuple[str, int]) -> ScenarioConfig:
    return ScenarioConfig(model_launches=[ModelLaunchConfig(model, day) for model, day in launches])


NAN, INF = float("nan"), float("inf")
SCENARIO_CASES: list[tuple[str, ScenarioConfig, str, Any]] = [
    # windows
    *[
        (f"{name}-ends-before-it-starts", make(start_day=9, end_day=4), f"scenario.{group}[0].end_day", 4)
        for name, group, make in (
            ("shock", "demand_shocks", _shock),
            ("campaign", "campaigns", _campaign),
            ("disruption", "carrier_disruptions", _disruption),
            ("lead-time", "lead_time_changes", _lead_time),
        )
    ],
    *[
        (f"{name}-empty-window", make(start_day=7, end_day=7), f"scenario.{group}[0].end_day", 7)
        for name, group, make in (
            ("shock", "demand_shocks", _shock),
            ("campaign", "campaigns", _campaign),
            ("lead-time", "lead_time_changes", _lead_time),
        )
    ],
    *[
        (f"{name}-negative-start", make(start_day=-3), f"scenario.{group}[0].start_day", -3)
        for name, group, make in (
            ("shock", "demand_shocks", _shock),
            ("campaign", "campaigns", _campaign),
            ("disruption", "carrier_disruptions", _disruption),
            ("lead-time", "lead_time_changes", _lead_time),
        )
    ],
    (
        "outage-ends-before-it-starts",
        ScenarioConfig(dc_outages=[DcOutageConfig("DC01", 8, 2)]),
        "scenario.dc_outages[0].end_day",
        2,
    ),
    # factors
    (
        "shock-negative-vehicle",
        _shock(vehicle_multiplier=-0.5),
        "scenario.demand_shocks[0].vehicle_multiplier",
        -0.5,
    ),
    (
        "shock-nan-vehicle",
        _shock(vehicle_multiplier=NAN),
        "scenario.demand_shocks[0].vehicle_multiplier",
        NAN,
    ),
    ("shock-infinite-parts", _shock(parts_multiplier=INF), "scenario.demand_shocks[0].parts_multiplier", INF),
    ("campaign-zero-uplift", _campaign(vehicle_uplift=0.0), "scenario.campaigns[0].vehicle_uplift", 0.0),
    ("campaign-infinite-uplift", _campaign(vehicle_uplift=INF), "scenario.campaigns[0].vehicle_uplift", INF),
    ("campaign-negative-parts", _campaign(parts_uplift=-1.0), "scenario.campaigns[0].parts_uplift", -1.0),
    (
        "lead-time-zero",
        _lead_time(supplier_multiplier=0.0),
        "scenario.lead_time_changes[0].supplier_multiplier",
        0.0,
    ),
    (
        "lead-time-infinite",
        _lead_time(transit_multiplier=INF),
        "scenario.lead_time_changes[0].transit_multiplier",
        INF,
    ),
    (
        "lead-time-nan",
        _lead_time(transit_multiplier=NAN),
        "scenario.lead_time_changes[0].transit_multiplier",
        NAN,
    ),
    ("share-above-1", _disruption(capacity_share=1.5), "scenario.carrier_disruptions[0].capacity_share", 1.5),
    (
        "share-negative",
        _disruption(capacity_share=-0.1),
        "scenario.carrier_disruptions[0].capacity_share",
        -0.1,
    ),
    ("share-nan", _disruption(capacity_share=NAN), "scenario.carrier_disruptions[0].capacity_share", NAN),
    (
        "supersession-share-0",
        ScenarioConfig(supersessions=[SupersessionConfig(day=5, sku_share=0.0)]),
        "scenario.supersessions[0].sku_share",
        0.0,
    ),
    (
        "supersession-share-above-half",
        ScenarioConfig(supersessions=[SupersessionConfig(day=5, sku_share=0.8)]),
        "scenario.supersessions[0].sku_share",
        0.8,
    ),
    (
        "supersession-negative-day",
        ScenarioConfig(supersessions=[SupersessionConfig(day=-1)]),
        "scenario.supersessions[0].day",
        -1,
    ),
    # names
    ("shock-unknown-region", _shock(region="Atlantis"), "scenario.demand_shocks[0].region", "Atlantis"),
    ("shock-region-case", _shock(region="west"), "scenario.demand_shocks[0].region", "west"),
    ("shock-unknown-model", _shock(model="Zen"), "scenario.demand_shocks[0].model", "Zen"),
    (
        "campaign-unknown-region",
        _campaign(regions=["West", "Sout"]),
        "scenario.campaigns[0].regions[1]",
        "Sout",
    ),
    ("campaign-unknown-model", _campaign(models=["Bolt", "Gati"]), "scenario.campaigns[0].models[1]", "Gati"),
    ("campaign-empty-model", _campaign(models=[""]), "scenario.campaigns[0].models[0]", ""),
    ("campaign-no-name", _campaign(name=""), "scenario.campaigns[0].name", ""),
    (
        "campaign-name-twice",
        ScenarioConfig(campaigns=[CampaignConfig("spring", start_day=1, end_day=3)] * 2),
        "scenario.campaigns[1].name",
        "spring",
    ),
    (
        "disruption-unknown-carrier",
        _disruption(carrier_id="CR09"),
        "scenario.carrier_disruptions[0].carrier_id",
        "CR09",
    ),
    (
        "disruption-unknown-region",
        _disruption(carrier_id="", region="Moon"),
        "scenario.carrier_disruptions[0].region",
        "Moon",
    ),
    (
        "disruption-names-nothing",
        _disruption(carrier_id=""),
        "scenario.carrier_disruptions[0].carrier_id",
        "",
    ),
    (
        "disruption-carrier-not-in-region",
        _disruption(carrier_id="CR03", region="West"),
        "scenario.carrier_disruptions[0].region",
        "West",
    ),
    (
        "fleet-cut-twice",
        ScenarioConfig(
            carrier_disruptions=[
                CarrierDisruptionConfig(5, 20, carrier_id="CR02"),
                CarrierDisruptionConfig(10, 30, carrier_id="CR02"),
            ]
        ),
        "scenario.carrier_disruptions[1].start_day",
        10,
    ),
    (
        "outage-unknown-dc",
        ScenarioConfig(dc_outages=[DcOutageConfig("DC99", 1, 5)]),
        "scenario.dc_outages[0].dc_id",
        "DC99",
    ),
    (
        "outage-no-dc",
        ScenarioConfig(dc_outages=[DcOutageConfig("", 1, 5)]),
        "scenario.dc_outages[0].dc_id",
        "",
    ),
    (
        "supersession-unknown-class",
        ScenarioConfig(supersessions=[SupersessionConfig(day=5, part_class="gearbox")]),
        "scenario.supersessions[0].part_class",
        "gearbox",
    ),
    # launches
    ("launch-unknown-model", _launches(("Zen", 5)), "scenario.model_launches[0].model", "Zen"),
    ("launch-no-model", _launches(("", 5)), "scenario.model_launches[0].model", ""),
    ("launch-negative-day", _launches(("Bolt", -2)), "scenario.model_launches[0].launch_day", -2),
    ("launch-twice", _launches(("Bolt", 5), ("Bolt", 9)), "scenario.model_launches[1].model", "Bolt"),
    (
        "launch-twice-same-day",
        _launches(("Arka", 3), ("Bolt", 5), ("Arka", 3)),
        "scenario.model_launches[2].model",
        "Arka",
    ),
]


@pytest.mark.parametrize(
    ("label", "scenario", "field", "value"), SCENARIO_CASES, ids=[case[0] for case in SCENARIO_CASES]
)
def test_a_bad_scenario_is_refused_naming_the_path_and_value(
    world: World, label: str, scenario: ScenarioConfig, field: str, value: Any
) -> None:
    error = scenario_error(world, scenario)
    assert error.field == field, str(error)
    same = error.value == value or (
        isinstance(value, float) and math.isnan(value) and math.isnan(error.value)
    )
    assert same, str(error)
    assert_names(str(error), field, value)


# -- how overlapping events combine (README, "What-if scenarios") -------------------------------------------


def _effects(world: World, scenario: ScenarioConfig) -> ScenarioEffects:
    validate(TwinConfig(scenario=scenario, horizon_days=60, warmup_days=5))
    return ScenarioEffects(scenario, world, 1)


def test_two_overlapping_demand_shocks_multiply(world: World) -> None:
    effects = _effects(
        world,
        ScenarioConfig(
            demand_shocks=[
                DemandShockConfig(5, 20, region="West", vehicle_multiplier=1.5, parts_multiplier=2.0),
                DemandShockConfig(
                    10, 30, region="West", model="Arka", vehicle_multiplier=2.0, parts_multiplier=1.25
                ),
            ]
        ),
    )
    west, north = world.region_names.index("West"), world.region_names.index("North")
    arka, bolt = world.specs.model_names.index("Arka"), world.specs.model_names.index("Bolt")
    both = effects.vehicle_multiplier(12)
    assert both[west, arka] == pytest.approx(1.5 * 2.0)
    assert both[west, bolt] == pytest.approx(1.5)
    assert both[north, arka] == 1.0
    assert effects.vehicle_multiplier(25)[west, arka] == pytest.approx(2.0)
    west_dealers = world.dealer_region == west
    parts = effects.parts_multiplier(12)
    assert parts is not None
    np.testing.assert_allclose(parts[west_dealers], 2.0 * 1.25)
    np.testing.assert_allclose(parts[~west_dealers], 1.0)


def test_a_campaign_over_a_shock_multiplies_with_it(world: World) -> None:
    effects = _effects(
        world,
        ScenarioConfig(
            demand_shocks=[DemandShockConfig(0, 20, model="Bolt", vehicle_multiplier=1.5)],
            campaigns=[
                CampaignConfig("spring", regions=["North"], start_day=10, end_day=15, vehicle_uplift=1.2)
            ],
        ),
    )
    north = world.region_names.index("North")
    bolt = world.specs.model_names.index("Bolt")
    assert effects.vehicle_multiplier(12)[north, bolt] == pytest.approx(1.5 * 1.2)
    assert effects.vehicle_multiplier(5)[north, bolt] == pytest.approx(1.5)


def test_two_overlapping_lead_time_changes_multiply(world: World) -> None:
    effects = _effects(
        world,
        ScenarioConfig(
            lead_time_changes=[
                LeadTimeChangeConfig(0, 10, supplier_multiplier=1.5),
                LeadTimeChangeConfig(5, 15, supplier_multiplier=2.0),
            ]
        ),
    )
    assert [effects.supplier_multiplier(day) for day in (2, 7, 12)] == pytest.approx([1.5, 3.0, 2.0])


def test_a_model_launched_once_is_accepted_and_zeroes_it_before_its_day(world: World) -> None:
    effects = _effects(world, _launches(("Bolt", 5)))
    bolt = world.specs.model_names.index("Bolt")
    assert effects.vehicle_multiplier(4)[:, bolt].tolist() == [0.0, 0.0]
    assert effects.vehicle_multiplier(5)[:, bolt].tolist() == [1.0, 1.0]


# -- twin-compare names the arm --------------------------------------------------------------------------------


def test_an_error_inside_a_compare_arm_names_the_arm() -> None:
    GlobalHydra.instance().clear()
    initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3")
    try:
        from twin.compare_cli import arm_configs

        compare = CompareConfig(
            arms={
                "baseline": [],
                "late_launch": ["+scenario.model_launches=[{model: Gati, launch_day: -4}]"],
            },
            common_overrides=["debug=default"],
        )
        with pytest.raises(ConfigError) as caught:
            arm_configs(compare)
    finally:
        GlobalHydra.instance().clear()
    assert caught.value.field == "scenario.model_launches[0].launch_day"
    assert "in arm 'late_launch'" in str(caught.value)


# -- the command line: one line, exit code 2, no traceback -----------------------------------------------------


@pytest.fixture
def _run_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """twin-run's entry point in-process: the command's argv, exit code and output, without a fresh
    interpreter's imports for every case."""

    def run(tmp_path: Path, *overrides: str) -> subprocess.CompletedProcess[str]:
        monkeypatch.chdir(REPOSITORY)
        arguments = ["logger=none", "progress=false", f"hydra.run.dir={tmp_path / 'run'}", *overrides]
        return run_entry("twin.cli:run_main", *arguments, monkeypatch=monkeypatch, capsys=capsys)

    return run


CLI_CASES = [
    (
        "duplicate-spec",
        _replace("vehicle_specs", b"BLT-VXI-1", b"ARK-LXI-1"),
        "vehicle_specs['ARK-LXI-1'].spec_id='ARK-LXI-1'",
    ),
    ("latin1", _replace("dealers", b"Motors", b"Mot\xf6rs"), "dealers.file="),
    ("stale-parquet", _both_formats("dealers"), "dealers.file="),
    (
        "typo-region",
        _replace("region_model_mix", b"North,", b"Nrth,"),
        "region_model_mix[row 2].region='Nrth'",
    ),
    ("fractional-capacity", _replace("dealers", b",50,", b",0.5,"), "dealers['D1'].capacity_vehicles=0.5"),
]


@pytest.mark.parametrize(("label", "edit", "expected"), CLI_CASES, ids=[case[0] for case in CLI_CASES])
def test_the_cli_reports_bad_master_data_in_one_line(
    tmp_path: Path, label: str, edit: Any, expected: str, _run_cli: Callable[..., Any]
) -> None:
    folder = _write(tmp_path / "network")
    edit(folder)
    finished = _run_cli(tmp_path, f"network.master_data_dir={folder}")
    assert finished.returncode == 2, finished.stderr
    assert "Traceback" not in finished.stderr + finished.stdout
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {expected}"), finished.stderr


def test_the_cli_reports_a_model_launched_twice_in_one_line(
    tmp_path: Path, _run_cli: Callable[..., Any]
) -> None:
    finished = _run_cli(
        tmp_path,
        "debug=default",
        "scenario=new_model_launch",
        "scenario.model_launches=[{model: Gati, launch_day: 10}, {model: Gati, launch_day: 20}]",
    )
    assert finished.returncode == 2, finished.stderr
    assert "Traceback" not in finished.stderr + finished.stdout
    lines = finished.stderr.strip().splitlines()
    assert lines == [
        "error: scenario.model_launches[1].model='Gati': is launched by model_launches[0] already: "
        "a model has one launch day"
    ]
