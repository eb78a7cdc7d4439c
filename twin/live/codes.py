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

from twin.domain.vehicles import SiteKind
from twin.domain.world import World
from twin.live.contract import timestamp_seconds

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
