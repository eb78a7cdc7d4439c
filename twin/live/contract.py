"""The live feed contract: one versioned event envelope, a typed payload per event type, one validating parser.

Every record a dealer DMS, the OEM, a parts DC or a carrier sends is one JSON object (one line of a JSONL
file, or the ``record`` field of a Redis Stream entry). ``parse_record`` is the only way in: it checks the
JSON, the envelope and the payload (types, units, ranges) and returns a typed ``FeedEvent`` or raises
``FeedRecordError`` naming the field and the value. Whether the ids in a valid record exist (a dealer, a part
number, a VIN's spec) is master data, checked when the record is applied (``twin.live.live_state``).
``docs/feeds.md`` documents every field; ``python -m twin.live.contract`` regenerates its reference part.

Parsing is most of a replay's time (a year of the default network's feed is 3M records): msgspec validates
while it decodes, in one pass over the tagged union (the ``type`` tag comes before the payload); timestamps
stay text in the typed event, each distinct text checked once (RFC 3339 with an offset) and its POSIX seconds
kept (``timestamp_seconds``), because a VIN's record repeats its timestamps in every message; a source's name
is matched against ``SOURCE_PATTERN`` once per source, not per record. From schema version 2 the bulk parts
records (positions, demand lines) may come packed (``packed_lines``): quantities as base64 int32 columns that
msgspec decodes in C and ``np.frombuffer`` turns into one array, part numbers as one joined string, so a
record's hundreds of lines make no Python object per quantity.

Ordering and duplicates rest on two envelope fields:
- ``sequence``: each source numbers its messages 1, 2, 3, ... and a resend keeps its number, so
  ``event_id`` is ``<source>/<sequence>`` and a duplicate is recognised without keeping every id ever seen;
- per entity, the newest message wins by the source's own numbering (parts cells: the owning source's
  ``sequence``; a VIN: the OEM vehicle master's ``vin_revision``), never by clocks, which may be skewed.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
import re
import types
import typing
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
import numpy as np
import numpy.typing as npt
from msgspec import Meta, Struct

from twin.errors import TwinError

#: bumped when a field changes meaning or a required field is added; versions not in
#: ``FEED_SCHEMA_VERSIONS`` are refused by name. 2 added the packed bulk lines (``packed_lines``).
FEED_SCHEMA_VERSION = 2
#: the versions this reader accepts: 1 (bulk lines as JSON lists only) and 2 (also packed)
FEED_SCHEMA_VERSIONS = (1, 2)
#: joins the part numbers (and document numbers) of a packed record: never part of a master-data code
PACKED_CODE_SEPARATOR = "|"
#: the integer columns of a packed record: base64 of little-endian int32 values, one per line
PACKED_INT_DTYPE = np.dtype("<i4")
#: sources: one per dealer DMS, the OEM (vehicle master, allocation, logistics), each parts DC, each carrier
SOURCE_PATTERN = r"^(DMS:[A-Z0-9-]{1,20}|OEM|DC:[A-Z0-9-]{1,20}|CARRIER:[A-Z0-9-]{1,20})$"

Quantity = Annotated[int, Meta(ge=0)]
PositiveQuantity = Annotated[int, Meta(gt=0)]
Code = Annotated[str, Meta(min_length=1, max_length=40)]
Vin = Annotated[str, Meta(min_length=17, max_length=17)]


class _TimestampText:
    """Marks a field as a timestamp carried as its text: ``parse_record`` checks it (RFC 3339, a UTC offset
    required) and turns it into POSIX seconds once per distinct text (``timestamp_seconds``), because a VIN's
    record repeats its timestamps in every message and a datetime costs ~1 us to make and convert."""

    def __repr__(self) -> str:
        return "timestamp"


TIMESTAMP = _TimestampText()
#: ISO 8601 text with a UTC offset (a bare number could be seconds, days or a typo, so it is refused)
Timestamp = Annotated[str, TIMESTAMP]
#: how a timestamp's text is checked (msgspec's RFC 3339 reader): on a cache miss only
_AWARE_DATETIME = Annotated[dt.datetime, Meta(tz=True)]
Date = dt.date
#: the only unit of measure parts quantities may carry: each (piece); a pack or a litre is a different SKU
UnitOfMeasure = Literal["EA"]


class FeedRecordError(TwinError, ValueError):
    """A record that cannot be accepted: the reason names the field and the value; it goes to dead letters."""

    def __init__(self, field: str, value: Any, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}={value!r}: {reason}")


class _Strict(Struct, forbid_unknown_fields=True, kw_only=True, gc=False):
    """Records refuse fields they do not know: a misspelt field is an error, never silently dropped.
    ``gc=False``: a record holds only scalars, lists of scalars and other records, never a cycle, so the
    cyclic garbage collector need not track the millions a replay makes."""


# -- payloads -------------------------------------------------------------------------------------------
def _same_lengths(model: Any, names: tuple[str, ...]) -> None:
    lengths = [len(getattr(model, name)) for name in names]
    if lengths.count(lengths[0]) != len(lengths):
        first = names[0]
        odd = next(name for name, length in zip(names, lengths, strict=True) if length != lengths[0])
        raise ValueError(
            f"lines.{odd} has {len(getattr(model, odd))} entries, lines.{first} {lengths[0]}: one per line"
        )


_POSITION_COLUMNS = ("part_number", "on_hand", "reserved", "workshop_wip", "on_order", "backorder")
_ISSUE_COLUMNS = ("part_number", "channel", "document_number", "quantity_requested", "quantity_issued",
                  "quantity_lost", "emergency_order")  # fmt: skip


class PositionLines(_Strict):
    """Stock per part number at a location, column-wise (entry i of every list is line i), in pieces."""

    part_number: Annotated[list[Code], Meta(description="the OEM part number (master data)")]
    on_hand: Annotated[
        list[Quantity], Meta(description="pieces on the shelf, including those reserved for counter pickup")
    ]
    reserved: Annotated[list[Quantity], Meta(description="pieces on the shelf held for open counter orders")]
    workshop_wip: Annotated[
        list[Quantity], Meta(description="pieces issued to open repair orders, not yet consumed")
    ]
    on_order: Annotated[
        list[Quantity], Meta(description="pieces shipped to this location and not yet received (in transit)")
    ]
    backorder: Annotated[
        list[Quantity], Meta(description="pieces owed to customers, awaiting an emergency delivery")
    ]
    uom: Annotated[UnitOfMeasure, Meta(description="unit of every quantity: EA (each, a piece)")] = "EA"

    def __post_init__(self) -> None:
        lengths = (len(self.on_hand), len(self.reserved), len(self.workshop_wip), len(self.on_order),
                   len(self.backorder))  # fmt: skip
        if lengths.count(len(self.part_number)) != len(lengths):  # then name the odd column
            _same_lengths(self, _POSITION_COLUMNS)


class _PackedColumnError(Exception):
    """A packed column that cannot be read: raised inside msgspec's decoding (not a ValueError, so msgspec
    passes it through unchanged) and turned into a ``FeedRecordError`` naming the column by ``parse_record``."""

    def __init__(self, field: str, value: Any, reason: str) -> None:
        super().__init__(field, value, reason)
        self.field, self.value, self.reason = field, value, reason


#: master-data codes of the lines joined by ``PACKED_CODE_SEPARATOR``, one per line, each 1..40 characters
PackedCodes = str
PackedCount = Annotated[int, Meta(ge=0, le=1_000_000, description="lines in the record")]


def _packed_int_meta(meaning: str) -> Meta:
    return Meta(description=f"{meaning}: base64 of `count` little-endian int32")


def _check_joined_codes(name: str, text: str, count: int) -> None:
    """A packed part-number column holds ``count`` codes, none empty, counted on the text (no string per
    code: the live state looks the codes up in bulk, ``PackedPartNumbers``). Whether each is a part number
    is master data, checked when the record is applied (which also bounds its length)."""
    if count == 0:
        if text:
            raise _PackedColumnError(name, _excerpt(text), "must be empty when count is 0")
        return
    separator = PACKED_CODE_SEPARATOR
    codes = text.count(separator) + 1
    if codes != count:
        raise _PackedColumnError(name, _excerpt(text), f"holds {codes} codes, count is {count}")
    if _equal_width_codes(text, count):  # the usual column: no code is empty
        return
    if not text or separator * 2 in text or text[0] == separator or text[-1] == separator:  # an empty code
        at = text.split(separator).index("")
        raise _PackedColumnError(f"{name}[{at}]", "", "a code has 1 to 40 characters")


def _equal_width_codes(text: str, count: int) -> bool:
    """Whether ``text``, holding ``count - 1`` separators (the caller counted them), is ``count`` codes of one
    width of 1 to 40 characters: the usual packed column, told by slicing the text (no string per code).
    False says nothing: the caller then checks code by code."""
    separator = PACKED_CODE_SEPARATOR
    width = text.find(separator) if count > 1 else len(text)
    return (
        1 <= width <= 40
        and len(text) == count * (width + 1) - 1
        and text[width :: width + 1] == separator * (count - 1)
    )


def split_codes(text: str) -> list[str]:
    """A packed code column (checked by ``parse_record``) -> its codes."""
    return text.split(PACKED_CODE_SEPARATOR) if text else []


def _check_codes(name: str, text: str, count: int) -> None:
    """A packed code column the state does not read (document numbers): ``count`` codes of 1..40
    characters, checked over the text's bytes with numpy (no string per code)."""
    if count == 0:
        if text:
            raise _PackedColumnError(name, _excerpt(text), "must be empty when count is 0")
        return
    if text.count(PACKED_CODE_SEPARATOR) == count - 1 and _equal_width_codes(text, count):
        return
    raw = text.encode()
    if len(raw) != len(text):  # not ASCII: bytes are not characters, check code by code
        lengths = np.fromiter(map(len, text.split(PACKED_CODE_SEPARATOR)), dtype=np.int64)
    else:  # the separators' offsets give every code's length (no np.diff: its prepend/append cost more)
        ends = np.flatnonzero(np.frombuffer(raw, dtype=np.uint8) == ord(PACKED_CODE_SEPARATOR))
        lengths = np.empty(ends.size + 1, dtype=np.int64)
        lengths[0] = ends[0] if ends.size else len(raw)
        lengths[1:-1] = ends[1:] - ends[:-1] - 1
        if ends.size:
            lengths[-1] = len(raw) - ends[-1] - 1
    if lengths.size != count:
        raise _PackedColumnError(name, _excerpt(text), f"holds {lengths.size} codes, count is {count}")
    if lengths.min() < 1 or lengths.max() > 40:
        at = int(np.flatnonzero((lengths < 1) | (lengths > 40))[0])
        code = text.split(PACKED_CODE_SEPARATOR)[at]
        raise _PackedColumnError(f"{name}[{at}]", code, "a code has 1 to 40 characters")


def _int_columns(model: Any, names: tuple[str, ...], count: int) -> npt.NDArray[np.int32]:
    """Packed integer columns (msgspec has decoded their base64 while parsing) -> one ``[column, line]``
    int32 array in one ``np.frombuffer``, no Python object per value; every value >= 0."""
    width = PACKED_INT_DTYPE.itemsize * count
    chunks = _COLUMN_GETTERS[names](model)
    joined = b"".join(chunks)
    if len(joined) != width * len(names):
        for name, chunk in zip(names, chunks, strict=True):
            if len(chunk) != width:
                raise _PackedColumnError(
                    name, len(chunk), f"holds {len(chunk)} bytes, count {count} x 4 (int32) expected"
                )
    values = np.frombuffer(joined, dtype=PACKED_INT_DTYPE).reshape(len(names), count)
    # a negative int32 has its top byte (little-endian: every fourth, from the fourth) at 0x80 or above
    if not joined[PACKED_INT_DTYPE.itemsize - 1 :: PACKED_INT_DTYPE.itemsize].isascii():
        column, line = (int(at[0]) for at in np.nonzero(values < 0))
        raise _PackedColumnError(f"{names[column]}[{line}]", int(values[column, line]), "must be >= 0")
    return values


def _letter_flags(name: str, text: str, count: int, letters: str) -> None:
    """A one-letter-per-line column holds ``count`` letters, each one of ``letters``."""
    if len(text) != count or sum(map(text.count, letters)) != count:
        if len(text) != count:
            raise _PackedColumnError(name, _excerpt(text), f"holds {len(text)} letters, count is {count}")
        at = next(index for index, letter in enumerate(text) if letter not in letters)
        raise _PackedColumnError(f"{name}[{at}]", text[at], f"must be one of {', '.join(letters)}")


#: the packed position's quantity columns, in ``twin.live.live_state.POSITION_FIELDS`` order
PACKED_POSITION_QUANTITIES = ("on_hand", "reserved", "workshop_wip", "on_order", "backorder")
#: the packed demand lines' quantity columns
PACKED_ISSUE_QUANTITIES = ("quantity_requested", "quantity_issued", "quantity_lost")
#: each packed record's quantity columns in one C call
_COLUMN_GETTERS: dict[tuple[str, ...], Callable[[Any], tuple[bytes, ...]]] = {
    names: operator.attrgetter(*names) for names in (PACKED_POSITION_QUANTITIES, PACKED_ISSUE_QUANTITIES)
}


class PackedPositionLines(_Strict, gc=True, dict=True):
    """A location's position lines packed (schema_version 2): the part numbers as one string, each
    quantity column as base64 of little-endian int32, decoded with ``np.frombuffer`` (no object per value).
    ``quantities`` (``[column, line]`` int32) is set when the record is read; ``part_numbers`` splits the
    codes on demand."""

    count: PackedCount
    part_number: Annotated[
        PackedCodes, Meta(description="the OEM part numbers (master data), joined by a vertical bar")
    ]
    on_hand: Annotated[bytes, _packed_int_meta("pieces on the shelf, including those reserved")]
    reserved: Annotated[bytes, _packed_int_meta("pieces on the shelf held for open counter orders")]
    workshop_wip: Annotated[bytes, _packed_int_meta("pieces issued to open repair orders")]
    on_order: Annotated[bytes, _packed_int_meta("pieces shipped here, not yet received (in transit)")]
    backorder: Annotated[bytes, _packed_int_meta("pieces owed to customers")]
    uom: Annotated[UnitOfMeasure, Meta(description="unit of every quantity: EA (each, a piece)")] = "EA"

    def __post_init__(self) -> None:
        _check_joined_codes("part_number", self.part_number, self.count)
        self.quantities = _int_columns(self, PACKED_POSITION_QUANTITIES, self.count)

    @property
    def part_numbers(self) -> list[str]:
        return split_codes(self.part_number)


class PackedIssueLines(_Strict, gc=True, dict=True):
    """A dealer's demand lines packed (schema_version 2): codes joined by a vertical bar, flags one letter per line,
    quantities base64 of little-endian int32. ``quantities`` (``[column, line]`` int32: requested, issued,
    lost) is set when the record is read; ``part_numbers`` splits the codes on demand."""

    count: PackedCount
    part_number: Annotated[
        PackedCodes, Meta(description="the OEM part numbers demanded, joined by a vertical bar")
    ]
    channel: Annotated[str, Meta(description="one letter per line: C counter sale, W workshop repair order")]
    document_number: Annotated[
        PackedCodes,
        Meta(description="repair (RO-...) or counter (CO-...) order numbers, joined by a vertical bar"),
    ]
    quantity_requested: Annotated[bytes, _packed_int_meta("pieces the customer asked for, > 0")]
    quantity_issued: Annotated[bytes, _packed_int_meta("pieces issued from the shelf at once")]
    quantity_lost: Annotated[bytes, _packed_int_meta("pieces the customer did not wait for (lost sale)")]
    emergency_order: Annotated[
        str,
        Meta(description="one letter per line: Y the short pieces were ordered by emergency delivery, N not"),
    ]
    uom: Annotated[UnitOfMeasure, Meta(description="unit of every quantity: EA (each, a piece)")] = "EA"

    def __post_init__(self) -> None:
        count = self.count
        _check_joined_codes("part_number", self.part_number, count)
        _letter_flags("channel", self.channel, count, "CW")
        _check_codes("document_number", self.document_number, count)
        _letter_flags("emergency_order", self.emergency_order, count, "YN")
        quantities = self.quantities = _int_columns(self, PACKED_ISSUE_QUANTITIES, count)
        if np.count_nonzero(quantities[0]) != count:  # a zero requested (one C call: ``all()`` costs more)
            line = int(np.flatnonzero(quantities[0] == 0)[0])
            raise _PackedColumnError(f"quantity_requested[{line}]", 0, "must be > 0")

    @property
    def part_numbers(self) -> list[str]:
        return split_codes(self.part_number)


def _one_form(model: Any) -> None:
    """A bulk payload carries its lines in one form: ``lines`` (lists) or ``packed_lines``."""
    if (model.lines is None) == (model.packed_lines is None):
        raise ValueError("needs exactly one of lines (lists) and packed_lines (packed, schema_version 2)")


class PartsPosition(_Strict):
    """A location's parts position: the part numbers it reports (see the event type)."""

    location_id: Annotated[Code, Meta(description="dealer id (DMS) or parts DC id")]
    lines: Annotated[
        PositionLines | None, Meta(description="column-wise: entry i of every list is line i")
    ] = None
    packed_lines: Annotated[
        PackedPositionLines | None,
        Meta(description="instead of lines (schema_version 2): packed columns, entry i of each is line i"),
    ] = None

    def __post_init__(self) -> None:
        _one_form(self)


class IssueLines(_Strict):
    """Parts demand lines as the DMS books them, filled or not (fill rate needs the unfilled ones too),
    column-wise."""

    part_number: Annotated[list[Code], Meta(description="the OEM part number demanded (master data)")]
    channel: Annotated[
        list[Literal["counter", "workshop"]], Meta(description="counter sale or workshop repair order")
    ]
    document_number: Annotated[
        list[Code], Meta(description="repair order (RO-...) or counter order (CO-...) number")
    ]
    quantity_requested: Annotated[list[PositiveQuantity], Meta(description="pieces the customer asked for")]
    quantity_issued: Annotated[list[Quantity], Meta(description="pieces issued from the shelf at once")]
    quantity_lost: Annotated[
        list[Quantity], Meta(description="pieces the customer did not wait for (lost sale)")
    ]
    emergency_order: Annotated[
        list[bool], Meta(description="the short pieces were ordered by emergency delivery")
    ]
    uom: Annotated[UnitOfMeasure, Meta(description="unit of every quantity: EA (each, a piece)")] = "EA"

    def __post_init__(self) -> None:
        lengths = (len(self.channel), len(self.document_number), len(self.quantity_requested),
                   len(self.quantity_issued), len(self.quantity_lost), len(self.emergency_order))  # fmt: skip
        if lengths.count(len(self.part_number)) != len(lengths):  # then name the odd column
            _same_lengths(self, _ISSUE_COLUMNS)


class DealerIssueLines(_Strict):
    """A dealer's parts demand lines of one business day (or part of it)."""

    dealer_id: Annotated[Code, Meta(description="the dealer (master data id); must match the DMS source")]
    business_date: Annotated[
        Date, Meta(description="the DMS's trading day the lines belong to (dealer local date)")
    ]
    lines: Annotated[IssueLines | None, Meta(description="column-wise: entry i of every list is line i")] = (
        None
    )
    packed_lines: Annotated[
        PackedIssueLines | None,
        Meta(description="instead of lines (schema_version 2): packed columns, entry i of each is line i"),
    ] = None

    def __post_init__(self) -> None:
        _one_form(self)


VehicleStatusName = Literal["ordered", "built", "in_transit", "in_yard", "reserved", "delivered"]
LocationType = Literal["plant", "stockyard", "road", "dealer", "customer"]


class VehicleRecord(_Strict):
    """The whole record of one VIN as the OEM's vehicle master holds it after the event."""

    vin: Annotated[Vin, Meta(description="17-character VIN, ISO 3779 with a valid check digit")]
    vin_revision: Annotated[
        PositiveQuantity, Meta(description="the vehicle master's record version; newest wins")
    ]
    spec_code: Annotated[Code, Meta(description="sellable spec (model x variant x colour x options)")]
    status: Annotated[VehicleStatusName, Meta(description="lifecycle step after the event")]
    location_type: Annotated[LocationType, Meta(description="kind of place the car is at (road: on its way)")]
    location_id: Annotated[
        Code | None, Meta(description="plant, stockyard or dealer id; on the road the destination")
    ]
    dealer_id: Annotated[Code | None, Meta(description="dealer allocated or sold to; null while unallocated")]
    customer_order: Annotated[bool, Meta(description="built or held against a named customer's order")]
    ordered_at: Annotated[
        Timestamp | None, Meta(description="when ordered (stock or a customer's order)")
    ] = None
    built_at: Annotated[Timestamp | None, Meta(description="when it left the line")] = None
    shipped_at: Annotated[Timestamp | None, Meta(description="when it last left a site")] = None
    received_at: Annotated[Timestamp | None, Meta(description="reached its dealer's yard (age counts)")] = (
        None
    )
    delivered_at: Annotated[Timestamp | None, Meta(description="handed over to the end customer")] = None
    eta: Annotated[Timestamp | None, Meta(description="when the current build or transport leg ends")] = None


class ConsignmentLines(_Strict):
    part_number: Annotated[list[Code], Meta(min_length=1, description="OEM part numbers shipped")]
    quantity: Annotated[list[PositiveQuantity], Meta(description="pieces shipped")]
    uom: Annotated[UnitOfMeasure, Meta(description="unit of every quantity: EA (each, a piece)")] = "EA"

    def __post_init__(self) -> None:
        _same_lengths(self, ("part_number", "quantity"))


class ConsignmentCreated(_Strict):
    """A consignment a parts DC (or a supplier, to a DC) has dispatched."""

    consignment_id: Annotated[Code, Meta(description="the DC's consignment (delivery note) number")]
    ship_from_id: Annotated[
        Code, Meta(description="parts DC id, or SUPPLIER for a supplier's delivery to a DC")
    ]
    ship_to_id: Annotated[Code, Meta(description="dealer id or parts DC id")]
    dispatched_at: Annotated[Timestamp, Meta(description="when it left the DC")]
    eta: Annotated[Timestamp, Meta(description="promised arrival (the lane's lead time)")]
    lines: Annotated[ConsignmentLines, Meta(description="column-wise: entry i of every list is line i")]
    carrier_id: Annotated[Code | None, Meta(description="carrier on the lane (master data id)")] = None


class CarrierTracking(_Strict):
    """A carrier's status of a consignment it carries (a DC confirms a supplier's delivery itself)."""

    consignment_id: Annotated[Code, Meta(description="the DC's consignment number")]
    status: Annotated[
        Literal["picked_up", "in_transit", "delayed", "delivered"], Meta(description="the step reached")
    ]
    eta: Annotated[Timestamp | None, Meta(description="the carrier's current ETA (new ETA when delayed)")] = (
        None
    )


class CarrierInvoice(_Strict):
    """A carrier's freight bill for one consignment (settlement document)."""

    invoice_number: Annotated[
        Code, Meta(description="the carrier's invoice number; a resend must repeat the amount")
    ]
    carrier_id: Annotated[Code, Meta(description="the carrier billing (master data id)")]
    consignment_id: Annotated[Code, Meta(description="the consignment billed")]
    invoice_date: Annotated[Date, Meta(description="date on the invoice")]
    amount_inr: Annotated[Decimal, Meta(description="freight, rupees, > 0, at most two decimals")]
    currency: Annotated[Literal["INR"], Meta(description="INR only: the network settles in rupees")] = "INR"

    def __post_init__(self) -> None:
        exponent = self.amount_inr.as_tuple().exponent
        if not isinstance(exponent, int) or exponent < -2 or not 0 < self.amount_inr < 10**12:
            raise ValueError(f"amount_inr {self.amount_inr} must be rupees above 0 with at most two decimals")


# -- the envelope -----------------------------------------------------------------------------------------
class _Envelope(_Strict, tag_field="type"):
    """Every record: who sent it, its number, when it happened; ``type`` (the tag) names the payload."""

    event_id: Annotated[
        str,
        Meta(
            min_length=3, max_length=80, description="'<source>/<sequence>': unique, and the same on a resend"
        ),
    ]
    #: checked against ``SOURCE_PATTERN`` by ``parse_record``, once per distinct source (a pattern here
    #: would run the regular expression on every record)
    source: Annotated[str, Meta(description="DMS:<dealer id>, OEM, DC:<parts DC id> or CARRIER:<carrier id>")]
    sequence: Annotated[
        PositiveQuantity, Meta(description="the source's message number: 1, 2, 3, ... per source")
    ]
    occurred_at: Annotated[
        Timestamp, Meta(description="when it happened, by the source's clock (ISO 8601 + offset)")
    ]
    schema_version: Annotated[
        Literal[1, 2], Meta(description="the feed schema version the source writes (2: packed lines allowed)")
    ]

    @property
    def type(self) -> str:
        return str(self.__struct_config__.tag)


class PositionSnapshotEvent(_Envelope, tag="parts.position_snapshot"):
    payload: PartsPosition


class PositionDeltaEvent(_Envelope, tag="parts.position_delta"):
    payload: PartsPosition


class IssueLinesEvent(_Envelope, tag="parts.issue_lines"):
    payload: DealerIssueLines


VEHICLE_EVENT_TYPES = (
    "vehicle.ordered",
    "vehicle.built",
    "vehicle.allocated",
    "vehicle.dispatched",
    "vehicle.arrived",
    "vehicle.reserved",
    "vehicle.sold",
    "vehicle.delivered",
    "vehicle.traded",
    "vehicle.updated",
)


class VehicleEvent(_Envelope):
    """Any ``vehicle.*`` event: the step in the type, the whole record in the payload."""

    payload: VehicleRecord


#: one tagged class per vehicle step (a tagged union needs one tag per class), all ``VehicleEvent``
VEHICLE_EVENT_CLASSES: dict[str, type[VehicleEvent]] = {
    name: types.new_class("Vehicle" + name.split(".")[1].title() + "Event", (VehicleEvent,), {"tag": name})
    for name in VEHICLE_EVENT_TYPES
}


class ConsignmentCreatedEvent(_Envelope, tag="dc.consignment_created"):
    payload: ConsignmentCreated


class CarrierTrackingEvent(_Envelope, tag="carrier.tracking"):
    payload: CarrierTracking


class CarrierInvoiceEvent(_Envelope, tag="carrier.invoice"):
    payload: CarrierInvoice


EVENT_CLASSES: dict[str, type[_Envelope]] = {
    "parts.position_snapshot": PositionSnapshotEvent,
    "parts.position_delta": PositionDeltaEvent,
    "parts.issue_lines": IssueLinesEvent,
    **VEHICLE_EVENT_CLASSES,
    "dc.consignment_created": ConsignmentCreatedEvent,
    "carrier.tracking": CarrierTrackingEvent,
    "carrier.invoice": CarrierInvoiceEvent,
}
#: the one decoder: JSON -> a typed, validated event (msgspec validates while it decodes)
_DECODER = msgspec.json.Decoder(typing.Union[tuple(EVENT_CLASSES.values())])  # noqa: UP007 - built at runtime


#: the event classes whose lines may come packed (schema_version 2)
_BULK_CLASSES = frozenset({PositionSnapshotEvent, PositionDeltaEvent, IssueLinesEvent})


def event_id_of(source: str, sequence: int) -> str:
    return f"{source}/{sequence}"


def parse_record(raw: str | bytes) -> Any:
    """One record of the feed -> a typed event, or ``FeedRecordError`` naming the first bad field."""
    try:
        event = _DECODER.decode(raw)
    except _PackedColumnError as error:
        raise FeedRecordError(f"payload.packed_lines.{error.field}", error.value, error.reason) from None
    except msgspec.ValidationError as error:
        raise _record_error(raw, str(error)) from None
    except msgspec.DecodeError as error:
        raise FeedRecordError("record", _excerpt(raw), f"not JSON: {error}") from None
    if event.source not in _SOURCES_SEEN:
        if _SOURCE.match(event.source) is None:
            raise FeedRecordError("source", event.source, f"Expected `str` matching regex {SOURCE_PATTERN!r}")
        if len(_SOURCES_SEEN) < _SOURCES_KEPT:
            _SOURCES_SEEN.add(event.source)
    if event.event_id != f"{event.source}/{event.sequence}":
        raise FeedRecordError(
            "event_id",
            event.event_id,
            f"must be '<source>/<sequence>' ({event_id_of(event.source, event.sequence)})",
        )
    if event.schema_version == 1 and type(event) in _BULK_CLASSES and event.payload.packed_lines is not None:
        raise FeedRecordError("payload.packed_lines", "packed", "packed lines need schema_version 2")
    seconds = _SECONDS
    texts = _TIMESTAMP_TEXTS[type(event)](event)
    for text in texts:
        if text is not None and text not in seconds:
            for path, unseen in zip(_TIMESTAMP_PATHS[type(event)], texts, strict=True):
                if unseen is not None and unseen not in seconds:  # (a known text is valid)
                    _learn_timestamp(path, unseen)
            break
    return event


#: sources whose name matched ``SOURCE_PATTERN`` (a network has a few thousand; capped against junk)
_SOURCE = re.compile(SOURCE_PATTERN)
_SOURCES_SEEN: set[str] = set()
_SOURCES_KEPT = 100_000


# -- timestamps ---------------------------------------------------------------------------------------------
#: POSIX seconds of every timestamp text checked lately (cleared when full: it is only a cache)
_SECONDS: dict[str, float] = {}
_SECONDS_KEPT = 500_000


def _learn_timestamp(field: str, text: str) -> float:
    """Check one timestamp's text strictly and remember its POSIX seconds; ``FeedRecordError`` if it is bad."""
    known = _SECONDS.get(text)
    if known is not None:
        return known
    try:
        moment = msgspec.convert(text, _AWARE_DATETIME)
    except msgspec.ValidationError as error:
        match = _PATH.match(str(error))
        raise FeedRecordError(field, text, match.group("reason") if match else str(error)) from None
    if len(_SECONDS) >= _SECONDS_KEPT:
        _SECONDS.clear()
    seconds = _SECONDS[text] = moment.timestamp()
    return seconds


def timestamp_seconds(text: str) -> float:
    """A feed timestamp's POSIX seconds (its text checked once, then looked up)."""
    seconds = _SECONDS.get(text)
    return seconds if seconds is not None else _learn_timestamp("timestamp", text)


def _is_timestamp(annotation: Any) -> bool:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        return any(item is TIMESTAMP for item in args[1:]) or _is_timestamp(args[0])
    if origin in (types.UnionType, typing.Union):
        return any(_is_timestamp(arg) for arg in args)
    return False


def _timestamp_paths(model: type[Struct], prefix: str = "") -> list[str]:
    """The dotted path of every timestamp field under ``model``."""
    paths = []
    for name, annotation, _required, _default in _struct_fields(model):
        if _is_timestamp(annotation):
            paths.append(prefix + name)
        nested = _nested_model(annotation)
        if nested is not None:
            paths += _timestamp_paths(nested, f"{prefix}{name}.")
    return paths


def _texts_getter(paths: list[str]) -> Callable[[Any], tuple[str | None, ...]]:
    """One C call (``operator.attrgetter``) that returns the texts at ``paths`` as a tuple."""
    getter: Callable[[Any], Any] = operator.attrgetter(*paths)
    if len(paths) > 1:
        return getter
    return lambda event: (getter(event),)


#: msgspec's messages end with the path of the offending value: "... - at `$.payload.lines.uom`"
_PATH = re.compile(r"^(?P<reason>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)


def _record_error(raw: str | bytes, message: str) -> FeedRecordError:
    match = _PATH.match(message)
    reason = match.group("reason") if match else message
    path = (match.group("path") or "") if match else ""
    field = path.lstrip(".")
    named = re.search(r"(?:unknown|missing required) field `([^`]+)`", reason)
    if named:  # the message names the field inside the object the path points at
        field = f"{field}.{named.group(1)}" if field else named.group(1)
    field = field or "record"
    if reason.startswith("Expected `str`") and field.rsplit(".", 1)[-1] in _TIMESTAMP_NAMES:
        reason = reason.replace("`str`", "`datetime`", 1)  # the text of a timestamp, not any string
    value = _value_at(_loads_or_none(raw), field)
    if field == "type":
        return FeedRecordError(
            "type", value, f"unknown event type; known: {', '.join(sorted(EVENT_CLASSES))}"
        )
    if field == "schema_version":
        return FeedRecordError(
            "schema_version",
            value,
            f"this reader understands schema_version {' and '.join(map(str, FEED_SCHEMA_VERSIONS))}",
        )
    return FeedRecordError(field, value, reason)


def _value_at(record: Any, field: str) -> Any:
    """The value a path names in the raw record (for the dead letter), or None."""
    value = record
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", field):
        try:
            value = value[int(part[1:-1])] if part.startswith("[") else value[part]
        except (KeyError, IndexError, TypeError, ValueError):
            return None
    return (
        value if isinstance(value, str | int | float | bool) or value is None else _excerpt(json.dumps(value))
    )


def _loads_or_none(raw: str | bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _excerpt(raw: str | bytes, limit: int = 80) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return text if len(text) <= limit else text[:limit] + "..."


# -- reference documentation ------------------------------------------------------------------------------
def _struct_fields(model: type[Struct]) -> list[tuple[str, Any, bool, Any]]:
    """(name, annotation with its Meta, required, default) of each field, in order."""
    hints = typing.get_type_hints(model, include_extras=True)
    return [
        (info.name, hints[info.name], info.required, info.default) for info in msgspec.structs.fields(model)
    ]


def _description(annotation: Any) -> str:
    if typing.get_origin(annotation) is Annotated:
        for item in typing.get_args(annotation)[1:]:
            if isinstance(item, Meta) and item.description:
                return item.description
    return ""


def _field_rows(model: type[Struct], prefix: str = "") -> list[str]:
    rows = []
    for name, annotation, required, default in _struct_fields(model):
        nested = _nested_model(annotation)
        kind = _describe_type(annotation)
        needed = "required" if required else f"default `{default!r}`"
        rows.append(f"| `{prefix}{name}` | {kind} | {needed} | {_description(annotation)} |")
        if nested is not None:
            rows += _field_rows(nested, prefix=f"{prefix}{name}.")
    return rows


def _nested_model(annotation: Any) -> type[Struct] | None:
    """The record type a field holds, looking through ``Annotated`` and ``X | None``."""
    if isinstance(annotation, type) and issubclass(annotation, Struct):
        return annotation
    for candidate in typing.get_args(annotation):
        nested = _nested_model(candidate)
        if nested is not None:
            return nested
    return None


def _describe_type(annotation: Any) -> str:
    """A reader's name for a field's type: ``list of int >= 0``, ``timestamp or null``, ``one of a, b``."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        base, *metadata = args
        if TIMESTAMP in metadata:
            return "timestamp with a UTC offset"
        text = _describe_type(base)
        for constraint in metadata:
            if getattr(constraint, "ge", None) is not None:
                text += f" >= {constraint.ge}"
            if getattr(constraint, "gt", None) is not None:
                text += f" > {constraint.gt}"
            if getattr(constraint, "max_length", None) is not None and base is str:
                text += f" (max {constraint.max_length} chars)"
            if getattr(constraint, "tz", None):
                text += " with a UTC offset"
        return text
    if origin is list:
        return "list of " + _describe_type(args[0])
    if origin is Literal:
        return " or ".join(f"`{value}`" for value in args)
    if origin in (types.UnionType, typing.Union):
        return " or ".join("null" if arg is type(None) else _describe_type(arg) for arg in args)
    names = {
        str: "string",
        int: "int",
        bool: "bool",
        bytes: "base64 string",
        dt.datetime: "timestamp",
        dt.date: "date",
        Decimal: "decimal",
    }
    if annotation in names:
        return names[annotation]
    return getattr(annotation, "__name__", str(annotation))


def contract_markdown() -> str:
    """The reference tables of ``docs/feeds.md`` (generated; a test keeps them in step)."""
    lines = [f"Feed schema version {FEED_SCHEMA_VERSION}.", "", "### Envelope (every event)", ""]
    lines += ["| field | type | required | meaning |", "|---|---|---|---|"]
    lines += _field_rows(_Envelope)
    lines += ["| `type` | string | required | one of the event types below |", ""]
    seen: set[type[_Envelope]] = set()
    for _name, event_class in EVENT_CLASSES.items():
        if event_class in seen:
            continue
        seen.add(event_class)
        names = [other for other, cls in EVENT_CLASSES.items() if cls is event_class]
        if issubclass(event_class, VehicleEvent):
            if VehicleEvent in seen:
                continue
            seen.add(VehicleEvent)
            names = list(VEHICLE_EVENT_TYPES)
        payload = typing.get_type_hints(event_class)["payload"]
        lines += [
            f"### {', '.join(f'`{other}`' for other in names)}",
            "",
            (payload.__doc__ or "").strip(),
            "",
        ]
        lines += ["| field | type | required | meaning |", "|---|---|---|---|"]
        lines += _field_rows(payload, prefix="payload.")
        lines.append("")
    return "\n".join(lines)


# -- tables built from the contract above -------------------------------------------------------------
#: per event class: the paths of its timestamps, and one call that returns their texts
_TIMESTAMP_PATHS: dict[type, list[str]] = {cls: _timestamp_paths(cls) for cls in set(EVENT_CLASSES.values())}
_TIMESTAMP_TEXTS = {cls: _texts_getter(paths) for cls, paths in _TIMESTAMP_PATHS.items()}
#: field names that hold a timestamp somewhere (to word a decoding error as a timestamp's)
_TIMESTAMP_NAMES = {path.rsplit(".", 1)[-1] for paths in _TIMESTAMP_PATHS.values() for path in paths}


if __name__ == "__main__":
    print(contract_markdown())
