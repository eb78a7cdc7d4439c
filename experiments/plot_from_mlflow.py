"""Read a comparison back from MLflow into pandas and redraw its report (tables and plots).

    .venv/bin/python experiments/plot_from_mlflow.py minmax_cover_small            # the latest comparison
    .venv/bin/python experiments/plot_from_mlflow.py minmax_cover_small --out reports/minmax --parent RUN_ID
    .venv/bin/python experiments/plot_from_mlflow.py NAME --tracking-uri http://127.0.0.1:5000

The child runs (one per arm x replication) carry the arm, the seed and every summary KPI; the statistics
are recomputed from them, so the report does not depend on the machine that ran the comparison.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from twin.analysis.comparison import ArmResult, compare_arms
from twin.analysis.report import terminal_table, write_report
from twin.io import tracking


def load_comparison(
    tracking_uri: str, experiment: str, parent_run_id: str = ""
) -> tuple[pd.DataFrame, list[ArmResult]]:
    """The parent run and its replications as ArmResults (latest parent unless one is named)."""
    runs = tracking.search_runs(tracking_uri, experiment)
    if runs.empty:
        raise SystemExit(f"no runs in experiment {experiment!r} at {tracking_uri}")
    parents = runs[runs.get("tags.kind") == "comparison"].sort_values("start_time", ascending=False)
    if parent_run_id:
        parents = parents[parents["run_id"] == parent_run_id]
    if parents.empty:
        raise SystemExit(f"no comparison run {parent_run_id or ''} in experiment {experiment!r}")
    parent = parents.iloc[0]
    children = runs[runs.get("tags.mlflow.parentRunId") == parent["run_id"]]
    metric_columns = [column for column in children.columns if column.startswith("metrics.")]
    results = [
        ArmResult(
            arm=str(row["tags.arm"]),
            replication=int(row["params.replication"]),
            seed=int(row["tags.seed"]),
            summary={column.removeprefix("metrics."): float(row[column]) for column in metric_columns},
        )
        for _, row in children.iterrows()
    ]
    return parents.iloc[[0]], results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", help="the comparison's name (its MLflow experiment)")
    parser.add_argument(
        "--tracking-uri", default="", help="default: $MLFLOW_TRACKING_URI or sqlite:///<cwd>/mlflow.db"
    )
    parser.add_argument("--parent", default="", help="parent run id (default: the latest comparison)")
    parser.add_argument("--out", default="", help="report folder (default: reports/<experiment>)")
    arguments = parser.parse_args(argv)
    uri = tracking.resolve_tracking_uri(arguments.tracking_uri)
    parent, results = load_comparison(uri, arguments.experiment, arguments.parent)
    baseline_arm = str(parent.iloc[0]["params.baseline_arm"])
    table = compare_arms(results, baseline_arm)
    print(terminal_table(table))
    folder = Path(arguments.out or Path("reports") / arguments.experiment)
    paths = write_report(table, results, folder, title=f"Comparison: {arguments.experiment} (from MLflow)")
    print(f"\nreport: {paths['markdown']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
