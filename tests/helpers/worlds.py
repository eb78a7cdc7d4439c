"""Hand-built master data for tests that need to know every distance, activity and SKU of the world.

Sites sit on one meridian, so a road distance is exactly ``road_factor * EARTH_RADIUS_KM * delta_latitude``
(in radians) and a lead time ``dispatch delay + distance / speed`` can be chosen to the day in the test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from twin.config import NetworkConfig, PolicySettings, TwinConfig
from twin.domain.masterdata import MasterData
from twin.domain.network import EARTH_RADIUS_KM

ROAD_FACTOR = 1.25
BASE_LATITUDE = 19.0
LONGITUDE = 73.0


def latitude_at_km(road_km: float, road_factor: float = ROAD_FACTOR) -> float:
    """Latitude of a point ``road_km`` north of the hub along the meridian."""
    return BASE_LATITUDE + math.degrees(road_km / road_factor / EARTH_RADIUS_KM)


@dataclass(frozen=True)
class DealerSpec:
    dealer_id: str
    #: road km from the (co-located) parts DC and stockyard
    road_km: float
    parts_activity: float = 1.0
    vehicle_activity: float = 1.0
    capacity_vehicles: int = 50
    region: str = "West"


@dataclass(frozen=True)
class SkuSpec:
    sku_id: str
    part_class: str
    demand_weight: float
    unit_cost_inr: float = 1000.0
    superseded_by: str = ""


def tiny_master_data(
    dealers: Sequence[DealerSpec],
    skus: Sequence[SkuSpec],
    colours: Sequence[str] = ("White",),
    parts_speed_km_per_day: float = 300.0,
    vehicle_speed_km_per_day: float = 300.0,
    parts_capacity_per_load: int = 4000,
    parts_fleet_size: int = 4,
    vehicle_capacity_per_load: int = 8,
) -> MasterData:
    """One parts DC and one stockyard at the hub, one plant, a parts and a car carrier, one model."""
    dealer_frame = pd.DataFrame(
        {
            "dealer_id": [dealer.dealer_id for dealer in dealers],
            "name": [f"{dealer.dealer_id} Motors" for dealer in dealers],
            "region": [dealer.region for dealer in dealers],
            "pincode": [f"4110{index:02d}" for index in range(len(dealers))],
            "latitude": [latitude_at_km(dealer.road_km) for dealer in dealers],
            "longitude": [LONGITUDE] * len(dealers),
            "capacity_vehicles": [dealer.capacity_vehicles for dealer in dealers],
            "parts_dc_id": ["DC01"] * len(dealers),
            "stockyard_id": ["SY01"] * len(dealers),
            "parts_carrier_id": ["CR01"] * len(dealers),
            "vehicle_carrier_id": ["CR02"] * len(dealers),
            "parts_activity": [dealer.parts_activity for dealer in dealers],
            "vehicle_activity": [dealer.vehicle_activity for dealer in dealers],
        }
    )
    hub = {"region": ["West"], "latitude": [BASE_LATITUDE], "longitude": [LONGITUDE]}
    parts_dcs = pd.DataFrame({"site_id": ["DC01"], "name": ["Pune DC"], **hub})
    plants = pd.DataFrame(
        {"site_id": ["PL01"], "name": ["Chakan"], **hub, "wmi": ["MAL"], "plant_code": ["K"]}
    )
    stockyards = pd.DataFrame({"site_id": ["SY01"], "name": ["Pune yard"], **hub, "plant_id": ["PL01"]})
    carriers = pd.DataFrame(
        {
            "carrier_id": ["CR01", "CR02"],
            "name": ["Parts Express", "Car Carriers"],
            "mode": ["parts", "vehicles"],
            "rate_per_km_inr": [42.0, 62.0],
            "minimum_charge_inr": [900.0, 9000.0],
            "capacity_per_load": [parts_capacity_per_load, vehicle_capacity_per_load],
            "speed_km_per_day": [parts_speed_km_per_day, vehicle_speed_km_per_day],
            "fleet_size": [parts_fleet_size, 2],
        }
    )
    parts_catalog = pd.DataFrame(
        {
            "sku_id": [sku.sku_id for sku in skus],
            "description": [f"{sku.part_class} {sku.sku_id}" for sku in skus],
            "part_class": [sku.part_class for sku in skus],
            "unit_cost_inr": [sku.unit_cost_inr for sku in skus],
            "superseded_by": [sku.superseded_by for sku in skus],
            "demand_weight": [sku.demand_weight for sku in skus],
        }
    )
    vehicle_specs = pd.DataFrame(
        {
            "spec_id": [f"ARK-LXI-{index + 1}" for index in range(len(colours))],
            "model": ["Arka"] * len(colours),
            "variant": ["Arka LXi"] * len(colours),
            "colour": list(colours),
            "options": ["STD"] * len(colours),
            "price_inr": [650000.0] * len(colours),
            "popularity": [1.0] * len(colours),
            "plant_id": ["PL01"] * len(colours),
        }
    )
    region_model_mix = pd.DataFrame({"region": ["West"], "model": ["Arka"], "weight": [1.0]})
    return MasterData(
        dealer_frame, parts_dcs, plants, stockyards, carriers, parts_catalog, vehicle_specs, region_model_mix
    )


def vehicle_test_config(horizon_days: int, sourcing: PolicySettings | None = None) -> TwinConfig:
    """The generated network cut to 16 dealers, 2 stockyards and 100 SKUs with 40 cars each: big enough for
    dealer trades, allocation and campaigns to happen, small enough for a test. ``sourcing`` is the
    ``policy.sourcing`` option (e.g. ``NetworkSourcingConfig()``)."""
    config = TwinConfig(
        network=NetworkConfig(dealers=16, skus=100, stockyards=2, vehicles_per_dealer=40),
        horizon_days=horizon_days,
        warmup_days=7,
        progress=False,
    )
    if sourcing is not None:
        config.policy.sourcing = sourcing
    return config
