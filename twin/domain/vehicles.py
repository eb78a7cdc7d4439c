"""Finished vehicles at VIN level: the sellable spec catalog and the vehicle record with its lifecycle.

A vehicle is a small slotted dataclass (tens of thousands exist at once); its status only moves forward
through ``VehicleStatus`` and every move stamps the day, so age in yard and transfer lead times are exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from twin.errors import MasterDataError


class VehicleStatus(IntEnum):
    ORDERED = 0
    BUILT = 1
    IN_TRANSIT = 2
    IN_YARD = 3
    RESERVED = 4
    DELIVERED = 5


#: allowed next statuses; a vehicle in a yard may be shipped on (stockyard -> dealer, later dealer -> dealer)
ALLOWED_TRANSITIONS: dict[VehicleStatus, frozenset[VehicleStatus]] = {
    VehicleStatus.ORDERED: frozenset({VehicleStatus.BUILT}),
    VehicleStatus.BUILT: frozenset({VehicleStatus.IN_TRANSIT}),
    VehicleStatus.IN_TRANSIT: frozenset({VehicleStatus.IN_YARD}),
    VehicleStatus.IN_YARD: frozenset({VehicleStatus.RESERVED, VehicleStatus.IN_TRANSIT}),
    VehicleStatus.RESERVED: frozenset({VehicleStatus.DELIVERED, VehicleStatus.IN_TRANSIT}),
    VehicleStatus.DELIVERED: frozenset(),
}


class SiteKind(IntEnum):
    PLANT = 0
    STOCKYARD = 1
    ROAD = 2
    DEALER = 3
    CUSTOMER = 4


@dataclass(frozen=True)
class SpecCatalog:
    """Sellable specs: model x variant x colour (+ option pack), each with a price."""

    spec_id: npt.NDArray[np.str_]
    model: npt.NDArray[np.int64]
    #: variant index, global across models
    variant: npt.NDArray[np.int64]
    colour: npt.NDArray[np.int64]
    options: npt.NDArray[np.str_]
    price_inr: npt.NDArray[np.float64]
    model_names: tuple[str, ...]
    variant_names: tuple[str, ...]
    colour_names: tuple[str, ...]
    #: plant building each model
    model_plant: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.spec_id)

    def validate(self) -> None:
        if len(self) == 0:
            raise MasterDataError("vehicle_specs", None, "count", 0, "no sellable specs")
        bad_model = np.flatnonzero((self.model < 0) | (self.model >= len(self.model_names)))
        if bad_model.size:
            index = int(bad_model[0])
            raise MasterDataError(
                "vehicle_specs", str(self.spec_id[index]), "model", int(self.model[index]), "unknown model"
            )
        bad_price = np.flatnonzero(~(self.price_inr > 0))
        if bad_price.size:
            index = int(bad_price[0])
            raise MasterDataError(
                "vehicle_specs",
                str(self.spec_id[index]),
                "price_inr",
                float(self.price_inr[index]),
                "must be > 0",
            )


NOT_YET = -1.0


@dataclass(slots=True)
class Vehicle:
    vin: str
    spec: int
    status: VehicleStatus
    site_kind: SiteKind
    #: index within the site kind (dealer, stockyard, plant); on the road, the destination's index
    #: (a stockyard, or the dealer in ``dealer``); -1 with the customer
    site_index: int
    #: dealer the vehicle is allocated or sold to, -1 while unallocated
    dealer: int = -1
    #: True when built against a customer's factory order
    customer_order: bool = False
    ordered_day: float = NOT_YET
    built_day: float = NOT_YET
    shipped_day: float = NOT_YET
    received_day: float = NOT_YET
    delivered_day: float = NOT_YET
    #: when the current timed step (build, trunk or carrier leg) ends; lets a snapshot resume it
    eta_day: float = NOT_YET

    def move(self, status: VehicleStatus, site_kind: SiteKind, site_index: int, day: float) -> None:
        """Advance the lifecycle; an illegal jump is a bug in the engine, never bad user input."""
        if status not in ALLOWED_TRANSITIONS[self.status]:
            raise RuntimeError(f"VIN {self.vin}: {self.status.name} -> {status.name} is not a lifecycle step")
        self.status = status
        self.site_kind = site_kind
        self.site_index = site_index
        if status is VehicleStatus.BUILT:
            self.built_day = day
        elif status is VehicleStatus.IN_TRANSIT:
            self.shipped_day = day
        elif status is VehicleStatus.IN_YARD and site_kind is SiteKind.DEALER:
            self.received_day = day
        elif status is VehicleStatus.DELIVERED:
            self.delivered_day = day
