"""Parts movements applied in bulk to the ``[location, sku]`` arrays: demand, releases, shipments, receipts.

Every operation works on index arrays of the touched cells only. Units enter the network only as supplier
receipts and leave only as consumption (sold, fitted in a repair, delivered against a backorder); the two
per-SKU counters make conservation checkable at any moment:
``initial + received_from_suppliers - consumed == state.units_in_network()``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from twin.domain.parts import PART_CLASSES, PartsState
from twin.domain.state_schema import row_table, table_rows
from twin.engine.demand import PartsLines

IntArray = npt.NDArray[np.int64]
#: kinds of timed release, as numbered in the state's ``parts:releases`` table
RELEASE_KINDS = ("workshop", "counter")
_EMERGENCY_PROBABILITY = np.array([part_class.emergency_order_probability for part_class in PART_CLASSES])


@dataclass
class LineOutcome:
    """What happened to one day's demand lines (arrays aligned with the lines)."""

    filled_units: npt.NDArray[np.int32]
    first_pick: npt.NDArray[np.bool_]
    emergency: npt.NDArray[np.bool_]
    lost_units: npt.NDArray[np.int32]
    emergency_units: npt.NDArray[np.int32]


@dataclass
class PendingReleases:
    """Filled lines waiting to leave: repair orders finishing (WIP) and counter orders picked up (reserved)."""

    by_day: dict[int, list[tuple[str, IntArray, npt.NDArray[np.int32]]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def add(self, day: int, kind: str, cells: IntArray, quantity: npt.NDArray[np.int32]) -> None:
        if cells.size:
            self.by_day[day].append((kind, cells, quantity))

    def pop(self, day: int) -> list[tuple[str, IntArray, npt.NDArray[np.int32]]]:
        return self.by_day.pop(day, [])


def scatter_add(target: npt.NDArray[np.int32], cells: IntArray, values: npt.NDArray[np.integer]) -> None:
    """``target[cells] += values`` with repeated cells summed: sort (if needed), reduce, one fancy add.
    Several times faster than ``np.add.at`` on the ~10^5-element index arrays of a parts day."""
    if cells.size == 0:
        return
    if cells.size > 1 and not bool((cells[1:] >= cells[:-1]).all()):
        order = np.argsort(cells, kind="stable")
        cells, values = cells[order], values[order]
    starts = np.flatnonzero(np.concatenate(([True], cells[1:] != cells[:-1])))
    target[cells[starts]] += np.add.reduceat(values.astype(np.int64), starts).astype(target.dtype)


def _rank_within_groups(sorted_keys: IntArray) -> IntArray:
    """Start index of each element's run of equal keys in an already sorted array."""
    boundaries = np.flatnonzero(np.diff(sorted_keys)) + 1
    starts = np.zeros(sorted_keys.size, dtype=np.int64)
    if sorted_keys.size:
        run_start = np.concatenate(([0], boundaries))
        run_length = np.diff(np.concatenate((run_start, [sorted_keys.size])))
        starts = np.repeat(run_start, run_length)
    return starts


class PartsFlow:
    def __init__(self, state: PartsState, part_class: npt.NDArray[np.int8]) -> None:
        self.state = state
        self.skus = state.shape[1]
        self.part_class = part_class
        self.received_from_suppliers = np.zeros(self.skus, dtype=np.int64)
        self.consumed = np.zeros(self.skus, dtype=np.int64)
        self.pending = PendingReleases()

    # -- releases ----------------------------------------------------------------------------------
    def apply_releases(self, day: int) -> None:
        """Repairs finished and counter orders picked up today: the parts leave the network."""
        on_hand = self.state.on_hand.reshape(-1)
        reserved = self.state.reserved.reshape(-1)
        wip = self.state.workshop_wip.reshape(-1)
        for kind, cells, quantity in self.pending.pop(day):
            if kind == "workshop":
                scatter_add(wip, cells, -quantity)
            else:
                scatter_add(reserved, cells, -quantity)
                scatter_add(on_hand, cells, -quantity)
            self.consumed += np.bincount(cells % self.skus, weights=quantity, minlength=self.skus).astype(
                np.int64
            )

    # -- demand ------------------------------------------------------------------------------------
    def fulfil(self, lines: PartsLines, day: int) -> LineOutcome:
        """Fill lines from available stock in arrival order; short lines become emergency orders or lost sales."""
        cells = lines.location * self.skus + lines.sku
        already_sorted = cells.size < 2 or bool((cells[1:] >= cells[:-1]).all())
        order = np.arange(cells.size) if already_sorted else np.argsort(cells, kind="stable")
        sorted_cells = cells[order]
        quantity = lines.quantity[order].astype(np.int64)
        cumulative = np.cumsum(quantity)
        group_start = _rank_within_groups(sorted_cells)
        demanded_before = cumulative - quantity - (cumulative[group_start] - quantity[group_start])
        on_hand = self.state.on_hand.reshape(-1)
        reserved = self.state.reserved.reshape(-1)
        available = (on_hand[sorted_cells] - reserved[sorted_cells]).astype(np.int64)
        filled_sorted = np.clip(available - demanded_before, 0, quantity)
        filled = np.empty_like(filled_sorted)
        filled[order] = filled_sorted
        requested = lines.quantity.astype(np.int64)
        short = requested - filled
        emergency = (short > 0) & (lines.emergency_draw < _EMERGENCY_PROBABILITY[self.part_class[lines.sku]])

        immediate = filled > 0
        # workshop lines leave the shelf into WIP; counter lines either go now or wait reserved for pickup
        workshop = immediate & lines.workshop
        counter_now = immediate & ~lines.workshop & (lines.release_delay_days == 0)
        counter_later = immediate & ~lines.workshop & (lines.release_delay_days > 0)
        leaves_shelf = workshop | counter_now
        scatter_add(on_hand, cells[leaves_shelf], -filled[leaves_shelf])
        scatter_add(self.state.workshop_wip.reshape(-1), cells[workshop], filled[workshop])
        scatter_add(reserved, cells[counter_later], filled[counter_later])
        self.consumed += np.bincount(
            lines.sku[counter_now], weights=filled[counter_now], minlength=self.skus
        ).astype(np.int64)
        for mask, kind in ((workshop, "workshop"), (counter_later, "counter")):
            release_day = day + lines.release_delay_days[mask]
            order = np.argsort(release_day, kind="stable")  # keeps cell order within a day
            release_day, released_cells = release_day[order], cells[mask][order]
            released_units = filled[mask][order].astype(np.int32)
            boundaries = np.flatnonzero(np.diff(release_day)) + 1
            for group_cells, group_units, group_days in zip(
                np.split(released_cells, boundaries),
                np.split(released_units, boundaries),
                np.split(release_day, boundaries),
                strict=True,
            ):
                if group_days.size:
                    self.pending.add(int(group_days[0]), kind, group_cells, group_units)
        return LineOutcome(
            filled_units=filled.astype(np.int32),
            first_pick=short == 0,
            emergency=emergency,
            lost_units=np.where(emergency, 0, short).astype(np.int32),
            emergency_units=np.where(emergency, short, 0).astype(np.int32),
        )

    # -- moving stock ------------------------------------------------------------------------------
    def allocate_from(
        self, source_location: IntArray, sku: IntArray, quantity: npt.NDArray[np.int32]
    ) -> npt.NDArray[np.int32]:
        """Take up to ``quantity`` from the sources' available stock in the given order (first come, first served)."""
        if sku.size == 0:
            return np.zeros(0, dtype=np.int32)
        cells = source_location * self.skus + sku
        order = np.argsort(cells, kind="stable")
        sorted_cells = cells[order]
        requested = quantity[order].astype(np.int64)
        cumulative = np.cumsum(requested)
        group_start = _rank_within_groups(sorted_cells)
        before = cumulative - requested - (cumulative[group_start] - requested[group_start])
        on_hand = self.state.on_hand.reshape(-1)
        available = (on_hand[sorted_cells] - self.state.reserved.reshape(-1)[sorted_cells]).astype(np.int64)
        granted_sorted = np.clip(available - before, 0, requested)
        granted = np.empty_like(granted_sorted)
        granted[order] = granted_sorted
        scatter_add(on_hand, cells, -granted)
        return granted.astype(np.int32)

    def dispatch(self, destination: IntArray, sku: IntArray, quantity: npt.NDArray[np.int32]) -> None:
        scatter_add(self.state.in_transit.reshape(-1), destination * self.skus + sku, quantity)

    def receive(self, destination: IntArray, sku: IntArray, quantity: npt.NDArray[np.int32]) -> None:
        cells = destination * self.skus + sku
        scatter_add(self.state.in_transit.reshape(-1), cells, -quantity)
        scatter_add(self.state.on_hand.reshape(-1), cells, quantity)

    def order_from_supplier(
        self, destination: IntArray, sku: IntArray, quantity: npt.NDArray[np.int32]
    ) -> None:
        """Supplier goods enter the network on the road to a DC."""
        np.add.at(self.received_from_suppliers, sku, quantity)
        self.dispatch(destination, sku, quantity)

    # -- emergency orders ----------------------------------------------------------------------------
    def open_backorders(self, location: IntArray, sku: IntArray, quantity: npt.NDArray[np.int32]) -> None:
        np.add.at(self.state.backorder.reshape(-1), location * self.skus + sku, quantity)

    def sell_emergency(
        self,
        dc_location: IntArray,
        sku: IntArray,
        quantity: npt.NDArray[np.int32],
        dc_open: npt.NDArray[np.bool_],
    ) -> npt.NDArray[np.int32]:
        """Emergency units are sold to the waiting customer when they leave: from the DC if it is open and
        has them, the rest drop-shipped by the supplier. Returns the units the DC supplied."""
        from_dc = self.allocate_from(dc_location, sku, np.where(dc_open, quantity, 0).astype(np.int32))
        np.add.at(self.consumed, sku, quantity)
        np.add.at(self.received_from_suppliers, sku, quantity - from_dc)
        return from_dc

    def close_backorders(self, location: IntArray, sku: IntArray, quantity: npt.NDArray[np.int32]) -> None:
        np.subtract.at(self.state.backorder.reshape(-1), location * self.skus + sku, quantity)

    # -- state (section "parts" of twin.domain.state) -----------------------------------------------
    def state_arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        arrays: dict[str, npt.NDArray[np.generic]] = {
            name: array.copy() for name, array in self.state.arrays().items()
        }
        releases = [
            (day, RELEASE_KINDS.index(kind), cell, units)
            for day, entries in self.pending.by_day.items()
            for kind, cells, quantity in entries
            for cell, units in zip(cells.tolist(), quantity.tolist(), strict=True)
        ]
        arrays["received_from_suppliers"] = self.received_from_suppliers.copy()
        arrays["consumed"] = self.consumed.copy()
        arrays["releases"] = row_table(releases, 4)
        return arrays

    def load_state_arrays(self, arrays: dict[str, npt.NDArray[np.generic]]) -> None:
        for name in self.state.field_names:
            getattr(self.state, name)[:] = arrays[name]
        self.received_from_suppliers[:] = arrays["received_from_suppliers"]
        self.consumed[:] = arrays["consumed"]
        self.pending = PendingReleases()
        for day, kind, cell, units in table_rows(arrays["releases"]):
            self.pending.add(
                day, RELEASE_KINDS[kind], np.array([cell], dtype=np.int64), np.array([units], dtype=np.int32)
            )
