"""Config groups compose and instantiate; bad overrides fail naming the key; a run leaves a full MLflow record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from twin.cli import CONFIG_DIR, execute, to_twin_config
from twin.config import TwinConfig
from twin.engine.simulation import build_component
from twin.errors import ConfigError
from twin.hydra_store import scenario_files

CONF = Path(CONFIG_DIR)


def _options(group: str) -> list[str]:
    if group == "scenario":  # the what-ifs live in scenarios/, registered as this group's options
        return [path.stem for path in scenario_files()]
    return sorted(path.stem for path in (CONF / group).glob("*.yaml"))


def _compose(overrides: list[str]) -> OmegaConf:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose(config_name="config", overrides=overrides)


GROUPS = [
    "network",
    "demand",
    "policy/replenishment",
    "policy/allocation",
    "policy/sourcing",
    "queries",
    "scenario",
    "logger",
    "debug",
]


#: options that cannot run without a setting of their own
OPTION_NEEDS = {
    ("policy/replenishment", "levels_table"): [
        f"policy.replenishment.levels_path={Path(__file__).resolve().parents[1]}"
        "/experiments/textbook/two_dealers/levels.csv"
    ]
}


@pytest.mark.parametrize(
    ("group", "option"), [(group, option) for group in GROUPS for option in _options(group)]
)
def test_every_group_option_composes_and_instantiates(group: str, option: str) -> None:
    config = to_twin_config(_compose([f"{group}={option}", *OPTION_NEEDS.get((group, option), [])]))
    assert isinstance(config, TwinConfig)
    for component in (
        config.demand,
        config.policy.replenishment,
        config.policy.allocation,
        config.policy.sourcing,
    ):
        built = build_component(component)
        assert type(built).__name__ == component._target_.rsplit(".", 1)[1]


@pytest.mark.slow
@pytest.mark.parametrize("experiment", _options("experiment"))
def test_every_experiment_runs_in_debug_mode(experiment: str, tmp_path: Path) -> None:
    cfg = _compose([f"experiment={experiment}", "debug=default", "logger=none", "progress=false"])
    summary = execute(cfg, tmp_path)
    assert summary["parts_demand_lines"] > 0
    assert 0.0 < summary["parts_fill_rate_line"] <= 1.0
    written = json.loads((tmp_path / "kpis.json").read_text())
    assert written["summary"]["vehicle_customers"] == summary["vehicle_customers"]
    for name in (
        "daily_kpis.parquet",
        "fill_rate_and_stock_by_region.png",
        "age_in_yard.png",
        "cost_breakdown.png",
        "resolved_config.yaml",
    ):
        assert (tmp_path / name).stat().st_size > 0


def test_negative_horizon_is_rejected_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"horizon_days=-5"):
        to_twin_config(_compose(["horizon_days=-5"]))


def test_non_numeric_dealer_count_is_rejected_naming_the_key() -> None:
    with pytest.raises(ConfigCompositionException, match=r"network\.dealers=abc") as raised:
        _compose(["network.dealers=abc"])
    assert "could not be converted to Integer" in str(raised.value.__cause__)


def test_unknown_key_is_rejected_naming_the_key() -> None:
    with pytest.raises(ConfigCompositionException, match=r"network\.not_a_setting"):
        _compose(["network.not_a_setting=3"])


@pytest.mark.slow
def test_a_run_logs_a_complete_mlflow_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mlflow_store: str
) -> None:
    from twin.io import tracking

    monkeypatch.chdir(tmp_path)
    uri = mlflow_store
    cfg = _compose(["debug=default", "progress=false", f"logger.tracking_uri={uri}", "seed=11"])
    summary = execute(cfg, tmp_path / "run")
    runs = tracking.search_runs(uri, "baseline")
    assert len(runs) == 1
    run = runs.iloc[0]
    assert run["status"] == "FINISHED"
    assert run["params.network.dealers"] == "8"
    assert run["params.seed"] == "11"
    assert run["tags.seed"] == "11"
    assert len(run["tags.git_commit"]) >= 7
    assert run["metrics.parts_fill_rate_line"] == pytest.approx(summary["parts_fill_rate_line"])
    assert run["metrics.vehicle_sales"] == pytest.approx(summary["vehicle_sales"])


@pytest.mark.slow
def test_unreachable_tracking_store_keeps_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _compose(["debug=default", "progress=false", "logger.tracking_uri=http://127.0.0.1:9/"])
    summary = execute(cfg, tmp_path)
    assert summary["parts_demand_lines"] > 0
    assert (tmp_path / "kpis.json").exists()
    assert "unreachable" in capsys.readouterr().out


@pytest.mark.slow
def test_multirun_with_the_basic_launcher_logs_every_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], mlflow_store: str
) -> None:
    from tests.helpers.entry_points import run_entry
    from twin.io import tracking

    monkeypatch.chdir(tmp_path)
    uri = mlflow_store
    arguments = [
        "-m",
        "seed=1,2",
        "debug=default",
        "progress=false",
        f"logger.tracking_uri={uri}",
        "logger.log_daily_metrics=true",
        f"hydra.sweep.dir={tmp_path / 'multirun'}",
    ]
    finished = run_entry("twin.cli:run_main", *arguments, monkeypatch=monkeypatch, capsys=capsys)
    assert finished.returncode == 0, finished.stderr[-2000:]
    runs = tracking.search_runs(uri, "baseline")
    assert sorted(runs["params.seed"]) == ["1", "2"]
    assert "metrics.daily.parts_demand_lines" in runs.columns
    assert sorted(path.name for path in (tmp_path / "multirun").iterdir() if path.is_dir()) == ["0", "1"]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*on or after the horizon")  # debug's 30 days end before most windows
@pytest.mark.parametrize("scenario", _options("scenario"))
def test_every_scenario_runs_in_debug_mode(scenario: str, tmp_path: Path) -> None:
    cfg = _compose([f"scenario={scenario}", "debug=default", "logger=none", "progress=false"])
    summary = execute(cfg, tmp_path)
    assert summary["vehicle_customers"] > 0
    assert (tmp_path / "kpis.json").exists()
