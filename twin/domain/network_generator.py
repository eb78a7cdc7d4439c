"""Reproducible default network: dealers across Indian regions, DCs, plants, yards, carriers, catalogs.

``generate_master_data(network_config)`` returns the same tables for the same ``generator_seed``; write them
with ``MasterData.write`` and point ``network.master_data_dir`` at the folder to run on edited or real data.
Run ``python -m twin.domain.network_generator OUT_DIR`` to write the default network as CSV.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd

from twin.config import NetworkConfig
from twin.domain.masterdata import MasterData
from twin.domain.parts import PART_CLASSES
from twin.domain.parts_vocabulary import name_catalog
from twin.errors import ConfigError

#: (city, region, latitude, longitude, pincode prefix, relative market size)
CITIES: tuple[tuple[str, str, float, float, str, float], ...] = (
    ("Delhi", "North", 28.61, 77.21, "110", 6.0),
    ("Chandigarh", "North", 30.73, 76.78, "160", 1.5),
    ("Jaipur", "North", 26.91, 75.79, "302", 2.0),
    ("Lucknow", "North", 26.85, 80.95, "226", 2.0),
    ("Ludhiana", "North", 30.90, 75.86, "141", 1.2),
    ("Dehradun", "North", 30.32, 78.03, "248", 0.8),
    ("Agra", "North", 27.18, 78.01, "282", 1.0),
    ("Kanpur", "North", 26.45, 80.33, "208", 1.2),
    ("Amritsar", "North", 31.63, 74.87, "143", 0.8),
    ("Varanasi", "North", 25.32, 82.97, "221", 0.9),
    ("Mumbai", "West", 19.08, 72.88, "400", 5.5),
    ("Pune", "West", 18.52, 73.86, "411", 3.0),
    ("Ahmedabad", "West", 23.02, 72.57, "380", 2.8),
    ("Surat", "West", 21.17, 72.83, "395", 1.6),
    ("Nagpur", "West", 21.15, 79.09, "440", 1.2),
    ("Nashik", "West", 20.00, 73.79, "422", 0.9),
    ("Vadodara", "West", 22.31, 73.18, "390", 1.0),
    ("Rajkot", "West", 22.30, 70.80, "360", 0.9),
    ("Panaji", "West", 15.49, 73.83, "403", 0.5),
    ("Bengaluru", "South", 12.97, 77.59, "560", 4.5),
    ("Chennai", "South", 13.08, 80.27, "600", 3.8),
    ("Hyderabad", "South", 17.39, 78.49, "500", 3.8),
    ("Kochi", "South", 9.93, 76.27, "682", 1.5),
    ("Coimbatore", "South", 11.02, 76.96, "641", 1.2),
    ("Visakhapatnam", "South", 17.69, 83.22, "530", 1.0),
    ("Madurai", "South", 9.93, 78.12, "625", 0.9),
    ("Mysuru", "South", 12.30, 76.64, "570", 0.7),
    ("Thiruvananthapuram", "South", 8.52, 76.94, "695", 0.9),
    ("Vijayawada", "South", 16.51, 80.65, "520", 0.9),
    ("Kolkata", "East", 22.57, 88.36, "700", 3.5),
    ("Bhubaneswar", "East", 20.30, 85.82, "751", 1.0),
    ("Patna", "East", 25.59, 85.14, "800", 1.2),
    ("Ranchi", "East", 23.34, 85.31, "834", 0.8),
    ("Guwahati", "East", 26.14, 91.74, "781", 0.9),
    ("Siliguri", "East", 26.73, 88.40, "734", 0.5),
    ("Bhopal", "Central", 23.26, 77.41, "462", 1.1),
    ("Indore", "Central", 22.72, 75.86, "452", 1.4),
    ("Raipur", "Central", 21.25, 81.63, "492", 0.9),
    ("Jabalpur", "Central", 23.18, 79.99, "482", 0.6),
    ("Gwalior", "Central", 26.22, 78.18, "474", 0.6),
)
DC_SITES = (
    ("Gurugram", "North", 28.46, 77.03),
    ("Chennai", "South", 12.98, 80.16),
    ("Pune", "West", 18.62, 73.80),
    ("Kolkata", "East", 22.63, 88.43),
)
PLANT_SITES = (
    ("Manesar", "North", 28.36, 76.94, "MA7", "M"),
    ("Sanand", "West", 22.99, 72.38, "MAJ", "S"),
    ("Hosur", "South", 12.74, 77.83, "MEX", "H"),
)
YARD_SITES = (
    ("Delhi NCR yard", "North", 28.52, 77.10),
    ("Mumbai yard", "West", 19.20, 73.00),
    ("Chennai yard", "South", 13.00, 80.10),
    ("Kolkata yard", "East", 22.60, 88.30),
    ("Nagpur yard", "Central", 21.10, 79.05),
    ("Bengaluru yard", "South", 13.00, 77.50),
)
MODELS = (
    ("Arka", 6.5e5),
    ("Bolt", 7.5e5),
    ("Cirrus", 9.0e5),
    ("Dhruv", 11.0e5),
    ("Elan", 13.5e5),
    ("Falcon", 16.0e5),
    ("Gati", 19.0e5),
    ("Hira", 23.0e5),
)
VARIANT_LADDER = (
    "LXi",
    "VXi",
    "ZXi",
    "ZXi+",
    "VXi AT",
    "ZXi AT",
    "VDi",
    "ZDi",
    "ZDi+",
    "CNG",
    "Alpha",
    "Alpha AT",
    "Sigma",
    "Delta",
)
COLOURS = (
    "Arctic White",
    "Silky Silver",
    "Magma Grey",
    "Midnight Black",
    "Sizzling Red",
    "Nexa Blue",
    "Pearl Brown",
    "Opulent Red",
)
OPTION_PACKS = ("STD", "STD|ABS|2AB", "ABS|6AB|TOUCH", "ABS|6AB|TOUCH|ALLOY", "ABS|6AB|SUNROOF|360CAM")
REGION_MODEL_TILT = {
    "North": (1.2, 1.1, 1.0, 1.2, 1.1, 1.0, 1.0, 0.9),
    "West": (1.0, 1.0, 1.2, 1.0, 1.0, 1.2, 1.1, 1.0),
    "South": (0.9, 1.0, 1.1, 1.0, 1.2, 1.1, 1.2, 1.1),
    "East": (1.3, 1.2, 1.0, 0.9, 0.8, 0.8, 0.8, 0.7),
    "Central": (1.3, 1.2, 1.0, 1.1, 0.9, 0.8, 0.8, 0.7),
}


def _nearest(lat: np.ndarray, lon: np.ndarray, sites_lat: np.ndarray, sites_lon: np.ndarray) -> np.ndarray:
    squared = (lat[:, None] - sites_lat[None, :]) ** 2 + ((lon[:, None] - sites_lon[None, :]) * 0.9) ** 2
    return np.argmin(squared, axis=1)


def generate_master_data(config: NetworkConfig) -> MasterData:
    """Build every master-data table from ``config.generator_seed`` (no global random state)."""
    if config.models > len(MODELS):
        raise ConfigError("network.models", config.models, f"the generator knows {len(MODELS)} models")
    for name, limit in (
        ("parts_dcs", len(DC_SITES)),
        ("plants", len(PLANT_SITES)),
        ("stockyards", len(YARD_SITES)),
    ):
        if getattr(config, name) > limit:
            raise ConfigError(
                f"network.{name}", getattr(config, name), f"the generator places at most {limit}"
            )
    if config.carriers < 2:
        raise ConfigError(
            "network.carriers", config.carriers, "needs at least one parts and one vehicle carrier"
        )
    rng = np.random.default_rng(np.random.SeedSequence(config.generator_seed))

    parts_dcs = _sites(DC_SITES[: config.parts_dcs], "DC")
    plants_rows = PLANT_SITES[: config.plants]
    plants = pd.DataFrame(
        {
            "site_id": [f"PL{index + 1:02d}" for index in range(len(plants_rows))],
            "name": [row[0] for row in plants_rows],
            "region": [row[1] for row in plants_rows],
            "latitude": [row[2] for row in plants_rows],
            "longitude": [row[3] for row in plants_rows],
            "wmi": [row[4] for row in plants_rows],
            "plant_code": [row[5] for row in plants_rows],
        }
    )
    stockyards = _sites(YARD_SITES[: config.stockyards], "SY")
    stockyards["plant_id"] = plants["site_id"].to_numpy()[
        _nearest(
            stockyards["latitude"].to_numpy(),
            stockyards["longitude"].to_numpy(),
            plants["latitude"].to_numpy(),
            plants["longitude"].to_numpy(),
        )
    ]

    carriers = _carriers(config)
    dealers = _dealers(config, rng, parts_dcs, stockyards, carriers)
    parts_catalog = _parts_catalog(config, rng)
    vehicle_specs = _vehicle_specs(config, rng, plants)
    # OEM numbers, names, categories and fitments come from a stream of their own, after every draw above
    parts_catalog = name_catalog(parts_catalog, vehicle_specs, config.generator_seed)
    regions = sorted(set(dealers["region"]))
    region_model_mix = pd.DataFrame(
        [
            {
                "region": region,
                "model": MODELS[model][0],
                "weight": REGION_MODEL_TILT.get(region, (1.0,) * len(MODELS))[model],
            }
            for region in regions
            for model in range(config.models)
        ]
    )
    return MasterData(
        dealers, parts_dcs, plants, stockyards, carriers, parts_catalog, vehicle_specs, region_model_mix
    )


def _sites(rows: tuple[tuple[str, str, float, float], ...], prefix: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "site_id": [f"{prefix}{index + 1:02d}" for index in range(len(rows))],
            "name": [row[0] for row in rows],
            "region": [row[1] for row in rows],
            "latitude": [row[2] for row in rows],
            "longitude": [row[3] for row in rows],
        }
    )


def _carriers(config: NetworkConfig) -> pd.DataFrame:
    """At least one parts carrier (LTL pricing by load share) and one car-carrier; extra ones alternate."""
    modes = [
        "parts" if index == 0 or (index > 2 and index % 2 == 1) else "vehicles"
        for index in range(config.carriers)
    ]
    # network-wide trucks: one parts truck and 2.5 car carriers per dealer (a car carrier serves one dealer per
    # trip and is away for the round trip, so part loads after the wait limit need a large fleet)
    fleet_total = {"parts": 1.0 * config.dealers, "vehicles": 2.5 * config.dealers}
    rows = []
    for mode in modes:
        fleet = max(4, round(fleet_total[mode] / modes.count(mode)))
        if mode == "parts":
            rows.append(("parts", 42.0, 900.0, 4000, 330.0, fleet))
        else:
            rows.append(("vehicles", 62.0, 9000.0, 8, 320.0, fleet))
    names = (
        "Sahyadri Parts Express",
        "Ganga Auto Carriers",
        "Deccan Freightlines",
        "Coromandel Car Logistics",
        "Vindhya Movers",
        "Konkan Carriers",
    )
    return pd.DataFrame(
        {
            "carrier_id": [f"CR{index + 1:02d}" for index in range(config.carriers)],
            "name": [
                names[index % len(names)] + ("" if index < len(names) else f" {index}")
                for index in range(config.carriers)
            ],
            "mode": [row[0] for row in rows],
            "rate_per_km_inr": [row[1] for row in rows],
            "minimum_charge_inr": [row[2] for row in rows],
            "capacity_per_load": [row[3] for row in rows],
            "speed_km_per_day": [row[4] for row in rows],
            "fleet_size": [row[5] for row in rows],
        }
    )


def _dealers(
    config: NetworkConfig,
    rng: np.random.Generator,
    parts_dcs: pd.DataFrame,
    stockyards: pd.DataFrame,
    carriers: pd.DataFrame,
) -> pd.DataFrame:
    weights = np.array([city[5] for city in CITIES])
    city_index = rng.choice(len(CITIES), size=config.dealers, p=weights / weights.sum())
    city_index[: min(config.dealers, len(CITIES))] = np.argsort(-weights)[: min(config.dealers, len(CITIES))]
    latitude = np.array([CITIES[index][2] for index in city_index]) + rng.normal(0.0, 0.35, config.dealers)
    longitude = np.array([CITIES[index][3] for index in city_index]) + rng.normal(0.0, 0.35, config.dealers)
    region = np.array([CITIES[index][1] for index in city_index])
    counts: dict[str, int] = {}
    names, pincodes = [], []
    for index in city_index:
        city = CITIES[index][0]
        counts[city] = counts.get(city, 0) + 1
        names.append(f"{city} Motors {counts[city]}")
        pincodes.append(f"{CITIES[index][4]}{rng.integers(1, 100):03d}")
    parts_carriers = carriers.loc[carriers["mode"] == "parts", "carrier_id"].to_numpy()
    vehicle_carriers = carriers.loc[carriers["mode"] == "vehicles", "carrier_id"].to_numpy()
    dc = _nearest(latitude, longitude, parts_dcs["latitude"].to_numpy(), parts_dcs["longitude"].to_numpy())
    yard = _nearest(
        latitude, longitude, stockyards["latitude"].to_numpy(), stockyards["longitude"].to_numpy()
    )
    activity = rng.lognormal(0.0, 0.3, config.dealers)
    activity /= activity.mean()
    return pd.DataFrame(
        {
            "dealer_id": [f"D{index + 1:04d}" for index in range(config.dealers)],
            "name": names,
            "region": region,
            "pincode": pincodes,
            "latitude": latitude.round(5),
            "longitude": longitude.round(5),
            "capacity_vehicles": np.maximum(40, np.round(config.vehicles_per_dealer * 1.8 * activity)).astype(
                int
            ),
            "parts_dc_id": parts_dcs["site_id"].to_numpy()[dc],
            "stockyard_id": stockyards["site_id"].to_numpy()[yard],
            "parts_carrier_id": parts_carriers[np.arange(config.dealers) % len(parts_carriers)],
            "vehicle_carrier_id": vehicle_carriers[np.arange(config.dealers) % len(vehicle_carriers)],
            "parts_activity": (activity * rng.lognormal(0.0, 0.15, config.dealers)).round(4),
            "vehicle_activity": activity.round(4),
        }
    )


def _parts_catalog(config: NetworkConfig, rng: np.random.Generator) -> pd.DataFrame:
    """SKUs by class; ``demand_weight`` = expected lines per average dealer per day at the default demand.

    ``name_catalog`` adds the OEM part numbers and the descriptions once the vehicle specs (whose models the
    parts fit) are drawn."""
    shares = np.array([part_class.sku_share for part_class in PART_CLASSES])
    counts = np.floor(shares * config.skus).astype(int)
    counts[np.argmax(shares)] += config.skus - counts.sum()
    part_class = np.repeat(np.arange(len(PART_CLASSES)), counts)
    unit_cost = np.empty(config.skus)
    demand_weight = np.empty(config.skus)
    for class_index, part_class_spec in enumerate(PART_CLASSES):
        members = np.flatnonzero(part_class == class_index)
        low, high = part_class_spec.unit_cost_range_inr
        unit_cost[members] = np.exp(rng.uniform(np.log(low), np.log(high), members.size))
        popularity = rng.lognormal(0.0, part_class_spec.popularity_sigma, members.size)
        demand_weight[members] = part_class_spec.line_share * popularity / popularity.sum()
    superseded_by = np.full(config.skus, "", dtype=object)
    sku_id = np.array([f"P{index + 1:06d}" for index in range(config.skus)], dtype=object)
    # about 1% of SKUs have been superseded by a newer number of the same class; demand rolls up to it
    for class_index in range(len(PART_CLASSES)):
        members = np.flatnonzero(part_class == class_index)
        replaced = members[rng.random(members.size) < 0.01]
        for old in replaced:
            candidates = members[(members != old) & (superseded_by[members] == "")]
            if candidates.size:
                superseded_by[old] = sku_id[rng.choice(candidates)]
    return pd.DataFrame(
        {
            "sku_id": sku_id,
            "part_class": [PART_CLASSES[index].name for index in part_class],
            "unit_cost_inr": unit_cost.round(2),
            "superseded_by": superseded_by,
            "demand_weight": demand_weight,
        }
    )


def _vehicle_specs(config: NetworkConfig, rng: np.random.Generator, plants: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for model_index in range(config.models):
        model, base_price = MODELS[model_index]
        variant_count = int(rng.integers(8, 15))
        colour_count = int(rng.integers(6, 9))
        variant_popularity = rng.dirichlet(np.full(variant_count, 1.5))
        colour_popularity = rng.dirichlet(np.full(colour_count, 2.0))
        model_weight = rng.uniform(0.6, 1.4)
        plant_id = plants["site_id"].iloc[model_index % len(plants)]
        for variant_index in range(variant_count):
            variant = VARIANT_LADDER[variant_index]
            price = base_price * (1.0 + 0.07 * variant_index)
            options = OPTION_PACKS[
                min(len(OPTION_PACKS) - 1, variant_index * len(OPTION_PACKS) // variant_count)
            ]
            for colour_index in range(colour_count):
                rows.append(
                    {
                        "spec_id": f"{model[:3].upper()}-{variant.replace(' ', '').replace('+', 'P')}-{colour_index + 1}",
                        "model": model,
                        "variant": f"{model} {variant}",
                        "colour": COLOURS[colour_index],
                        "options": options,
                        "price_inr": round(price, -3),
                        "popularity": model_weight
                        * variant_popularity[variant_index]
                        * colour_popularity[colour_index],
                        "plant_id": plant_id,
                    }
                )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the default network's master data")
    parser.add_argument("out_dir")
    parser.add_argument("--dealers", type=int, default=400)
    parser.add_argument("--skus", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    arguments = parser.parse_args(argv)
    config = NetworkConfig(dealers=arguments.dealers, skus=arguments.skus, generator_seed=arguments.seed)
    folder = generate_master_data(config).write(arguments.out_dir, arguments.format)
    print(f"wrote master data to {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
