"""Incentive schemes and claim verification: a dealer is paid an incentive on a vehicle only when the twin
has a confirmed end-customer delivery of that VIN, by that dealer, inside the scheme's window.

Checks, in order (the first failing one is the claim's rejection reason): the VIN was already paid under
the scheme (or is paid by an earlier claim of the same batch); the registration is the dealer's own (a demo car); no
end-customer delivery; delivered by another dealer; model not in the scheme; delivered outside the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from twin.settlement.money import IndexArray, PaiseArray

ANY_MODEL = -1


class ClaimOutcome(IntEnum):
    PENDING = -1
    PAID = 0
    DUPLICATE_CLAIM = 1
    DEMO_REGISTRATION = 2
    NO_END_CUSTOMER_DELIVERY = 3
    WRONG_DEALER = 4
    MODEL_NOT_IN_SCHEME = 5
    OUTSIDE_WINDOW = 6


REJECTION_NAMES = tuple(outcome.name.lower() for outcome in ClaimOutcome if outcome > ClaimOutcome.PAID)


@dataclass(frozen=True)
class Schemes:
    """Schemes as columns: model index (``ANY_MODEL`` = every model), window ``[start_day, end_day)``."""

    name: tuple[str, ...]
    model: IndexArray
    start_day: IndexArray
    end_day: IndexArray
    amount_paise: PaiseArray

    def __len__(self) -> int:
        return len(self.name)

    def covers_model(self, scheme: IndexArray, model: IndexArray) -> npt.NDArray[np.bool_]:
        return (self.model[scheme] == ANY_MODEL) | (self.model[scheme] == model)

    def in_window(self, scheme: IndexArray, day: IndexArray) -> npt.NDArray[np.bool_]:
        return (day >= self.start_day[scheme]) & (day < self.end_day[scheme])


@dataclass(frozen=True)
class Deliveries:
    """The delivery register, indexed by vehicle id: day handed to the end customer (-1 = not delivered),
    the delivering dealer, and the vehicle's model."""

    delivered_day: IndexArray
    dealer: IndexArray
    model: IndexArray


def verify_claims(
    dealer: IndexArray,
    vehicle: IndexArray,
    scheme: IndexArray,
    registered_to_dealer: npt.NDArray[np.bool_],
    schemes: Schemes,
    deliveries: Deliveries,
    paid_before: npt.NDArray[np.bool_],
) -> IndexArray:
    """The ``ClaimOutcome`` of each claim. ``paid_before``: whether the claim's vehicle was already paid under
    its scheme by an earlier batch; within the batch the first claim of a vehicle and scheme may be paid,
    later ones are duplicates."""
    outcome = np.full(dealer.size, int(ClaimOutcome.PAID), dtype=np.int64)
    known = (vehicle >= 0) & (vehicle < deliveries.delivered_day.size)
    safe_vehicle = np.where(known, vehicle, 0)
    delivered_day = np.where(known, deliveries.delivered_day[safe_vehicle], -1)
    key = vehicle * len(schemes) + scheme
    checks = (
        (ClaimOutcome.OUTSIDE_WINDOW, ~schemes.in_window(scheme, delivered_day)),
        (ClaimOutcome.MODEL_NOT_IN_SCHEME, ~schemes.covers_model(scheme, deliveries.model[safe_vehicle])),
        (ClaimOutcome.WRONG_DEALER, deliveries.dealer[safe_vehicle] != dealer),
        (ClaimOutcome.NO_END_CUSTOMER_DELIVERY, delivered_day < 0),
        (ClaimOutcome.DEMO_REGISTRATION, registered_to_dealer),
        (ClaimOutcome.DUPLICATE_CLAIM, paid_before),
    )
    for reason, failed in checks:  # last assignment wins: checks run from the least to the most basic
        outcome[failed] = int(reason)
    # a key claimed twice in the batch is paid once: later payable claims of it are duplicates
    payable = np.flatnonzero(outcome == int(ClaimOutcome.PAID))
    first = np.unique(key[payable], return_index=True)[1]
    repeated = np.ones(payable.size, dtype=bool)
    repeated[first] = False
    outcome[payable[repeated]] = int(ClaimOutcome.DUPLICATE_CLAIM)
    return outcome
