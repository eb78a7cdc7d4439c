"""Transit times on the road: the day-to-day noise of every lane and the scenario's lead-time changes.

Each lane kind has one table of multiplicative factors (mean 1, lognormal with the configured coefficient of
variation), drawn up front from its own stream for every dispatch day of the horizon, so a lane's noise
depends only on the seed: the same for every policy (common random numbers) and unchanged by a snapshot.
A scenario's lead-time change multiplies on top: supplier lanes by the supplier multiplier, road lanes by the
transit multiplier of the dispatch day.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from twin.domain.network import Network
from twin.engine.scenario_effects import ScenarioEffects
from twin.engine.streams import RandomStreams

FloatArray = npt.NDArray[np.float64]
#: DC -> dealer parts lanes and stockyard -> dealer vehicle lanes (one per dealer), plant -> stockyard trunks
#: (one per stockyard), supplier -> DC lanes (one per DC)
TRANSIT_LANE_KINDS = ("parts_lane", "vehicle_lane", "plant_yard", "supplier_lane")


class TransitTimes:
    def __init__(
        self,
        network: Network,
        transit_time_cv: float,
        horizon_days: int,
        streams: RandomStreams,
        effects: ScenarioEffects,
    ) -> None:
        self.effects = effects
        lanes = {
            "parts_lane": network.dealer_count,
            "vehicle_lane": network.dealer_count,
            "plant_yard": len(network.stockyards),
            "supplier_lane": len(network.parts_dcs),
        }
        sigma = float(np.sqrt(np.log1p(transit_time_cv**2)))
        self._noise: dict[str, FloatArray] = {
            kind: streams.get(f"transit:{kind}").lognormal(
                -sigma * sigma / 2.0, sigma, size=(horizon_days + 1, lanes[kind])
            )
            for kind in TRANSIT_LANE_KINDS
        }

    def _lead_time_factor(self, lane_kind: str, day: int) -> float:
        """Scenario lead-time changes: supplier lanes and road lanes have their own multipliers."""
        if lane_kind == "supplier_lane":
            return self.effects.supplier_multiplier(day)
        return self.effects.transit_multiplier(day)

    def factor(self, lane_kind: str, day: int, lane: int) -> float:
        """Multiplicative transit-time factor of a lane for a dispatch day: noise (mean 1, drawn per lane and
        day, the same for every policy) times any scenario lead-time change."""
        table = self._noise[lane_kind]
        return float(table[min(day, table.shape[0] - 1), lane]) * self._lead_time_factor(lane_kind, day)

    def factors(self, lane_kind: str, day: int) -> FloatArray:
        """Transit-time factors of every lane of a kind for one dispatch day."""
        table = self._noise[lane_kind]
        return table[min(day, table.shape[0] - 1)] * self._lead_time_factor(lane_kind, day)
