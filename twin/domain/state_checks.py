"""Validation of a loaded network state against ``STATE_SCHEMA``: shapes, dtypes, ranges and ids.

Every check raises ``SnapshotError`` naming the file, the field (with the index of the first bad value) and
the value, so a damaged or edited state is never run and never ends in a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from twin.domain.state_schema import (
    COLUMN_KINDS,
    KIND_BOUND,
    KIND_MINIMUM,
    VEHICLE_COLUMN_NAMES,
    VEHICLE_COLUMNS,
    Field,
)
from twin.domain.vehicles import SiteKind, VehicleStatus
from twin.domain.vin import validate_vin
from twin.errors import TwinError, VinError

STATE_FILE = "state.npz"
VEHICLES_FILE = "vehicles.parquet"
META_FILE = "meta.json"
DATA_FILES = (STATE_FILE, VEHICLES_FILE)


class SnapshotError(TwinError, ValueError):
    """A state folder is missing, damaged, edited or inconsistent: names the file, the field and the value."""

    def __init__(self, file: str, field: str, value: Any, reason: str) -> None:
        self.file = file
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(file, field, value, reason)

    def __str__(self) -> str:
        shown = repr(self.value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        return f"snapshot {self.file}: {self.field}={shown}: {self.reason}"


def check_meta_values(day: int, dimensions: Mapping[str, Any]) -> None:
    for name in ("dealers", "dcs", "locations", "skus", "specs", "regions", "stockyards", "days"):
        value = dimensions.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise SnapshotError(META_FILE, f"dimensions.{name}", value, "must be a positive whole number")
    if dimensions["locations"] != dimensions["dealers"] + dimensions["dcs"]:
        raise SnapshotError(
            META_FILE, "dimensions.locations", dimensions["locations"], "must be dealers + dcs"
        )
    # day == days is the end of a finished run: readable (a feed's ground truth), not continuable
    if not 0 <= day <= dimensions["days"]:
        raise SnapshotError(META_FILE, "day", day, f"must be within the horizon 0..{dimensions['days']}")


def check_field(key: str, entry: Field, value: npt.NDArray[Any], sizes: Mapping[str, int]) -> None:
    if not dtype_matches(entry.dtype, value):
        raise SnapshotError(STATE_FILE, key, str(value.dtype), f"dtype must be {entry.dtype}")
    if value.ndim != len(entry.shape):
        raise SnapshotError(
            STATE_FILE,
            f"{key}.shape",
            list(value.shape),
            f"must have {len(entry.shape)} dimensions {entry.describe_shape()}",
        )
    for axis, (size, expected) in enumerate(zip(value.shape, entry.shape, strict=True)):
        wanted = sizes[expected] if isinstance(expected, str) else expected
        if wanted is not None and size != wanted:
            label = f"{expected} = {wanted}" if isinstance(expected, str) else str(wanted)
            raise SnapshotError(STATE_FILE, f"{key}.shape[{axis}]", size, f"must be {label}")
    if entry.dtype == "float" and value.size and np.isnan(value).any():
        index = np.unravel_index(int(np.flatnonzero(np.isnan(value))[0]), value.shape)
        raise SnapshotError(STATE_FILE, f"{key}{list(map(int, index))}", float("nan"), "must be a number")
    if entry.minimum is not None and value.size and entry.dtype in ("int", "float"):
        below = value < entry.minimum
        if below.any():
            index = np.unravel_index(int(np.flatnonzero(below)[0]), value.shape)
            raise SnapshotError(
                STATE_FILE,
                f"{key}{list(map(int, index))}",
                value[index].item(),
                f"must be >= {entry.minimum:g} ({entry.unit})",
            )
    for column, (name, kind) in enumerate(entry.columns):
        check_column(f"{key}.{name}", kind, value[:, column], sizes)


def check_column(label: str, kind: str, values: npt.NDArray[Any], sizes: Mapping[str, int]) -> None:
    if not values.size:
        return
    if kind != "time" and kind != "any" and not np.array_equal(values, np.floor(values)):
        bad = int(np.flatnonzero(values != np.floor(values))[0])
        raise SnapshotError(
            STATE_FILE, f"{label}[{bad}]", float(values[bad]), f"must be whole ({COLUMN_KINDS[kind]})"
        )
    if kind == "time" and not np.isfinite(values).all():
        bad = int(np.flatnonzero(~np.isfinite(values))[0])
        raise SnapshotError(
            STATE_FILE, f"{label}[{bad}]", float(values[bad]), "must be a finite time in days"
        )
    if kind in KIND_MINIMUM:
        low = values < 0
        if low.any():
            bad = int(np.flatnonzero(low)[0])
            raise SnapshotError(
                STATE_FILE, f"{label}[{bad}]", values[bad].item(), f"must be {COLUMN_KINDS[kind]}"
            )
    bound = KIND_BOUND.get(kind)
    if bound is not None:
        high = values >= sizes[bound]
        if high.any():
            bad = int(np.flatnonzero(high)[0])
            raise SnapshotError(
                STATE_FILE,
                f"{label}[{bad}]",
                values[bad].item(),
                f"no such {kind} ({bound} = {sizes[bound]})",
            )
    if kind == "release_kind" and not np.isin(values, (0, 1)).all():
        bad = int(np.flatnonzero(~np.isin(values, (0, 1)))[0])
        raise SnapshotError(
            STATE_FILE, f"{label}[{bad}]", values[bad].item(), f"must be {COLUMN_KINDS[kind]}"
        )


def check_open_field(key: str, value: npt.NDArray[Any]) -> None:
    """Arrays a policy keeps for itself: numbers must at least be numbers."""
    if value.dtype.kind not in "biufU":
        raise SnapshotError(STATE_FILE, key, str(value.dtype), "must be a numeric, boolean or text array")
    if value.dtype.kind == "f" and value.size and np.isnan(value).any():
        raise SnapshotError(STATE_FILE, key, float("nan"), "must hold numbers")


def dtype_matches(kind: str, value: npt.NDArray[Any]) -> bool:
    code = value.dtype.kind
    if kind == "int":
        return code in "iu"
    if kind == "float":
        return code in "fiu"  # row tables keep whole ids in float columns; ints are exact there
    if kind == "bool":
        return code == "b"
    return code == "U"


def check_vehicles(frame: pd.DataFrame, sizes: Mapping[str, int]) -> None:
    missing = [name for name in VEHICLE_COLUMN_NAMES if name not in frame.columns]
    if missing:
        raise SnapshotError(VEHICLES_FILE, missing[0], None, "column is missing")
    extra = [name for name in frame.columns if name not in VEHICLE_COLUMN_NAMES]
    if extra:
        raise SnapshotError(
            VEHICLES_FILE, extra[0], None, f"is not a column of the VIN table {VEHICLE_COLUMN_NAMES}"
        )
    if not len(frame):
        return
    vins = frame["vin"]
    if vins.isna().any():
        row = int(np.flatnonzero(vins.isna().to_numpy())[0])
        raise SnapshotError(VEHICLES_FILE, f"vin[{row}]", None, "every vehicle needs a VIN")
    duplicated = vins.duplicated()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated.to_numpy())[0])
        raise SnapshotError(VEHICLES_FILE, f"vin[{row}]", str(vins.iloc[row]), "VIN appears twice")
    for row, vin in enumerate(vins.tolist()):
        try:
            validate_vin(str(vin))
        except VinError as error:
            raise SnapshotError(VEHICLES_FILE, f"vin[{row}]", vin, f"not a valid VIN ({error})") from None
    for column in VEHICLE_COLUMNS[1:]:
        values = frame[column.name].to_numpy()
        if column.dtype == "bool":
            if values.dtype.kind != "b":
                raise SnapshotError(VEHICLES_FILE, column.name, str(values.dtype), "must be true/false")
            continue
        if values.dtype.kind not in "iuf" or (column.dtype == "int" and values.dtype.kind == "f"):
            raise SnapshotError(
                VEHICLES_FILE, column.name, str(values.dtype), f"dtype must be {column.dtype}"
            )
        if column.dtype == "float":
            bad = ~np.isfinite(values)
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise SnapshotError(
                    VEHICLES_FILE, f"{column.name}[{row}]", float(values[row]), "must be a finite day number"
                )
    limits = {
        "spec": (0, sizes["specs"], "specs"),
        "status": (0, len(VehicleStatus), "VehicleStatus values"),
        "site_kind": (0, len(SiteKind), "SiteKind values"),
        "dealer": (-1, sizes["dealers"], "dealers (-1: unallocated)"),
        "site_index": (-1, max(sizes["dealers"], sizes["stockyards"], sizes.get("plants", 1)), "sites"),
    }
    for name, (low, high, what) in limits.items():
        values = frame[name].to_numpy()
        bad = (values < low) | (values >= high)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise SnapshotError(
                VEHICLES_FILE, f"{name}[{row}]", values[row].item(), f"must be in {low}..{high - 1} ({what})"
            )


def check_kpi_day(day: int, arrays: Mapping[str, npt.NDArray[Any]]) -> None:
    """The KPIs of the day before the state's day are the last recorded: a changed ``day`` shows here."""
    recorded = arrays.get("kpis:recorded_through_day")
    if recorded is not None and int(recorded[0]) != day - 1:
        raise SnapshotError(
            META_FILE,
            "day",
            day,
            f"the KPIs were recorded through day {int(recorded[0])}: this state starts day {int(recorded[0]) + 1}",
        )
