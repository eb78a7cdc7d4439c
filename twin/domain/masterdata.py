"""Master data tables at the edge: read and write the CSV/Parquet files a user can replace with their own.

Tables (one file each, ``.parquet`` preferred over ``.csv`` when both exist):
dealers, parts_dcs, plants, stockyards, carriers, parts_catalog, vehicle_specs, region_model_mix.
Every table is checked for its required columns here, so a wrong file fails naming the file and column.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import pandas as pd

from twin.errors import MasterDataError

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "dealers": (
        "dealer_id",
        "name",
        "region",
        "pincode",
        "latitude",
        "longitude",
        "capacity_vehicles",
        "parts_dc_id",
        "stockyard_id",
        "parts_carrier_id",
        "vehicle_carrier_id",
        "parts_activity",
        "vehicle_activity",
    ),
    "parts_dcs": ("site_id", "name", "region", "latitude", "longitude"),
    "plants": ("site_id", "name", "region", "latitude", "longitude", "wmi", "plant_code"),
    "stockyards": ("site_id", "name", "region", "latitude", "longitude", "plant_id"),
    "carriers": (
        "carrier_id",
        "name",
        "mode",
        "rate_per_km_inr",
        "minimum_charge_inr",
        "capacity_per_load",
        "speed_km_per_day",
        "fleet_size",
    ),
    "parts_catalog": (
        "sku_id",
        "description",
        "part_class",
        "unit_cost_inr",
        "superseded_by",
        "demand_weight",
    ),
    "vehicle_specs": (
        "spec_id",
        "model",
        "variant",
        "colour",
        "options",
        "price_inr",
        "popularity",
        "plant_id",
    ),
    "region_model_mix": ("region", "model", "weight"),
}


@dataclass
class MasterData:
    dealers: pd.DataFrame
    parts_dcs: pd.DataFrame
    plants: pd.DataFrame
    stockyards: pd.DataFrame
    carriers: pd.DataFrame
    parts_catalog: pd.DataFrame
    vehicle_specs: pd.DataFrame
    region_model_mix: pd.DataFrame

    def check_columns(self) -> None:
        for table in fields(self):
            frame: pd.DataFrame = getattr(self, table.name)
            missing = [column for column in REQUIRED_COLUMNS[table.name] if column not in frame.columns]
            if missing:
                raise MasterDataError(
                    table.name,
                    None,
                    missing[0],
                    None,
                    f"required column missing (needs {list(REQUIRED_COLUMNS[table.name])})",
                )

    def write(self, folder: str | Path, file_format: str = "csv") -> Path:
        """Write every table as ``<table>.<format>``; returns the folder."""
        if file_format not in ("csv", "parquet"):
            raise MasterDataError("master_data", None, "format", file_format, "must be 'csv' or 'parquet'")
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        for table in fields(self):
            frame: pd.DataFrame = getattr(self, table.name)
            path = target / f"{table.name}.{file_format}"
            if file_format == "csv":
                frame.to_csv(path, index=False)
            else:
                frame.to_parquet(path, index=False)
        return target

    @classmethod
    def read(cls, folder: str | Path) -> MasterData:
        source = Path(folder)
        if not source.is_dir():
            raise MasterDataError("master_data", None, "master_data_dir", str(folder), "is not a folder")
        tables: dict[str, pd.DataFrame] = {}
        for table in fields(cls):
            parquet, csv = source / f"{table.name}.parquet", source / f"{table.name}.csv"
            if parquet.exists():
                tables[table.name] = pd.read_parquet(parquet)
            elif csv.exists():
                text_columns = {
                    name: str
                    for name in (
                        "dealer_id",
                        "pincode",
                        "site_id",
                        "sku_id",
                        "spec_id",
                        "superseded_by",
                        "plant_code",
                    )
                }
                # round_trip: floats read back bit for bit (the default parser can be one ulp off)
                tables[table.name] = pd.read_csv(
                    csv, dtype=text_columns, keep_default_na=False, float_precision="round_trip"
                )
            else:
                raise MasterDataError(table.name, None, "file", str(csv), "missing (.csv or .parquet)")
        master = cls(**tables)
        master.check_columns()
        return master
