"""Atlas's candidate search at network scale: 1,000 customer requests over every VIN of the default network.

Builds the default network with network sourcing on, runs 30 days (so yards, stockyards, loads, builds and
dealer trades are all populated), takes
the VIN inventory, then searches 1,000 requests (random dealers and wanted specs, customers accepting other
colours and variants at the demand model's rates). Prints the VIN count, the inventory and index build times,
the search time per request, candidates looked at and offered. Run:
``.venv/bin/python benchmarks/sourcing_search.py [--requests 1000] [--days 30]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

# a sibling script (run as python benchmarks/<name>.py): one definition of peak memory
from engine_throughput import peak_rss_mb

from twin.config import NetworkSourcingConfig, PolicyConfig, TwinConfig
from twin.engine.simulation import Simulation
from twin.engine.vin_inventory import vin_inventory
from twin.policies.network_sourcing import SourcingRequest, acceptable_specs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    arguments = parser.parse_args()
    config = TwinConfig(progress=False, policy=PolicyConfig(sourcing=NetworkSourcingConfig()))
    config.logger.kind = "none"
    config.settlement.enabled = False
    simulation = Simulation(config)
    simulation.advance(arguments.days)
    flow = simulation.vehicles
    network = simulation.world.network
    # the engine's own Atlas (geometry, sourcing rules, dealers' consent), as the network-sourcing run built it
    orders = simulation.customer_orders
    assert orders is not None, "network sourcing builds the engine's Atlas"
    started = time.perf_counter()
    inventory = vin_inventory(flow)
    inventory_seconds = time.perf_counter() - started
    started = time.perf_counter()
    atlas = orders.atlas()
    atlas_seconds = time.perf_counter() - started

    rng = np.random.default_rng(7)
    dealers = rng.integers(0, network.dealer_count, arguments.requests)
    wanted = rng.integers(0, len(simulation.world.specs), arguments.requests)
    colour = rng.random(arguments.requests) < config.demand.accept_other_colour
    variant = rng.random(arguments.requests) < config.demand.accept_other_variant
    requests = []
    for dealer, spec, other_colour, other_variant in zip(
        dealers.tolist(), wanted.tolist(), colour.tolist(), variant.tolist(), strict=True
    ):
        specs, match = acceptable_specs(
            spec, flow.same_variant[spec], flow.same_model[spec], other_colour, other_variant
        )
        requests.append(SourcingRequest(dealer, specs, match, 45.0, simulation.env.now))
    looked_at = offered = found = 0
    started = time.perf_counter()
    for request in requests:
        candidates = atlas.candidates(request)
        looked_at += candidates.vehicle.size
        offered += int(candidates.offered.sum())
        found += candidates.best() >= 0
    search_seconds = time.perf_counter() - started

    print(f"# Atlas candidate search: default network after {arguments.days} days\n")
    print("| figure | value |\n|---|---:|")
    print(f"| sourceable VINs | {inventory.vehicle.size:,} |")
    print(f"| inventory refresh (walk yards, pools, loads, trunks) | {inventory_seconds * 1000:,.1f} ms |")
    print(f"| Atlas build (inventory refresh and spec index) | {atlas_seconds * 1000:,.1f} ms |")
    print(f"| requests | {len(requests):,} |")
    print(f"| search, all requests | {search_seconds:,.3f} s |")
    print(f"| search per request | {search_seconds / len(requests) * 1e6:,.0f} us |")
    print(f"| candidates looked at per request | {looked_at / len(requests):,.0f} |")
    print(f"| offered per request | {offered / len(requests):,.0f} |")
    print(f"| requests with a source | {found / len(requests):.1%} |")
    print(f"| peak RSS | {peak_rss_mb():,.0f} MB |")


if __name__ == "__main__":
    main()
