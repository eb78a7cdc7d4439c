"""The parts policies' picture of the network: the read-only ``PartsView`` a replenishment or rebalancing
decision is taken on, assembled from the live parts arrays, the DMS history and the network's lead times.

The view is rebuilt on every call (it is cheap: read-only views of arrays, no copies), so it is always the
state of the moment. Two pictures: ``build`` is what a dealer's DMS sees (its own shelf, live), the one the
replenishment policy orders on; ``build_oem`` is what the OEM sees of dealers (the rebalancing decides on
it), the same with the live feed and the last DMS export with ``operations.parts_visibility =
weekly_export`` (twin.engine.parts_export). The history lives here too: it is part of the world the policies see, seeded at the
start of a run (or restored from a snapshot) and never changed by the run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import simpy

from twin.domain.network import Network
from twin.engine.parts_export import PartsExport
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
        export: PartsExport | None = None,
        open_orders: npt.NDArray[np.int32] | None = None,
        backorders_owed_from_shelf: bool = False,
        location_ids: tuple[str, ...] | None = None,
        sku_ids: tuple[str, ...] | None = None,
        dc_supplier_lead_time_days: FloatArray | None = None,
    ) -> None:
        """``export``: the OEM's DMS export ``build_oem`` reads dealers from; None = the live feed.
        ``backorders_owed_from_shelf``: customers' backorders wait for the shelf (``dealer_shortage=
        backorder``), so positions count them."""
        self.clock = clock
        self.export = export
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
        #: the DCs' backorder book [location, sku] (PartsLogistics.open_orders): the OEM's own, so live in
        #: both views; None = no book (every position without it)
        self.open_orders = None if open_orders is None else read_only(open_orders)
        self.backorders_owed_from_shelf = backorders_owed_from_shelf
        self.location_ids = location_ids
        self.sku_ids = sku_ids
        self.dc_supplier_lead_time_days = (
            None if dc_supplier_lead_time_days is None else read_only(dc_supplier_lead_time_days)
        )

    def build(self) -> PartsView:
        """What a dealer's DMS sees: the shelves now."""
        state = self.parts.state
        return self._view(
            state.on_hand, state.reserved, state.in_transit, state.backorder, self.inbound_eta_day
        )

    def build_oem(self) -> PartsView:
        """What the OEM sees of dealers: live, or as of the last DMS export (DC rows are its own, live)."""
        export = self.export
        if export is None:
            return self.build()
        return self._view(
            export.position("on_hand"),
            export.position("reserved"),
            export.position("in_transit"),
            export.position("backorder"),
            read_only(export.inbound_eta_day),
        )

    def _view(
        self,
        on_hand: npt.NDArray[np.int32],
        reserved: npt.NDArray[np.int32],
        in_transit: npt.NDArray[np.int32],
        backorder: npt.NDArray[np.int32],
        inbound_eta_day: npt.NDArray[np.float32],
    ) -> PartsView:
        day = int(self.clock.now)
        return PartsView(
            day=day,
            dealer_count=self.dealers,
            on_hand=read_only(on_hand),
            reserved=read_only(reserved),
            in_transit=read_only(in_transit),
            backorder=read_only(backorder),
            unit_cost_inr=self.unit_cost_inr,
            part_class=self.part_class,
            dealer_dc=self.dealer_dc,
            history_lines_per_year=read_only(self.history.lines_per_year),
            history_units_per_day=read_only(self.history.units_per_day),
            dealer_lead_time_days=self.dealer_lead_time_days,
            supplier_lead_time_days=self.supplier_lead_time_days,
            dealer_lead_time_sd_days=self.dealer_lead_time_sd_days,
            inbound_eta_day=inbound_eta_day,
            forecast=self.forecaster,
            dc_shipping=read_only(self.effects.dc_open(day, self.dcs)),
            open_orders=self.open_orders,
            backorders_owed_from_shelf=self.backorders_owed_from_shelf,
            location_ids=self.location_ids,
            sku_ids=self.sku_ids,
            dc_supplier_lead_time_days=self.dc_supplier_lead_time_days,
        )
