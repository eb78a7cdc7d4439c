"""Names at the edge, indices inside: the master-data codes a feed speaks in, and the feed's clock.

Feeds name dealers, DCs, part numbers, specs, plants, stockyards and carriers by their master-data ids;
the state indexes arrays by integers. ``MasterCodes`` maps both ways, once, from the network's master data.
Times in a feed are ISO 8601 timestamps in the network's local time (India, UTC+05:30); inside they are
days since the run's ``start_date`` (midnight local), as everywhere in the twin.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from twin.domain.vehicles import SiteKind
from twin.domain.world import World
from twin.live.contract import PACKED_CODE_SEPARATOR, timestamp_seconds

#: the network's local time: feeds are stamped in it, business dates are its calendar days
LOCAL_TIME = dt.timezone(dt.timedelta(hours=5, minutes=30), "IST")
SUPPLIER_ID = "SUPPLIER"
SECONDS_PER_DAY = 86_400.0


@functools.lru_cache(maxsize=1 << 18)
def _iso(origin: dt.datetime, day: float) -> str:
    """A VIN's record repeats its timestamps in every message: each is formatted once."""
    return (origin + dt.timedelta(days=day)).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class FeedClock:
    """Days since ``start_date`` (local midnight) <-> timestamps."""

    start_date: dt.date
    #: local midnight of ``start_date`` (derived)
    origin: dt.datetime = dt.datetime.min

    #: ``origin`` as POSIX seconds
    origin_seconds: float = 0.0

    def __post_init__(self) -> None:
        origin = dt.datetime.combine(self.start_date, dt.time(), tzinfo=LOCAL_TIME)
        object.__setattr__(self, "origin", origin)
        object.__setattr__(self, "origin_seconds", origin.timestamp())

    def iso(self, day: float) -> str:
        return _iso(self.origin, day)

    def day_of(self, moment: dt.datetime | str) -> float:
        """Days since local midnight of ``start_date``: of a datetime, or of a feed timestamp's text (checked
        and converted once per distinct text, see ``twin.live.contract.timestamp_seconds``)."""
        seconds = timestamp_seconds(moment) if isinstance(moment, str) else moment.timestamp()
        return (seconds - self.origin_seconds) / SECONDS_PER_DAY

    def date(self, day: int) -> dt.date:
        return self.start_date + dt.timedelta(days=day)

    def day_of_date(self, date: dt.date) -> int:
        return (date - self.start_date).days


class MasterCodes:
    """Code <-> index for every master-data table a feed refers to."""

    def __init__(self, world: World) -> None:
        network = world.network
        self.dealer_ids: list[str] = [str(code) for code in network.dealers.dealer_id]
        self.dc_ids: list[str] = [str(code) for code in network.parts_dcs.site_id]
        #: parts locations: dealers first, then DCs (as the state's rows)
        self.location_ids: list[str] = self.dealer_ids + self.dc_ids
        self.location_index = {code: index for index, code in enumerate(self.location_ids)}
        self.part_numbers: list[str] = [str(code) for code in world.parts.sku_id]
        self.sku_index = {code: index for index, code in enumerate(self.part_numbers)}
        self.spec_codes: list[str] = [str(code) for code in world.specs.spec_id]
        self.spec_index = {code: index for index, code in enumerate(self.spec_codes)}
        self.carrier_ids: list[str] = [str(code) for code in network.carriers.carrier_id]
        self.carrier_index = {code: index for index, code in enumerate(self.carrier_ids)}
        self.site_ids: dict[SiteKind, list[str]] = {
            SiteKind.PLANT: [str(code) for code in network.plants.site_id],
            SiteKind.STOCKYARD: [str(code) for code in network.stockyards.site_id],
            SiteKind.DEALER: self.dealer_ids,
        }
        #: a vehicle's site by its code alone (ids are unique across plants, stockyards and dealers)
        self.site_of: dict[str, tuple[SiteKind, int]] = {}
        for kind, codes in self.site_ids.items():
            for index, code in enumerate(codes):
                if code in self.site_of:
                    raise ValueError(f"site id {code!r} is used by two kinds of site")
                self.site_of[code] = (kind, index)
        self.dealer_index = {code: index for index, code in enumerate(self.dealer_ids)}
        #: the source that reports each parts location (``source_of_location``), made once
        self.location_sources: list[str] = [self.source_of_location(at) for at in range(self.locations)]
        self.packed_part_numbers = PackedPartNumbers(self.part_numbers)

    def fingerprint(self) -> str:
        """A digest of every code list: a live state belongs to the network whose codes made it."""
        digest = hashlib.sha256()
        for codes in (self.location_ids, self.part_numbers, self.spec_codes, self.carrier_ids,
                      *self.site_ids.values()):  # fmt: skip
            digest.update("\x1f".join(codes).encode())
            digest.update(b"\x1e")
        return digest.hexdigest()[:16]

    @property
    def dealers(self) -> int:
        return len(self.dealer_ids)

    @property
    def locations(self) -> int:
        return len(self.location_ids)

    @property
    def skus(self) -> int:
        return len(self.part_numbers)

    def source_of_location(self, location: int) -> str:
        """The system that reports a parts location's stock: the dealer's DMS or the DC's WMS."""
        if location < self.dealers:
            return f"DMS:{self.dealer_ids[location]}"
        return f"DC:{self.location_ids[location]}"


class PackedPartNumbers:
    """Looks up a packed record's part numbers (codes joined by ``PACKED_CODE_SEPARATOR``) in bulk.

    When every catalogue code has the same length of at most 7 ASCII characters, a record's joined text is a
    row of fixed-width slots, code and separator: each slot read as one 8-byte integer is a key, found among
    the catalogue's sorted keys by ``np.searchsorted``. No string per line is made (a year's feed has ~97M
    part numbers). Any other text (a code of another length, an unknown code) is not found here, and the
    caller takes the code-by-code path, which names the culprit."""

    #: the widest slot (code and separator) that fits one 8-byte key
    KEY_BYTES = 8

    def __init__(self, part_numbers: list[str]) -> None:
        widths = {len(code) for code in part_numbers}
        #: bytes per code and separator; 0 when the catalogue does not fit fixed-width keys (no look-up hits)
        self.slot_bytes = 0
        if (
            len(widths) == 1
            and all(code.isascii() and PACKED_CODE_SEPARATOR not in code for code in part_numbers)
            and 1 <= len(part_numbers[0]) < self.KEY_BYTES
        ):
            self.slot_bytes = len(part_numbers[0]) + 1
        keys = self._keys(PACKED_CODE_SEPARATOR.join(part_numbers).encode(), len(part_numbers))
        if keys is None:
            keys = np.zeros(0, dtype=np.uint64)
        order = np.argsort(keys, kind="stable")
        # the catalogue's keys in ascending order, then a sentinel above any ASCII slot, so a search never
        # runs past the end; ``order``: the SKU index of each (-1 for the sentinel, never matched)
        self.sorted_keys = np.append(keys[order], np.uint64(np.iinfo(np.uint64).max))
        self.order = np.append(order, -1).astype(np.int64)

    def _keys(self, joined: bytes, count: int) -> npt.NDArray[np.uint64] | None:
        """The key of each slot, or None when the text is not ``count`` slots of ``slot_bytes``. The bytes are
        read big-endian, so keys sort as the codes do (a feed lists them in order, which speeds the search)."""
        width = self.slot_bytes
        if not width or len(joined) != count * width - 1:
            return None
        slots = joined + PACKED_CODE_SEPARATOR.encode()
        if width == self.KEY_BYTES:
            return np.frombuffer(slots, dtype=">u8").astype(np.uint64)
        padded = np.zeros((count, self.KEY_BYTES), dtype=np.uint8)
        padded[:, :width] = np.frombuffer(slots, dtype=np.uint8).reshape(count, width)
        return padded.view(">u8").reshape(count).astype(np.uint64)

    def skus(self, joined: str, count: int) -> npt.NDArray[np.int64] | None:
        """The SKU index of each of the ``count`` codes in ``joined``; None unless every one is a
        catalogue part number (then the caller goes code by code)."""
        if count == 0 or not self.slot_bytes or not joined.isascii():
            return None
        keys = self._keys(joined.encode("ascii"), count)
        if keys is None:
            return None
        at = self.sorted_keys.searchsorted(keys)
        if self.sorted_keys.take(at).tobytes() != keys.tobytes():  # every key found: one memcmp
            return None
        return self.order.take(at)
