"""Bad input fails early with a typed error naming the field (or table/record/field) and the value."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd
import pytest

from tests.helpers.worlds import ROAD_FACTOR, DealerSpec, SkuSpec, tiny_master_data
from twin.config import NetworkConfig, OperationsConfig, TwinConfig, validate
from twin.domain.masterdata import MasterData
from twin.domain.world import build_world
from twin.engine.simulation import Simulation
from twin.errors import ConfigError, MasterDataError


@pytest.mark.parametrize(
    ("config", "field", "value"),
    [
        (TwinConfig(horizon_days=-5), "horizon_days", -5),
        (TwinConfig(horizon_days=30, warmup_days=30), "warmup_days", 30),
        (TwinConfig(horizon_days=30, warmup_days=45), "warmup_days", 45),
        (TwinConfig(network=NetworkConfig(dealers=0)), "network.dealers", 0),
        (
            TwinConfig(operations=OperationsConfig(supplier_lead_time_days=-1)),
            "operations.supplier_lead_time_days",
            -1,
        ),
        (TwinConfig(start_date="2026-13-01"), "start_date", "2026-13-01"),
    ],
    ids=[
        "negative-horizon",
        "warmup-equals-horizon",
        "warmup-beyond-horizon",
        "no-dealers",
        "negative-supplier-lead",
        "bad-date",
    ],
)
def test_validate_rejects_with_field_and_value(config: TwinConfig, field: str, value: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        validate(config)
    error = caught.value
    assert error.field == field
    assert error.value == value
    assert field in str(error) and repr(value) in str(error)


def test_simulation_validates_before_building_anything() -> None:
    # a 400-dealer default network would take a while to generate: the bad horizon must fail first
    with pytest.raises(ConfigError, match="horizon_days"):
        Simulation(TwinConfig(horizon_days=-5, progress=False))


def test_valid_default_config_passes() -> None:
    config = TwinConfig()
    assert validate(config) is config


def good_master() -> MasterData:
    return tiny_master_data([DealerSpec("D1", 100.0), DealerSpec("D2", 200.0)], [SkuSpec("P1", "tyre", 1.0)])


def with_cell(master: MasterData, table: str, row: int, column: str, value: Any) -> MasterData:
    frame = getattr(master, table).copy()
    frame[column] = frame[column].astype(object)
    frame.loc[row, column] = value
    return dataclasses.replace(master, **{table: frame})


def test_good_master_data_builds() -> None:
    world = build_world(good_master(), ROAD_FACTOR)
    assert world.dealer_count == 2


@pytest.mark.parametrize(
    ("table", "row", "column", "value", "key", "field"),
    [
        ("carriers", 0, "capacity_per_load", 0, "CR01", "capacity_per_load"),
        ("carriers", 1, "fleet_size", 0, "CR02", "fleet_size"),
        ("carriers", 0, "mode", "boats", "CR01", "mode"),
        ("dealers", 1, "parts_dc_id", "DC99", "D2", "parts_dc_id"),
        ("dealers", 0, "stockyard_id", "SY42", "D1", "stockyard_id"),
        ("dealers", 0, "parts_carrier_id", "CR02", "D1", "parts lane"),
        ("dealers", 1, "latitude", "north", "D2", "latitude"),
        ("dealers", 0, "capacity_vehicles", 0, "D1", "capacity_vehicles"),
        ("parts_catalog", 0, "superseded_by", "P404", "P1", "superseded_by"),
        ("parts_catalog", 0, "part_class", "widget", "P1", "part_class"),
        ("vehicle_specs", 0, "plant_id", "PL99", "ARK-LXI-1", "plant_id"),
    ],
)
def test_build_world_names_table_record_and_field(
    table: str, row: int, column: str, value: Any, key: str, field: str
) -> None:
    master = with_cell(good_master(), table, row, column, value)
    with pytest.raises(MasterDataError) as caught:
        build_world(master, ROAD_FACTOR)
    error = caught.value
    assert (error.table, error.key, error.field) == (table, key, field)
    message = str(error)
    assert message.startswith(f"{table}[{key!r}].{field}=")


def test_capacity_zero_carrier_error_carries_the_value() -> None:
    master = with_cell(good_master(), "carriers", 0, "capacity_per_load", 0)
    with pytest.raises(MasterDataError, match=r"carriers\['CR01'\]\.capacity_per_load=0"):
        build_world(master, ROAD_FACTOR)


def test_unknown_parts_dc_error_carries_the_value() -> None:
    master = with_cell(good_master(), "dealers", 1, "parts_dc_id", "DC99")
    with pytest.raises(MasterDataError, match=r"dealers\['D2'\]\.parts_dc_id='DC99'"):
        build_world(master, ROAD_FACTOR)


def test_missing_column_names_table_and_column(tmp_path) -> None:  # type: ignore[no-untyped-def]
    master = good_master()
    master.write(tmp_path)
    dealers = master.dealers.drop(columns=["parts_dc_id"])
    dealers.to_csv(tmp_path / "dealers.csv", index=False)
    with pytest.raises(MasterDataError) as caught:
        MasterData.read(tmp_path)
    assert (caught.value.table, caught.value.field) == ("dealers", "parts_dc_id")


def test_missing_table_file_is_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    good_master().write(tmp_path)
    (tmp_path / "carriers.csv").unlink()
    with pytest.raises(MasterDataError, match="carriers"):
        MasterData.read(tmp_path)


@pytest.mark.parametrize("column", ["parts_activity", "vehicle_activity"])
def test_negative_dealer_activity_is_a_master_data_error(column: str) -> None:
    master = with_cell(good_master(), "dealers", 0, column, -1.0)
    with pytest.raises(MasterDataError) as caught:
        build_world(master, ROAD_FACTOR)
    assert (caught.value.table, caught.value.key, caught.value.field) == ("dealers", "D1", column)


def test_plant_wmi_outside_the_vin_alphabet_is_a_master_data_error() -> None:
    master = with_cell(good_master(), "plants", 0, "wmi", "MIL")
    with pytest.raises(MasterDataError) as caught:
        build_world(master, ROAD_FACTOR)
    assert (caught.value.table, caught.value.key, caught.value.field) == ("plants", "PL01", "wmi")


@pytest.mark.parametrize(("table", "id_column"), [("carriers", "carrier_id"), ("parts_dcs", "site_id")])
def test_duplicate_ids_are_rejected(table: str, id_column: str) -> None:
    master = good_master()
    frame = getattr(master, table)
    duplicated = pd.concat([frame, frame.iloc[[0]]], ignore_index=True)
    with pytest.raises(MasterDataError) as caught:
        build_world(dataclasses.replace(master, **{table: duplicated}), ROAD_FACTOR)
    assert (caught.value.table, caught.value.field) == (table, id_column)
