"""Versioned carrier rate cards: the card in force on the ship day prices a shipment.

A card belongs to one carrier and so to one vehicle type (the carrier's mode in the master data: parts
trucks or car carriers) and holds a per-km rate, a per-load minimum, the load capacity it is quoted on, a
fuel surcharge and extra charges. Cards of a carrier tile the run's days without gap or overlap
(``valid_to_day`` is exclusive, -1 = open-ended).

Charges (rounded to whole paise once, here):
- a load or part load: ``max(minimum, rate x km x load share) x (1 + fuel) + extra`` (parts consignments
  pay their share of a truck, load share = units / capacity; a full car-carrier load has share 1);
- a slot on a shared full load: ``max(minimum, rate x km) x (1 + fuel) x slots / capacity + extra`` (plant
  to stockyard trunk moves);
- express parts: ``lines x express charge per line`` (emergency orders);
- fuel surcharge = ``pass_through x max(0, fuel price / base fuel price - 1)``.
With the default cards (master-data rate, minimum and capacity, no fuel surcharge, no extras) these are
exactly the engine's freight formulas, so the ledger's freight equals the freight KPIs to the paisa per
shipment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from twin.errors import ConfigError
from twin.settlement.money import IndexArray, PaiseArray, inr_to_paise, round_to_paise

FloatArray = npt.NDArray[np.float64]
OPEN_ENDED = -1
_DAY_KEY = 1 << 32


@dataclass(frozen=True)
class RateCard:
    """One version of a carrier's card, with the carrier as an index into the master data's carriers."""

    carrier: int
    version: str
    valid_from_day: int
    valid_to_day: int
    rate_per_km_inr: float
    minimum_charge_inr: float
    capacity_per_load: int
    fuel_base_price_inr: float = 1.0
    fuel_price_inr: float = 1.0
    fuel_pass_through: float = 0.0
    extra_charge_per_shipment_inr: float = 0.0
    express_charge_per_line_inr: float = 0.0

    @property
    def fuel_surcharge_share(self) -> float:
        if self.fuel_base_price_inr <= 0:
            return 0.0
        return self.fuel_pass_through * max(0.0, self.fuel_price_inr / self.fuel_base_price_inr - 1.0)


class RateBook:
    """Every card as columns, looked up for many shipments at once."""

    def __init__(self, cards: Sequence[RateCard], carrier_ids: Sequence[str]) -> None:
        self.cards = sorted(cards, key=lambda card: (card.carrier, card.valid_from_day))
        self.carrier_ids = tuple(carrier_ids)
        cards = self.cards
        self.carrier = np.array([card.carrier for card in cards], dtype=np.int64)
        self.valid_from_day = np.array([card.valid_from_day for card in cards], dtype=np.int64)
        self.valid_to_day = np.array([card.valid_to_day for card in cards], dtype=np.int64)
        self.rate_per_km_paise = inr_to_paise([card.rate_per_km_inr for card in cards]).astype(np.float64)
        self.minimum_paise = inr_to_paise([card.minimum_charge_inr for card in cards]).astype(np.float64)
        self.capacity_per_load = np.array([card.capacity_per_load for card in cards], dtype=np.float64)
        self.fuel_factor = 1.0 + np.array([card.fuel_surcharge_share for card in cards], dtype=np.float64)
        self.extra_paise = inr_to_paise([card.extra_charge_per_shipment_inr for card in cards])
        self.express_paise = inr_to_paise([card.express_charge_per_line_inr for card in cards])
        self._keys = self.carrier * _DAY_KEY + self.valid_from_day
        #: the card of each carrier when every carrier has one card, in force from day 0 for good (the master
        #: data's rates, the default); None when some carrier has versions (or none)
        self._only_card: IndexArray | None = None
        carriers = len(self.carrier_ids)
        if (
            len(cards) == carriers
            and np.array_equal(self.carrier, np.arange(carriers))
            and not self.valid_from_day.any()
            and bool((self.valid_to_day == OPEN_ENDED).all())
        ):
            self._only_card = np.arange(carriers, dtype=np.int64)

    def card_of(self, carrier: npt.ArrayLike, day: npt.ArrayLike) -> IndexArray:
        """Index of the card in force for each (carrier, ship day)."""
        carrier = np.asarray(carrier, dtype=np.int64)
        days = np.asarray(day)
        if (
            self._only_card is not None
            and days.dtype.kind in "iu"
            and (days.ndim == 0 or days.shape == carrier.shape)
            and not (days.size and int(days.min()) < 0)
            and not (carrier.size and int(carrier.min()) < 0)
        ):
            # one card per carrier, in force on every day of the run: no look-up by day (called per shipment
            # batch, several times a day); a carrier beyond the master data fails as an index
            return self._only_card[carrier]
        day = np.broadcast_to(np.asarray(day, dtype=np.int64), carrier.shape)
        card = np.searchsorted(self._keys, carrier * _DAY_KEY + day, side="right") - 1
        found = card >= 0
        found[found] &= self.carrier[card[found]] == carrier[found]
        ends = self.valid_to_day[np.maximum(card, 0)]
        found &= (ends == OPEN_ENDED) | (day < ends)
        if not found.all():
            missing = int(np.flatnonzero(~found)[0])
            raise ConfigError(
                "settlement.rate_cards",
                self.carrier_ids[int(carrier[missing])],
                f"no card in force on day {int(day[missing])}",
            )
        return card

    def load_charge_paise(
        self, carrier: IndexArray, day: npt.ArrayLike, km: FloatArray, load_share: FloatArray
    ) -> PaiseArray:
        card = self.card_of(carrier, day)
        linehaul = np.maximum(self.minimum_paise[card], self.rate_per_km_paise[card] * km * load_share)
        return round_to_paise(linehaul * self.fuel_factor[card]) + self.extra_paise[card]

    def card_of_one(self, carrier: int, day: int) -> int:
        """``card_of`` for one (carrier, ship day), without an array round trip when each carrier has one card."""
        if self._only_card is not None and day >= 0 and carrier >= 0:
            return int(self._only_card[carrier])  # a carrier beyond the master data fails as an index
        return int(self.card_of(np.array([carrier], dtype=np.int64), day)[0])

    def load_charge_one_paise(self, card: int, km: float, load_share: float) -> int:
        """``load_charge_paise`` of one load on ``card``, in scalars: the same operations in the same order (so
        the same paise), without building arrays for a single truck (a dealer-trade load is priced as it
        leaves, one at a time, thousands of times a year)."""
        linehaul = max(self.minimum_paise[card], self.rate_per_km_paise[card] * km * load_share)
        return int(round_to_paise(linehaul * self.fuel_factor[card])) + int(self.extra_paise[card])

    def slot_charge_paise(
        self, carrier: IndexArray, day: npt.ArrayLike, km: FloatArray, slots: npt.ArrayLike
    ) -> PaiseArray:
        card = self.card_of(carrier, day)
        load = np.maximum(self.minimum_paise[card], self.rate_per_km_paise[card] * km)
        share = np.asarray(slots, dtype=np.float64) / self.capacity_per_load[card]
        return round_to_paise(load * self.fuel_factor[card] * share) + self.extra_paise[card]

    def express_charge_paise(
        self, carrier: IndexArray, day: npt.ArrayLike, lines: npt.ArrayLike
    ) -> PaiseArray:
        card = self.card_of(carrier, day)
        return np.asarray(lines, dtype=np.int64) * self.express_paise[card]

    def capacity_of(self, carrier: IndexArray, day: npt.ArrayLike) -> FloatArray:
        return self.capacity_per_load[self.card_of(carrier, day)]


def check_tiling(
    cards: Sequence[tuple[str, int, int]], horizon_days: int, field_prefix: str = "settlement.rate_cards"
) -> None:
    """Cards given as (carrier id, valid_from_day, valid_to_day), in config order: per carrier they must start
    on day 0 and follow each other without gap or overlap up to the horizon (the last one open-ended or
    ending at or after it); else a ConfigError naming the card's index and field."""
    by_carrier: dict[str, list[tuple[int, int, int]]] = {}
    for index, (carrier_id, start, end) in enumerate(cards):
        if end != OPEN_ENDED and end <= start:
            raise ConfigError(
                f"{field_prefix}[{index}].valid_to_day", end, f"must be after valid_from_day ({start}) or -1"
            )
        by_carrier.setdefault(carrier_id, []).append((start, end, index))
    for carrier_id, versions in by_carrier.items():
        versions.sort()
        expected_start = 0
        for number, (start, end, index) in enumerate(versions):
            if start > expected_start:
                raise ConfigError(
                    f"{field_prefix}[{index}].valid_from_day",
                    start,
                    f"leaves a gap in {carrier_id}'s cards: days {expected_start}..{start - 1} have no card",
                )
            if start < expected_start:
                raise ConfigError(
                    f"{field_prefix}[{index}].valid_from_day",
                    start,
                    f"overlaps {carrier_id}'s card in force until day {expected_start}",
                )
            last = number == len(versions) - 1
            if end == OPEN_ENDED and not last:
                raise ConfigError(
                    f"{field_prefix}[{index}].valid_to_day",
                    end,
                    f"open-ended but {carrier_id} has a later card",
                )
            if last and end != OPEN_ENDED and end < horizon_days:
                raise ConfigError(
                    f"{field_prefix}[{index}].valid_to_day",
                    end,
                    f"leaves a gap in {carrier_id}'s cards: days {end}..{horizon_days - 1} have no card",
                )
            expected_start = end
