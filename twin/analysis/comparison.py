"""Paired comparison of policy arms run on common random numbers (CRN).

Replication r of every arm runs on the same seed, so arm and baseline see the same demand and lead-time
draws. The per-replication difference (arm minus baseline) cancels that shared noise, so a paired t interval
on it is far tighter than a comparison of two independent samples. This module owns that statistic only:
tables and plots are in ``twin.analysis.report``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from twin.errors import TwinError

COMPARISON_COLUMNS: tuple[str, ...] = (
    "kpi",
    "arm",
    "baseline_arm",
    "n_pairs",
    "baseline_mean",
    "arm_mean",
    "difference_mean",
    "difference_std",
    "ci_low",
    "ci_high",
    "relative_difference",
    "p_value",
    "significant",
    "variance_reduction",
)

TEXT_COLUMNS = frozenset({"kpi", "arm", "baseline_arm"})

VARIANCE_REDUCTION_COLUMNS: tuple[str, ...] = (
    "arm",
    "baseline_arm",
    "n_kpis",
    "median_variance_reduction",
    "min_variance_reduction",
    "max_variance_reduction",
    "median_replication_factor",
)


class ComparisonError(TwinError, ValueError):
    """The results cannot be compared as asked: unknown arm or KPI, duplicate or unpaired replications."""

    def __init__(self, field: str, value: Any, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}={value!r}: {reason}")


@dataclass(frozen=True)
class ArmResult:
    """One replication of one arm: the KPI summary the run produced and the seed it ran on."""

    arm: str
    replication: int
    seed: int
    summary: dict[str, float]


def arm_names(results: Sequence[ArmResult]) -> list[str]:
    """Arms in the order they first appear, so tables and plots follow the order the planner ran them."""
    return list(dict.fromkeys(result.arm for result in results))


def kpi_names(results: Sequence[ArmResult]) -> list[str]:
    """Every KPI in any summary, in first-seen order (a KPI missing from some runs is NaN there)."""
    return list(dict.fromkeys(name for result in results for name in result.summary))


def replications_frame(results: Sequence[ArmResult]) -> pd.DataFrame:
    """One row per run: arm, replication, seed and every KPI; the raw data behind every comparison."""
    kpis = kpi_names(results)
    rows = [
        {
            "arm": result.arm,
            "replication": result.replication,
            "seed": result.seed,
            **{name: float(result.summary.get(name, math.nan)) for name in kpis},
        }
        for result in results
    ]
    return pd.DataFrame(rows, columns=["arm", "replication", "seed", *kpis])


def compare_arms(
    results: Sequence[ArmResult],
    baseline_arm: str,
    alpha: float = 0.05,
    kpis: Sequence[str] | None = None,
    common_seeds: bool = True,
) -> pd.DataFrame:
    """Paired t comparison of every arm against the baseline arm, one row per (KPI, arm).

    With ``common_seeds=False`` (independent seeds per arm) the pairs are independent draws: the paired t
    interval is still valid, only wider, and the seeds are not checked.

    Runs are paired by replication number; a replication present in only one arm, or with a NaN KPI value in
    either, is left out of that pair set. Paired runs must share their seed: without common random numbers
    the paired interval would be too narrow. The table carries ``alpha`` and ``confidence`` in ``attrs``.
    """
    if not 0.0 < alpha < 1.0:
        raise ComparisonError("alpha", alpha, "must be strictly between 0 and 1")
    runs_by_arm = _runs_by_arm(results)
    if baseline_arm not in runs_by_arm:
        raise ComparisonError(
            "baseline_arm", baseline_arm, f"not among the arms in the results {tuple(runs_by_arm)}"
        )
    available_kpis = kpi_names(results)
    if kpis is None:
        kpis = available_kpis
    else:
        for kpi in kpis:
            if kpi not in available_kpis:
                raise ComparisonError("kpi", kpi, "is missing from every run summary")
    baseline_runs = runs_by_arm[baseline_arm]
    compared_arms = [arm for arm in runs_by_arm if arm != baseline_arm]
    for arm in compared_arms:
        if common_seeds:
            _check_common_seeds(baseline_arm, baseline_runs, arm, runs_by_arm[arm])

    rows: list[dict[str, Any]] = []
    for kpi in kpis:
        for arm in compared_arms:
            baseline_values, arm_values = _paired_values(baseline_runs, runs_by_arm[arm], kpi)
            rows.append(
                {
                    "kpi": kpi,
                    "arm": arm,
                    "baseline_arm": baseline_arm,
                    **paired_statistics(baseline_values, arm_values, alpha),
                }
            )
    table = pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))
    numeric = {column: "float64" for column in COMPARISON_COLUMNS if column not in TEXT_COLUMNS}
    table = table.astype({**numeric, "n_pairs": "int64", "significant": "bool"})
    table.attrs["alpha"] = alpha
    table.attrs["confidence"] = 1.0 - alpha
    return table


def paired_statistics(
    baseline_values: npt.NDArray[np.float64], arm_values: npt.NDArray[np.float64], alpha: float
) -> dict[str, Any]:
    """Paired t statistics of arm minus baseline over aligned, NaN-free replications.

    All differences exactly zero (identical runs under CRN, e.g. an A/A test) means no difference, p = 1.
    A constant non-zero difference is certain: its interval is that one value and p = 0.
    """
    pairs = len(baseline_values)
    difference = arm_values - baseline_values
    baseline_mean = float(baseline_values.mean()) if pairs else math.nan
    arm_mean = float(arm_values.mean()) if pairs else math.nan
    difference_mean = float(difference.mean()) if pairs else math.nan
    statistics: dict[str, Any] = {
        "n_pairs": pairs,
        "baseline_mean": baseline_mean,
        "arm_mean": arm_mean,
        "difference_mean": difference_mean,
        "difference_std": math.nan,
        "ci_low": math.nan,
        "ci_high": math.nan,
        "relative_difference": (
            difference_mean / abs(baseline_mean) if baseline_mean != 0 and pairs else math.nan
        ),
        "p_value": math.nan,
        "significant": False,
        "variance_reduction": math.nan,
    }
    if pairs < 2:
        return statistics

    difference_std = float(difference.std(ddof=1))
    independent_variance = float(baseline_values.var(ddof=1) + arm_values.var(ddof=1))
    statistics["difference_std"] = difference_std
    if independent_variance > 0:
        statistics["variance_reduction"] = 1.0 - difference_std**2 / independent_variance
    if difference_std == 0.0:
        statistics["ci_low"] = statistics["ci_high"] = difference_mean
        statistics["p_value"] = 1.0 if difference_mean == 0.0 else 0.0
    else:
        degrees_of_freedom = pairs - 1
        standard_error = difference_std / math.sqrt(pairs)
        critical_t = float(stats.t.ppf(1.0 - alpha / 2.0, degrees_of_freedom))
        t_statistic = difference_mean / standard_error
        statistics["ci_low"] = difference_mean - critical_t * standard_error
        statistics["ci_high"] = difference_mean + critical_t * standard_error
        statistics["p_value"] = float(2.0 * stats.t.sf(abs(t_statistic), degrees_of_freedom))
    statistics["significant"] = bool(statistics["p_value"] < alpha)
    return statistics


def a_a_false_positive_share(table: pd.DataFrame) -> float:
    """Share of testable rows (with a p-value) flagged significant; an A/A comparison should land near alpha.

    Rows without a p-value (fewer than two pairs) cannot be significant, so they would only dilute the share.
    """
    testable = table[table["p_value"].notna()]
    if testable.empty:
        return math.nan
    return float(testable["significant"].mean())


def crn_variance_reduction_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per arm, how much common random numbers shrank the variance of the difference, over KPIs.

    ``median_replication_factor`` = 1 / (1 - median variance reduction): how many times more replications
    independent seeds would need for the same interval width.
    """
    rows = []
    for arm, arm_rows in table.groupby("arm", sort=False):
        reductions = arm_rows["variance_reduction"].dropna()
        median = float(reductions.median()) if len(reductions) else math.nan
        rows.append(
            {
                "arm": arm,
                "baseline_arm": arm_rows["baseline_arm"].iloc[0],
                "n_kpis": len(reductions),
                "median_variance_reduction": median,
                "min_variance_reduction": float(reductions.min()) if len(reductions) else math.nan,
                "max_variance_reduction": float(reductions.max()) if len(reductions) else math.nan,
                "median_replication_factor": 1.0 / (1.0 - median) if median < 1.0 else math.inf,
            }
        )
    return pd.DataFrame(rows, columns=list(VARIANCE_REDUCTION_COLUMNS))


def _runs_by_arm(results: Sequence[ArmResult]) -> dict[str, dict[int, ArmResult]]:
    runs_by_arm: dict[str, dict[int, ArmResult]] = {}
    for result in results:
        runs = runs_by_arm.setdefault(result.arm, {})
        if result.replication in runs:
            raise ComparisonError("replication", result.replication, f"appears twice in arm {result.arm!r}")
        runs[result.replication] = result
    return runs_by_arm


def _check_common_seeds(
    baseline_arm: str, baseline_runs: dict[int, ArmResult], arm: str, arm_runs: dict[int, ArmResult]
) -> None:
    for replication in sorted(baseline_runs.keys() & arm_runs.keys()):
        baseline_seed, arm_seed = baseline_runs[replication].seed, arm_runs[replication].seed
        if baseline_seed != arm_seed:
            raise ComparisonError(
                "seed",
                arm_seed,
                f"replication {replication} of arm {arm!r} ran on seed {arm_seed} but baseline "
                f"{baseline_arm!r} on {baseline_seed}; pairing needs common random numbers",
            )


def _paired_values(
    baseline_runs: dict[int, ArmResult], arm_runs: dict[int, ArmResult], kpi: str
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    replications = sorted(baseline_runs.keys() & arm_runs.keys())
    baseline_values = np.array(
        [baseline_runs[replication].summary.get(kpi, math.nan) for replication in replications],
        dtype=np.float64,
    )
    arm_values = np.array(
        [arm_runs[replication].summary.get(kpi, math.nan) for replication in replications], dtype=np.float64
    )
    both_present = ~(np.isnan(baseline_values) | np.isnan(arm_values))
    return baseline_values[both_present], arm_values[both_present]
