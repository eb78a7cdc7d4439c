"""The lead-time convention of the parts side: when an order placed on a day becomes usable stock.

An order placed on day ``d`` with lead time ``L`` days is usable from the morning of day ``d + ceil(L)``, and
never before the next morning (receipts are put away in the morning phase, d+0.05, before the day's demand
at d+0.25). It does not matter when on day ``d`` the order went out: the review at d+0.75, an emergency at
d+0.25 or a rebalancing transfer at d+0.70 all count from day ``d``. So a 1-day emergency is on the shelf the
next morning, a 3-day consignment three mornings later, and a lead time of L whole days is L days of cover
for a customer, as the config says. A noisy transit (``L`` times a lane factor) rounds up to whole days.

Before this convention an order at d+0.75 with L = 1 arrived at ``ceil(d + 1.75) = d + 2``: every nominal lead
time behaved as ``ceil(L + 0.75)``, half a day to a day more than configured (issue #18 item 2).

Vehicles move in continuous time (a car-carrier load leaving at t with transit L arrives at t + L and can be
sold from then); only their settlement day (a transfer or trade is settled the morning after it arrives) is
a day, rounded the same way.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import special

#: lead times are floats (km / speed x noise): a whole number computed as 2.0000000001 is still 2 days
_TOLERANCE_DAYS = 1e-9


def usable_day(order_time_days: float, lead_time_days: float) -> int:
    """The day from whose morning an order placed at ``order_time_days`` is usable stock."""
    day = math.floor(order_time_days)
    return max(day + 1, day + math.ceil(lead_time_days - _TOLERANCE_DAYS))


def usable_days(order_time_days: float, lead_time_days: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """``usable_day`` for many lead times placed at the same moment."""
    day = math.floor(order_time_days)
    lead = np.ceil(np.asarray(lead_time_days, dtype=float) - _TOLERANCE_DAYS)
    return np.maximum(day + 1, day + lead).astype(np.int64)


def uncovered_demand_days(
    lead_time_days: npt.ArrayLike, lead_time_sd_days: npt.ArrayLike | float = 0.0
) -> npt.NDArray[np.float64]:
    """Expected demand days an order placed at tonight's review does not reach: the days before the morning
    it is usable, ``max(1, ceil(L)) - 1`` for a lead time ``L``, averaged over a noisy transit (normal with
    the given sd: a 1.9-day lane whose truck is late a third of the time misses 1.3 days, not 1). A
    replenishment policy's protection period is these plus its review period."""
    mean = np.asarray(lead_time_days, dtype=float)
    spread = np.broadcast_to(np.asarray(lead_time_sd_days, dtype=float), mean.shape)
    # E[max(1, ceil(X))] - 1 = sum over k >= 1 of P(X > k)
    top = int(np.ceil(np.max(mean + 6.0 * spread, initial=1.0))) + 1
    days = np.arange(1, top + 1, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (mean[..., None] - days) / spread[..., None]
    exceed = np.where(
        spread[..., None] > 0, special.ndtr(z), (mean[..., None] - _TOLERANCE_DAYS > days).astype(float)
    )
    return np.asarray(exceed.sum(axis=-1), dtype=np.float64)
