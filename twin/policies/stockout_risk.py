"""Stock-out risk of a dealer-SKU: the probability of running out within a horizon, and the expected day.

Inputs are what a control tower sees: available stock (on hand less units reserved for open counter orders;
parts issued to workshop repair orders are already off the shelf), the forecast demand distribution, and the
inbound consignment with its ETA and ETA uncertainty (the carrier's transit-time spread).

Within a horizon of ``h`` days with an inbound of ``Q`` units expected after ``eta`` days:
- if it has not arrived by ``h`` (probability ``1 - P(arrive <= h)``), the cell runs out iff demand over
  ``h`` exceeds the available stock;
- if it arrives in time, the cell still runs out if demand before the arrival exceeds the available stock, or
  demand over the whole horizon exceeds stock plus inbound; the larger of the two is taken (a lower bound on
  their union, tight when one dominates, which is the usual case).
The probability is made non-decreasing in ``h`` (running out within 3 days implies within 7).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import numpy as np
import numpy.typing as npt
from scipy import special

from twin.policies.demand_distribution import exceed_probability, exceed_probability_near

FloatArray = npt.NDArray[np.float64]


def arrival_probability(
    eta_days: FloatArray, eta_sd_days: FloatArray, horizon_days: FloatArray | float
) -> FloatArray:
    """P(an inbound due in ``eta_days`` (from now) arrives within ``horizon_days``); 0 with nothing inbound."""
    eta = np.asarray(eta_days, dtype=float)
    finite = np.isfinite(eta)
    spread = np.maximum(np.asarray(eta_sd_days, dtype=float), 1e-6)
    z = (horizon_days - np.where(finite, eta, 0.0)) / spread
    return np.where(finite, special.ndtr(z), 0.0)


def stockout_probability(
    available: FloatArray,
    inbound_units: FloatArray,
    inbound_eta_days: FloatArray,
    inbound_eta_sd_days: FloatArray,
    mean_per_day: FloatArray,
    dispersion: FloatArray,
    horizons_days: Sequence[float],
    decision_levels: tuple[float, ...] = (),
) -> FloatArray:
    """P(stock-out within each horizon), shape ``[series, horizons]``; horizons ascending.

    With ``decision_levels`` (e.g. an alert threshold) the tail probabilities are exact only near those
    levels and approximated elsewhere (see ``exceed_probability_near``), and a series whose risk without
    its inbound is already below every level keeps that value (an upper bound); without, all is exact.
    """
    exceed: Callable[..., FloatArray] = (
        partial(exceed_probability_near, decision_levels=decision_levels)
        if decision_levels
        else exceed_probability
    )
    # one flat pass over every (series, horizon) pair: a few large array operations instead of many small
    horizons = np.asarray(horizons_days, dtype=float)
    count, width = np.asarray(available).size, horizons.size
    available = np.repeat(np.asarray(available, dtype=float), width)
    inbound = np.repeat(np.asarray(inbound_units, dtype=float), width)
    eta = np.repeat(np.asarray(inbound_eta_days, dtype=float), width)
    spread = np.repeat(np.broadcast_to(np.asarray(inbound_eta_sd_days, dtype=float), (count,)), width)
    rate = np.repeat(np.asarray(mean_per_day, dtype=float), width)
    ratio = np.repeat(np.asarray(dispersion, dtype=float), width)
    horizon = np.tile(horizons, count)
    has_inbound = (inbound > 0) & np.isfinite(eta)
    eta = np.where(has_inbound, np.maximum(eta, 0.0), np.inf)
    risk = exceed(available, rate * horizon, ratio)
    # an inbound only lowers the risk: where it is already below every decision level, the decision stands
    relevant = risk >= min(decision_levels) if decision_levels else True
    inbound_rows = np.flatnonzero(has_inbound & relevant)
    arrive = arrival_probability(eta[inbound_rows], spread[inbound_rows], horizon[inbound_rows])
    arriving = arrive > 0
    late, arrive = inbound_rows[arriving], arrive[arriving]
    if late.size:
        before = np.minimum(eta[late], horizon[late])
        before_arrival = exceed(available[late], rate[late] * before, ratio[late])
        whole = exceed(available[late] + inbound[late], rate[late] * horizon[late], ratio[late])
        with_inbound = np.maximum(before_arrival, whole)
        risk[late] = (1.0 - arrive) * risk[late] + arrive * with_inbound
    risks = risk.reshape(count, width)
    return np.maximum.accumulate(risks, axis=1)


def expected_stockout_days(
    available: FloatArray,
    inbound_units: FloatArray,
    inbound_eta_days: FloatArray,
    mean_per_day: FloatArray,
) -> FloatArray:
    """Days from now until expected demand uses up the stock (and the inbound, once it is due); inf at
    zero demand. A planner reads it as "runs out around day X"."""
    rate = np.asarray(mean_per_day, dtype=float)
    stock = np.maximum(np.asarray(available, dtype=float), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        before = np.where(rate > 0, stock / rate, np.inf)
        after = np.where(rate > 0, (stock + inbound_units) / rate, np.inf)
    eta = np.asarray(inbound_eta_days, dtype=float)
    covered = (np.asarray(inbound_units) > 0) & (before >= eta)
    return np.where(covered, after, before)
