"""The network state: everything a day starts from, as one versioned, documented and validated object.

The engine steps it, a snapshot saves it, shadow mode (live feeds) builds it, and Clara and the web view read
it. It is plain data (numpy arrays, one pandas table of VINs, JSON metadata), so a live integrator can
produce it without the simulator. ``STATE_SCHEMA`` below is the contract: every array by section, with its
dtype, shape (named network dimensions), unit and meaning. Each section is owned by one engine component,
which alone writes and reads it; the snapshot module only walks the components.

On disk a state is a folder:
- ``state.npz``: every array, keyed ``"<section>:<field>"`` (numpy's compressed archive, no pickles);
- ``vehicles.parquet``: one row per VIN ever built or ordered (``VEHICLE_COLUMNS``), row number = vehicle id;
- ``meta.json``: ``schema_version``, the day the state starts, the seed, the network's dimensions and
  fingerprint, the run's identity (what it may be continued with), the random streams, and a SHA-256 of each
  data file, written last so a folder with a meta file is complete.

``NetworkState.load`` runs ``validate()``: a truncated, edited or inconsistent state fails with a
``SnapshotError`` that names the file, the field and the value, never a traceback or a silent run.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from twin.domain.vehicles import SiteKind, VehicleStatus
from twin.domain.vin import validate_vin
from twin.errors import TwinError, VinError

SCHEMA_VERSION = 2
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


# -- the schema -------------------------------------------------------------------------------------------
#: the named dimensions a shape may use; their sizes come from ``meta.json``'s ``dimensions`` (network) and,
#: for ``vehicles``, from the VIN table
DIMENSIONS = {
    "dealers": "dealers in the network",
    "dcs": "parts distribution centres",
    "locations": "parts locations: dealers first, then DCs",
    "skus": "part numbers in the catalog",
    "specs": "sellable vehicle specs (model x variant x colour x options)",
    "models": "vehicle models",
    "regions": "sales regions",
    "stockyards": "OEM vehicle stockyards",
    "carriers": "carriers of every mode (parts and vehicles), by index in the carrier table",
    "part_classes": "part classes (fast_mover ... warranty_spare)",
    "days": "days of the run's horizon",
    "dealer_cells": "dealer x SKU cells, flat: dealer * skus + sku",
    "cells": "location x SKU cells, flat: location * skus + sku",
    "vehicles": "rows of the VIN table",
}

#: what a row-table column refers to; ``None`` bounds are unchecked
COLUMN_KINDS = {
    "day": "a whole day number of the run (>= 0)",
    "time": "a time in days since the run's start (>= 0, fractional)",
    "units": "a quantity of parts units (>= 0)",
    "id": "an identifier local to the table (>= 0)",
    "count": "a non-negative count",
    "dealer": "a dealer index (0 <= i < dealers)",
    "location": "a parts location index (0 <= i < locations)",
    "sku": "a SKU index (0 <= i < skus)",
    "spec": "a vehicle spec index (0 <= i < specs)",
    "stockyard": "a stockyard index (0 <= i < stockyards)",
    "carrier": "a carrier index (0 <= i < carriers)",
    "vehicle": "a vehicle id: a row of the VIN table (0 <= i < vehicles)",
    "cell": "a flat location x SKU cell (0 <= i < cells)",
    "release_kind": "0 workshop repair finishing, 1 counter pickup",
    "any": "a number the engine interprets (unchecked)",
}
_KIND_BOUND = {
    "dealer": "dealers",
    "location": "locations",
    "sku": "skus",
    "spec": "specs",
    "stockyard": "stockyards",
    "carrier": "carriers",
    "vehicle": "vehicles",
    "cell": "cells",
}
_KIND_MINIMUM = {"day", "time", "units", "id", "count", *_KIND_BOUND}


@dataclass(frozen=True)
class Field:
    """One array of the state. ``shape`` names dimensions (``DIMENSIONS``), fixes a size (int) or leaves it
    open (None); a row table (``columns``) is ``(rows, len(columns))``, each column of a ``COLUMN_KINDS``."""

    name: str
    dtype: str  # "int", "float", "bool" or "str": the kind checked on load
    shape: tuple[str | int | None, ...]
    unit: str
    doc: str
    minimum: float | None = None
    columns: tuple[tuple[str, str], ...] = ()

    def describe_shape(self) -> str:
        if self.columns:
            return f"[rows, {len(self.columns)}]: " + ", ".join(
                f"{name} ({kind})" for name, kind in self.columns
            )
        return "[" + ", ".join("any" if size is None else str(size) for size in self.shape) + "]"


@dataclass(frozen=True)
class Section:
    """The part of the state one engine component owns. Optional sections exist only when their feature runs."""

    name: str
    owner: str
    doc: str
    fields: tuple[Field, ...]
    optional: bool = False
    #: optional sections whose internals are a policy's own (forecaster, ledger) may hold extra arrays
    #: named with these prefixes; each is still checked for dtype and finiteness
    open_prefixes: tuple[str, ...] = ()

    def field(self, name: str) -> Field | None:
        for entry in self.fields:
            if entry.name == name:
                return entry
        return None


def _table(name: str, columns: tuple[tuple[str, str], ...], unit: str, doc: str) -> Field:
    return Field(name, "float", (None, len(columns)), unit, doc, columns=columns)


def _int(
    name: str, shape: tuple[str | int | None, ...], unit: str, doc: str, minimum: float | None = 0
) -> Field:
    return Field(name, "int", shape, unit, doc, minimum)


def _float(
    name: str, shape: tuple[str | int | None, ...], unit: str, doc: str, minimum: float | None = None
) -> Field:
    return Field(name, "float", shape, unit, doc, minimum)


def _ids(prefix: str, names: tuple[str, ...], doc: str) -> tuple[Field, ...]:
    """A column-per-array table of integers (ledger and register tables: ids, days and paise)."""
    return tuple(
        Field(f"{prefix}_{column}", "int", (None,), "paise" if column.endswith("paise") else "id or day", doc)
        for column in names
    )


_STOCK = ("locations", "skus")
_DEALER_SPEC = ("dealers", "specs")

STATE_SCHEMA: tuple[Section, ...] = (
    Section(
        "parts",
        "twin.engine.parts_flow.PartsFlow",
        "Parts quantities per location x SKU (dealers first, then DCs) and the timed releases of the parts day.",
        (
            _int("on_hand", _STOCK, "units", "physically on the shelf, including units reserved for pickup"),
            _int("reserved", _STOCK, "units", "held on the shelf for open counter orders awaiting pickup"),
            _int(
                "workshop_wip",
                _STOCK,
                "units",
                "issued to open repair orders, off the shelf, not yet consumed",
            ),
            _int("in_transit", _STOCK, "units", "shipped towards the location, not yet received"),
            _int("backorder", _STOCK, "units", "owed to customers, awaiting an emergency delivery"),
            _int(
                "received_from_suppliers", ("skus",), "units", "received from suppliers since the run began"
            ),
            _int(
                "consumed",
                ("skus",),
                "units",
                "sold at the counter or consumed by repairs since the run began",
            ),
            _table(
                "releases",
                (("day", "day"), ("kind", "release_kind"), ("cell", "cell"), ("units", "units")),
                "units",
                "repairs that finish (WIP consumed) and counter pickups that leave (reservation released) on a day",
            ),
        ),
    ),
    Section(
        "logistics",
        "twin.engine.parts_logistics.PartsLogistics",
        "What is on its way to parts locations and what the replenishment policy must look at next.",
        (
            Field(
                "changed",
                "bool",
                ("cells",),
                "flag",
                "position changed since the policy last reviewed the cell",
            ),
            _float(
                "inbound_eta_day",
                ("dealer_cells",),
                "day",
                "promised arrival day of the earliest consignment on its way (inf: none), as a carrier's ETA feed says",
                minimum=0,
            ),
            _table(
                "inbound",
                (
                    ("receive_day", "day"),
                    ("consignment", "id"),
                    ("location", "location"),
                    ("sku", "sku"),
                    ("units", "units"),
                ),
                "units",
                "consignment lines on the road (DC to dealer, supplier to DC), received the morning of receive_day",
            ),
            _table(
                "emergency_inbound",
                (
                    ("receive_day", "day"),
                    ("delivery", "id"),
                    ("location", "location"),
                    ("sku", "sku"),
                    ("units", "units"),
                ),
                "units",
                "emergency delivery lines on the road; they close backorders (already counted as sold)",
            ),
            _int("outstanding_backorder_units", (1,), "units", "units owed to customers across the network"),
        ),
    ),
    Section(
        "demand_history",
        "twin.engine.parts_view.PartsHistory",
        "The 12-month DMS history the policies start from (a dealer's parts sales export).",
        (
            _float(
                "lines_per_year", ("dealers", "skus"), "lines/year", "demand lines in the last 12 months", 0
            ),
            _float("units_per_day", ("dealers", "skus"), "units/day", "average daily units demanded", 0),
        ),
    ),
    Section(
        "vehicles",
        "twin.engine.vehicle_flow.VehicleFlow",
        "Where every VIN is queued (the VIN table itself is vehicles.parquet), sales so far, the OEM's view.",
        (
            _table(
                "dealer_yard_order",
                (("dealer", "dealer"), ("vehicle", "vehicle")),
                "-",
                "dealer yards, oldest first",
            ),
            _table(
                "stockyard_order",
                (("stockyard", "stockyard"), ("vehicle", "vehicle")),
                "-",
                "stockyard pools in order",
            ),
            _table(
                "deliveries_due",
                (("day", "day"), ("vehicle", "vehicle")),
                "-",
                "sold cars handed over on a day",
            ),
            _table(
                "sales_window",
                (("offset", "count"), ("dealer", "dealer"), ("spec", "spec")),
                "-",
                "one row per car sold in the trailing window, by day offset within it",
            ),
            _int("sales_window_days", (1,), "days", "days the trailing sales window holds"),
            _int("sales_28d", _DEALER_SPEC, "cars", "cars sold in the trailing 28 days"),
            _int("dealer_inbound", _DEALER_SPEC, "cars", "cars allocated to the dealer and not yet received"),
            _int("pipeline", ("specs",), "cars", "cars ordered or in build, not yet at a stockyard"),
            _int("export_dealer_stock", _DEALER_SPEC, "cars", "dealer stock as of the OEM's last DMS export"),
            _int("export_dealer_inbound", _DEALER_SPEC, "cars", "inbound as of the last export"),
            _int("export_dealer_sales_28d", _DEALER_SPEC, "cars", "28-day sales as of the last export"),
            _int(
                "export_yard_stock", ("stockyards", "specs"), "cars", "stockyard stock as of the last export"
            ),
            _int("export_pipeline", ("specs",), "cars", "pipeline as of the last export"),
            _int("export_as_of_day", (1,), "day", "day of the last export"),
            _table(
                "trunks_on_road",
                (("trunk", "id"), ("stockyard", "stockyard"), ("vehicle", "vehicle"), ("eta_day", "time")),
                "-",
                "plant-to-stockyard trunk loads on the road",
            ),
            _table(
                "builds_in_progress", (("vehicle", "vehicle"), ("eta_day", "time")), "-", "cars being built"
            ),
            _int("vin_serial", (1,), "-", "serial of the last VIN made (the next VIN continues from it)"),
        ),
    ),
    Section(
        "carriers",
        "twin.engine.car_carriers.CarCarriers",
        "Car-carrier queues and trucks: cars waiting at a yard for a truck, loads on the road, trucks returning.",
        (
            _table(
                "dispatch_queue",
                (("dealer", "dealer"), ("vehicle", "vehicle"), ("since_day", "time")),
                "-",
                "cars allocated to a dealer waiting at their yard to form a load",
            ),
            _table(
                "loads_waiting",
                (("load", "id"), ("dealer", "dealer"), ("carrier", "carrier"), ("vehicle", "vehicle")),
                "-",
                "loads formed and waiting for a free truck, in queue order",
            ),
            _table(
                "loads_on_road",
                (
                    ("load", "id"),
                    ("dealer", "dealer"),
                    ("carrier", "carrier"),
                    ("vehicle", "vehicle"),
                    ("eta_day", "time"),
                    ("back_day", "time"),
                ),
                "-",
                "loads on the road to a dealer; the truck is free again at back_day",
            ),
            _table("trucks_returning", (("carrier", "carrier"), ("free_day", "time")), "-", "empty trucks"),
            _float(
                "lane_credit", ("dealers",), "loads", "share of a truck a partly closed lane has banked", 0
            ),
        ),
    ),
    Section(
        "production",
        "twin.engine.simulation.Simulation",
        "The plants' build plan for the current allocation period.",
        (
            _table(
                "build_plan",
                (("offset", "count"), ("spec", "spec"), ("stockyard", "stockyard")),
                "cars",
                "one row per car to build on day offset of the period, and the yard it goes to",
            ),
            _int("build_plan_days", (1,), "days", "days in the plan (days without builds still count)"),
        ),
    ),
    Section(
        "kpis",
        "twin.engine.kpis.KpiRecorder",
        "KPIs so far: the daily series the run summary is computed from.",
        (
            _float(
                "daily", ("days", None), "per column (twin.engine.kpis.DAILY_COLUMNS)", "network KPIs per day"
            ),
            _float(
                "by_region", ("days", "regions", None), "per column (REGION_COLUMNS)", "KPIs per day x region"
            ),
            _float(
                "class_lines", ("days", "part_classes"), "lines", "parts demand lines per class and day", 0
            ),
            _float(
                "class_first_pick_lines", ("days", "part_classes"), "lines", "lines filled from the shelf", 0
            ),
            _int("pending_day", (None,), "day", "counts not yet flushed into the daily series: their day"),
            Field("pending_name", "str", (None,), "-", "the KPI column of each pending count"),
            _float("pending_value", (None,), "per column", "the pending count"),
            _float("age_stats", (3,), "share, share, days", "yard age: share over 60 days, over 90, mean"),
            _int("recorded_through_day", (1,), "day", "last day whose KPIs were recorded (-1: none)", -1),
        ),
    ),
    Section(
        "tower",
        "twin.engine.control_tower.ControlTower",
        "Astra's forecasts, stock-out alerts and the vehicle watch (with forecasts, alerts or a forecast policy).",
        (
            _float("forecast_state", ("dealer_cells", None), "per method", "smoothing state of every series"),
            _float("forecast_day", (4,), "day, day, flag, days", "day, start day, cold start, history days"),
            _int("alerts_open_alert", ("dealer_cells",), "id", "open alert per cell (-1: none)", -1),
            _int("tower_accuracy_days", (1,), "days", "days of one-day-ahead errors accumulated"),
            Field(
                "tower_in_stockout", "bool", ("dealer_cells",), "flag", "cell was out of stock at last look"
            ),
            Field("tower_changed", "bool", ("dealer_cells",), "flag", "cell's risk must be re-assessed"),
        ),
        optional=True,
        open_prefixes=("alerts_alert_", "alerts_stockout_", "vehicle_", "tower_accuracy_", "tower_previous"),
    ),
    Section(
        "settlement",
        "twin.engine.settlement_flow.SettlementFlow",
        "Nexa's ledger (double-entry journal in paise) and registers: shipments, disputes, dealer transfers, "
        "cycles, statements, incentive claims, deliveries, and the day's unposted buffers.",
        (
            *_ids(
                "journal_entry",
                ("posted_day", "kind", "reference_kind", "reference_id", "reverses"),
                "journal entries",
            ),
            *_ids(
                "journal_line",
                ("entry", "account", "amount_paise"),
                "journal lines (amounts sum to 0 per entry)",
            ),
            _int("invoice_lines", (1,), "lines", "carrier invoice lines reconciled so far"),
        ),
        optional=True,
        open_prefixes=(
            "shipments_",
            "billable_",
            "disputes_",
            "transfers_",
            "cycles_",
            "statements_",
            "claims_",
            "delivered_",
            "vehicle_model",
            "buffer_",
        ),
    ),
    Section(
        "transfers",
        "twin.engine.rebalancing_flow.RebalancingFlow",
        "Astra's dealer-to-dealer transfers: approvals waiting, transfers on the road, weekly counts, the audit.",
        (
            _int("next_ids", (3,), "id", "next shipment id, next transfer id, next approval id"),
            _float("watch_units", ("dealer_cells",), "units", "moved units the receiver has yet to use", 0),
            _float("watch_value", ("dealer_cells",), "INR", "value of those units", 0),
        ),
        optional=True,
        open_prefixes=(
            "recent",
            "counters",
            "watch_expiry",
            "awaiting",
            "arriving",
            "rejected_by_",
            "vehicles_",
            "audit_",
        ),
    ),
    Section(
        "orders",
        "twin.engine.customer_orders.CustomerOrders",
        "Atlas's customer orders filled from the network: open orders, dealer trades on the road and in trucks.",
        (
            _table(
                "orders",
                (("vehicle", "vehicle"), ("booked_day", "time"), ("patience_day", "time")),
                "-",
                "open orders",
            ),
            _float("counters", (None,), "count", "running counts of the fulfilment KPIs", 0),
        ),
        optional=True,
        open_prefixes=("next_trade", "trades_on_road", "arriving", "trade_loads"),
    ),
    Section(
        "campaigns",
        "twin.engine.campaigns.CampaignFlow",
        "Campaign positioning and outcome per campaign of the scenario.",
        (
            _float(
                "table", (None, None), "per column", "one row per campaign: targets, positioned, landed, sold"
            ),
            _table(
                "building",
                (("vehicle", "vehicle"), ("stockyard", "stockyard"), ("campaign", "id")),
                "-",
                "positioning builds not yet at a yard",
            ),
            _table(
                "positioned", (("vehicle", "vehicle"), ("campaign", "id")), "-", "cars placed for a campaign"
            ),
            _int(
                "targets",
                (None, "dealers", "specs"),
                "cars",
                "stock target per campaign (-1: not set yet)",
                -1,
            ),
        ),
        optional=True,
    ),
)
SECTIONS = {section.name: section for section in STATE_SCHEMA}


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str
    unit: str
    doc: str


#: the VIN table (vehicles.parquet): one row per vehicle ever ordered or built; the row number is its id
VEHICLE_COLUMNS: tuple[Column, ...] = (
    Column("vin", "str", "-", "17-character VIN (ISO 3779), unique"),
    Column("spec", "int", "index", "sellable spec (0 <= spec < specs)"),
    Column(
        "status",
        "int",
        "enum",
        "VehicleStatus: 0 ordered, 1 built, 2 in transit, 3 in yard, 4 reserved, 5 delivered",
    ),
    Column("site_kind", "int", "enum", "SiteKind: 0 plant, 1 stockyard, 2 road, 3 dealer, 4 customer"),
    Column(
        "site_index",
        "int",
        "index",
        "index within the site kind; on the road the destination; -1 with the customer",
    ),
    Column("dealer", "int", "index", "dealer allocated or sold to (-1: unallocated)"),
    Column("customer_order", "bool", "flag", "built against a customer's factory order"),
    Column("ordered_day", "float", "day", "when ordered (-1: not yet; opening stock has days before 0)"),
    Column("built_day", "float", "day", "when built (-1: not yet)"),
    Column("shipped_day", "float", "day", "when it last left a site (-1: not yet)"),
    Column(
        "received_day",
        "float",
        "day",
        "when it reached its dealer's yard (-1: not yet); age in yard counts from it",
    ),
    Column("delivered_day", "float", "day", "when handed over to the end customer (-1: not yet)"),
    Column(
        "eta_day", "float", "day", "when the current timed step (build, trunk, carrier leg) ends (-1: none)"
    ),
)
VEHICLE_COLUMN_NAMES = tuple(column.name for column in VEHICLE_COLUMNS)


def row_table(rows: Any, width: int) -> npt.NDArray[np.float64]:
    """Rows of numbers as a ``(rows, width)`` float table (whole ids and days are exact in float64)."""
    return np.asarray(rows, dtype=np.float64).reshape(-1, width)


def table_rows(table: npt.NDArray[Any]) -> list[list[int]]:
    """The rows of a whole-number table as Python ints."""
    rows: list[list[int]] = np.asarray(table).astype(np.int64).tolist()
    return rows


# -- the state object -----------------------------------------------------------------------------------
@dataclass
class NetworkState:
    """The whole state at the start of ``day``: arrays by ``"section:field"``, the VIN table, and metadata."""

    day: int
    seed: int
    arrays: dict[str, npt.NDArray[Any]]
    vehicles: pd.DataFrame
    #: sizes of the named dimensions (``DIMENSIONS`` except ``vehicles``, ``cells``, ``dealer_cells``)
    dimensions: dict[str, int]
    #: what the state may be continued with: network fingerprint, start date, horizon, seed and the config
    #: sections that shape the future (``twin.engine.state_io.run_identity``)
    run: dict[str, Any] = field(default_factory=dict)
    #: bit-generator state of every named random stream used so far
    streams: dict[str, Any] = field(default_factory=dict)
    #: free-form provenance (what wrote it, forked from what)
    provenance: dict[str, Any] = field(default_factory=dict)

    def section(self, name: str) -> dict[str, npt.NDArray[Any]]:
        """The arrays of one section, keyed by field name (empty when the section is absent)."""
        prefix = f"{name}:"
        return {key[len(prefix) :]: value for key, value in self.arrays.items() if key.startswith(prefix)}

    def has_section(self, name: str) -> bool:
        prefix = f"{name}:"
        return any(key.startswith(prefix) for key in self.arrays)

    def sizes(self) -> dict[str, int]:
        sizes = dict(self.dimensions)
        sizes["vehicles"] = len(self.vehicles)
        sizes["cells"] = sizes.get("locations", 0) * sizes.get("skus", 0)
        sizes["dealer_cells"] = sizes.get("dealers", 0) * sizes.get("skus", 0)
        return sizes

    # -- disk ----------------------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """Write the three files; ``meta.json`` last and atomically, with the digests of the other two."""
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(target / STATE_FILE, **self.arrays)  # type: ignore[arg-type]
        self.vehicles.to_parquet(target / VEHICLES_FILE, index=False)
        meta = {
            "schema_version": SCHEMA_VERSION,
            "day": self.day,
            "seed": self.seed,
            "dimensions": self.dimensions,
            "vehicles": len(self.vehicles),
            "sections": sorted({key.split(":", 1)[0] for key in self.arrays}),
            "run": self.run,
            "streams": _jsonable(self.streams),
            "provenance": self.provenance,
            "sha256": {name: _digest(target / name) for name in DATA_FILES},
        }
        temporary = target / f".{META_FILE}.tmp"
        temporary.write_text(json.dumps(meta, indent=1))
        os.replace(temporary, target / META_FILE)
        return target

    @classmethod
    def load(cls, folder: str | Path) -> NetworkState:
        """Read and validate a state folder; any damage is a ``SnapshotError`` naming file and field."""
        source = Path(folder)
        if not source.is_dir():
            raise SnapshotError(
                str(source), "folder", str(source), "is not a snapshot folder (no such directory)"
            )
        for name in (META_FILE, *DATA_FILES):
            if not (source / name).is_file():
                raise SnapshotError(
                    name, "file", str(source / name), "is missing: not a complete snapshot folder"
                )
        meta = _read_meta(source / META_FILE)
        arrays = _read_arrays(source / STATE_FILE)
        vehicles = _read_vehicles(source / VEHICLES_FILE)
        state = cls(
            day=meta["day"],
            seed=meta["seed"],
            arrays=arrays,
            vehicles=vehicles,
            dimensions=meta["dimensions"],
            run=meta["run"],
            streams=meta["streams"],
            provenance=meta.get("provenance", {}),
        )
        state.validate(declared_sections=meta["sections"], declared_vehicles=meta["vehicles"])
        for name in DATA_FILES:
            recorded = meta["sha256"].get(name)
            if recorded != _digest(source / name):
                raise SnapshotError(
                    name,
                    "sha256",
                    recorded,
                    "the file differs from the one this snapshot was written with (edited?)",
                )
        return state

    # -- checks --------------------------------------------------------------------------------------
    def validate(
        self, declared_sections: list[str] | None = None, declared_vehicles: int | None = None
    ) -> None:
        """Check every array against ``STATE_SCHEMA`` and the VIN table against ``VEHICLE_COLUMNS``."""
        _check_meta_values(self)
        sizes = self.sizes()
        present = {key.split(":", 1)[0] for key in self.arrays}
        for key in self.arrays:
            section_name, _, name = key.partition(":")
            section = SECTIONS.get(section_name)
            if section is None:
                raise SnapshotError(
                    STATE_FILE, key, section_name, f"unknown section (known: {sorted(SECTIONS)})"
                )
            if section.field(name) is None and not name.startswith(section.open_prefixes or ("\0",)):
                raise SnapshotError(STATE_FILE, key, name, f"is not a field of section {section_name!r}")
        for section in STATE_SCHEMA:
            if section.name not in present:
                if section.optional:
                    continue
                raise SnapshotError(STATE_FILE, f"{section.name}:*", None, "required section is missing")
            for entry in section.fields:
                key = f"{section.name}:{entry.name}"
                if key not in self.arrays:
                    raise SnapshotError(STATE_FILE, key, None, "required field is missing")
                _check_field(key, entry, self.arrays[key], sizes)
            for key, value in self.section(section.name).items():
                if section.field(key) is None:
                    _check_open_field(f"{section.name}:{key}", value)
        if declared_sections is not None and sorted(present) != sorted(declared_sections):
            raise SnapshotError(
                STATE_FILE,
                "sections",
                sorted(present),
                f"meta.json lists the sections {sorted(declared_sections)}",
            )
        if declared_vehicles is not None and declared_vehicles != len(self.vehicles):
            raise SnapshotError(
                VEHICLES_FILE, "rows", len(self.vehicles), f"meta.json says the table has {declared_vehicles}"
            )
        _check_vehicles(self.vehicles, sizes)
        _check_kpi_day(self)


def _check_meta_values(state: NetworkState) -> None:
    for name in ("dealers", "dcs", "locations", "skus", "specs", "regions", "stockyards", "days"):
        value = state.dimensions.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise SnapshotError(META_FILE, f"dimensions.{name}", value, "must be a positive whole number")
    if state.dimensions["locations"] != state.dimensions["dealers"] + state.dimensions["dcs"]:
        raise SnapshotError(
            META_FILE, "dimensions.locations", state.dimensions["locations"], "must be dealers + dcs"
        )
    if not 0 <= state.day < state.dimensions["days"]:
        raise SnapshotError(
            META_FILE, "day", state.day, f"must be within the horizon 0..{state.dimensions['days'] - 1}"
        )


def _check_field(key: str, entry: Field, value: npt.NDArray[Any], sizes: Mapping[str, int]) -> None:
    if not _dtype_matches(entry.dtype, value):
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
        _check_column(f"{key}.{name}", kind, value[:, column], sizes)


def _check_column(label: str, kind: str, values: npt.NDArray[Any], sizes: Mapping[str, int]) -> None:
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
    if kind in _KIND_MINIMUM:
        low = values < 0
        if low.any():
            bad = int(np.flatnonzero(low)[0])
            raise SnapshotError(
                STATE_FILE, f"{label}[{bad}]", values[bad].item(), f"must be {COLUMN_KINDS[kind]}"
            )
    bound = _KIND_BOUND.get(kind)
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


def _check_open_field(key: str, value: npt.NDArray[Any]) -> None:
    """Arrays a policy keeps for itself: numbers must at least be numbers."""
    if value.dtype.kind not in "biufU":
        raise SnapshotError(STATE_FILE, key, str(value.dtype), "must be a numeric, boolean or text array")
    if value.dtype.kind == "f" and value.size and np.isnan(value).any():
        raise SnapshotError(STATE_FILE, key, float("nan"), "must hold numbers")


def _dtype_matches(kind: str, value: npt.NDArray[Any]) -> bool:
    code = value.dtype.kind
    if kind == "int":
        return code in "iu"
    if kind == "float":
        return code in "fiu"  # row tables keep whole ids in float columns; ints are exact there
    if kind == "bool":
        return code == "b"
    return code == "U"


def _check_vehicles(frame: pd.DataFrame, sizes: Mapping[str, int]) -> None:
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


def _check_kpi_day(state: NetworkState) -> None:
    """The KPIs of the day before the state's day are the last recorded: a changed ``day`` shows here."""
    recorded = state.arrays.get("kpis:recorded_through_day")
    if recorded is not None and int(recorded[0]) != state.day - 1:
        raise SnapshotError(
            META_FILE,
            "day",
            state.day,
            f"the KPIs were recorded through day {int(recorded[0])}: this state starts day {int(recorded[0]) + 1}",
        )


# -- reading the files ----------------------------------------------------------------------------------
_META_KEYS = {
    "schema_version": int,
    "day": int,
    "seed": int,
    "dimensions": dict,
    "vehicles": int,
    "sections": list,
    "run": dict,
    "streams": dict,
    "sha256": dict,
}


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise SnapshotError(META_FILE, "text", None, f"is not UTF-8 text ({error.reason})") from None
    except json.JSONDecodeError as error:
        reason = (
            "is empty" if not path.stat().st_size else f"is not valid JSON (line {error.lineno}: {error.msg})"
        )
        raise SnapshotError(META_FILE, "json", None, reason) from None
    if not isinstance(meta, dict):
        raise SnapshotError(META_FILE, "json", type(meta).__name__, "must be a JSON object")
    version = meta.get("schema_version", meta.get("version"))
    if version != SCHEMA_VERSION:
        raise SnapshotError(
            META_FILE,
            "schema_version",
            version,
            f"this twin reads schema version {SCHEMA_VERSION}; write the state again with this version",
        )
    for key, kind in _META_KEYS.items():
        if key not in meta:
            raise SnapshotError(META_FILE, key, None, "is missing")
        value = meta[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise SnapshotError(META_FILE, key, value, f"must be a JSON {kind.__name__}")
    if meta["seed"] < 0:
        raise SnapshotError(META_FILE, "seed", meta["seed"], "must be >= 0")
    for name, state in meta["streams"].items():
        if (
            not isinstance(state, dict)
            or not isinstance(state.get("bit_generator"), str)
            or "state" not in state
        ):
            raise SnapshotError(META_FILE, f"streams.{name}", state, "must be a bit generator's state")
    return meta


def _read_arrays(path: Path) -> dict[str, npt.NDArray[Any]]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise SnapshotError(STATE_FILE, "format", None, "is not a numpy .npz archive")
            arrays: dict[str, npt.NDArray[Any]] = {}
            for name in archive.files:
                try:
                    arrays[name] = archive[name]
                except ValueError as error:  # object arrays need pickles, which a state never holds
                    raise SnapshotError(STATE_FILE, name, None, f"cannot be read safely ({error})") from None
    except SnapshotError:
        raise
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, KeyError) as error:
        empty = path.stat().st_size == 0
        reason = "is empty" if empty else f"cannot be read: truncated or not an .npz archive ({error})"
        raise SnapshotError(STATE_FILE, "archive", None, reason) from None
    return arrays


def _read_vehicles(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except (
        Exception
    ) as error:  # pyarrow raises its own hierarchy (ArrowInvalid, OSError...) for damaged files
        empty = path.stat().st_size == 0
        reason = "is empty" if empty else f"cannot be read: truncated or not Parquet ({type(error).__name__})"
        raise SnapshotError(VEHICLES_FILE, "table", None, reason) from None


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return value
    return value


def schema_markdown() -> str:
    """The schema as Markdown tables (``docs/state.md`` is generated from this)."""
    lines = [
        f"Schema version {SCHEMA_VERSION}. Dimensions: "
        + "; ".join(f"`{name}` {doc}" for name, doc in DIMENSIONS.items())
        + ".",
        "",
    ]
    for section in STATE_SCHEMA:
        kind = "optional" if section.optional else "always present"
        lines += [f"### `{section.name}` ({kind}; owner `{section.owner}`)", "", section.doc, ""]
        lines += ["| field | dtype | shape | unit | meaning |", "|---|---|---|---|---|"]
        for entry in section.fields:
            minimum = f" (>= {entry.minimum:g})" if entry.minimum is not None else ""
            lines.append(
                f"| `{section.name}:{entry.name}` | {entry.dtype} | {entry.describe_shape()} | {entry.unit}{minimum} "
                f"| {entry.doc} |"
            )
        if section.open_prefixes:
            prefixes = ", ".join(f"`{prefix}*`" for prefix in section.open_prefixes)
            lines.append(
                f"| {prefixes} | numeric | any | - | the owner's internal tables, checked for numbers |"
            )
        lines.append("")
    lines += [
        "### `vehicles.parquet`: the VIN table",
        "",
        "| column | dtype | unit | meaning |",
        "|---|---|---|---|",
    ]
    lines += [f"| `{c.name}` | {c.dtype} | {c.unit} | {c.doc} |" for c in VEHICLE_COLUMNS]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(schema_markdown(), end="")
