"""The generated default network has the calibrated shape, survives a CSV / Parquet round trip unchanged and is
reproducible from its generator seed."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from twin.config import NetworkConfig, OperationsConfig
from twin.domain.masterdata import MasterData
from twin.domain.network_generator import generate_master_data
from twin.domain.parts import PART_CLASS_NAMES
from twin.domain.world import World, build_world


@pytest.fixture(scope="module")
def default_master() -> MasterData:
    return generate_master_data(NetworkConfig(dealers=400))


@pytest.fixture(scope="module")
def default_world(default_master: MasterData) -> World:
    return build_world(default_master, NetworkConfig().road_factor)


def test_default_network_has_the_calibrated_shape(default_master: MasterData, default_world: World) -> None:
    master = default_master
    assert len(master.dealers) == 400
    assert master.dealers["dealer_id"].is_unique
    assert master.dealers["region"].nunique() >= 4
    assert len(master.parts_dcs) >= 2
    assert len(master.carriers) >= 3
    assert set(master.carriers["mode"]) == {"parts", "vehicles"}
    assert 6 <= master.vehicle_specs["model"].nunique() <= 8
    assert len(master.parts_catalog) >= 2000
    assert set(master.parts_catalog["part_class"]) == set(PART_CLASS_NAMES)
    # 6-8 models x 8-20 variants x 6-8 colours: hundreds of sellable specs (CALIBRATION.md)
    assert 300 <= len(master.vehicle_specs) <= 1000
    # activities are relative (mean 1), and every dealer is wired to a DC and a yard that exist
    assert master.dealers["vehicle_activity"].mean() == pytest.approx(1.0, abs=0.01)
    assert set(master.dealers["parts_dc_id"]) <= set(master.parts_dcs["site_id"])
    assert set(master.dealers["stockyard_id"]) <= set(master.stockyards["site_id"])
    world = default_world
    assert world.dealer_count == 400
    assert np.all(np.isclose(world.region_spec_preference.sum(axis=1), 1.0))


def test_default_dealers_are_at_most_four_days_from_their_parts_dc(default_world: World) -> None:
    network = default_world.network
    lead_days = (
        OperationsConfig().dc_dispatch_delay_days
        + network.dc_to_dealer_km() / network.carriers.speed_km_per_day[network.parts_carrier]
    )
    assert lead_days.max() <= 4.0


def assert_same(left: Any, right: Any, path: str = "world") -> None:
    """Recursive equality of dataclasses of numpy arrays, tuples and scalars (values, not dtypes' width)."""
    if dataclasses.is_dataclass(left):
        for field in dataclasses.fields(left):
            assert_same(getattr(left, field.name), getattr(right, field.name), f"{path}.{field.name}")
    elif isinstance(left, np.ndarray):
        assert isinstance(right, np.ndarray), path
        assert left.shape == right.shape, path
        assert left.dtype.kind == right.dtype.kind or {left.dtype.kind, right.dtype.kind} <= {
            "U",
            "O",
            "T",
        }, path
        np.testing.assert_array_equal(left, right, err_msg=path, strict=False)
    else:
        assert left == right, path


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_written_master_data_reads_back_to_the_same_world(
    default_master: MasterData, default_world: World, tmp_path: Path, file_format: str
) -> None:
    folder = default_master.write(tmp_path / file_format, file_format)
    files = sorted(path.name for path in folder.iterdir())
    assert files == sorted(f"{field.name}.{file_format}" for field in dataclasses.fields(MasterData))
    read_back = MasterData.read(folder)
    assert_same(default_world, build_world(read_back, NetworkConfig().road_factor))
    # identifiers with leading zeros / digits stay text
    assert read_back.dealers["pincode"].tolist() == default_master.dealers["pincode"].tolist()


def test_same_generator_seed_gives_identical_tables() -> None:
    config = NetworkConfig(dealers=60, skus=400, generator_seed=77)
    first, second = generate_master_data(config), generate_master_data(dataclasses.replace(config))
    for field in dataclasses.fields(MasterData):
        pd.testing.assert_frame_equal(
            getattr(first, field.name), getattr(second, field.name), check_exact=True
        )
    other = generate_master_data(dataclasses.replace(config, generator_seed=78))
    assert not other.dealers["latitude"].equals(first.dealers["latitude"])
    assert not other.parts_catalog["unit_cost_inr"].equals(first.parts_catalog["unit_cost_inr"])


def test_supersession_rolls_demand_up_to_the_newest_number(
    default_master: MasterData, default_world: World
) -> None:
    catalog = default_master.parts_catalog
    superseded = catalog["superseded_by"] != ""
    assert superseded.any(), "the generator should supersede ~1% of SKUs"
    # old numbers carry no demand of their own in the world; the total demand weight is unchanged
    newest = default_world.parts.newest()
    old = np.flatnonzero(newest != np.arange(len(catalog)))
    assert old.size == superseded.sum()
    np.testing.assert_array_equal(default_world.sku_demand_weight[old], 0.0)
    assert default_world.sku_demand_weight.sum() == pytest.approx(catalog["demand_weight"].sum())
