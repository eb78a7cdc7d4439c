"""The schema of the network state: every array by section, with its dtype, shape, unit and meaning.

``STATE_SCHEMA`` is the contract between whoever writes a state (the engine's components, shadow mode's
live feeds) and whoever reads it (the engine continuing a run, Clara, the web view). ``docs/state.md`` is
generated from it (``python -m twin.domain.state_schema``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

#: 5: yards' and stockyards' spec queues in their order (empty ones too) and each waiting load's claim time,
#: so a restart allocates and grants trucks exactly as the run would have; 4: the KPI table's columns of
#: textbook mode (kpis:daily has nine more); 4 and older are refused
SCHEMA_VERSION = 5

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
KIND_BOUND = {
    "dealer": "dealers",
    "location": "locations",
    "sku": "skus",
    "spec": "specs",
    "stockyard": "stockyards",
    "carrier": "carriers",
    "vehicle": "vehicles",
    "cell": "cells",
}
KIND_MINIMUM = {"day", "time", "units", "id", "count", *KIND_BOUND}


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
_DEALER_SKU = ("dealers", "skus")

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
            _int(
                "backorder",
                _STOCK,
                "units",
                "owed to customers: awaiting an emergency delivery, or (operations.dealer_shortage=backorder) "
                "the dealer's next receipts",
            ),
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
            _int(
                "open_orders",
                ("locations", "skus"),
                "units",
                "the DCs' backorder book: a dealer row is what it ordered from its DC and was not shipped yet, a DC "
                "row minus what it owes its dealers (each SKU's rows sum to 0)",
                minimum=None,
            ),
            _float(
                "open_since_day",
                ("dealer_cells",),
                "day",
                "day the oldest open units of a dealer cell were ordered (inf: nothing owed); the book is filled oldest first",
                minimum=0,
            ),
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
                "dealer_yard_queues",
                (("dealer", "dealer"), ("spec", "spec")),
                "-",
                "each dealer yard's spec queues in the order they were opened, empty ones too (sales and "
                "searches read the queues in this order)",
            ),
            _table(
                "stockyard_queues",
                (("stockyard", "stockyard"), ("spec", "spec")),
                "-",
                "each stockyard pool's spec queues in the order they were opened, empty ones too (allocation "
                "reads the pool in this order)",
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
                (
                    ("load", "id"),
                    ("dealer", "dealer"),
                    ("carrier", "carrier"),
                    ("vehicle", "vehicle"),
                    ("claimed_day", "time"),
                ),
                "-",
                "loads formed and waiting for a free truck, in queue order, with when each claimed its truck "
                "(a disruption's holds claim theirs at its start: loads formed before it are ahead of them)",
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
        open_prefixes=(
            "alerts_alert_",
            "alerts_stockout_",
            "vehicle_",
            "tower_accuracy_",
            "tower_previous",
            "forecast_errors",
        ),
    ),
    Section(
        "settlement",
        "twin.engine.settlement_posting.SettlementFlow",
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
        "twin.engine.dealer_transfers.RebalancingFlow",
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
    Section(
        "oem_export",
        "twin.engine.parts_export.PartsExport",
        "What the OEM sees of dealers' parts with operations.parts_visibility=weekly_export: the last DMS export "
        "plus its own shipments since, and the demand lines the next export brings.",
        (
            _int(
                "on_hand",
                _DEALER_SKU,
                "units",
                "on the shelf as the OEM sees it (own transfers out applied)",
                None,
            ),
            _int("reserved", _DEALER_SKU, "units", "held for counter pickups, as exported"),
            _int("in_transit", _DEALER_SKU, "units", "on the way, as exported plus what the OEM sent since"),
            _int("backorder", _DEALER_SKU, "units", "owed to customers, as exported"),
            _float(
                "inbound_eta_day",
                ("dealer_cells",),
                "day",
                "promised arrival of the earliest inbound the OEM knows of (inf: none)",
                minimum=0,
            ),
            Field("in_stockout", "bool", ("dealer_cells",), "flag", "cell out of stock in the last export"),
            _int(
                "as_of_day",
                (1,),
                "day",
                "the day the export is as of (its end; -1: the opening position)",
                -1,
            ),
            _int("held_days", (None,), "day", "days of demand held for the next export, oldest first"),
            _table(
                "held_demand",
                (("day", "day"), ("cell", "cell"), ("units", "units")),
                "units",
                "demand per dealer cell and day, held for the next export (the forecaster learns it then)",
            ),
        ),
        optional=True,
    ),
    Section(
        "queries",
        "twin.engine.dealer_queries.DealerQueries",
        "Dealers' questions (queries.enabled): every question asked or planned and its answers so far, the "
        "regional managers' queue, the OEM's last weekly picture the managers answer from, and the events watched.",
        (
            _table(
                "questions",
                (
                    ("number", "id"),
                    ("asked_day", "time"),
                    ("dealer", "dealer"),
                    ("intent", "id"),
                    ("trigger", "any"),
                    ("vehicle", "any"),
                    ("sku", "any"),
                    ("model", "any"),
                    ("escalation", "any"),
                    ("clara_answered", "count"),
                    ("first_answer_day", "any"),
                    ("first_answer_accurate", "any"),
                    ("reopened", "count"),
                    ("manager_minutes", "any"),
                    ("closed", "count"),
                ),
                "-",
                "one row per question (twin.engine.dealer_queries.Question; -1: none or not yet)",
            ),
            Field("question_texts", "str", (None,), "text", "each question's text, by question number"),
            _int("tomorrow", (None,), "id", "triggered questions planned for the next day"),
            _table(
                "manager_due",
                (("question", "id"), ("answer_time", "time")),
                "-",
                "questions a manager is answering or will answer, and when",
            ),
            _float(
                "managers_free_at", ("regions", None), "time", "when each manager of a region is next free", 0
            ),
            _table(
                "watched",
                (("vehicle", "vehicle"), ("dealer", "dealer"), ("late_after", "time")),
                "-",
                "cars allocated and waiting for their truck, and when they count as late",
            ),
            _int("reported_late", (None,), "id", "cars already reported late (one question each)"),
            Field("backordered", "bool", _DEALER_SKU, "flag", "dealer cells on backorder at the last look"),
            _int("claims_seen", (1,), "count", "incentive claims already looked at"),
            _int("export_on_hand", _DEALER_SKU, "units", "dealers' parts as of the last weekly export", None),
            _int("export_reserved", _DEALER_SKU, "units", "reserved for customer orders, as exported"),
            _int("export_workshop_wip", _DEALER_SKU, "units", "in the workshop, as exported"),
            _int("export_in_transit", _DEALER_SKU, "units", "on the way, as exported"),
            _float(
                "export_inbound_eta_day",
                _DEALER_SKU,
                "day",
                "next consignment due, as exported (inf: none)",
                0,
            ),
            _int(
                "export_as_of_days", (2,), "day", "the parts and vehicle exports' days (-1/-2: opening)", -2
            ),
            _table(
                "export_due_days",
                (("dealer", "dealer"), ("model", "any"), ("due_time", "time")),
                "-",
                "first car due per dealer and model (model -1: any) as of the last vehicle export",
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
