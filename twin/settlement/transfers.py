"""Dealer-to-dealer transfers: the entry point the rebalancing work calls when transferred goods arrive.

A batch holds many transfers as columns. Transfers that travel on the same truck (same ``truck`` id) share
one truck charge: the card of the truck's carrier on its ship day prices the truck over its longest leg at
its combined load share, and the charge is split between the transfers by distance x volume (a transfer
that rides further or takes more room pays more). Each transfer's freight is then split by the category's
who-pays rule; the receiver pays the transfer price and the handling fee to the sender.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from twin.settlement.money import IndexArray, MoneyError, PaiseArray, allocate_paise
from twin.settlement.rate_cards import RateBook

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class TransferBatch:
    transfer_id: IndexArray
    #: a ``FreightCategory`` (PARTS_TRANSFER or VEHICLE_TRANSFER)
    category: IndexArray
    sender: IndexArray
    receiver: IndexArray
    carrier: IndexArray
    #: transfers with the same truck id travelled together and share its charge
    truck: IndexArray
    ship_day: IndexArray
    arrive_day: IndexArray
    distance_km: FloatArray
    #: parts units or vehicles: the room the transfer takes on the truck
    volume: FloatArray
    transfer_price_paise: PaiseArray

    def __len__(self) -> int:
        return int(self.transfer_id.size)

    @classmethod
    def of(cls, **columns: npt.ArrayLike) -> TransferBatch:
        """Build from lists or scalars (distances and volumes as floats, the rest as int64). An integer
        column given as floats (a snapshot's rows) must hold whole numbers: 100.9 paise is refused, not
        truncated."""
        floats = {"distance_km", "volume"}
        arrays: dict[str, Any] = {}
        for name, value in columns.items():
            array = np.atleast_1d(np.asarray(value))
            if name in floats:
                arrays[name] = array.astype(np.float64)
                continue
            if array.dtype.kind == "f":
                fractional = np.flatnonzero(~np.isfinite(array) | (array != np.floor(array)))
                if fractional.size:
                    raise MoneyError(f"transfer {name} {array[fractional[0]].item()!r} is not a whole number")
            arrays[name] = array.astype(np.int64)
        return cls(**arrays)

    def select(self, mask: npt.NDArray[np.bool_]) -> TransferBatch:
        return TransferBatch(**{name: getattr(self, name)[mask] for name in self.__dataclass_fields__})

    @staticmethod
    def to_rows(batches: list[TransferBatch]) -> FloatArray:
        """Batches as one float64 table, a column per field (a snapshot stores transfers still on the road)."""
        names = list(TransferBatch.__dataclass_fields__)
        if not batches:
            return np.zeros((0, len(names)))
        return np.concatenate(
            [
                np.column_stack([getattr(batch, name).astype(np.float64) for name in names])
                for batch in batches
            ]
        )

    @staticmethod
    def from_rows(rows: FloatArray) -> TransferBatch:
        """The inverse of ``to_rows``: one batch of all the rows, in order."""
        names = list(TransferBatch.__dataclass_fields__)
        return TransferBatch.of(**{name: rows[:, i] for i, name in enumerate(names)})

    @staticmethod
    def by_arrival_day(rows: FloatArray) -> dict[int, list[TransferBatch]]:
        """The inverse of ``to_rows``, grouped by arrival day."""
        grouped: dict[int, list[TransferBatch]] = {}
        if len(rows):
            batch = TransferBatch.from_rows(rows)
            for day in np.unique(batch.arrive_day).tolist():
                grouped[int(day)] = [batch.select(batch.arrive_day == day)]
        return grouped


def truck_charges_paise(batch: TransferBatch, rates: RateBook) -> tuple[IndexArray, PaiseArray]:
    """Each transfer's truck (an index into the charges) and each truck's charge: its carrier's card on its
    ship day over its longest leg at its combined load share."""
    trucks, first, truck_of = np.unique(batch.truck, return_index=True, return_inverse=True)
    carrier, day = batch.carrier[first], batch.ship_day[first]
    longest_km = np.zeros(trucks.size)
    np.maximum.at(longest_km, truck_of, batch.distance_km)
    volume = np.bincount(truck_of, weights=batch.volume, minlength=trucks.size)
    load_share = np.minimum(1.0, volume / rates.capacity_of(carrier, day))
    return truck_of, rates.load_charge_paise(carrier, day, longest_km, load_share)


def transfer_freight_paise(batch: TransferBatch, rates: RateBook) -> PaiseArray:
    """Each transfer's share of its truck's charge (shares of one truck add up to the truck charge)."""
    if len(batch) == 0:
        return np.zeros(0, dtype=np.int64)
    truck_of, truck_paise = truck_charges_paise(batch, rates)
    return allocate_paise(truck_of, batch.distance_km * batch.volume, truck_paise)
