"""Who pays freight: per freight category, the receiver's, the sender's and the OEM's (subsidised) share.

Shipments from the OEM's own sites (DC, plant, stockyard) have the OEM as sender, so the sender's share of
those is the OEM's expense too. Shares are split in whole paise that add up to the charge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from twin.settlement.money import PaiseArray, split_paise


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

    def split(self, category: FreightCategory | PaiseArray, freight_paise: PaiseArray) -> PaiseArray:
        """Columns receiver, sender, OEM of each charge (exact paise)."""
        freight_paise = np.asarray(freight_paise, dtype=np.int64)
        rows = np.broadcast_to(np.asarray(category, dtype=np.int64), freight_paise.shape)
        return split_paise(freight_paise, self.table[rows])
