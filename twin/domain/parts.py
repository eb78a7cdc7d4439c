"""Parts at SKU level: the catalog (class, unit cost, supersession, the names a dealer uses) and the state
arrays ``[location, sku]``.

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
    #: the family a SKU of this class is filed under when its catalog row names none
    default_category: str


PART_CLASSES: tuple[PartClass, ...] = (
    PartClass("fast_mover", 0.08, 0.49, 1.6, (250.0, 2500.0), 0.85, 0.7, 1, 0.6, "service_part"),
    PartClass("consumable", 0.12, 0.22, 2.5, (80.0, 900.0), 0.70, 0.5, 7, 0.8, "consumable"),
    PartClass("tyre", 0.05, 0.05, 2.2, (3000.0, 9000.0), 0.55, 0.6, 7, 0.7, "tyre"),
    PartClass("battery", 0.03, 0.03, 1.05, (4000.0, 9500.0), 0.60, 0.6, 7, 0.5, "battery"),
    PartClass("accessory", 0.22, 0.07, 1.2, (400.0, 6000.0), 0.10, 0.3, 14, 1.2, "accessory"),
    PartClass("warranty_spare", 0.50, 0.14, 1.1, (500.0, 25000.0), 1.00, 0.95, 14, 1.5, "spare_part"),
)
PART_CLASS_NAMES: tuple[str, ...] = tuple(part_class.name for part_class in PART_CLASSES)


#: separates the model names in a catalog row's ``fits_models`` ("Arka;Bolt")
FITS_SEPARATOR = ";"


@dataclass(frozen=True)
class PartsCatalog:
    """One row per SKU, as arrays. ``sku_id`` keys the SKU everywhere (state, snapshots, the feeds'
    ``part_number``); the OEM part number, description, category and fitment are what a dealer names a part
    by at the counter."""

    sku_id: npt.NDArray[np.str_]
    #: index into PART_CLASSES (the demand class: how the part sells and is stocked)
    part_class: npt.NDArray[np.int8]
    unit_cost_inr: npt.NDArray[np.float64]
    #: index of the SKU that replaces this one, -1 if current
    superseded_by: npt.NDArray[np.int64]
    #: the OEM part number printed on the box ("16510M68K00"); the sku_id when the catalog gives none
    part_number: npt.NDArray[np.str_]
    #: what the counter calls it ("Oil filter Dhruv petrol"); may be empty
    description: npt.NDArray[np.str_]
    #: the dealer's word for the family ("filter", "brake", "tyre"); never empty
    category: npt.NDArray[np.str_]
    #: the vehicle models it fits, joined by ``FITS_SEPARATOR``; empty = universal
    fits_models: npt.NDArray[np.str_]

    def __len__(self) -> int:
        return len(self.sku_id)

    def models_fitted(self, sku: int) -> tuple[str, ...]:
        """The models SKU ``sku`` fits, as written; empty when it fits any vehicle."""
        text = str(self.fits_models[sku])
        return tuple(name for name in text.split(FITS_SEPARATOR) if name)

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
        for name in (
            "part_class",
            "unit_cost_inr",
            "superseded_by",
            "part_number",
            "description",
            "category",
            "fits_models",
        ):
            column_size = len(getattr(self, name))
            if column_size != size:
                raise MasterDataError(
                    "parts_catalog", None, name, column_size, f"has {column_size} values for {size} SKUs"
                )
        first_with_number: dict[str, int] = {}
        for index, number in enumerate(self.part_number.astype(np.str_).tolist()):
            if not number:
                raise MasterDataError(
                    "parts_catalog", str(self.sku_id[index]), "part_number", "", "must not be empty"
                )
            if number in first_with_number:
                raise MasterDataError(
                    "parts_catalog",
                    str(self.sku_id[index]),
                    "part_number",
                    number,
                    f"is already the part number of SKU {self.sku_id[first_with_number[number]]!s}",
                )
            first_with_number[number] = index
        no_category = np.flatnonzero(np.char.str_len(self.category.astype(np.str_)) == 0)
        if no_category.size:
            index = int(no_category[0])
            raise MasterDataError(
                "parts_catalog",
                str(self.sku_id[index]),
                "category",
                "",
                "must name a family (or be left out)",
            )
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
