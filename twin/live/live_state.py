"""The live state shadow mode keeps: what the feeds say, applied idempotently and in order per entity.

It holds the observable part of ``twin.domain.state.NetworkState`` (the parts positions of every location
and the VIN table) plus what the feeds add (open consignments and their ETAs, demand lines by day, carrier
invoices, per-source freshness) and the bookkeeping that makes applying exact:
- duplicates: a source numbers its messages (``sequence``); per source we keep the highest number below which
  every message was seen, and the few above it, so a resend is known in O(sources) memory;
- order per entity: a parts cell takes the levels of the highest-``sequence`` message of its location's
  source that mentions it (a full snapshot mentions every cell); a VIN takes the record with the highest
  ``vin_revision``. An older message that arrives late changes nothing it has been overtaken on;
- master data: a record naming an unknown dealer, part number, spec or an invalid VIN is refused whole
  (``FeedRecordError``) before anything changes, so the caller can dead-letter it.
Pure data and numpy; no SimPy, so the live service and the twin's shadow run share it.
"""

from __future__ import annotations

import itertools
import json
import math
import operator
import os
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from twin.domain.state import NetworkState
from twin.domain.state_schema import VEHICLE_COLUMN_NAMES
from twin.domain.vehicles import NOT_YET, SiteKind, VehicleStatus
from twin.domain.vin import validate_vin
from twin.errors import ConfigError, VinError
from twin.live.codes import SECONDS_PER_DAY, SUPPLIER_ID, FeedClock, MasterCodes
from twin.live.contract import (
    EVENT_CLASSES,
    CarrierInvoiceEvent,
    CarrierTrackingEvent,
    ConsignmentCreatedEvent,
    FeedRecordError,
    IssueLines,
    IssueLinesEvent,
    PackedIssueLines,
    PackedPositionLines,
    PositionDeltaEvent,
    PositionLines,
    PositionSnapshotEvent,
    VehicleEvent,
    VehicleRecord,
    timestamp_seconds,
)

#: the parts position fields, as in the state's ``parts`` section (feed name ``on_order`` = ``in_transit``)
POSITION_FIELDS = ("on_hand", "reserved", "workshop_wip", "in_transit", "backorder")
#: the DMS calls units shipped and not yet received "on order"
FEED_FIELD_NAMES = {"in_transit": "on_order"}
_STATUS_BY_NAME = {status.name.lower(): status for status in VehicleStatus}
_SITE_BY_NAME = {kind.name.lower(): kind for kind in SiteKind}
#: plain ints for the numpy columns (an IntEnum costs a conversion on every store)
_STATUS_CODE = {name: int(status) for name, status in _STATUS_BY_NAME.items()}
_SITE_CODE = {name: int(kind) for name, kind in _SITE_BY_NAME.items()}
_ROAD, _CUSTOMER = int(SiteKind.ROAD), int(SiteKind.CUSTOMER)
_DAY_COLUMNS = ("ordered_day", "built_day", "shipped_day", "received_day", "delivered_day", "eta_day")
#: the VIN table's columns as one record writes them (``VinTable.write``)
_ROW_FIELDS = ("revision", "spec", "status", "site_kind", "site_index", "dealer", "customer_order",
               *_DAY_COLUMNS)  # fmt: skip
#: two timestamps closer than this are the same instant (a feed carries microseconds; days are float64)
TIME_TOLERANCE_DAYS = 1e-6
#: the largest piece count a position cell holds (int32)
_MAX_PIECES = int(np.iinfo(np.int32).max)
#: a VIN record's timestamps, in ``_DAY_COLUMNS`` order, in one C call
_VIN_TIMESTAMPS = operator.attrgetter(
    "ordered_at", "built_at", "shipped_at", "received_at", "delivered_at", "eta"
)
#: timestamp texts whose days ``LiveState`` keeps (cleared when full: it is only a cache)
_DAYS_KEPT = 500_000


class Applied:
    """What applying one event did (counted in the shadow report)."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    #: applied, but every entity in it had already been overtaken by a newer message
    SUPERSEDED = "superseded"


@dataclass
class SourceBook:
    """Per source: messages seen (for duplicates) and freshness."""

    #: every sequence <= this was seen
    contiguous: int = 0
    #: sequences seen above ``contiguous``
    above: set[int] = field(default_factory=set)
    #: newest ``occurred_at`` seen (days) and how many messages applied
    last_occurred_day: float = -math.inf
    events: int = 0

    def seen(self, sequence: int) -> bool:
        return sequence <= self.contiguous or sequence in self.above

    def mark(self, sequence: int) -> None:
        self.above.add(sequence)
        while self.contiguous + 1 in self.above:
            self.contiguous += 1
            self.above.discard(self.contiguous)


class VinTable:
    """The VIN table as growable numpy columns, one row per VIN, found by its VIN string.

    A VIN record is written as one tuple into ``_pending`` (the newest per row) and reaches the columns when
    they are next read (``columns``, ``frame``): a numpy store per field per record cost more than the rest
    of applying it. ``revisions`` keeps each row's revision as a plain list for the ordering check."""

    def __init__(self, capacity: int = 1024) -> None:
        self.row_of: dict[str, int] = {}
        self.vins: list[str] = []
        self.revisions: list[int] = []
        self._columns: dict[str, npt.NDArray[Any]] = {}
        #: row -> values in ``_ROW_FIELDS`` order, not yet in the columns
        self._pending: dict[int, tuple[Any, ...]] = {}
        self._allocate(capacity)

    def _allocate(self, capacity: int) -> None:
        old, count = self._columns, len(self.vins)
        dtypes = {
            "spec": np.int64, "status": np.int64, "site_kind": np.int64, "site_index": np.int64,
            "dealer": np.int64, "customer_order": np.bool_, "revision": np.int64,
            **dict.fromkeys(_DAY_COLUMNS, np.float64),
        }  # fmt: skip
        self._columns = {name: np.zeros(capacity, dtype=dtype) for name, dtype in dtypes.items()}
        for name, values in old.items():
            self._columns[name][:count] = values[:count]

    @property
    def columns(self) -> dict[str, npt.NDArray[Any]]:
        """Every column, with the records applied so far written in."""
        if self._pending:
            self._flush()
        return self._columns

    def _flush(self) -> None:
        rows = np.fromiter(self._pending.keys(), dtype=np.int64, count=len(self._pending))
        # one C loop over every value (``np.array`` of the tuples costs more per value)
        values = np.fromiter(
            itertools.chain.from_iterable(self._pending.values()),
            dtype=np.float64,
            count=rows.size * len(_ROW_FIELDS),
        ).reshape(rows.size, len(_ROW_FIELDS))
        for index, name in enumerate(_ROW_FIELDS):
            column = self._columns[name]
            column[rows] = values[:, index].astype(column.dtype)
        self._pending = {}

    def __len__(self) -> int:
        return len(self.vins)

    def row(self, vin: str) -> int:
        row = self.row_of.get(vin)
        if row is None:
            row = len(self.vins)
            if row == len(self._columns["spec"]):
                self._allocate(2 * row)
            self.row_of[vin] = row
            self.vins.append(vin)
            self.revisions.append(0)
        return row

    def write(self, row: int, values: tuple[Any, ...]) -> None:
        """A VIN's whole record, in ``_ROW_FIELDS`` order (the revision first)."""
        self.revisions[row] = values[0]
        self._pending[row] = values

    def frame(self) -> pd.DataFrame:
        """The table in ``VEHICLE_COLUMNS`` order (plus ``revision``), one row per VIN."""
        count = len(self.vins)
        columns = self.columns
        data: dict[str, Any] = {"vin": self.vins}
        for name in (*VEHICLE_COLUMN_NAMES[1:], "revision"):
            data[name] = columns[name][:count].copy()
        return pd.DataFrame(data)

    def load_frame(self, frame: pd.DataFrame) -> None:
        self.vins, self._columns, self._pending = [], {}, {}
        self._allocate(max(1024, 2 * len(frame)))
        self.vins = [str(vin) for vin in frame["vin"]]
        self.row_of = {vin: row for row, vin in enumerate(self.vins)}
        for name in self._columns:
            self._columns[name][: len(self.vins)] = frame[name].to_numpy()
        self.revisions = self._columns["revision"][: len(self.vins)].tolist()


@dataclass
class Consignment:
    to_location: int
    sku: npt.NDArray[np.int64]
    quantity: npt.NDArray[np.int64]
    dispatched_day: float
    eta_day: float
    carrier: str | None
    status: str = "created"
    #: when the delivery was reported (days; nan until then)
    delivered_day: float = math.nan


class LiveState:
    """Parts positions, VINs, consignments and demand as the feeds report them; see the module doc."""

    def __init__(self, codes: MasterCodes, clock: FeedClock) -> None:
        self.codes, self.clock = codes, clock
        shape = (codes.locations, codes.skus)
        #: every position field in one array, so a message's cells are written in one step; ``parts`` names
        #: its planes (views)
        self.levels = np.zeros((len(POSITION_FIELDS), *shape), dtype=np.int32)
        self.parts = _planes(self.levels)
        self.cell_sequence = np.zeros(shape, dtype=np.int64)
        self.vehicles = VinTable()
        self.sources: dict[str, SourceBook] = {}
        self.consignments: dict[str, Consignment] = {}
        #: demand lines by business day, not yet closed: day -> [cells, units requested, units lost] chunks
        self.open_demand: dict[int, list[npt.NDArray[np.int64]]] = {}
        #: demand lines that arrived for a day already closed (they reach the history, not that day's run)
        self.late_demand_lines = 0
        #: parts lines in the records accepted (position cells listed, demand lines, consignment lines): the
        #: domain volume a replay's speed is also counted in
        self.parts_lines_accepted = 0
        #: days whose demand has been handed to the policies (the shadow runner closes them)
        self.closed_days: set[int] = set()
        self.invoices: dict[str, int] = {}
        self.invoice_paise_by_carrier: dict[str, int] = {}
        self._handlers = self._handler_table()
        #: days since the clock's origin of each timestamp text seen lately, and None -> ``NOT_YET`` (a VIN
        #: step not reached): a VIN's record repeats its timestamps in every message. Read-only outside;
        #: ``day_of_text`` fills it
        self.days_of_text: dict[str | None, float] = {None: NOT_YET}

    def day_of_text(self, text: str) -> float:
        """A feed timestamp's days since the clock's origin (``FeedClock.day_of``), kept per text."""
        day = self.days_of_text.get(text)
        return day if day is not None else self._learn_days((text,))[0]

    def _learn_days(self, texts: tuple[str | None, ...]) -> tuple[float, ...]:
        """``FeedClock.day_of`` of each text (None: ``NOT_YET``), remembered."""
        known = self.days_of_text
        if len(known) >= _DAYS_KEPT:
            known.clear()
            known[None] = NOT_YET
        origin_seconds = self.clock.origin_seconds
        for text in texts:
            if text is not None and text not in known:
                known[text] = (timestamp_seconds(text) - origin_seconds) / SECONDS_PER_DAY
        return tuple(map(known.__getitem__, texts))

    # -- entry point --------------------------------------------------------------------------------------
    def apply(self, event: Any, occurred_day: float | None = None) -> str:
        """Apply one parsed event; returns an ``Applied`` value, or raises ``FeedRecordError`` (nothing
        changed) when it names something the master data does not know. ``occurred_day``: the event's
        ``occurred_at`` in days, when the caller has it already."""
        book = self.sources.get(event.source)
        if book is None:
            book = self.sources[event.source] = SourceBook()
        sequence = event.sequence
        if sequence <= book.contiguous or sequence in book.above:
            return Applied.DUPLICATE
        handler = self._handlers.get(type(event))
        if handler is None:
            raise FeedRecordError("type", getattr(event, "type", None), "no handler for this event type")
        outcome = handler(event)
        if sequence == book.contiguous + 1 and not book.above:
            book.contiguous = sequence  # the usual case: the next message in order
        else:
            book.mark(sequence)
        book.events += 1
        if occurred_day is None:
            occurred_day = self.day_of_text(event.occurred_at)
        if occurred_day > book.last_occurred_day:
            book.last_occurred_day = occurred_day
        return outcome

    def _handler_table(self) -> dict[type, Callable[[Any], str]]:
        """The apply function of each event class (one dictionary lookup per event instead of a chain of
        isinstance checks)."""
        table: dict[type, Callable[[Any], str]] = {
            PositionDeltaEvent: self._apply_position,
            PositionSnapshotEvent: self._apply_position,
            IssueLinesEvent: self._apply_issue_lines,
            ConsignmentCreatedEvent: self._apply_consignment,
            CarrierTrackingEvent: self._apply_tracking,
            CarrierInvoiceEvent: self._apply_invoice,
        }
        for event_class in EVENT_CLASSES.values():
            if issubclass(event_class, VehicleEvent):
                table[event_class] = self._apply_vehicle
        return table

    # -- parts ------------------------------------------------------------------------------------------
    def _location(self, field_name: str, code: str, source: str) -> int:
        location = self.codes.location_index.get(code)
        if location is None:
            raise FeedRecordError(field_name, code, "unknown dealer or parts DC id")
        owner = self.codes.location_sources[location]
        if source != owner:
            raise FeedRecordError("source", source, f"location {code} is reported by {owner} only")
        return location

    def _skus(self, field_name: str, part_numbers: list[str]) -> npt.NDArray[np.int64]:
        index = self.codes.sku_index
        try:  # the common case in one C loop; the slow path below only names the culprit
            return np.fromiter(map(index.__getitem__, part_numbers), dtype=np.int64, count=len(part_numbers))
        except KeyError:
            position = next(at for at, code in enumerate(part_numbers) if code not in index)
            raise FeedRecordError(
                f"{field_name}[{position}]", part_numbers[position], "unknown part number"
            ) from None

    def _packed_skus(
        self, field_name: str, packed: PackedPositionLines | PackedIssueLines
    ) -> npt.NDArray[np.int64]:
        """A packed record's SKU indices: in bulk, or code by code when that fails (naming the culprit)."""
        skus = self.codes.packed_part_numbers.skus(packed.part_number, packed.count)
        return skus if skus is not None else self._skus(field_name, packed.part_numbers)

    def _apply_position(self, event: PositionDeltaEvent | PositionSnapshotEvent) -> str:
        payload = event.payload
        full = type(event) is PositionSnapshotEvent
        location = self._location("payload.location_id", payload.location_id, event.source)
        packed = payload.packed_lines
        values: npt.NDArray[Any]
        if packed is not None:  # schema 2: the contract decoded the columns ([field, line] int32, >= 0)
            prefix, lines_count, values = "payload.packed_lines", packed.count, packed.quantities
            skus = self._packed_skus(f"{prefix}.part_number", packed)
            if _repeats(skus):
                raise FeedRecordError(
                    f"{prefix}.part_number", payload.location_id, "a part number is listed twice"
                )
        else:
            lines = typing.cast(PositionLines, payload.lines)  # the contract holds one of the two forms
            prefix, part_numbers = "payload.lines", lines.part_number
            skus = self._skus(f"{prefix}.part_number", part_numbers)
            # one C loop over the five columns (the contract made them equally long)
            values = _quantities(
                prefix,
                (lines.on_hand, lines.reserved, lines.workshop_wip, lines.on_order, lines.backorder),
                skus.size,
            )
            lines_count = len(part_numbers)
            if len(set(part_numbers)) != skus.size:
                raise FeedRecordError(
                    f"{prefix}.part_number", payload.location_id, "a part number is listed twice"
                )
        if skus.size:
            if np.count_nonzero(values[1] > values[0]):  # (one C call: ``any()`` costs more)
                bad = int(np.flatnonzero(values[1] > values[0])[0])
                raise FeedRecordError(
                    f"{prefix}.reserved[{bad}]",
                    int(values[1, bad]),
                    f"exceeds on_hand {int(values[0, bad])}",
                )
            if packed is None and values.max() > _MAX_PIECES:  # packed columns are int32 already
                raise FeedRecordError(prefix, int(values.max()), "quantity beyond 2^31 pieces")
        sequence = event.sequence
        if full:
            # a full export: every part number it does not list is zero at this location
            levels = np.zeros((len(POSITION_FIELDS), self.codes.skus), dtype=np.int64)
            levels[:, skus] = values
            skus, values = np.arange(self.codes.skus), levels
        self.parts_lines_accepted += lines_count
        location_sequence = self.cell_sequence[location]
        newer = location_sequence[skus] < sequence
        fresh = np.count_nonzero(newer)  # one C call for "none" and "all" (ufunc reductions cost more)
        if not fresh:
            return Applied.SUPERSEDED
        if fresh != newer.size:
            skus, values = skus[newer], values[:, newer]
        self.levels[:, location][:, skus] = values  # (the location's view first: cheaper than one index)
        location_sequence[skus] = sequence
        return Applied.APPLIED

    def _apply_issue_lines(self, event: IssueLinesEvent) -> str:
        payload = event.payload
        dealer = self.codes.dealer_index.get(payload.dealer_id)
        if dealer is None:
            raise FeedRecordError("payload.dealer_id", payload.dealer_id, "unknown dealer id")
        if event.source != f"DMS:{payload.dealer_id}":
            raise FeedRecordError(
                "source", event.source, f"dealer {payload.dealer_id}'s lines come from its DMS"
            )
        packed = payload.packed_lines
        if packed is not None:  # schema 2: requested, issued, lost decoded by the contract (int32, >= 0)
            prefix = "payload.packed_lines"
            skus = self._packed_skus("payload.packed_lines.part_number", packed)
            requested, issued, lost = packed.quantities.astype(np.int64)
        else:
            lines = typing.cast(IssueLines, payload.lines)  # the contract holds one of the two forms
            prefix = "payload.lines"
            skus = self._skus("payload.lines.part_number", lines.part_number)
            requested, issued, lost = _quantities(
                "payload.lines",
                (lines.quantity_requested, lines.quantity_issued, lines.quantity_lost),
                skus.size,
            )
        over = issued + lost > requested
        if np.count_nonzero(over):
            bad = int(np.flatnonzero(over)[0])
            raise FeedRecordError(
                f"{prefix}.quantity_issued[{bad}]",
                int(issued[bad]),
                f"issued + lost exceed the {int(requested[bad])} pieces requested",
            )
        day = self.clock.day_of_date(payload.business_date)
        chunk = np.empty((len(skus), 3), dtype=np.int64)
        np.add(skus, dealer * self.codes.skus, out=chunk[:, 0])
        chunk[:, 1] = requested
        chunk[:, 2] = lost
        self.parts_lines_accepted += len(skus)
        if day in self.closed_days:
            self.late_demand_lines += len(skus)
        self.open_demand.setdefault(day, []).append(chunk)
        return Applied.APPLIED

    def demand_of_day(self, day: int) -> npt.NDArray[np.int64]:
        """``[lines, 3]``: flat dealer cell, units requested, units lost, for one business day."""
        chunks = self.open_demand.get(day)
        if not chunks:
            return np.zeros((0, 3), dtype=np.int64)
        return np.concatenate(chunks)

    # -- vehicles ---------------------------------------------------------------------------------------
    def _apply_vehicle(self, event: VehicleEvent) -> str:
        record: VehicleRecord = event.payload
        codes = self.codes
        row = self.vehicles.row_of.get(record.vin)
        if row is None:  # a VIN already on file passed this check
            try:
                validate_vin(record.vin)
            except VinError as error:
                raise FeedRecordError("payload.vin", record.vin, str(error)) from None
        spec = codes.spec_index.get(record.spec_code)
        if spec is None:
            raise FeedRecordError("payload.spec_code", record.spec_code, "unknown spec")
        site_kind = _SITE_CODE[record.location_type]
        site_index = -1
        if record.location_id is not None:
            site = codes.site_of.get(record.location_id)
            if site is None:
                raise FeedRecordError(
                    "payload.location_id", record.location_id, "unknown plant, stockyard or dealer"
                )
            if site_kind != _ROAD and site[0] != site_kind:
                raise FeedRecordError(
                    "payload.location_id",
                    record.location_id,
                    f"is a {site[0].name.lower()}, not a {record.location_type}",
                )
            site_index = site[1]
        elif site_kind != _CUSTOMER:
            raise FeedRecordError("payload.location_id", None, f"required at a {record.location_type}")
        dealer = -1
        if record.dealer_id is not None:
            found = codes.dealer_index.get(record.dealer_id)
            if found is None:
                raise FeedRecordError("payload.dealer_id", record.dealer_id, "unknown dealer id")
            dealer = found
        table = self.vehicles
        row = table.row(record.vin) if row is None else row
        if record.vin_revision <= table.revisions[row]:
            return Applied.SUPERSEDED
        texts = _VIN_TIMESTAMPS(record)
        try:  # one C loop when every timestamp was seen before (most: a VIN repeats its record)
            days = tuple(map(self.days_of_text.__getitem__, texts))
        except KeyError:
            days = self._learn_days(texts)
        table.write(
            row,
            (record.vin_revision, spec, _STATUS_CODE[record.status], site_kind, site_index, dealer,
             record.customer_order, *days),
        )  # fmt: skip
        return Applied.APPLIED

    # -- consignments, tracking, invoices ---------------------------------------------------------------
    def _apply_consignment(self, event: ConsignmentCreatedEvent) -> str:
        payload = event.payload
        to_location = self.codes.location_index.get(payload.ship_to_id)
        if to_location is None:
            raise FeedRecordError("payload.ship_to_id", payload.ship_to_id, "unknown dealer or parts DC id")
        if payload.ship_from_id != SUPPLIER_ID and payload.ship_from_id not in self.codes.location_index:
            raise FeedRecordError("payload.ship_from_id", payload.ship_from_id, "unknown parts DC id")
        skus = self._skus("payload.lines.part_number", payload.lines.part_number)
        existing = self.consignments.get(payload.consignment_id)
        consignment = Consignment(
            to_location=to_location,
            sku=skus,
            quantity=np.asarray(payload.lines.quantity, dtype=np.int64),
            dispatched_day=self.day_of_text(payload.dispatched_at),
            eta_day=self.day_of_text(payload.eta),
            carrier=payload.carrier_id,
        )
        if existing is not None:  # tracking arrived first: keep what it said
            consignment.status, consignment.eta_day = existing.status, existing.eta_day
        self.consignments[payload.consignment_id] = consignment
        self.parts_lines_accepted += len(skus)
        return Applied.APPLIED

    def _apply_tracking(self, event: CarrierTrackingEvent) -> str:
        payload = event.payload
        consignment = self.consignments.get(payload.consignment_id)
        if consignment is None:  # the carrier can be faster than the DC: keep a placeholder
            consignment = self.consignments[payload.consignment_id] = Consignment(
                -1, np.zeros(0, np.int64), np.zeros(0, np.int64), math.nan, math.inf, None
            )
        if consignment.status == "delivered":
            return Applied.SUPERSEDED
        consignment.status = payload.status
        if payload.status == "delivered":
            consignment.delivered_day = self.day_of_text(event.occurred_at)
        if payload.eta is not None:
            consignment.eta_day = self.day_of_text(payload.eta)
        return Applied.APPLIED

    def _apply_invoice(self, event: CarrierInvoiceEvent) -> str:
        payload = event.payload
        if payload.carrier_id not in self.codes.carrier_index:
            raise FeedRecordError("payload.carrier_id", payload.carrier_id, "unknown carrier id")
        paise = int(payload.amount_inr * 100)
        known = self.invoices.get(payload.invoice_number)
        if known is not None:
            if known != paise:
                raise FeedRecordError(
                    "payload.amount_inr",
                    str(payload.amount_inr),
                    f"invoice {payload.invoice_number} was billed at {known / 100:.2f}",
                )
            return Applied.SUPERSEDED
        self.invoices[payload.invoice_number] = paise
        self.invoice_paise_by_carrier[payload.carrier_id] = (
            self.invoice_paise_by_carrier.get(payload.carrier_id, 0) + paise
        )
        return Applied.APPLIED

    def forget_delivered(self, before_day: float) -> int:
        """Drop consignments delivered before ``before_day`` (a late duplicate is caught by its event id), so
        a year of consignments does not pile up; returns how many went."""
        gone = [
            key
            for key, c in self.consignments.items()
            if c.status == "delivered" and c.delivered_day < before_day
        ]
        for key in gone:
            del self.consignments[key]
        return len(gone)

    def open_inbound(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Lines of consignments not yet delivered: flat cell (location * skus + sku), units, ETA day."""
        open_ones = [
            consignment
            for consignment in self.consignments.values()
            if consignment.status != "delivered" and consignment.to_location >= 0
        ]
        if not open_ones:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        # one array call per column for all consignments (a year has tens of thousands in flight)
        lines = np.fromiter((c.sku.size for c in open_ones), dtype=np.int64, count=len(open_ones))
        cells = np.concatenate([c.sku for c in open_ones])
        cells += np.repeat(
            np.fromiter((c.to_location for c in open_ones), dtype=np.int64, count=len(open_ones))
            * self.codes.skus,
            lines,
        )
        etas = np.repeat(
            np.fromiter((c.eta_day for c in open_ones), dtype=np.float64, count=len(open_ones)), lines
        )
        return cells, np.concatenate([c.quantity for c in open_ones]), etas

    # -- comparison with the truth ----------------------------------------------------------------------
    def differences(self, truth: NetworkState) -> dict[str, int]:
        """Cells and VIN fields that differ from a ground-truth state: per parts field and VIN column."""
        found: dict[str, int] = {}
        for name in POSITION_FIELDS:
            found[f"parts:{name}"] = int(np.count_nonzero(self.parts[name] != truth.arrays[f"parts:{name}"]))
        truth_frame = truth.vehicles
        mine = self.vehicles.frame().set_index("vin")
        theirs = truth_frame.set_index("vin")
        missing = theirs.index.difference(mine.index)
        extra = mine.index.difference(theirs.index)
        columns = [name for name in VEHICLE_COLUMN_NAMES if name != "vin"]
        found["vehicles:missing_vins"] = int(missing.size) * len(columns)
        found["vehicles:unknown_vins"] = int(extra.size) * len(columns)
        common = theirs.index.intersection(mine.index)
        left, right = mine.loc[common, columns], theirs.loc[common, columns]
        for name in columns:
            a, b = left[name].to_numpy(), right[name].to_numpy()
            if name in _DAY_COLUMNS:
                differ = ~np.isclose(a.astype(float), b.astype(float), rtol=0, atol=TIME_TOLERANCE_DAYS)
            else:
                differ = a.astype(np.int64) != b.astype(np.int64)
            found[f"vehicles:{name}"] = int(np.count_nonzero(differ))
        return found

    def differing_locations(self, truth: NetworkState, limit: int = 20) -> dict[str, int]:
        """Where the parts differences are: differing cells per location (most first), to explain them
        (a weekly-export dealer, a silent DMS)."""
        per_location = np.zeros(self.codes.locations, dtype=np.int64)
        for name in POSITION_FIELDS:
            per_location += (self.parts[name] != truth.arrays[f"parts:{name}"]).sum(axis=1)
        order = np.argsort(-per_location, kind="stable")[:limit]
        return {
            self.codes.location_ids[location]: int(per_location[location])
            for location in order
            if per_location[location]
        }

    # -- checkpoint -------------------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, npt.NDArray[Any]] = {f"parts:{name}": values for name, values in self.parts.items()}
        arrays["cell_sequence"] = self.cell_sequence
        for day, chunks in self.open_demand.items():
            arrays[f"demand:{day}"] = np.concatenate(chunks)
        # every consignment's lines in one array (one archive member per consignment made a checkpoint slow):
        # row 0 the SKUs, row 1 the quantities, consignment after consignment
        consignments = self.consignments.values()
        arrays["consignment_lines"] = (
            np.stack(
                [
                    np.concatenate([consignment.sku for consignment in consignments]),
                    np.concatenate([consignment.quantity for consignment in consignments]),
                ]
            )
            if consignments
            else np.zeros((2, 0), np.int64)
        )
        with open(folder / "live_arrays.npz", "wb") as handle:
            np.savez(handle, **arrays)  # type: ignore[arg-type]
        self.vehicles.frame().to_parquet(folder / "live_vehicles.parquet", index=False)
        meta = {
            "network_codes": self.codes.fingerprint(),
            "sources": {
                name: [book.contiguous, sorted(book.above), book.last_occurred_day, book.events]
                for name, book in self.sources.items()
            },
            "consignments": {
                name: [
                    c.to_location,
                    c.dispatched_day,
                    c.eta_day,
                    c.carrier,
                    c.status,
                    c.delivered_day,
                    c.sku.size,
                ]
                for name, c in self.consignments.items()
            },
            "late_demand_lines": self.late_demand_lines,
            "parts_lines_accepted": self.parts_lines_accepted,
            "closed_days": sorted(self.closed_days),
            "invoices": self.invoices,
            "invoice_paise_by_carrier": self.invoice_paise_by_carrier,
        }
        (folder / "live_meta.json").write_text(json.dumps(meta, allow_nan=True))

    def load(self, folder: Path) -> None:
        with np.load(folder / "live_arrays.npz") as archive:
            arrays = {key: archive[key] for key in archive.files}
        self.levels = np.stack([arrays[f"parts:{name}"] for name in POSITION_FIELDS]).astype(
            np.int32, copy=False
        )
        self.parts = _planes(self.levels)
        self.cell_sequence = arrays["cell_sequence"].copy()
        self.vehicles.load_frame(pd.read_parquet(folder / "live_vehicles.parquet"))
        meta = json.loads((folder / "live_meta.json").read_text())
        if meta.get("network_codes") != self.codes.fingerprint():
            raise ConfigError(
                "network",
                meta.get("network_codes"),
                f"the live state in {folder} was built on another network (its dealer, part, spec and site codes "
                f"differ from this run's, {self.codes.fingerprint()})",
            )
        self.sources = {
            name: SourceBook(int(contiguous), set(above), float(last), int(events))
            for name, (contiguous, above, last, events) in meta["sources"].items()
        }
        self.open_demand = {
            int(key.split(":", 1)[1]): [values] for key, values in arrays.items() if key.startswith("demand:")
        }
        self.consignments = {}
        all_lines, start = arrays.get("consignment_lines"), 0
        for name, (to_location, dispatched, eta, carrier, status, delivered, *count) in meta[
            "consignments"
        ].items():
            if all_lines is None:  # a checkpoint written before the lines were kept in one array
                lines = arrays[f"consignment_lines:{name}"]
            else:
                lines, start = all_lines[:, start : start + int(count[0])], start + int(count[0])
            self.consignments[name] = Consignment(
                int(to_location), lines[0].copy(), lines[1].copy(), float(dispatched), float(eta), carrier, status,
                float(delivered),
            )  # fmt: skip
        self.late_demand_lines = int(meta["late_demand_lines"])
        self.parts_lines_accepted = int(meta.get("parts_lines_accepted", 0))  # absent before it was counted
        self.closed_days = set(meta["closed_days"])
        self.invoices = {key: int(value) for key, value in meta["invoices"].items()}
        self.invoice_paise_by_carrier = {key: int(v) for key, v in meta["invoice_paise_by_carrier"].items()}


def _planes(levels: npt.NDArray[np.int32]) -> dict[str, npt.NDArray[np.int32]]:
    """Each position field's ``[location, sku]`` plane of the stacked levels (views: writes go through)."""
    return {name: levels[row] for row, name in enumerate(POSITION_FIELDS)}


def _repeats(skus: npt.NDArray[np.int64]) -> bool:
    """Whether a SKU is listed twice: feeds list them in ascending order, which one comparison confirms;
    any other order is sorted to tell."""
    if skus.size < 2 or not np.count_nonzero(skus[1:] <= skus[:-1]):
        return False
    return bool(np.unique(skus).size != skus.size)


def _quantities(field_name: str, columns: tuple[list[int], ...], count: int) -> npt.NDArray[np.int64]:
    """Equally long lists of piece counts -> one ``[columns, count]`` array, in one C loop."""
    try:
        values = np.fromiter(
            itertools.chain.from_iterable(columns), dtype=np.int64, count=len(columns) * count
        )
    except OverflowError:
        raise FeedRecordError(
            field_name, max(max(column, default=0) for column in columns), "quantity beyond 2^31 pieces"
        ) from None
    return values.reshape(len(columns), count)


def atomic_write_text(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
