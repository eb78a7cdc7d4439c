"""Every setting of a twin run, as typed dataclasses with units and defaults declared once.

Hydra validates the YAML in ``conf/`` against these classes (registered in ``twin.hydra_store``); the engine
takes a ``TwinConfig`` and never reads a setting anywhere else. Range checks that types cannot express
live in ``validate`` and raise ``ConfigError`` naming the field and the value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from twin.errors import ConfigError


@dataclass
class NetworkConfig:
    """Shape of the generated network (or where to read a user's own master data)."""

    name: str = "default"
    dealers: int = 400
    parts_dcs: int = 4
    plants: int = 1
    stockyards: int = 4
    carriers: int = 3
    models: int = 7
    skus: int = 2000
    vehicles_per_dealer: int = 100
    road_factor: float = 1.25
    #: seed of the master-data generator; kept apart from the run seed so replications share one network
    generator_seed: int = 2026
    #: folder with dealers/parts_catalog/vehicle_specs/... CSV or Parquet files; empty = generate
    master_data_dir: str = ""


@dataclass
class DemandConfig:
    """Parts and vehicle demand model; built with ``_target_`` so another model can be swapped in."""

    _target_: str = "twin.engine.demand.DemandModel"
    #: mean parts order lines per dealer per day across all SKUs (counter + workshop)
    parts_lines_per_dealer_day: float = 250.0
    #: mean vehicle customers (showroom walk-ins who want to buy) per dealer per month; ~85% end up buying
    vehicle_customers_per_dealer_month: float = 65.0
    #: switch the Indian monthly profile (low May, festive Oct-Nov peak) on or off
    seasonality: bool = True
    #: multiplies every dealer's parts and vehicle demand (what-if knob)
    demand_multiplier: float = 1.0
    #: mean days a vehicle customer waits for a factory order before walking away
    customer_patience_days_mean: float = 45.0
    #: probability a customer accepts another colour of the same variant when theirs is not in the yard
    accept_other_colour: float = 0.6
    #: probability a customer accepts another variant of the same model
    accept_other_variant: float = 0.3
    #: mean whole days a repair order holds its parts as workshop WIP before they are consumed
    workshop_repair_days_mean: float = 1.5
    #: mean whole days a counter order waits reserved for pickup (30% of counter lines; the rest go at once)
    counter_pickup_days_mean: float = 1.0


@dataclass
class ReplenishmentPolicyConfig:
    _target_: str = "twin.policies.baseline.StaticMinMaxReplenishment"
    #: days of demand cover held as the reorder point (min), per SKU class name; missing classes use default
    min_cover_days: float = 14.0
    #: days of demand cover ordered up to (max)
    max_cover_days: float = 35.0
    #: stock a part only after this many demand lines in the last 12 months (phase-in rule)
    phase_in_lines_per_year: int = 3


@dataclass
class AllocationPolicyConfig:
    _target_: str = "twin.policies.baseline.ProRataAllocation"
    #: days of sales a dealer is allowed to hold; allocation stops at that stock
    target_days_supply: float = 55.0


@dataclass
class SourcingPolicyConfig:
    _target_: str = "twin.policies.baseline.FactoryOrderSourcing"


@dataclass
class PolicyConfig:
    replenishment: ReplenishmentPolicyConfig = field(default_factory=ReplenishmentPolicyConfig)
    allocation: AllocationPolicyConfig = field(default_factory=AllocationPolicyConfig)
    sourcing: SourcingPolicyConfig = field(default_factory=SourcingPolicyConfig)
    #: how often the OEM sees dealer stock (the baseline world: a weekly DMS export)
    visibility_refresh_days: int = 7


@dataclass
class OperationsConfig:
    """Lead times, capacities and money rates of the physical network."""

    dc_dispatch_delay_days: float = 0.5
    transit_time_cv: float = 0.25
    emergency_lead_time_days: float = 1.0
    emergency_charge_per_line_inr: float = 350.0
    #: when the DC has none, the supplier drop-ships an emergency order to the dealer
    supplier_emergency_lead_time_days: float = 5.0
    supplier_lead_time_days: float = 21.0
    dc_cover_days: float = 30.0
    plant_to_stockyard_days: float = 4.0
    factory_order_build_days: float = 21.0
    carrier_max_wait_days: float = 3.0
    parts_holding_rate_per_year: float = 0.25
    floor_plan_rate_per_year: float = 0.085
    vehicle_margin_share: float = 0.035
    parts_margin_share: float = 0.25
    allocation_period_days: int = 7


@dataclass
class DemandShockConfig:
    """Demand multiplied over ``[start_day, end_day)`` for a region and/or model (empty = all). The parts
    multiplier applies to the region's whole parts demand: service parts are not tied to one model."""

    start_day: int = 0
    end_day: int = 0
    region: str = ""
    model: str = ""
    vehicle_multiplier: float = 1.0
    parts_multiplier: float = 1.0


@dataclass
class CarrierDisruptionConfig:
    """A carrier (or the lanes into a region, optionally of one carrier) loses capacity; 0 closes it.

    Carrier-wide: a car carrier loses that share of its trucks, a parts carrier of its daily units. Region
    lanes: each dealer's parts consignments carry that share of the units, and its car-carrier lane sends at
    most ``capacity_share`` loads a day (a lane at 0.5 sends a load every other day at most)."""

    start_day: int = 0
    end_day: int = 0
    carrier_id: str = ""
    region: str = ""
    capacity_share: float = 0.5


@dataclass
class DcOutageConfig:
    """A parts DC ships nothing (stock orders or emergencies) over the window; it still receives."""

    dc_id: str = ""
    start_day: int = 0
    end_day: int = 0


@dataclass
class LeadTimeChangeConfig:
    """Supplier lead times and road transit times multiplied for shipments leaving in the window."""

    start_day: int = 0
    end_day: int = 0
    supplier_multiplier: float = 1.0
    transit_multiplier: float = 1.0


@dataclass
class ModelLaunchConfig:
    """A model that nobody can buy before ``launch_day`` (no opening stock either)."""

    model: str = ""
    launch_day: int = 0


@dataclass
class SupersessionConfig:
    """On ``day`` a share of a class's SKUs is superseded: their demand rolls up to a successor number."""

    day: int = 0
    sku_share: float = 0.02
    part_class: str = ""


@dataclass
class ScenarioConfig:
    """A what-if over the default network: a list of timed disruptions; the baseline changes nothing.
    Days count from the run's ``start_date`` (day 0)."""

    name: str = "baseline"
    description: str = "Default network, no disruption"
    demand_shocks: list[DemandShockConfig] = field(default_factory=list)
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


@dataclass
class TwinConfig:
    network: NetworkConfig = field(default_factory=NetworkConfig)
    demand: DemandConfig = field(default_factory=DemandConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    operations: OperationsConfig = field(default_factory=OperationsConfig)
    scenario: ScenarioConfig = field(default_factory=ScenarioConfig)
    logger: LoggerConfig = field(default_factory=LoggerConfig)
    horizon_days: int = 365
    warmup_days: int = 28
    seed: int = 1
    start_date: str = "2026-01-01"
    #: record every discrete event (vehicle moves, shipments, parts lines); for traces and debugging
    event_log: bool = False
    #: start from this snapshot folder (written by an earlier run, or built from live feeds) instead of a new state
    start_from_snapshot: str = ""
    #: write a snapshot of the whole state at the start of these days, under <run folder>/snapshots/
    snapshot_days: list[int] = field(default_factory=list)
    progress: bool = True


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
    replications: int = 10
    base_seed: int = 1
    #: inline, process (local pool over the cores) or ray (pip install -e ".[dist]")
    executor: str = "process"
    #: 0 = every core
    workers: int = 0
    #: a Ray cluster address (ray://host:10001); empty starts a local one on 127.0.0.1
    ray_address: str = ""
    alpha: float = 0.05
    headline_kpis: list[str] = field(default_factory=lambda: list(HEADLINE_KPIS))
    logger: LoggerConfig = field(default_factory=LoggerConfig)
    progress: bool = True


def validate_compare(config: CompareConfig) -> CompareConfig:
    _require(
        config.replications >= 2, "replications", config.replications, "a paired interval needs at least 2"
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
    _require(config.workers >= 0, "workers", config.workers, "must be >= 0 (0 = every core)")
    _require(0 < config.alpha < 1, "alpha", config.alpha, "must be in (0, 1)")
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


def validate(config: TwinConfig) -> TwinConfig:
    """Reject nonsensical settings before anything is built."""
    _require(
        config.horizon_days > 0, "horizon_days", config.horizon_days, "must be a positive number of days"
    )
    _require(
        0 <= config.warmup_days < config.horizon_days,
        "warmup_days",
        config.warmup_days,
        f"must be >= 0 and below horizon_days ({config.horizon_days})",
    )
    for day in config.snapshot_days:
        _require(
            0 <= day < config.horizon_days,
            "snapshot_days",
            day,
            f"must be within 0..{config.horizon_days - 1}",
        )
    try:
        dt.date.fromisoformat(config.start_date)
    except ValueError:
        raise ConfigError("start_date", config.start_date, "must be an ISO date like 2026-01-01") from None
    network = config.network
    for name in ("dealers", "parts_dcs", "plants", "stockyards", "carriers", "models", "skus"):
        value = getattr(network, name)
        _require(value >= 1, f"network.{name}", value, "must be at least 1")
    _require(
        network.vehicles_per_dealer >= 0,
        "network.vehicles_per_dealer",
        network.vehicles_per_dealer,
        "must be >= 0",
    )
    _require(
        network.road_factor >= 1.0,
        "network.road_factor",
        network.road_factor,
        "road distance cannot be shorter than the great circle",
    )
    demand = config.demand
    for name in ("parts_lines_per_dealer_day", "vehicle_customers_per_dealer_month", "demand_multiplier"):
        value = getattr(demand, name)
        _require(value >= 0, f"demand.{name}", value, "must be >= 0")
    _require(
        demand.customer_patience_days_mean > 0,
        "demand.customer_patience_days_mean",
        demand.customer_patience_days_mean,
        "must be > 0",
    )
    for name in ("accept_other_colour", "accept_other_variant"):
        value = getattr(demand, name)
        _require(0 <= value <= 1, f"demand.{name}", value, "is a probability in [0, 1]")
    operations = config.operations
    for name, value in vars(operations).items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            _require(
                value >= 0,
                f"operations.{name}",
                value,
                "must be >= 0 (no negative times, rates or capacities)",
            )
    _require(
        operations.allocation_period_days >= 1,
        "operations.allocation_period_days",
        operations.allocation_period_days,
        "must be >= 1",
    )
    replenishment = config.policy.replenishment
    _require(
        replenishment.min_cover_days >= 0,
        "policy.replenishment.min_cover_days",
        replenishment.min_cover_days,
        "must be >= 0",
    )
    _require(
        replenishment.max_cover_days >= replenishment.min_cover_days,
        "policy.replenishment.max_cover_days",
        replenishment.max_cover_days,
        f"must be >= min_cover_days ({replenishment.min_cover_days})",
    )
    _require(
        config.policy.visibility_refresh_days >= 1,
        "policy.visibility_refresh_days",
        config.policy.visibility_refresh_days,
        "must be >= 1",
    )
    _require(
        config.logger.kind in ("mlflow", "none"),
        "logger.kind",
        config.logger.kind,
        "must be 'mlflow' or 'none'",
    )
    _validate_scenario(config.scenario)
    return config


def _validate_scenario(scenario: ScenarioConfig) -> None:
    """Windows and factors; names (regions, models, carriers, DCs) are checked against the world at build."""
    windows = [
        (f"scenario.{group}[{index}]", event)
        for group in ("demand_shocks", "carrier_disruptions", "dc_outages", "lead_time_changes")
        for index, event in enumerate(getattr(scenario, group))
    ]
    for prefix, event in windows:
        _require(event.start_day >= 0, f"{prefix}.start_day", event.start_day, "must be >= 0")
        _require(
            event.end_day > event.start_day,
            f"{prefix}.end_day",
            event.end_day,
            f"must be after start_day ({event.start_day})",
        )
    for index, shock in enumerate(scenario.demand_shocks):
        for name in ("vehicle_multiplier", "parts_multiplier"):
            _require(
                getattr(shock, name) >= 0,
                f"scenario.demand_shocks[{index}].{name}",
                getattr(shock, name),
                "must be >= 0",
            )
    for index, disruption in enumerate(scenario.carrier_disruptions):
        _require(
            0 <= disruption.capacity_share <= 1,
            f"scenario.carrier_disruptions[{index}].capacity_share",
            disruption.capacity_share,
            "is a share in [0, 1]",
        )
        _require(
            bool(disruption.carrier_id or disruption.region),
            f"scenario.carrier_disruptions[{index}].carrier_id",
            disruption.carrier_id,
            "name a carrier or a region",
        )
    for index, change in enumerate(scenario.lead_time_changes):
        for name in ("supplier_multiplier", "transit_multiplier"):
            _require(
                getattr(change, name) > 0,
                f"scenario.lead_time_changes[{index}].{name}",
                getattr(change, name),
                "must be > 0",
            )
    for index, launch in enumerate(scenario.model_launches):
        _require(
            launch.launch_day >= 0,
            f"scenario.model_launches[{index}].launch_day",
            launch.launch_day,
            "must be >= 0",
        )
    for index, supersession in enumerate(scenario.supersessions):
        _require(
            supersession.day >= 0, f"scenario.supersessions[{index}].day", supersession.day, "must be >= 0"
        )
        _require(
            0 < supersession.sku_share <= 0.5,
            f"scenario.supersessions[{index}].sku_share",
            supersession.sku_share,
            "is a share in (0, 0.5]",
        )
