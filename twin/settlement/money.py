"""Money as integer paise: conversion at the edges, exact splits, and exact sums over large columns.

Rates are configured in INR (as the master data is); a charge is computed once from a rate and a distance
(inherently fractional) and rounded to whole paise there. From then on every amount is an int64.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

PaiseArray = npt.NDArray[np.int64]
IndexArray = npt.NDArray[np.int64]
PAISE_PER_INR = 100
#: float64 adds integers exactly below 2**53; bincount's float weights are exact while |total| stays below
EXACT_FLOAT_LIMIT = 2**53


def inr_to_paise(inr: npt.ArrayLike) -> PaiseArray:
    """Round an INR amount (or array) to whole paise, halves away from zero like a bank."""
    values = np.asarray(inr, dtype=np.float64) * PAISE_PER_INR
    return (np.sign(values) * np.floor(np.abs(values) + 0.5)).astype(np.int64)


def paise_to_inr(paise: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """For KPIs and reports only (never fed back into the ledger)."""
    return np.asarray(paise, dtype=np.int64) / PAISE_PER_INR


def sum_by(index: IndexArray, paise: PaiseArray, length: int) -> PaiseArray:
    """Exact per-index totals of paise: bincount (fast) when float64 cannot round, else integer ``add.at``."""
    if index.size == 0:
        return np.zeros(length, dtype=np.int64)
    if int(np.abs(paise).sum(dtype=np.int64)) < EXACT_FLOAT_LIMIT:
        return np.rint(np.bincount(index, weights=paise, minlength=length)).astype(np.int64)
    totals = np.zeros(length, dtype=np.int64)
    np.add.at(totals, index, paise)
    return totals


def split_paise(total_paise: PaiseArray, shares: npt.NDArray[np.float64]) -> PaiseArray:
    """Split each total into ``shares.shape[1]`` parts in paise that add up to the total exactly.

    Largest remainder: each part is floored, and the paise left over go to the parts with the largest
    fractional remainders (ties to the first part), so no paisa is created or lost.
    """
    total_paise = np.asarray(total_paise, dtype=np.int64)
    shares = np.asarray(shares, dtype=np.float64).reshape(total_paise.size, -1)
    weight = shares.sum(axis=1, keepdims=True)
    shares = np.where(weight > 0, shares, 1.0)  # a row of zero shares splits evenly: no paisa is lost
    exact = total_paise[:, None] * (shares / shares.sum(axis=1, keepdims=True))
    parts = np.floor(exact).astype(np.int64)
    left_over = total_paise - parts.sum(axis=1)
    order = np.argsort(-(exact - parts), axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(order.shape[1])[None, :].repeat(order.shape[0], 0), axis=1)
    parts += (rank < left_over[:, None]).astype(np.int64)
    return parts


def allocate_paise(group: IndexArray, weight: npt.NDArray[np.float64], total_paise: PaiseArray) -> PaiseArray:
    """Split ``total_paise[g]`` over the items of group ``g`` in proportion to ``weight`` (largest remainder,
    exact: the items of a group add up to its total; a group of zero weight splits evenly)."""
    group = np.asarray(group, dtype=np.int64)
    weight = np.asarray(weight, dtype=np.float64)
    if group.size == 0:
        return np.zeros(0, dtype=np.int64)
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
    bonus = np.zeros(group.size, dtype=np.int64)
    bonus[order] = (position < left_over[group[order]]).astype(np.int64)
    return parts + bonus
