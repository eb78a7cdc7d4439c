"""Registers the typed config schema with Hydra's ConfigStore so ``conf/`` YAML is validated against it.

A policy family whose options are different classes (``twin.config.POLICY_OPTIONS``) has each option's class
stored in its group as ``<option>_schema``; ``conf/policy/<family>/<option>.yaml`` lists it in its defaults, so
a key the chosen policy does not take fails composition ("Key ... not in ..."). In the run schema those
families are left missing (``???``) for the group option to fill: OmegaConf merges a dataclass node only into
the same class or a subclass, and the Python default (``TwinConfig()``'s baseline option) would refuse the
others.
"""

from __future__ import annotations

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, OmegaConf

from twin.config import POLICY_OPTIONS, CompareConfig, TwinConfig

SCHEMA_NAME = "twin_schema"
COMPARE_SCHEMA_NAME = "compare_schema"


def register_configs() -> None:
    store = ConfigStore.instance()
    schema = OmegaConf.structured(TwinConfig)
    for family, options in POLICY_OPTIONS.items():
        schema.policy[family] = MISSING
        for option, settings in options.items():
            store.store(group=f"policy/{family}", name=f"{option}_schema", node=settings)
    store.store(name=SCHEMA_NAME, node=schema)
    store.store(name=COMPARE_SCHEMA_NAME, node=CompareConfig)
