"""Finished vehicles at VIN level: the sellable spec catalog and the vehicle record with its lifecycle.

Vehicles live in ``VehicleTable``: numpy columns indexed by vehicle id (hundreds of thousands exist in a
year). A status only moves forward through ``VehicleStatus`` and every move stamps the day, so age in yard and
transfer lead times are exact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, NoReturn, overload

import numpy as np
import numpy.typing as npt
import pandas as pd

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

#: ``ALLOWED_MOVES[old, new]``: the lifecycle as a table, so a batch of moves is checked in one array lookup
ALLOWED_MOVES = np.zeros((len(VehicleStatus), len(VehicleStatus)), dtype=bool)
for _old, _news in ALLOWED_TRANSITIONS.items():
    ALLOWED_MOVES[_old, [int(new) for new in _news]] = True

_ALLOWED_PAIRS: list[list[bool]] = ALLOWED_MOVES.tolist()
#: ``_ALLOWED_FROM[new]``: which old statuses may move to ``new`` (a batch check is one lookup and ``.all()``)
_ALLOWED_FROM: list[npt.NDArray[np.bool_]] = [
    np.ascontiguousarray(ALLOWED_MOVES[:, code]) for code in range(len(VehicleStatus))
]
IntArray = npt.NDArray[np.int64]
#: the day stamped by a move into each status (None: the status stamps no day)
_DAY_STAMPED = {
    VehicleStatus.BUILT: "built_day",
    VehicleStatus.IN_TRANSIT: "shipped_day",
    VehicleStatus.DELIVERED: "delivered_day",
}
#: the same by status code: a hot path reads it with ``int(status)`` (an enum member hashes and converts to a
#: numpy item several times slower than a plain int, and a move is made ~2M times a simulated year)
_DAY_STAMPED_BY_CODE: list[str | None] = [None] * (max(VehicleStatus) + 1)
for _status, _column in _DAY_STAMPED.items():
    _DAY_STAMPED_BY_CODE[int(_status)] = _column
#: column name -> dtype, in the order of the state's VIN table (without the VIN string)
VEHICLE_COLUMN_TYPES: dict[str, type[np.generic]] = {
    "spec": np.int32,
    "status": np.int8,
    "site_kind": np.int8,
    "site_index": np.int32,
    "dealer": np.int32,
    "customer_order": np.bool_,
    "ordered_day": np.float64,
    "built_day": np.float64,
    "shipped_day": np.float64,
    "received_day": np.float64,
    "delivered_day": np.float64,
    "eta_day": np.float64,
}
#: how a VIN string is made from (spec, model year, serial) when it is first asked for
VinMaker = Callable[[int, int, int], str]
#: told the ids of vehicles whose record just changed (the feed recorder listens; nobody else pays)
ChangeWatch = Callable[[IntArray], None]


class VehicleTable:
    """Every VIN ever ordered or built, as numpy columns indexed by vehicle id (its row number).

    The engine moves whole loads, trunks and allocation batches with one array operation each, so a year's
    quarter of a million cars costs no Python object apiece. A VIN string is made once, when first asked for
    (logs, feeds, queries and the saved state ask; the hot path never does). Columns are attributes
    (``table.spec``, ``table.status``, ...) sized to the capacity: index them by id, or take ``[: len(table)]``.
    """

    def __init__(self, vin_maker: VinMaker | None = None, capacity: int = 4096) -> None:
        self.vin_maker = vin_maker
        self.watch: ChangeWatch | None = None
        self._size = 0
        # rows past the size are never read: ``add`` and ``load_frame`` write every column of a new row
        self._columns: dict[str, np.ndarray] = {
            name: np.zeros(capacity, dtype=dtype) for name, dtype in VEHICLE_COLUMN_TYPES.items()
        }
        #: what the VIN is made from: model year and serial (-1: the VIN came from a saved state)
        self._columns["model_year"] = np.zeros(capacity, dtype=np.int32)
        self._columns["serial"] = np.zeros(capacity, dtype=np.int64)
        self._vins: list[str | None] = []
        self._bind()

    def _bind(self) -> None:
        columns = self._columns
        self.spec, self.status, self.site_kind = columns["spec"], columns["status"], columns["site_kind"]
        self.site_index, self.dealer = columns["site_index"], columns["dealer"]
        self.customer_order = columns["customer_order"]
        self.ordered_day, self.built_day = columns["ordered_day"], columns["built_day"]
        self.shipped_day, self.received_day = columns["shipped_day"], columns["received_day"]
        self.delivered_day, self.eta_day = columns["delivered_day"], columns["eta_day"]
        self.model_year, self.serial = columns["model_year"], columns["serial"]

    def __len__(self) -> int:
        return self._size

    def column(self, name: str) -> np.ndarray:
        """One column, cut to the vehicles that exist."""
        return self._columns[name][: self._size]

    # -- growth --------------------------------------------------------------------------------------------
    def _reserve(self, count: int) -> None:
        needed = self._size + count
        capacity = self.spec.size
        if needed <= capacity:
            return
        while capacity < needed:
            capacity *= 2
        for name, old in self._columns.items():
            grown = np.zeros(capacity, dtype=old.dtype)
            grown[: self._size] = old[: self._size]
            self._columns[name] = grown
        self._bind()

    def add(
        self,
        spec: IntArray,
        status: VehicleStatus,
        site_kind: SiteKind,
        site_index: IntArray,
        ordered_day: float | npt.NDArray[np.float64],
        model_year: int | IntArray,
        serial: IntArray,
    ) -> IntArray:
        """New vehicles (one row each); returns their ids."""
        count = int(np.size(spec))
        self._reserve(count)
        ids = np.arange(self._size, self._size + count, dtype=np.int64)
        rows = slice(self._size, self._size + count)
        self.spec[rows] = spec
        self.status[rows] = status
        self.site_kind[rows] = site_kind
        self.site_index[rows] = site_index
        self.dealer[rows] = -1
        self.customer_order[rows] = False
        self.ordered_day[rows] = ordered_day
        for name in ("built_day", "shipped_day", "received_day", "delivered_day", "eta_day"):
            self._columns[name][rows] = NOT_YET
        self.model_year[rows] = model_year
        self.serial[rows] = serial
        self._vins.extend([None] * count)
        self._size += count
        self.changed(ids)
        return ids

    def add_one(
        self,
        spec: int,
        status: VehicleStatus,
        site_kind: SiteKind,
        site_index: int,
        ordered_day: float,
        model_year: int,
        serial: int,
    ) -> int:
        """One new vehicle: the row ``add`` writes, without its arrays (a customer's factory order, tens of
        thousands a year, is one car at a time); returns its id."""
        self._reserve(1)
        vehicle_id = self._size
        self.spec[vehicle_id] = spec
        self.status[vehicle_id] = status
        self.site_kind[vehicle_id] = site_kind
        self.site_index[vehicle_id] = site_index
        self.dealer[vehicle_id] = -1
        self.customer_order[vehicle_id] = False
        self.ordered_day[vehicle_id] = ordered_day
        self.built_day[vehicle_id] = NOT_YET
        self.shipped_day[vehicle_id] = NOT_YET
        self.received_day[vehicle_id] = NOT_YET
        self.delivered_day[vehicle_id] = NOT_YET
        self.eta_day[vehicle_id] = NOT_YET
        self.model_year[vehicle_id] = model_year
        self.serial[vehicle_id] = serial
        self._vins.append(None)
        self._size += 1
        if self.watch is not None:
            self.changed(vehicle_id)
        return vehicle_id

    @staticmethod
    def rows(vehicle_ids: list[int]) -> IntArray | int:
        """How to index a group of vehicles in ``move``, ``set`` and ``values``: a plain int for one vehicle
        (the scalar path is several times faster than a one-element array; most trunks carry one car), else an
        id array."""
        if len(vehicle_ids) == 1:
            return int(vehicle_ids[0])
        return np.array(vehicle_ids, dtype=np.int64)

    def values(self, name: str, rows: IntArray | int) -> list[Any]:
        """One column's values for ``rows`` (as ``VehicleTable.rows`` gives them), as a list of Python numbers."""
        picked = self._columns[name][rows].tolist()
        return [picked] if isinstance(rows, int) else picked

    # -- changes ---------------------------------------------------------------------------------------------
    def changed(self, ids: IntArray | int) -> None:
        """Records were written directly (not through ``move``/``set``): tell the watcher, if any."""
        if self.watch is not None:
            self.watch(np.atleast_1d(np.asarray(ids, dtype=np.int64)))

    def move(
        self,
        ids: IntArray | int,
        status: VehicleStatus,
        site_kind: SiteKind,
        site_index: IntArray | int,
        day: float,
    ) -> None:
        """Advance the lifecycle of one or many vehicles; an illegal jump is a bug in the engine, never bad
        user input. Stamps the status's day (arrival at a dealer stamps ``received_day``)."""
        code, kind = int(status), int(site_kind)
        if isinstance(ids, int):
            if not _ALLOWED_PAIRS[int(self.status[ids])][code]:
                self._illegal_move(ids, status)
        elif not _ALLOWED_FROM[code][self.status[ids]].all():
            chosen = np.atleast_1d(np.asarray(ids, dtype=np.int64))
            self._illegal_move(int(chosen[~ALLOWED_MOVES[self.status[chosen], code]][0]), status)
        self.status[ids] = code
        self.site_kind[ids] = kind
        self.site_index[ids] = site_index
        stamped = _DAY_STAMPED_BY_CODE[code]
        if stamped is not None:
            self._columns[stamped][ids] = day
        elif code == VehicleStatus.IN_YARD and kind == SiteKind.DEALER:
            self.received_day[ids] = day
        if self.watch is not None:
            self.changed(ids)

    def _illegal_move(self, vehicle_id: int, status: VehicleStatus) -> NoReturn:
        old = VehicleStatus(int(self.status[vehicle_id]))
        raise RuntimeError(f"VIN {self.vin(vehicle_id)}: {old.name} -> {status.name} is not a lifecycle step")

    def set(self, ids: IntArray | int, name: str, value: object) -> None:
        """Write one column of one or many vehicles (the watcher hears of it)."""
        self._columns[name][ids] = value
        if self.watch is not None:
            self.changed(ids)

    # -- VIN strings ------------------------------------------------------------------------------------------
    def vin(self, vehicle_id: int) -> str:
        vin = self._vins[vehicle_id]
        if vin is None:
            if self.vin_maker is None:
                raise RuntimeError(f"vehicle {vehicle_id} has no VIN and the table no VIN maker")
            vin = self.vin_maker(
                int(self.spec[vehicle_id]), int(self.model_year[vehicle_id]), int(self.serial[vehicle_id])
            )
            self._vins[vehicle_id] = vin
        return vin

    def vins(self, ids: Iterable[int] | None = None) -> list[str]:
        """VIN strings of the given vehicles (default: all)."""
        chosen = range(self._size) if ids is None else ids
        return [self.vin(int(vehicle_id)) for vehicle_id in chosen]

    # -- records (for code off the hot path) ------------------------------------------------------------
    @overload
    def __getitem__(self, vehicle_id: int) -> VehicleRecord: ...
    @overload
    def __getitem__(self, vehicle_id: slice) -> list[VehicleRecord]: ...
    def __getitem__(self, vehicle_id: int | slice) -> VehicleRecord | list[VehicleRecord]:
        if isinstance(vehicle_id, slice):
            return [VehicleRecord(self, index) for index in range(self._size)[vehicle_id]]
        if not 0 <= vehicle_id < self._size:
            raise IndexError(f"vehicle id {vehicle_id} is not in the table ({self._size} vehicles)")
        return VehicleRecord(self, int(vehicle_id))

    def __iter__(self) -> Iterator[VehicleRecord]:
        return (VehicleRecord(self, vehicle_id) for vehicle_id in range(self._size))

    # -- the state's VIN table -------------------------------------------------------------------------------
    def frame(self, column_names: Sequence[str]) -> pd.DataFrame:
        """One row per vehicle in the state's column order (``vin`` plus the columns)."""
        data: dict[str, object] = {}
        for name in column_names:
            if name == "vin":
                data[name] = self.vins()
            else:
                values = self.column(name)
                data[name] = values.astype(np.int64) if values.dtype.kind == "i" else values.copy()
        return pd.DataFrame(data, columns=list(column_names))

    def load_frame(self, frame: pd.DataFrame) -> None:
        """Replace every row with a saved table's (VIN strings as saved; no serial needed)."""
        self._size = 0
        self._vins = []
        count = len(frame)
        self._reserve(count)
        for name in VEHICLE_COLUMN_TYPES:
            self._columns[name][:count] = frame[name].to_numpy()
        self.model_year[:count] = 0
        self.serial[:count] = -1
        self._vins = [str(vin) for vin in frame["vin"].tolist()]
        self._size = count


class VehicleRecord:
    """One vehicle's row, read and written through the table (for code off the hot path)."""

    __slots__ = ("id", "table")

    def __init__(self, table: VehicleTable, vehicle_id: int) -> None:
        self.table = table
        self.id = vehicle_id

    @property
    def vin(self) -> str:
        return self.table.vin(self.id)

    @property
    def spec(self) -> int:
        return int(self.table.spec[self.id])

    @property
    def status(self) -> VehicleStatus:
        return VehicleStatus(int(self.table.status[self.id]))

    @property
    def site_kind(self) -> SiteKind:
        return SiteKind(int(self.table.site_kind[self.id]))

    @property
    def site_index(self) -> int:
        return int(self.table.site_index[self.id])

    @property
    def dealer(self) -> int:
        return int(self.table.dealer[self.id])

    @dealer.setter
    def dealer(self, value: int) -> None:
        self.table.set(self.id, "dealer", value)

    @property
    def customer_order(self) -> bool:
        return bool(self.table.customer_order[self.id])

    @customer_order.setter
    def customer_order(self, value: bool) -> None:
        self.table.set(self.id, "customer_order", value)

    @property
    def ordered_day(self) -> float:
        return float(self.table.ordered_day[self.id])

    @property
    def built_day(self) -> float:
        return float(self.table.built_day[self.id])

    @property
    def shipped_day(self) -> float:
        return float(self.table.shipped_day[self.id])

    @property
    def received_day(self) -> float:
        return float(self.table.received_day[self.id])

    @received_day.setter
    def received_day(self, value: float) -> None:
        self.table.set(self.id, "received_day", value)

    @property
    def delivered_day(self) -> float:
        return float(self.table.delivered_day[self.id])

    @property
    def eta_day(self) -> float:
        return float(self.table.eta_day[self.id])

    @eta_day.setter
    def eta_day(self, value: float) -> None:
        self.table.set(self.id, "eta_day", value)

    def move(self, status: VehicleStatus, site_kind: SiteKind, site_index: int, day: float) -> None:
        self.table.move(self.id, status, site_kind, site_index, day)
