"""A comparison whose arm fails keeps every finished replication and says which arm failed and why."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from twin.cli import CONFIG_DIR
from twin.compare_cli import execute_comparison
from twin.config import CompareConfig
from twin.errors import ConfigError


def _compare(arms: dict[str, list[str]], baseline: str = "base") -> CompareConfig:
    GlobalHydra.instance().clear()
    initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3")  # the arms compose inside it
    cfg = compose(config_name="compare", overrides=["logger=none", "progress=false", "executor=inline"])
    compare = OmegaConf.to_object(cfg)
    assert isinstance(compare, CompareConfig)
    compare.replications = 2
    compare.common_overrides = ["debug=default", "horizon_days=12", "warmup_days=2"]
    compare.arms = arms
    compare.baseline_arm = baseline
    return compare


@pytest.fixture(autouse=True)
def _clear_hydra() -> object:
    yield
    GlobalHydra.instance().clear()


ARMS = {
    "base": [],
    "richer": ["policy.replenishment.max_cover_days=50"],
    "broken": ["start_from_snapshot=/nonexistent/day_010"],
}


def test_a_failing_arm_is_left_out_and_the_rest_is_compared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results, table = execute_comparison(_compare(ARMS), tmp_path)

    assert sorted({result.arm for result in results}) == ["base", "richer"]
    assert set(table["arm"]) == {"richer"}
    failures = pd.read_csv(tmp_path / "failures.csv")
    assert list(failures["arm"]) == ["broken", "broken"]
    assert failures["error"].str.contains("SnapshotError").all()
    assert "arm 'broken' replication 0 (seed 1) failed" in capsys.readouterr().err
    assert len(pd.read_csv(tmp_path / "replications_finished.csv")) == 4


def test_a_failing_baseline_names_the_arm_and_keeps_what_finished(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"arms\.broken=.*the baseline arm failed") as raised:
        execute_comparison(_compare(ARMS, baseline="broken"), tmp_path)
    assert "replications_finished.csv" in str(raised.value)
    finished = pd.read_csv(tmp_path / "replications_finished.csv")
    assert sorted(set(finished["arm"])) == ["base", "richer"]


def test_a_comparison_with_only_its_baseline_left_fails_naming_the_failed_arm(tmp_path: Path) -> None:
    """It used to write an empty comparison and exit 0, as if the arms had been compared."""
    arms = {"base": ARMS["base"], "broken": ARMS["broken"]}
    with pytest.raises(ConfigError, match=r"arms\.broken=.*nothing is left to compare"):
        execute_comparison(_compare(arms), tmp_path)
    assert set(pd.read_csv(tmp_path / "replications_finished.csv")["arm"]) == {"base"}


def test_an_a_a_on_independent_seeds_gives_every_arm_its_own_seeds_and_reports_the_flagged_share(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    compare = _compare({"base": [], "copy": []})
    compare.independent_seeds = True
    compare.replications = 3
    results, table = execute_comparison(compare, tmp_path)

    seeds = {arm: sorted(r.seed for r in results if r.arm == arm) for arm in ("base", "copy")}
    assert seeds == {"base": [1, 2, 3], "copy": [100_001, 100_002, 100_003]}
    assert (table["difference_mean"] != 0).any()  # independent draws: the identical arms do differ
    assert "KPI differences flagged at alpha=0.05" in capsys.readouterr().out
