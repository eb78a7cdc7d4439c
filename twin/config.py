"""Every setting of a twin run, as typed dataclasses with units and defaults declared once.

Hydra validates the YAML in ``conf/`` against these classes (registered in ``twin.hydra_store``); the engine
takes a ``TwinConfig`` and never reads a setting anywhere else. Range checks that types cannot express
live in ``validate`` and raise ``ConfigError`` naming the field and the value.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import os
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, ClassVar

from twin.config_ranges import (
    CYCLE_DAYS,
    DAY,
    DAYS,
    HOURS,
    INR,
    KM,
    MARGIN,
    MAX_DAYS,
    MULTIPLIER,
    OPEN_INR,
    OPEN_KM,
    POSITIVE_DAYS,
    POSITIVE_KM,
    POSITIVE_MULTIPLIER,
    PROBABILITY,
    RATE_PER_YEAR,
    RATIO,
    SEED,
    SHARE,
    SITES,
    SMOOTHING,
    UNITS_PER_SPEC,
    WHOLE_DAYS_MEAN,
    Range,
    check_ranges,
    ranged,
)
from twin.errors import ConfigError


@dataclass
class NetworkConfig:
    """Shape of the generated network (or where to read a user's own master data)."""

    #: the network's name (a run folder and MLflow tag carry it)
    name: str = "default"
    #: how many of each site the generator makes: dealers, parts DCs, plants, stockyards, carriers
    dealers: int = ranged(400, Range("dealers", 1))
    parts_dcs: int = ranged(4, SITES)
    plants: int = ranged(1, SITES)
    stockyards: int = ranged(4, SITES)
    carriers: int = ranged(3, SITES)
    #: vehicle models in the catalog, and part numbers (SKUs) in the parts catalog
    models: int = ranged(7, Range("vehicle models", 1, 10_000))
    skus: int = ranged(2000, Range("part numbers", 1))
    #: opening vehicles per dealer yard (scaled by each dealer's activity)
    vehicles_per_dealer: int = ranged(100, Range("vehicles per dealer", 0))
    #: road km per great-circle km between two sites
    road_factor: float = ranged(1.25, Range("road km per great-circle km: a road is never shorter", 1, 5))
    #: seed of the master-data generator; kept apart from the run seed so replications share one network
    generator_seed: int = ranged(2026, SEED)
    #: folder with dealers/parts_catalog/vehicle_specs/... CSV or Parquet files; empty = generate
    master_data_dir: str = ""


@dataclass
class DemandConfig:
    """Parts and vehicle demand model; built with ``_target_`` so another model can be swapped in."""

    _target_: str = "twin.engine.demand.DemandModel"
    #: mean parts order lines per dealer per day across all SKUs (counter + workshop)
    parts_lines_per_dealer_day: float = ranged(250.0, Range("order lines per dealer per day", 0, 100_000))
    #: mean vehicle customers (showroom walk-ins who want to buy) per dealer per month; ~85% end up buying
    vehicle_customers_per_dealer_month: float = ranged(
        65.0, Range("customers per dealer per month", 0, 100_000)
    )
    #: switch the Indian monthly profile (low May, festive Oct-Nov peak) on or off
    seasonality: bool = True
    #: multiplies every dealer's parts and vehicle demand (what-if knob)
    demand_multiplier: float = ranged(1.0, MULTIPLIER)
    #: mean days a vehicle customer waits for a factory order before walking away
    customer_patience_days_mean: float = ranged(45.0, POSITIVE_DAYS)
    #: probability a customer accepts another colour of the same variant when theirs is not in the yard
    accept_other_colour: float = ranged(0.6, PROBABILITY)
    #: probability a customer accepts another variant of the same model
    accept_other_variant: float = ranged(0.3, PROBABILITY)
    #: mean whole days a repair order holds its parts as workshop WIP before they are consumed
    workshop_repair_days_mean: float = ranged(1.5, WHOLE_DAYS_MEAN)
    #: mean whole days a counter order waits reserved for pickup (30% of counter lines; the rest go at once)
    counter_pickup_days_mean: float = ranged(1.0, WHOLE_DAYS_MEAN)
    #: how parts demand is drawn per dealer x SKU cell (docs/textbook.md): "compound_poisson" (the default:
    #: Poisson lines of geometric size, counter and workshop), or a textbook model of counter demand handed
    #: over at once: "poisson" (Poisson units a day, one line per unit), "normal" (one line a day of
    #: round(max(0, N(rate, sd))) units) or "deterministic" (the rate exactly, in whole units over time)
    parts_demand_model: str = "compound_poisson"
    #: each dealer's own SKU mix (a lognormal factor per cell, mean 1); off: a cell's rate is the dealer's
    #: activity x the SKU's demand weight x parts_lines_per_dealer_day
    parts_rate_mix: bool = True
    #: geometric line sizes by part class (compound_poisson); off: every line is one unit
    parts_line_sizes: bool = True
    #: a CSV of rates per cell (columns dealer_id, sku_id, units_per_day, optional sd_units_per_day); cells
    #: not listed have no demand. Replaces parts_lines_per_dealer_day and the mix; "" = generated rates
    parts_rates_path: str = ""
    #: standard deviation of a day's units as a share of the rate (``normal``, where the table gives none)
    parts_demand_cv: float = ranged(0.5, Range("coefficient of variation", 0, 10))


class PolicySettings:
    """Base of every policy option's settings: ``_target_`` and exactly the parameters that class takes.

    A family's field in ``PolicyConfig`` holds one of its options (Hydra registers each option's class in the
    family's group, see ``twin.hydra_store``), so a setting the chosen policy does not take is refused, by
    Hydra when composing and by ``build_component`` when building. ``engine_settings`` names the fields the
    engine reads itself (whether and when the family runs); every other field is a constructor parameter.
    """

    engine_settings: ClassVar[tuple[str, ...]] = ()

    def check(self, prefix: str) -> None:
        """Checks of relations between fields (each field's own range is declared on it and checked by
        ``check_ranges``); ``prefix`` is the family's key (``policy.<family>``)."""


@dataclass
class PartsStockingSettings(PolicySettings):
    """The stocking rule both parts policies share: which dealer parts are stocked, and the DCs' own levels."""

    #: stock a part only after this many demand lines in the last 12 months (phase-in rule)
    phase_in_lines_per_year: int = ranged(
        3, Range("demand lines per year; above any history = stock nothing", 0)
    )
    #: a DC reorders when its position falls to its supplier lead time plus this many days of its dealers'
    #: demand, and orders up to its lead time plus ``dc_max_cover_days_over_lead_time`` days
    dc_min_cover_days_over_lead_time: float = ranged(7.0, DAYS)
    dc_max_cover_days_over_lead_time: float = ranged(30.0, DAYS)

    def check(self, prefix: str) -> None:
        _require(
            self.dc_max_cover_days_over_lead_time >= self.dc_min_cover_days_over_lead_time,
            f"{prefix}.dc_max_cover_days_over_lead_time",
            self.dc_max_cover_days_over_lead_time,
            f"must be >= dc_min_cover_days_over_lead_time ({self.dc_min_cover_days_over_lead_time})",
        )


@dataclass
class StaticMinMaxConfig(PartsStockingSettings):
    """``policy/replenishment=baseline``: static min/max from 12-month history."""

    _target_: str = "twin.policies.baseline.StaticMinMaxReplenishment"
    #: days of demand cover held as the reorder point (min)
    min_cover_days: float = ranged(14.0, DAYS)
    #: days of demand cover ordered up to (max)
    max_cover_days: float = ranged(35.0, DAYS)

    def check(self, prefix: str) -> None:
        super().check(prefix)
        _require(
            self.max_cover_days >= self.min_cover_days,
            f"{prefix}.max_cover_days",
            self.max_cover_days,
            f"must be >= min_cover_days ({self.min_cover_days})",
        )


@dataclass
class DynamicReplenishmentConfig(PartsStockingSettings):
    """``policy/replenishment=dynamic``: forecast-driven order-up-to levels (needs the control tower)."""

    _target_: str = "twin.policies.dynamic.DynamicReplenishment"
    #: probability that demand over lead time + review period stays within the order-up-to level, per part class
    service_level_by_class: dict[str, float] = field(
        default_factory=lambda: {
            "fast_mover": 0.998,
            "consumable": 0.995,
            "tyre": 0.995,
            "battery": 0.995,
            "accessory": 0.99,
            "warranty_spare": 0.99,
        },
        metadata={"range": Range("probability", 0, 1, low_open=True, high_open=True)},
    )


@dataclass
class LevelsTableConfig(PolicySettings):
    """``policy/replenishment=levels_table``: each cell's rule and levels from a CSV (textbook mode,
    docs/textbook.md): base stock, (s, S) or (r, Q), with a review period per cell."""

    _target_: str = "twin.policies.levels_table.LevelsTableReplenishment"
    #: the CSV: location_id, sku_id, policy (base_stock, s_S, r_Q), reorder_point, order_up_to,
    #: order_quantity, optional review_period_days and review_offset_days; cells not listed never order
    levels_path: str = ""

    def check(self, prefix: str) -> None:
        # the table's rows are checked against the network when the policy first reads it (day 0)
        _require(
            bool(self.levels_path) and os.path.isfile(self.levels_path),
            f"{prefix}.levels_path",
            self.levels_path,
            "must name an existing levels CSV (docs/textbook.md)",
        )


@dataclass
class ProRataAllocationConfig(PolicySettings):
    """``policy/allocation=baseline``: new vehicles pro rata to trailing sales, capped at a days' supply."""

    _target_: str = "twin.policies.baseline.ProRataAllocation"
    #: days of sales a dealer is allowed to hold; allocation stops at that stock
    target_days_supply: float = ranged(55.0, DAYS)


@dataclass
class ByRequestAllocationConfig(ProRataAllocationConfig):
    """``policy/allocation=by_request``: the typical dealer asks for ``request_inflation`` times what it needs,
    with a lognormal spread over dealers (sigma) drawn once from ``request_seed``."""

    _target_: str = "twin.policies.by_request_allocation.ByRequestAllocation"
    #: the typical dealer asks for this multiple of the cars it needs
    request_inflation: float = ranged(1.3, Range("factor on what a dealer needs", 1, 100))
    #: spread of that over-ask across dealers (lognormal sigma), drawn once from ``request_seed``
    request_inflation_spread: float = ranged(0.3, Range("lognormal sigma", 0, 10))
    #: seed of the dealers' over-ask factors (a fact of the network, the same in every replication)
    request_seed: int = ranged(7, SEED)


@dataclass
class DemandProfileAllocationConfig(ProRataAllocationConfig):
    """``policy/allocation=demand_profile``: a car is worth allocating if it likely sells within
    ``horizon_days``; a dealer gets at most ``max_units_per_spec`` cars of one spec in one cycle."""

    _target_: str = "twin.policies.demand_allocation.DemandProfileAllocation"
    #: a car is worth allocating if it likely sells within these days
    horizon_days: float = ranged(28.0, POSITIVE_DAYS)
    #: at most this many cars of one spec to one dealer in one cycle
    max_units_per_spec: int = ranged(3, UNITS_PER_SPEC)


@dataclass
class FactoryOrderSourcingConfig(PolicySettings):
    """``policy/sourcing=baseline``: a spec not in the yard means a factory order (no settings)."""

    _target_: str = "twin.policies.baseline.FactoryOrderSourcing"


@dataclass
class NetworkSearchConfig(PolicySettings):
    """The rules of Atlas's network search (``twin.policies.network_sourcing``) that both network-aware
    sourcing policies run it with: which VINs elsewhere may be offered, and how dealer trades ship."""

    #: dealers farther than this by road are not searched
    max_distance_km: float = ranged(800.0, KM)
    #: offer unallocated cars in the dealer's stockyard
    allow_stockyard: bool = True
    #: offer cars still in build or on the trunk (the customer waits for them)
    allow_pipeline: bool = True
    #: share of dealers that agree to give up yard stock to another dealer's customer (drawn once per network)
    dealer_trade_share: float = ranged(0.85, SHARE)
    #: a holder keeps its last unit of a spec it sold at least this many of in the last 28 days
    protect_last_unit_sales_28d: int = ranged(2, Range("vehicles sold in 28 days", 0, 100_000))
    #: aged units (days since they reached a dealer) are preferred: a credit per day over this age
    aged_days: float = ranged(60.0, DAYS)
    aged_credit_inr_per_day: float = ranged(300.0, Range("INR per day", 0))
    #: dealer trades share a truck when their holders lie within this distance of each other and so do their
    #: receiving dealers, and they are booked before the first of them is due to leave (the dispatch delay
    #: the customer's promise already allows); 0 = only trades between the same two dealers share
    trade_consolidation_radius_km: float = ranged(50.0, KM)


@dataclass
class NetworkSourcingConfig(NetworkSearchConfig):
    """``policy/sourcing=network``: the best VIN Atlas finds that meets the customer's patience."""

    _target_: str = "twin.policies.network_sourcing.NetworkSourcingPolicy"


@dataclass
class PhoneAroundSourcingConfig(NetworkSearchConfig):
    """``policy/sourcing=phone_around``: the chance a nearby dealer has the car and agrees, the days the
    phoning takes, and how near (days of driving) the dealers phoned are."""

    _target_: str = "twin.policies.network_sourcing.PhoneAroundSourcing"
    #: the chance a nearby dealer has the car and agrees
    success_probability: float = ranged(0.3, PROBABILITY)
    #: the days the phoning takes before the answer
    delay_days: float = ranged(2.0, DAYS)
    #: how near the dealers phoned are (days of driving)
    nearby_days: float = ranged(2.0, DAYS)


@dataclass
class ForecastConfig:
    """Astra's parts demand forecasts per dealer x SKU (twin.policies.forecasting): smoothing parameters and
    the method per Syntetos-Boylan class (ses, seasonal_ses, croston, sba, tsb). Off in the baseline world;
    the forecaster also runs whenever the alerts or a forecast-driven policy need it."""

    #: run the forecasts (they also run whenever the alerts or a forecast-driven policy need them)
    enabled: bool = False
    #: Croston / SBA smoothing of sizes and intervals (statsforecast fixes it at 0.1)
    alpha: float = ranged(0.1, SMOOTHING)
    tsb_alpha_size: float = ranged(0.1, SMOOTHING)
    tsb_alpha_probability: float = ranged(0.05, SMOOTHING)
    ses_alpha: float = ranged(0.05, SMOOTHING)
    method_smooth: str = "seasonal_ses"
    #: erratic series have demand most days: SBA's intermittency correction would bias them low
    method_erratic: str = "seasonal_ses"
    method_intermittent: str = "sba"
    method_lumpy: str = "tsb"
    #: series without a class yet (fewer than two demand days)
    method_no_demand: str = "tsb"
    #: class: each series gets its demand class's method; error: the method with the smallest past one-step
    #: error where it beats the class's (benchmarks/forecast_pbs.py: 1.33x -> 1.18x AutoETS's MASE on PBS)
    selection: str = "class"
    #: dealer-SKU series sampled for the forecast-accuracy KPIs (one-day-ahead errors every day)
    accuracy_sample_series: int = ranged(5000, Range("dealer-SKU series", 0, 100_000_000))


@dataclass
class AlertConfig:
    """Stock-out alerts on dealer-SKU cells (twin.policies.alerts). Off in the baseline world, where a
    stock-out is found when a dealer calls; switch on to watch (and measure) the predictor in any arm."""

    #: raise stock-out alerts (the control tower watches; nothing else changes)
    enabled: bool = False
    #: an alert is raised when the stock-out risk within any horizon reaches this probability
    risk_threshold: float = ranged(0.5, Range("probability", 0, 1, low_open=True))
    #: an open alert clears when the risk within the longest horizon falls below this
    clear_threshold: float = ranged(0.2, PROBABILITY)
    #: the stock-out risk is computed within each of these horizons (whole days, ascending)
    horizons_days: list[int] = field(
        default_factory=lambda: [1, 3, 7, 14], metadata={"range": Range("days", 1, MAX_DAYS)}
    )


@dataclass
class TransferRuleConfig:
    """One line of the OEM's transfer policy sheet (see twin.policies.transfer_rules.TransferRule): all
    conditions must hold; ranges are [min, max); empty categories match every part class."""

    rule_id: str = ""
    #: auto_execute, approval or reject
    action: str = "approval"
    categories: list[str] = field(default_factory=list)
    min_value_inr: float = ranged(0.0, INR)
    max_value_inr: float = ranged(math.inf, OPEN_INR)
    min_distance_km: float = ranged(0.0, KM)
    max_distance_km: float = ranged(math.inf, OPEN_KM)
    min_benefit_cost_ratio: float = ranged(-math.inf, RATIO)
    max_benefit_cost_ratio: float = ranged(math.inf, RATIO)
    sender_opted_in: bool | None = None
    receiver_opted_in: bool | None = None


def _default_transfer_rules() -> list[TransferRuleConfig]:
    """The default sheet: small, clearly worthwhile moves between opted-in dealers go automatically; poor
    ratios are refused; expensive or long moves wait for a network manager (so does the rest, by default)."""
    return [
        TransferRuleConfig(rule_id="refuse_poor_ratio", action="reject", max_benefit_cost_ratio=1.0),
        TransferRuleConfig(rule_id="review_high_value", action="approval", min_value_inr=100_000.0),
        TransferRuleConfig(rule_id="review_long_haul", action="approval", min_distance_km=300.0),
        TransferRuleConfig(
            rule_id="auto_clear_win",
            action="auto_execute",
            min_benefit_cost_ratio=1.5,
            sender_opted_in=True,
            receiver_opted_in=True,
        ),
    ]


@dataclass
class TransferConfig(PolicySettings):
    """Astra's parts rebalancing: lateral dealer-to-dealer transfers where the DC cannot cover a shortfall
    (twin.policies.parts_rebalancing), decided by the OEM policy engine, shipped by the parts carriers.
    Both options of ``policy/transfers`` take this class; ``_target_`` builds the family's policies
    (planners, rules, approvals) from every field but the engine's own (``engine_settings``)."""

    engine_settings: ClassVar[tuple[str, ...]] = (
        "enabled",
        "period_days",
        "vehicles",
        "vehicle_period_days",
        "vehicle_age_limit_days",
        "dealer_opt_in_share",
    )

    _target_: str = "twin.policies.transfer_policies.RebalancingPolicies"
    #: run parts (and, with ``vehicles``, vehicle) rebalancing; policy/transfers=rebalancing sets it
    enabled: bool = False
    #: a planning cycle every this many days (d+0.70, before the day's replenishment)
    period_days: int = ranged(1, CYCLE_DAYS)
    #: a dealer is short when its position is below forecast demand over these days
    deficit_cover_days: float = ranged(7.0, POSITIVE_DAYS)
    #: a dealer may send what it holds above forecast demand over these days plus its safety floor (with
    #: the defaults it keeps 14 days, the baseline's reorder point: its own DC refills it from there)
    surplus_cover_days: float = ranged(10.0, POSITIVE_DAYS)
    #: the floor a sender always keeps: forecast demand over these days
    safety_cover_days: float = ranged(4.0, POSITIVE_DAYS)
    #: SKUs are looked at where a DC holds less than this many times its dealers' deficit-horizon demand
    dc_screen_factor: float = ranged(1.5, Range("factor on demand", 0, 1000))
    max_distance_km: float = ranged(600.0, POSITIVE_KM)
    max_senders_per_deficit: int = ranged(8, Range("senders", 1, 10_000))
    slope_scaling_iterations: int = ranged(4, Range("iterations", 0, 1000))
    #: multi-stop runs for thin lanes; off by default because the parts carriers bill per consignment
    use_routing: bool = False
    #: the routing search stops after this many solutions (a count, not a clock: the same seed gives the
    #: same routes on any machine); 8 routes 20 thin lanes about as well as the former 50 ms limit did
    routing_solution_limit: int = ranged(8, Range("solutions", 1, 1_000_000))
    #: share of dealers that accept automatic transfers (drawn once per network, the same in every run)
    dealer_opt_in_share: float = ranged(0.8, SHARE)
    rules: list[TransferRuleConfig] = field(default_factory=_default_transfer_rules)
    default_action: str = "approval"
    max_transfers_per_dealer_per_week: int = ranged(10, Range("transfers per dealer per week", 0, 100_000))
    #: the parts planner leaves out dealers that have used their weekly cap (the rules would refuse every
    #: transfer to or from them), so their share goes to dealers that can still take or send it. Off by
    #: default: 4.5% more transfers and 5.6% more lines for approval for about what they save
    #: (experiments/weekly_cap_planning_default.yaml, experiments/README.md)
    plan_within_weekly_cap: bool = False
    enforce_safety_stock_floor: bool = True
    #: rules judge value, distance and benefit/cost per transfer (one consignment: one freight charge), so
    #: a consignment ships whole or not at all; false judges each SKU line on its share
    evaluate_per_transfer: bool = True
    #: vehicles too: aged or excess vehicles move to dealers whose recent sales say the spec will sell
    vehicles: bool = True
    vehicle_period_days: int = ranged(7, CYCLE_DAYS)
    #: a dealer needs its sales rate of a spec over these days (the allocation's target days' supply); it
    #: keeps the safety days' worth
    vehicle_cover_days: float = ranged(55.0, POSITIVE_DAYS)
    vehicle_safety_days: float = ranged(7.0, DAYS)
    #: vehicles in a yard longer than this are aged: they may leave even when the dealer is not in surplus
    vehicle_age_limit_days: float = ranged(60.0, POSITIVE_DAYS)
    #: days of floor-plan interest an aged vehicle's move is credited with saving (it sells sooner elsewhere)
    vehicle_aged_days_saved: float = ranged(30.0, DAYS)
    vehicle_max_distance_km: float = ranged(800.0, POSITIVE_KM)
    #: share of customers who walk when their spec is not in the yard (the rest take another colour or
    #: variant, or a factory order): about lost sales / customers without their first choice in a baseline run
    vehicle_lost_share_when_missing: float = ranged(0.15, SHARE)
    #: a network manager's decision time (lognormal: median and 90th percentile) and how often they say yes
    approval_median_hours: float = ranged(4.0, HOURS)
    approval_p90_hours: float = ranged(24.0, HOURS)
    approval_probability: float = ranged(0.85, PROBABILITY)

    def check(self, prefix: str) -> None:
        _validate_transfers(self, prefix)


@dataclass
class CampaignPolicyConfig(PolicySettings):
    """Positioning of vehicle stock ahead of a campaign (``scenario.campaigns``). Off, the OEM learns of the
    campaign only through its volume plan's look-ahead, as in the baseline world; the policy is still built,
    as the yardstick every arm's campaign outcome is measured against."""

    engine_settings: ClassVar[tuple[str, ...]] = ("enabled",)

    _target_: str = "twin.policies.campaign_positioning.CampaignPositioning"
    #: position stock ahead of the scenario's campaigns; policy/campaign=positioning sets it
    enabled: bool = False
    #: positioning starts this many days before a campaign's start
    lead_days: int = ranged(35, CYCLE_DAYS)
    #: extra builds are ordered until this many days before the start (later ones could not reach the dealers)
    build_cutoff_days: int = ranged(12, DAYS)
    #: a car placed for a campaign is worth it if it likely sells in the campaign's first ``cover_days``
    cover_days: float = ranged(28.0, POSITIVE_DAYS)
    #: at most this many extra cars of one spec per dealer and campaign
    max_units_per_spec: int = ranged(3, UNITS_PER_SPEC)

    def check(self, prefix: str) -> None:
        _require(
            self.build_cutoff_days < self.lead_days,
            f"{prefix}.build_cutoff_days",
            self.build_cutoff_days,
            f"must be in 0..lead_days - 1 ({self.lead_days - 1})",
        )


#: the families whose options are different classes (one per ``conf/policy/<family>`` option)
POLICY_OPTIONS: dict[str, dict[str, type[PolicySettings]]] = {
    "replenishment": {
        "baseline": StaticMinMaxConfig,
        "dynamic": DynamicReplenishmentConfig,
        "levels_table": LevelsTableConfig,
    },
    "allocation": {
        "baseline": ProRataAllocationConfig,
        "by_request": ByRequestAllocationConfig,
        "demand_profile": DemandProfileAllocationConfig,
    },
    "sourcing": {
        "baseline": FactoryOrderSourcingConfig,
        "network": NetworkSourcingConfig,
        "phone_around": PhoneAroundSourcingConfig,
    },
}


@dataclass
class PolicyConfig:
    """One option per family. The first three fields hold any option of their family (``POLICY_OPTIONS``):
    typed ``Any`` because OmegaConf has no union of dataclasses; each option's class is its schema."""

    #: a ``StaticMinMaxConfig``, ``DynamicReplenishmentConfig`` or ``LevelsTableConfig``
    replenishment: Any = field(default_factory=StaticMinMaxConfig)
    #: a ``ProRataAllocationConfig``, ``ByRequestAllocationConfig`` or ``DemandProfileAllocationConfig``
    allocation: Any = field(default_factory=ProRataAllocationConfig)
    #: a ``FactoryOrderSourcingConfig``, ``NetworkSourcingConfig`` or ``PhoneAroundSourcingConfig``
    sourcing: Any = field(default_factory=FactoryOrderSourcingConfig)
    forecast: ForecastConfig = field(default_factory=ForecastConfig)
    alerts: AlertConfig = field(default_factory=AlertConfig)
    transfers: TransferConfig = field(default_factory=TransferConfig)
    campaign: CampaignPolicyConfig = field(default_factory=CampaignPolicyConfig)
    #: how often the OEM sees dealer stock (the baseline world: a weekly DMS export)
    visibility_refresh_days: int = ranged(7, CYCLE_DAYS)


@dataclass
class OperationsConfig:
    """Lead times, capacities and money rates of the physical network."""

    #: days between an order's release at a DC or yard and the truck leaving
    dc_dispatch_delay_days: float = ranged(0.5, DAYS)
    #: coefficient of variation of road transit times (lognormal, per lane and dispatch day)
    transit_time_cv: float = ranged(0.25, Range("coefficient of variation", 0, 10))
    #: days an emergency parts order from the DC takes, and what it costs per line on top of freight
    emergency_lead_time_days: float = ranged(1.0, DAYS)
    emergency_charge_per_line_inr: float = ranged(350.0, INR)
    #: when the DC has none, the supplier drop-ships an emergency order to the dealer
    supplier_emergency_lead_time_days: float = ranged(5.0, DAYS)
    #: days a DC's replenishment order takes from the supplier
    supplier_lead_time_days: float = ranged(21.0, DAYS)
    #: opening stock: each DC holds this many days of its dealers' historical daily demand of every SKU
    dc_cover_days: float = ranged(30.0, DAYS)
    #: opening stock: a dealer stocks the SKUs with at least this many demand lines in its 12-month history...
    opening_stocked_lines_per_year: float = ranged(
        3.0, Range("demand lines per year; above any history = stock nothing", 0)
    )
    #: ...each at its historical daily units times a cover drawn uniformly from [min, max) days
    opening_cover_days_min: float = ranged(8.0, DAYS)
    opening_cover_days_max: float = ranged(24.0, DAYS)
    #: share of the not-stocked dealer SKUs that still hold 1-3 obsolete units at the start (past phase-outs)
    opening_obsolete_stock_share: float = ranged(0.5, SHARE)
    #: share of showroom customers the OEM's volume plan expects to buy (also the opening sales history's)
    planned_conversion: float = ranged(0.85, SHARE)
    #: days of retail in a dealer's trailing sales window, as the OEM's export reports it
    sales_window_days: int = ranged(28, CYCLE_DAYS)
    #: days a trunk move from the plant to a stockyard takes
    plant_to_stockyard_days: float = ranged(4.0, DAYS)
    #: days from a customer's factory order to the car leaving the plant
    factory_order_build_days: float = ranged(21.0, DAYS)
    #: days the first car of a part load waits at the yard before the truck leaves anyway
    carrier_max_wait_days: float = ranged(3.0, DAYS)
    #: holding cost of parts stock, a share of its value per year
    parts_holding_rate_per_year: float = ranged(0.25, RATE_PER_YEAR)
    #: dealers' floor-plan interest on vehicle stock, a share of its value per year
    floor_plan_rate_per_year: float = ranged(0.085, RATE_PER_YEAR)
    #: dealer gross margin, a share of the price: vehicles, parts
    vehicle_margin_share: float = ranged(0.035, MARGIN)
    parts_margin_share: float = ranged(0.25, MARGIN)
    #: days between vehicle allocation cycles (and production plans)
    allocation_period_days: int = ranged(7, CYCLE_DAYS)
    #: what the OEM's control tower and parts rebalancing see of dealer parts positions: "live" (the continuous
    #: DMS feed) or "weekly_export" (the periodic-polling world: on hand, reserved, in transit, backorders, ETAs
    #: and the demand lines as of the last DMS export, plus the OEM's own shipments since). Dealers'
    #: replenishment from their DC reads their own shelf live in both
    parts_visibility: str = "live"
    #: weekday of the DMS export with ``parts_visibility=weekly_export`` (monday ... sunday); it runs
    #: overnight, at the end of that day, as twin-feed's weekly-export dealers send it
    parts_export_weekday: str = "sunday"
    #: days between two DMS exports (7: weekly), counted from the first export weekday of the run
    parts_export_period_days: int = ranged(7, CYCLE_DAYS)
    #: what happens to the units of a line a dealer cannot fill from its shelf: "by_class" (the default: the
    #: customer waits for an emergency order with the part class's probability, else the sale is lost),
    #: "lost_sales" (every shortfall is lost) or "backorder" (the customer waits at the dealer and is served
    #: from the next receipts before anyone else; the inventory position counts what is owed)
    dealer_shortage: str = "by_class"
    #: lateral transshipment at the moment of demand (complete pooling): a shortfall is filled from another
    #: dealer of the pool with the part free, before it is emergency-ordered, lost or backordered. "none",
    #: "region" (a sales region's dealers), "dc" (the dealers one DC serves) or "network" (every dealer)
    lateral_pool: str = "none"
    #: what one unit moved between two dealers at the moment of demand costs (a courier run)
    lateral_charge_per_unit_inr: float = ranged(0.0, INR)
    #: a CSV of lead times per lane (columns location_id, lead_time_days): a dealer's row replaces its DC's
    #: dispatch delay + road km / carrier speed, a DC's row the supplier lead time to it; "" = none
    lead_times_path: str = ""
    #: fixed cost of one replenishment order line (a dealer ordering a SKU from its DC, a DC from its supplier)
    order_cost_inr: float = ranged(0.0, INR)
    #: penalty per unit of a lost parts sale, on top of the lost margin
    lost_sale_penalty_inr_per_unit: float = ranged(0.0, INR)
    #: penalty per unit owed to a waiting customer at the end of a day
    backorder_penalty_inr_per_unit_day: float = ranged(0.0, INR)


@dataclass
class DemandShockConfig:
    """Demand multiplied over ``[start_day, end_day)`` for a region and/or model (empty = all). The parts
    multiplier applies to the region's whole parts demand: service parts are not tied to one model."""

    start_day: int = ranged(0, DAY)
    end_day: int = ranged(0, DAY)
    region: str = ""
    model: str = ""
    vehicle_multiplier: float = ranged(1.0, MULTIPLIER)
    parts_multiplier: float = ranged(1.0, MULTIPLIER)


@dataclass
class CampaignConfig:
    """A marketing campaign: customers for ``models`` at the dealers of ``regions`` (empty = all) multiplied
    by ``vehicle_uplift`` over ``[start_day, end_day)``. Unlike a demand shock it is planned: the positioning
    policy (``policy.campaign``) knows it ahead, and the run reports how stock was placed and sold for it."""

    name: str = ""
    regions: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    start_day: int = ranged(0, DAY)
    end_day: int = ranged(0, DAY)
    vehicle_uplift: float = ranged(1.0, POSITIVE_MULTIPLIER)
    #: the campaign's regions' whole parts demand (service offers often run with a sales campaign)
    parts_uplift: float = ranged(1.0, POSITIVE_MULTIPLIER)


@dataclass
class CarrierDisruptionConfig:
    """A carrier (or the lanes into a region, optionally of one carrier) loses capacity; 0 closes it.

    Carrier-wide: a car carrier loses that share of its trucks, a parts carrier of its daily units. Region
    lanes: each dealer's parts consignments carry that share of the units, and its car-carrier lane sends at
    most ``capacity_share`` loads a day (a lane at 0.5 sends a load every other day at most)."""

    start_day: int = ranged(0, DAY)
    end_day: int = ranged(0, DAY)
    carrier_id: str = ""
    region: str = ""
    capacity_share: float = ranged(0.5, SHARE)


@dataclass
class DcOutageConfig:
    """A parts DC ships nothing (stock orders or emergencies) over the window; it still receives."""

    dc_id: str = ""
    start_day: int = ranged(0, DAY)
    end_day: int = ranged(0, DAY)


@dataclass
class LeadTimeChangeConfig:
    """Supplier lead times and road transit times multiplied for shipments leaving in the window."""

    start_day: int = ranged(0, DAY)
    end_day: int = ranged(0, DAY)
    supplier_multiplier: float = ranged(1.0, POSITIVE_MULTIPLIER)
    transit_multiplier: float = ranged(1.0, POSITIVE_MULTIPLIER)


@dataclass
class ModelLaunchConfig:
    """A model that nobody can buy before ``launch_day`` (no opening stock either)."""

    model: str = ""
    launch_day: int = ranged(0, DAY)


@dataclass
class SupersessionConfig:
    """On ``day`` a share of a class's SKUs is superseded: their demand rolls up to a successor number."""

    day: int = ranged(0, DAY)
    sku_share: float = ranged(0.02, Range("share of the class's SKUs", 0, 0.5, low_open=True))
    part_class: str = ""


@dataclass
class ScenarioConfig:
    """A what-if over the default network: a list of timed disruptions; the baseline changes nothing.
    Days count from the run's ``start_date`` (day 0)."""

    #: the scenario's name (the MLflow experiment and the run folder carry it) and what it is about
    name: str = "baseline"
    description: str = "Default network, no disruption"
    #: the timed events, each a list of entries (fields: twin.config's *Config classes; see scenarios/):
    #: demand shocks, campaigns, carrier disruptions, DC outages, lead-time changes, model launches and
    #: part supersessions
    demand_shocks: list[DemandShockConfig] = field(default_factory=list)
    campaigns: list[CampaignConfig] = field(default_factory=list)
    carrier_disruptions: list[CarrierDisruptionConfig] = field(default_factory=list)
    dc_outages: list[DcOutageConfig] = field(default_factory=list)
    lead_time_changes: list[LeadTimeChangeConfig] = field(default_factory=list)
    model_launches: list[ModelLaunchConfig] = field(default_factory=list)
    supersessions: list[SupersessionConfig] = field(default_factory=list)


@dataclass
class LoggerConfig:
    #: "mlflow" or "none"
    kind: str = "mlflow"
    #: empty = the MLFLOW_TRACKING_URI environment variable, else sqlite:///<cwd>/mlflow.db
    tracking_uri: str = ""
    log_daily_metrics: bool = False
    #: run-folder files larger than this stay in the run folder only (listed with their size in the MLflow
    #: run's outputs_index.json, whose run_folder says where); smaller ones are copied to MLflow's artifacts
    max_artifact_mb: float = ranged(1.0, Range("MB", 0))


@dataclass
class RateCardConfig:
    """One version of a carrier's rate card (``twin.settlement.rate_cards``): the card in force on a
    shipment's ship day prices it. Days count from ``start_date``; ``valid_to_day`` is exclusive, -1 open-ended.
    The card's vehicle type is its carrier's mode in the master data (parts trucks or car carriers)."""

    carrier_id: str = ""
    version: str = "v1"
    valid_from_day: int = ranged(0, DAY)
    valid_to_day: int = ranged(
        -1, Range("day counted from start_date, exclusive; -1 open-ended", 0, MAX_DAYS, special=(-1,))
    )
    rate_per_km_inr: float = ranged(0.0, Range("INR per km", 0))
    minimum_charge_inr: float = ranged(0.0, INR)
    #: units (parts) or car slots per load the card is quoted on; 0 = the carrier's master-data capacity
    capacity_per_load: int = ranged(0, Range("units or car slots per load; 0 = the master data's", 0))
    #: fuel surcharge = pass_through x max(0, fuel price / base price - 1), on the line-haul charge
    fuel_base_price_inr: float = ranged(90.0, Range("INR per litre", 0, low_open=True))
    fuel_price_inr: float = ranged(90.0, Range("INR per litre", 0, low_open=True))
    fuel_pass_through: float = ranged(0.4, SHARE)
    extra_charge_per_shipment_inr: float = ranged(0.0, INR)
    #: emergency (express) parts lines; -1 = operations.emergency_charge_per_line_inr
    express_charge_per_line_inr: float = ranged(
        -1.0, Range("INR per line; -1 = operations.emergency_charge_per_line_inr", 0, special=(-1,))
    )


@dataclass
class FreightPayerConfig:
    """Who pays a freight category's charge: shares of the receiver, the sender and the OEM (subsidy). For
    shipments from the OEM's own sites the sender is the OEM."""

    category: str = ""
    receiver_share: float = ranged(1.0, SHARE)
    sender_share: float = ranged(0.0, SHARE)
    oem_share: float = ranged(0.0, SHARE)


@dataclass
class InvoiceErrorConfig:
    """Shares of carrier invoice lines billed wrongly (drawn from the ``settlement:invoices`` stream)."""

    #: small differences inside the tolerance: accepted and booked as freight variance
    noise_share: float = ranged(0.10, SHARE)
    overcharge_share: float = ranged(0.02, SHARE)
    undercharge_share: float = ranged(0.005, SHARE)
    duplicate_share: float = ranged(0.01, SHARE)


@dataclass
class IncentiveSchemeConfig:
    """A retail incentive: ``amount_inr`` per vehicle of ``model`` (empty = every model) delivered to an end
    customer in ``[start_day, end_day)``."""

    name: str = ""
    model: str = ""
    amount_inr: float = ranged(0.0, INR)
    start_day: int = ranged(0, DAY)
    end_day: int = ranged(0, DAY)


@dataclass
class InvalidClaimConfig:
    """Extra invalid incentive claims dealers file, per valid claim (drawn from ``settlement:claims``)."""

    #: per valid claim: claims on a demo car, on a car never delivered to an end customer, filed outside
    #: the scheme's window, and claims filed twice
    demo_registration: float = ranged(0.02, SHARE)
    no_end_customer_delivery: float = ranged(0.02, SHARE)
    outside_window: float = ranged(0.01, SHARE)
    duplicate_claim: float = ranged(0.01, SHARE)


def _default_freight_payers() -> list[FreightPayerConfig]:
    return [
        FreightPayerConfig("parts_replenishment", receiver_share=0.5, oem_share=0.5),
        FreightPayerConfig("parts_emergency", receiver_share=1.0),
        FreightPayerConfig("vehicle_delivery", receiver_share=1.0),
        FreightPayerConfig("vehicle_trunk", receiver_share=0.0, oem_share=1.0),
        FreightPayerConfig("parts_transfer", receiver_share=1.0),
        FreightPayerConfig("vehicle_transfer", receiver_share=0.5, sender_share=0.25, oem_share=0.25),
    ]


def _default_incentive_schemes() -> list[IncentiveSchemeConfig]:
    return [
        IncentiveSchemeConfig("new_year_retail", "", 5000.0, 0, 90),
        IncentiveSchemeConfig("festive_retail", "", 10000.0, 273, 319),
    ]


@dataclass
class SettlementConfig:
    """Nexa settlement (``twin.settlement``): freight and dealer charges in a double-entry ledger, carrier
    invoice reconciliation, weekly statements and payments, incentive-claim verification."""

    #: keep the ledger (off: no settlement files, slightly faster runs)
    enabled: bool = True
    #: a cycle closes every this many days (statements per dealer, carriers paid)
    period_days: int = ranged(7, CYCLE_DAYS)
    #: dealers pay a statement this many days after it closes (before the next one closes)
    payment_terms_days: int = ranged(3, DAYS)
    #: a disputed invoice line is settled at the contract charge this many days after it is raised
    dispute_resolution_days: int = ranged(10, CYCLE_DAYS)
    #: an invoice line is accepted when within max(tolerance_min_inr, tolerance_share x expected)
    tolerance_share: float = ranged(0.01, SHARE)
    tolerance_min_inr: float = ranged(5.0, INR)
    #: empty = one open-ended card per carrier from the master data (then ledger freight = freight KPIs)
    rate_cards: list[RateCardConfig] = field(default_factory=list)
    invoice_errors: InvoiceErrorConfig = field(default_factory=InvoiceErrorConfig)
    freight_payers: list[FreightPayerConfig] = field(default_factory=_default_freight_payers)
    #: the receiver pays the sender per transfer
    parts_transfer_handling_fee_inr: float = ranged(150.0, INR)
    vehicle_transfer_handling_fee_inr: float = ranged(2500.0, INR)
    incentive_schemes: list[IncentiveSchemeConfig] = field(default_factory=_default_incentive_schemes)
    invalid_claims: InvalidClaimConfig = field(default_factory=InvalidClaimConfig)
    #: also write the ledger as CSV next to the Parquet file (a year of the default network is ~150 MB)
    ledger_csv: bool = False


#: the intents of a dealer's question (issue #16), and those the twin asks: it can state their true answer
QUERY_INTENTS = (
    "allocation_status", "vin_status", "vehicle_stock", "part_stock", "part_eta", "network_availability",
    "transfer_status", "stockout_risk", "statement", "incentive_status", "campaign_status", "other",
)  # fmt: skip
MODELLED_QUERY_INTENTS = (
    "allocation_status", "vin_status", "vehicle_stock", "part_stock", "part_eta", "statement",
    "incentive_status", "other", "transfer_status",
)  # fmt: skip
#: events that make a dealer ask: a car past its due day, a customer's part on backorder, a claim rejected,
#: a dealer-to-dealer transfer to it on its way (policy/transfers=rebalancing)
QUERY_TRIGGERS = ("late_allocation", "parts_backorder", "claim_rejected", "transfer_departed")
#: who answers dealers' questions in the twin (``twin.engine.dealer_queries``)
QUERY_ANSWERERS = ("manager", "clara")


def _default_question_rates() -> dict[str, float]:
    # estimates (no public figure): about 2.6 questions a dealer a week besides those events trigger
    return {
        "allocation_status": 0.6, "vin_status": 0.3, "vehicle_stock": 0.2, "part_stock": 0.4, "part_eta": 0.4,
        "statement": 0.2, "incentive_status": 0.2, "other": 0.3,
    }  # fmt: skip


def _default_trigger_shares() -> dict[str, float]:
    return {"late_allocation": 0.5, "parts_backorder": 0.1, "claim_rejected": 0.5, "transfer_departed": 0.3}


@dataclass
class QueriesConfig:
    """Dealers' questions as a process in the twin (``twin.engine.dealer_queries``), answered by the regional
    managers from the weekly export or by Clara from the live state. Hours are IST, day 0 starting at midnight."""

    #: off (the default): no questions, and the run is exactly as without this section
    enabled: bool = False
    #: manager (the regional managers answer from the OEM's weekly export) or clara (answers at once from the
    #: live state; what it escalates goes to the managers). conf/queries/<option>.yaml turns either on
    answered_by: str = "manager"
    #: questions a dealer asks a week by intent, besides triggered ones (modelled intents only; transfer_status
    #: is asked when a transfer is on its way, see ask_probability_by_trigger)
    questions_per_dealer_week: dict[str, float] = field(
        default_factory=_default_question_rates,
        metadata={"range": Range("questions per dealer per week", 0, 1000)},
    )
    #: chance that an event makes its dealer ask (late_allocation: per dealer-day with a car past due;
    #: parts_backorder: per new backorder; claim_rejected: per rejected incentive claim; transfer_departed:
    #: per dealer-day with a transfer to it leaving)
    ask_probability_by_trigger: dict[str, float] = field(
        default_factory=_default_trigger_shares, metadata={"range": PROBABILITY}
    )
    #: a car allocated to a dealer is late once it is still not in this many days after it could have come
    #: (its wait at the stockyard up to operations.carrier_max_wait_days, then the lane's transit)
    late_allocation_grace_days: float = ranged(1.0, DAYS)
    #: dealers ask between these hours (IST, every day)
    dealer_opens_hour: float = ranged(9.0, Range("hour of the day", 0, 24))
    dealer_closes_hour: float = ranged(20.0, Range("hour of the day", 0, 24))
    #: regional managers answering questions, per region
    managers_per_region: int = ranged(2, Range("managers", 1, 10_000))
    #: the managers' working hours (IST) and days
    manager_opens_hour: float = ranged(9.5, Range("hour of the day", 0, 24))
    manager_closes_hour: float = ranged(18.5, Range("hour of the day", 0, 24))
    manager_weekdays: list[str] = field(
        default_factory=lambda: ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
    )
    #: a manager's handling time per question: lognormal with this mean (minutes) and log-sd
    handling_minutes_mean: float = ranged(12.0, Range("minutes", 0, 10_000, low_open=True))
    handling_minutes_sigma: float = ranged(0.6, Range("lognormal sigma", 0, 5))
    #: a dealer given a wrong answer comes back (reopens) with this chance; a reopened question goes to
    #: the managers and was not resolved autonomously
    wrong_answer_reopen_probability: float = ranged(0.8, PROBABILITY)


#: the years a run may be dated in (a start date and horizon outside them are refused)
START_YEARS = (1970, 2200)


@dataclass
class TwinConfig:
    network: NetworkConfig = field(default_factory=NetworkConfig)
    demand: DemandConfig = field(default_factory=DemandConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    operations: OperationsConfig = field(default_factory=OperationsConfig)
    scenario: ScenarioConfig = field(default_factory=ScenarioConfig)
    logger: LoggerConfig = field(default_factory=LoggerConfig)
    settlement: SettlementConfig = field(default_factory=SettlementConfig)
    queries: QueriesConfig = field(default_factory=QueriesConfig)
    #: days simulated, and the first days left out of every KPI while the opening state settles
    horizon_days: int = ranged(365, Range("days; bounded by the memory the run needs", 1))
    warmup_days: int = ranged(28, DAYS)
    #: the run's random seed: same seed and config, same results; policies compared on one seed see the
    #: same demand and lead times (common random numbers)
    seed: int = ranged(1, SEED)
    #: the calendar date of day 0 (ISO, YYYY-MM-DD)
    start_date: str = "2026-01-01"
    #: record every discrete event (vehicle moves, shipments, parts lines); for traces and debugging
    event_log: bool = False
    #: start from this snapshot folder (written by an earlier run, or built from live feeds) instead of a new state
    start_from_snapshot: str = ""
    #: with start_from_snapshot: continue as a what-if with other policies, scenario, demand, operations or
    #: seed than the snapshot was taken with (recorded in the run as a fork); false refuses any difference
    fork: bool = False
    #: write a snapshot of the whole state at the start of these days, under <run folder>/snapshots/
    snapshot_days: list[int] = field(default_factory=list, metadata={"range": DAY})
    #: write the state at the end of the run under <run folder>/state/ (what twin-ask and the web view read)
    final_state: bool = True
    #: show a progress bar
    progress: bool = True
    #: the MLflow run name; empty = named by what sets the run apart (scenario, network, horizon, policies, seed)
    run_name: str = ""


#: the KPIs a comparison plots and puts first in its report
HEADLINE_KPIS: tuple[str, ...] = (
    "parts_fill_rate_line",
    "parts_fill_rate_piece",
    "parts_emergency_order_share",
    "parts_lost_sales_units",
    "parts_dealer_stock_value_inr",
    "vehicle_sales",
    "vehicle_lost_sale_share",
    "vehicle_spec_availability",
    "vehicle_age_share_over_90d",
    "working_capital_inr",
    "freight_cost_inr",
    "floor_plan_interest_inr",
)


@dataclass
class CompareConfig:
    """``twin-compare``: arms are lists of ``twin-run`` overrides; replication r of every arm runs on seed
    ``base_seed + r`` (common random numbers), so arms are compared pair by pair."""

    name: str = "comparison"
    description: str = ""
    baseline_arm: str = "baseline"
    arms: dict[str, list[str]] = field(default_factory=dict)
    #: overrides applied to every arm (e.g. network=small, horizon_days=180)
    common_overrides: list[str] = field(default_factory=list)
    replications: int = ranged(10, Range("replications: a paired interval needs at least 2", 2, 100_000))
    base_seed: int = ranged(1, SEED)
    #: false: replication r of every arm runs on seed base_seed + r (common random numbers, paired). true:
    #: each arm draws its own seeds (arm i: base_seed + r + 100000 i) - an honest A/A, whose identical arms
    #: should then differ significantly in about alpha of the KPIs
    independent_seeds: bool = False
    #: inline, process (local pool over the cores) or ray (pip install -e ".[dist]")
    executor: str = "process"
    #: 0 = every core
    workers: int = ranged(0, Range("processes; 0 = every core", 0, 10_000))
    #: a Ray cluster address (ray://host:10001); empty starts a local one on 127.0.0.1
    ray_address: str = ""
    alpha: float = ranged(0.05, Range("significance level", 0, 1, low_open=True, high_open=True))
    headline_kpis: list[str] = field(default_factory=lambda: list(HEADLINE_KPIS))
    logger: LoggerConfig = field(default_factory=LoggerConfig)
    progress: bool = True


def validate_compare(config: CompareConfig) -> CompareConfig:
    check_ranges(config)
    # the name is a folder under outputs/compare: one plain name, never a path out of it
    _require(
        bool(config.name.strip()) and not set(config.name) & set("/\\") and config.name not in (".", ".."),
        "name",
        config.name,
        "must be a plain folder name (no '/', '\\', '.' or '..')",
    )
    _require(len(config.arms) >= 2, "arms", list(config.arms), "a comparison needs at least two arms")
    _require(
        config.baseline_arm in config.arms,
        "baseline_arm",
        config.baseline_arm,
        f"must be one of the arms {list(config.arms)}",
    )
    _require(
        config.executor in ("inline", "process", "ray"),
        "executor",
        config.executor,
        "must be inline, process or ray",
    )
    _require(
        config.logger.kind in ("mlflow", "none"),
        "logger.kind",
        config.logger.kind,
        "must be 'mlflow' or 'none'",
    )
    return config


def _require(condition: bool, field_name: str, value: Any, reason: str) -> None:
    if not condition:
        raise ConfigError(field_name, value, reason)


def _refuse_unknown_settings(node: Any, key: str) -> None:
    """An attribute that is not a field of its settings class (a ``+key=`` override, a mistyped name in
    Python) would be ignored by whatever reads the fields: refuse it, naming its key."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            _refuse_unknown_settings(item, f"{key}[{index}]")
        return
    if not is_dataclass(node) or isinstance(node, type):
        return
    names = [settings.name for settings in fields(node)]
    prefix = f"{key}." if key else ""
    for name, value in vars(node).items():
        if name in names:
            continue
        target = f" ({vars(node)['_target_']})" if "_target_" in names else ""
        close = difflib.get_close_matches(name, [known for known in names if not known.startswith("_")], n=3)
        hint = f"; did you mean {' or '.join(repr(match) for match in close)}?" if close else ""
        raise ConfigError(prefix + name, value, f"is not a setting of {type(node).__name__}{target}{hint}")
    for name in names:
        _refuse_unknown_settings(getattr(node, name), prefix + name)


#: bytes per [location, SKU] cell of the parts state: ~10 int32 ledger arrays (on hand, reserved, in transit,
#: backorder...) plus the float32/bool working arrays of the flows and the control tower
PARTS_BYTES_PER_CELL = 48
#: float64 slots per simulated day besides the transit noise: the daily KPI table (~40 columns), its
#: per-region (5 a region) and per-part-class (2 a class) breakdowns, and the forecasters' seasonal profiles
DAILY_KPI_COLUMNS = 100
#: bytes per vehicle row of the VIN column table
BYTES_PER_VEHICLE = 64


def state_memory_bytes(config: TwinConfig) -> dict[str, int]:
    """The dominant allocations of a run, keyed by the setting that drives each (a lower bound: the rest of
    the state is small beside them). With ``master_data_dir`` the network's size is only known once its files
    are read, so a one-site network stands in for it and only the horizon is judged here."""
    network = config.network
    generated = not network.master_data_dir
    dealers = network.dealers if generated else 1
    dcs = network.parts_dcs if generated else 1
    stockyards = network.stockyards if generated else 1
    skus = network.skus if generated else 1
    days = config.horizon_days + 1
    # transit noise: float64 [days, lanes] for the parts and vehicle lane of every dealer, trunks and suppliers
    lanes = 2 * dealers + stockyards + dcs
    per_day = 8 * (DAILY_KPI_COLUMNS + lanes)
    customers_per_day = (
        config.demand.vehicle_customers_per_dealer_month * config.demand.demand_multiplier / 30.4
    )
    sold = dealers * customers_per_day * days if generated else 0.0
    parts = (dealers + dcs) * skus * PARTS_BYTES_PER_CELL
    # the parts arrays are dealers x SKUs: the one grown most beyond its default names them
    default = NetworkConfig()
    parts_field = "network.dealers" if dealers / default.dealers >= skus / default.skus else "network.skus"
    return {
        "horizon_days": int(days * per_day + sold * BYTES_PER_VEHICLE),
        parts_field: int(parts),
        "network.vehicles_per_dealer": int(dealers * network.vehicles_per_dealer * BYTES_PER_VEHICLE)
        if generated
        else 0,
    }


def machine_memory_bytes() -> int:
    """Physical memory of this machine (0 where the platform does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return 0


def _check_memory(config: TwinConfig) -> None:
    needs = state_memory_bytes(config)
    total = sum(needs.values())
    available = machine_memory_bytes()
    if available and total > available:
        driver = max(needs, key=lambda name: needs[name])
        value = config.network if driver.startswith("network.") else config
        gib = 1 << 30
        raise ConfigError(
            driver,
            getattr(value, driver.rsplit(".", 1)[-1]),
            f"the run's state would need about {total / gib:,.1f} GiB of memory "
            f"({needs[driver] / gib:,.1f} GiB of it for this setting) but this machine has "
            f"{available / gib:,.1f} GiB",
        )


def validate(config: TwinConfig) -> TwinConfig:
    """Reject nonsensical settings before anything is built: unknown keys, then every numeric field against
    its declared range, then whether the state fits in memory, then the relations between fields."""
    _refuse_unknown_settings(config, "")
    check_ranges(config)
    _check_memory(config)
    _require(
        config.warmup_days < config.horizon_days,
        "warmup_days",
        config.warmup_days,
        f"must be >= 0 and below horizon_days ({config.horizon_days})",
    )
    for index, day in enumerate(config.snapshot_days):
        _require(
            day < config.horizon_days,
            f"snapshot_days[{index}]",
            day,
            f"must be within 0..{config.horizon_days - 1}",
        )
    try:
        start = dt.date.fromisoformat(config.start_date)
    except ValueError:
        raise ConfigError("start_date", config.start_date, "must be an ISO date like 2026-01-01") from None
    # calendars, seasons and feeds are dated: the whole run must fall within years a network can run in
    _require(
        START_YEARS[0] <= start.year and start.year + config.horizon_days / 365.25 < START_YEARS[1],
        "start_date",
        config.start_date,
        f"the run ({config.horizon_days} days from it) must fall within {START_YEARS[0]}..{START_YEARS[1] - 1}",
    )
    operations = config.operations
    _require(
        operations.parts_visibility in PARTS_VISIBILITY,
        "operations.parts_visibility",
        operations.parts_visibility,
        f"must be one of {', '.join(PARTS_VISIBILITY)}",
    )
    for key, value, choices in (
        ("operations.dealer_shortage", operations.dealer_shortage, DEALER_SHORTAGE),
        ("operations.lateral_pool", operations.lateral_pool, LATERAL_POOLS),
        ("demand.parts_demand_model", config.demand.parts_demand_model, PARTS_DEMAND_MODELS),
    ):
        _require(value in choices, key, value, f"must be one of {', '.join(choices)}")
    _require(
        operations.parts_export_weekday in WEEKDAYS,
        "operations.parts_export_weekday",
        operations.parts_export_weekday,
        f"must be a weekday name ({', '.join(WEEKDAYS)})",
    )
    _require(
        operations.opening_cover_days_max >= operations.opening_cover_days_min,
        "operations.opening_cover_days_max",
        operations.opening_cover_days_max,
        f"must be >= opening_cover_days_min ({operations.opening_cover_days_min})",
    )
    for family in ("replenishment", "allocation", "sourcing", "transfers", "campaign"):
        settings = getattr(config.policy, family)
        _require(
            isinstance(settings, PolicySettings),
            f"policy.{family}",
            settings,
            f"must be one of the family's settings (policy/{family}=<name>; see twin.config.POLICY_OPTIONS), "
            f"not a {type(settings).__name__}",
        )
        settings.check(f"policy.{family}")
    _validate_forecasting(config.policy.forecast, config.policy.alerts)
    _require(
        config.logger.kind in ("mlflow", "none"),
        "logger.kind",
        config.logger.kind,
        "must be 'mlflow' or 'none'",
    )
    _validate_scenario(config.scenario)
    _validate_settlement(config.settlement, config.horizon_days)
    _validate_queries(config.queries)
    return config


FORECAST_METHODS = ("ses", "seasonal_ses", "croston", "sba", "tsb")
FORECAST_SELECTIONS = ("class", "error")
#: ``operations.parts_visibility``: the continuous feed, or the OEM's periodic DMS export
PARTS_VISIBILITY = ("live", "weekly_export")
#: ``operations.dealer_shortage``: what a shortfall at a dealer's shelf becomes
DEALER_SHORTAGE = ("by_class", "lost_sales", "backorder")
#: ``operations.lateral_pool``: which dealers pool their stock at the moment of demand
LATERAL_POOLS = ("none", "region", "dc", "network")
#: ``demand.parts_demand_model``: the default compound Poisson lines, or a textbook model
PARTS_DEMAND_MODELS = ("compound_poisson", "poisson", "normal", "deterministic")
#: weekday names in ``datetime.date.weekday()`` order
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _validate_transfers(transfers: TransferConfig, prefix: str) -> None:
    """Relations between the numbers; the rules themselves are checked when the policy engine is built
    (naming the rule)."""
    prefix += "."
    _require(
        transfers.surplus_cover_days >= transfers.deficit_cover_days,
        prefix + "surplus_cover_days",
        transfers.surplus_cover_days,
        f"must be >= deficit_cover_days={transfers.deficit_cover_days}",
    )
    _require(
        transfers.approval_median_hours < transfers.approval_p90_hours,
        prefix + "approval_p90_hours",
        transfers.approval_p90_hours,
        f"must be > approval_median_hours={transfers.approval_median_hours} > 0",
    )


def _validate_forecasting(forecast: ForecastConfig, alerts: AlertConfig) -> None:
    for name in (
        "method_smooth",
        "method_erratic",
        "method_intermittent",
        "method_lumpy",
        "method_no_demand",
    ):
        value = getattr(forecast, name)
        _require(
            value in FORECAST_METHODS, f"policy.forecast.{name}", value, f"must be one of {FORECAST_METHODS}"
        )
    _require(
        forecast.selection in FORECAST_SELECTIONS,
        "policy.forecast.selection",
        forecast.selection,
        f"must be one of {FORECAST_SELECTIONS}",
    )
    _require(
        alerts.clear_threshold < alerts.risk_threshold,
        "policy.alerts.clear_threshold",
        alerts.clear_threshold,
        f"must be >= 0 and below risk_threshold ({alerts.risk_threshold})",
    )
    horizons = list(alerts.horizons_days)
    _require(
        bool(horizons) and horizons == sorted(set(horizons)) and horizons[0] >= 1,
        "policy.alerts.horizons_days",
        horizons,
        "must be distinct whole days >= 1 in ascending order",
    )


def _validate_scenario(scenario: ScenarioConfig) -> None:
    """Windows and names; regions, models, carriers and DCs are checked against the world at build."""
    windows = [
        (f"scenario.{group}[{index}]", event)
        for group in ("demand_shocks", "campaigns", "carrier_disruptions", "dc_outages", "lead_time_changes")
        for index, event in enumerate(getattr(scenario, group))
    ]
    for prefix, event in windows:
        _require(
            event.end_day > event.start_day,
            f"{prefix}.end_day",
            event.end_day,
            f"must be after start_day ({event.start_day})",
        )
    names = [campaign.name for campaign in scenario.campaigns]
    for index, campaign in enumerate(scenario.campaigns):
        prefix = f"scenario.campaigns[{index}]"
        _require(bool(campaign.name), f"{prefix}.name", campaign.name, "must be given (the reports name it)")
        _require(campaign.name not in names[:index], f"{prefix}.name", campaign.name, "is used twice")
    for index, disruption in enumerate(scenario.carrier_disruptions):
        _require(
            bool(disruption.carrier_id or disruption.region),
            f"scenario.carrier_disruptions[{index}].carrier_id",
            disruption.carrier_id,
            "name a carrier or a region",
        )
    launched: dict[str, int] = {}
    for index, launch in enumerate(scenario.model_launches):
        _require(
            launch.model not in launched,
            f"scenario.model_launches[{index}].model",
            launch.model,
            f"is launched by model_launches[{launched.get(launch.model)}] already: a model has one launch day",
        )
        launched[launch.model] = index


def _validate_queries(queries: QueriesConfig) -> None:
    """Names and relations; the question rates' and shares' ranges are declared on their fields."""
    _require(
        queries.answered_by in QUERY_ANSWERERS,
        "queries.answered_by",
        queries.answered_by,
        f"must be one of {', '.join(QUERY_ANSWERERS)}",
    )
    for intent in queries.questions_per_dealer_week:
        _require(
            intent in MODELLED_QUERY_INTENTS,
            f"queries.questions_per_dealer_week.{intent}",
            queries.questions_per_dealer_week[intent],
            f"the twin asks only {', '.join(MODELLED_QUERY_INTENTS)}"
            + (" (it cannot state this intent's true answer)" if intent in QUERY_INTENTS else ""),
        )
    for trigger in queries.ask_probability_by_trigger:
        _require(
            trigger in QUERY_TRIGGERS,
            f"queries.ask_probability_by_trigger.{trigger}",
            queries.ask_probability_by_trigger[trigger],
            f"must be one of {', '.join(QUERY_TRIGGERS)}",
        )
    for index, weekday in enumerate(queries.manager_weekdays):
        _require(
            weekday in WEEKDAYS,
            f"queries.manager_weekdays[{index}]",
            weekday,
            f"must be a weekday name ({', '.join(WEEKDAYS)})",
        )
    _require(bool(queries.manager_weekdays), "queries.manager_weekdays", [], "managers work some day")
    for who in ("dealer", "manager"):
        opens, closes = getattr(queries, f"{who}_opens_hour"), getattr(queries, f"{who}_closes_hour")
        _require(
            closes > opens, f"queries.{who}_closes_hour", closes, f"must be after {who}_opens_hour ({opens})"
        )


FREIGHT_CATEGORIES = (
    "parts_replenishment",
    "parts_emergency",
    "vehicle_delivery",
    "vehicle_trunk",
    "parts_transfer",
    "vehicle_transfer",
)


def _validate_settlement(settlement: SettlementConfig, horizon_days: int) -> None:
    """Cycles, shares and rate cards; carrier ids and model names are checked against the world at build."""
    from twin.settlement.rate_cards import check_tiling

    _require(
        settlement.payment_terms_days < settlement.period_days,
        "settlement.payment_terms_days",
        settlement.payment_terms_days,
        f"must be >= 0 and below period_days ({settlement.period_days}): a statement is paid before the next",
    )
    for group in ("invoice_errors", "invalid_claims"):
        shares = vars(getattr(settlement, group))
        _require(sum(shares.values()) <= 1, f"settlement.{group}", shares, "shares add up to more than 1")
    check_tiling(
        [(card.carrier_id, card.valid_from_day, card.valid_to_day) for card in settlement.rate_cards],
        horizon_days,
    )
    categories = [payer.category for payer in settlement.freight_payers]
    for index, payer in enumerate(settlement.freight_payers):
        _require(
            payer.category in FREIGHT_CATEGORIES,
            f"settlement.freight_payers[{index}].category",
            payer.category,
            f"must be one of {FREIGHT_CATEGORIES}",
        )
        _require(
            categories.count(payer.category) == 1,
            f"settlement.freight_payers[{index}].category",
            payer.category,
            "has more than one rule",
        )
        shares = (payer.receiver_share, payer.sender_share, payer.oem_share)
        _require(
            abs(sum(shares) - 1.0) < 1e-9,
            f"settlement.freight_payers[{index}]",
            shares,
            "receiver, sender and OEM shares must be >= 0 and add up to 1",
        )
    missing = [category for category in FREIGHT_CATEGORIES if category not in categories]
    _require(not missing, "settlement.freight_payers", missing, "every freight category needs a rule")
    for index, scheme in enumerate(settlement.incentive_schemes):
        _require(
            scheme.end_day > scheme.start_day,
            f"settlement.incentive_schemes[{index}].end_day",
            scheme.end_day,
            f"must be after start_day ({scheme.start_day})",
        )
