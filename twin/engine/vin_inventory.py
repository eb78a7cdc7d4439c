"""The engine's VINs as Atlas sees them (``twin.policies.network_sourcing.VinInventory``).

Walks only where sourceable vehicles are (dealer yards, the stockyards' unallocated pools, loads and trunks on
the road), never the registry of every vehicle ever built, so a refresh costs O(vehicles in the network).
Vehicles already allocated to a dealer and waiting at a stockyard for a carrier are that dealer's: not listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain
from typing import TYPE_CHECKING

import numpy as np

from twin.domain.vehicles import NOT_YET
from twin.policies.network_sourcing import SourceKind, VinInventory

if TYPE_CHECKING:
    from twin.engine.vehicle_flow import VehicleFlow


def vin_inventory(flow: VehicleFlow) -> VinInventory:
    now = flow.env.now
    vehicles: list[int] = []
    # one segment per place (a dealer's yard, a stockyard's pool, a load, a trunk): kind, site, ready day, size
    kinds: list[int] = []
    sites: list[int] = []
    ready: list[float] = []
    sizes: list[int] = []

    def add(kind: SourceKind, site: int, ready_day: float, members: Iterable[int]) -> None:
        before = len(vehicles)
        vehicles.extend(members)
        kinds.append(kind)
        sites.append(site)
        ready.append(ready_day)
        sizes.append(len(vehicles) - before)

    for dealer, yard in enumerate(flow.dealer_yard):
        add(SourceKind.DEALER_YARD, dealer, now, chain.from_iterable(yard.values()))
    for stockyard, pool in enumerate(flow.yard_pool):
        add(SourceKind.STOCKYARD, stockyard, now, chain.from_iterable(pool.values()))
    for destination, _, load, eta, _ in flow.carriers.loads_on_road.values():
        add(SourceKind.IN_TRANSIT, destination, eta, load)
    for stockyard, trunk, eta in flow.trunks_on_road.values():
        add(SourceKind.PIPELINE, stockyard, eta, trunk)
    vehicle = np.array(vehicles, dtype=np.int64)
    size = np.array(sizes, dtype=np.int64)
    registry = flow.vehicles
    spec = registry.spec[vehicle].astype(np.int64)
    received = registry.received_day[vehicle]
    reserved = registry.customer_order[vehicle].copy()
    return VinInventory(
        vehicle=vehicle,
        spec=spec,
        kind=np.repeat(np.array(kinds, dtype=np.int64), size),
        site=np.repeat(np.array(sites, dtype=np.int64), size),
        ready_day=np.repeat(np.array(ready, dtype=np.float64), size),
        received_day=np.where(received == NOT_YET, np.nan, received),
        reserved=reserved,
    )
