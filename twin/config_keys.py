"""Every key of a composed config must be a field of its schema: a typo fails, with a "did you mean".

Hydra refuses an unknown key given as ``key=value``, but ``+key=value`` (which Hydra's own error hint
suggests) adds it to the composed config, and turning that into the typed ``TwinConfig`` drops it: the run
would silently ignore the user's setting. This walks the composed config against the dataclass each node is
typed with and raises ``ConfigError`` naming the full key.
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from twin.errors import ConfigError


def check_known_keys(config: DictConfig, path: str = "") -> None:
    """Raise for the first key that no field of its node's dataclass declares."""
    schema = OmegaConf.get_type(config)
    declared = (
        {field.name for field in dataclasses.fields(schema)}
        if isinstance(schema, type) and dataclasses.is_dataclass(schema)
        else None
    )
    for key in config:
        name = str(key)
        full = f"{path}{name}"
        if declared is not None and name not in declared:
            raise ConfigError(full, _value(config, name), _unknown_key_reason(name, declared))
        child = config._get_node(name)  # the node itself: no interpolation is resolved here
        if isinstance(child, DictConfig):
            check_known_keys(child, f"{full}.")
        elif isinstance(child, ListConfig):
            for index, item in enumerate(child):
                if isinstance(item, DictConfig):
                    check_known_keys(item, f"{full}[{index}].")


def _value(config: DictConfig, name: str) -> Any:
    try:
        value = OmegaConf.to_container(config[name]) if OmegaConf.is_config(config[name]) else config[name]
    except Exception:  # an interpolation that does not resolve: show the key only
        return "?"
    return value


def _unknown_key_reason(name: str, declared: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(declared), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(match) for match in close)}?" if close else ""
    return f"is not a setting here{hint} (known: {', '.join(sorted(name for name in declared if not name.startswith('_')))})"
