"""The physical network: dealers, parts DCs, plants, stockyards, carriers and the lanes between them.

Each site type is a table of numpy columns indexed by an integer id (names only at the edges), so the
engine can compute lane distances and costs for all dealers at once. ``Network.check_wiring`` is the
build-phase guarantee that every dealer has a parts DC, a stockyard, a carrier for both and finite lanes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from twin.errors import MasterDataError

EARTH_RADIUS_KM = 6371.0088

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def haversine_km(lat_a: FloatArray, lon_a: FloatArray, lat_b: FloatArray, lon_b: FloatArray) -> FloatArray:
    """Great-circle distance in km between points given in degrees (broadcasts)."""
    lat_a, lon_a, lat_b, lon_b = (
        np.radians(np.asarray(x, dtype=np.float64)) for x in (lat_a, lon_a, lat_b, lon_b)
    )
    half_chord = (
        np.sin((lat_b - lat_a) / 2.0) ** 2
        + np.cos(lat_a) * np.cos(lat_b) * np.sin((lon_b - lon_a) / 2.0) ** 2
    )
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(half_chord, 0.0, 1.0)))


@dataclass(frozen=True)
class Dealers:
    dealer_id: npt.NDArray[np.str_]
    name: npt.NDArray[np.str_]
    region: npt.NDArray[np.str_]
    pincode: npt.NDArray[np.str_]
    latitude: FloatArray
    longitude: FloatArray
    #: yard slots for finished vehicles
    capacity_vehicles: IntArray
    #: index into Sites of kind "dc" that supplies this dealer's parts
    parts_dc: IntArray
    #: index of the stockyard that supplies this dealer's vehicles
    stockyard: IntArray

    def __len__(self) -> int:
        return len(self.dealer_id)


@dataclass(frozen=True)
class Sites:
    """Parts DCs, plants or stockyards: anything with an id, a place and (for yards) a feeding plant."""

    site_id: npt.NDArray[np.str_]
    name: npt.NDArray[np.str_]
    region: npt.NDArray[np.str_]
    latitude: FloatArray
    longitude: FloatArray
    #: plants: VIN manufacturer id (3 chars) and plant code (1 char); yards: index of the feeding plant
    code: npt.NDArray[np.str_]
    feeder: IntArray

    def __len__(self) -> int:
        return len(self.site_id)


@dataclass(frozen=True)
class Carriers:
    """Rate cards. ``mode`` is "parts" (capacity in units per load) or "vehicles" (car slots per load)."""

    carrier_id: npt.NDArray[np.str_]
    name: npt.NDArray[np.str_]
    mode: npt.NDArray[np.str_]
    rate_per_km_inr: FloatArray
    minimum_charge_inr: FloatArray
    capacity_per_load: IntArray
    speed_km_per_day: FloatArray
    #: loads the carrier can have on the road at once (trucks)
    fleet_size: IntArray

    def __len__(self) -> int:
        return len(self.carrier_id)

    def of_mode(self, mode: str) -> IntArray:
        return np.flatnonzero(self.mode == mode).astype(np.int64)


@dataclass(frozen=True)
class Network:
    dealers: Dealers
    parts_dcs: Sites
    plants: Sites
    stockyards: Sites
    carriers: Carriers
    road_factor: float
    #: carrier serving each dealer's parts lane and vehicle lane
    parts_carrier: IntArray
    vehicle_carrier: IntArray

    @property
    def dealer_count(self) -> int:
        return len(self.dealers)

    @property
    def location_count(self) -> int:
        """Parts-holding locations: dealers first, then DCs (the row order of the parts arrays)."""
        return len(self.dealers) + len(self.parts_dcs)

    def dc_location(self, dc_index: int | IntArray) -> int | IntArray:
        return len(self.dealers) + dc_index

    def road_km(
        self, lat_a: FloatArray, lon_a: FloatArray, lat_b: FloatArray, lon_b: FloatArray
    ) -> FloatArray:
        return haversine_km(lat_a, lon_a, lat_b, lon_b) * self.road_factor

    def dc_to_dealer_km(self) -> FloatArray:
        dc = self.dealers.parts_dc
        return self.road_km(
            self.parts_dcs.latitude[dc],
            self.parts_dcs.longitude[dc],
            self.dealers.latitude,
            self.dealers.longitude,
        )

    def dealer_to_dealer_km(self) -> FloatArray:
        """``[dealer, dealer]`` road km: the lanes of dealer-to-dealer transfers and trades."""
        lat, lon = self.dealers.latitude, self.dealers.longitude
        return self.road_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])

    def stockyard_to_dealer_km(self) -> FloatArray:
        """``[stockyard, dealer]`` road km from every stockyard (``yard_to_dealer_km`` is each dealer's own)."""
        return self.road_km(
            self.stockyards.latitude[:, None],
            self.stockyards.longitude[:, None],
            self.dealers.latitude[None, :],
            self.dealers.longitude[None, :],
        )

    def yard_to_dealer_km(self) -> FloatArray:
        yard = self.dealers.stockyard
        return self.road_km(
            self.stockyards.latitude[yard],
            self.stockyards.longitude[yard],
            self.dealers.latitude,
            self.dealers.longitude,
        )

    def plant_to_yard_km(self) -> FloatArray:
        plant = self.stockyards.feeder
        return self.road_km(
            self.plants.latitude[plant],
            self.plants.longitude[plant],
            self.stockyards.latitude,
            self.stockyards.longitude,
        )

    def check_wiring(self) -> None:
        """Every dealer reaches a parts DC and a stockyard over a carrier that can carry something."""
        dealers = self.dealers
        if len(dealers) == 0:
            raise MasterDataError("dealers", None, "count", 0, "the network has no dealers")
        seen: set[str] = set()
        for dealer_id in dealers.dealer_id.tolist():
            if dealer_id in seen:
                raise MasterDataError(
                    "dealers", dealer_id, "dealer_id", dealer_id, "dealer ids must be unique"
                )
            seen.add(dealer_id)
        for table, column, sites in (
            ("dealers", "parts_dc", self.parts_dcs),
            ("dealers", "stockyard", self.stockyards),
        ):
            values = getattr(dealers, column)
            bad = np.flatnonzero((values < 0) | (values >= len(sites)))
            if bad.size:
                index = int(bad[0])
                raise MasterDataError(
                    table, str(dealers.dealer_id[index]), column, int(values[index]), "no such supplier site"
                )
        bad_plants = np.flatnonzero(
            (self.stockyards.feeder < 0) | (self.stockyards.feeder >= len(self.plants))
        )
        if bad_plants.size:
            index = int(bad_plants[0])
            raise MasterDataError(
                "stockyards",
                str(self.stockyards.site_id[index]),
                "plant",
                int(self.stockyards.feeder[index]),
                "no such plant",
            )
        carriers = self.carriers
        for index in range(len(carriers)):
            key = str(carriers.carrier_id[index])
            if carriers.capacity_per_load[index] <= 0:
                raise MasterDataError(
                    "carriers",
                    key,
                    "capacity_per_load",
                    int(carriers.capacity_per_load[index]),
                    "a carrier needs capacity",
                )
            if carriers.fleet_size[index] <= 0:
                raise MasterDataError(
                    "carriers",
                    key,
                    "fleet_size",
                    int(carriers.fleet_size[index]),
                    "a carrier needs at least one truck",
                )
            if carriers.speed_km_per_day[index] <= 0:
                raise MasterDataError(
                    "carriers",
                    key,
                    "speed_km_per_day",
                    float(carriers.speed_km_per_day[index]),
                    "must be > 0",
                )
            if carriers.rate_per_km_inr[index] < 0 or carriers.minimum_charge_inr[index] < 0:
                raise MasterDataError(
                    "carriers",
                    key,
                    "rate_per_km_inr",
                    float(carriers.rate_per_km_inr[index]),
                    "rates must be >= 0",
                )
        for lane_name, lane_carrier, mode in (
            ("parts lane", self.parts_carrier, "parts"),
            ("vehicle lane", self.vehicle_carrier, "vehicles"),
        ):
            if lane_carrier.shape != (len(dealers),):
                raise MasterDataError(
                    "dealers", None, lane_name, lane_carrier.shape, "one carrier per dealer is needed"
                )
            wrong = np.flatnonzero((lane_carrier < 0) | (lane_carrier >= len(carriers)))
            if wrong.size == 0:
                wrong = np.flatnonzero(carriers.mode[lane_carrier] != mode)
            if wrong.size:
                index = int(wrong[0])
                carrier = int(lane_carrier[index])
                raise MasterDataError(
                    "dealers",
                    str(dealers.dealer_id[index]),
                    lane_name,
                    str(carriers.carrier_id[carrier]) if 0 <= carrier < len(carriers) else carrier,
                    f"needs a '{mode}' carrier",
                )
        for name, distances in (
            ("parts lane km", self.dc_to_dealer_km()),
            ("vehicle lane km", self.yard_to_dealer_km()),
        ):
            if not np.all(np.isfinite(distances)):
                index = int(np.flatnonzero(~np.isfinite(distances))[0])
                raise MasterDataError(
                    "dealers",
                    str(dealers.dealer_id[index]),
                    name,
                    float(distances[index]),
                    "coordinates give no distance",
                )
