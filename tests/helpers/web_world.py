"""The web app's test state: a small-network run folder whose final state (day 30) has rebalancing
recommendations waiting for approval, plus a snapshot of day 22 (so the planners' day slider has two days).

Made once per test session and shared by the pytest-xdist workers (a file lock; the first builds it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from filelock import FileLock
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from twin.cli import CONFIG_DIR
from twin.config import TwinConfig, validate
from twin.hydra_store import register_configs

register_configs()
#: approvals wait a lognormal time, so a state at the start of day 30 still holds some (seed 1)
WEB_OVERRIDES = (
    "network=small",
    "horizon_days=30",
    "warmup_days=5",
    "logger=none",
    "progress=false",
    "policy.alerts.enabled=true",
    "policy/transfers=rebalancing",
)
SNAPSHOT_DAY = 22


def _build(folder: Path) -> None:
    from twin.engine.simulation import Simulation

    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("config", overrides=list(WEB_OVERRIDES))
    config = OmegaConf.to_object(cfg)
    assert isinstance(config, TwinConfig)
    validate(config)
    simulation = Simulation(config)
    simulation.run(snapshot_days=[SNAPSHOT_DAY], snapshot_dir=folder / "snapshots")
    simulation.snapshot().save(folder / "state")
    (folder / "resolved_config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))


def web_run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared run folder (built by whichever worker asks first). Tests must not write into it: copy it."""
    # under pytest-xdist every worker has its own base temp folder inside the session's: share that one
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = shared / "web_run"
    with FileLock(str(shared / "web_run.lock")):
        if not (folder / "state" / "meta.json").is_file():
            _build(folder)
    return folder
