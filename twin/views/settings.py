"""The run settings a view needs, read from the state's recorded run identity (``NetworkState.run``).

A state records the config sections that shape its future (policy, scenario, demand, operations,
settlement) as plain JSON. The view reads the few settings it answers with (lead times, the network
policy's search radius, the scheme names) from there, and falls back to the setting's declared default in
``twin.config`` when a state does not carry it (a live state converted from feeds, an older run), so a
default is declared once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from twin.config import (
    AlertConfig,
    NetworkSearchConfig,
    OperationsConfig,
    TransferConfig,
    TwinConfig,
)


def declared_default(settings_class: type, name: str) -> Any:
    """The default of a field of a ``twin.config`` dataclass (its factory's value for lists)."""
    for entry in dataclasses.fields(settings_class):
        if entry.name == name:
            if entry.default is not dataclasses.MISSING:
                return entry.default
            if entry.default_factory is not dataclasses.MISSING:
                return entry.default_factory()
    raise KeyError(f"{settings_class.__name__} has no setting {name!r}")


class RunSettings:
    """Read-only access to ``state.run``: ``setting(("policy", "alerts", "horizons_days"), AlertConfig)``."""

    def __init__(self, run: Mapping[str, Any]) -> None:
        self.run = run
        self.config: Mapping[str, Any] = run.get("config", {}) or {}

    def setting(self, path: Sequence[str], settings_class: type) -> Any:
        node: Any = self.config
        for key in path:
            if not isinstance(node, Mapping) or key not in node:
                return declared_default(settings_class, path[-1])
            node = node[key]
        return node

    @property
    def start_date(self) -> dt.date:
        return dt.date.fromisoformat(
            str(self.run.get("start_date") or declared_default(TwinConfig, "start_date"))
        )

    @property
    def network_name(self) -> str:
        return str(self.run.get("network_name", ""))

    def operations(self, name: str) -> float:
        return float(self.setting(("operations", name), OperationsConfig))

    def alert_horizons_days(self) -> list[int]:
        return [int(day) for day in self.setting(("policy", "alerts", "horizons_days"), AlertConfig)]

    def network_search(self, name: str) -> Any:
        """A setting of Atlas's network search: the run's when its sourcing searches the network, else the
        declared default (the policy a network search would run with)."""
        sourcing = self.config.get("policy", {}).get("sourcing", {})
        if isinstance(sourcing, Mapping) and name in sourcing:
            return sourcing[name]
        return declared_default(NetworkSearchConfig, name)

    def transfers(self, name: str) -> Any:
        return self.setting(("policy", "transfers", name), TransferConfig)

    def incentive_scheme_names(self) -> list[str]:
        schemes = self.config.get("settlement", {}).get("incentive_schemes")
        if schemes is None:
            from twin.config import SettlementConfig

            schemes = [
                dataclasses.asdict(scheme)
                for scheme in declared_default(SettlementConfig, "incentive_schemes")
            ]
        return [str(scheme.get("name", "")) or f"scheme {index + 1}" for index, scheme in enumerate(schemes)]

    def campaigns(self) -> list[Mapping[str, Any]]:
        campaigns = self.config.get("scenario", {}).get("campaigns", [])
        return [campaign for campaign in campaigns if isinstance(campaign, Mapping)]
