"""The chart of accounts: the OEM's own accounts, one settlement account per dealer, two per carrier.

Accounts are integer ids in fixed ranges (names only at the edges): OEM accounts first, then dealers, then
each carrier's accrual (freight owed for shipments not yet invoiced and approved) and payable (approved
invoices not yet paid). Sign convention: a debit is positive, a credit negative; a dealer's positive balance
is money the dealer owes the network, a carrier's negative balance money the OEM owes the carrier.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum

import numpy as np
import numpy.typing as npt

IndexArray = npt.NDArray[np.int64]


class OemAccount(IntEnum):
    BANK = 0
    #: the OEM's share of freight (shipments it pays for, and subsidised shares of dealer freight)
    FREIGHT_EXPENSE = 1
    #: invoiced minus expected freight on invoice lines accepted within tolerance
    FREIGHT_VARIANCE = 2
    INCENTIVE_EXPENSE = 3
    #: handling fees the OEM earns when the network policy routes them to the OEM
    HANDLING_INCOME = 4


class Chart:
    def __init__(self, dealer_ids: Sequence[str], carrier_ids: Sequence[str]) -> None:
        self.dealer_ids = tuple(str(name) for name in dealer_ids)
        self.carrier_ids = tuple(str(name) for name in carrier_ids)
        self.dealer_start = len(OemAccount)
        self.accrual_start = self.dealer_start + len(self.dealer_ids)
        self.payable_start = self.accrual_start + len(self.carrier_ids)
        self.size = self.payable_start + len(self.carrier_ids)

    def dealer(self, dealer: npt.ArrayLike) -> IndexArray:
        return self.dealer_start + np.asarray(dealer, dtype=np.int64)

    def carrier_accrual(self, carrier: npt.ArrayLike) -> IndexArray:
        return self.accrual_start + np.asarray(carrier, dtype=np.int64)

    def carrier_payable(self, carrier: npt.ArrayLike) -> IndexArray:
        return self.payable_start + np.asarray(carrier, dtype=np.int64)

    def dealer_accounts(self) -> slice:
        return slice(self.dealer_start, self.accrual_start)

    def carrier_accounts(self) -> slice:
        return slice(self.accrual_start, self.size)

    def names(self) -> npt.NDArray[np.str_]:
        """Readable account names, indexed by account id (for CSV and statements)."""
        return np.array(
            [f"oem:{account.name.lower()}" for account in OemAccount]
            + [f"dealer:{name}" for name in self.dealer_ids]
            + [f"carrier_accrual:{name}" for name in self.carrier_ids]
            + [f"carrier_payable:{name}" for name in self.carrier_ids]
        )
