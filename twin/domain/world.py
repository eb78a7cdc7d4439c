"""The static world a run plays in: network, parts catalog, spec catalog and demand profiles, as arrays.

Built from master-data tables (generated or the user's own). Building checks every reference (a dealer's
DC, yard and carriers; a spec's plant; a SKU's successor) and raises ``MasterDataError`` naming the record.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from twin.domain.masterdata import MasterData
from twin.domain.network import Carriers, Dealers, Network, Sites
from twin.domain.parts import FITS_SEPARATOR, PART_CLASS_NAMES, PART_CLASSES, PartsCatalog
from twin.domain.vehicles import SpecCatalog
from twin.domain.vin import VIN_ALPHABET
from twin.errors import MasterDataError


@dataclass(frozen=True)
class World:
    network: Network
    parts: PartsCatalog
    specs: SpecCatalog
    region_names: tuple[str, ...]
    #: region index per dealer
    dealer_region: npt.NDArray[np.int64]
    #: relative parts and vehicle demand per dealer (mean 1)
    dealer_parts_activity: npt.NDArray[np.float64]
    dealer_vehicle_activity: npt.NDArray[np.float64]
    #: expected lines per average dealer per day per SKU (after supersession roll-up)
    sku_demand_weight: npt.NDArray[np.float64]
    #: P(spec | region) for a vehicle customer, shape [region, spec]
    region_spec_preference: npt.NDArray[np.float64]

    @property
    def dealer_count(self) -> int:
        return self.network.dealer_count


def _index_of(
    table: str, keys: pd.Series, reference: npt.NDArray[np.str_], column: str, owners: pd.Series
) -> npt.NDArray[np.int64]:
    lookup = {str(key): position for position, key in enumerate(reference)}
    result = np.empty(len(keys), dtype=np.int64)
    for row, (owner, key) in enumerate(zip(owners, keys, strict=True)):
        position = lookup.get(str(key))
        if position is None:
            known = sorted(lookup)
            raise MasterDataError(
                table,
                str(owner),
                column,
                key,
                f"refers to an unknown id (known: {known[:8]}{' ...' if len(known) > 8 else ''})",
            )
        result[row] = position
    return result


def _numeric(table: str, frame: pd.DataFrame, column: str, key_column: str) -> npt.NDArray[np.float64]:
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        row = int(bad[0])
        raise MasterDataError(
            table, str(frame[key_column].iloc[row]), column, frame[column].iloc[row], "must be a number"
        )
    return values


def _unique_ids(table: str, frame: pd.DataFrame, column: str) -> None:
    duplicated = frame[column].astype(str)
    repeats = duplicated[duplicated.duplicated()]
    if len(repeats):
        raise MasterDataError(table, repeats.iloc[0], column, repeats.iloc[0], "ids must be unique")


def _non_negative(table: str, frame: pd.DataFrame, column: str, key_column: str) -> npt.NDArray[np.float64]:
    values = _numeric(table, frame, column, key_column)
    negative = np.flatnonzero(values < 0)
    if negative.size:
        row = int(negative[0])
        raise MasterDataError(
            table, str(frame[key_column].iloc[row]), column, float(values[row]), "must be >= 0"
        )
    return values


def _sites(
    table: str,
    frame: pd.DataFrame,
    code: pd.Series | None = None,
    feeder: npt.NDArray[np.int64] | None = None,
) -> Sites:
    return Sites(
        site_id=frame["site_id"].astype(str).to_numpy(),
        name=frame["name"].astype(str).to_numpy(),
        region=frame["region"].astype(str).to_numpy(),
        latitude=_numeric(table, frame, "latitude", "site_id"),
        longitude=_numeric(table, frame, "longitude", "site_id"),
        code=(code if code is not None else pd.Series([""] * len(frame))).astype(str).to_numpy(),
        feeder=feeder if feeder is not None else np.full(len(frame), -1, dtype=np.int64),
    )


def build_world(master: MasterData, road_factor: float) -> World:
    master.check_columns()
    master.check_records()
    for table, column in (
        ("parts_dcs", "site_id"),
        ("plants", "site_id"),
        ("stockyards", "site_id"),
        ("carriers", "carrier_id"),
    ):
        _unique_ids(table, getattr(master, table), column)
    dealers_frame = master.dealers
    parts_dcs = _sites("parts_dcs", master.parts_dcs)
    plants_frame = master.plants
    plants = _sites(
        "plants", plants_frame, code=plants_frame["wmi"].astype(str) + plants_frame["plant_code"].astype(str)
    )
    for row, wmi in enumerate(plants_frame["wmi"].astype(str)):
        plant_code = str(plants_frame["plant_code"].iloc[row])
        outside = [character for character in wmi + plant_code if character.upper() not in VIN_ALPHABET]
        if outside:
            raise MasterDataError(
                "plants",
                str(plants_frame["site_id"].iloc[row]),
                "wmi",
                wmi,
                f"{outside[0]!r} is not in the VIN alphabet (no I, O, Q)",
            )
        if len(wmi) != 3 or len(plant_code) != 1:
            raise MasterDataError(
                "plants",
                str(plants_frame["site_id"].iloc[row]),
                "wmi" if len(wmi) != 3 else "plant_code",
                wmi if len(wmi) != 3 else plant_code,
                "needs a 3-character WMI and 1-character plant code",
            )
    yard_frame = master.stockyards
    stockyards = _sites(
        "stockyards",
        yard_frame,
        feeder=_index_of(
            "stockyards", yard_frame["plant_id"], plants.site_id, "plant_id", yard_frame["site_id"]
        ),
    )
    carrier_frame = master.carriers
    modes = carrier_frame["mode"].astype(str)
    unknown_mode = modes[~modes.isin(["parts", "vehicles"])]
    if len(unknown_mode):
        row = unknown_mode.index[0]
        raise MasterDataError(
            "carriers",
            str(carrier_frame["carrier_id"].loc[row]),
            "mode",
            unknown_mode.iloc[0],
            "must be 'parts' or 'vehicles'",
        )
    carriers = Carriers(
        carrier_id=carrier_frame["carrier_id"].astype(str).to_numpy(),
        name=carrier_frame["name"].astype(str).to_numpy(),
        mode=modes.to_numpy(),
        rate_per_km_inr=_numeric("carriers", carrier_frame, "rate_per_km_inr", "carrier_id"),
        minimum_charge_inr=_numeric("carriers", carrier_frame, "minimum_charge_inr", "carrier_id"),
        capacity_per_load=_numeric("carriers", carrier_frame, "capacity_per_load", "carrier_id").astype(
            np.int64
        ),
        speed_km_per_day=_numeric("carriers", carrier_frame, "speed_km_per_day", "carrier_id"),
        fleet_size=_numeric("carriers", carrier_frame, "fleet_size", "carrier_id").astype(np.int64),
    )
    owners = dealers_frame["dealer_id"]
    dealers = Dealers(
        dealer_id=owners.astype(str).to_numpy(),
        name=dealers_frame["name"].astype(str).to_numpy(),
        region=dealers_frame["region"].astype(str).to_numpy(),
        pincode=dealers_frame["pincode"].astype(str).to_numpy(),
        latitude=_numeric("dealers", dealers_frame, "latitude", "dealer_id"),
        longitude=_numeric("dealers", dealers_frame, "longitude", "dealer_id"),
        capacity_vehicles=_numeric("dealers", dealers_frame, "capacity_vehicles", "dealer_id").astype(
            np.int64
        ),
        parts_dc=_index_of("dealers", dealers_frame["parts_dc_id"], parts_dcs.site_id, "parts_dc_id", owners),
        stockyard=_index_of(
            "dealers", dealers_frame["stockyard_id"], stockyards.site_id, "stockyard_id", owners
        ),
    )
    network = Network(
        dealers=dealers,
        parts_dcs=parts_dcs,
        plants=plants,
        stockyards=stockyards,
        carriers=carriers,
        road_factor=road_factor,
        parts_carrier=_index_of(
            "dealers", dealers_frame["parts_carrier_id"], carriers.carrier_id, "parts_carrier_id", owners
        ),
        vehicle_carrier=_index_of(
            "dealers", dealers_frame["vehicle_carrier_id"], carriers.carrier_id, "vehicle_carrier_id", owners
        ),
    )
    network.check_wiring()
    negative_capacity = np.flatnonzero(dealers.capacity_vehicles <= 0)
    if negative_capacity.size:
        row = int(negative_capacity[0])
        raise MasterDataError(
            "dealers",
            str(dealers.dealer_id[row]),
            "capacity_vehicles",
            int(dealers.capacity_vehicles[row]),
            "must be > 0",
        )

    parts = _parts_catalog(master.parts_catalog)
    weight = _numeric("parts_catalog", master.parts_catalog, "demand_weight", "sku_id")
    if np.any(weight < 0):
        row = int(np.flatnonzero(weight < 0)[0])
        raise MasterDataError(
            "parts_catalog", str(parts.sku_id[row]), "demand_weight", float(weight[row]), "must be >= 0"
        )
    rolled_up = np.zeros_like(weight)
    np.add.at(rolled_up, parts.newest(), weight)

    specs, popularity = _spec_catalog(master, plants)
    region_names = tuple(sorted(set(dealers.region.tolist())))
    dealer_region = np.searchsorted(np.array(region_names), dealers.region).astype(np.int64)
    preference = (
        popularity[None, :] * _model_weight(master.region_model_mix, region_names, specs)[:, specs.model]
    )
    unsold = np.flatnonzero(preference.sum(axis=1) <= 0)
    if unsold.size:
        raise MasterDataError(
            "region_model_mix",
            None,
            "weight",
            0.0,
            f"every model weighs 0 in region {region_names[int(unsold[0])]!r}: its dealers could sell nothing",
        )
    preference /= preference.sum(axis=1, keepdims=True)
    return World(
        network=network,
        parts=parts,
        specs=specs,
        region_names=region_names,
        dealer_region=dealer_region,
        dealer_parts_activity=_non_negative("dealers", dealers_frame, "parts_activity", "dealer_id"),
        dealer_vehicle_activity=_non_negative("dealers", dealers_frame, "vehicle_activity", "dealer_id"),
        sku_demand_weight=rolled_up,
        region_spec_preference=preference,
    )


def _model_weight(
    mix: pd.DataFrame, region_names: tuple[str, ...], specs: SpecCatalog
) -> npt.NDArray[np.float64]:
    """``[region, model]`` weights from the mix (1 where the mix says nothing); a row naming a region no
    dealer is in, or a model no spec is of, is refused: it would be ignored."""
    model_weight = np.ones((len(region_names), len(specs.model_names)))
    model_lookup = {name: index for index, name in enumerate(specs.model_names)}
    weights = pd.to_numeric(mix["weight"]).to_numpy(dtype=np.float64)  # checked by check_records
    for row, (region, model) in enumerate(
        zip(mix["region"].astype(str), mix["model"].astype(str), strict=True)
    ):
        if region not in region_names:
            raise MasterDataError(
                "region_model_mix",
                row + 1,
                "region",
                region,
                f"no dealer is in it (dealer regions: {list(region_names)})",
            )
        if model not in model_lookup:
            raise MasterDataError(
                "region_model_mix",
                row + 1,
                "model",
                model,
                f"no vehicle spec is of it (models: {list(specs.model_names)})",
            )
        model_weight[region_names.index(region), model_lookup[model]] = weights[row]
    return model_weight


def _parts_catalog(frame: pd.DataFrame) -> PartsCatalog:
    """The catalog's arrays. The optional name columns take their defaults when left out or blank;
    ``fits_models`` may name models no spec is of (dealers still stock parts of models no longer sold)."""
    sku_id = frame["sku_id"].astype(str).to_numpy()  # present and unique: MasterData.check_records
    class_lookup = {name: index for index, name in enumerate(PART_CLASS_NAMES)}
    part_class = np.empty(len(frame), dtype=np.int8)
    for row, name in enumerate(frame["part_class"].astype(str)):
        if name not in class_lookup:
            raise MasterDataError(
                "parts_catalog",
                str(sku_id[row]),
                "part_class",
                name,
                f"must be one of {list(PART_CLASS_NAMES)}",
            )
        part_class[row] = class_lookup[name]
    sku_lookup = {key: index for index, key in enumerate(sku_id)}
    superseded_by = np.full(len(frame), -1, dtype=np.int64)
    for row, successor in enumerate(frame["superseded_by"].fillna("").astype(str)):
        if successor and successor != "nan":
            if successor not in sku_lookup:
                raise MasterDataError(
                    "parts_catalog", str(sku_id[row]), "superseded_by", successor, "refers to an unknown SKU"
                )
            if successor == sku_id[row]:
                raise MasterDataError(
                    "parts_catalog",
                    str(sku_id[row]),
                    "superseded_by",
                    successor,
                    "a SKU cannot supersede itself",
                )
            superseded_by[row] = sku_lookup[successor]
    default_category = [PART_CLASSES[index].default_category for index in part_class]
    category = [
        given.strip() or default
        for given, default in zip(_optional_text(frame, "category"), default_category, strict=True)
    ]
    fits_models = [
        FITS_SEPARATOR.join(name.strip() for name in given.split(FITS_SEPARATOR) if name.strip())
        for given in _optional_text(frame, "fits_models")
    ]
    part_number = [
        given.strip() or str(sku)
        for given, sku in zip(_optional_text(frame, "part_number"), sku_id, strict=True)
    ]
    catalog = PartsCatalog(
        sku_id=sku_id,
        part_class=part_class,
        unit_cost_inr=_numeric("parts_catalog", frame, "unit_cost_inr", "sku_id"),
        superseded_by=superseded_by,
        part_number=np.array(part_number, dtype=np.str_),
        description=np.array(_optional_text(frame, "description"), dtype=np.str_),
        category=np.array(category, dtype=np.str_),
        fits_models=np.array(fits_models, dtype=np.str_),
    )
    catalog.validate()
    return catalog


def _optional_text(frame: pd.DataFrame, column: str) -> list[str]:
    """A text column that a user's table may leave out or leave blank: empty strings then."""
    if column not in frame.columns:
        return [""] * len(frame)
    return ["" if pd.isna(value) else str(value) for value in frame[column].tolist()]


def _spec_catalog(master: MasterData, plants: Sites) -> tuple[SpecCatalog, npt.NDArray[np.float64]]:
    frame = master.vehicle_specs
    model_names = tuple(dict.fromkeys(frame["model"].astype(str)))
    variant_names = tuple(dict.fromkeys(frame["variant"].astype(str)))
    colour_names = tuple(dict.fromkeys(frame["colour"].astype(str)))
    model = np.array([model_names.index(name) for name in frame["model"].astype(str)], dtype=np.int64)
    plant = _index_of("vehicle_specs", frame["plant_id"], plants.site_id, "plant_id", frame["spec_id"])
    model_plant = np.full(len(model_names), -1, dtype=np.int64)
    for row in range(len(frame)):
        if model_plant[model[row]] >= 0 and model_plant[model[row]] != plant[row]:
            raise MasterDataError(
                "vehicle_specs",
                str(frame["spec_id"].iloc[row]),
                "plant_id",
                str(frame["plant_id"].iloc[row]),
                f"model {model_names[model[row]]!r} is built at {str(plants.site_id[model_plant[model[row]]])!r} "
                "by an earlier spec: the twin builds each model at one plant",
            )
        model_plant[model[row]] = plant[row]
    specs = SpecCatalog(
        spec_id=frame["spec_id"].astype(str).to_numpy(),
        model=model,
        variant=np.array(
            [variant_names.index(name) for name in frame["variant"].astype(str)], dtype=np.int64
        ),
        colour=np.array([colour_names.index(name) for name in frame["colour"].astype(str)], dtype=np.int64),
        options=frame["options"].astype(str).to_numpy(),
        price_inr=_numeric("vehicle_specs", frame, "price_inr", "spec_id"),
        model_names=model_names,
        variant_names=variant_names,
        colour_names=colour_names,
        model_plant=model_plant,
    )
    specs.validate()
    popularity = _numeric("vehicle_specs", frame, "popularity", "spec_id")  # >= 0: check_records
    if popularity.sum() <= 0:
        raise MasterDataError(
            "vehicle_specs", None, "popularity", 0.0, "every spec weighs 0: nobody could buy a car"
        )
    return specs, popularity
