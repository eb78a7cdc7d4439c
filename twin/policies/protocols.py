"""One Protocol per decision family; a new policy is a new class that satisfies one of these.

The same objects run inside the twin and behind the live control tower, so they take views and return
decisions and never touch simulation state or SimPy. What a policy needs from the engine beyond its views
(forecasts, a network search, the network's distances and costs) is declared here, on the Protocol, and the
engine reads the declaration: it never probes a policy for optional attributes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from twin.policies.observation import (
    CustomerRequest,
    FloatArray,
    IntArray,
    PartsView,
    QuantityArray,
    ReplenishmentDecision,
    SourcingDecision,
    VehicleView,
)

if TYPE_CHECKING:
    from twin.policies.campaign_positioning import CampaignWindow
    from twin.policies.network_sourcing import NetworkSearch
    from twin.policies.parts_rebalancing import TransferRecommendations
    from twin.policies.transfer_planner import FreightModel
    from twin.policies.transfer_rules import ApprovalModel, TransferPolicyEngine
    from twin.policies.vehicle_rebalancing import VehicleRecommendations


class ReplenishmentPolicy(Protocol):
    #: the engine runs the control tower's demand forecaster and puts it in ``PartsView.forecast``
    needs_forecast: bool
    #: a part is stocked at a dealer after this many demand lines a year: the cells the alerts watch
    phase_in_lines_per_year: int

    def replenish(self, view: PartsView, candidate_cells: IntArray) -> ReplenishmentDecision:
        """Orders for cells whose position may have changed: sorted unique flat ``location * skus + sku``."""
        ...


class VehicleAllocationPolicy(Protocol):
    def plan_production(self, view: VehicleView, period_days: int) -> QuantityArray:
        """Units to build per spec over the next ``period_days``."""
        ...

    def allocate(self, view: VehicleView, yard: int, vehicle_specs: IntArray) -> IntArray:
        """Dealer for each unallocated vehicle in ``yard`` (-1 keeps it in the yard)."""
        ...


class SourcingPolicy(Protocol):
    #: the rules the engine runs Atlas's network search with, handing its candidates with every request;
    #: None: no search (the request carries no candidates)
    network_search: NetworkSearch | None

    def source(self, view: VehicleView, request: CustomerRequest) -> SourcingDecision:
        """What to offer a customer whose spec the dealer does not have."""
        ...


class PartsTransferPlanner(Protocol):
    #: the horizon a transfer is meant to cover; the engine counts a moved unit as used within it
    deficit_cover_days: float

    def recommend(self, view: PartsView) -> TransferRecommendations:
        """Dealer-to-dealer parts moves worth making today, best first."""
        ...


class VehicleTransferPlanner(Protocol):
    #: the horizon a moved vehicle is meant to sell within; the engine counts it as used if it does
    cover_days: float

    def recommend(self, view: VehicleView, aged_units: IntArray) -> VehicleRecommendations:
        """Dealer-to-dealer vehicle moves; ``aged_units[dealer, spec]`` counts vehicles over the age limit."""
        ...


class TransferPolicy(Protocol):
    """The transfer family: planners that recommend, the OEM's rules that decide, the approver's behaviour.
    Planners are priced over the network, so the engine hands them its distances, freight and costs."""

    #: how a network manager answers the approval lines (latency, probability of yes)
    approval: ApprovalModel

    def parts_planner(
        self,
        distance_km: FloatArray,
        freight: FreightModel,
        parts_margin_share: float,
        emergency_charge_per_line_inr: float,
    ) -> PartsTransferPlanner: ...

    def vehicle_planner(
        self,
        distance_km: FloatArray,
        freight: FreightModel,
        unit_cost_inr: FloatArray,
        margin_inr: FloatArray,
        category_of_spec: IntArray,
        floor_plan_rate_per_year: float,
    ) -> VehicleTransferPlanner: ...

    def decision_rules(self, category_names: Sequence[str]) -> TransferPolicyEngine:
        """The OEM's rule sheet and guards, over the engine's category names (part classes, then models)."""
        ...


class CampaignPositioningPolicy(Protocol):
    """Stock placed ahead of planned campaigns; also the yardstick every arm's campaign outcome is measured
    against (``stock_target``), so it is built even when the OEM does not position."""

    #: positioning (and the yardstick) starts this many days before a campaign
    lead_days: int

    def positioning(self, campaign: CampaignWindow, day: int) -> bool: ...

    def building(self, campaign: CampaignWindow, day: int) -> bool: ...

    def stock_target(
        self, view: VehicleView, campaign: CampaignWindow, rate: FloatArray | None = None
    ) -> IntArray: ...

    def builds(
        self, view: VehicleView, campaigns: Sequence[CampaignWindow], day: int, on_trunk: IntArray
    ) -> IntArray: ...

    def allocate(
        self,
        view: VehicleView,
        yard: int,
        vehicle_specs: IntArray,
        campaigns: Sequence[CampaignWindow],
        base: VehicleAllocationPolicy,
    ) -> tuple[IntArray, npt.NDArray[np.bool_]]: ...
