"""Comparison plots a planner reads at a glance: relative differences with their intervals, and the
per-replication values behind them (paired runs joined by a line, so the effect of CRN is visible)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, PercentFormatter

from twin.analysis import formatting

SIGNIFICANT_COLOUR = "#cc3311"
NOT_SIGNIFICANT_COLOUR = "#777777"
PAIR_LINE_COLOUR = "#bbbbbb"
SUBPLOT_COLUMNS = 3


def plot_difference_ci(table: pd.DataFrame, kpis: Sequence[str], path: Path) -> Path:
    """One horizontal bar per (KPI, arm): difference and its interval as % of the baseline mean.

    The interval is the absolute paired interval divided by |baseline mean|; it ignores the (small, CRN-shared)
    uncertainty of the baseline mean itself. Rows with a zero or missing baseline mean are labelled n/a.
    """
    rows = table[table["kpi"].isin(kpis)].copy()
    rows["kpi_order"] = rows["kpi"].map({kpi: index for index, kpi in enumerate(kpis)})
    rows = rows.sort_values("kpi_order", kind="stable").reset_index(drop=True)
    figure, axis = plt.subplots(figsize=(9, 1.5 + 0.38 * max(len(rows), 1)), layout="constrained")
    labels = [f"{kpi} — {arm}" for kpi, arm in zip(rows["kpi"], rows["arm"], strict=True)]
    scale = rows["baseline_mean"].abs().to_numpy(dtype=float)
    difference = rows["difference_mean"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = 100.0 * difference / scale
        low = 100.0 * rows["ci_low"].to_numpy(dtype=float) / scale
        high = 100.0 * rows["ci_high"].to_numpy(dtype=float) / scale
    position = np.arange(len(rows))
    shown = np.isfinite(scale) & (scale > 0) & np.isfinite(difference)
    for row in np.flatnonzero(~shown).tolist():
        axis.text(0, row, "  n/a (baseline mean 0 or missing)", va="center", fontsize="small")
    significant = rows["significant"].to_numpy(dtype=bool)
    bounded = shown & np.isfinite(low) & np.isfinite(high)
    # one artist per kind of mark (a few instead of one per row): the rows are many, the kinds four
    for marked, colour, width in ((True, SIGNIFICANT_COLOUR, 2), (False, NOT_SIGNIFICANT_COLOUR, 1)):
        members = bounded & (significant == marked)
        if members.any():
            axis.errorbar(
                centre[members],
                position[members],
                xerr=[centre[members] - low[members], high[members] - centre[members]],
                fmt="o",
                color=colour,
                capsize=3,
                linewidth=width,
            )
        unbounded = shown & ~bounded & (significant == marked)
        if unbounded.any():
            axis.plot(centre[unbounded], position[unbounded], "o", color=colour, fillstyle="none")
    axis.axvline(0, color="black", linewidth=1)
    axis.set_yticks(range(len(labels)), labels, fontsize="small")
    axis.set_ylim(max(len(labels), 1) - 0.5, -0.5)
    axis.xaxis.set_major_formatter(PercentFormatter(100.0))
    axis.set_xlabel("arm − baseline, % of the baseline mean (paired t interval)")
    axis.grid(axis="x", alpha=0.3)
    confidence = table.attrs.get("confidence")
    level = f"{confidence:.0%} " if confidence is not None else ""
    axis.set_title(f"Differences with {level}intervals (red: significant)")
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_distributions(
    replications: pd.DataFrame, arms: Sequence[str], kpis: Sequence[str], path: Path
) -> Path:
    """Small multiples, one per KPI: each arm's per-replication values as a box with its points; the
    points of one replication are joined across arms, so a consistent shift under CRN is visible."""
    rows = max(1, math.ceil(len(kpis) / SUBPLOT_COLUMNS))
    columns = min(SUBPLOT_COLUMNS, max(1, len(kpis)))
    # constrained layout: arranged in the one draw that saves the figure (tight_layout draws the text once more)
    figure, axes = plt.subplots(
        rows, columns, figsize=(4.2 * columns, 3.2 * rows), squeeze=False, layout="constrained"
    )
    positions = list(range(1, len(arms) + 1))
    for index, axis in enumerate(axes.flat):
        if index >= len(kpis):
            axis.set_visible(False)
            continue
        kpi = kpis[index]
        wide = replications.pivot(index="replication", columns="arm", values=kpi)
        wide = wide.reindex(columns=list(arms))
        # every replication's line in one artist: rows joined end to end, a NaN between two replications
        values = wide.to_numpy(dtype=float)
        gap = np.full((values.shape[0], 1), np.nan)
        axis.plot(
            np.tile([*positions, np.nan], values.shape[0]),
            np.hstack([values, gap]).ravel(),
            color=PAIR_LINE_COLOUR,
            linewidth=0.7,
            zorder=1,
        )
        axis.boxplot(
            [wide[arm].dropna().to_numpy() for arm in arms],
            positions=positions,
            widths=0.5,
            showfliers=False,
            medianprops={"color": "black"},
        )
        # every arm's points in one artist (NaN: an arm with no value in that replication draws no point)
        axis.plot(
            np.tile(positions, values.shape[0]),
            values.ravel(),
            "o",
            markersize=3,
            color="#4477aa",
            zorder=3,
        )
        axis.set_xticks(positions, list(arms), rotation=20 if len(arms) > 3 else 0, fontsize="small")
        axis.set_title(kpi, fontsize="small")
        axis.grid(axis="y", alpha=0.3)
        if formatting.is_share(kpi):
            axis.yaxis.set_major_formatter(PercentFormatter(1.0))
        else:
            axis.yaxis.set_major_formatter(FuncFormatter(_axis_number))
    figure.suptitle("Per-replication values by arm (lines join runs on the same seed)")
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _axis_number(value: float, _position: float) -> str:
    """Tick labels with thousands separators (INR totals run to crores), never scientific notation."""
    return f"{value:,.0f}" if abs(value) >= 10_000 else f"{value:,.4g}"
