"""The engine's VINs as Atlas sees them (``twin.policies.network_sourcing.VinInventory``).

Walks only where sourceable vehicles are (dealer yards, the stockyards' unallocated pools, loads and trunks on
the road), never the registry of every vehicle ever built, so a refresh costs O(vehicles in the network).
Vehicles already allocated to a dealer and waiting at a stockyard for a carrier are that dealer's: not listed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from twin.domain.vehicles import NOT_YET
from twin.policies.network_sourcing import SourceKind, VinInventory

if TYPE_CHECKING:
    from twin.engine.vehicle_flow import VehicleFlow


def vin_inventory(flow: VehicleFlow) -> VinInventory:
    now = flow.env.now
    rows: list[tuple[int, int, int, float]] = []  # vehicle, kind, site, ready day
    for dealer, yard in enumerate(flow.dealer_yard):
        rows.extend(
            (vehicle, SourceKind.DEALER_YARD, dealer, now) for queue in yard.values() for vehicle in queue
        )
    for stockyard, pool in enumerate(flow.yard_pool):
        rows.extend(
            (vehicle, SourceKind.STOCKYARD, stockyard, now) for queue in pool.values() for vehicle in queue
        )
    for destination, _, load, eta, _ in flow.carriers.loads_on_road.values():
        rows.extend((vehicle, SourceKind.IN_TRANSIT, destination, eta) for vehicle in load)
    for stockyard, vehicles, eta in flow.trunks_on_road.values():
        rows.extend((vehicle, SourceKind.PIPELINE, stockyard, eta) for vehicle in vehicles)
    vehicle = np.array([row[0] for row in rows], dtype=np.int64)
    registry = flow.vehicles
    spec = registry.spec[vehicle].astype(np.int64)
    received = registry.received_day[vehicle]
    reserved = registry.customer_order[vehicle].copy()
    return VinInventory(
        vehicle=vehicle,
        spec=spec,
        kind=np.array([row[1] for row in rows], dtype=np.int64),
        site=np.array([row[2] for row in rows], dtype=np.int64),
        ready_day=np.array([row[3] for row in rows], dtype=np.float64),
        received_day=np.where(received == NOT_YET, np.nan, received),
        reserved=reserved,
    )
