"""Money as integer paise: conversion at the edges, exact splits, and exact sums over large columns.

Rates are configured in INR (as the master data is); a charge is computed once from a rate and a distance
(inherently fractional) and rounded to whole paise there. From then on every amount is an int64.

One rounding rule, in one function: ``round_to_paise`` (to the nearest paisa, halves away from zero, like a
bank). ``inr_to_paise`` is that rule applied to INR; rate cards, transfer prices, fees and incentive amounts
all go through it, so the same INR figure becomes the same paise wherever it enters the ledger.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from twin.errors import TwinError

PaiseArray = npt.NDArray[np.int64]
IndexArray = npt.NDArray[np.int64]
PAISE_PER_INR = 100
#: float64 adds integers exactly below 2**53; bincount's float weights are exact while |total| stays below
EXACT_FLOAT_LIMIT = 2**53


class MoneyError(TwinError, ValueError):
    """An amount that cannot be kept exactly in paise (not whole, or too large to split exactly)."""


#: paise are snapped to this many decimals before rounding, so a figure written in decimal is rounded as
#: written (1.005 INR is 100.49999999999999 paise in binary floating point, and a bank makes it 101)
SNAP_DECIMALS = 6


def round_to_paise(paise: npt.ArrayLike) -> PaiseArray:
    """The twin's one rounding rule: a fractional paise amount (or array) to the nearest whole paisa,
    halves away from zero like a bank."""
    values = np.asarray(paise, dtype=np.float64).round(SNAP_DECIMALS)
    # |value| rounded half up, with the value's sign (a zero of either sign is 0)
    return np.copysign(np.floor(np.abs(values) + 0.5), values).astype(np.int64)


def inr_to_paise(inr: npt.ArrayLike) -> PaiseArray:
    """An INR amount (or array) in whole paise, by ``round_to_paise``."""
    return round_to_paise(np.asarray(inr, dtype=np.float64) * PAISE_PER_INR)


def paise_to_inr(paise: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """For KPIs and reports only (never fed back into the ledger)."""
    return np.asarray(paise, dtype=np.int64) / PAISE_PER_INR


def non_integer_at(values: npt.ArrayLike) -> int | None:
    """Flat index of the first value of ``values`` that is not integer paise (None when all are). Amounts in
    paise must be of an integer type, so a float, even a whole one, says an INR figure skipped
    ``inr_to_paise``; the first fractional (or non-finite) value is named when there is one."""
    array = np.asarray(values)
    if array.dtype.kind in "iu" and np.can_cast(array.dtype, np.int64, casting="safe"):
        return None
    if array.size == 0:
        return None
    if array.dtype.kind == "f":
        flat = array.reshape(-1)
        fractional = np.flatnonzero(~np.isfinite(flat) | (flat != np.floor(flat)))
        return int(fractional[0]) if fractional.size else 0
    return 0


def sum_by(index: IndexArray, paise: PaiseArray, length: int) -> PaiseArray:
    """Exact per-index totals of paise: bincount (fast) when float64 cannot round, else integer ``add.at``."""
    if index.size == 0:
        return np.zeros(length, dtype=np.int64)
    if int(np.abs(paise).sum(dtype=np.int64)) < EXACT_FLOAT_LIMIT:
        return np.rint(np.bincount(index, weights=paise, minlength=length)).astype(np.int64)
    totals = np.zeros(length, dtype=np.int64)
    np.add.at(totals, index, paise)
    return totals


def _check_splittable(total_paise: PaiseArray, weight: npt.NDArray[np.float64], what: str) -> None:
    """Splits compute in float64: refuse totals it cannot hold exactly, and weights that are not shares."""
    too_large = np.flatnonzero(np.abs(total_paise) >= EXACT_FLOAT_LIMIT)
    if too_large.size:
        raise MoneyError(
            f"{what}: total {int(total_paise[too_large[0]])} paise is too large to split exactly "
            f"(limit {EXACT_FLOAT_LIMIT - 1})"
        )
    bad = np.flatnonzero(~np.isfinite(weight) | (weight < 0))
    if bad.size:
        raise MoneyError(f"{what}: share {float(weight.reshape(-1)[bad[0]])!r} must be finite and >= 0")


def _check_parts_sum(parts_sum: PaiseArray, total_paise: PaiseArray, what: str) -> None:
    off = np.flatnonzero(parts_sum != total_paise)
    if off.size:
        first = int(off[0])
        raise MoneyError(
            f"{what}: parts of total {int(total_paise[first])} paise add up to {int(parts_sum[first])}"
        )


def split_paise(total_paise: PaiseArray, shares: npt.NDArray[np.float64]) -> PaiseArray:
    """Split each total into ``shares.shape[1]`` parts in paise that add up to the total exactly.

    Largest remainder: each part is floored, and the paise left over go to the parts with the largest
    fractional remainders (ties to the first part); should float rounding floor a part one paisa too high,
    the excess is taken back from the parts with the smallest remainders. The parts are checked to add up
    to the total (``MoneyError`` otherwise), so no paisa is created or lost.
    """
    total_paise = np.asarray(total_paise, dtype=np.int64)
    shares = np.asarray(shares, dtype=np.float64).reshape(total_paise.size, -1)
    _check_splittable(total_paise, shares, "split")
    return split_by_fractions(total_paise, _fractions(shares))


def split_fractions(shares: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Each row of shares as the fractions ``split_paise`` multiplies a total by (a row of zero shares splits
    evenly): for callers that split many totals by the same few rows, computed once."""
    shares = np.atleast_2d(np.asarray(shares, dtype=np.float64))
    _check_splittable(np.zeros(shares.shape[0], dtype=np.int64), shares, "split")
    return _fractions(shares)


def _fractions(shares: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    weight = shares.sum(axis=1, keepdims=True)
    shares = np.where(weight > 0, shares, 1.0)  # a row of zero shares splits evenly: no paisa is lost
    return shares / shares.sum(axis=1, keepdims=True)


def split_by_fractions(total_paise: PaiseArray, fractions: npt.NDArray[np.float64]) -> PaiseArray:
    """``split_paise(total_paise, shares)`` with the shares given as their ``split_fractions``: one row for
    every total, or a row per total. The same parts to the paisa (the same products, floors and
    largest-remainder rule), without the per-call work on the shares. The paise left over are handed out only
    when some total has any (a one-payer row, or even totals of a half-and-half row, have none)."""
    total_paise = np.asarray(total_paise, dtype=np.int64).reshape(-1)
    if total_paise.size and int(np.abs(total_paise).max()) >= EXACT_FLOAT_LIMIT:
        _check_splittable(total_paise, np.ones((total_paise.size, 1)), "split")
    exact = total_paise[:, None] * fractions
    parts = np.floor(exact).astype(np.int64)
    left_over = total_paise - parts.sum(axis=1)
    if left_over.any():
        rank = _rank_largest_first(exact - parts)
        left = left_over[:, None]
        width = parts.shape[1]
        parts += (rank < left).astype(np.int64) - (rank >= width + left).astype(np.int64)
        _check_parts_sum(parts.sum(axis=1), total_paise, "split")
    return parts


def _rank_largest_first(remainder: npt.NDArray[np.float64]) -> IndexArray:
    """Each part's place when a row's parts are ordered by remainder, largest first, ties to the first part:
    the order is ``np.argsort(-remainder, axis=1, kind="stable")``, and a part's place in it is that order's
    inverse permutation, itself an argsort (of distinct values, so any sort gives it)."""
    order = np.argsort(-remainder, axis=1, kind="stable")
    return np.argsort(order, axis=1)


def allocate_paise(group: IndexArray, weight: npt.NDArray[np.float64], total_paise: PaiseArray) -> PaiseArray:
    """Split ``total_paise[g]`` over the items of group ``g`` in proportion to ``weight`` (largest remainder,
    exact: the items of a group add up to its total; a group of zero weight splits evenly)."""
    group = np.asarray(group, dtype=np.int64)
    weight = np.asarray(weight, dtype=np.float64)
    total_paise = np.asarray(total_paise, dtype=np.int64)
    if group.size == 0:
        return np.zeros(0, dtype=np.int64)
    _check_splittable(total_paise[np.unique(group)], weight, "allocation")
    groups = total_paise.size
    group_weight = np.bincount(group, weights=weight, minlength=groups)
    members = np.bincount(group, minlength=groups)
    even = group_weight[group] <= 0
    share = np.where(
        even, 1.0 / np.maximum(members[group], 1), weight / np.where(even, 1.0, group_weight[group])
    )
    exact = total_paise[group] * share
    parts = np.floor(exact).astype(np.int64)
    left_over = total_paise - sum_by(group, parts, groups)
    order = np.lexsort((-(exact - parts), group))
    starts = np.searchsorted(group[order], np.arange(groups))
    position = np.arange(group.size) - starts[group[order]]
    left_over_of = left_over[group[order]]
    bonus = np.zeros(group.size, dtype=np.int64)
    # paise left over go to the largest remainders; a paisa floored too high is taken from the smallest
    bonus[order] = (position < left_over_of).astype(np.int64) - (
        position >= members[group[order]] + left_over_of
    ).astype(np.int64)
    parts += bonus
    present = members > 0
    _check_parts_sum(sum_by(group, parts, groups)[present], total_paise[present], "allocation")
    return parts
