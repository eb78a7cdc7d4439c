"""The small records a view returns for one thing (a dealer, a VIN, a statement); tables are DataFrames."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class DealerSummary:
    """A dealer's master data as its portal header shows it."""

    dealer_id: str
    name: str
    region: str
    city: str
    pincode: str
    latitude: float
    longitude: float
    parts_dc_id: str
    parts_dc_name: str
    stockyard_id: str
    stockyard_name: str
    parts_carrier_id: str
    vehicle_carrier_id: str
    capacity_vehicles: int


@dataclass(frozen=True)
class VehicleRecord:
    """Where one VIN is and whose it is. ``dealer_id`` is None for a car not yet allocated to a dealer."""

    vin: str
    vehicle_id: int
    dealer_id: str | None
    spec_id: str
    model: str
    variant: str
    colour: str
    #: ordered, built, in_transit, in_yard, reserved (sold, awaiting handover) or delivered
    status: str
    #: where it is, in words ("Chakan plant", "stockyard Pune Yard", "on the road to D0042", ...)
    place: str
    customer_order: bool
    #: for a car on its way to its dealer: the step of the allocation and the day it is due
    allocation_step: str | None
    due_date: dt.date | None
    received_date: dt.date | None
    delivered_date: dt.date | None


@dataclass(frozen=True)
class Statement:
    """A dealer's settlement position: the ledger balance now, the last closed statement, what has been
    posted since it closed, and the latest ledger lines. Amounts in INR; positive = the dealer owes."""

    dealer_id: str
    as_of: dt.date
    balance_inr: float
    #: freight charged to the dealer and payments it made since the run (or the feed) began
    freight_billed_inr: float
    payments_inr: float
    transfers_inr: float
    incentives_inr: float
    #: the last closed statement (None before the first cycle closes): cycle, period_start, close_date,
    #: opening_inr, freight_inr, transfers_inr, incentives_inr, payments_inr, other_inr, closing_inr,
    #: due_date, paid_date (None while unpaid)
    last_statement: dict[str, Any] | None
    #: totals posted since the last close, by the statement's groups
    since_last_close: dict[str, float]
    #: the latest ledger lines: date, kind, reference, amount_inr (newest first)
    recent_lines: pd.DataFrame = field(repr=False)
