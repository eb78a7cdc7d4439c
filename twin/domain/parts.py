"""Parts at SKU level: the catalog (class, unit cost, supersession) and the state arrays ``[location, sku]``.

Locations are dealers first, then parts DCs. Quantities are int32 units. The arrays are the single source
of truth for parts; nothing keeps one Python object per SKU-location.

Quantities and how they relate:
- ``on_hand``: physically on the shelf, including ``reserved`` (held for open counter orders);
- ``workshop_wip``: issued to open repair orders, off the shelf, not yet consumed;
- ``in_transit``: shipped towards the location, not yet received;
- ``backorder``: units owed to customers, awaiting an emergency delivery.
Inventory position (what reorder rules look at) = on_hand - reserved + in_transit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from twin.errors import MasterDataError


@dataclass(frozen=True)
class PartClass:
    """Behaviour of one SKU class; the numbers are calibration knobs (see CALIBRATION.md)."""

    name: str
    #: share of the catalog's SKUs in this class
    sku_share: float
    #: share of a dealer's demand lines that fall on this class
    line_share: float
    #: mean units per demand line (sizes are geometric with this mean)
    units_per_line_mean: float
    unit_cost_range_inr: tuple[float, float]
    #: share of lines that come from workshop repair orders (the rest is counter sales)
    workshop_share: float
    #: probability that an unfilled line is emergency-ordered (the rest is a lost sale)
    emergency_order_probability: float
    #: days between the dealer's stock-order reviews for this class
    review_period_days: int
    #: spread of per-SKU popularity (lognormal sigma); bigger = a longer, more intermittent tail
    popularity_sigma: float


PART_CLASSES: tuple[PartClass, ...] = (
    PartClass("fast_mover", 0.08, 0.49, 1.6, (250.0, 2500.0), 0.85, 0.7, 1, 0.6),
    PartClass("consumable", 0.12, 0.22, 2.5, (80.0, 900.0), 0.70, 0.5, 7, 0.8),
    PartClass("tyre", 0.05, 0.05, 2.2, (3000.0, 9000.0), 0.55, 0.6, 7, 0.7),
    PartClass("battery", 0.03, 0.03, 1.05, (4000.0, 9500.0), 0.60, 0.6, 7, 0.5),
    PartClass("accessory", 0.22, 0.07, 1.2, (400.0, 6000.0), 0.10, 0.3, 14, 1.2),
    PartClass("warranty_spare", 0.50, 0.14, 1.1, (500.0, 25000.0), 1.00, 0.95, 14, 1.5),
)
PART_CLASS_NAMES: tuple[str, ...] = tuple(part_class.name for part_class in PART_CLASSES)


@dataclass(frozen=True)
class PartsCatalog:
    sku_id: npt.NDArray[np.str_]
    #: index into PART_CLASSES
    part_class: npt.NDArray[np.int8]
    unit_cost_inr: npt.NDArray[np.float64]
    #: index of the SKU that replaces this one, -1 if current
    superseded_by: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.sku_id)

    def newest(self) -> npt.NDArray[np.int64]:
        """For every SKU the index of the newest number in its supersession chain (demand rolls up to it)."""
        newest = np.arange(len(self), dtype=np.int64)
        successor = self.superseded_by
        for _ in range(len(self)):
            following = successor[newest]
            moving = following >= 0
            if not moving.any():
                return newest
            newest = np.where(moving, following, newest)
        in_cycle = int(np.flatnonzero(successor[newest] >= 0)[0])
        raise MasterDataError(
            "parts_catalog",
            str(self.sku_id[in_cycle]),
            "superseded_by",
            str(self.sku_id[successor[in_cycle]]),
            "supersession chains must end (this one comes back to where it started)",
        )

    def validate(self) -> None:
        size = len(self)
        if size == 0:
            raise MasterDataError("parts_catalog", None, "count", 0, "the catalog has no SKUs")
        bad_class = np.flatnonzero((self.part_class < 0) | (self.part_class >= len(PART_CLASSES)))
        if bad_class.size:
            index = int(bad_class[0])
            raise MasterDataError(
                "parts_catalog",
                str(self.sku_id[index]),
                "part_class",
                int(self.part_class[index]),
                "unknown class",
            )
        bad_cost = np.flatnonzero(~(self.unit_cost_inr > 0))
        if bad_cost.size:
            index = int(bad_cost[0])
            raise MasterDataError(
                "parts_catalog",
                str(self.sku_id[index]),
                "unit_cost_inr",
                float(self.unit_cost_inr[index]),
                "must be > 0",
            )
        bad_successor = np.flatnonzero(
            (self.superseded_by < -1) | (self.superseded_by >= size) | (self.superseded_by == np.arange(size))
        )
        if bad_successor.size:
            index = int(bad_successor[0])
            raise MasterDataError(
                "parts_catalog",
                str(self.sku_id[index]),
                "superseded_by",
                int(self.superseded_by[index]),
                "no such successor SKU",
            )
        self.newest()


QUANTITY_DTYPE = np.int32


@dataclass
class PartsState:
    """Mutable parts quantities, all shaped ``[location, sku]``."""

    on_hand: npt.NDArray[np.int32]
    reserved: npt.NDArray[np.int32]
    workshop_wip: npt.NDArray[np.int32]
    in_transit: npt.NDArray[np.int32]
    backorder: npt.NDArray[np.int32]
    field_names: tuple[str, ...] = field(
        default=("on_hand", "reserved", "workshop_wip", "in_transit", "backorder"), init=False, repr=False
    )

    @classmethod
    def zeros(cls, locations: int, skus: int) -> PartsState:
        def make() -> npt.NDArray[np.int32]:
            return np.zeros((locations, skus), dtype=QUANTITY_DTYPE)

        return cls(make(), make(), make(), make(), make())

    @property
    def shape(self) -> tuple[int, int]:
        rows, columns = self.on_hand.shape
        return rows, columns

    def units_in_network(self) -> npt.NDArray[np.int64]:
        """Units per SKU held anywhere in the network (shelf, workshop, road); conserved by the engine."""
        total = self.on_hand.sum(axis=0, dtype=np.int64)
        total += self.workshop_wip.sum(axis=0, dtype=np.int64)
        total += self.in_transit.sum(axis=0, dtype=np.int64)
        return total

    def arrays(self) -> dict[str, npt.NDArray[np.int32]]:
        return {name: getattr(self, name) for name in self.field_names}
