"""Registers the typed config schema with Hydra's ConfigStore so ``conf/`` YAML is validated against it."""

from __future__ import annotations

from hydra.core.config_store import ConfigStore

from twin.config import TwinConfig

SCHEMA_NAME = "twin_schema"


def register_configs() -> None:
    ConfigStore.instance().store(name=SCHEMA_NAME, node=TwinConfig)
