"""Composing twin-compare configs in tests: the compare schema from conf/ (or a merged folder), debug mode."""

from __future__ import annotations

from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from twin.cli import CONFIG_DIR
from twin.config import CompareConfig

EXPERIMENTS = Path(CONFIG_DIR).parent / "experiments"
DEBUG = ["debug=default"]
#: debug mode's horizon as a value override: an experiment's own ``horizon_days=...`` is a value override too
#: and outranks the debug group, so without this "debug mode" would run the experiment's full horizon
DEBUG_HORIZON = f"horizon_days={OmegaConf.load(Path(CONFIG_DIR) / 'debug' / 'default.yaml').horizon_days}"


def compose_compare(
    config_name: str = "compare", overrides: list[str] | None = None, config_dir: str = CONFIG_DIR
) -> CompareConfig:
    GlobalHydra.instance().clear()
    initialize_config_dir(config_dir=config_dir, version_base="1.3")
    cfg = compose(config_name=config_name, overrides=overrides or [])
    compare = OmegaConf.to_object(cfg)
    assert isinstance(compare, CompareConfig)
    return compare
