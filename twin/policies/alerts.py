"""Stock-out alerts on dealer-SKU cells and their lifecycle, kept as columns (one row per alert).

Lifecycle: raised (a horizon's stock-out risk reached the threshold) -> acted on (stock was sent to the
cell) -> closed as one of:
- ``stocked_out``: the cell ran out while the alert was open (a true alarm; its lead time is recorded);
- ``resolved``: the risk fell below the clear level after someone acted (the alarm did its job);
- ``false_alarm``: the risk fell below the clear level without anyone acting, or nothing happened within
  the longest horizon.

Per horizon ``h`` the book keeps the first day the alert's ``h``-day risk was at or above the threshold, so
precision and recall are measured per horizon: an alert is right at ``h`` if the cell ran out within ``h``
days of that day; a stock-out was foreseen at ``h`` if such a flag was set 1..h days before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import Any

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
SEVERITIES = ("critical", "high", "medium", "low")


class AlertOutcome(IntEnum):
    OPEN = 0
    STOCKED_OUT = 1
    RESOLVED = 2
    FALSE_ALARM = 3


class _Columns:
    """Growable int64/float64 columns with amortised appends."""

    def __init__(self, specs: dict[str, tuple[type, int]]) -> None:
        self.size = 0
        self._specs = specs
        self.data: dict[str, npt.NDArray[Any]] = {
            name: np.zeros((1024, width) if width > 1 else 1024, dtype=dtype)
            for name, (dtype, width) in specs.items()
        }

    def append(self, count: int) -> slice:
        needed = self.size + count
        capacity = next(iter(self.data.values())).shape[0]
        if needed > capacity:
            new_capacity = max(needed, 2 * capacity)
            for name, array in self.data.items():
                grown = np.zeros((new_capacity, *array.shape[1:]), dtype=array.dtype)
                grown[: self.size] = array[: self.size]
                self.data[name] = grown
        rows = slice(self.size, needed)
        self.size = needed
        return rows

    def __getitem__(self, name: str) -> npt.NDArray[Any]:
        return self.data[name][: self.size]


class AlertBook:
    def __init__(
        self,
        cell_count: int,
        horizons_days: Sequence[int],
        risk_threshold: float,
        clear_threshold: float,
    ) -> None:
        self.horizons_days = np.asarray(horizons_days, dtype=np.int64)
        self.risk_threshold = risk_threshold
        self.clear_threshold = clear_threshold
        self.expiry_days = int(self.horizons_days.max())
        #: open alert per cell (-1: none)
        self.open_alert = np.full(cell_count, -1, dtype=np.int64)
        width = self.horizons_days.size
        self.alerts = _Columns(
            {
                "cell": (np.int64, 1),
                "raised_day": (np.int64, 1),
                "risk": (np.float64, width),
                "flag_day": (np.int64, width),
                "expected_stockout_day": (np.float64, 1),
                "acted_day": (np.int64, 1),
                "closed_day": (np.int64, 1),
                "outcome": (np.int64, 1),
            }
        )
        self.stockouts = _Columns(
            {"cell": (np.int64, 1), "day": (np.int64, 1), "alert": (np.int64, 1), "lead_days": (np.int64, 1)}
        )

    # -- lifecycle ------------------------------------------------------------------------------------
    def assess(
        self, day: int, cells: IntArray, risks: FloatArray, expected_stockout_day: FloatArray
    ) -> IntArray:
        """Risks of re-assessed cells: raise new alerts, flag horizons of open ones, clear those whose risk
        fell. Returns the ids of the alerts raised."""
        above = risks >= self.risk_threshold
        alert = self.open_alert[cells]
        is_open = alert >= 0
        # open alerts: set first-flag days of horizons that just crossed, keep the highest risk seen
        if is_open.any():
            rows = alert[is_open]
            flags = self.alerts.data["flag_day"][rows]
            newly = above[is_open] & (flags < 0)
            flags[newly] = day
            self.alerts.data["flag_day"][rows] = flags
            self.alerts.data["risk"][rows] = np.maximum(self.alerts.data["risk"][rows], risks[is_open])
            cleared = risks[is_open, -1] < self.clear_threshold
            if cleared.any():
                closing = rows[cleared]
                acted = self.alerts.data["acted_day"][closing] >= 0
                self._close(closing, day, np.where(acted, AlertOutcome.RESOLVED, AlertOutcome.FALSE_ALARM))
        new = ~is_open & above.any(axis=1)
        count = int(new.sum())
        if count == 0:
            return np.zeros(0, dtype=np.int64)
        added = self.alerts.append(count)
        columns = self.alerts.data
        columns["cell"][added] = cells[new]
        columns["raised_day"][added] = day
        columns["risk"][added] = risks[new]
        columns["flag_day"][added] = np.where(above[new], day, -1)
        columns["expected_stockout_day"][added] = expected_stockout_day[new]
        columns["acted_day"][added] = -1
        columns["closed_day"][added] = -1
        columns["outcome"][added] = AlertOutcome.OPEN
        ids = np.arange(added.start, added.stop, dtype=np.int64)
        self.open_alert[cells[new]] = ids
        return ids

    def acted_on(self, day: int, cells: IntArray) -> IntArray:
        """Stock was sent to ``cells``: their open alerts not yet acted on are marked. Returns those ids."""
        alert = self.open_alert[cells]
        alert = alert[alert >= 0]
        alert = alert[self.alerts.data["acted_day"][alert] < 0]
        self.alerts.data["acted_day"][alert] = day
        return alert

    def record_stockouts(self, day: int, cells: IntArray) -> IntArray:
        """Cells that started a stock-out today (unique). Closes their open alerts raised before today as
        true alarms; returns the alert per stock-out (-1: nobody was warned)."""
        alert = self.open_alert[cells]
        raised = np.where(alert >= 0, self.alerts.data["raised_day"][np.maximum(alert, 0)], day)
        warned = (alert >= 0) & (raised < day)
        rows = self.stockouts.append(cells.size)
        self.stockouts.data["cell"][rows] = cells
        self.stockouts.data["day"][rows] = day
        self.stockouts.data["alert"][rows] = np.where(warned, alert, -1)
        self.stockouts.data["lead_days"][rows] = np.where(warned, day - raised, -1)
        if warned.any():
            self._close(alert[warned], day, AlertOutcome.STOCKED_OUT)
        return np.where(warned, alert, -1)

    def expire(self, day: int) -> IntArray:
        """Open alerts as old as the longest horizon with no stock-out are false alarms (or resolved, if
        someone acted): a stock-out on the horizon's last day comes earlier that day and still counts.
        Returns the closed ids."""
        columns = self.alerts
        open_rows = np.flatnonzero(columns["outcome"] == AlertOutcome.OPEN)
        old = open_rows[day - columns["raised_day"][open_rows] >= self.expiry_days]
        if old.size:
            acted = columns["acted_day"][old] >= 0
            self._close(old, day, np.where(acted, AlertOutcome.RESOLVED, AlertOutcome.FALSE_ALARM))
        return old

    def _close(self, rows: IntArray, day: int, outcome: IntArray | AlertOutcome) -> None:
        columns = self.alerts.data
        columns["closed_day"][rows] = day
        columns["outcome"][rows] = outcome
        self.open_alert[columns["cell"][rows]] = -1

    # -- reading ----------------------------------------------------------------------------------------
    def severity(self, rows: IntArray) -> list[str]:
        """Severity from the shortest horizon flagged: 1 day critical, 3 high, 7 medium, longer low."""
        flags = self.alerts["flag_day"][rows] >= 0
        first = np.where(flags.any(axis=1), flags.argmax(axis=1), flags.shape[1] - 1)
        names = SEVERITIES[: self.horizons_days.size]
        return [names[min(index, len(names) - 1)] for index in first.tolist()]

    def kpis(self, from_day: int, to_day: int) -> dict[str, float]:
        """Precision and recall per horizon, lead times (median, 10th percentile and mean over the warned
        stock-outs; days of warning per stock-out over all of them) and unwarned stock-outs for alerts raised
        and stock-outs that started in ``[from_day, to_day)``. Alerts too young to have matured at ``h`` (raised
        within ``h`` days of ``to_day``) are left out of precision at ``h``."""
        alerts, stockouts = self.alerts, self.stockouts
        raised = alerts["raised_day"]
        in_window = (raised >= from_day) & (raised < to_day)
        stock_day = stockouts["day"]
        episodes = (stock_day >= from_day) & (stock_day < to_day)
        stock_alert = stockouts["alert"][episodes]
        stock_lead = stockouts["lead_days"][episodes]
        stockout_day_of_alert = np.full(alerts.size, -1, dtype=np.int64)
        true_alarm = stockouts["alert"] >= 0
        stockout_day_of_alert[stockouts["alert"][true_alarm]] = stock_day[true_alarm]
        result: dict[str, float] = {
            "alerts_raised": float(in_window.sum()),
            "stockouts": float(episodes.sum()),
            "stockouts_unwarned": float((stock_alert < 0).sum()),
            "stockouts_warned_share": _share((stock_alert >= 0).sum(), episodes.sum()),
        }
        for index, horizon in enumerate(self.horizons_days.tolist()):
            flag = alerts["flag_day"][:, index]
            mature = in_window & (flag >= 0) & (flag + horizon < to_day)
            hit = mature & (stockout_day_of_alert >= 0) & (stockout_day_of_alert - flag <= horizon)
            result[f"alert_precision_{horizon}d"] = _share(hit.sum(), mature.sum())
            foreseen = np.zeros(stock_alert.size, dtype=bool)
            warned = stock_alert >= 0
            flag_of_stockout = flag[stock_alert[warned]]
            day_of_stockout = stock_day[episodes][warned]
            foreseen[warned] = (
                (flag_of_stockout >= 0)
                & (day_of_stockout - flag_of_stockout <= horizon)
                & (day_of_stockout > flag_of_stockout)
            )
            result[f"alert_recall_{horizon}d"] = _share(foreseen.sum(), stock_alert.size)
        leads = stock_lead[stock_lead >= 0].astype(float)
        result["alert_lead_days_median"] = float(np.median(leads)) if leads.size else float("nan")
        result["alert_lead_days_p10"] = float(np.percentile(leads, 10)) if leads.size else float("nan")
        result["alert_lead_days_mean"] = float(leads.mean()) if leads.size else float("nan")
        # days of warning per stock-out, an unwarned one counting 0: lead time and recall in one number
        result["alert_warning_days_per_stockout"] = _share(leads.sum(), stock_lead.size)
        outcome = alerts["outcome"][in_window]
        closed = max(int((outcome != AlertOutcome.OPEN).sum()), 1)
        result["alerts_false_alarm_share"] = float((outcome == AlertOutcome.FALSE_ALARM).sum()) / closed
        result["alerts_acted_on_share"] = _share((alerts["acted_day"][in_window] >= 0).sum(), in_window.sum())
        return result

    def lead_times(self, from_day: int, to_day: int) -> IntArray:
        """Days between alert and stock-out for every warned stock-out in the window (the headline plot)."""
        day = self.stockouts["day"]
        lead = self.stockouts["lead_days"]
        return lead[(day >= from_day) & (day < to_day) & (lead >= 0)]

    # -- state for snapshots ----------------------------------------------------------------------------
    def state_arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        arrays: dict[str, npt.NDArray[np.generic]] = {"open_alert": self.open_alert}
        for prefix, table in (("alert_", self.alerts), ("stockout_", self.stockouts)):
            for name in table.data:
                arrays[prefix + name] = table[name]
        return arrays

    def load_state_arrays(self, arrays: dict[str, npt.NDArray[np.generic]]) -> None:
        self.open_alert[:] = arrays["open_alert"]
        for prefix, table in (("alert_", self.alerts), ("stockout_", self.stockouts)):
            count = arrays[prefix + "cell"].shape[0]
            table.size = 0
            rows = table.append(count)
            for name in table.data:
                table.data[name][rows] = arrays[prefix + name]


def _share(numerator: float | np.integer, denominator: float | np.integer) -> float:
    return float(numerator) / float(denominator) if denominator else float("nan")
