"""The generated parts catalog reads like a dealer's parts counter (descriptions, families, fitments, OEM part
numbers), names change no simulated number, and a user's catalog without the new columns still loads."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twin.config import NetworkConfig
from twin.domain.masterdata import MasterData
from twin.domain.network_generator import generate_master_data
from twin.domain.parts import PART_CLASS_NAMES, PART_CLASSES
from twin.domain.parts_vocabulary import TEMPLATES
from twin.domain.world import World, build_world
from twin.errors import MasterDataError

SMALL = NetworkConfig(dealers=20, stockyards=2, skus=500)
NAME_COLUMNS = ("part_number", "description", "category", "fits_models")


@pytest.fixture(scope="module")
def master() -> MasterData:
    return generate_master_data(SMALL)


@pytest.fixture(scope="module")
def catalog(master: MasterData) -> pd.DataFrame:
    return master.parts_catalog


@pytest.fixture(scope="module")
def world(master: MasterData) -> World:
    return build_world(master, SMALL.road_factor)


def test_every_sku_has_a_description_a_dealer_would_type_and_every_family_is_there(
    catalog: pd.DataFrame,
) -> None:
    assert catalog["description"].str.len().min() > 3
    assert not catalog["description"].str.contains("#|_|mover|spare", regex=True).any()
    assert set(TEMPLATES) == set(PART_CLASS_NAMES)
    for part_class, templates in TEMPLATES.items():
        families = set(catalog.loc[catalog["part_class"] == part_class, "category"])
        assert families == {template.category for template in templates}, part_class


def test_model_specific_parts_name_the_models_they_fit_and_those_exist(
    catalog: pd.DataFrame, master: MasterData
) -> None:
    models = set(master.vehicle_specs["model"])
    fits = catalog["fits_models"].str.split(";")
    specific = catalog["fits_models"] != ""
    assert (
        specific.mean() > 0.7 and (~specific).sum() > 20
    )  # mostly model parts, some universal oils and bulbs
    for description, category, fitted in zip(catalog["description"], catalog["category"], fits, strict=True):
        named = {model for model in models if re.search(rf"\b{model}\b", description)}
        if fitted == [""]:
            assert not named, description  # a universal part names no model
        elif category in ("tyre", "battery"):
            assert set(fitted) <= models and not named, description  # fitted by size, not named
        else:
            assert set(fitted) == named, description
    assert "Brake pad set front Arka/Bolt" in set(catalog["description"])  # sister models share brake pads


def test_engines_match_the_models_variants(catalog: pd.DataFrame, master: MasterData) -> None:
    variants = master.vehicle_specs.groupby("model")["variant"].apply(" ".join)
    for description, fits in zip(catalog["description"], catalog["fits_models"], strict=True):
        if re.match(r"Glow plug|Turbocharger|EGR valve|Intercooler|Fuel filter|Timing belt", description):
            assert description.endswith(" diesel"), description
        if re.match(r"Spark plug|Oxygen sensor|Ignition coil|Throttle body|Fuel pump", description):
            assert not description.endswith(" diesel"), description
        if description.endswith(" diesel") and fits and ";" not in fits:
            assert re.search(r"Di\b", variants[fits]), f"{description}: {fits} has no diesel variant"


def test_current_parts_are_told_apart_by_description(catalog: pd.DataFrame) -> None:
    current = catalog[catalog["superseded_by"] == ""]
    repeated = current.loc[current["description"].duplicated(keep=False), "description"]
    assert repeated.empty, sorted(set(repeated))[:5]


def test_a_superseded_part_keeps_its_successors_description_and_the_next_number(
    catalog: pd.DataFrame,
) -> None:
    by_sku = catalog.set_index("sku_id")
    superseded = catalog[catalog["superseded_by"] != ""]
    assert len(superseded) >= 2
    for _, old in superseded.iterrows():
        new = by_sku.loc[old["superseded_by"]]
        for column in ("description", "category", "fits_models", "part_class"):
            assert old[column] == new[column], column
        # 16510M68K00 -> 16510M68K10: the same part, the revision digit (second from last) one up
        assert old["part_number"][:-2] == new["part_number"][:-2]
        assert old["part_number"][-1] == new["part_number"][-1]
        assert int(new["part_number"][-2]) == int(old["part_number"][-2]) + 1


def test_part_numbers_are_oem_style_unique_and_stable_per_seed(catalog: pd.DataFrame) -> None:
    assert catalog["part_number"].is_unique
    assert catalog["part_number"].str.fullmatch(r"\d{5}[0-9A-Z]{3}[A-Z]+\d\d").all()
    assert catalog["sku_id"].str.fullmatch(r"P\d{6}").all()  # the SKU id (snapshots, feeds) is untouched
    again = generate_master_data(dataclasses.replace(SMALL)).parts_catalog
    pd.testing.assert_frame_equal(again, catalog, check_exact=True)
    other = generate_master_data(dataclasses.replace(SMALL, generator_seed=SMALL.generator_seed + 1))
    assert (other.parts_catalog["description"] != catalog["description"]).mean() > 0.5


def _draws_digest(master: MasterData) -> str:
    digest = hashlib.sha256()
    for table in dataclasses.fields(MasterData):
        frame: pd.DataFrame = getattr(master, table.name)
        frame = frame.drop(columns=[column for column in NAME_COLUMNS if column in frame.columns])
        digest.update(frame.to_csv(index=False).encode())
    return digest.hexdigest()[:16]


def test_naming_leaves_every_generator_draw_and_so_every_kpi_as_it_was(master: MasterData) -> None:
    """The digest of every table without the name columns, taken from the generator before the catalog had
    names: classes, costs, popularity, supersessions, dealers and specs are drawn exactly as before."""
    assert _draws_digest(master) == "1bd3a02d4bcc9601"


def test_the_world_carries_the_names_for_lookups(world: World, catalog: pd.DataFrame) -> None:
    parts = world.parts
    np.testing.assert_array_equal(parts.part_number, catalog["part_number"].to_numpy(dtype=str))
    np.testing.assert_array_equal(parts.description, catalog["description"].to_numpy(dtype=str))
    np.testing.assert_array_equal(parts.category, catalog["category"].to_numpy(dtype=str))
    brake_pads = int(np.flatnonzero(parts.description == "Brake pad set front Arka/Bolt")[0])
    assert parts.models_fitted(brake_pads) == ("Arka", "Bolt")
    oil = int(np.flatnonzero(np.char.startswith(parts.description, "Engine oil"))[0])
    assert parts.models_fitted(oil) == ()


def test_a_catalog_without_the_new_columns_loads_with_defaults(
    master: MasterData, world: World, tmp_path: Path
) -> None:
    plain = dataclasses.replace(
        master, parts_catalog=master.parts_catalog.drop(columns=["part_number", "category", "fits_models"])
    )
    read_back = MasterData.read(plain.write(tmp_path, "csv"))
    bare = build_world(read_back, SMALL.road_factor)
    parts = bare.parts
    np.testing.assert_array_equal(parts.part_number, parts.sku_id)
    np.testing.assert_array_equal(
        parts.category, [PART_CLASSES[index].default_category for index in parts.part_class]
    )
    assert set(parts.fits_models) == {""}
    for field in ("sku_id", "part_class", "unit_cost_inr", "superseded_by", "description"):
        np.testing.assert_array_equal(getattr(parts, field), getattr(world.parts, field))
    np.testing.assert_array_equal(bare.sku_demand_weight, world.sku_demand_weight)


def _catalog_world(master: MasterData, **changes: list[str]) -> World:
    frame = master.parts_catalog.copy()
    for column, values in changes.items():
        frame.loc[: len(values) - 1, column] = values
    return build_world(dataclasses.replace(master, parts_catalog=frame), SMALL.road_factor)


def test_blank_names_take_defaults_and_fits_are_tidied(master: MasterData) -> None:
    world = _catalog_world(
        master, part_number=["", " "], category=["", "Filter "], fits_models=[" Arka ; Bolt ;", ""]
    )
    sku = str(master.parts_catalog["sku_id"].iloc[0])
    assert world.parts.part_number[0] == sku
    assert world.parts.category[0] == "service_part" and world.parts.category[1] == "Filter"
    assert world.parts.fits_models[0] == "Arka;Bolt" and world.parts.models_fitted(0) == ("Arka", "Bolt")


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        (
            {"part_number": ["16510M68K00", "16510M68K00"]},
            "part_number",
            "already the part number of SKU P000001",
        ),
        ({"category": ["filter\x07"]}, "category", "control character"),
        ({"fits_models": ["Arka\nBolt"]}, "fits_models", "control character"),
    ],
)
def test_bad_catalog_names_are_refused_naming_the_field(
    master: MasterData, changes: dict[str, list[str]], field: str, reason: str
) -> None:
    with pytest.raises(MasterDataError) as refused:
        _catalog_world(master, **changes)
    assert refused.value.table == "parts_catalog" and refused.value.field == field
    assert reason in refused.value.reason
