"""The live feed contract: one versioned event envelope, a typed payload per event type, one validating parser.

Every record a dealer DMS, the OEM, a parts DC or a carrier sends is one JSON object (one line of a JSONL
file, or the ``record`` field of a Redis Stream entry). ``parse_record`` is the only way in: it checks the
JSON, the envelope and the payload (types, units, ranges) and returns a typed ``FeedEvent`` or raises
``FeedRecordError`` naming the field and the value. Whether the ids in a valid record exist (a dealer, a part
number, a VIN's spec) is master data, checked when the record is applied (``twin.live.live_state``).
``docs/feeds.md`` documents every field; ``python -m twin.live.contract`` regenerates its reference part.

Ordering and duplicates rest on two envelope fields:
- ``sequence``: each source numbers its messages 1, 2, 3, ... and a resend keeps its number, so
  ``event_id`` is ``<source>/<sequence>`` and a duplicate is recognised without keeping every id ever seen;
- per entity, the newest message wins by the source's own numbering (parts cells: the owning source's
  ``sequence``; a VIN: the OEM vehicle master's ``vin_revision``), never by clocks, which may be skewed.
"""

from __future__ import annotations

import datetime as dt
import json
import types
import typing
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from twin.errors import TwinError

#: bumped when a field changes meaning or a required field is added; older versions are refused by name
FEED_SCHEMA_VERSION = 1
#: sources: one per dealer DMS, the OEM (vehicle master, allocation, logistics), each parts DC, each carrier
SOURCE_PATTERN = r"^(DMS:[A-Z0-9-]{1,20}|OEM|DC:[A-Z0-9-]{1,20}|CARRIER:[A-Z0-9-]{1,20})$"

Quantity = Annotated[int, Field(ge=0, strict=True)]
PositiveQuantity = Annotated[int, Field(gt=0, strict=True)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=40, strict=True)]
Vin = Annotated[str, StringConstraints(min_length=17, max_length=17, strict=True)]


def _iso_text(value: Any) -> Any:
    """Timestamps are ISO 8601 text: a bare number could be seconds, days or a typo, so it is refused."""
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 timestamp with a UTC offset, e.g. 2026-03-01T10:15:00+05:30")
    return value


def _date_text(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date, e.g. 2026-03-01")
    return value


Timestamp = Annotated[dt.datetime, BeforeValidator(_iso_text)]
Date = Annotated[dt.date, BeforeValidator(_date_text)]
#: the only unit of measure parts quantities may carry: each (piece); a pack or a litre is a different SKU
UnitOfMeasure = Literal["EA"]


class FeedRecordError(TwinError, ValueError):
    """A record that cannot be accepted: the reason names the field and the value; it goes to dead letters."""

    def __init__(self, field: str, value: Any, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}={value!r}: {reason}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- payloads -------------------------------------------------------------------------------------------
def _same_lengths(model: BaseModel, names: tuple[str, ...]) -> None:
    lengths = {name: len(getattr(model, name)) for name in names}
    if len(set(lengths.values())) > 1:
        first = names[0]
        odd = next(name for name in names if lengths[name] != lengths[first])
        raise ValueError(
            f"lines.{odd} has {lengths[odd]} entries, lines.{first} {lengths[first]}: one per line"
        )


class PositionLines(_Strict):
    """Stock per part number at a location, column-wise (entry i of every list is line i), in pieces."""

    part_number: list[Code] = Field(description="the OEM part number (master data)")
    on_hand: list[Quantity] = Field(
        description="pieces on the shelf, including those reserved for counter pickup"
    )
    reserved: list[Quantity] = Field(description="pieces on the shelf held for open counter orders")
    workshop_wip: list[Quantity] = Field(description="pieces issued to open repair orders, not yet consumed")
    on_order: list[Quantity] = Field(
        description="pieces shipped to this location and not yet received (in transit)"
    )
    backorder: list[Quantity] = Field(description="pieces owed to customers, awaiting an emergency delivery")
    uom: UnitOfMeasure = Field("EA", description="unit of every quantity: EA (each, a piece)")

    @model_validator(mode="after")
    def _aligned(self) -> PositionLines:
        _same_lengths(self, ("part_number", "on_hand", "reserved", "workshop_wip", "on_order", "backorder"))
        return self


class PartsPosition(_Strict):
    """A location's parts position: the part numbers it reports (see the event type)."""

    location_id: Code = Field(description="dealer id (DMS) or parts DC id")
    lines: PositionLines = Field(description="column-wise: entry i of every list is line i")


class IssueLines(_Strict):
    """Parts demand lines as the DMS books them, filled or not (fill rate needs the unfilled ones too),
    column-wise."""

    part_number: list[Code] = Field(description="the OEM part number demanded (master data)")
    channel: list[Literal["counter", "workshop"]] = Field(description="counter sale or workshop repair order")
    document_number: list[Code] = Field(description="repair order (RO-...) or counter order (CO-...) number")
    quantity_requested: list[PositiveQuantity] = Field(description="pieces the customer asked for")
    quantity_issued: list[Quantity] = Field(description="pieces issued from the shelf at once")
    quantity_lost: list[Quantity] = Field(description="pieces the customer did not wait for (lost sale)")
    emergency_order: list[bool] = Field(description="the short pieces were ordered by emergency delivery")
    uom: UnitOfMeasure = Field("EA", description="unit of every quantity: EA (each, a piece)")

    @model_validator(mode="after")
    def _aligned(self) -> IssueLines:
        names = ("part_number", "channel", "document_number", "quantity_requested", "quantity_issued")
        _same_lengths(self, (*names, "quantity_lost", "emergency_order"))
        return self


class DealerIssueLines(_Strict):
    """A dealer's parts demand lines of one business day (or part of it)."""

    dealer_id: Code = Field(description="the dealer (master data id); must match the DMS source")
    business_date: Date = Field(description="the DMS's trading day the lines belong to (dealer local date)")
    lines: IssueLines = Field(description="column-wise: entry i of every list is line i")


VehicleStatusName = Literal["ordered", "built", "in_transit", "in_yard", "reserved", "delivered"]
LocationType = Literal["plant", "stockyard", "road", "dealer", "customer"]


class VehicleRecord(_Strict):
    """The whole record of one VIN as the OEM's vehicle master holds it after the event."""

    vin: Vin = Field(description="17-character VIN, ISO 3779 with a valid check digit")
    vin_revision: PositiveQuantity = Field(description="the vehicle master's record version; newest wins")
    spec_code: Code = Field(description="sellable spec (model x variant x colour x options)")
    status: VehicleStatusName = Field(description="lifecycle step after the event")
    location_type: LocationType = Field(description="kind of place the car is at (road: on its way)")
    location_id: Code | None = Field(description="plant, stockyard or dealer id; on the road the destination")
    dealer_id: Code | None = Field(description="dealer allocated or sold to; null while unallocated")
    customer_order: bool = Field(description="built or held against a named customer's order")
    ordered_at: Timestamp | None = Field(
        default=None, description="when ordered (stock or a customer's order)"
    )
    built_at: Timestamp | None = Field(default=None, description="when it left the line")
    shipped_at: Timestamp | None = Field(default=None, description="when it last left a site")
    received_at: Timestamp | None = Field(default=None, description="reached its dealer's yard (age counts)")
    delivered_at: Timestamp | None = Field(default=None, description="handed over to the end customer")
    eta: Timestamp | None = Field(default=None, description="when the current build or transport leg ends")


class ConsignmentLines(_Strict):
    part_number: list[Code] = Field(min_length=1, description="OEM part numbers shipped")
    quantity: list[PositiveQuantity] = Field(description="pieces shipped")
    uom: UnitOfMeasure = Field("EA", description="unit of every quantity: EA (each, a piece)")

    @model_validator(mode="after")
    def _aligned(self) -> ConsignmentLines:
        _same_lengths(self, ("part_number", "quantity"))
        return self


class ConsignmentCreated(_Strict):
    """A consignment a parts DC (or a supplier, to a DC) has dispatched."""

    consignment_id: Code = Field(description="the DC's consignment (delivery note) number")
    ship_from_id: Code = Field(description="parts DC id, or SUPPLIER for a supplier's delivery to a DC")
    ship_to_id: Code = Field(description="dealer id or parts DC id")
    carrier_id: Code | None = Field(default=None, description="carrier on the lane (master data id)")
    dispatched_at: Timestamp = Field(description="when it left the DC")
    eta: Timestamp = Field(description="promised arrival (the lane's lead time)")
    lines: ConsignmentLines = Field(description="column-wise: entry i of every list is line i")


class CarrierTracking(_Strict):
    """A carrier's status of a consignment it carries (a DC confirms a supplier's delivery itself)."""

    consignment_id: Code = Field(description="the DC's consignment number")
    status: Literal["picked_up", "in_transit", "delayed", "delivered"] = Field(description="the step reached")
    eta: Timestamp | None = Field(
        default=None, description="the carrier's current ETA (new ETA when delayed)"
    )


class CarrierInvoice(_Strict):
    """A carrier's freight bill for one consignment (settlement document)."""

    invoice_number: Code = Field(description="the carrier's invoice number; a resend must repeat the amount")
    carrier_id: Code = Field(description="the carrier billing (master data id)")
    consignment_id: Code = Field(description="the consignment billed")
    invoice_date: Date = Field(description="date on the invoice")
    amount_inr: Decimal = Field(gt=0, max_digits=14, decimal_places=2, description="freight, rupees")
    currency: Literal["INR"] = Field("INR", description="INR only: the network settles in rupees")


# -- the envelope -----------------------------------------------------------------------------------------
class _Envelope(_Strict):
    event_id: Annotated[str, StringConstraints(min_length=3, max_length=80, strict=True)] = Field(
        description="'<source>/<sequence>': unique, and the same on a resend"
    )
    source: Annotated[str, StringConstraints(pattern=SOURCE_PATTERN, strict=True)] = Field(
        description="DMS:<dealer id>, OEM, DC:<parts DC id> or CARRIER:<carrier id>"
    )
    sequence: PositiveQuantity = Field(description="the source's message number: 1, 2, 3, ... per source")
    occurred_at: Timestamp = Field(description="when it happened, by the source's clock (ISO 8601 + offset)")
    schema_version: Literal[1] = Field(description="the feed schema version the source writes")


class PositionSnapshotEvent(_Envelope):
    type: Literal["parts.position_snapshot"]
    payload: PartsPosition


class PositionDeltaEvent(_Envelope):
    type: Literal["parts.position_delta"]
    payload: PartsPosition


class IssueLinesEvent(_Envelope):
    type: Literal["parts.issue_lines"]
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
    type: Literal[
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
    ]
    payload: VehicleRecord


class ConsignmentCreatedEvent(_Envelope):
    type: Literal["dc.consignment_created"]
    payload: ConsignmentCreated


class CarrierTrackingEvent(_Envelope):
    type: Literal["carrier.tracking"]
    payload: CarrierTracking


class CarrierInvoiceEvent(_Envelope):
    type: Literal["carrier.invoice"]
    payload: CarrierInvoice


FeedEvent = Annotated[
    PositionSnapshotEvent
    | PositionDeltaEvent
    | IssueLinesEvent
    | VehicleEvent
    | ConsignmentCreatedEvent
    | CarrierTrackingEvent
    | CarrierInvoiceEvent,
    Field(discriminator="type"),
]
EVENT_CLASSES: dict[str, type[_Envelope]] = {
    "parts.position_snapshot": PositionSnapshotEvent,
    "parts.position_delta": PositionDeltaEvent,
    "parts.issue_lines": IssueLinesEvent,
    **dict.fromkeys(VEHICLE_EVENT_TYPES, VehicleEvent),
    "dc.consignment_created": ConsignmentCreatedEvent,
    "carrier.tracking": CarrierTrackingEvent,
    "carrier.invoice": CarrierInvoiceEvent,
}
_FEED_EVENT: TypeAdapter[Any] = TypeAdapter(FeedEvent)


def event_id_of(source: str, sequence: int) -> str:
    return f"{source}/{sequence}"


def parse_record(raw: str | bytes) -> Any:
    """One record of the feed -> a typed event, or ``FeedRecordError`` naming the first bad field."""
    try:
        event = _FEED_EVENT.validate_json(raw)
    except ValidationError as error:
        raise _record_error(raw, error) from None
    if event.event_id != event_id_of(event.source, event.sequence):
        raise FeedRecordError(
            "event_id",
            event.event_id,
            f"must be '<source>/<sequence>' ({event_id_of(event.source, event.sequence)})",
        )
    if event.occurred_at.tzinfo is None:
        raise FeedRecordError("occurred_at", event.occurred_at.isoformat(), "needs a UTC offset (ISO 8601)")
    return event


def _record_error(raw: str | bytes, error: ValidationError) -> FeedRecordError:
    first = error.errors(include_url=False)[0]
    kind = first["type"]
    if kind == "json_invalid":
        return FeedRecordError("record", _excerpt(raw), f"not JSON: {first['msg']}")
    location = [str(part) for part in first["loc"]]
    # a tagged union puts the tag in the path: ("vehicle.sold", "payload", "vin") -> "payload.vin"
    if location and location[0] in EVENT_CLASSES:
        location = location[1:]
    if kind == "union_tag_invalid":
        record = _loads_or_none(raw)
        value = record.get("type") if isinstance(record, dict) else None
        return FeedRecordError(
            "type", value, f"unknown event type; known: {', '.join(sorted(EVENT_CLASSES))}"
        )
    if kind == "literal_error" and location == ["schema_version"]:
        return FeedRecordError(
            "schema_version",
            first.get("input"),
            f"this reader understands schema_version {FEED_SCHEMA_VERSION}",
        )
    field = ".".join(location) or "record"
    return FeedRecordError(field, first.get("input"), first["msg"])


def _loads_or_none(raw: str | bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _excerpt(raw: str | bytes, limit: int = 80) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return text if len(text) <= limit else text[:limit] + "..."


# -- reference documentation ------------------------------------------------------------------------------
def _field_rows(model: type[BaseModel], prefix: str = "") -> list[str]:
    rows = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        nested = _nested_model(annotation)
        kind = _describe_type(annotation)
        required = "required" if info.is_required() else f"default `{info.default!r}`"
        rows.append(f"| `{prefix}{name}` | {kind} | {required} | {info.description or ''} |")
        if nested is not None:
            rows += _field_rows(nested, prefix=f"{prefix}{name}{'[]' if 'list' in kind else ''}.")
    return rows


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _describe_type(annotation: Any) -> str:
    """A reader's name for a field's type: ``list of int >= 0``, ``timestamp or null``, ``one of a, b``."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        base, *metadata = args
        text = _describe_type(base)
        for item in metadata:
            for constraint in getattr(item, "metadata", [item]):
                if getattr(constraint, "ge", None) is not None:
                    text += f" >= {constraint.ge}"
                if getattr(constraint, "gt", None) is not None:
                    text += f" > {constraint.gt}"
                if getattr(constraint, "max_length", None) is not None and base is str:
                    text += f" (max {constraint.max_length} chars)"
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
        payload = event_class.model_fields["payload"].annotation
        assert isinstance(payload, type)
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


if __name__ == "__main__":
    print(contract_markdown())
