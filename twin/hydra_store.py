"""Registers the typed config schema with Hydra's ConfigStore so ``conf/`` YAML is validated against it.

A policy family whose options are different classes (``twin.config.POLICY_OPTIONS``) has each option's class
stored in its group as ``<option>_schema``; ``conf/policy/<family>/<option>.yaml`` lists it in its defaults, so
a key the chosen policy does not take fails composition ("Key ... not in ..."). In the run schema those
families are left missing (``???``) for the group option to fill: OmegaConf merges a dataclass node only into
the same class or a subclass, and the Python default (``TwinConfig()``'s baseline option) would refuse the
others.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, OmegaConf

from twin.config import POLICY_OPTIONS, CompareConfig, TwinConfig
from twin.live.settings import FeedRunConfig, ShadowRunConfig

SCHEMA_NAME = "twin_schema"
COMPARE_SCHEMA_NAME = "compare_schema"
#: twin-feed and twin-shadow: the twin's config plus their own sections
LIVE_SCHEMAS = {"feed_schema": FeedRunConfig, "shadow_schema": ShadowRunConfig}


#: the what-if scenarios: one YAML file each, the options of the ``scenario`` config group
SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"

#: this process's run-folder suffix: two runs started in the same second never share a folder
RUN_SUFFIX = f"{os.getpid() % 0x10000:04x}{secrets.token_hex(2)}"


#: the scenario files (path, modification time) the store last took: registering is ~0.3 s of OmegaConf work
#: and several entry points and loaders ask for it, so a process does it again only when scenarios changed
_registered_scenarios: tuple[tuple[Path, int], ...] | None = None


def register_configs() -> None:
    global _registered_scenarios
    scenarios = tuple((path, path.stat().st_mtime_ns) for path in scenario_files())
    if scenarios == _registered_scenarios:
        return
    OmegaConf.register_new_resolver("run_suffix", lambda: RUN_SUFFIX, replace=True)
    store = ConfigStore.instance()
    for name, schema_class in {SCHEMA_NAME: TwinConfig, **LIVE_SCHEMAS}.items():
        schema = OmegaConf.structured(schema_class)
        for family in POLICY_OPTIONS:
            schema.policy[family] = MISSING
        store.store(name=name, node=schema)
    for family, options in POLICY_OPTIONS.items():
        for option, settings in options.items():
            store.store(group=f"policy/{family}", name=f"{option}_schema", node=settings)
    for path in scenario_files():
        store.store(group="scenario", name=path.stem, node=OmegaConf.load(path))
    store.store(name=COMPARE_SCHEMA_NAME, node=CompareConfig)
    _registered_scenarios = scenarios


def scenario_files() -> list[Path]:
    """Every scenario file; a planner adds a what-if by dropping a YAML file into ``scenarios/``."""
    return sorted(SCENARIO_DIR.glob("*.yaml"))
