"""The parts policies' picture of the network: the read-only ``PartsView`` a replenishment or rebalancing
decision is taken on, assembled from the live parts arrays, the DMS history and the network's lead times.

The view is rebuilt on every call (it is cheap: read-only views of arrays, no copies), so it is always the
state of the moment. The history lives here too: it is part of the world the policies see, seeded at the
start of a run (or restored from a snapshot) and never changed by the run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import simpy

from twin.domain.network import Network
from twin.engine.parts_flow import PartsFlow
from twin.engine.scenario_effects import ScenarioEffects
from twin.policies.observation import DemandForecast, PartsView, read_only

FloatArray = npt.NDArray[np.float64]


@dataclass
class PartsHistory:
    """The 12-month DMS export per ``[dealer, sku]``: demand lines a year and units a day."""

    lines_per_year: FloatArray
    units_per_day: FloatArray

    # -- state (section "demand_history" of twin.domain.state) --------------------------------------
    def state_arrays(self) -> dict[str, FloatArray]:
        return {"lines_per_year": self.lines_per_year, "units_per_day": self.units_per_day}

    def load_state_arrays(self, arrays: dict[str, FloatArray]) -> None:
        self.lines_per_year = np.asarray(arrays["lines_per_year"], dtype=np.float64)
        self.units_per_day = np.asarray(arrays["units_per_day"], dtype=np.float64)


class PartsViewBuilder:
    def __init__(
        self,
        clock: simpy.Environment,
        parts: PartsFlow,
        network: Network,
        unit_cost_inr: FloatArray,
        history: PartsHistory,
        dealer_lead_time_days: FloatArray,
        dealer_lead_time_sd_days: FloatArray,
        supplier_lead_time_days: float,
        inbound_eta_day: npt.NDArray[np.float32],
        forecaster: DemandForecast | None,
        effects: ScenarioEffects,
    ) -> None:
        self.clock = clock
        self.parts = parts
        self.dealers = network.dealer_count
        self.dcs = len(network.parts_dcs)
        self.dealer_dc = read_only(network.dealers.parts_dc)
        self.unit_cost_inr = read_only(unit_cost_inr)
        self.part_class = read_only(parts.part_class)
        self.history = history
        self.dealer_lead_time_days = read_only(dealer_lead_time_days)
        self.dealer_lead_time_sd_days = read_only(dealer_lead_time_sd_days)
        self.supplier_lead_time_days = supplier_lead_time_days
        self.inbound_eta_day = read_only(inbound_eta_day)
        self.forecaster = forecaster
        self.effects = effects

    def build(self) -> PartsView:
        state = self.parts.state
        day = int(self.clock.now)
        return PartsView(
            day=day,
            dealer_count=self.dealers,
            on_hand=read_only(state.on_hand),
            reserved=read_only(state.reserved),
            in_transit=read_only(state.in_transit),
            backorder=read_only(state.backorder),
            unit_cost_inr=self.unit_cost_inr,
            part_class=self.part_class,
            dealer_dc=self.dealer_dc,
            history_lines_per_year=read_only(self.history.lines_per_year),
            history_units_per_day=read_only(self.history.units_per_day),
            dealer_lead_time_days=self.dealer_lead_time_days,
            supplier_lead_time_days=self.supplier_lead_time_days,
            dealer_lead_time_sd_days=self.dealer_lead_time_sd_days,
            inbound_eta_day=self.inbound_eta_day,
            forecast=self.forecaster,
            dc_shipping=read_only(self.effects.dc_open(day, self.dcs)),
        )
