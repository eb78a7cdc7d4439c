"""Who pays freight: per freight category, the receiver's, the sender's and the OEM's (subsidised) share.

Shipments from the OEM's own sites (DC, plant, stockyard) have the OEM as sender, so the sender's share of
those is the OEM's expense too. Shares are split in whole paise that add up to the charge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from twin.settlement.money import MoneyError, PaiseArray, split_by_fractions, split_fractions, split_paise


class FreightCategory(IntEnum):
    PARTS_REPLENISHMENT = 0
    PARTS_EMERGENCY = 1
    VEHICLE_DELIVERY = 2
    VEHICLE_TRUNK = 3
    PARTS_TRANSFER = 4
    VEHICLE_TRANSFER = 5


CATEGORY_NAMES = tuple(category.name.lower() for category in FreightCategory)


@dataclass(frozen=True)
class PayerShares:
    receiver: float
    sender: float
    oem: float


class FreightPayers:
    def __init__(self, shares: Mapping[FreightCategory, PayerShares]) -> None:
        missing = [category.name.lower() for category in FreightCategory if category not in shares]
        if missing:
            raise KeyError(f"no freight payer rule for {missing}")
        self.table = np.array(
            [[shares[c].receiver, shares[c].sender, shares[c].oem] for c in FreightCategory], dtype=np.float64
        )
        #: per category, the fractions of a charge each payer pays (None: shares ``split_paise`` refuses, so
        #: each split of the category goes through it and raises there)
        self._fractions: list[npt.NDArray[np.float64] | None] = []
        for row in self.table:
            try:
                self._fractions.append(split_fractions(row)[0])
            except MoneyError:
                self._fractions.append(None)
        #: the fractions of every category as one table, when every category has them
        self._fraction_table = (
            np.array(self._fractions) if all(row is not None for row in self._fractions) else None
        )

    def split(self, category: FreightCategory | PaiseArray, freight_paise: PaiseArray) -> PaiseArray:
        """Columns receiver, sender, OEM of each charge (exact paise)."""
        freight_paise = np.asarray(freight_paise, dtype=np.int64)
        if isinstance(category, (int, np.integer)):  # an int, not np.ndim: numpy probes an IntEnum slowly
            fractions = self._fractions[int(category)]
            if fractions is not None:  # one category: its fractions are computed once, not per call
                return split_by_fractions(freight_paise, fractions)
        rows = np.asarray(category, dtype=np.int64)
        if rows.shape != freight_paise.shape:  # a category per charge needs no broadcast (a slow call)
            rows = np.broadcast_to(rows, freight_paise.shape)
        if self._fraction_table is not None:  # a category per charge: each row's fractions, looked up
            return split_by_fractions(freight_paise, self._fraction_table[rows.reshape(-1)])
        return split_paise(freight_paise, self.table[rows])
