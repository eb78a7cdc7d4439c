"""The transfer family as one pluggable policy (``policy.transfers._target_``): Astra's parts and vehicle
rebalancing planners, the OEM's transfer rule sheet and the network manager's approvals, from plain settings.

The planners are priced over the network (distances, freight cards, vehicle costs), which only the engine
knows, so they are made by ``parts_planner`` / ``vehicle_planner`` with those facts; every setting of the
policy itself is a constructor parameter here, its default and unit declared once in
``twin.config.TransferConfig``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from twin.config import TransferConfig
from twin.policies.observation import FloatArray, IntArray
from twin.policies.parts_rebalancing import PartsRebalancing
from twin.policies.transfer_planner import FreightModel, PlannerOptions
from twin.policies.transfer_rules import (
    ApprovalModel,
    TransferPolicyConfig,
    TransferPolicyEngine,
    rule_from_mapping,
)
from twin.policies.vehicle_rebalancing import VehicleRebalancing

_DEFAULTS = TransferConfig()  # defaults are declared once, in twin.config


class RebalancingPolicies:
    """Dealer-to-dealer parts (and vehicle) rebalancing under the OEM's transfer rules."""

    def __init__(
        self,
        deficit_cover_days: float = _DEFAULTS.deficit_cover_days,
        surplus_cover_days: float = _DEFAULTS.surplus_cover_days,
        safety_cover_days: float = _DEFAULTS.safety_cover_days,
        dc_screen_factor: float = _DEFAULTS.dc_screen_factor,
        max_distance_km: float = _DEFAULTS.max_distance_km,
        max_senders_per_deficit: int = _DEFAULTS.max_senders_per_deficit,
        slope_scaling_iterations: int = _DEFAULTS.slope_scaling_iterations,
        use_routing: bool = _DEFAULTS.use_routing,
        routing_solution_limit: int = _DEFAULTS.routing_solution_limit,
        rules: Sequence[Mapping[str, Any]] | None = None,
        default_action: str = _DEFAULTS.default_action,
        max_transfers_per_dealer_per_week: int = _DEFAULTS.max_transfers_per_dealer_per_week,
        plan_within_weekly_cap: bool = _DEFAULTS.plan_within_weekly_cap,
        enforce_safety_stock_floor: bool = _DEFAULTS.enforce_safety_stock_floor,
        evaluate_per_transfer: bool = _DEFAULTS.evaluate_per_transfer,
        vehicle_cover_days: float = _DEFAULTS.vehicle_cover_days,
        vehicle_safety_days: float = _DEFAULTS.vehicle_safety_days,
        vehicle_aged_days_saved: float = _DEFAULTS.vehicle_aged_days_saved,
        vehicle_max_distance_km: float = _DEFAULTS.vehicle_max_distance_km,
        vehicle_lost_share_when_missing: float = _DEFAULTS.vehicle_lost_share_when_missing,
        approval_median_hours: float = _DEFAULTS.approval_median_hours,
        approval_p90_hours: float = _DEFAULTS.approval_p90_hours,
        approval_probability: float = _DEFAULTS.approval_probability,
    ) -> None:
        """``rules``: the sheet's lines as mappings (``TransferRuleConfig`` fields); None = the default sheet."""
        self.deficit_cover_days = deficit_cover_days
        self.surplus_cover_days = surplus_cover_days
        self.safety_cover_days = safety_cover_days
        self.dc_screen_factor = dc_screen_factor
        self.max_distance_km = max_distance_km
        self.plan_within_weekly_cap = plan_within_weekly_cap
        self.planner_options = PlannerOptions(
            max_senders_per_deficit=max_senders_per_deficit,
            use_routing=use_routing,
            routing_solution_limit=routing_solution_limit,
            slope_scaling_iterations=slope_scaling_iterations,
        )
        # car-carrier loads are planned lane by lane: no multi-stop routing for vehicles
        self.vehicle_planner_options = PlannerOptions(
            use_routing=False, slope_scaling_iterations=slope_scaling_iterations
        )
        sheet = rules if rules is not None else [asdict(rule) for rule in _DEFAULTS.rules]
        self.rule_sheet = TransferPolicyConfig(
            rules=tuple(rule_from_mapping(rule) for rule in sheet),
            default_action=default_action,
            max_transfers_per_dealer_per_week=max_transfers_per_dealer_per_week,
            enforce_safety_stock_floor=enforce_safety_stock_floor,
            evaluate_per_transfer=evaluate_per_transfer,
        )
        self.vehicle_cover_days = vehicle_cover_days
        self.vehicle_safety_days = vehicle_safety_days
        self.vehicle_aged_days_saved = vehicle_aged_days_saved
        self.vehicle_max_distance_km = vehicle_max_distance_km
        self.vehicle_lost_share_when_missing = vehicle_lost_share_when_missing
        self.approval = ApprovalModel(
            median_hours=approval_median_hours,
            p90_hours=approval_p90_hours,
            approval_probability=approval_probability,
        )

    def parts_planner(
        self,
        distance_km: FloatArray,
        freight: FreightModel,
        parts_margin_share: float,
        emergency_charge_per_line_inr: float,
    ) -> PartsRebalancing:
        return PartsRebalancing(
            distance_km,
            freight,
            self.planner_options,
            deficit_cover_days=self.deficit_cover_days,
            surplus_cover_days=self.surplus_cover_days,
            safety_cover_days=self.safety_cover_days,
            dc_screen_factor=self.dc_screen_factor,
            parts_margin_share=parts_margin_share,
            emergency_charge_per_line_inr=emergency_charge_per_line_inr,
            max_distance_km=self.max_distance_km,
            plan_within_weekly_cap=self.plan_within_weekly_cap,
        )

    def vehicle_planner(
        self,
        distance_km: FloatArray,
        freight: FreightModel,
        unit_cost_inr: FloatArray,
        margin_inr: FloatArray,
        category_of_spec: IntArray,
        floor_plan_rate_per_year: float,
    ) -> VehicleRebalancing:
        return VehicleRebalancing(
            distance_km,
            freight,
            unit_cost_inr,
            margin_inr,
            category_of_spec,
            self.vehicle_planner_options,
            cover_days=self.vehicle_cover_days,
            safety_days=self.vehicle_safety_days,
            floor_plan_rate_per_year=floor_plan_rate_per_year,
            aged_days_saved=self.vehicle_aged_days_saved,
            max_distance_km=self.vehicle_max_distance_km,
            lost_share_when_missing=self.vehicle_lost_share_when_missing,
        )

    def decision_rules(self, category_names: Sequence[str]) -> TransferPolicyEngine:
        return TransferPolicyEngine(self.rule_sheet, category_names)
