"""The hand-written tables of textbook mode (docs/textbook.md): demand rates, replenishment levels and lane
lead times per cell, as small CSV files a planner writes to pin down a stylised system.

Each reader resolves ids (dealer, DC site, SKU) to the network's indices and refuses a bad record with a
``MasterDataError`` naming the file, the row (counted from 1 after the header), the column and the value:
a typo in a textbook table must never quietly become a cell with no demand or no stock.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from twin.errors import MasterDataError

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: the largest level a table may give (the engine keeps quantities in int32, with room to add an order)
_LARGEST_LEVEL = 1_000_000_000
#: the rules a levels table may name, and the level columns each one needs
LEVEL_RULES: dict[str, tuple[str, ...]] = {
    "base_stock": ("order_up_to",),
    "s_S": ("reorder_point", "order_up_to"),
    "r_Q": ("reorder_point", "order_quantity"),
}


@dataclass(frozen=True)
class RateTable:
    """Demand per cell: ``location`` (dealer index), ``sku``, units a day and their standard deviation
    (NaN where the table gives none)."""

    location: IntArray
    sku: IntArray
    units_per_day: FloatArray
    sd_units_per_day: FloatArray


@dataclass(frozen=True)
class LevelsTable:
    """One rule per listed cell (``location`` indexes dealers first, then DCs), as read from the CSV."""

    location: IntArray
    sku: IntArray
    #: index into ``tuple(LEVEL_RULES)``
    rule: IntArray
    reorder_point: IntArray
    order_up_to: IntArray
    order_quantity: IntArray
    review_period_days: IntArray
    review_offset_days: IntArray


def read_table(path: str | Path, required: Sequence[str], optional: Sequence[str] = ()) -> pd.DataFrame:
    """The CSV with its columns checked: every ``required`` one present, nothing outside the two lists."""
    source = Path(path)
    if not source.is_file():
        raise MasterDataError(str(source), None, "path", str(source), "no such file")
    with source.open(encoding="utf-8", newline="") as handle:
        records = csv.reader(handle)
        header = next(records, None)
        if not header:
            raise MasterDataError(source.name, None, "header", "", "the file is empty")
        for row, record in enumerate((record for record in records if any(record)), start=1):
            if len(record) > len(header):
                raise MasterDataError(
                    source.name,
                    row,
                    "row",
                    ",".join(record),
                    f"has more fields than the header's {len(header)}",
                )
    # index_col=False: never read a first column as row labels
    frame = pd.read_csv(source, dtype=str, keep_default_na=False, skipinitialspace=True, index_col=False)
    frame.columns = [str(column).strip() for column in frame.columns]
    for column in required:
        if column not in frame.columns:
            raise MasterDataError(
                source.name, None, column, None, f"column missing (the table has {list(frame.columns)})"
            )
    unknown = sorted(set(frame.columns) - set(required) - set(optional))
    if unknown:
        raise MasterDataError(
            source.name, None, unknown[0], None, f"unknown column; allowed: {[*required, *optional]}"
        )
    return frame


def resolve_ids(
    frame: pd.DataFrame, column: str, index_of: Mapping[str, int], kind: str, table: str
) -> IntArray:
    """The index of every row's id; an id the network does not know is refused by row."""
    indices = np.empty(len(frame), dtype=np.int64)
    for row, value in enumerate(frame[column].tolist()):
        key = str(value).strip()
        if key not in index_of:
            raise MasterDataError(table, row + 1, column, key, f"no such {kind} in the network")
        indices[row] = index_of[key]
    return indices


def numbers(
    frame: pd.DataFrame,
    column: str,
    table: str,
    *,
    minimum: float | None = 0.0,
    whole: bool = False,
    default: float | None = None,
) -> FloatArray:
    """A numeric column, each value >= ``minimum`` (None: any) and a whole number if ``whole``; blanks take
    ``default`` when one is given."""
    if column not in frame.columns:
        if default is None:
            raise MasterDataError(table, None, column, None, "column missing")
        return np.full(len(frame), default, dtype=np.float64)
    values = np.empty(len(frame), dtype=np.float64)
    for row, text in enumerate(frame[column].tolist()):
        text = str(text).strip()
        if not text and default is not None:
            values[row] = default
            continue
        try:
            value = float(text)
        except ValueError:
            raise MasterDataError(table, row + 1, column, text, "must be a number") from None
        low = minimum is not None and value < minimum
        # whole numbers are levels and units: they must fit the engine's int32 quantities
        too_large = whole and abs(value) > _LARGEST_LEVEL
        if not np.isfinite(value) or low or too_large or (whole and value != int(value)):
            kind = f"a whole number of at most {_LARGEST_LEVEL:,} units" if whole else "a number"
            bound = "" if minimum is None else f" >= {minimum:g}"
            raise MasterDataError(table, row + 1, column, text, f"must be {kind}{bound}")
        values[row] = value
    return values


def _refuse_duplicates(
    location: IntArray, sku: IntArray, skus: int, table: str, frame: pd.DataFrame, column: str = "sku_id"
) -> None:
    """A cell (or location) listed twice is refused at its second row."""
    cells = location * skus + sku
    unique, counts = np.unique(cells, return_counts=True)
    if (counts > 1).any():
        repeated = int(np.flatnonzero(cells == unique[counts > 1][0])[1])
        value = str(frame[column].iloc[repeated]).strip()
        raise MasterDataError(table, repeated + 1, column, value, "already listed in an earlier row")


def read_rates(path: str | Path, dealer_index: Mapping[str, int], sku_index: Mapping[str, int]) -> RateTable:
    """``demand.parts_rates_path``: dealer_id, sku_id, units_per_day[, sd_units_per_day]."""
    table = Path(path).name
    frame = read_table(path, ("dealer_id", "sku_id", "units_per_day"), ("sd_units_per_day",))
    location = resolve_ids(frame, "dealer_id", dealer_index, "dealer", table)
    sku = resolve_ids(frame, "sku_id", sku_index, "SKU", table)
    _refuse_duplicates(location, sku, max(len(sku_index), 1), table, frame)
    return RateTable(
        location,
        sku,
        numbers(frame, "units_per_day", table),
        numbers(frame, "sd_units_per_day", table, default=float("nan")),
    )


def read_levels(
    path: str | Path, location_index: Mapping[str, int], sku_index: Mapping[str, int]
) -> LevelsTable:
    """``policy.replenishment.levels_path``: location_id (a dealer or DC), sku_id, policy, the levels its rule
    needs (``LEVEL_RULES``), optional review_period_days (1) and review_offset_days (0)."""
    table = Path(path).name
    frame = read_table(
        path,
        ("location_id", "sku_id", "policy"),
        ("reorder_point", "order_up_to", "order_quantity", "review_period_days", "review_offset_days"),
    )
    location = resolve_ids(frame, "location_id", location_index, "dealer or DC", table)
    sku = resolve_ids(frame, "sku_id", sku_index, "SKU", table)
    _refuse_duplicates(location, sku, max(len(sku_index), 1), table, frame)
    rules = tuple(LEVEL_RULES)
    rule = np.empty(len(frame), dtype=np.int64)
    for row, name in enumerate(frame["policy"].tolist()):
        if str(name).strip() not in LEVEL_RULES:
            raise MasterDataError(table, row + 1, "policy", name, f"must be one of {', '.join(rules)}")
        rule[row] = rules.index(str(name).strip())
    levels = {}
    for column in ("reorder_point", "order_up_to", "order_quantity"):
        levels[column] = numbers(frame, column, table, minimum=None, whole=True, default=-1.0)
        for row in range(len(frame)):
            if column in LEVEL_RULES[rules[rule[row]]] and (
                column not in frame.columns or not str(frame[column].iloc[row]).strip()
            ):
                raise MasterDataError(table, row + 1, column, "", f"needed by policy {rules[rule[row]]}")
    for row in range(len(frame)):
        name = rules[rule[row]]
        if name == "s_S" and levels["order_up_to"][row] <= levels["reorder_point"][row]:
            raise MasterDataError(
                table, row + 1, "order_up_to", int(levels["order_up_to"][row]), "must be above reorder_point"
            )
        if name == "r_Q" and levels["order_quantity"][row] < 1:
            raise MasterDataError(
                table, row + 1, "order_quantity", int(levels["order_quantity"][row]), "must be >= 1"
            )
        if name == "base_stock" and levels["order_up_to"][row] < 0:
            raise MasterDataError(
                table, row + 1, "order_up_to", int(levels["order_up_to"][row]), "must be >= 0"
            )
    period = numbers(frame, "review_period_days", table, minimum=1, whole=True, default=1.0)
    offset = numbers(frame, "review_offset_days", table, minimum=0, whole=True, default=0.0)
    return LevelsTable(
        location,
        sku,
        rule,
        levels["reorder_point"].astype(np.int64),
        levels["order_up_to"].astype(np.int64),
        levels["order_quantity"].astype(np.int64),
        period.astype(np.int64),
        offset.astype(np.int64),
    )


def read_lead_times(path: str | Path, location_index: Mapping[str, int]) -> tuple[IntArray, FloatArray]:
    """``operations.lead_times_path``: location_id (a dealer: its DC's lane to it; a DC: its supplier's lane),
    lead_time_days. Returns the locations and their lead times."""
    table = Path(path).name
    frame = read_table(path, ("location_id", "lead_time_days"))
    location = resolve_ids(frame, "location_id", location_index, "dealer or DC", table)
    _refuse_duplicates(location, np.zeros_like(location), 1, table, frame, "location_id")
    return location, numbers(frame, "lead_time_days", table)
