"""Run plots a planner would rather look at than read: fill rate and stock by region, age in yard, costs."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
import pandas as pd

AGE_BUCKET_DAYS = 15


def plot_regions(daily_by_region: pd.DataFrame, path: Path, warmup_end: object = None) -> Path:
    """Parts first-pick fill rate (7-day rolling), parts stock value and vehicle stock, per region; the
    warm-up (left out of every KPI) shaded up to ``warmup_end`` (a date)."""
    figure, axes = plt.subplots(3, 1, figsize=(10, 10), sharex=True, layout="constrained")
    for region, frame in daily_by_region.groupby("region"):
        frame = frame.sort_values("date")
        lines = frame["parts_demand_lines"].rolling(7, min_periods=1).sum()
        first_pick = frame["parts_first_pick_lines"].rolling(7, min_periods=1).sum()
        axes[0].plot(frame["date"], first_pick / lines.replace(0, np.nan), label=str(region))
        axes[1].plot(frame["date"], frame["parts_dealer_stock_value_inr"] / 1e7, label=str(region))
        axes[2].plot(frame["date"], frame["vehicle_dealer_stock"], label=str(region))
    axes[0].set_ylabel("parts first-pick fill rate\n(lines, 7-day rolling)")
    axes[1].set_ylabel("dealer parts stock\n(INR crore at cost)")
    axes[2].set_ylabel("vehicles in dealer yards")
    if warmup_end is not None and len(daily_by_region):
        start = daily_by_region["date"].min()
        for number, axis in enumerate(axes):
            axis.axvspan(
                start,
                warmup_end,
                color="#bbbbbb",
                alpha=0.3,
                label="warm-up (not in the KPIs)" if number == 0 else None,
            )
    axes[0].legend(loc="lower left", ncols=3, fontsize="small")
    for axis in axes:
        axis.grid(alpha=0.3)
    figure.suptitle("Fill rate and stock by region")
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_age_in_yard(
    ages_days: npt.NDArray[np.float64], path: Path, period_share_over_90d: float | None = None
) -> Path:
    """The age of every car in a dealer yard on the last day; the shares over 60 and 90 days are of that day,
    beside the KPI (the average over the measured period) when given."""
    figure, axis = plt.subplots(figsize=(8, 4.5), layout="constrained")
    top = max(
        AGE_BUCKET_DAYS * 8,
        float(np.ceil((ages_days.max() if ages_days.size else 0) / AGE_BUCKET_DAYS) * AGE_BUCKET_DAYS),
    )
    bins = np.arange(0, top + AGE_BUCKET_DAYS, AGE_BUCKET_DAYS)
    axis.hist(ages_days, bins=bins.tolist(), color="#4477aa", edgecolor="white")
    for threshold, height in ((60, 0.92), (90, 0.82)):
        axis.axvline(threshold, color="#cc3311", linestyle="--", linewidth=1)
        share = float((ages_days > threshold).mean()) if ages_days.size else 0.0
        axis.text(
            threshold + 2,
            axis.get_ylim()[1] * height,
            f"> {threshold} days on the last day: {share:.0%}",
            color="#cc3311",
        )
    axis.set_xlabel("age in dealer yard at the end of the run (days, 15-day buckets)")
    axis.set_ylabel("vehicles")
    title = "Age in yard on the last day of the run"
    if period_share_over_90d is not None:
        title += f"\n(KPI, average over the measured period: {period_share_over_90d:.1%} over 90 days)"
    axis.set_title(title)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def cost_bars(cost_breakdown: dict[str, float]) -> list[tuple[str, float]]:
    """(label, INR crore) per cost line that is not zero, smallest first (a horizontal bar chart draws the
    first at the bottom, so the largest cost is on top)."""
    names = sorted(
        (name for name in cost_breakdown if cost_breakdown[name]), key=lambda name: cost_breakdown[name]
    )
    return [(name.removesuffix("_inr").replace("_", " "), cost_breakdown[name] / 1e7) for name in names]


def plot_costs(cost_breakdown: dict[str, float], path: Path) -> Path:
    """Costs over the measured period, largest at the top; cost lines that were zero are left out."""
    bars = cost_bars(cost_breakdown)
    names, values = [label for label, _ in bars], [value for _, value in bars]
    figure, axis = plt.subplots(figsize=(8, 4.5), layout="constrained")
    axis.barh(names, values, color="#228833")
    axis.set_xlabel("INR crore over the measured period")
    axis.set_title("Cost breakdown")
    axis.grid(axis="x", alpha=0.3)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_alert_lead_times(lead_days: npt.NDArray[np.int64], unwarned_stockouts: int, path: Path) -> Path:
    """How long before each stock-out its alert came (the headline of the alerting loop), with the
    stock-outs nobody was warned of as a bar at the left."""
    figure, axis = plt.subplots(figsize=(8, 4.5), layout="constrained")
    top = int(max(lead_days.max(initial=0), 14))
    counts = np.bincount(lead_days, minlength=top + 1)[1:]
    axis.bar(np.arange(1, top + 1), counts, color="#4477aa", label="warned: days between alert and stock-out")
    axis.bar([-1], [unwarned_stockouts], color="#cc3311", label="not warned")
    if lead_days.size:
        median, p10 = float(np.median(lead_days)), float(np.percentile(lead_days, 10))
        axis.axvline(median, color="#222222", linestyle="--", linewidth=1)
        axis.text(median + 0.3, axis.get_ylim()[1] * 0.9, f"median {median:.0f} d, 10th pct {p10:.0f} d")
    axis.set_xlabel("alert lead time (days before the stock-out)")
    axis.set_ylabel("stock-outs")
    axis.set_title("Stock-out alerts: how far ahead they came")
    axis.legend(loc="upper right", fontsize="small")
    axis.grid(axis="y", alpha=0.3)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
