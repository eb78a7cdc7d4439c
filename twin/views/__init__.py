"""The read side of the twin: one network state decoded into per-dealer and network-wide views.

``NetworkView`` is what Clara and the web app read (pure: no SimPy); ``load_view`` finds and loads a state
(a state folder, a run folder, a shadow's live state, or the latest run) and builds the view.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twin.views.errors import UnknownDealerError, ViewError, ViewLoadError
from twin.views.network_view import ALLOCATION_STEPS, NetworkView
from twin.views.records import DealerSummary, Statement, VehicleRecord

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "ALLOCATION_STEPS",
    "DealerSummary",
    "NetworkView",
    "Statement",
    "UnknownDealerError",
    "VehicleRecord",
    "ViewError",
    "ViewLoadError",
    "load_view",
]


def load_view(path: str | Path | None = None, **options: Any) -> NetworkView:
    """Load a view (see ``twin.views.loading.load_view``); imported lazily: loading may need the engine."""
    from twin.views.loading import load_view as load

    return load(path, **options)
