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


def plot_regions(daily_by_region: pd.DataFrame, path: Path) -> Path:
    """Parts first-pick fill rate (7-day rolling), parts stock value and vehicle stock, per region."""
    figure, axes = plt.subplots(3, 1, figsize=(10, 10), sharex=True)
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
    axes[0].legend(loc="lower left", ncols=3, fontsize="small")
    for axis in axes:
        axis.grid(alpha=0.3)
    figure.suptitle("Fill rate and stock by region")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_age_in_yard(ages_days: npt.NDArray[np.float64], path: Path) -> Path:
    figure, axis = plt.subplots(figsize=(8, 4.5))
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
            threshold + 2, axis.get_ylim()[1] * height, f"> {threshold} days: {share:.0%}", color="#cc3311"
        )
    axis.set_xlabel("age in dealer yard at the end of the run (days, 15-day buckets)")
    axis.set_ylabel("vehicles")
    axis.set_title("Age in yard")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_costs(cost_breakdown: dict[str, float], path: Path) -> Path:
    names = list(cost_breakdown)
    values = [cost_breakdown[name] / 1e7 for name in names]
    figure, axis = plt.subplots(figsize=(8, 4.5))
    axis.barh([name.removesuffix("_inr").replace("_", " ") for name in names], values, color="#228833")
    axis.set_xlabel("INR crore over the measured period")
    axis.set_title("Cost breakdown")
    axis.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_alert_lead_times(lead_days: npt.NDArray[np.int64], unwarned_stockouts: int, path: Path) -> Path:
    """How long before each stock-out its alert came (the headline of the alerting loop), with the
    stock-outs nobody was warned of as a bar at the left."""
    figure, axis = plt.subplots(figsize=(8, 4.5))
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
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
