"""Registers the typed config schema with Hydra's ConfigStore so ``conf/`` YAML is validated against it."""

from __future__ import annotations

from hydra.core.config_store import ConfigStore

from twin.config import CompareConfig, TwinConfig

SCHEMA_NAME = "twin_schema"
COMPARE_SCHEMA_NAME = "compare_schema"


def register_configs() -> None:
    store = ConfigStore.instance()
    store.store(name=SCHEMA_NAME, node=TwinConfig)
    store.store(name=COMPARE_SCHEMA_NAME, node=CompareConfig)
