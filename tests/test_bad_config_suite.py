"""Bad settings, section by section: each is refused by ``validate`` with a ``ConfigError`` whose field is the
key a user types and whose message carries the value as given (issue 19).

Most cases set one key on a config that is valid to begin with (it holds one entry of every list, so list
items are reachable); a few go through Hydra's composition, as ``twin-run key=value`` does.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from twin.cli import CONFIG_DIR, to_twin_config
from twin.config import (
    POLICY_OPTIONS,
    CampaignConfig,
    CarrierDisruptionConfig,
    DcOutageConfig,
    DemandShockConfig,
    IncentiveSchemeConfig,
    LeadTimeChangeConfig,
    ModelLaunchConfig,
    RateCardConfig,
    SupersessionConfig,
    TwinConfig,
    validate,
)
from twin.errors import ConfigError

INF = math.inf
NAN = math.nan


def base_config(**options: str) -> TwinConfig:
    """A valid config with one entry in every list setting, and the named policy options."""
    config = TwinConfig(snapshot_days=[10])
    for family, option in options.items():
        setattr(config.policy, family, POLICY_OPTIONS[family][option]())
    scenario = config.scenario
    scenario.demand_shocks = [DemandShockConfig(10, 20, vehicle_multiplier=1.2)]
    scenario.campaigns = [CampaignConfig("spring", start_day=30, end_day=60, vehicle_uplift=1.3)]
    scenario.carrier_disruptions = [CarrierDisruptionConfig(40, 50, carrier_id="CR01")]
    scenario.dc_outages = [DcOutageConfig("DC01", 70, 75)]
    scenario.lead_time_changes = [LeadTimeChangeConfig(80, 90, supplier_multiplier=1.5)]
    scenario.model_launches = [ModelLaunchConfig("Gati", 100)]
    scenario.supersessions = [SupersessionConfig(120, 0.02, "fast_mover")]
    config.settlement.rate_cards = [RateCardConfig("CR01", "v1", 0, -1, 42.0)]
    config.settlement.incentive_schemes = [IncentiveSchemeConfig("spring", "", 1000.0, 0, 30)]
    return config


def set_key(config: TwinConfig, key: str, value: Any) -> None:
    """Set ``a.b[0].c`` (or a dict entry ``a.b.name``) on ``config``."""
    parts = re.findall(r"\[\d+\]|[^.\[\]]+", key)
    node: Any = config
    for part in parts[:-1]:
        if part.startswith("["):
            node = node[int(part[1:-1])]
        else:
            node = node[part] if isinstance(node, dict) else getattr(node, part)
    last = parts[-1]
    if last.startswith("["):
        node[int(last[1:-1])] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        setattr(node, last, value)


#: (key, bad value, policy options the key belongs to)
CASES: list[tuple[str, Any, dict[str, str]]] = [
    # top level
    ("horizon_days", 0, {}),
    ("horizon_days", -365, {}),
    ("warmup_days", -1, {}),
    ("warmup_days", 400, {}),
    ("seed", -1, {}),
    ("seed", 2**64, {}),
    ("snapshot_days[0]", -3, {}),
    ("snapshot_days[0]", 365, {}),
    ("start_date", "9999-12-31", {}),  # a year past it overflowed the calendar mid-run
    ("start_date", "1800-01-01", {}),
    # network
    ("network.dealers", 0, {}),
    ("network.parts_dcs", -2, {}),
    ("network.plants", 0, {}),
    ("network.stockyards", 20_000, {}),
    ("network.carriers", 0, {}),
    ("network.models", 0, {}),
    ("network.skus", 0, {}),
    ("network.vehicles_per_dealer", -1, {}),
    ("network.road_factor", 0.9, {}),
    ("network.road_factor", INF, {}),
    ("network.generator_seed", -7, {}),
    # demand
    ("demand.parts_lines_per_dealer_day", -1.0, {}),
    ("demand.parts_lines_per_dealer_day", NAN, {}),
    ("demand.vehicle_customers_per_dealer_month", -5.0, {}),
    ("demand.demand_multiplier", INF, {}),
    ("demand.demand_multiplier", -0.5, {}),
    ("demand.demand_multiplier", 1000.0, {}),
    ("demand.customer_patience_days_mean", 0.0, {}),
    ("demand.accept_other_colour", 1.5, {}),
    ("demand.accept_other_variant", -0.1, {}),
    ("demand.workshop_repair_days_mean", -1.5, {}),
    ("demand.workshop_repair_days_mean", 0.5, {}),
    ("demand.counter_pickup_days_mean", -1.0, {}),
    # policy: replenishment, both options
    ("policy.replenishment.phase_in_lines_per_year", -3, {}),
    ("policy.replenishment.min_cover_days", -14.0, {}),
    ("policy.replenishment.max_cover_days", 10.0, {}),
    ("policy.replenishment.max_cover_days", INF, {}),
    ("policy.replenishment.dc_min_cover_days_over_lead_time", -7.0, {}),
    ("policy.replenishment.dc_max_cover_days_over_lead_time", 5.0, {}),
    ("policy.replenishment.service_level_by_class.tyre", 1.0, {"replenishment": "dynamic"}),
    ("policy.replenishment.service_level_by_class.battery", 0.0, {"replenishment": "dynamic"}),
    ("policy.replenishment.phase_in_lines_per_year", -1, {"replenishment": "dynamic"}),
    # policy: allocation, every option
    ("policy.allocation.target_days_supply", -55.0, {}),
    ("policy.allocation.target_days_supply", NAN, {"allocation": "by_request"}),
    ("policy.allocation.request_inflation", 0.5, {"allocation": "by_request"}),
    ("policy.allocation.request_inflation_spread", -0.3, {"allocation": "by_request"}),
    ("policy.allocation.request_seed", -1, {"allocation": "by_request"}),
    ("policy.allocation.horizon_days", 0.0, {"allocation": "demand_profile"}),
    ("policy.allocation.max_units_per_spec", 0, {"allocation": "demand_profile"}),
    # policy: sourcing options with settings
    ("policy.sourcing.max_distance_km", -800.0, {"sourcing": "network"}),
    ("policy.sourcing.max_distance_km", INF, {"sourcing": "network"}),
    ("policy.sourcing.dealer_trade_share", -0.85, {"sourcing": "network"}),
    ("policy.sourcing.dealer_trade_share", 1.2, {"sourcing": "phone_around"}),
    ("policy.sourcing.protect_last_unit_sales_28d", -2, {"sourcing": "network"}),
    ("policy.sourcing.aged_days", -60.0, {"sourcing": "network"}),
    ("policy.sourcing.aged_credit_inr_per_day", -300.0, {"sourcing": "network"}),
    ("policy.sourcing.trade_consolidation_radius_km", -50.0, {"sourcing": "network"}),
    ("policy.sourcing.success_probability", 1.3, {"sourcing": "phone_around"}),
    ("policy.sourcing.delay_days", -2.0, {"sourcing": "phone_around"}),
    ("policy.sourcing.nearby_days", NAN, {"sourcing": "phone_around"}),
    # policy: forecast and alerts
    ("policy.forecast.alpha", 0.0, {}),
    ("policy.forecast.tsb_alpha_size", 1.5, {}),
    ("policy.forecast.tsb_alpha_probability", -0.05, {}),
    ("policy.forecast.ses_alpha", INF, {}),
    ("policy.forecast.accuracy_sample_series", -1, {}),
    ("policy.forecast.selection", "best", {}),
    ("policy.alerts.risk_threshold", 0.0, {}),
    ("policy.alerts.clear_threshold", 0.7, {}),
    ("policy.alerts.horizons_days[2]", 0, {}),
    ("policy.alerts.horizons_days[3]", -14, {}),
    # policy: transfers, with a rule of its sheet
    ("policy.transfers.period_days", 0, {}),
    ("policy.transfers.deficit_cover_days", -7.0, {}),
    ("policy.transfers.surplus_cover_days", 5.0, {}),
    ("policy.transfers.safety_cover_days", 0.0, {}),
    ("policy.transfers.dc_screen_factor", -1.5, {}),
    ("policy.transfers.max_distance_km", -600.0, {}),
    ("policy.transfers.max_senders_per_deficit", 0, {}),
    ("policy.transfers.slope_scaling_iterations", -4, {}),
    ("policy.transfers.routing_solution_limit", 0, {}),
    ("policy.transfers.dealer_opt_in_share", 1.8, {}),
    ("policy.transfers.max_transfers_per_dealer_per_week", -10, {}),
    ("policy.transfers.vehicle_period_days", 0, {}),
    ("policy.transfers.vehicle_cover_days", INF, {}),
    ("policy.transfers.vehicle_safety_days", -7.0, {}),
    ("policy.transfers.vehicle_age_limit_days", 0.0, {}),
    ("policy.transfers.vehicle_aged_days_saved", -30.0, {}),
    ("policy.transfers.vehicle_max_distance_km", 50_000.0, {}),
    ("policy.transfers.vehicle_lost_share_when_missing", 1.15, {}),
    ("policy.transfers.approval_median_hours", -4.0, {}),
    ("policy.transfers.approval_p90_hours", 2.0, {}),
    ("policy.transfers.approval_probability", -0.85, {}),
    ("policy.transfers.rules[0].min_value_inr", -1.0, {}),
    ("policy.transfers.rules[0].max_value_inr", NAN, {}),
    ("policy.transfers.rules[1].min_value_inr", INF, {}),
    ("policy.transfers.rules[2].min_distance_km", -300.0, {}),
    ("policy.transfers.rules[2].max_distance_km", -1.0, {}),
    ("policy.transfers.rules[3].min_benefit_cost_ratio", NAN, {}),
    # policy: campaign positioning and the visibility refresh
    ("policy.campaign.lead_days", 0, {}),
    ("policy.campaign.build_cutoff_days", -1, {}),
    ("policy.campaign.build_cutoff_days", 40, {}),
    ("policy.campaign.cover_days", -28.0, {}),
    ("policy.campaign.max_units_per_spec", 0, {}),
    ("policy.visibility_refresh_days", 0, {}),
    # operations
    ("operations.dc_dispatch_delay_days", -0.5, {}),
    ("operations.transit_time_cv", -0.25, {}),
    ("operations.transit_time_cv", INF, {}),
    ("operations.emergency_lead_time_days", NAN, {}),
    ("operations.emergency_charge_per_line_inr", -350.0, {}),
    ("operations.supplier_emergency_lead_time_days", -5.0, {}),
    ("operations.supplier_lead_time_days", INF, {}),
    ("operations.supplier_lead_time_days", 1e12, {}),
    ("operations.dc_cover_days", -30.0, {}),
    ("operations.opening_stocked_lines_per_year", -3.0, {}),
    ("operations.opening_cover_days_min", -8.0, {}),
    ("operations.opening_cover_days_max", 4.0, {}),
    ("operations.opening_obsolete_stock_share", 1.5, {}),
    ("operations.planned_conversion", -0.85, {}),
    ("operations.sales_window_days", 0, {}),
    ("operations.plant_to_stockyard_days", -4.0, {}),
    ("operations.factory_order_build_days", INF, {}),
    ("operations.carrier_max_wait_days", -3.0, {}),
    ("operations.parts_holding_rate_per_year", 25.0, {}),
    ("operations.floor_plan_rate_per_year", -0.085, {}),
    ("operations.vehicle_margin_share", 5.0, {}),
    ("operations.vehicle_margin_share", 1.0, {}),
    ("operations.parts_margin_share", -0.25, {}),
    ("operations.allocation_period_days", 0, {}),
    ("operations.parts_visibility", "weekly", {}),
    ("operations.parts_export_weekday", "sun", {}),
    ("operations.parts_export_period_days", 0, {}),
    # scenario: every event list
    ("scenario.demand_shocks[0].start_day", -10, {}),
    ("scenario.demand_shocks[0].end_day", 5, {}),
    ("scenario.demand_shocks[0].vehicle_multiplier", -1.2, {}),
    ("scenario.demand_shocks[0].parts_multiplier", INF, {}),
    ("scenario.campaigns[0].vehicle_uplift", 0.0, {}),
    ("scenario.campaigns[0].parts_uplift", NAN, {}),
    ("scenario.campaigns[0].end_day", 30, {}),
    ("scenario.carrier_disruptions[0].capacity_share", 1.5, {}),
    ("scenario.carrier_disruptions[0].start_day", -40, {}),
    ("scenario.dc_outages[0].end_day", 40_000, {}),
    ("scenario.dc_outages[0].end_day", 60, {}),
    ("scenario.lead_time_changes[0].supplier_multiplier", 0.0, {}),
    ("scenario.lead_time_changes[0].transit_multiplier", -1.3, {}),
    ("scenario.model_launches[0].launch_day", -120, {}),
    ("scenario.supersessions[0].day", -90, {}),
    ("scenario.supersessions[0].sku_share", 0.6, {}),
    ("scenario.supersessions[0].sku_share", 0.0, {}),
    # logger
    ("logger.max_artifact_mb", -1.0, {}),
    ("logger.max_artifact_mb", INF, {}),
    # settlement
    ("settlement.period_days", 0, {}),
    ("settlement.payment_terms_days", -3, {}),
    ("settlement.payment_terms_days", 7, {}),
    ("settlement.dispute_resolution_days", 0, {}),
    ("settlement.tolerance_share", 2.0, {}),
    ("settlement.tolerance_min_inr", -5.0, {}),
    ("settlement.parts_transfer_handling_fee_inr", -150.0, {}),
    ("settlement.vehicle_transfer_handling_fee_inr", INF, {}),
    ("settlement.rate_cards[0].valid_from_day", -1, {}),
    ("settlement.rate_cards[0].valid_to_day", -2, {}),
    ("settlement.rate_cards[0].rate_per_km_inr", -42.0, {}),
    ("settlement.rate_cards[0].minimum_charge_inr", NAN, {}),
    ("settlement.rate_cards[0].capacity_per_load", -8, {}),
    ("settlement.rate_cards[0].fuel_base_price_inr", 0.0, {}),
    ("settlement.rate_cards[0].fuel_price_inr", -90.0, {}),
    ("settlement.rate_cards[0].fuel_pass_through", 1.4, {}),
    ("settlement.rate_cards[0].extra_charge_per_shipment_inr", -10.0, {}),
    ("settlement.rate_cards[0].express_charge_per_line_inr", -2.0, {}),
    ("settlement.invoice_errors.noise_share", 1.1, {}),
    ("settlement.invoice_errors.overcharge_share", -0.02, {}),
    ("settlement.invoice_errors.undercharge_share", NAN, {}),
    ("settlement.invoice_errors.duplicate_share", 0.9, {}),
    ("settlement.freight_payers[0].receiver_share", -0.5, {}),
    ("settlement.freight_payers[1].sender_share", 1.5, {}),
    ("settlement.freight_payers[2].oem_share", INF, {}),
    ("settlement.incentive_schemes[0].amount_inr", -1000.0, {}),
    ("settlement.incentive_schemes[0].start_day", -1, {}),
    ("settlement.incentive_schemes[0].end_day", 0, {}),
    ("settlement.invalid_claims.demo_registration", -0.02, {}),
    ("settlement.invalid_claims.no_end_customer_delivery", 1.02, {}),
    ("settlement.invalid_claims.outside_window", NAN, {}),
    ("settlement.invalid_claims.duplicate_claim", 0.99, {}),
]

#: keys whose refusal names the group rather than the entry: shares that add up to more than 1
GROUP_KEYS = {
    "settlement.invoice_errors.duplicate_share": "settlement.invoice_errors",
    "settlement.invalid_claims.duplicate_claim": "settlement.invalid_claims",
}


def _case_id(key: str, value: Any, options: dict[str, str]) -> str:
    option = "".join(f"[{family}={option}]" for family, option in options.items())
    return f"{key}={value!r}{option}"


def _assert_names_key_and_value(error: ConfigError, key: str, value: Any) -> None:
    message = str(error)
    assert error.field == key, message
    if isinstance(value, float) and math.isnan(value):
        assert isinstance(error.value, float) and math.isnan(error.value)
    elif isinstance(error.value, dict):  # a group's shares: the entry's value is among them
        assert error.value[key.rsplit(".", 1)[-1]] == value
    else:
        assert error.value == value and type(error.value) is type(value)  # as given: no int() truncation
    assert message.startswith(f"{key}=")
    assert repr(value) in message, message


def test_the_suite_covers_every_section_with_enough_cases() -> None:
    assert len(CASES) + len(OVERRIDE_CASES) >= 60
    sections = {key.split(".")[0].split("[")[0] for key, _, _ in CASES}
    assert sections >= {
        "network",
        "demand",
        "policy",
        "operations",
        "scenario",
        "logger",
        "settlement",
        "seed",
    }
    families = {key.split(".")[1] for key, _, _ in CASES if key.startswith("policy.")}
    assert families >= {
        "replenishment",
        "allocation",
        "sourcing",
        "forecast",
        "alerts",
        "transfers",
        "campaign",
    }


def test_the_base_config_is_valid() -> None:
    for options in ({}, {"replenishment": "dynamic", "allocation": "by_request", "sourcing": "phone_around"}):
        assert validate(base_config(**options))


@pytest.mark.parametrize(("key", "value", "options"), CASES, ids=[_case_id(*case) for case in CASES])
def test_a_bad_setting_is_refused_naming_its_key_and_value(
    key: str, value: Any, options: dict[str, str]
) -> None:
    config = base_config(**options)
    set_key(config, key, value)
    with pytest.raises(ConfigError) as caught:
        validate(config)
    group = GROUP_KEYS.get(key)
    if group is not None:
        assert caught.value.field == group and repr(value) in str(caught.value)
        return
    _assert_names_key_and_value(caught.value, key, value)


#: ``twin-run`` overrides: Hydra parses the value (``inf``, ``-1``, ``1e9``) before ``validate`` sees it
OVERRIDE_CASES: list[tuple[list[str], str, Any]] = [
    (["seed=-1"], "seed", -1),
    (["demand.demand_multiplier=inf"], "demand.demand_multiplier", INF),
    (["operations.vehicle_margin_share=5"], "operations.vehicle_margin_share", 5.0),
    (["operations.supplier_lead_time_days=inf"], "operations.supplier_lead_time_days", INF),
    (["policy.allocation.target_days_supply=-10"], "policy.allocation.target_days_supply", -10.0),
    (
        ["policy/sourcing=network", "policy.sourcing.dealer_trade_share=-0.2"],
        "policy.sourcing.dealer_trade_share",
        -0.2,
    ),
    (
        ["policy/sourcing=phone_around", "policy.sourcing.max_distance_km=-1"],
        "policy.sourcing.max_distance_km",
        -1.0,
    ),
    (
        ["policy/replenishment=dynamic", "policy.replenishment.service_level_by_class.tyre=1.5"],
        "policy.replenishment.service_level_by_class.tyre",
        1.5,
    ),
    (["demand.workshop_repair_days_mean=-2"], "demand.workshop_repair_days_mean", -2.0),
    (["policy.replenishment.phase_in_lines_per_year=-1"], "policy.replenishment.phase_in_lines_per_year", -1),
    (
        ["scenario=festive_campaign", "scenario.campaigns.0.vehicle_uplift=-1"],
        "scenario.campaigns[0].vehicle_uplift",
        -1.0,
    ),
    (["network.road_factor=nan"], "network.road_factor", NAN),
    (["policy.transfers.approval_probability=2"], "policy.transfers.approval_probability", 2.0),
    (["settlement.tolerance_share=-0.01"], "settlement.tolerance_share", -0.01),
]


def _compose(overrides: list[str]) -> Any:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose(config_name="config", overrides=["debug=default", "logger=none", *overrides])


@pytest.mark.parametrize(
    ("overrides", "key", "value"), OVERRIDE_CASES, ids=[" ".join(case[0]) for case in OVERRIDE_CASES]
)
def test_a_bad_override_is_refused_naming_its_key_and_value(
    overrides: list[str], key: str, value: Any
) -> None:
    with pytest.raises(ConfigError) as caught:
        to_twin_config(_compose(overrides))
    _assert_names_key_and_value(caught.value, key, value)
