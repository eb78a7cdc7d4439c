"""One policy contract for every family: each option's settings class holds exactly what its policy takes, a
setting the chosen policy does not take is refused naming its key, and what a policy needs from the engine is
declared on the policy (its Protocol), not guessed."""

from __future__ import annotations

import inspect
from dataclasses import fields, replace

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import ConfigCompositionException

from twin.cli import CONFIG_DIR, to_twin_config
from twin.config import (
    POLICY_OPTIONS,
    CampaignPolicyConfig,
    DynamicReplenishmentConfig,
    NetworkConfig,
    NetworkSourcingConfig,
    OperationsConfig,
    PolicySettings,
    StaticMinMaxConfig,
    TransferConfig,
    TwinConfig,
    validate,
)
from twin.engine.simulation import Simulation, build_component
from twin.errors import ConfigError

#: facts of the run the engine hands to the factories that name them (not settings of the policy)
CONTEXT = {"margin_share", "floor_plan_rate_per_year"}
OPTIONS = [
    *(
        (f"{family}/{option}", settings)
        for family, group in POLICY_OPTIONS.items()
        for option, settings in group.items()
    ),
    ("transfers", TransferConfig),
    ("campaign", CampaignPolicyConfig),
]


def _compose(overrides: list[str]) -> TwinConfig:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return to_twin_config(compose(config_name="config", overrides=overrides))


@pytest.mark.parametrize(("option", "settings"), OPTIONS, ids=[option for option, _ in OPTIONS])
def test_each_option_holds_exactly_the_settings_its_policy_takes(option: str, settings: type) -> None:
    config = settings()
    declared = {f.name for f in fields(config)} - {"_target_"} - set(settings.engine_settings)
    policy = build_component(config, key=f"policy.{option.split('/')[0]}")
    taken = set(inspect.signature(type(policy)).parameters) - CONTEXT
    assert declared == taken


def test_a_setting_the_chosen_policy_does_not_take_is_refused_naming_it() -> None:
    # the baseline static min/max has no service levels: the dynamic policy's setting must not vanish silently
    config = TwinConfig(network=NetworkConfig(dealers=4, skus=50, stockyards=1, vehicles_per_dealer=5))
    config.policy.replenishment.service_level_by_class = {"tyre": 0.9}
    with pytest.raises(ConfigError) as error:
        validate(config)
    assert error.value.field == "policy.replenishment.service_level_by_class"
    assert "StaticMinMax" in str(error.value)
    # the builder is strict on its own too (a dict or DictConfig spec has no class to check against)
    spec = {"_target_": StaticMinMaxConfig._target_, "service_level_by_class": {"tyre": 0.9}}
    with pytest.raises(ConfigError) as error:
        build_component(spec, key="policy.replenishment")
    assert error.value.field == "policy.replenishment.service_level_by_class"
    # so is an engine run
    with pytest.raises(ConfigError) as error:
        Simulation(config)
    assert error.value.field == "policy.replenishment.service_level_by_class"


@pytest.mark.parametrize(
    "overrides",
    [
        ["policy.replenishment.service_level_by_class.fast_mover=0.99"],
        ["policy/replenishment=dynamic", "policy.replenishment.min_cover_days=21"],
        ["policy/sourcing=baseline", "policy.sourcing.max_distance_km=300"],
    ],
)
def test_the_command_line_refuses_a_setting_the_chosen_policy_does_not_take(overrides: list[str]) -> None:
    with pytest.raises(ConfigCompositionException, match=overrides[-1].split("=")[0].replace(".", r"\.")):
        _compose(overrides)


def test_appending_a_setting_with_plus_is_refused_too() -> None:
    with pytest.raises(ConfigError) as error:
        _compose(["+policy.replenishment.service_level_by_class={fast_mover: 0.99}"])
    assert error.value.field == "policy.replenishment.service_level_by_class"


def test_settings_of_the_chosen_policy_reach_it() -> None:
    config = _compose(
        ["policy/replenishment=dynamic", "policy.replenishment.service_level_by_class.tyre=0.9"]
    )
    assert isinstance(config.policy.replenishment, DynamicReplenishmentConfig)
    policy = build_component(config.policy.replenishment, key="policy.replenishment")
    assert policy.service_level[list(config.policy.replenishment.service_level_by_class).index("tyre")] == 0.9
    sourcing = _compose(["policy/sourcing=phone_around", "policy.sourcing.trade_consolidation_radius_km=5"])
    built = build_component(sourcing.policy.sourcing, key="policy.sourcing")
    assert built.network_search.trade_consolidation_radius_km == 5.0


def test_what_a_policy_needs_from_the_engine_is_declared_and_followed() -> None:
    network = NetworkConfig(dealers=6, skus=60, stockyards=1, vehicles_per_dealer=10)
    baseline = Simulation(TwinConfig(network=network, horizon_days=20, warmup_days=2, progress=False))
    assert baseline.replenishment.needs_forecast is False and baseline.control_tower is None
    assert baseline.sourcing.network_search is None and baseline.customer_orders is None
    config = TwinConfig(network=network, horizon_days=20, warmup_days=2, progress=False)
    config.policy.replenishment = DynamicReplenishmentConfig()
    config.policy.sourcing = NetworkSourcingConfig(dealer_trade_share=0.5)
    astra = Simulation(config)
    assert astra.replenishment.needs_forecast is True and astra.control_tower is not None
    assert astra.customer_orders is not None
    assert astra.sourcing.network_search is not None
    assert astra.sourcing.network_search.dealer_trade_share == 0.5


def test_model_constants_are_settings_the_engine_follows() -> None:
    network = NetworkConfig(dealers=6, skus=60, stockyards=1, vehicles_per_dealer=10)
    default = Simulation(TwinConfig(network=network, horizon_days=20, warmup_days=2, progress=False))
    operations = replace(OperationsConfig(), planned_conversion=0.5, sales_window_days=14)
    changed = Simulation(
        TwinConfig(network=network, operations=operations, horizon_days=20, warmup_days=2, progress=False)
    )
    ratio = changed.vehicles.plan_daily_retail(0).sum() / default.vehicles.plan_daily_retail(0).sum()
    assert ratio == pytest.approx(0.5 / OperationsConfig.planned_conversion)
    assert changed.vehicles.current_view().sales_window_days == 14
    assert len(changed.vehicles.sales_by_day) == 14
    # no opening stock where no SKU reaches the stocking threshold and no obsolete units are left over
    empty = replace(OperationsConfig(), opening_stocked_lines_per_year=1e9, opening_obsolete_stock_share=0.0)
    bare = Simulation(
        TwinConfig(network=network, operations=empty, horizon_days=20, warmup_days=2, progress=False)
    )
    assert bare.parts.state.on_hand[: bare.dealers].sum() == 0


def test_every_policy_family_is_a_settings_class() -> None:
    config = TwinConfig()
    config.policy.allocation = {"_target_": "twin.policies.baseline.ProRataAllocation"}
    with pytest.raises(ConfigError) as error:
        validate(config)
    assert error.value.field == "policy.allocation"
    assert all(issubclass(settings, PolicySettings) for _, settings in OPTIONS)
