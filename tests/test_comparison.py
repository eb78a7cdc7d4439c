"""Paired comparison of policy arms on common random numbers: the numbers a planner acts on.

Known answers come from scipy's paired t test; the A/A test checks the false-positive rate is alpha;
the report test checks every KPI reaches the Markdown a planner pastes into a memo.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from twin.analysis.comparison import (
    ArmResult,
    a_a_false_positive_share,
    compare_arms,
    crn_variance_reduction_summary,
)
from twin.analysis.report import terminal_table, write_report

FIRST_SEED = 1000


def arm_results(values: Mapping[str, Mapping[str, Sequence[float]]]) -> list[ArmResult]:
    """values[arm][kpi] = one value per replication; replication r of every arm runs on the same seed."""
    results = []
    for arm, by_kpi in values.items():
        replications = len(next(iter(by_kpi.values())))
        for replication in range(replications):
            summary = {kpi: float(series[replication]) for kpi, series in by_kpi.items()}
            results.append(ArmResult(arm, replication, FIRST_SEED + replication, summary))
    return results


def only_row(table: pd.DataFrame, kpi: str, arm: str) -> pd.Series:
    rows = table[(table["kpi"] == kpi) & (table["arm"] == arm)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_known_paired_dataset_gives_the_textbook_interval_and_p_value() -> None:
    baseline = np.array([10.0, 12.0, 9.0, 11.0, 13.0, 10.5])
    policy = np.array([11.0, 14.0, 9.5, 12.0, 15.0, 10.0])
    results = arm_results(
        {"base": {"vehicle_days_supply": baseline}, "policy": {"vehicle_days_supply": policy}}
    )

    row = only_row(compare_arms(results, "base", alpha=0.05), "vehicle_days_supply", "policy")

    reference = stats.ttest_rel(policy, baseline)
    reference_interval = reference.confidence_interval(confidence_level=0.95)
    difference = policy - baseline
    half_width = stats.t.ppf(0.975, df=5) * difference.std(ddof=1) / math.sqrt(6)
    assert row["n_pairs"] == 6
    assert row["baseline_mean"] == pytest.approx(baseline.mean())
    assert row["arm_mean"] == pytest.approx(policy.mean())
    assert row["difference_mean"] == pytest.approx(difference.mean())
    assert row["difference_std"] == pytest.approx(difference.std(ddof=1))
    assert row["ci_low"] == pytest.approx(reference_interval.low)
    assert row["ci_high"] == pytest.approx(reference_interval.high)
    assert row["ci_low"] == pytest.approx(difference.mean() - half_width)
    assert row["p_value"] == pytest.approx(reference.pvalue)
    assert row["relative_difference"] == pytest.approx(difference.mean() / baseline.mean())
    assert bool(row["significant"]) == (reference.pvalue < 0.05)


def test_a_stricter_alpha_widens_the_interval() -> None:
    rng = np.random.default_rng(7)
    baseline = rng.normal(50.0, 5.0, size=8)
    results = arm_results(
        {"base": {"kpi": baseline}, "policy": {"kpi": baseline + rng.normal(0.5, 1.0, size=8)}}
    )
    wide = only_row(compare_arms(results, "base", alpha=0.01), "kpi", "policy")
    narrow = only_row(compare_arms(results, "base", alpha=0.10), "kpi", "policy")
    assert wide["ci_high"] - wide["ci_low"] > narrow["ci_high"] - narrow["ci_low"]
    assert wide["p_value"] == pytest.approx(narrow["p_value"])


def test_a_shift_of_one_with_small_noise_is_significant_and_its_interval_covers_one() -> None:
    rng = np.random.default_rng(11)
    baseline = rng.normal(100.0, 10.0, size=10)  # large run-to-run noise, shared by both arms under CRN
    shifted = baseline + 1.0 + rng.normal(0.0, 0.1, size=10)
    results = arm_results({"base": {"parts_days_supply": baseline}, "shift": {"parts_days_supply": shifted}})

    row = only_row(compare_arms(results, "base"), "parts_days_supply", "shift")

    assert row["significant"]
    assert row["p_value"] < 1e-6
    assert row["ci_low"] <= 1.0 <= row["ci_high"]
    assert row["ci_high"] - row["ci_low"] < 0.3
    # the same shift on independent seeds would be lost in the noise: that is what CRN buys
    assert row["variance_reduction"] > 0.99


def test_identical_arms_under_crn_show_zero_difference_and_are_not_significant() -> None:
    rng = np.random.default_rng(3)
    summary = {
        "parts_fill_rate_line": rng.uniform(0.8, 0.95, 12),
        "freight_cost_inr": rng.normal(4e6, 3e5, 12),
    }
    results = arm_results({"A": summary, "A again": summary})

    table = compare_arms(results, "A")

    assert len(table) == 2
    assert (table["difference_mean"] == 0.0).all()
    assert (table["ci_low"] == 0.0).all() and (table["ci_high"] == 0.0).all()
    assert (table["p_value"] == 1.0).all()
    assert not table["significant"].any()
    assert a_a_false_positive_share(table) == 0.0


def test_a_constant_non_zero_difference_is_certain() -> None:
    baseline = np.array([3.0, 5.0, 4.0, 6.0])
    results = arm_results({"base": {"days_measured": baseline}, "longer": {"days_measured": baseline + 2.0}})
    row = only_row(compare_arms(results, "base"), "days_measured", "longer")
    assert row["ci_low"] == row["ci_high"] == 2.0
    assert row["p_value"] == 0.0
    assert row["significant"]


def test_a_a_false_positive_share_on_pure_noise_is_near_alpha() -> None:
    rng = np.random.default_rng(2024)
    kpi_count, replications = 400, 10
    noise = {
        arm: {f"noise_kpi_{index}": rng.normal(0.0, 1.0, replications) for index in range(kpi_count)}
        for arm in ("A", "A prime")
    }
    table = compare_arms(arm_results(noise), "A", alpha=0.05)

    assert len(table) == kpi_count
    assert 0.02 <= a_a_false_positive_share(table) <= 0.09


def test_variance_reduction_matches_its_definition_and_is_high_for_correlated_pairs() -> None:
    rng = np.random.default_rng(5)
    shared = rng.normal(0.0, 10.0, size=30)  # what common random numbers make both arms see
    baseline = 200.0 + shared + rng.normal(0.0, 1.0, size=30)
    policy = 200.5 + shared + rng.normal(0.0, 1.0, size=30)
    unrelated = 200.5 + rng.normal(0.0, 10.0, size=30)
    results = arm_results(
        {"base": {"kpi": baseline}, "policy": {"kpi": policy}, "unrelated": {"kpi": unrelated}}
    )

    table = compare_arms(results, "base")
    correlated = only_row(table, "kpi", "policy")
    independent = only_row(table, "kpi", "unrelated")

    expected = 1.0 - np.var(policy - baseline, ddof=1) / (np.var(baseline, ddof=1) + np.var(policy, ddof=1))
    assert correlated["variance_reduction"] == pytest.approx(expected)
    assert correlated["variance_reduction"] > 0.8
    # independent seeds: the reduction is a sample correlation of 30 pairs around 0 (sd about 0.18)
    assert abs(independent["variance_reduction"]) < 0.6

    summary = crn_variance_reduction_summary(table).set_index("arm")
    assert summary.loc["policy", "median_variance_reduction"] == pytest.approx(expected)
    assert summary.loc["policy", "median_replication_factor"] == pytest.approx(1.0 / (1.0 - expected))


def test_pairs_by_replication_and_drops_missing_values() -> None:
    results = [
        ArmResult("base", 0, 1, {"kpi": 1.0}),
        ArmResult("base", 1, 2, {"kpi": 2.0}),
        ArmResult("base", 2, 3, {"kpi": math.nan}),
        ArmResult("base", 3, 4, {"kpi": 4.0}),
        ArmResult("policy", 3, 4, {"kpi": 5.0}),  # listed out of order: pairing is by replication number
        ArmResult("policy", 0, 1, {"kpi": 2.0}),
        ArmResult("policy", 2, 3, {"kpi": 9.0}),  # baseline is NaN here: pair dropped
        ArmResult("policy", 7, 8, {"kpi": 99.0}),  # no baseline replication 7: ignored
    ]
    row = only_row(compare_arms(results, "base"), "kpi", "policy")
    assert row["n_pairs"] == 2
    assert row["baseline_mean"] == pytest.approx(2.5)
    assert row["arm_mean"] == pytest.approx(3.5)
    assert row["difference_mean"] == pytest.approx(1.0)


def test_fewer_than_two_pairs_gives_no_interval_and_no_significance() -> None:
    results = [ArmResult("base", 0, 1, {"kpi": 1.0}), ArmResult("policy", 0, 1, {"kpi": 3.0})]
    row = only_row(compare_arms(results, "base"), "kpi", "policy")
    assert row["n_pairs"] == 1
    assert row["difference_mean"] == 2.0
    assert math.isnan(row["ci_low"]) and math.isnan(row["ci_high"]) and math.isnan(row["p_value"])
    assert not row["significant"]


def test_zero_baseline_mean_has_no_relative_difference() -> None:
    results = arm_results({"base": {"lost": [0.0, 0.0, 0.0]}, "policy": {"lost": [1.0, 2.0, 0.0]}})
    assert math.isnan(only_row(compare_arms(results, "base"), "lost", "policy")["relative_difference"])


def test_missing_baseline_arm_raises_naming_it() -> None:
    results = arm_results({"base": {"kpi": [1.0, 2.0]}, "policy": {"kpi": [1.0, 2.0]}})
    with pytest.raises(ValueError, match="baseline_arm='status quo'"):
        compare_arms(results, "status quo")


def test_requested_kpi_missing_from_every_summary_raises_naming_it() -> None:
    results = arm_results({"base": {"kpi": [1.0, 2.0]}, "policy": {"kpi": [1.0, 2.0]}})
    with pytest.raises(ValueError, match="parts_fill_rate_typo"):
        compare_arms(results, "base", kpis=["kpi", "parts_fill_rate_typo"])


def test_runs_on_different_seeds_cannot_be_paired() -> None:
    results = [
        ArmResult("base", 0, 1, {"kpi": 1.0}),
        ArmResult("base", 1, 2, {"kpi": 2.0}),
        ArmResult("policy", 0, 1, {"kpi": 1.5}),
        ArmResult("policy", 1, 3, {"kpi": 2.5}),
    ]
    with pytest.raises(ValueError, match="replication 1 of arm 'policy'"):
        compare_arms(results, "base")


def test_terminal_table_reads_shares_as_percent_money_with_separators_and_marks_significance() -> None:
    rng = np.random.default_rng(13)
    fill_rate = rng.uniform(0.85, 0.9, 10)
    capital = rng.normal(4.5e8, 2e7, 10)
    results = arm_results(
        {
            "base": {"parts_fill_rate_line": fill_rate, "working_capital_inr": capital},
            "pool": {
                "parts_fill_rate_line": fill_rate + 0.02 + rng.normal(0, 0.001, 10),
                "working_capital_inr": capital + rng.normal(0, 1e6, 10),
            },
        }
    )
    table = compare_arms(results, "base")
    text = terminal_table(table)
    fill_line = next(line for line in text.splitlines() if line.startswith("parts_fill_rate_line"))
    capital_line = next(line for line in text.splitlines() if line.startswith("working_capital_inr"))

    assert f"{fill_rate.mean():.1%}" in fill_line
    assert "pp" in fill_line and fill_line.rstrip().endswith("*")
    assert f"{capital.mean():,.0f}" in capital_line
    assert not capital_line.rstrip().endswith("*")
    assert "1 more rows" in terminal_table(table, max_rows=1)


def test_write_report_writes_every_file_and_the_markdown_has_every_kpi_row(tmp_path: Path) -> None:
    rng = np.random.default_rng(17)
    kpis = ["parts_fill_rate_line", "vehicle_spec_availability", "freight_cost_inr", "parts_days_supply"]
    base = {kpi: rng.uniform(0.5, 1.0, 6) * (1e6 if kpi.endswith("_inr") else 1.0) for kpi in kpis}
    arms = {
        "base": base,
        "pool": {kpi: values * 1.02 for kpi, values in base.items()},
        "rebalance": {kpi: values + rng.normal(0, 0.01, 6) for kpi, values in base.items()},
    }
    results = arm_results(arms)
    table = compare_arms(results, "base")

    paths = write_report(
        table, results, tmp_path / "report", "Pooling trial", notes=["debug horizon"], headline_kpis=kpis[:3]
    )

    names = {path.name for path in paths.values()}
    assert names == {
        "comparison.md",
        "comparison.html",
        "comparison.csv",
        "replications.csv",
        "difference_ci.png",
        "distributions.png",
    }
    for path in paths.values():
        assert path.exists() and path.stat().st_size > 0
    for name in ("difference_ci.png", "distributions.png"):
        assert (tmp_path / "report" / name).read_bytes().startswith(b"\x89PNG")

    markdown = paths["markdown"].read_text(encoding="utf-8")
    assert markdown.startswith("# Pooling trial")
    assert "debug horizon" in markdown
    for kpi in kpis:
        for arm in ("pool", "rebalance"):
            assert any(line.startswith(f"| {kpi} | {arm} |") for line in markdown.splitlines())
    assert "Variance reduction" in markdown
    assert "data:image/png;base64," in paths["html"].read_text(encoding="utf-8")

    replications = pd.read_csv(paths["replications_csv"])
    assert len(replications) == len(results)
    assert list(replications.columns) == ["arm", "replication", "seed", *kpis]
    saved = pd.read_csv(paths["comparison_csv"])
    assert len(saved) == len(table) == len(kpis) * 2
    assert saved["p_value"].to_numpy() == pytest.approx(table["p_value"].to_numpy())


def test_write_report_rejects_an_unknown_headline_kpi(tmp_path: Path) -> None:
    results = arm_results({"base": {"kpi": [1.0, 2.0]}, "policy": {"kpi": [1.5, 2.0]}})
    with pytest.raises(ValueError, match="not_a_kpi"):
        write_report(compare_arms(results, "base"), results, tmp_path, "t", headline_kpis=["not_a_kpi"])


def test_a_kpi_only_the_arm_reports_gets_the_arms_mean_and_interval(tmp_path: Path) -> None:
    # the baseline has no transfers, so no "share of transfers used": there is no paired difference to show
    used = [0.70, 0.72, 0.74, 0.71, 0.73]
    results = arm_results(
        {
            "base": {"vehicle_sales": [10.0, 11, 12, 13, 14], "transfer_used_share": [math.nan] * 5},
            "transfers": {"vehicle_sales": [11.0, 12, 13, 14, 15], "transfer_used_share": used},
        }
    )
    paths = write_report(compare_arms(results, "base"), results, tmp_path, "t")
    markdown = paths["markdown"].read_text(encoding="utf-8")
    half_width = stats.t.ppf(0.975, 4) * np.std(used, ddof=1) / math.sqrt(5)
    expected = f"| transfer_used_share | transfers | 5 | 72.0% [{(0.72 - half_width):.1%}, {(0.72 + half_width):.1%}] |"
    assert "## KPIs the baseline does not report" in markdown
    assert expected in markdown.splitlines()
