"""Building things from config, with no SimPy: the network's world from its master data, and a policy or
model from its ``_target_`` settings. The engine and a live service (shadow mode) build the same objects.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from dataclasses import asdict, is_dataclass
from typing import Any

from twin.config import TwinConfig
from twin.domain.masterdata import MasterData
from twin.domain.network_generator import generate_master_data
from twin.domain.world import World, build_world
from twin.errors import ConfigError


def load_world(config: TwinConfig) -> World:
    network = config.network
    master = (
        MasterData.read(network.master_data_dir) if network.master_data_dir else generate_master_data(network)
    )
    return build_world(master, network.road_factor)


def build_component(spec: Any, context: dict[str, Any] | None = None, key: str = "", **extra: Any) -> Any:
    """Instantiate ``{"_target_": "module.Class", **settings}`` (a dataclass, dict or DictConfig) under its
    config ``key`` (e.g. ``policy.replenishment``), strictly: a setting the class does not take is a
    ``ConfigError`` naming ``key.setting``, never dropped. Fields a settings class lists in
    ``engine_settings`` are the engine's, not the constructor's. ``context`` values (facts of the run, e.g.
    margins) go to the factories whose signature names them; ``extra`` always goes. ``_partial_: true``
    returns a ``functools.partial`` for the caller to complete."""
    prefix = f"{key}." if key else ""
    engine_settings = getattr(type(spec), "engine_settings", ())
    if is_dataclass(spec) and not isinstance(spec, type):
        fields = asdict(spec)
        # an attribute set on the dataclass that is not one of its fields would be lost by asdict
        for name in sorted(set(vars(spec)) - set(fields)):
            raise ConfigError(
                f"{prefix}{name}", vars(spec)[name], f"is not a setting of {type(spec).__name__}"
            )
    else:
        fields = {str(name): value for name, value in dict(spec).items()}
    target = fields.pop("_target_", None)
    if not target or "." not in str(target):
        raise ConfigError(f"{prefix}_target_", target, "must name a class as module.ClassName")
    module_name, _, class_name = str(target).rpartition(".")
    try:
        factory = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as error:
        raise ConfigError(f"{prefix}_target_", target, f"cannot be imported ({error})") from None
    partial = bool(fields.pop("_partial_", False))
    for name in engine_settings:
        fields.pop(name, None)
    parameters = inspect.signature(factory).parameters
    if not any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters.values()):
        for name in fields:
            if name not in parameters:
                raise ConfigError(
                    f"{prefix}{name}",
                    fields[name],
                    f"is not a setting of {target} (it takes {', '.join(parameters) or 'none'})",
                )
    fields |= {name: value for name, value in (context or {}).items() if name in parameters}
    fields.update(extra)
    if partial:
        return functools.partial(factory, **fields)
    try:
        return factory(**fields)
    except TypeError as error:
        raise ConfigError(f"{prefix}_target_", target, f"does not accept these settings ({error})") from None
