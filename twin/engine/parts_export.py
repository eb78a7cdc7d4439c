"""The OEM's picture of dealer parts positions in the periodic-polling world (``operations.parts_visibility =
weekly_export``): what the control tower and the parts rebalancing see when dealers' DMSs send a full export
every ``parts_export_period_days`` instead of a continuous feed.

What a planner would expect of that world, and so what the picture holds:
- dealer rows (on hand, reserved, in transit, backorders, inbound ETAs) as of the end of the last export day;
  the export runs overnight, so the tower's assessment of the next day is the first to use it;
- plus the OEM's own decisions since: consignments its DCs dispatched (in transit and their promised ETA)
  and dealer-to-dealer transfers it ordered (off the sender's shelf, on the way to the receiver). Receipts,
  sales, reservations and backorders at the dealer are unseen until the next export;
- DC rows live: the DCs are the OEM's own (refreshed on every read, a few rows);
- the demand lines the forecaster learns from arrive with the export: the days since the last one are
  held here and replayed, in order, when it lands;
- the stock-out episodes the export reports (a dealer's lost lines), so the tower does not assess a cell
  the OEM already knows is out.
Dealers' own replenishment from their DC is untouched: each dealer's DMS sees its own shelf live. A
forecast-driven replenishment (``policy/replenishment=dynamic``) still reads the OEM's forecasts, which in
this world learn a week's demand at each export: the levels the OEM publishes lag, the shelf does not.

Cost: one copy of the dealer arrays per export, and a scatter per shipment the OEM makes; nothing per cell
per day. The arrays are state (section ``oem_export``), so a snapshot taken mid-week continues exactly.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt

from twin.config import WEEKDAYS
from twin.domain.state_schema import row_table
from twin.engine.parts_flow import PartsFlow, scatter_add

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
#: the position arrays an export carries, as named in the state's ``parts`` section
POSITION_FIELDS = ("on_hand", "reserved", "in_transit", "backorder")


class HeldDemand:
    """A day's demand the OEM has not seen yet: the cells with demand (sorted, unique) and their units."""

    def __init__(self, day: int, cells: IntArray, units: FloatArray) -> None:
        self.day, self.cells, self.units = day, cells, units


class PartsExport:
    def __init__(
        self,
        parts: PartsFlow,
        dealers: int,
        start_date: dt.date,
        weekday: str,
        period_days: int,
    ) -> None:
        self.parts = parts
        self.dealers = dealers
        self.period_days = period_days
        #: the first export day of the run: the first day on the export weekday
        self.first_export_day = (WEEKDAYS.index(weekday) - start_date.weekday()) % 7
        state = parts.state
        self.positions = {name: getattr(state, name).copy() for name in POSITION_FIELDS}
        self.inbound_eta_day = np.full(dealers * parts.skus, np.inf, dtype=np.float32)
        #: dealer cells the last export reported out of stock (a short line since their last receipt)
        self.in_stockout = np.zeros(dealers * parts.skus, dtype=bool)
        #: the day the picture is as of (its end); -1 = the opening position
        self.as_of_day = -1
        self.held: list[HeldDemand] = []

    # -- the schedule -------------------------------------------------------------------------------
    def is_export_day(self, day: int) -> bool:
        since_first = day - self.first_export_day
        return since_first >= 0 and since_first % self.period_days == 0

    # -- the export lands -----------------------------------------------------------------------------
    def refresh(
        self,
        day: int,
        inbound_eta_day: npt.NDArray[np.float32],
        in_stockout: npt.NDArray[np.bool_] | None,
    ) -> IntArray:
        """Take the export at the end of ``day``: copy the dealers' positions, their promised ETAs (the
        logistics' per dealer cell) and stock-out episodes (the tower's, if it runs). Returns the dealer cells
        whose position the OEM now sees differently (sorted)."""
        state, rows = self.parts.state, slice(0, self.dealers)
        changed = np.zeros(self.dealers * self.parts.skus, dtype=bool)
        for name in POSITION_FIELDS:
            live = getattr(state, name)[rows]
            changed |= (self.positions[name][rows] != live).reshape(-1)
            np.copyto(self.positions[name][rows], live)
        np.copyto(self.inbound_eta_day, inbound_eta_day)
        if in_stockout is not None:
            np.copyto(self.in_stockout, in_stockout)
        self.as_of_day = day
        return np.flatnonzero(changed)

    def take_held_demand(self) -> list[HeldDemand]:
        """The days of demand the export brings, oldest first; the hold is emptied."""
        held, self.held = self.held, []
        return held

    # -- between exports ------------------------------------------------------------------------------
    def hold_demand(self, day: int, cells: IntArray, units: FloatArray) -> None:
        self.held.append(HeldDemand(day, cells, units))

    def shipped(self, cells: IntArray, units: npt.NDArray[np.integer], eta_day: FloatArray) -> None:
        """The OEM sent ``units`` to dealer ``cells`` (a DC consignment or a transfer it ordered), promised
        for ``eta_day``."""
        scatter_add(self.positions["in_transit"].reshape(-1), cells, units)
        np.minimum.at(self.inbound_eta_day, cells, eta_day.astype(np.float32))

    def sent(self, cells: IntArray, units: npt.NDArray[np.integer]) -> None:
        """A transfer the OEM ordered left the sender's shelf (dealer ``cells``)."""
        scatter_add(self.positions["on_hand"].reshape(-1), cells, -units)

    def position(self, name: str) -> npt.NDArray[np.int32]:
        """A ``[location, sku]`` position array as the OEM sees it: dealer rows from the export, DC rows live."""
        array = self.positions[name]
        np.copyto(array[self.dealers :], getattr(self.parts.state, name)[self.dealers :])
        return array

    # -- state (section "oem_export" of twin.domain.state) --------------------------------------------
    def state_arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        arrays: dict[str, npt.NDArray[np.generic]] = {
            name: self.positions[name][: self.dealers].copy() for name in POSITION_FIELDS
        }
        arrays["inbound_eta_day"] = self.inbound_eta_day.copy()
        arrays["in_stockout"] = self.in_stockout.copy()
        arrays["as_of_day"] = np.array([self.as_of_day], dtype=np.int64)
        arrays["held_days"] = np.array([held.day for held in self.held], dtype=np.int64)
        arrays["held_demand"] = row_table(
            [
                (held.day, cell, units)
                for held in self.held
                for cell, units in zip(held.cells.tolist(), held.units.tolist(), strict=True)
            ],
            3,
        )
        return arrays

    def load_state_arrays(self, arrays: dict[str, npt.NDArray[np.generic]]) -> None:
        for name in POSITION_FIELDS:
            np.copyto(self.positions[name][: self.dealers], arrays[name])
        np.copyto(self.inbound_eta_day, arrays["inbound_eta_day"])
        np.copyto(self.in_stockout, arrays["in_stockout"])
        self.as_of_day = int(np.asarray(arrays["as_of_day"])[0])
        table = np.asarray(arrays["held_demand"], dtype=np.float64).reshape(-1, 3)
        self.held = []
        for day in np.asarray(arrays["held_days"]).astype(np.int64).tolist():
            rows = table[table[:, 0] == day]
            self.held.append(HeldDemand(day, rows[:, 1].astype(np.int64), rows[:, 2].copy()))
