"""The comparison plots carry the data: every replication's value as a point, the replications of one seed
joined across arms, and each difference with its interval in the colour of its significance (the plots draw
one artist per kind of mark, so a slip there would otherwise only show as a wrong picture)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from twin.plots import comparison
from twin.plots.comparison import NOT_SIGNIFICANT_COLOUR, SIGNIFICANT_COLOUR


@pytest.fixture
def kept_figures(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Figure]]:
    """The figures the plot functions close, kept open for the test to read."""
    kept: list[Figure] = []
    close = plt.close
    monkeypatch.setattr(comparison.plt, "close", kept.append)
    yield kept
    for figure in kept:
        close(figure)


def test_every_replication_is_a_point_and_each_seed_a_line_across_the_arms(
    tmp_path: Path, kept_figures: list[Figure]
) -> None:
    arms = ["base", "pool", "rebalance"]
    values = {"base": [1.0, 2.0, 3.0], "pool": [1.5, np.nan, 3.5], "rebalance": [0.5, 2.5, 4.0]}
    replications = pd.DataFrame(
        [
            {"arm": arm, "replication": replication, "stockouts": values[arm][replication]}
            for arm in arms
            for replication in range(3)
        ]
    )
    comparison.plot_distributions(replications, arms, ["stockouts"], tmp_path / "d.png")
    axis = kept_figures[0].axes[0]
    points = [line for line in axis.lines if line.get_marker() == "o"]
    assert len(points) == 1
    shown = np.asarray(points[0].get_ydata(), dtype=float)
    # the arm without a value in replication 1 has no point there
    assert sorted(shown[~np.isnan(shown)]) == sorted(v for arm in arms for v in values[arm] if v == v)
    (pairs,) = [line for line in axis.lines if line.get_color() == comparison.PAIR_LINE_COLOUR]
    joined = np.asarray(pairs.get_ydata(), dtype=float).reshape(3, len(arms) + 1)
    np.testing.assert_array_equal(joined[:, -1], np.nan)  # a break between two seeds' lines
    for replication in range(3):
        np.testing.assert_array_equal(joined[replication, :-1], [values[arm][replication] for arm in arms])


def test_each_difference_is_drawn_with_its_interval_in_the_colour_of_its_significance(
    tmp_path: Path, kept_figures: list[Figure]
) -> None:
    table = pd.DataFrame(
        {
            "kpi": ["stockouts", "stockouts", "freight_cost_inr"],
            "arm": ["pool", "rebalance", "pool"],
            "baseline_mean": [200.0, 200.0, 0.0],
            "difference_mean": [-20.0, 4.0, 10.0],
            "ci_low": [-30.0, -2.0, 5.0],
            "ci_high": [-10.0, 10.0, 15.0],
            "significant": [True, False, True],
        }
    )
    comparison.plot_difference_ci(table, ["stockouts", "freight_cost_inr"], tmp_path / "ci.png")
    axis = kept_figures[0].axes[0]
    marks = {
        line.get_color(): (list(line.get_xdata()), list(line.get_ydata()))
        for line in axis.lines
        if line.get_marker() == "o"
    }
    # % of the baseline mean: -20 of 200 is -10%, row 0; +4 of 200 is +2%, row 1
    assert marks[SIGNIFICANT_COLOUR] == ([pytest.approx(-10.0)], [0])
    assert marks[NOT_SIGNIFICANT_COLOUR] == ([pytest.approx(2.0)], [1])
    intervals = sorted(
        tuple(np.round(segment[:, 0], 6))
        for collection in axis.collections
        for segment in collection.get_segments()
    )
    assert intervals == [(-15.0, -5.0), (-1.0, 5.0)]
    # a zero baseline cannot be shown as a share of it: the row says so
    assert any("n/a" in text.get_text() for text in axis.texts)
