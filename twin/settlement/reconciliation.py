"""Carrier invoices: how a carrier bills (with its errors) and how each line is checked against the charge
the rate card expected.

A line is accepted when it names a shipment not billed before and its amount is within tolerance of the
expected charge (``max(tolerance_min, tolerance_share x expected)``); otherwise it becomes a dispute with
a reason. Accepted lines are paid as invoiced (the difference is booked as freight variance); disputed lines
are paid at the expected charge once the carrier's credit note comes in.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from twin.settlement.money import IndexArray, PaiseArray, round_to_paise


class DisputeReason(IntEnum):
    NONE = 0
    OVERCHARGE = 1
    UNDERCHARGE = 2
    DUPLICATE = 3
    UNKNOWN_SHIPMENT = 4


@dataclass(frozen=True)
class InvoiceErrorRates:
    """Shares of invoice lines a carrier gets wrong (the rest are billed exactly)."""

    #: small differences inside the tolerance (rounding, toll receipts): accepted, booked as variance
    noise: float = 0.10
    overcharge: float = 0.02
    undercharge: float = 0.005
    #: a shipment billed twice
    duplicate: float = 0.01


@dataclass(frozen=True)
class InvoiceLines:
    shipment: IndexArray
    invoiced_paise: PaiseArray


@dataclass(frozen=True)
class Tolerance:
    share: float = 0.01
    minimum_paise: int = 500

    def allowed_paise(self, expected_paise: PaiseArray) -> PaiseArray:
        return np.maximum(self.minimum_paise, np.floor(self.share * np.abs(expected_paise))).astype(np.int64)


def carrier_invoice(
    shipment: IndexArray,
    expected_paise: PaiseArray,
    rates: InvoiceErrorRates,
    tolerance: Tolerance,
    rng: np.random.Generator,
) -> InvoiceLines:
    """The carrier's lines for these shipments, with errors drawn from ``rng`` (a fixed two draws per
    shipment, so the stream's use depends only on how many shipments are billed)."""
    draws = rng.random((shipment.size, 2))
    kind, size = draws[:, 0], draws[:, 1]
    expected = expected_paise.astype(np.float64)
    allowed = tolerance.allowed_paise(expected_paise).astype(np.float64)
    bounds = np.cumsum([rates.noise, rates.overcharge, rates.undercharge, rates.duplicate])
    noise = kind < bounds[0]
    over = (kind >= bounds[0]) & (kind < bounds[1])
    under = (kind >= bounds[1]) & (kind < bounds[2])
    duplicate = (kind >= bounds[2]) & (kind < bounds[3])
    invoiced = expected.copy()
    invoiced[noise] += np.trunc((2.0 * size[noise] - 1.0) * allowed[noise] * 0.9)
    # outside tolerance by construction: at least the allowed difference + 1 paisa, up to 25% of the charge
    over_by = np.maximum(allowed[over] + 1.0, round_to_paise((0.05 + 0.20 * size[over]) * expected[over]))
    invoiced[over] += over_by
    under_by = np.maximum(allowed[under] + 1.0, round_to_paise((0.05 + 0.15 * size[under]) * expected[under]))
    invoiced[under] -= np.minimum(under_by, expected[under])
    lines_shipment = np.concatenate((shipment, shipment[duplicate]))
    lines_paise = np.concatenate((invoiced, invoiced[duplicate])).astype(np.int64)
    return InvoiceLines(lines_shipment, lines_paise)


def reconcile(
    lines: InvoiceLines,
    expected_paise: PaiseArray,
    billed_before: npt.NDArray[np.bool_],
    tolerance: Tolerance,
) -> npt.NDArray[np.int64]:
    """Reason of each line (``DisputeReason.NONE`` = accepted), matched on the shipment id.

    ``expected_paise`` and ``billed_before`` are indexed by shipment id over every shipment known; a line
    naming a shipment billed before, or billed twice in this invoice, is a duplicate (the first line stands).
    """
    reason = np.zeros(lines.shipment.size, dtype=np.int64)
    known = (lines.shipment >= 0) & (lines.shipment < expected_paise.size)
    reason[~known] = int(DisputeReason.UNKNOWN_SHIPMENT)  # plain ints: numpy converts an IntEnum slowly
    shipment = np.where(known, lines.shipment, 0)
    first_in_invoice = np.zeros(lines.shipment.size, dtype=bool)
    first_in_invoice[np.unique(lines.shipment, return_index=True)[1]] = True
    duplicate = known & (billed_before[shipment] | ~first_in_invoice)
    reason[duplicate] = int(DisputeReason.DUPLICATE)
    checked = known & ~duplicate
    difference = lines.invoiced_paise - expected_paise[shipment]
    allowed = tolerance.allowed_paise(expected_paise[shipment])
    reason[checked & (difference > allowed)] = int(DisputeReason.OVERCHARGE)
    reason[checked & (difference < -allowed)] = int(DisputeReason.UNDERCHARGE)
    return reason
