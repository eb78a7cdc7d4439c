"""Drift and trust: how well the synced state predicts what the feeds say next, and how fresh each source is.

Each closed day the tracker projects every dealer x SKU position and every VIN's status 1 and 7 days ahead:
- parts on hand: today's on hand, less the expected demand over the horizon (a smoothed daily mean of the
  units the DMS booked, per cell), plus consignments whose ETA falls inside the horizon, floored at zero;
- a VIN's status: the current step ends at its ETA (built -> in transit, on the road -> in the yard);
  everything else stays where it is.
When the target day closes, the projection is scored against what the feed then says: mean absolute error,
bias and the share of cells off by more than ``threshold_units``, next to the naive "last known position"
baseline. Cells far off both are flagged (a stuck DMS or a lost consignment shows up there). Staleness is
how long each source has been quiet, measured against the feed's own clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from twin.domain.vehicles import VehicleStatus
from twin.live.live_state import LiveState

HORIZONS_DAYS = (1, 7)
#: smoothing of the per-cell daily demand mean (exponential, per closed day)
DEMAND_SMOOTHING = 0.1
#: flagged cells listed per day (the count covers all)
FLAGGED_EXAMPLES = 10
#: a dealer is flagged when its share of flagged cells is this many times the network's, and >= this many cells
FLAGGED_DEALER_RATIO = 3.0
FLAGGED_DEALER_MIN_CELLS = 10


@dataclass
class _Projection:
    made_day: int
    horizon_days: int
    on_hand: npt.NDArray[np.float32]
    naive_on_hand: npt.NDArray[np.int32]
    vin_count: int
    status: npt.NDArray[np.int8]
    naive_status: npt.NDArray[np.int8]
    #: where the naive baseline holds stock, and its total pieces: derived from ``naive_on_hand`` once for both
    #: horizons made on a day (every scoring needs them)
    naive_held: npt.NDArray[np.bool_]
    naive_total: int


class DriftTracker:
    def __init__(self, dealers: int, skus: int, threshold_units: float, stale_after_hours: float) -> None:
        self.dealers, self.skus = dealers, skus
        self.threshold_units = threshold_units
        self.stale_after_days = stale_after_hours / 24
        self.mean_daily_units = np.zeros(dealers * skus, dtype=np.float32)
        self.closed_days = 0
        #: projections waiting for their target day to close, by target day
        self.pending: dict[int, list[_Projection]] = {}
        #: the scoring's per-cell temporaries, reused every day: a fresh 800k-cell array costs its page faults
        #: (about as much as the arithmetic that fills it)
        cells = dealers * skus
        self._scratch = {
            "error": np.empty(cells, dtype=np.float32),
            "absolute_error": np.empty(cells, dtype=np.float32),
            "naive_error": np.empty(cells, dtype=np.int32),
            **{name: np.empty(cells, dtype=np.bool_) for name in ("scored", "off", "naive_off", "flagged")},
        }

    def close_day(self, day: int, state: LiveState, watermark_day: float) -> dict[str, Any]:
        """Score projections that target ``day``, then project from it; returns the day's drift record."""
        on_hand = state.parts["on_hand"][: self.dealers].reshape(-1)
        demand = state.demand_of_day(day)
        cells = self.dealers * self.skus
        today = np.bincount(demand[:, 0], weights=demand[:, 1], minlength=cells).astype(np.float32)
        weight = DEMAND_SMOOTHING if self.closed_days else 1.0
        # mean += weight * (today - mean), in place (the same float32 steps)
        np.subtract(today, self.mean_daily_units, out=today)
        np.multiply(today, np.float32(weight), out=today)
        self.mean_daily_units += today
        self.closed_days += 1
        record: dict[str, Any] = {"day": day}
        status = state.vehicles.columns["status"][: len(state.vehicles)]
        # dense float32 over every dealer cell: cheaper than gathering the scored cells (most of them)
        on_hand_units = on_hand.astype(np.float32)
        # what every scoring and both new projections share: where stock is held, and the total pieces
        held = on_hand > 0
        total = int(on_hand.sum(dtype=np.int64))
        for projection in sorted(self.pending.pop(day, []), key=lambda projection: projection.horizon_days):
            record.update(self._score(projection, on_hand, on_hand_units, held, total, status, state))
        inbound = state.open_inbound()
        naive_on_hand = on_hand.copy()  # the naive baseline of both horizons (read only)
        for horizon in HORIZONS_DAYS:
            projection = self._project(
                day, horizon, on_hand_units, (naive_on_hand, held, total), state, inbound
            )
            self.pending.setdefault(day + horizon, []).append(projection)
        record.update(self.staleness(state, watermark_day))
        return record

    # -- projecting ----------------------------------------------------------------------------------------
    def _project(
        self,
        day: int,
        horizon: int,
        on_hand_units: npt.NDArray[np.float32],
        naive: tuple[npt.NDArray[np.int32], npt.NDArray[np.bool_], int],
        state: LiveState,
        open_inbound: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]],
    ) -> _Projection:
        cells, units, eta = open_inbound
        dealer_cells = self.dealers * self.skus
        arriving = (cells < dealer_cells) & (eta <= day + 1 + horizon)
        projected = self.mean_daily_units * np.float32(horizon)
        np.subtract(on_hand_units, projected, out=projected)
        np.maximum(projected, np.float32(0.0), out=projected)
        np.add.at(projected, cells[arriving], units[arriving].astype(np.float32))
        columns, count = state.vehicles.columns, len(state.vehicles)
        status = columns["status"][:count].astype(np.int8)
        step_ends = (columns["eta_day"][:count] >= 0) & (columns["eta_day"][:count] <= day + 1 + horizon)
        projected_status = status.copy()
        moves = {VehicleStatus.ORDERED: VehicleStatus.BUILT, VehicleStatus.IN_TRANSIT: VehicleStatus.IN_YARD}
        for before, after in moves.items():
            projected_status[step_ends & (status == before)] = after
        naive_on_hand, naive_held, naive_total = naive
        return _Projection(
            day, horizon, projected, naive_on_hand, count, projected_status, status, naive_held, naive_total
        )

    # -- scoring -------------------------------------------------------------------------------------------
    def _score(
        self,
        projection: _Projection,
        on_hand: npt.NDArray[np.int32],
        on_hand_units: npt.NDArray[np.float32],
        held: npt.NDArray[np.bool_],
        total: int,
        status: npt.NDArray[np.int64],
        state: LiveState,
    ) -> dict[str, Any]:
        """Scored cells: those the feed, the projection or the baseline hold stock in. Stock is never negative,
        so every other cell has zero error, and the sums run densely over all cells (no gathering).
        ``held``: ``on_hand > 0``; ``total``: the pieces on hand (shared by the day's scorings)."""
        horizon = projection.horizon_days
        scratch = self._scratch
        scored_mask = np.greater(projection.on_hand, 0, out=scratch["scored"])
        scored_mask |= held
        scored_mask |= projection.naive_held
        scored = np.count_nonzero(scored_mask.reshape(self.dealers, self.skus), axis=1)
        error = np.subtract(projection.on_hand, on_hand_units, out=scratch["error"])
        absolute_error = np.abs(error, out=scratch["absolute_error"])
        # whole pieces: exact in int32
        naive_error = np.subtract(projection.naive_on_hand, on_hand, out=scratch["naive_error"])
        naive_absolute_error = np.abs(naive_error, out=naive_error)
        off = np.greater(absolute_error, self.threshold_units, out=scratch["off"])
        # whole pieces above a threshold t are those above floor(t): an int32 comparison, no float copy
        naive_off = np.greater(
            naive_absolute_error, np.int32(math.floor(self.threshold_units)), out=scratch["naive_off"]
        )
        flagged_cells = np.flatnonzero(np.logical_and(off, naive_off, out=scratch["flagged"]))
        codes = state.codes
        largest = flagged_cells
        if flagged_cells.size > FLAGGED_EXAMPLES:
            largest = flagged_cells[
                np.argpartition(-absolute_error[flagged_cells], FLAGGED_EXAMPLES - 1)[:FLAGGED_EXAMPLES]
            ]
        order = np.lexsort((largest, -absolute_error[largest]))  # largest error first, then by cell
        largest = largest[order]
        examples = [
            {
                "dealer_id": codes.dealer_ids[int(cell) // self.skus],
                "part_number": codes.part_numbers[int(cell) % self.skus],
                "projected": round(float(projection.on_hand[cell]), 1),
                "reported": int(on_hand[cell]),
            }
            for cell in largest
        ]
        # a dealer stands out when far more of its cells are off than the network's share (a stuck DMS)
        flagged = np.bincount(flagged_cells // self.skus, minlength=self.dealers)
        network_share = flagged.sum() / max(scored.sum(), 1)
        stands_out = (flagged >= FLAGGED_DEALER_MIN_CELLS) & (
            flagged > FLAGGED_DEALER_RATIO * network_share * scored
        )
        vins = projection.vin_count
        known = status[:vins].astype(np.int8)
        scored_count = int(scored.sum())
        cells = max(scored_count, 1)
        prefix = f"h{horizon}_"
        return {
            f"{prefix}parts_cells_scored": scored_count,
            f"{prefix}parts_mae_units": float(absolute_error.sum(dtype=np.float64) / cells),
            f"{prefix}parts_bias_units": float(error.sum(dtype=np.float64) / cells),
            f"{prefix}parts_share_off": float(np.count_nonzero(off) / cells),
            f"{prefix}naive_parts_mae_units": float(naive_absolute_error.sum(dtype=np.int64) / cells),
            f"{prefix}naive_parts_bias_units": float((projection.naive_total - total) / cells),
            f"{prefix}naive_parts_share_off": float(np.count_nonzero(naive_off) / cells),
            f"{prefix}vins_scored": vins,
            f"{prefix}vin_status_share_off": float((projection.status != known).mean()) if vins else 0.0,
            f"{prefix}naive_vin_status_share_off": float((projection.naive_status != known).mean())
            if vins
            else 0.0,
            f"{prefix}flagged_cells": int(flagged_cells.size),
            f"{prefix}flagged_dealers": [
                codes.dealer_ids[dealer] for dealer in np.flatnonzero(stands_out).tolist()
            ],
            f"{prefix}flagged_examples": examples,
        }

    def staleness(self, state: LiveState, watermark_day: float) -> dict[str, Any]:
        """Hours since each source's newest message, against the feed's newest; which are stale."""
        ages = {
            source: (watermark_day - book.last_occurred_day) * 24 for source, book in state.sources.items()
        }
        stale = sorted(source for source, hours in ages.items() if hours > self.stale_after_days * 24)
        oldest = max(ages.values(), default=0.0)
        return {"stale_sources": stale, "stale_source_count": len(stale), "oldest_source_age_hours": oldest}

    # -- checkpoint ----------------------------------------------------------------------------------------
    def state_arrays(self) -> dict[str, npt.NDArray[Any]]:
        arrays: dict[str, npt.NDArray[Any]] = {
            "mean_daily_units": self.mean_daily_units,
            "closed_days": np.array([self.closed_days]),
        }
        for target, projections in self.pending.items():
            for projection in projections:
                key = f"{target}:{projection.horizon_days}:{projection.made_day}:{projection.vin_count}"
                arrays[f"on_hand:{key}"] = projection.on_hand
                arrays[f"naive_on_hand:{key}"] = projection.naive_on_hand
                arrays[f"status:{key}"] = projection.status
                arrays[f"naive_status:{key}"] = projection.naive_status
        return arrays

    def load_state_arrays(self, arrays: dict[str, npt.NDArray[Any]]) -> None:
        self.mean_daily_units = arrays["mean_daily_units"].copy()
        self.closed_days = int(arrays["closed_days"][0])
        self.pending = {}
        for name in sorted(arrays):
            if not name.startswith("on_hand:"):
                continue
            key = name.split(":", 1)[1]
            target, horizon, made, vins = (int(part) for part in key.split(":"))
            naive_on_hand = arrays[f"naive_on_hand:{key}"].copy()
            self.pending.setdefault(target, []).append(
                _Projection(
                    made, horizon, arrays[name].copy(), naive_on_hand, vins, arrays[f"status:{key}"].copy(),
                    arrays[f"naive_status:{key}"].copy(), naive_on_hand > 0,
                    int(naive_on_hand.sum(dtype=np.int64)),
                )
            )  # fmt: skip
