"""A small run with every optional section, saved as a run folder (final state + resolved config): the
known state the read model (``twin.views``) and Clara's tests check their answers against."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from twin.cli import CONFIG_DIR
from twin.config import TwinConfig, validate
from twin.hydra_store import register_configs

register_configs()
#: the small network for 30 days, with alerts, parts and vehicle transfers, network orders and a campaign
#: scenario: every optional section of the state is written
RICH_OVERRIDES = (
    "network=small",
    "horizon_days=30",
    "warmup_days=5",
    "logger=none",
    "progress=false",
    "policy.alerts.enabled=true",
    "policy/transfers=rebalancing",
    "policy.transfers.vehicles=true",
    "policy/sourcing=network",
    "scenario=regional_campaign",
)


def run_folder(folder: Path, overrides: tuple[str, ...] = RICH_OVERRIDES) -> tuple[Path, Any]:
    """Run ``overrides`` and write ``folder/state`` and ``folder/resolved_config.yaml`` as twin-run does;
    returns the folder and the finished simulation (its engine objects are the ground truth)."""
    from twin.engine.simulation import Simulation

    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("config", overrides=list(overrides))
    config = OmegaConf.to_object(cfg)
    assert isinstance(config, TwinConfig)
    validate(config)
    with warnings.catch_warnings():  # the campaign scenario's events lie past this short horizon: expected
        warnings.simplefilter("ignore", UserWarning)
        simulation = Simulation(config)
        simulation.run()
    folder.mkdir(parents=True, exist_ok=True)
    simulation.snapshot().save(folder / "state")
    (folder / "resolved_config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    return folder, simulation


#: the debug network (8 dealers, 120 SKUs, 30 days) with the same optional sections: Clara's tests
DEBUG_OVERRIDES = (
    "debug=default",
    "logger=none",
    "progress=false",
    "policy.alerts.enabled=true",
    "policy/transfers=rebalancing",
    "policy.transfers.vehicles=true",
    "policy/sourcing=network",
    "scenario=regional_campaign",
)
_SHARED: dict[tuple[str, ...], Path] = {}


def shared_run_folder(base: Path, overrides: tuple[str, ...] = DEBUG_OVERRIDES) -> Path:
    """``run_folder`` once per process and overrides (test modules on one worker share it; nothing writes
    to it after)."""
    folder = _SHARED.get(overrides)
    if folder is None or not (folder / "state").is_dir():
        folder, _ = run_folder(base / f"shared-{len(_SHARED)}", overrides)
        _SHARED[overrides] = folder
    return folder
