"""Master data tables at the edge: read and write the CSV/Parquet files a user can replace with their own.

Tables (one file each, ``<table>.csv`` or ``<table>.parquet``):
dealers, parts_dcs, plants, stockyards, carriers, parts_catalog, vehicle_specs, region_model_mix.
Each has required columns; ``parts_catalog`` may also carry ``part_number``, ``category`` and ``fits_models``
(``OPTIONAL_COLUMNS``).

Reading checks what a file can get wrong before a value is used: a table found as both ``.csv`` and ``.parquet``
is refused naming both files (a ``.parquet`` is not rewritten when the ``.csv`` beside it is edited, so which one
is meant cannot be told; keep one); a CSV must be UTF-8 text (a byte-order mark is fine) without NUL bytes, with
a header and as many fields in every row as in the header; a Parquet file must be one. ``MasterData.check_records``
(run by ``build_world``) then checks every record against the rules declared here: ids present, unique and free
of control characters; every number finite, in range and whole where it counts things; every table but
``region_model_mix`` non-empty. Errors name the table, the record's id (``row N``, counting from the first record
after the header, when the id itself is bad), the field and the value as given.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
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


#: columns a table may carry or leave out (a user's own catalog without them still loads); when left out or
#: blank, a SKU's ``part_number`` is its sku_id, its ``category`` its part class's default family and its
#: ``fits_models`` empty (it fits any vehicle)
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {"parts_catalog": ("part_number", "category", "fits_models")}


#: the column that names each table's records (a region_model_mix row is named by its row number)
ID_COLUMNS: dict[str, str | None] = {
    "dealers": "dealer_id",
    "parts_dcs": "site_id",
    "plants": "site_id",
    "stockyards": "site_id",
    "carriers": "carrier_id",
    "parts_catalog": "sku_id",
    "vehicle_specs": "spec_id",
    "region_model_mix": None,
}


@dataclass(frozen=True)
class NumberRule:
    """The range of a numeric column: at least ``minimum`` (above it when ``above``), at most ``maximum``,
    a whole number when ``whole`` (it counts something); always finite."""

    minimum: float = 0.0
    above: bool = False
    maximum: float = math.inf
    whole: bool = False

    def reason(self, value: float) -> str | None:
        """Why ``value`` breaks the rule, or None."""
        if not math.isfinite(value):
            return "must be a finite number"
        if value < self.minimum or (self.above and value == self.minimum):
            return f"must be {'>' if self.above else '>='} {self.minimum:g}"
        if value > self.maximum:
            return f"must be <= {self.maximum:g}"
        if self.whole and value != math.floor(value):
            return "must be a whole number"
        return None


POSITIVE_COUNT = NumberRule(above=True, whole=True)
COORDINATES = {"latitude": NumberRule(-90.0, maximum=90.0), "longitude": NumberRule(-180.0, maximum=180.0)}
#: every numeric column and its range (a column not listed here is text)
NUMBER_COLUMNS: dict[str, dict[str, NumberRule]] = {
    "dealers": {
        **COORDINATES,
        "capacity_vehicles": POSITIVE_COUNT,
        "parts_activity": NumberRule(),
        "vehicle_activity": NumberRule(),
    },
    "parts_dcs": COORDINATES,
    "plants": COORDINATES,
    "stockyards": COORDINATES,
    "carriers": {
        "rate_per_km_inr": NumberRule(),
        "minimum_charge_inr": NumberRule(),
        "capacity_per_load": POSITIVE_COUNT,
        "speed_km_per_day": NumberRule(above=True),
        "fleet_size": POSITIVE_COUNT,
    },
    "parts_catalog": {"unit_cost_inr": NumberRule(above=True), "demand_weight": NumberRule()},
    "vehicle_specs": {"price_inr": NumberRule(above=True), "popularity": NumberRule()},
    "region_model_mix": {"weight": NumberRule()},
}
#: text columns that may be left empty (no name, no options, no successor SKU)
OPTIONAL_TEXT = frozenset(
    {"name", "description", "options", "superseded_by", "pincode", "part_number", "category", "fits_models"}
)
#: tables that may have no records (no mix: every model weighs 1 in every region)
MAY_BE_EMPTY = frozenset({"region_model_mix"})
#: text columns read as text from a CSV (ids with leading zeros or digits only stay as written)
TEXT_COLUMNS = (
    "dealer_id",
    "pincode",
    "site_id",
    "sku_id",
    "spec_id",
    "superseded_by",
    "plant_code",
    "part_number",
    "description",
    "category",
    "fits_models",
)
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")


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

    def check_records(self) -> None:
        """Every record against the rules above; the first break raises ``MasterDataError``."""
        for table in fields(self):
            frame: pd.DataFrame = getattr(self, table.name)
            _check_table(table.name, frame)

    @classmethod
    def read(cls, folder: str | Path) -> MasterData:
        source = Path(folder)
        if not source.is_dir():
            raise MasterDataError("master_data", None, "master_data_dir", str(folder), "is not a folder")
        tables: dict[str, pd.DataFrame] = {}
        for table in fields(cls):
            parquet, csv_path = source / f"{table.name}.parquet", source / f"{table.name}.csv"
            if parquet.exists() and csv_path.exists():
                raise MasterDataError(
                    table.name,
                    None,
                    "file",
                    str(parquet),
                    f"and {csv_path} are both there: a .parquet is not rewritten when the .csv is edited, so "
                    "which one is meant cannot be told; remove the one that is out of date",
                )
            if parquet.exists():
                tables[table.name] = _read_parquet(table.name, parquet)
            elif csv_path.exists():
                tables[table.name] = _read_csv(table.name, csv_path)
            else:
                raise MasterDataError(table.name, None, "file", str(csv_path), "missing (.csv or .parquet)")
        master = cls(**tables)
        master.check_columns()
        return master


def _read_parquet(table: str, path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError, NotImplementedError) as error:  # pyarrow's ArrowInvalid is a ValueError
        raise MasterDataError(
            table, None, "file", str(path), f"is not a readable Parquet file ({error})"
        ) from None


def _read_csv(table: str, path: Path) -> pd.DataFrame:
    """A UTF-8 CSV with a header and the same number of fields in every row (pandas would silently truncate
    a value at a NUL byte and turn a row with one field too many into a shifted, indexed row)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise MasterDataError(
            table,
            None,
            "file",
            str(path),
            f"is not UTF-8 text (byte 0x{raw[error.start]:02x} on line {line}); save it as CSV UTF-8",
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise MasterDataError(
            table, None, "file", str(path), f"has a NUL byte on line {line} (a binary file, or not a CSV?)"
        )
    records = [record for record in csv.reader(io.StringIO(text)) if record]
    if not text.strip() or not records:
        raise MasterDataError(
            table,
            None,
            "file",
            str(path),
            f"is empty: it needs a header row {','.join(REQUIRED_COLUMNS[table])}",
        )
    header = records[0]
    repeated = [name for position, name in enumerate(header) if name in header[:position]]
    if repeated:
        raise MasterDataError(table, None, "header", repeated[0], f"names the column twice ({path})")
    for number, record in enumerate(records[1:], start=1):
        if len(record) != len(header):
            raise MasterDataError(
                table,
                number,
                "fields",
                len(record),
                f"the header of {path.name} has {len(header)} (a comma inside a value needs quotes)",
            )
    present = {name: str for name in TEXT_COLUMNS if name in header}
    # round_trip: floats read back bit for bit (the default parser can be one ulp off)
    try:
        return pd.read_csv(
            io.StringIO(text),
            dtype=present,
            keep_default_na=False,
            float_precision="round_trip",
            index_col=False,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as error:
        raise MasterDataError(table, None, "file", str(path), f"cannot be read as CSV ({error})") from None


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (so an error shows ``0.5``, not ``np.float64(0.5)``)."""
    return value.item() if isinstance(value, np.generic) else value


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _check_table(table: str, frame: pd.DataFrame) -> None:
    if len(frame) == 0 and table not in MAY_BE_EMPTY:
        raise MasterDataError(
            table, None, "rows", 0, "the table has no records (a header alone is not enough)"
        )
    id_column = ID_COLUMNS[table]
    if id_column is None:
        keys: list[Any] = list(range(1, len(frame) + 1))
    else:
        keys = _check_ids(table, frame[id_column], id_column)
    numbers = NUMBER_COLUMNS[table]
    present_optional = [column for column in OPTIONAL_COLUMNS.get(table, ()) if column in frame.columns]
    for column in (*REQUIRED_COLUMNS[table], *present_optional):
        if column == id_column:
            continue
        if column in numbers:
            _check_numbers(table, frame[column], column, numbers[column], keys)
        else:
            _check_text(table, frame[column], column, keys)
    if table == "region_model_mix":
        first_row: dict[tuple[str, str], int] = {}
        for row, pair in enumerate(
            zip(frame["region"].astype(str), frame["model"].astype(str), strict=True), 1
        ):
            if pair in first_row:
                raise MasterDataError(
                    table,
                    row,
                    "model",
                    pair[1],
                    f"region {pair[0]!r} already has a weight for it in row {first_row[pair]}",
                )
            first_row[pair] = row


def _check_ids(table: str, column: pd.Series, name: str) -> list[Any]:
    """The records' ids, each present, printable, without surrounding spaces and used once."""
    first_row: dict[str, int] = {}
    for row, value in enumerate(column.tolist(), start=1):
        given = _plain(value)
        text = "" if _is_missing(given) else str(given)
        if not text.strip():
            raise MasterDataError(table, row, name, given, "an id must not be empty")
        control = CONTROL_CHARACTER.search(text)
        if control:
            raise MasterDataError(table, row, name, given, f"has the control character {control.group()!r}")
        if text != text.strip():
            raise MasterDataError(table, row, name, given, "has spaces around it")
        if text in first_row:
            raise MasterDataError(
                table, text, name, given, f"is used by rows {first_row[text]} and {row}: ids must be unique"
            )
        first_row[text] = row
    return list(first_row)


def _check_text(table: str, column: pd.Series, name: str, keys: list[Any]) -> None:
    for key, value in zip(keys, column.tolist(), strict=True):
        given = _plain(value)
        text = "" if _is_missing(given) else str(given)
        if not text.strip() and name not in OPTIONAL_TEXT:
            raise MasterDataError(table, key, name, given, "must not be empty")
        control = CONTROL_CHARACTER.search(text)
        if control:
            raise MasterDataError(table, key, name, given, f"has the control character {control.group()!r}")


def _check_numbers(table: str, column: pd.Series, name: str, rule: NumberRule, keys: list[Any]) -> None:
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values) | (values < rule.minimum) | (values > rule.maximum)
    if rule.above:
        bad |= values == rule.minimum
    if rule.whole:
        bad |= values != np.floor(values)
    if not bad.any():
        return
    row = int(np.flatnonzero(bad)[0])
    given = _plain(column.iloc[row])
    try:
        number = float(given)
    except (TypeError, ValueError):
        raise MasterDataError(table, keys[row], name, given, "must be a number") from None
    reason = rule.reason(number) if not isinstance(given, bool) else "must be a number"
    raise MasterDataError(table, keys[row], name, given, reason or "must be a number")
