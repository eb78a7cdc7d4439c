"""Every experiment shipped in ``experiments/`` composes and runs in debug mode (2 replications per arm, inline).

A module of its own so pytest-xdist can run it beside the rest of ``test_compare.py`` (a module stays on one
worker, and these runs are about as long as the rest of that module together).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hydra.core.global_hydra import GlobalHydra

from tests.helpers.comparisons import DEBUG, DEBUG_HORIZON, EXPERIMENTS, compose_compare
from twin.cli import CONFIG_DIR
from twin.compare_cli import execute_comparison


@pytest.fixture(autouse=True)
def _clear_hydra() -> None:
    yield
    GlobalHydra.instance().clear()


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*on or after the horizon")  # debug's 21 days end before most windows
@pytest.mark.parametrize("experiment", sorted(path.stem for path in EXPERIMENTS.glob("*.yaml")))
def test_every_ready_experiment_runs_in_debug_mode(experiment: str, tmp_path: Path) -> None:
    # what --config-dir experiments does on the command line: both folders on one search path
    merged = tmp_path / "conf"
    shutil.copytree(CONFIG_DIR, merged)
    shutil.copy(EXPERIMENTS / f"{experiment}.yaml", merged)
    overrides = ["logger=none", "progress=false", "replications=2", "executor=inline"]
    compare = compose_compare(experiment, overrides, str(merged))
    compare.common_overrides = [*compare.common_overrides, *DEBUG, DEBUG_HORIZON]
    results, table = execute_comparison(compare, tmp_path / "out")
    assert len(results) == 2 * len(compare.arms)
    assert set(table["arm"]) == set(compare.arms) - {compare.baseline_arm}
