"""Textbook replenishment: every cell's rule and levels read from a table (docs/textbook.md).

The classic periodic-review rules, per listed ``[location, sku]`` cell, on the inventory position (on hand -
reserved + in transit + on order - owed; see ``PartsView.position``):

- ``base_stock`` S: order up to S whenever the position is below it (one for one at a daily review);
- ``s_S`` (s, S): when the position is at or below s, order up to S;
- ``r_Q`` (r, Q): when the position is at or below r, order the smallest multiple of Q that lifts it above r.

A cell is reviewed on the days where ``(day + review_offset_days) % review_period_days == 0``; cells not
listed never order. Dealers' orders go to their DC (filled from its book), DCs' to the supplier: the same
engine path as every other policy, so a textbook system runs the lead-time, book and KPI code the default
world runs.
"""

from __future__ import annotations

import numpy as np

from twin.config import LevelsTableConfig
from twin.domain.textbook_tables import LEVEL_RULES, LevelsTable, read_levels
from twin.errors import ConfigError
from twin.policies.observation import IntArray, PartsView, ReplenishmentDecision

_BASE_STOCK = tuple(LEVEL_RULES).index("base_stock")
_R_Q = tuple(LEVEL_RULES).index("r_Q")


class LevelsTableReplenishment:
    """Orders each listed cell by its own rule and levels (``policy/replenishment=levels_table``)."""

    #: levels are given: no forecast, and every listed part is stocked from the first demand
    needs_forecast = False
    phase_in_lines_per_year = 0

    def __init__(self, levels_path: str = LevelsTableConfig.levels_path) -> None:
        self.levels_path = levels_path
        self._table: LevelsTable | None = None
        #: the table's row of each flat cell (-1: not listed), built for the view's network
        self._row_of_cell: IntArray | None = None

    def _rows(self, view: PartsView) -> tuple[LevelsTable, IntArray]:
        """The table resolved against the view's ids, once per network shape."""
        locations, skus = view.on_hand.shape
        if self._table is None or self._row_of_cell is None or self._row_of_cell.size != locations * skus:
            if not self.levels_path:
                raise ConfigError(
                    "policy.replenishment.levels_path", self.levels_path, "must name a levels CSV"
                )
            if view.location_ids is None or view.sku_ids is None:
                raise ConfigError(
                    "policy.replenishment.levels_path",
                    self.levels_path,
                    "the levels table needs a view that carries location and SKU ids",
                )
            table = read_levels(
                self.levels_path,
                {name: index for index, name in enumerate(view.location_ids)},
                {name: index for index, name in enumerate(view.sku_ids)},
            )
            row_of_cell = np.full(locations * skus, -1, dtype=np.int64)
            row_of_cell[table.location * skus + table.sku] = np.arange(table.location.size)
            self._table, self._row_of_cell = table, row_of_cell
        return self._table, self._row_of_cell

    def replenish(self, view: PartsView, candidate_cells: IntArray) -> ReplenishmentDecision:
        """Listed cells due for review order by their rule; listed cells not due are offered again."""
        table, row_of_cell = self._rows(view)
        rows = row_of_cell.take(candidate_cells)
        listed = rows >= 0
        cells, rows = candidate_cells[listed], rows[listed]
        due = (view.day + table.review_offset_days[rows]) % table.review_period_days[rows] == 0
        deferred = cells[~due]
        cells, rows = cells[due], rows[due]
        position = view.cell_position(cells).astype(np.int64)
        rule = table.rule[rows]
        reorder_point = np.where(rule == _BASE_STOCK, table.order_up_to[rows] - 1, table.reorder_point[rows])
        low = position <= reorder_point
        up_to = table.order_up_to[rows]
        batch = np.maximum(table.order_quantity[rows], 1)
        quantity = np.where(
            rule == _R_Q,
            # the smallest n with position + n Q > r
            (np.floor_divide(reorder_point - position, batch) + 1) * batch,
            up_to - position,
        )
        ordering = low & (quantity > 0)
        ordered = cells[ordering]
        skus = view.on_hand.shape[1]
        location = ordered // skus
        return ReplenishmentDecision(
            location=location,
            sku=ordered - location * skus,
            quantity=quantity[ordering].astype(np.int32),
            deferred_cells=deferred,
        )
