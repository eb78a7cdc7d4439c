"""twin-compare: arms on common random numbers, paired CIs, reports, MLflow parent/child runs, executors."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from tests.helpers.comparisons import DEBUG, EXPERIMENTS, compose_compare
from twin.analysis.comparison import ArmResult
from twin.cli import CONFIG_DIR
from twin.compare_cli import arm_configs, execute_comparison, plan_jobs
from twin.config import CompareConfig, LoggerConfig
from twin.errors import ConfigError
from twin.runner import run_jobs


@pytest.fixture(autouse=True)
def _clear_hydra() -> None:
    yield
    GlobalHydra.instance().clear()


def _small(**changes: object) -> CompareConfig:
    compare = compose_compare(
        overrides=["logger=none", "progress=false", "replications=3", "executor=inline"]
    )
    compare.common_overrides = list(DEBUG)
    for key, value in changes.items():
        setattr(compare, key, value)
    return compare


@pytest.fixture(scope="module")
def small_comparison(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[ArmResult], pd.DataFrame, Path]:
    """The default comparison (baseline vs richer min/max) on debug worlds, 3 replications, run inline once:
    its report is checked below, and its results are what the process pool and Ray must reproduce."""
    output_dir = tmp_path_factory.mktemp("small_comparison")
    results, table = execute_comparison(_small(), output_dir)
    GlobalHydra.instance().clear()
    return results, table, output_dir


@pytest.mark.slow
def test_richer_min_max_is_reported_as_more_stock_with_a_paired_interval(
    small_comparison: tuple[list[ArmResult], pd.DataFrame, Path],
) -> None:
    results, table, tmp_path = small_comparison
    assert len(results) == 6
    stock = table[(table["kpi"] == "parts_dealer_stock_value_inr") & (table["arm"] == "richer_minmax")].iloc[
        0
    ]
    assert stock["significant"] and stock["ci_low"] > 0
    demand = table[(table["kpi"] == "parts_demand_lines") & (table["arm"] == "richer_minmax")].iloc[0]
    assert demand["difference_mean"] == 0, "common random numbers: both arms see the same demand"
    for name in (
        "comparison.md",
        "comparison.html",
        "comparison.csv",
        "replications.csv",
        "difference_ci.png",
        "distributions.png",
    ):
        assert (tmp_path / name).stat().st_size > 0


@pytest.mark.slow
def test_an_a_a_comparison_finds_no_difference(tmp_path: Path) -> None:
    compare = _small(arms={"baseline": [], "baseline_again": []})
    _, table = execute_comparison(compare, tmp_path)
    assert not table["significant"].any()
    assert (table["difference_mean"] == 0).all()


@pytest.mark.slow
def test_the_process_pool_returns_what_inline_runs_return(
    small_comparison: tuple[list[ArmResult], pd.DataFrame, Path],
) -> None:
    inline, _, _ = small_comparison  # executor=inline: run_jobs(jobs, "inline") on the same jobs
    compare = _small()
    GlobalHydra.instance().clear()
    initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3")
    jobs = plan_jobs(compare, arm_configs(compare))
    assert len(jobs) == len(inline)
    pooled = run_jobs(jobs, "process", workers=2)
    assert [(r.arm, r.replication, r.seed, r.summary) for r in pooled] == [
        (r.arm, r.replication, r.seed, r.summary) for r in inline
    ]


@pytest.mark.slow
def test_a_comparison_logs_a_parent_with_one_child_per_replication(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mlflow_store: str
) -> None:
    from twin.io import tracking

    monkeypatch.chdir(tmp_path)
    uri = mlflow_store
    compare = _small(logger=LoggerConfig(kind="mlflow", tracking_uri=uri))
    execute_comparison(compare, tmp_path / "out")
    runs = tracking.search_runs(uri, compare.name)
    parents = runs[runs["tags.kind"] == "comparison"]
    children = runs[runs["tags.kind"] == "replication"]
    assert len(parents) == 1 and len(children) == 6
    assert set(children["tags.mlflow.parentRunId"]) == {parents.iloc[0]["run_id"]}
    assert set(children["tags.arm"]) == {"baseline", "richer_minmax"}
    assert "metrics.difference.richer_minmax.parts_fill_rate_line" in parents.columns

    spec = importlib.util.spec_from_file_location("plot_from_mlflow", EXPERIMENTS / "plot_from_mlflow.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main([compare.name, "--tracking-uri", uri, "--out", str(tmp_path / "redrawn")]) == 0
    assert "parts_fill_rate_line" in (tmp_path / "redrawn" / "comparison.md").read_text()


def test_a_baseline_arm_that_is_not_an_arm_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"baseline_arm='nope'"):
        execute_comparison(_small(baseline_arm="nope"), tmp_path)


def test_an_arm_that_does_not_compose_is_rejected_naming_it(tmp_path: Path) -> None:
    compare = _small(arms={"baseline": [], "broken": ["policy.replenishment.no_such_knob=3"]})
    with pytest.raises(ConfigError, match=r"arms\.broken"):
        execute_comparison(compare, tmp_path)


def test_an_arm_that_sets_its_own_seed_is_rejected(tmp_path: Path) -> None:
    compare = _small(arms={"baseline": [], "seeded": ["seed=9"]})
    with pytest.raises(ConfigError, match=r"arms\.seeded='seed=9'"):
        execute_comparison(compare, tmp_path)
