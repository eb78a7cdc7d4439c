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


#: ``operations.dealer_shortage`` modes (twin.config.DEALER_SHORTAGE)
SHORTAGE_BY_CLASS, SHORTAGE_LOST_SALES, SHORTAGE_BACKORDER = "by_class", "lost_sales", "backorder"


@dataclass
class LineOutcome:
    """What happened to one day's demand lines (arrays aligned with the lines). A line's units are filled
    from the dealer's own shelf, from a pool partner's (lateral), or fall short: emergency-ordered, lost or
    backordered, by ``operations.dealer_shortage``."""

    filled_units: npt.NDArray[np.int32]
    first_pick: npt.NDArray[np.bool_]
    emergency: npt.NDArray[np.bool_]
    lost_units: npt.NDArray[np.int32]
    emergency_units: npt.NDArray[np.int32]
    #: units handed over from another dealer of the pool at the moment of demand (lateral transshipment)
    lateral_units: npt.NDArray[np.int32]
    #: units the customer waits for at the dealer (``dealer_shortage=backorder``)
    backordered_units: npt.NDArray[np.int32]


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


def scatter_add(target: npt.NDArray[np.integer], cells: IntArray, values: npt.NDArray[np.integer]) -> None:
    """``target[cells] += values`` with repeated cells summed: ``np.add.at`` with the values copied into the
    target's own dtype. numpy then takes its unbuffered fast path (it asks for the very dtype object, not an
    equal one), ten times faster than ``add.at`` with a cast and several times faster than sort-and-reduce.
    Values already of that dtype are used as they are (no copy)."""
    np.add.at(target, cells, values.astype(target.dtype, copy=False))


def first_mentions(values: IntArray) -> tuple[IntArray, IntArray]:
    """``np.unique(values, return_index=True)`` for integers, by a stable sort: the distinct values and where
    each is first mentioned. An already sorted array is not sorted again, and numpy's hash-based unique is
    several times slower on the sorted, mostly distinct cell lists of a parts day."""
    step = np.diff(values)
    order = None if not bool((step < 0).any()) else stable_order(values)
    ordered = values if order is None else values[order]
    if order is not None:
        step = np.diff(ordered)
    first_of_run = np.empty(values.size, dtype=bool)
    first_of_run[:1] = True
    np.not_equal(step, 0, out=first_of_run[1:])
    keep = np.flatnonzero(first_of_run)
    return ordered[keep], keep if order is None else order[keep]


def sorted_unique(values: IntArray) -> IntArray:
    """``np.unique(values)`` for integers (see ``first_mentions``)."""
    return first_mentions(values)[0]


def stable_order(keys: IntArray) -> IntArray:
    """``np.argsort(keys, kind="stable")``; keys spanning under 2^16 values (days ahead, the cells of a few DC
    rows) go through the 16-bit radix sort, many times faster than the merge sort of 64-bit keys, same order."""
    if keys.size:
        low = int(keys.min())
        if int(keys.max()) - low <= np.iinfo(np.uint16).max:
            return np.argsort((keys - low).astype(np.uint16), kind="stable")
    return np.argsort(keys, kind="stable")


def first_come_first_served(
    sorted_cells: IntArray,
    quantity: npt.NDArray[np.int64],
    on_hand: npt.NDArray[np.int32],
    reserved: npt.NDArray[np.int32],
) -> npt.NDArray[np.int64]:
    """Units each request gets from its cell's available stock (on hand - reserved), requests sorted by cell and
    in priority order within a cell: each gets what its cell has left after the requests before it."""
    run_start = run_starts(sorted_cells)
    run_cells = sorted_cells[run_start]
    available = on_hand.take(run_cells).astype(np.int64) - reserved.take(run_cells)
    return fill_runs(run_start, quantity, available)


def run_starts(sorted_keys: IntArray) -> IntArray:
    """Where each run of equal keys starts in a sorted array."""
    first_of_run = np.empty(sorted_keys.size, dtype=bool)
    first_of_run[:1] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=first_of_run[1:])
    return np.flatnonzero(first_of_run)


def fill_runs(
    run_start: IntArray, quantity: npt.NDArray[np.int64], limit_of_run: npt.NDArray[np.int64]
) -> IntArray:
    """First come, first served within runs (``run_starts``): each request gets what its run's limit has left
    after the requests before it in the run."""
    asked_before = np.cumsum(quantity) - quantity
    run_length = np.diff(np.append(run_start, quantity.size))
    left = np.repeat(limit_of_run + asked_before[run_start], run_length) - asked_before
    np.maximum(left, 0, out=left)  # np.clip's checks cost more than the two passes
    return np.minimum(left, quantity, out=left)


class PartsFlow:
    def __init__(
        self,
        state: PartsState,
        part_class: npt.NDArray[np.int8],
        shortage: str = SHORTAGE_BY_CLASS,
        pool_of_dealer: IntArray | None = None,
    ) -> None:
        """``shortage``: what a shortfall becomes (``operations.dealer_shortage``); ``pool_of_dealer``: the
        lateral pool of each dealer (``operations.lateral_pool``), None = no pooling."""
        self.state = state
        self.skus = state.shape[1]
        self.part_class = part_class
        self.shortage = shortage
        self.received_from_suppliers = np.zeros(self.skus, dtype=np.int64)
        self.consumed = np.zeros(self.skus, dtype=np.int64)
        self.pending = PendingReleases()
        #: chance that a customer short of a SKU waits for an emergency order, per SKU (from its class)
        self._emergency_probability = _EMERGENCY_PROBABILITY[part_class]
        #: each pool's dealers, pool after pool in dealer order (CSR: ``_pool_start[p]`` to ``[p + 1]``)
        self._pooled = pool_of_dealer is not None
        if pool_of_dealer is not None:
            order = np.argsort(pool_of_dealer, kind="stable")
            self._pool_members = order.astype(np.int64)
            self._pool_of_dealer = pool_of_dealer.astype(np.int64)
            sizes = np.bincount(pool_of_dealer, minlength=int(pool_of_dealer.max()) + 1)
            self._pool_start = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        #: the partner cells lateral fills took units from today (their positions changed)
        self.lateral_source_cells = np.zeros(0, dtype=np.int64)

    # -- releases ----------------------------------------------------------------------------------
    def apply_releases(self, day: int) -> None:
        """Repairs finished and counter orders picked up today: the parts leave the network. The day's
        entries of a kind are applied as one batch (integer adds: the same arrays as entry by entry)."""
        entries = self.pending.pop(day)
        if not entries:
            return
        wip = self.state.workshop_wip.reshape(-1)
        reserved = self.state.reserved.reshape(-1)
        on_hand = self.state.on_hand.reshape(-1)
        released_cells, released_units = [], []
        for kind in RELEASE_KINDS:
            chunks = [(cells, quantity) for entry_kind, cells, quantity in entries if entry_kind == kind]
            if not chunks:
                continue
            cells = np.concatenate([cells for cells, _ in chunks])
            quantity = np.concatenate([quantity for _, quantity in chunks])
            if kind == "workshop":
                scatter_add(wip, cells, -quantity)
            else:
                scatter_add(reserved, cells, -quantity)
                scatter_add(on_hand, cells, -quantity)
            released_cells.append(cells)
            released_units.append(quantity)
        scatter_add(self.consumed, np.concatenate(released_cells) % self.skus, np.concatenate(released_units))

    # -- demand ------------------------------------------------------------------------------------
    def fulfil(self, lines: PartsLines, day: int) -> LineOutcome:
        """Fill lines from available stock in arrival order; what is short is filled from a pool partner
        (lateral pooling) or becomes an emergency order, a lost sale or a backorder."""
        cells = lines.location * self.skus + lines.sku
        requested = lines.quantity.astype(np.int64)
        already_sorted = cells.size < 2 or not bool((np.diff(cells) < 0).any())
        order = None if already_sorted else np.argsort(cells, kind="stable")
        sorted_cells = cells if order is None else cells[order]
        quantity = requested if order is None else requested[order]
        on_hand = self.state.on_hand.reshape(-1)
        reserved = self.state.reserved.reshape(-1)
        filled_sorted = first_come_first_served(sorted_cells, quantity, on_hand, reserved)
        if order is None:
            filled = filled_sorted
        else:
            filled = np.empty_like(filled_sorted)
            filled[order] = filled_sorted
        short = requested - filled
        first_pick = short == 0
        immediate = filled > 0
        # workshop lines leave the shelf into WIP; counter lines either go now or wait reserved for pickup
        workshop = immediate & lines.workshop
        counter_later = immediate & ~lines.workshop & (lines.release_delay_days > 0)
        counter_now = immediate & ~(lines.workshop | counter_later)
        filled_units = filled.astype(np.int32)
        # unfilled lines add nothing: whole-array updates are cheaper than picking the lines out first
        scatter_add(on_hand, cells, np.where(counter_later, 0, -filled_units))
        scatter_add(self.state.workshop_wip.reshape(-1), cells, np.where(workshop, filled_units, 0))
        later = np.flatnonzero(counter_later)
        scatter_add(reserved, cells[later], filled_units[later])
        scatter_add(self.consumed, lines.sku, np.where(counter_now, filled, 0))
        self._schedule_releases(day, cells, filled_units, lines.release_delay_days, workshop, counter_later)
        # what the own shelves could not give: a pool partner's shelf (after the partners' own customers),
        # then an emergency order, a lost sale or a backorder
        lateral = np.zeros(cells.size, dtype=np.int64)
        if self._pooled and not bool(first_pick.all()):
            lateral = self._fill_from_pool(lines, short)
            short = short - lateral
        emergency = np.zeros(cells.size, dtype=bool)
        if self.shortage == SHORTAGE_BY_CLASS:
            short_lines = np.flatnonzero(short)
            emergency[short_lines] = (
                lines.emergency_draw[short_lines] < self._emergency_probability[lines.sku[short_lines]]
            )
        if self.shortage == SHORTAGE_BACKORDER:  # every short unit waits at the shelf: none is lost
            lost_units = np.zeros(cells.size, dtype=np.int32)
            backordered_units = short.astype(np.int32)
        else:
            lost_units = np.where(emergency, 0, short).astype(np.int32)
            backordered_units = np.zeros(cells.size, dtype=np.int32)
        return LineOutcome(
            filled_units=filled_units,
            first_pick=first_pick,
            emergency=emergency,
            lost_units=lost_units,
            emergency_units=np.where(emergency, short, 0).astype(np.int32),
            lateral_units=lateral.astype(np.int32) if self._pooled else np.zeros(cells.size, dtype=np.int32),
            backordered_units=backordered_units,
        )

    def _fill_from_pool(self, lines: PartsLines, short: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Complete pooling at the moment of demand: each short line, in line order, takes what the other
        dealers of its pool have free of its SKU (partners in dealer order). The units leave the partner's
        shelf and are handed to the customer at once (sold, or fitted: they do not wait as WIP). Returns the
        units each line got; the partners' cells are kept in ``lateral_source_cells``."""
        lateral = np.zeros(short.size, dtype=np.int64)
        short_lines = np.flatnonzero(short)
        dealer = lines.location[short_lines]
        pool = self._pool_of_dealer[dealer]
        group = pool * self.skus + lines.sku[short_lines]
        order = stable_order(group)
        sorted_group, sorted_lines = group[order], short_lines[order]
        run_start = run_starts(sorted_group)
        groups = sorted_group[run_start]
        group_pool, group_sku = np.divmod(groups, self.skus)
        # every member cell of every group's pool: members of a pool in dealer order
        size = self._pool_start[group_pool + 1] - self._pool_start[group_pool]
        member_start = np.cumsum(size) - size
        rank = np.arange(int(size.sum())) - np.repeat(member_start, size)
        member = self._pool_members[np.repeat(self._pool_start[group_pool], size) + rank]
        member_cells = member * self.skus + np.repeat(group_sku, size)
        on_hand = self.state.on_hand.reshape(-1)
        free = np.maximum(
            on_hand.take(member_cells).astype(np.int64) - self.state.reserved.reshape(-1).take(member_cells),
            0,
        )
        pool_free = np.add.reduceat(free, member_start) if free.size else np.zeros(0, dtype=np.int64)
        granted = fill_runs(run_start, short[sorted_lines], pool_free)
        lateral[sorted_lines] = granted
        # the partners give in dealer order what their group's lines got
        group_granted = np.add.reduceat(granted, run_start)
        taken = fill_runs(member_start, free, group_granted)
        given = np.flatnonzero(taken)
        scatter_add(on_hand, member_cells[given], -taken[given])
        scatter_add(self.consumed, member_cells[given] % self.skus, taken[given])
        self.lateral_source_cells = member_cells[given]
        return lateral

    def serve_backorders(self, cells: IntArray) -> npt.NDArray[np.int64]:
        """Customers waiting at these dealer cells (``dealer_shortage=backorder``) are served from the free
        shelf first, before the day's new demand: the units leave the network. Returns the units served."""
        on_hand = self.state.on_hand.reshape(-1)
        owed = self.state.backorder.reshape(-1)
        served = np.minimum(
            owed.take(cells).astype(np.int64),
            np.maximum(on_hand.take(cells).astype(np.int64) - self.state.reserved.reshape(-1).take(cells), 0),
        )
        scatter_add(on_hand, cells, -served)
        scatter_add(owed, cells, -served)
        scatter_add(self.consumed, cells % self.skus, served)
        return served

    def _schedule_releases(
        self,
        day: int,
        cells: IntArray,
        units: npt.NDArray[np.int32],
        delay_days: IntArray,
        workshop: npt.NDArray[np.bool_],
        counter: npt.NDArray[np.bool_],
    ) -> None:
        """Filled lines leave ``delay_days`` from now: one entry per kind (workshop first) and release day, in
        line order within it. One stable sort on ``(kind, delay)`` groups them all."""
        released = workshop | counter
        count = int(np.count_nonzero(released))
        if count == 0:
            return
        span = int(delay_days.max()) + 1
        if int(delay_days.min()) >= 0 and 2 * span <= np.iinfo(np.uint16).max:
            # 16-bit keys: numpy's radix sort, and no 64-bit temporaries
            small = delay_days.astype(np.uint16)
            np.add(small, span, out=small, where=counter)
            np.copyto(small, 2 * span, where=~released)
            order = np.argsort(small, kind="stable")[:count]
            # the lines of each (kind, delay) key, keys in sorted order: counted, not found in the sorted keys
            key_lines = np.bincount(small, minlength=2 * span)[: 2 * span].tolist()
            groups = [(key, size) for key, size in enumerate(key_lines) if size]
        else:
            group = np.where(workshop, delay_days, np.where(counter, span + delay_days, 2 * span))
            order = stable_order(group)[:count]
            sorted_group = group[order]
            boundaries = (np.flatnonzero(np.diff(sorted_group)) + 1).tolist()
            starts, ends = [0, *boundaries], [*boundaries, count]
            groups = [
                (key, end - start)
                for start, end, key in zip(starts, ends, sorted_group[starts].tolist(), strict=True)
            ]
        released_cells, released_units = cells[order], units[order]
        start = 0
        for key, size in groups:
            kind, delay = divmod(key, span)
            end = start + size
            self.pending.add(
                day + delay, RELEASE_KINDS[kind], released_cells[start:end], released_units[start:end]
            )
            start = end

    # -- moving stock ------------------------------------------------------------------------------
    def allocate_from(
        self, source_location: IntArray, sku: IntArray, quantity: npt.NDArray[np.int32]
    ) -> npt.NDArray[np.int32]:
        """Take up to ``quantity`` from the sources' available stock in the given order (first come, first served)."""
        if sku.size == 0:
            return np.zeros(0, dtype=np.int32)
        cells = source_location * self.skus + sku
        order = stable_order(cells)
        sorted_cells = cells[order]
        on_hand = self.state.on_hand.reshape(-1)
        granted_sorted = first_come_first_served(
            sorted_cells, quantity[order].astype(np.int64), on_hand, self.state.reserved.reshape(-1)
        )
        scatter_add(on_hand, sorted_cells, -granted_sorted)
        granted = np.empty(cells.size, dtype=np.int32)
        granted[order] = granted_sorted
        return granted

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
        scatter_add(self.received_from_suppliers, sku, quantity)
        self.dispatch(destination, sku, quantity)

    # -- emergency orders ----------------------------------------------------------------------------
    def open_backorders(self, location: IntArray, sku: IntArray, quantity: npt.NDArray[np.int32]) -> None:
        scatter_add(self.state.backorder.reshape(-1), location * self.skus + sku, quantity)

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
        scatter_add(self.consumed, sku, quantity)
        scatter_add(self.received_from_suppliers, sku, quantity - from_dc)
        return from_dc

    def close_backorders(self, location: IntArray, sku: IntArray, quantity: npt.NDArray[np.int32]) -> None:
        scatter_add(self.state.backorder.reshape(-1), location * self.skus + sku, -quantity)

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
