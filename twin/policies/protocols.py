"""One Protocol per decision family; a new policy is a new class that satisfies one of these.

The same objects run inside the twin and behind the live control tower, so they take views and return
decisions and never touch simulation state or SimPy.
"""

from __future__ import annotations

from typing import Protocol

from twin.policies.observation import (
    CustomerRequest,
    IntArray,
    PartsView,
    QuantityArray,
    ReplenishmentDecision,
    SourcingDecision,
    VehicleView,
)


class ReplenishmentPolicy(Protocol):
    def replenish(self, view: PartsView, candidate_cells: IntArray) -> ReplenishmentDecision:
        """Orders for cells whose position may have changed: sorted unique flat ``location * skus + sku``."""
        ...


class VehicleAllocationPolicy(Protocol):
    def plan_production(self, view: VehicleView, period_days: int) -> QuantityArray:
        """Units to build per spec over the next ``period_days``."""
        ...

    def allocate(self, view: VehicleView, yard: int, vehicle_specs: IntArray) -> IntArray:
        """Dealer for each unallocated vehicle in ``yard`` (-1 keeps it in the yard)."""
        ...


class SourcingPolicy(Protocol):
    def source(self, view: VehicleView, request: CustomerRequest) -> SourcingDecision:
        """What to offer a customer whose spec the dealer does not have."""
        ...
