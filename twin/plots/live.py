"""Shadow mode's picture: how far the synced state's projections drift from what the feeds later say, and
how stale the sources are, day by day."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd


def drift_frame(path: Path) -> pd.DataFrame:
    """The numeric daily drift figures (one row per closed day)."""
    if not path.is_file():
        return pd.DataFrame({"day": []})
    with open(path, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    frame = pd.DataFrame(rows)
    numeric = frame.select_dtypes("number")
    return numeric if "day" in numeric else pd.DataFrame({"day": []})


def plot_drift(path: Path, image: Path) -> pd.DataFrame:
    """Drift of the 1- and 7-day projections against the naive last-known baseline, and staleness."""
    frame = drift_frame(path)
    figure, (parts_axis, vin_axis, stale_axis) = plt.subplots(
        3, 1, figsize=(9, 9), sharex=True, layout="constrained"
    )
    for horizon, style in ((1, "-"), (7, "--")):
        for prefix, colour, label in (("", "tab:blue", "projection"), ("naive_", "tab:grey", "last known")):
            column = f"h{horizon}_{prefix}parts_mae_units"
            if column in frame:
                parts_axis.plot(
                    frame["day"], frame[column], style, color=colour, label=f"{label}, {horizon} d"
                )
            column = f"h{horizon}_{prefix}vin_status_share_off"
            if column in frame:
                vin_axis.plot(
                    frame["day"], 100 * frame[column], style, color=colour, label=f"{label}, {horizon} d"
                )
    parts_axis.set_ylabel("parts on hand: MAE (units)")
    vin_axis.set_ylabel("VIN status wrong (%)")
    if "oldest_source_age_hours" in frame:
        stale_axis.plot(
            frame["day"], frame["oldest_source_age_hours"], color="tab:red", label="oldest source (h)"
        )
        stale_axis.plot(frame["day"], frame["stale_source_count"], color="tab:orange", label="stale sources")
    stale_axis.set_ylabel("staleness")
    stale_axis.set_xlabel("day")
    for axis in (parts_axis, vin_axis, stale_axis):
        if axis.lines:
            axis.legend(fontsize=8, loc="upper left")
        axis.grid(alpha=0.3)
    figure.suptitle("Shadow mode: projection drift and source staleness")
    figure.savefig(image, dpi=110)
    plt.close(figure)
    return frame
